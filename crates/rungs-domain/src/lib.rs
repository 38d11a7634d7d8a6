//! Rungs domain model: organisations, people, leveling matrices, level assignments, assessments
//! and promotion cases, with the rules that keep them valid.
//!
//! Pure: no async, no I/O, no database or GraphQL types. Every constructor parses, so a value of
//! these types is valid by construction; the only errors are [`DomainError`]s about bad input.

pub mod assessment;
pub mod assignment;
pub mod auth;
pub mod diff;
pub mod edit;
pub mod error;
pub mod growth;
pub mod ids;
pub mod matrix;
pub mod migrate;
pub mod org;
pub mod person;
pub mod promotion;
pub mod provisioning;
pub mod search;
pub mod sso;
pub mod text;

pub use error::{DomainError, Path, Seg, Violation};
pub use ids::*;
