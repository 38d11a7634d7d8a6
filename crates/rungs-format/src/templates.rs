//! Built-in matrix templates, shipped inside the binary.

use crate::{FileErrors, MatrixFormat, parse_matrix};
use rungs_domain::matrix::Matrix;

/// A template: its name and its matrix file (YAML).
pub struct Template {
    pub name: &'static str,
    pub summary: &'static str,
    pub source: &'static str,
}

pub const TEMPLATES: &[Template] = &[Template {
    name: "python",
    summary: "Python job-leveling matrix: six career paths, five levels, title ladders and courses",
    source: include_str!("../templates/python.yaml"),
}];

/// The template's matrix, or `None` when no template has that name.
pub fn template(name: &str) -> Option<Result<Matrix, FileErrors>> {
    TEMPLATES.iter().find(|t| t.name == name).map(|t| {
        parse_matrix(
            t.source,
            MatrixFormat::Yaml,
            &format!("template:{}", t.name),
        )
    })
}

pub fn names() -> Vec<&'static str> {
    TEMPLATES.iter().map(|t| t.name).collect()
}
