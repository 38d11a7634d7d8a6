//! The persistence error type. Driver text stays inside `Other` and is never shown to clients.

use rungs_domain::DomainError;
use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{what} already exists")]
    Conflict { what: String },
    /// A conditional write found the row changed since the caller read it.
    #[error("{what}")]
    Stale { what: String },
    /// A stored row no longer parses into the domain (a bug or a hand-edited database).
    #[error("stored data is invalid: {0}")]
    Corrupt(#[from] DomainError),
    #[error("database error")]
    Other(#[source] DbErr),
}

impl DbError {
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }
    /// Maps a unique-key violation to `Conflict { what }`, anything else to `Other`.
    pub fn conflict_or_other(err: DbErr, what: impl Into<String>) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict { what: what.into() },
            _ => Self::Other(err),
        }
    }
}

impl From<DbErr> for DbError {
    fn from(err: DbErr) -> Self {
        Self::Other(err)
    }
}
