//! The use-case error type: what went wrong, in terms a caller can act on. Database text stays
//! inside `Internal` and is only logged.

use rungs_db::DbError;
use rungs_domain::DomainError;
use rungs_format::FileErrors;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Missing, or belonging to another organisation (the two answer the same).
    #[error("{0} not found")]
    NotFound(String),
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    /// An imported file with every problem found in it.
    #[error("{0}")]
    InvalidFile(FileErrors),
    #[error("{0} already exists")]
    Conflict(String),
    /// The record changed state under the caller (a case already decided, say).
    #[error("{0}")]
    StateConflict(String),
    /// No valid credentials: the message says what to do (sign in, refresh...).
    #[error("{0}")]
    Unauthenticated(String),
    /// Too many requests of this kind: try again after `retry_after` seconds (the message says
    /// so in words).
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// The database cannot be reached now: try again shortly.
    #[error("the database is unavailable right now: try again shortly")]
    Unavailable,
    /// The database has no room to write (its disk is full): nothing was saved.
    #[error(
        "the database has no room to write (its disk is full): nothing was saved; try again once space is freed"
    )]
    StorageFull,
    /// The work ran past its time and was stopped (the database's statement timeout).
    #[error("the request took too long and was stopped")]
    TimedOut,
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// A stable code for clients (GraphQL `extensions.code`, CLI exit status).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "NOT_FOUND",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::Invalid(_) | Self::InvalidFile(_) => "INVALID_INPUT",
            Self::Conflict(_) | Self::StateConflict(_) => "CONFLICT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Unavailable | Self::StorageFull => "UNAVAILABLE",
            Self::TimedOut => "TIMEOUT",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

impl AppError {
    /// How many seconds a client should wait before trying again (HTTP `Retry-After`), for
    /// errors that pass by themselves: the exact wait of a rate limit, five seconds for a
    /// database that is unavailable, full or slow.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            Self::Unavailable | Self::StorageFull | Self::TimedOut => Some(5),
            _ => None,
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound { what } => Self::NotFound(what),
            DbError::Conflict { what } => Self::Conflict(what),
            DbError::Stale { what } => Self::StateConflict(what),
            DbError::Invalid(what) => Self::Invalid(what),
            DbError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "the database is unavailable");
                Self::Unavailable
            }
            DbError::StorageFull(cause) => {
                tracing::error!(error = %cause, "the database has no room to write");
                Self::StorageFull
            }
            DbError::TimedOut(cause) => {
                tracing::warn!(error = %cause, "a statement ran past the statement timeout");
                Self::TimedOut
            }
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Transition { .. } => Self::StateConflict(e.to_string()),
            other => Self::Invalid(other.to_string()),
        }
    }
}

impl From<FileErrors> for AppError {
    fn from(e: FileErrors) -> Self {
        Self::InvalidFile(e)
    }
}
