//! The matrix spreadsheet (CSV) and the mapping file: round trips, what spreadsheets do to a
//! file, and the exact errors for bad input.

#![allow(clippy::unwrap_used)]

use rungs_domain::matrix::Matrix;
use rungs_format::mapping::parse_mapping;
use rungs_format::matrix_csv::{COLUMNS, CsvBase, export_matrix_csv, parse_matrix_csv};
use rungs_format::{ExportFormat, MatrixFormat, parse_matrix, render_matrix, templates};

fn python() -> Matrix {
    templates::template("python").unwrap().unwrap()
}

fn base(existing: Option<&Matrix>) -> CsvBase<'_> {
    CsvBase {
        key: "python",
        name: "Python",
        existing,
    }
}

fn errors(text: &str) -> Vec<String> {
    match parse_matrix_csv(text, "m.csv", base(None)) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn every_format_round_trips_the_template() {
    let m = python();
    for f in [MatrixFormat::Yaml, MatrixFormat::Json] {
        let text = render_matrix(&m, f.into());
        assert_eq!(parse_matrix(&text, f, "m").unwrap(), m, "{f:?}");
    }
    let csv = render_matrix(&m, ExportFormat::Csv);
    // Updating the matrix from its own spreadsheet is lossless...
    let back = parse_matrix_csv(&csv, "m.csv", base(Some(&m))).unwrap();
    assert_eq!(back, m);
    // ... and a new matrix from it loses nothing: names, descriptions, competencies.
    let fresh = parse_matrix_csv(&csv, "m.csv", base(None)).unwrap();
    assert_eq!(fresh, m);
    assert_eq!(export_matrix_csv(&fresh), csv);
}

#[test]
fn a_spreadsheet_edited_file_still_imports() {
    let m = python();
    let csv = export_matrix_csv(&m);
    // Reverse the columns, add blank lines, use Windows line endings and a BOM.
    let mut rdr = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let rev = |r: &csv::StringRecord| r.iter().rev().map(str::to_owned).collect::<Vec<_>>();
    w.write_record(rev(rdr.headers().unwrap())).unwrap();
    for (i, r) in rdr.records().enumerate() {
        w.write_record(rev(&r.unwrap())).unwrap();
        if i % 5 == 0 {
            w.write_record(vec![""; COLUMNS.len()]).unwrap();
        }
    }
    let mut text = String::from("\u{feff}");
    text.push_str(&String::from_utf8(w.into_inner().unwrap()).unwrap());
    text.push_str("\r\n\r\n");
    assert!(text.contains("\r\n"));
    let back = parse_matrix_csv(&text, "m.csv", base(Some(&m))).unwrap();
    assert_eq!(back, m);
}

#[test]
fn bad_rows_are_reported_with_row_and_column() {
    let text = "track,level,expectation_key,name,level_rank,resources\n\
                dev,l1,syntax,Syntax,1,\n\
                \n\
                dev,,x,X,1,\n\
                dev,l1,syntax,Again,1,\n\
                dev,l2,Bad Key,Bad,two,\n\
                dev,l2,ok,,2,\n\
                dev,l2,res,Res,2,Book | ftp://x | course\n";
    let errs = errors(text);
    assert_eq!(
        errs,
        [
            "m.csv:4:2: level: every row needs a level key",
            "m.csv:6:5: level_rank: `two` is not a whole number: ranks go from 1 (lowest) up",
        ],
        "row-level problems come first, and stop the matrix checks"
    );
    let text = "track,level,expectation_key,name,resources\n\
                dev,l1,syntax,Syntax,\n\
                dev,l1,syntax,Again,\n\
                dev,l2,Bad Key,Bad,\n\
                dev,l2,ok,,\n\
                dev,l2,res,Res,Book | ftp://x | course\n";
    let mut errs = errors(text);
    errs.sort();
    assert_eq!(errs.len(), 4, "{errs:#?}");
    assert_eq!(
        errs[0],
        "m.csv:3:3: expectation_key: criterion `syntax` is listed twice in this cell (first as expectations[0])"
    );
    assert!(
        errs[1].starts_with("m.csv:4:3: expectation_key: "),
        "{errs:#?}"
    );
    assert_eq!(
        errs[2],
        "m.csv:5:4: name: criterion `ok` is not defined anywhere: give it its text here, or define it in another cell"
    );
    assert!(errs[3].starts_with("m.csv:6:5: resources: "), "{errs:#?}");
    assert!(errs[3].contains("not a web link"), "{errs:#?}");
}

#[test]
fn bad_headers_and_disagreeing_rows_are_refused() {
    assert_eq!(
        errors("track,levl,name\n"),
        [
            "m.csv:1:2: unknown column `levl`: the columns are matrix, track, track_name, level, level_name, level_rank, titles, expectation_key, name, description, competency, resources, cell_resources, matrix_name, matrix_description, level_style, level_description, track_description, track_levels, branches_from, cell_summary, title, examples, competency_name, competency_description, theme, theme_name, theme_description",
            "m.csv:1: level: the required column `level` is missing",
        ]
    );
    assert_eq!(
        errors("matrix,track,level,expectation_key,name\npython,dev,l1,a,A\nother,dev,l1,b,B\n"),
        [
            "m.csv:3:1: matrix: this row is for matrix `other`, but the file imports `python`: one matrix per file"
        ]
    );
    assert_eq!(
        rungs_format::matrix_csv::csv_matrix_key("\u{feff}Track,Matrix\r\n\r\ndev,python\r\n")
            .as_deref(),
        Some("python")
    );
    assert_eq!(
        errors("track,level\n"),
        ["m.csv: the file has a header but no rows: add one row per expectation"]
    );
    assert_eq!(
        errors(
            "track,track_name,level,titles,expectation_key,name\ndev,Dev,l1,Intern,a,A\ndev,Developer,l1,Junior,b,B\ndev,,l1,,,B\n"
        ),
        [
            "m.csv:3:2: track_name: `Developer` differs from `Dev` given on an earlier row: use one value",
            "m.csv:3:4: titles: `Junior` differs from `Intern` given on an earlier row: use one value",
            "m.csv:4:6: name: `name` is given without an expectation_key: give the expectation a key, or leave the row to titles and cell_resources",
        ]
    );
}

#[test]
fn the_mapping_file_is_read_and_checked_against_the_versions() {
    let m = python();
    let first = m.tracks()[0].cells[0].expectations[0].key.to_string();
    let text = format!(
        "expectations:\n  {first}: [{first}, nowhere]\n  ghost: {first}\nlevels:\n  beginner: novice\n"
    );
    let f = parse_mapping(&text, MatrixFormat::Yaml, "map.yaml").unwrap();
    let errs: Vec<String> = f
        .check(&m, 2, &[&m])
        .unwrap_err()
        .0
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errs,
        [
            "map.yaml:5:13: levels.beginner: `beginner` maps to level `novice`, which version 2 does not have".to_string(),
            format!("map.yaml:2:{}: expectations.{first}: `{first}` maps to expectation `nowhere`, which version 2 does not have", first.len() + 5),
            "map.yaml:3:10: expectations.ghost: `ghost` is not an expectation of any version the people move from".to_string(),
        ]
    );
    let bad = parse_mapping("expectatons: {}\n", MatrixFormat::Yaml, "map.yaml").unwrap_err();
    assert!(
        bad.to_string()
            .contains("map.yaml:1:1: unknown field `expectatons`"),
        "{bad}"
    );
    let json =
        parse_mapping("{\"tracks\": {\"a\": 1}}", MatrixFormat::Json, "map.json").unwrap_err();
    assert!(json.to_string().contains("map.json:1:"), "{json}");
}

mod fuzz_entry_points {
    //! The fuzz targets' entry points on stable: generated and mutated inputs never panic, and
    //! whatever reads round-trips.
    use super::*;
    use proptest::prelude::*;

    /// The template, the framework fixtures (ladders, branches, shared criteria, themes, long
    /// criteria; format 2) in every format, a mapping with positions and a people file.
    fn seeds() -> Vec<String> {
        let mut out = Vec::new();
        let branching = include_str!("fixtures/branching.yaml");
        let fixtures = [
            (branching, MatrixFormat::Yaml),
            (include_str!("fixtures/ranges.yaml"), MatrixFormat::Yaml),
            (include_str!("fixtures/restated.yaml"), MatrixFormat::Yaml),
            (
                include_str!("fixtures/long-criteria.json"),
                MatrixFormat::Json,
            ),
        ];
        let mut matrices = vec![python()];
        for (text, format) in fixtures {
            out.push(text.to_owned());
            matrices.push(parse_matrix(text, format, "fixture").unwrap());
        }
        for m in &matrices {
            out.push(render_matrix(m, ExportFormat::Yaml));
            out.push(render_matrix(m, ExportFormat::Json));
            out.push(export_matrix_csv(m));
        }
        out.push(include_str!("../../../fuzz/seeds/mapping/positions.yaml").into());
        out.push("expectations:\n  a: [b, c]\nlevels: {x: y}\n".into());
        out.push("email,name,manager_email\na@b.test,A,\n".into());
        out
    }

    static SEEDS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(seeds);

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn mutated_files_never_panic(which in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), cut in 0usize..64, junk in ".{0,16}") {
            let s = &SEEDS[which.index(SEEDS.len())];
            let i = at.index(s.len());
            let i = (0..=i).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
            let j = (i + cut).min(s.len());
            let j = (j..=s.len()).find(|j| s.is_char_boundary(*j)).unwrap_or(s.len());
            let mutated = format!("{}{junk}{}", &s[..i], &s[j..]);
            let b = mutated.as_bytes();
            rungs_format::fuzz::matrix_yaml(b);
            rungs_format::fuzz::matrix_json(b);
            rungs_format::fuzz::matrix_csv(b);
            rungs_format::fuzz::mapping(b);
            rungs_format::fuzz::people_csv(b);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
            rungs_format::fuzz::matrix_yaml(&data);
            rungs_format::fuzz::matrix_json(&data);
            rungs_format::fuzz::matrix_csv(&data);
            rungs_format::fuzz::mapping(&data);
            rungs_format::fuzz::people_csv(&data);
        }
    }

    #[test]
    fn the_seeds_round_trip_through_the_entry_points() {
        let mapping = parse_mapping(
            include_str!("../../../fuzz/seeds/mapping/positions.yaml"),
            MatrixFormat::Yaml,
            "positions.yaml",
        )
        .unwrap();
        assert_eq!(mapping.mapping.positions.len(), 2);
        for s in SEEDS.iter() {
            let b = s.as_bytes();
            rungs_format::fuzz::matrix_yaml(b);
            rungs_format::fuzz::matrix_json(b);
            rungs_format::fuzz::matrix_csv(b);
        }
    }
}
