//! Real framework shapes (fixtures/): branching ladders, ladders of different ranges, restated
//! levels, shared criteria, long Markdown criteria with examples. Each imports, exports in every
//! format and reads back to the same matrix; the checks that refuse a broken ladder say why.

#![allow(clippy::unwrap_used)]

use rungs_domain::matrix::{LevelStyle, Matrix};
use rungs_format::matrix_csv::{CsvBase, parse_matrix_csv};
use rungs_format::{ExportFormat, MatrixFormat, parse_matrix, render_matrix};

const FIXTURES: [(&str, &str, MatrixFormat); 4] = [
    (
        "branching.yaml",
        include_str!("fixtures/branching.yaml"),
        MatrixFormat::Yaml,
    ),
    (
        "ranges.yaml",
        include_str!("fixtures/ranges.yaml"),
        MatrixFormat::Yaml,
    ),
    (
        "restated.yaml",
        include_str!("fixtures/restated.yaml"),
        MatrixFormat::Yaml,
    ),
    (
        "long-criteria.json",
        include_str!("fixtures/long-criteria.json"),
        MatrixFormat::Json,
    ),
];

fn fixture(name: &str) -> Matrix {
    let (file, text, format) = FIXTURES.iter().find(|f| f.0 == name).unwrap();
    parse_matrix(text, *format, file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn every_fixture_round_trips_through_every_format() {
    for (file, text, format) in FIXTURES {
        let m = parse_matrix(text, format, file).unwrap_or_else(|e| panic!("{file}: {e}"));
        for f in [MatrixFormat::Yaml, MatrixFormat::Json] {
            let out = render_matrix(&m, f.into());
            assert!(out.contains("format_version: 2") || out.contains("\"format_version\": 2"));
            assert_eq!(parse_matrix(&out, f, file).unwrap(), m, "{file} as {f:?}");
        }
        // A new matrix from its spreadsheet loses nothing.
        let csv = render_matrix(&m, ExportFormat::Csv);
        let base = CsvBase {
            key: m.key().as_str(),
            name: "placeholder",
            existing: None,
        };
        let back = parse_matrix_csv(&csv, file, base).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(back, m, "{file} as CSV");
        // Markdown and HTML render every criterion's text.
        for f in [ExportFormat::Markdown, ExportFormat::Html] {
            let out = render_matrix(&m, f);
            for e in m.criteria() {
                let first = e.name.lines().next().unwrap().trim_start_matches("## ");
                // In HTML, as a plain label or as Markdown's text.
                let found = match f {
                    ExportFormat::Html => {
                        out.contains(&rungs_format::markdown::escape(first))
                            || out.contains(
                                &first
                                    .replace('&', "&amp;")
                                    .replace('<', "&lt;")
                                    .replace('>', "&gt;")
                                    .replace('"', "&quot;"),
                            )
                    }
                    _ => out.contains(first),
                };
                assert!(found, "{file} {f:?} misses {}", e.key);
            }
        }
    }
}

#[test]
fn a_branching_ladder_shares_its_trunk() {
    let m = fixture("branching.yaml");
    let keys = |t| -> Vec<String> {
        m.ladder(t)
            .iter()
            .map(|l| l.key.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys("ic"), ["e1", "e2", "e3", "e4", "e5"]);
    assert_eq!(keys("manager"), ["e1", "e2", "e3", "m4", "m5"]);
    // Two branches hold rank 4.
    assert_eq!(m.level("e4").unwrap().rank, m.level("m4").unwrap().rank);
    // The next rung is the person's own.
    assert_eq!(m.next_level("ic", "e3").unwrap().key.as_str(), "e4");
    assert_eq!(m.next_level("manager", "e3").unwrap().key.as_str(), "m4");
    assert!(m.next_level("ic", "e5").is_none());
    // The trunk's cells are the IC track's, seen from the manager ladder.
    assert_eq!(m.cell("manager", "e2").unwrap().titles, ["Engineer II"]);
    assert!(m.cell("manager", "e4").is_none());
    // A manager rung requires the trunk's criteria, once each.
    let req: Vec<String> = m
        .expectations_for("manager", "m4")
        .unwrap()
        .iter()
        .map(|(_, e)| e.key.to_string())
        .collect();
    assert_eq!(req.len(), 9, "{req:?}");
    assert!(req.contains(&"mentors-peers".to_string()));
    assert!(req.contains(&"cross-team-influence".to_string()));
    // Shared criterion defined once.
    assert_eq!(m.places_of("cross-team-influence").len(), 3);
    assert_eq!(m.criteria().len(), 12);
    let err = m.check_position("ic", "m4").unwrap_err().to_string();
    assert!(
        err.contains("track `ic` has no level `m4`: its levels are e1 (Engineer I), e2 (Engineer II), e3 (Engineer III), e4 (Senior Engineer), e5 (Staff Engineer)"),
        "{err}"
    );
    // Themes group competencies.
    assert_eq!(
        m.competency("leadership")
            .unwrap()
            .theme
            .as_ref()
            .unwrap()
            .as_str(),
        "people"
    );
}

#[test]
fn ladders_of_different_ranges_and_restated_levels() {
    let m = fixture("ranges.yaml");
    assert_eq!(m.ladder("support").first().unwrap().key.as_str(), "l2");
    assert_eq!(m.ladder("management").first().unwrap().key.as_str(), "l3");
    assert!(
        m.next_level("design", "l4").is_none(),
        "the top of a track is the top"
    );
    assert!(!m.has_position("design", "l5"));
    assert_eq!(m.places_of("writes-clearly").len(), 3);

    let r = fixture("restated.yaml");
    assert_eq!(r.level_style(), LevelStyle::Restated);
    let at = |l| -> Vec<String> {
        r.expectations_for("analytics", l)
            .unwrap()
            .iter()
            .map(|(_, e)| e.key.to_string())
            .collect()
    };
    assert_eq!(at("analyst"), ["sql-queries", "checks-numbers"]);
    assert_eq!(
        at("senior"),
        ["frames-questions", "checks-numbers", "models-data"]
    );
    assert_eq!(at("lead"), ["frames-questions", "sets-analytics-roadmap"]);
}

#[test]
fn long_criteria_keep_their_text_and_examples() {
    let m = fixture("long-criteria.json");
    let e = m.criterion("operates-services").unwrap();
    assert_eq!(e.name.chars().count(), 2000);
    assert_eq!(e.examples.len(), 2);
    assert_eq!(e.label(), "Operates production services");
    let too_long = include_str!("fixtures/long-criteria.json").replace(
        "\"title\": \"Operates production services\",",
        &format!("\"title\": \"{}\",", "x".repeat(201)),
    );
    let err = parse_matrix(&too_long, MatrixFormat::Json, "m.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("title: is longer than 200 characters"),
        "{err}"
    );
}

#[test]
fn broken_ladders_are_refused_with_their_place_in_the_file() {
    let text = include_str!("fixtures/branching.yaml");
    // A cell on the shared trunk belongs to the track it branches from.
    let bad = text.replace(
        "      - level: m4\n        titles: [Engineering Manager]",
        "      - level: e2\n        titles: [Dup]\n      - level: m4\n        titles: [Engineering Manager]",
    );
    let err = parse_matrix(&bad, MatrixFormat::Yaml, "m.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("level `e2` is on the trunk that track `manager` shares with `ic`: its cell belongs to `ic`"),
        "{err}"
    );
    // Two levels at one rank on one ladder.
    let bad = text.replace("levels: [m4, m5]", "levels: [m4, m5, e4]");
    let err = parse_matrix(&bad, MatrixFormat::Yaml, "m.yaml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("would hold 2 levels at rank 4"), "{err}");
    // A criterion defined twice with different text.
    let bad = text.replace(
        "          - key: cross-team-influence\n  - key: manager",
        "          - key: cross-team-influence\n            name: Something else\n  - key: manager",
    );
    let err = parse_matrix(&bad, MatrixFormat::Yaml, "m.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("criterion `cross-team-influence` is defined twice with different content"),
        "{err}"
    );
    // A branch from a level the parent does not have.
    let bad = text.replace("      level: e3\n", "      level: m4\n");
    let err = parse_matrix(&bad, MatrixFormat::Yaml, "m.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("track `ic` has no level `m4` to branch from"),
        "{err}"
    );
}

#[test]
fn wide_matrices_print_track_by_track_and_headers_do_not_repeat() {
    let m = fixture("ranges.yaml");
    let md = render_matrix(&m, ExportFormat::Markdown);
    let longest = md.lines().map(str::len).max().unwrap();
    assert!(longest < 300, "a line of {longest} characters");
    assert!(md.contains("### Level 2 (Support Specialist)"), "{md}");
    assert!(!md.contains("Level 1: Level 1"));
    let html = render_matrix(&m, ExportFormat::Html);
    assert_eq!(
        html.matches("<section class=\"track\">").count(),
        4,
        "a section per track"
    );
    // Every rung of every ladder has its row: no column is lost.
    let rows: usize = m.tracks().iter().map(|t| t.ladder.len()).sum();
    assert_eq!(html.matches("<tr><td class=\"track\">").count(), rows);
    assert!(
        !html.contains("<th>Track</th>"),
        "no tracks-by-levels table"
    );
    assert!(!html.contains("Level 1: Level 1"));
    // Five levels or fewer keep the seed's one table.
    let python = rungs_format::templates::template("python")
        .unwrap()
        .unwrap();
    let narrow = render_matrix(&python, ExportFormat::Html);
    assert!(narrow.contains("<th>Track</th>"));
    assert!(!narrow.contains("<th>Level</th><th>Expects</th>"));
    assert!(html.contains("<th>Level</th><th>Expects</th>"));

    // Seven levels across two branches: track by track too, the branch naming its trunk.
    let b = fixture("branching.yaml");
    let html = render_matrix(&b, ExportFormat::Html);
    assert_eq!(html.matches("<section class=\"track\">").count(), 2);
    assert!(html.contains("(branches from Individual contributor after Engineer III)"));
    let md = render_matrix(&b, ExportFormat::Markdown);
    assert!(
        md.contains("(branches from Individual contributor after Engineer III)"),
        "{md}"
    );
    assert!(
        md.contains("  1. writes a short design note and gets it reviewed;"),
        "{md}"
    );
    assert!(md.contains("  - Example: Fixed a reported bug"), "{md}");
}
