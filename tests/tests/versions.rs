//! Matrix versions from the command line, on every configured backend: a generated
//! organisation on version 1 (with assessments); HR exports the spreadsheet, renames one
//! expectation and splits another, imports it (the draft, with the diff), publishes version 2,
//! dry-runs the move with a mapping file, moves people, and reads plans, history and exports of
//! both versions. Bad spreadsheets and mappings are refused with their exact places.

#![allow(clippy::unwrap_used)]

use rungs_db::testing::{TestDb, backends};
use rungs_tests::Rungs;

const MAPPING: &str = "\
expectations:
  object-oriented-programming: oop
  apis: [rest-apis, graphql-apis]
";

fn story(r: &Rungs<'_>, b: &str) {
    let out = r.ok(&["demo", "seed", "--org", "gen", "--people", "60"]);
    assert!(out.contains("seeded `gen`"), "{b}: {out}");
    let g = ["--org", "gen"];
    let with =
        |args: &[&'static str]| -> Vec<&'static str> { args.iter().copied().chain(g).collect() };

    // The same file again changes nothing.
    r.ok(&with(&[
        "matrix", "export", "python", "--format", "csv", "-o", "v1.csv",
    ]));
    let out = r.ok(&with(&["matrix", "import", "v1.csv"]));
    assert_eq!(
        out, "matrix `python` is unchanged: the file matches its version 1; nothing was written\n",
        "{b}"
    );
    // Rename one expectation's key, split another in two, in the spreadsheet.
    let csv = std::fs::read_to_string(r.dir.join("v1.csv")).unwrap();
    let mut v2 = csv
        .replace(",object-oriented-programming,", ",oop,")
        .replace(",apis,APIs,", ",rest-apis,REST APIs,");
    v2.push_str(
        "python,python-developer,,intermediate,,,,graphql-apis,GraphQL APIs,,technical,,\n",
    );
    std::fs::write(r.dir.join("v2.csv"), v2).unwrap();
    let out = r.ok(&with(&["matrix", "import", "v2.csv"]));
    assert!(
        out.contains("updated the draft of matrix `python` in `gen` (revision 0)"),
        "{b}: {out}"
    );
    for line in [
        "- expectation \"Object-oriented programming\" (`object-oriented-programming`): python-developer/intermediate",
        "- expectation \"APIs\" (`apis`): python-developer/intermediate",
        "+ expectation \"Object-oriented programming\" (`oop`): python-developer/intermediate",
        "+ expectation \"REST APIs\" (`rest-apis`): python-developer/intermediate",
        "+ expectation \"GraphQL APIs\" (`graphql-apis`): python-developer/intermediate",
        "3 added, 2 removed",
    ] {
        assert!(out.contains(line), "{b}: missing {line:?} in {out}");
    }
    let diff = r.json(&with(&[
        "matrix", "diff", "python", "--from", "1", "--to", "draft", "--format", "json",
    ]));
    assert_eq!(
        diff["diff"]["changes"].as_array().unwrap().len(),
        5,
        "{b}: {diff}"
    );

    // Publish; the version list says who and why; a second publish has nothing to publish.
    let out = r.ok(&with(&[
        "matrix",
        "publish",
        "python",
        "--note",
        "OOP renamed, APIs split",
    ]));
    assert!(
        out.contains("published matrix `python` in `gen` as version 2"),
        "{b}: {out}"
    );
    let err = r.fails(&with(&["matrix", "publish", "python", "--note", "again"]));
    assert!(err.contains("draft of matrix `python`"), "{b}: {err}");
    let versions = r.json(&with(&["matrix", "versions", "python", "--format", "json"]));
    assert_eq!(versions[1]["number"], 2, "{b}");
    assert_eq!(versions[1]["note"], "OOP renamed, APIs split", "{b}");
    let table = r.ok(&with(&["matrix", "versions", "python"]));
    assert!(table.contains("OOP renamed, APIs split"), "{b}: {table}");
    // Both versions stay readable; version 1 still has the old keys.
    let old = r.ok(&with(&[
        "matrix",
        "export",
        "python",
        "--format",
        "yaml",
        "--version",
        "1",
    ]));
    assert!(old.contains("key: object-oriented-programming"), "{b}");
    let new = r.ok(&with(&[
        "matrix",
        "export",
        "python",
        "--format",
        "yaml",
        "--version",
        "2",
    ]));
    assert!(
        new.contains("key: graphql-apis") && !new.contains("key: apis\n"),
        "{b}"
    );
    let err = r.fails(&with(&["matrix", "export", "python", "--version", "9"]));
    assert_eq!(
        err, "error: version 9 of matrix `python` not found\n",
        "{b}"
    );

    // A mapping with a typo is refused with its line and column; nothing is written.
    std::fs::write(r.dir.join("bad.yaml"), "expectations:\n  apis: rest-api\n").unwrap();
    let err = r.fails(&with(&[
        "matrix",
        "move-people",
        "python",
        "--to",
        "2",
        "--mapping",
        "bad.yaml",
    ]));
    assert!(
        err.contains("bad.yaml:2:9: expectations.apis: `apis` maps to expectation `rest-api`, which version 2 does not have"),
        "{b}: {err}"
    );
    // The dry run says who moves and who gains gaps, and writes nothing.
    std::fs::write(r.dir.join("map.yaml"), MAPPING).unwrap();
    let move_args = with(&[
        "matrix",
        "move-people",
        "python",
        "--to",
        "2",
        "--mapping",
        "map.yaml",
    ]);
    let mut dry = move_args.clone();
    dry.extend(["--dry-run", "--format", "json"]);
    let plan = r.json(&dry);
    assert_eq!(plan["dry_run"], true, "{b}");
    let moves = plan["moves"].as_array().unwrap();
    assert!(
        moves.len() >= 59,
        "{b}: everyone placed moves: {}",
        moves.len()
    );
    let blocked = plan["blocked_by_open_cases"].as_array().unwrap().len();
    let mut table_args = move_args.clone();
    table_args.push("--dry-run");
    let table = r.ok(&table_args);
    assert!(table.contains("dry run:"), "{b}: {table}");
    assert!(table.contains("nothing was written"), "{b}: {table}");
    let history = r.ok(&with(&["history", "employee@gen.rungs.test"]));
    assert!(!history.contains("moved to version 2"), "{b}: {history}");

    if blocked > 0 {
        // Open promotion cases block the move until decided.
        let err = r.fails(&move_args);
        assert!(err.contains("open promotion case"), "{b}: {err}");
        let cases = r.json(&with(&["promotions", "list", "--format", "json"]));
        for c in cases.as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            r.ok(&[
                "promotions",
                "reject",
                id,
                "--as",
                "hr@gen.rungs.test",
                "--note",
                "after the new framework",
                "--org",
                "gen",
            ]);
        }
    }
    let mut real = move_args.clone();
    real.extend(["--format", "json"]);
    let done = r.json(&real);
    assert_eq!(done["dry_run"], false, "{b}");
    assert_eq!(done["moves"].as_array().unwrap().len(), moves.len(), "{b}");
    assert!(
        done["assessments_carried"].as_u64().unwrap() > 0,
        "{b}: {done}"
    );
    let plan = r.json(&with(&[
        "growth-plan",
        "employee@gen.rungs.test",
        "--format",
        "json",
    ]));
    assert_eq!(plan["version"]["number"], 2, "{b}: {plan}");
    let history = r.ok(&with(&["history", "employee@gen.rungs.test"]));
    assert!(history.contains("moved to version 2"), "{b}: {history}");
    let again = r.ok(&move_args);
    assert!(
        again.contains("moved 0 people to version 2"),
        "{b}: {again}"
    );

    // A broken spreadsheet: every problem with its row and column, nothing written.
    std::fs::write(
        r.dir.join("broken.csv"),
        "\u{feff}matrix,track,level,expectation_key,name\r\npython,python-developer,beginner,Bad Key,X\r\n\r\npython,python-developer,,y,Y\r\n",
    )
    .unwrap();
    let err = r.fails(&with(&["matrix", "import", "broken.csv"]));
    assert_eq!(
        err,
        "error: 1 error found; nothing was written:\n  broken.csv:4:3: level: every row needs a level key\n",
        "{b}"
    );
    let err = r.fails(&with(&[
        "matrix",
        "import",
        "broken.csv",
        "--input-format",
        "json",
    ]));
    assert!(err.contains("broken.csv:1:1"), "{b}: {err}");
    let versions = r.json(&with(&["matrix", "versions", "python", "--format", "json"]));
    assert_eq!(
        versions.as_array().unwrap().len(),
        2,
        "{b}: no draft was made"
    );
}

#[tokio::test]
async fn matrix_versions_from_the_command_line_on_every_backend() {
    for backend in backends() {
        let t = TestDb::empty(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let r = Rungs {
            url: &t.url,
            dir: dir.path(),
        };
        story(&r, &format!("{backend:?}"));
        t.drop_database().await;
    }
}
