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
    /// A write that the stored data cannot take (a reporting line too deep to keep).
    #[error("{0}")]
    Invalid(String),
    /// A stored row no longer parses into the domain (a bug or a hand-edited database).
    #[error("stored data is invalid: {0}")]
    Corrupt(#[from] DomainError),
    /// The database cannot be reached now (stopped, restarting, unreachable, or no
    /// connection free within the pool's acquire timeout): worth retrying later.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    /// A statement ran longer than the pool's statement timeout and the database stopped it.
    #[error("the database stopped a statement that ran too long")]
    TimedOut(#[source] DbErr),
    /// The database has no room to write (its disk is full): nothing of the write was kept;
    /// worth retrying once space is freed.
    #[error("the database has no room to write")]
    StorageFull(#[source] DbErr),
    #[error("database error")]
    Other(#[source] DbErr),
}

/// Whether `err` says that the database cannot be reached, rather than that a statement failed.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match err {
        // No connection could be had, or opening one failed (refused, reset, closed during
        // the handshake).
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            e.as_ref()
        }
        _ => return false,
    };
    match sqlx {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception: PostgreSQL, and MariaDB's lost connection
        // and shutdown) and PostgreSQL's 57P (shutting down, starting up).
        Sqlx::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// Whether `err` says that the database stopped a statement at its statement timeout
/// (PostgreSQL's `query_canceled`, 57014; MariaDB's `max_statement_time`, error 1969; MySQL's
/// `max_execution_time`, 3024).
pub fn is_timeout(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let Sqlx::Database(db) = e.as_ref() else {
        return false;
    };
    let text = db.message();
    db.code().is_some_and(|c| c == "57014")
        || text.contains("max_statement_time exceeded")
        || text.contains("maximum statement execution time exceeded")
}

/// Whether `err` says that the database gave up this transaction so that another could go on:
/// a deadlock (PostgreSQL's 40P01, MariaDB's and MySQL's 1213) or a serialization failure
/// (40001). Nothing of it was kept, and running it again is the remedy the databases prescribe.
pub fn is_deadlock(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let Sqlx::Database(db) = e.as_ref() else {
        return false;
    };
    matches!(db.code().as_deref(), Some("40P01" | "40001" | "1213"))
        || db.message().starts_with("Deadlock found")
}

impl DbError {
    /// A transaction the database gave up on, to be run again ([`is_deadlock`]).
    pub fn is_deadlock(&self) -> bool {
        match self {
            Self::Other(e) => is_deadlock(e),
            _ => false,
        }
    }
}

/// Whether `err` says that the database ran out of room to write: SQLite's `SQLITE_FULL` (13),
/// PostgreSQL's `disk_full` (53100), MariaDB's and MySQL's "Disk full" (1021) and "table is
/// full" (1114).
pub fn is_storage_full(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let (DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))
    | DbErr::Conn(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let Sqlx::Database(db) = e.as_ref() else {
        return false;
    };
    let text = db.message();
    match db.code().as_deref() {
        Some("13" | "53100") => true,
        _ => {
            text.starts_with("Disk full")
                || (text.starts_with("The table") && text.ends_with("is full"))
        }
    }
}

impl DbError {
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }
    /// Maps a unique-key violation to `Conflict { what }`, anything else to `Other`.
    pub fn conflict_or_other(err: DbErr, what: impl Into<String>) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict { what: what.into() },
            _ => Self::from(err),
        }
    }
}

impl From<DbErr> for DbError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            Self::Unavailable(err)
        } else if is_timeout(&err) {
            Self::TimedOut(err)
        } else if is_storage_full(&err) {
            Self::StorageFull(err)
        } else {
            Self::Other(err)
        }
    }
}
