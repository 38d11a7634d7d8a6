//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz), one per parser of untrusted
//! input. Each takes raw bytes and must return (with a value or located errors) for any input:
//! never panic, never hang. They also run on stable in this crate's tests, over generated input.
//! A file that reads successfully must also export and read back to the same matrix.

use crate::mapping::parse_mapping;
use crate::matrix_csv::{CsvBase, export_matrix_csv, parse_matrix_csv};
use crate::people::parse_people;
use crate::{MatrixFormat, export_matrix, parse_matrix};

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

fn matrix(data: &[u8], format: MatrixFormat) {
    let Some(t) = text(data) else { return };
    if let Ok(m) = parse_matrix(t, format, "fuzz") {
        let again = parse_matrix(&export_matrix(&m, format), format, "fuzz");
        assert_eq!(again.as_ref(), Ok(&m), "a read matrix must round trip");
    }
}

pub fn matrix_yaml(data: &[u8]) {
    matrix(data, MatrixFormat::Yaml);
}

pub fn matrix_json(data: &[u8]) {
    matrix(data, MatrixFormat::Json);
}

pub fn matrix_csv(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let base = CsvBase {
        key: "fuzz",
        name: "Fuzz",
        existing: None,
    };
    if let Ok(m) = parse_matrix_csv(t, "fuzz.csv", base) {
        let base = CsvBase {
            existing: Some(&m),
            ..base
        };
        let again = parse_matrix_csv(&export_matrix_csv(&m), "fuzz.csv", base);
        assert_eq!(again.as_ref(), Ok(&m), "a read spreadsheet must round trip");
    }
}

pub fn mapping(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = parse_mapping(t, MatrixFormat::Yaml, "fuzz.yaml");
    let _ = parse_mapping(t, MatrixFormat::Json, "fuzz.json");
}

pub fn people_csv(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = parse_people(t, "fuzz.csv");
}
