//! The matrix file format: round trips, located errors, the JSON Schema, and the built-in
//! `python` template checked against the seed document cell by cell.

#![allow(clippy::unwrap_used)]

use rungs_domain::matrix::Matrix;
use rungs_format::{MatrixFormat, export_matrix, matrix_json_schema, parse_matrix, templates};
use std::path::PathBuf;

fn python() -> Matrix {
    templates::template("python")
        .expect("python template exists")
        .expect("python template is valid")
}

fn errors(text: &str, format: MatrixFormat) -> Vec<String> {
    match parse_matrix(text, format, "m.yaml") {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

/// The seed's table rows and career progressions, as committed in the fixture.
struct SeedTrack {
    name: String,
    cells: Vec<Vec<String>>,
    ladder: Vec<String>,
}

fn seed() -> Vec<SeedTrack> {
    let text = include_str!("fixtures/python-seed-table.txt");
    let rows: Vec<&str> = text
        .lines()
        .skip(2)
        .filter(|l| !l.starts_with("Career Progression:"))
        .collect();
    let ladders: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("Career Progression:"))
        .collect();
    assert_eq!(rows.len(), 6, "six career paths");
    assert_eq!(ladders.len(), 6, "six ladders");
    rows.iter()
        .zip(ladders)
        .map(|(row, ladder)| {
            let cols: Vec<&str> = row.split('|').map(str::trim).collect();
            SeedTrack {
                name: cols[0].to_owned(),
                // The seed writes "Pandas - Matplotlib" where every other cell uses a bullet:
                // both separators split skills (see docs/templates.md).
                cells: cols[1..6]
                    .iter()
                    .map(|c| {
                        c.split('•')
                            .flat_map(|s| s.split(" - "))
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .collect(),
                ladder: ladder["Career Progression:".len()..]
                    .split('→')
                    .map(|t| t.trim().to_owned())
                    .collect(),
            }
        })
        .collect()
}

#[test]
fn the_fixture_is_the_seed_word_for_word() {
    let seed_path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seeds/000_aed95f91f643a250.txt");
    let Ok(seed) = std::fs::read_to_string(&seed_path) else {
        eprintln!(
            "{} is not beside this checkout: the fixture is checked on CI",
            seed_path.display()
        );
        return;
    };
    for line in include_str!("fixtures/python-seed-table.txt").lines() {
        assert!(
            seed.lines().any(|l| l == line),
            "fixture line not in the seed: {line}"
        );
    }
}

#[test]
fn python_template_matches_the_seed_cell_by_cell() {
    let m = python();
    let levels: Vec<&str> = m.levels().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        levels,
        ["Beginner", "Intermediate", "Advanced", "Expert", "Leader"]
    );
    let seed = seed();
    assert_eq!(m.tracks().len(), seed.len());
    let mut skills = 0;
    for (track, s) in m.tracks().iter().zip(&seed) {
        assert_eq!(track.name, s.name);
        assert_eq!(track.cells.len(), 5, "{}: a cell per level", s.name);
        for (li, (cell, expected)) in track.cells.iter().zip(&s.cells).enumerate() {
            assert_eq!(cell.level.as_str(), m.levels()[li].key.as_str());
            let names: Vec<&str> = cell.expectations.iter().map(|e| e.name.as_str()).collect();
            assert_eq!(names, *expected, "{} at {}", s.name, m.levels()[li].name);
            skills += names.len();
        }
        // Every title of the ladder, in order, none lost; six titles put the first two at level 1.
        let titles: Vec<&str> = track
            .cells
            .iter()
            .flat_map(|c| c.titles.iter().map(String::as_str))
            .collect();
        assert_eq!(titles, s.ladder, "{} ladder", s.name);
        let first = &track.cells[0].titles;
        assert_eq!(
            first.len(),
            s.ladder.len() - 4,
            "{}: extra titles share Beginner",
            s.name
        );
    }
    assert_eq!(skills, 49);
    assert_eq!(m.expectation_count(), 49);
}

#[test]
fn python_template_carries_the_course_and_complementary_skills() {
    let m = python();
    for track in m.tracks() {
        let beginner: Vec<&str> = track.cells[0]
            .resources
            .iter()
            .map(|r| r.title.as_str())
            .collect();
        assert!(
            beginner.contains(&"Python for Everybody Specialization"),
            "{}",
            track.name
        );
        let advanced: Vec<&str> = track.cells[2]
            .resources
            .iter()
            .map(|r| r.title.as_str())
            .collect();
        assert_eq!(
            advanced,
            [
                "Cloud platforms (e.g., AWS, Azure)",
                "Front-end technologies (HTML, CSS, JavaScript)",
                "Containerization tools like Docker and Kubernetes"
            ]
        );
    }
}

#[test]
fn export_then_import_gives_the_same_matrix_in_both_formats() {
    let m = python();
    for format in [MatrixFormat::Yaml, MatrixFormat::Json] {
        let text = export_matrix(&m, format);
        let back =
            parse_matrix(&text, format, "export").unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(back, m, "{format:?} round trip");
        // And the export is stable: exporting again gives the same text.
        assert_eq!(export_matrix(&back, format), text);
    }
}

#[test]
fn syntax_errors_say_where() {
    assert_eq!(
        errors("key: x\nname: y\nlevels: [\n", MatrixFormat::Yaml),
        ["m.yaml:3:9: unclosed bracket '['"]
    );
    assert_eq!(
        errors(
            "key: x\nname: y\nlevels:\n  - key: a\n    name: A\n    colour: red\ntracks: []\n",
            MatrixFormat::Yaml
        ),
        ["m.yaml:6:5: unknown field `colour`, expected one of key, name, rank, description"]
    );
    assert_eq!(
        errors(
            "{\"key\": \"x\", \"name\": \"y\",\n \"levels\": [{\"key\": \"a\", \"name\": 3}]}",
            MatrixFormat::Json
        ),
        ["m.yaml:2:34: invalid type: integer `3`, expected a string"]
    );
    assert_eq!(
        errors("key: x\nkey: y\n", MatrixFormat::Yaml),
        ["m.yaml:2:1: duplicate mapping key: key"]
    );
    assert_eq!(
        errors("  \n", MatrixFormat::Yaml),
        ["m.yaml: the file is empty: a matrix needs key, name, levels and tracks"]
    );
}

#[test]
fn rule_errors_are_all_reported_with_line_and_column() {
    let text = "\
key: eng
name: Engineering
levels:
  - key: l1
    name: One
  - key: l1
    name: Again
tracks:
  - key: dev
    name: Developer
    cells:
      - level: l9
        expectations:
          - key: syntax
            name: Syntax
          - key: syntax
            name: Syntax again
";
    assert_eq!(
        errors(text, MatrixFormat::Yaml),
        [
            "m.yaml:6:10: levels[1].key: duplicate level key `l1` (first used by levels[0])",
            "m.yaml:12:16: tracks[0].cells[0].level: unknown level `l9`: the matrix defines l1",
            "m.yaml:16:18: tracks[0].cells[0].expectations[1].key: criterion `syntax` is listed twice in this cell (first as expectations[0])",
        ]
    );
}

#[test]
fn alias_bombs_and_huge_files_are_refused() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    let errs = errors(&bomb, MatrixFormat::Yaml);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let big = format!("key: x\nname: {}\n", "y".repeat(6 * 1024 * 1024));
    assert!(errors(&big, MatrixFormat::Yaml)[0].contains("limited to 5242880 bytes"));
}

#[test]
fn committed_json_schema_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/matrix.schema.json");
    let current = matrix_json_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &current).expect("write schema");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "schema/matrix.schema.json is out of date with the matrix file types.\n\
         Regenerate it with `UPDATE_SCHEMA=1 cargo test -p rungs-format --test matrix_file` (or `just schema`) and commit it."
    );
}
