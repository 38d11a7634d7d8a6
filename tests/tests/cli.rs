//! The CLI walk-through of the README, run with the real `rungs` binary on every configured
//! backend: HR sets up an organisation, imports the template and a people file, places people,
//! exports the matrix and reads it back; bad input is refused with the exact errors a user sees
//! and nothing written.

#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use rungs_db::testing::{TestDb, backends};
use rungs_tests::{Rungs, rungs_bin};

const PEOPLE: &str = "\
email,name,manager_email,track,level,admin
dev@acme.test,Dev One,lead@acme.test,python-developer,beginner,
analyst@acme.test,Ana Lyst,lead@acme.test,data-analyst,intermediate,
lead@acme.test,Lea Lead,hr@acme.test,python-developer,expert,
hr@acme.test,Hana HR,,,,yes
";

async fn walkthrough(t: &TestDb) {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = Rungs {
        url: &t.url,
        dir: dir.path(),
    };
    let b = format!("{:?}", t.backend);

    r.ok(&["db", "migrate"]);
    assert!(
        r.ok(&["org", "create", "acme", "--name", "Acme Corp"])
            .contains("created organisation `acme`")
    );
    r.ok(&["org", "create", "globex", "--name", "Globex"]);
    assert!(
        r.fails(&["org", "create", "acme", "--name", "Again"])
            .contains("organisation `acme` already exists"),
        "{b}"
    );
    let orgs = r.json(&["org", "list", "--format", "json"]);
    assert_eq!(orgs.as_array().map(Vec::len), Some(2));

    assert!(
        r.ok(&["matrix", "import", "--template", "python", "--org", "acme"])
            .contains("as version 1")
    );
    let list = r.json(&["matrix", "list", "--org", "acme", "--format", "json"]);
    assert_eq!(list[0]["key"], "python");
    assert_eq!(list[0]["expectations"], 49);
    assert_eq!(
        r.json(&["matrix", "list", "--org", "globex", "--format", "json"]),
        serde_json::json!([])
    );

    let grid = r.ok(&["matrix", "show", "python", "--org", "acme"]);
    for text in [
        "Career Path",
        "Level 1: Beginner",
        "Level 5: Leader",
        "Python Developer",
        "• Basic syntax",
        "[Chief Software",
    ] {
        assert!(grid.contains(text), "{b}: grid lacks {text}:\n{grid}");
    }

    // People: reports listed before their managers; levels placed.
    std::fs::write(dir.path().join("people.csv"), PEOPLE).expect("write");
    let out = r.ok(&["people", "import", "people.csv", "--org", "acme"]);
    assert!(
        out.contains("4 added, 0 updated, 0 unchanged, 3 level(s) assigned"),
        "{b}: {out}"
    );
    // Importing the same file again changes nothing.
    let out = r.ok(&["people", "import", "people.csv", "--org", "acme"]);
    assert!(
        out.contains("0 added, 0 updated, 4 unchanged, 0 level(s) assigned"),
        "{b}: {out}"
    );
    let people = r.json(&["people", "list", "--org", "acme", "--format", "json"]);
    let dev = people
        .as_array()
        .and_then(|p| p.iter().find(|p| p["email"] == "dev@acme.test"))
        .cloned()
        .expect("dev listed");
    assert_eq!(dev["manager_email"], "lead@acme.test");
    assert_eq!(dev["current"]["level"], "beginner");
    assert_eq!(
        r.fails(&["people", "list", "--org", "nope"]).trim(),
        "error: organisation `nope` not found"
    );

    // Assign appends to the history.
    r.ok(&[
        "assign",
        "dev@acme.test",
        "--org",
        "acme",
        "--track",
        "python-developer",
        "--level",
        "intermediate",
        "--effective",
        "2026-01-15",
        "--reason",
        "promoted",
    ]);
    let history = r.json(&[
        "history",
        "dev@acme.test",
        "--org",
        "acme",
        "--format",
        "json",
    ]);
    let levels: Vec<&str> = history
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|h| h["level"].as_str())
        .collect();
    assert_eq!(
        levels,
        ["intermediate", "beginner"],
        "{b}: ordered by effective date"
    );
    let err = r.fails(&[
        "assign",
        "dev@acme.test",
        "--org",
        "acme",
        "--track",
        "python-developer",
        "--level",
        "guru",
    ]);
    assert_eq!(
        err.trim(),
        "error: unknown level `guru` in matrix `python`: use one of beginner, intermediate, advanced, expert, leader"
    );

    // Export, then import into another organisation: the same matrix.
    r.ok(&[
        "matrix",
        "export",
        "python",
        "--org",
        "acme",
        "--format",
        "json",
        "--output",
        "python.json",
    ]);
    let yaml = r.ok(&[
        "matrix", "export", "python", "--org", "acme", "--format", "yaml",
    ]);
    r.ok(&["matrix", "import", "python.json", "--org", "globex"]);
    assert_eq!(
        r.ok(&[
            "matrix", "export", "python", "--org", "globex", "--format", "yaml"
        ]),
        yaml,
        "{b}: round trip"
    );

    // Bad input: exact errors, nothing written.
    std::fs::write(
        dir.path().join("bad.csv"),
        "email,name,manager_email,track,level\nnew@acme.test,New,,nope,beginner\nx@acme.test,X,y@acme.test,,\ny@acme.test,Y,x@acme.test,,\n",
    )
    .expect("write");
    let err = r.fails(&["people", "import", "bad.csv", "--org", "acme"]);
    assert_eq!(
        err.trim(),
        "error: 2 errors found; nothing was written:\n  \
         bad.csv:2:4: track: unknown track `nope` in matrix `python`: use one of python-developer, data-analyst, ml-specialist, web-developer, automation-engineer, software-architect\n  \
         bad.csv:3:3: manager_email: these reporting lines form a cycle: x@acme.test -> y@acme.test -> x@acme.test",
        "{b}"
    );
    std::fs::write(
        dir.path().join("broken.yaml"),
        "key: broken\nname: Broken\nlevels:\n  - key: l1\n    name: [unclosed\n",
    )
    .expect("write");
    let err = r.fails(&["matrix", "import", "broken.yaml", "--org", "acme"]);
    assert!(
        err.starts_with("error: 1 error found; nothing was written:\n  broken.yaml:5:"),
        "{b}: {err}"
    );
    std::fs::write(
        dir.path().join("unknown.yaml"),
        "key: eng\nname: Eng\nlevels:\n  - key: l1\n    name: One\ntracks:\n  - key: dev\n    name: Dev\n    cells:\n      - level: l2\n",
    )
    .expect("write");
    let err = r.fails(&["matrix", "import", "unknown.yaml", "--org", "acme"]);
    assert_eq!(
        err.trim(),
        "error: 1 error found; nothing was written:\n  unknown.yaml:10:16: tracks[0].cells[0].level: unknown level `l2`: the matrix defines l1"
    );
    let people = r.json(&["people", "list", "--org", "acme", "--format", "json"]);
    assert_eq!(
        people.as_array().map(Vec::len),
        Some(4),
        "{b}: nothing written by the failed imports"
    );
    let list = r.json(&["matrix", "list", "--org", "acme", "--format", "json"]);
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "{b}: no matrix written by the failed imports"
    );
}

#[tokio::test]
async fn cli_walkthrough_on_every_backend() {
    for backend in backends() {
        let t = TestDb::empty(backend).await;
        walkthrough(&t).await;
        t.drop_database().await;
    }
}

#[test]
fn commands_refuse_a_database_with_pending_migrations_and_demo_works() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let r = Rungs {
        url: &url,
        dir: dir.path(),
    };
    let err = r.fails(&["org", "list"]);
    assert!(
        err.contains("pending migration(s): run `rungs db migrate` first"),
        "{err}"
    );
    let out = r.ok(&["demo"]);
    assert!(
        out.contains("Python Job Leveling Matrix (python, version 1)"),
        "{out}"
    );
    assert!(out.contains("30 people"), "{out}");
    assert!(out.contains("hr@demo.rungs.test"), "{out}");
    // Running it again keeps the one organisation and matrix.
    r.ok(&["demo"]);
    assert_eq!(
        r.json(&["matrix", "list", "--org", "demo", "--format", "json"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn default_database_is_rungs_db_in_the_working_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    Command::new(rungs_bin())
        .current_dir(dir.path())
        .env_remove("RUNGS_DATABASE_URL")
        .args(["db", "migrate"])
        .assert()
        .success();
    assert!(dir.path().join("rungs.db").exists());
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["db", "migrate", "--help"],
        vec!["org", "create", "--help"],
        vec!["people", "import", "--help"],
        vec!["matrix", "import", "--help"],
        vec!["matrix", "show", "--help"],
        vec!["matrix", "export", "--help"],
        vec!["assign", "--help"],
        vec!["growth-plan", "--help"],
        vec!["readiness", "--help"],
        vec!["readiness-rule", "--help"],
        vec!["promotions", "list", "--help"],
        vec!["promotions", "approve", "--help"],
        vec!["demo", "seed", "--help"],
    ] {
        let out = Command::new(rungs_bin())
            .args(&args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        assert!(
            String::from_utf8_lossy(&out).contains("Usage: rungs"),
            "{args:?}"
        );
    }
}

/// Growth from the command line: a generated organisation, its growth plans, readiness (for
/// everyone and for one manager), the readiness rule, and a promotion approved by a named HR
/// admin, in tables and JSON.
#[tokio::test]
async fn growth_commands_on_every_backend() {
    for backend in backends() {
        let t = TestDb::empty(backend).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let r = Rungs {
            url: &t.url,
            dir: dir.path(),
        };
        let b = format!("{backend:?}");
        let out = r.ok(&["demo", "seed", "--org", "gen", "--people", "300"]);
        assert!(out.contains("seeded `gen`"), "{b}: {out}");
        assert!(out.contains("300 people"), "{b}: {out}");
        assert!(out.contains("employee@gen.rungs.test"), "{b}: {out}");
        // An organisation is generated once.
        let err = r.fails(&["demo", "seed", "--org", "gen", "--people", "10"]);
        assert!(
            err.contains("organisation `gen` already exists"),
            "{b}: {err}"
        );

        // The employee's plan, as a table and as data.
        let plan = r.ok(&["growth-plan", "employee@gen.rungs.test", "--org", "gen"]);
        assert!(
            plan.contains("Python Developer / Intermediate (Python Developer) -> Python Developer / Advanced (Senior Python Developer)"),
            "{b}: {plan}"
        );
        assert!(plan.contains("met (held)"), "{b}: {plan}");
        let json = r.json(&[
            "growth-plan",
            "employee@gen.rungs.test",
            "--org",
            "gen",
            "--format",
            "json",
        ]);
        assert_eq!(json["plan"]["target"]["level"]["key"], "advanced", "{b}");
        let lateral = r.json(&[
            "growth-plan",
            "employee@gen.rungs.test",
            "--org",
            "gen",
            "--track",
            "data-analyst",
            "--level",
            "beginner",
            "--format",
            "json",
        ]);
        assert_eq!(lateral["plan"]["lateral"], true, "{b}");
        let err = r.fails(&["growth-plan", "nobody@gen.rungs.test", "--org", "gen"]);
        assert!(
            err.contains("person `nobody@gen.rungs.test` in `gen` not found"),
            "{b}: {err}"
        );

        // Readiness: everyone, then one manager's reports (a subset).
        let all = r.json(&["readiness", "--org", "gen", "--format", "json"]);
        let mine = r.json(&[
            "readiness",
            "--org",
            "gen",
            "--manager",
            "manager@gen.rungs.test",
            "--format",
            "json",
        ]);
        let (all, mine) = (all.as_array().unwrap(), mine.as_array().unwrap());
        assert_eq!(all.len(), 300, "{b}");
        assert!(
            !mine.is_empty() && mine.len() < all.len(),
            "{b}: {}",
            mine.len()
        );
        // Most ready first.
        let ready: Vec<bool> = all
            .iter()
            .map(|v| v["readiness"]["ready"].as_bool().unwrap())
            .collect();
        assert!(ready.windows(2).all(|w| w[0] >= w[1]), "{b}");
        let table = r.ok(&[
            "readiness",
            "--org",
            "gen",
            "--manager",
            "manager@gen.rungs.test",
        ]);
        assert!(table.contains("ready for their next level"), "{b}: {table}");

        // Readable renderings of the matrix.
        let md = r.ok(&[
            "matrix", "export", "python", "--org", "gen", "--format", "markdown",
        ]);
        assert!(md.contains("| Track | Level 1: Beginner |"), "{b}: {md}");
        let html = r.ok(&[
            "matrix", "export", "python", "--org", "gen", "--format", "html",
        ]);
        assert!(
            html.starts_with("<!DOCTYPE html>") && html.contains("<li>Basic syntax</li>"),
            "{b}"
        );

        // The rule: shown, changed, refused when out of range.
        assert!(
            r.ok(&["readiness-rule", "--org", "gen"])
                .contains("after 6 month(s)"),
            "{b}"
        );
        let changed = r.ok(&[
            "readiness-rule",
            "--org",
            "gen",
            "--min-months",
            "0",
            "--min-score",
            "0.5",
        ]);
        assert!(
            changed.contains("at least 50%") && changed.contains("after 0 month(s)"),
            "{b}: {changed}"
        );
        let err = r.fails(&["readiness-rule", "--org", "gen", "--min-score", "2"]);
        assert!(err.contains("minScore"), "{b}: {err}");

        // Promotions: the employee's open case, approved by HR (the manager may not).
        let cases = r.json(&[
            "promotions",
            "list",
            "--org",
            "gen",
            "--status",
            "proposed",
            "--format",
            "json",
        ]);
        let case = cases
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["person"]["email"] == "employee@gen.rungs.test")
            .expect("the employee's case");
        let id = case["id"].as_str().unwrap();
        let err = r.fails(&[
            "promotions",
            "approve",
            id,
            "--org",
            "gen",
            "--as",
            "manager@gen.rungs.test",
        ]);
        assert!(err.contains("this needs an HR admin"), "{b}: {err}");
        let out = r.ok(&[
            "promotions",
            "approve",
            id,
            "--org",
            "gen",
            "--as",
            "hr@gen.rungs.test",
            "--note",
            "Well done",
        ]);
        assert!(
            out.contains("employee@gen.rungs.test is python-developer / advanced"),
            "{b}: {out}"
        );
        let err = r.fails(&[
            "promotions",
            "reject",
            id,
            "--org",
            "gen",
            "--as",
            "hr@gen.rungs.test",
            "--note",
            "late",
        ]);
        assert!(
            err.contains("is approved and cannot be rejected"),
            "{b}: {err}"
        );
        let history = r.ok(&["history", "employee@gen.rungs.test", "--org", "gen"]);
        assert!(
            history.contains("promotion approved: Well done"),
            "{b}: {history}"
        );
        // The audit log shows the approval by the named HR admin, and the rule change by the
        // operator; the refused approval and rejection left nothing.
        let audit = r.json(&[
            "audit", "--org", "gen", "--limit", "500", "--format", "json",
        ]);
        let entries = audit.as_array().unwrap();
        let by = |action: &str| -> Vec<String> {
            entries
                .iter()
                .filter(|e| e["action"] == action)
                .map(|e| {
                    e["actor"]["email"]
                        .as_str()
                        .unwrap_or("operator")
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(by("promotion.approve"), ["hr@gen.rungs.test"], "{b}");
        assert_eq!(by("promotion.reject"), Vec::<String>::new(), "{b}");
        assert_eq!(by("readiness_rule.set"), ["operator"], "{b}");
        let table = r.ok(&["audit", "--org", "gen", "--action", "promotion.approve"]);
        assert!(
            table.contains("hr@gen.rungs.test") && table.contains("1 entry"),
            "{b}: {table}"
        );
        let listed = r.ok(&["promotions", "list", "--org", "gen", "--status", "approved"]);
        assert!(listed.contains("1 case(s)"), "{b}: {listed}");
        t.drop_database().await;
    }
}

/// The documented path from the embedded default to a server: an organisation with history
/// (a promotion approved, a comment-free open case, a changed readiness rule, a provisioning
/// token) is exported from SQLite and imported into every configured backend (another SQLite
/// file at least); exporting it there gives the same document, so nothing changed. A second import and a broken file
/// are refused, and the broken one writes nothing.
#[tokio::test]
async fn org_export_and_import_move_an_organisation_between_backends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source_url = format!("sqlite://{}", dir.path().join("source.db").display());
    let src = Rungs {
        url: &source_url,
        dir: dir.path(),
    };
    src.ok(&["demo", "seed", "--org", "moving", "--people", "120"]);
    let cases = src.json(&["promotions", "list", "--org", "moving", "--format", "json"]);
    let id = cases[0]["id"].as_str().unwrap().to_owned();
    src.ok(&[
        "promotions",
        "approve",
        &id,
        "--org",
        "moving",
        "--as",
        "hr@moving.rungs.test",
    ]);
    src.ok(&["readiness-rule", "--org", "moving", "--min-months", "3"]);
    src.ok(&[
        "scim", "token", "create", "--org", "moving", "--name", "okta",
    ]);
    let export = src.ok(&["org", "export", "moving"]);
    let original: serde_json::Value = serde_json::from_str(&export).unwrap();
    assert_eq!(original["people"].as_array().unwrap().len(), 120);
    assert!(original["assessments"].as_array().unwrap().len() > 100);
    assert!(original["credentials"].as_array().unwrap().len() == 120);
    assert_eq!(original["readiness_rule"]["min_months_in_level"], 3);
    assert_eq!(original["scim_tokens"][0]["name"], "okta");
    assert!(
        original["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["case_id"] == id.as_str()),
        "the approval's assignment points at its case"
    );
    std::fs::write(dir.path().join("moving.json"), &export).unwrap();

    let mut targets: Vec<TestDb> = Vec::new();
    for backend in backends() {
        targets.push(TestDb::empty(backend).await);
    }
    for t in &targets {
        let dst = Rungs {
            url: &t.url,
            dir: dir.path(),
        };
        let b = format!("{:?}", t.backend);
        dst.ok(&["db", "migrate"]);
        let out = dst.ok(&["org", "import", "moving.json"]);
        assert!(out.contains("imported organisation `moving`"), "{b}: {out}");
        assert!(out.contains("120 people"), "{b}: {out}");
        let back: serde_json::Value =
            serde_json::from_str(&dst.ok(&["org", "export", "moving"])).unwrap();
        for part in [
            "organisation",
            "people",
            "credentials",
            "matrices",
            "assignments",
            "assessments",
            "cases",
            "case_events",
            "readiness_rule",
            "identity_provider",
            "scim_tokens",
            "scim_identities",
        ] {
            assert_eq!(
                back[part], original[part],
                "{b}: `{part}` changed on the way"
            );
        }
        // The audit log came along, with the import itself on top.
        let log = back["audit_log"].as_array().unwrap();
        assert_eq!(log[0]["action"], "organisation.import", "{b}");
        assert_eq!(
            &log[1..],
            original["audit_log"].as_array().unwrap().as_slice(),
            "{b}"
        );
        let mut back = back.clone();
        back["audit_log"] = original["audit_log"].clone();
        assert_eq!(back, original, "{b}");
        // The moved organisation works: its people sign in with their passwords, growth plans
        // and readiness come out the same.
        // (Timestamps are carried to the microsecond, so compare what the plan says.)
        let plan = |r: &Rungs| {
            let p = r.json(&[
                "growth-plan",
                "employee@moving.rungs.test",
                "--org",
                "moving",
                "--format",
                "json",
            ]);
            let items: Vec<String> = p["plan"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    format!(
                        "{} {} {} {}",
                        i["expectation"]["key"], i["status"], i["held"], i["manager"]["rating"]
                    )
                })
                .collect();
            (p["plan"]["target"].clone(), items)
        };
        assert_eq!(plan(&dst), plan(&src), "{b}");
        let err = dst.fails(&["org", "import", "moving.json"]);
        assert!(
            err.contains("organisation `moving` is already in this database"),
            "{b}: {err}"
        );
    }

    // A broken file: every problem with its place, and nothing written.
    let mut broken = original.clone();
    broken["people"][5]["manager_id"] = serde_json::json!("01930000-0000-7000-8000-000000000000");
    broken["assessments"][0]["expectation"] = serde_json::json!("no-such-skill");
    std::fs::write(dir.path().join("broken.json"), broken.to_string()).unwrap();
    let fresh_url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let fresh = Rungs {
        url: &fresh_url,
        dir: dir.path(),
    };
    fresh.ok(&["db", "migrate"]);
    let err = fresh.fails(&["org", "import", "broken.json"]);
    assert!(err.contains("broken.json: people[5].manager_id: no person 01930000-0000-7000-8000-000000000000 in the file"), "{err}");
    assert!(
        err.contains("assessments[0].expectation: no expectation `no-such-skill`"),
        "{err}"
    );
    assert_eq!(
        fresh.json(&["org", "list", "--format", "json"]),
        serde_json::json!([])
    );
    let err = fresh.fails(&["org", "import", "Cargo.toml"]);
    assert!(
        err.contains("cannot read Cargo.toml") || err.contains("not an organisation export"),
        "{err}"
    );
    for t in targets {
        t.drop_database().await;
    }
}

/// `rungs … | head`: a reader that goes away early ends the command quietly.
#[test]
fn a_closed_pipe_ends_output_quietly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/r.db", dir.path().display());
    let r = Rungs {
        url: &url,
        dir: dir.path(),
    };
    r.ok(&["demo"]);
    let mut child = std::process::Command::new(rungs_bin())
        .current_dir(dir.path())
        .env("RUNGS_DATABASE_URL", &url)
        .args(["matrix", "show", "python", "--org", "demo"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?} {stderr}", out.status);
}

/// A branching framework from the command line (SQLite: the rules are the domain's, covered on
/// every backend by rungs-app's tests): import the file, read it in detail, place people on
/// their own ladders, and see a placement off the ladder refused with the levels it has.
#[test]
fn a_branching_framework_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("f.db").display());
    let r = Rungs {
        url: &url,
        dir: dir.path(),
    };
    r.ok(&["db", "migrate"]);
    r.ok(&["org", "create", "acme", "--name", "Acme"]);
    std::fs::write(
        dir.path().join("branching.yaml"),
        include_str!("../../crates/rungs-format/tests/fixtures/branching.yaml"),
    )
    .expect("write");
    let out = r.ok(&["matrix", "import", "branching.yaml", "--org", "acme"]);
    assert!(out.contains("as version 1"), "{out}");
    let details = r.ok(&[
        "matrix",
        "show",
        "product-eng",
        "--org",
        "acme",
        "--details",
    ]);
    for text in [
        "Levels are cumulative.",
        "  ladder: Engineer I (e1) → Engineer II (e2) → Engineer III (e3) → Engineering Manager (m4) → Senior Engineering Manager (m5)",
        "  branches from ic after e3",
        "    • Owns features [owns-features] (Craft / Delivery)",
        "      1. writes a short design note and gets it reviewed;",
        "      example: Fixed a reported bug, added a regression test and saw it through review.",
        "    Leads a team of four to eight engineers.",
    ] {
        assert!(details.contains(text), "missing {text:?} in\n{details}");
    }
    // The plain grid stays a grid, without the long texts.
    let grid = r.ok(&["matrix", "show", "product-eng", "--org", "acme"]);
    assert!(!grid.contains("1. writes a short design note"), "{grid}");

    std::fs::write(
        dir.path().join("people.csv"),
        "email,name,manager_email,track,level\n\
         lead@acme.test,Lee Lead,,manager,m4\n\
         ic@acme.test,Ida Senior,lead@acme.test,ic,e3\n",
    )
    .expect("write");
    let out = r.ok(&["people", "import", "people.csv", "--org", "acme"]);
    assert!(out.contains("2 added"), "{out}");
    // The branch point's next rung is on the person's own track.
    let plan = r.json(&[
        "growth-plan",
        "ic@acme.test",
        "--org",
        "acme",
        "--format",
        "json",
    ]);
    assert_eq!(plan["plan"]["target"]["level"]["key"], "e4", "{plan}");
    // A manager rung on the individual track is refused, naming the track's levels.
    let err = r.fails(&[
        "assign",
        "ic@acme.test",
        "--org",
        "acme",
        "--track",
        "ic",
        "--level",
        "m4",
    ]);
    assert!(
        err.contains("track `ic` has no level `m4`: its levels are e1 (Engineer I)"),
        "{err}"
    );
}
