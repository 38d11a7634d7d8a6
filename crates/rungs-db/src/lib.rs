//! Rungs persistence: sea-orm entities, migrations, and repositories that take the tenant scope
//! and return domain types. The only crate that knows sea-orm or SQL; the database is chosen by
//! URL (`sqlite://`, `postgres://`, `mysql://`).

mod entities;
mod error;
pub mod migrations;
mod repo;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::DbError;
pub use repo::*;
