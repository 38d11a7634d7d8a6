//! Rungs file formats: the matrix file (YAML and JSON, one serde model documented by a JSON
//! Schema), the people CSV, the built-in matrix templates, and Markdown and HTML renderings.
//!
//! Parsing here is pure (text in, domain values or located errors out): no database, no I/O.
//! Every error carries the line and column it was found at, where the format can tell.

mod at;
pub mod errors;
pub mod fuzz;
pub mod mapping;
pub mod markdown;
pub mod matrix_csv;
pub mod matrix_file;
pub mod people;
pub mod render;
pub mod templates;

pub use at::At;
pub use errors::{FileError, FileErrors};
pub use matrix_file::{MatrixFormat, export_matrix, matrix_json_schema, parse_matrix};
pub use render::{ExportFormat, render_matrix};
