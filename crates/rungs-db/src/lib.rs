//! Rungs persistence: sea-orm entities, migrations, and repositories that take the tenant scope
//! and return domain types. The only crate that knows sea-orm or SQL; the database is chosen by
//! URL (`sqlite://`, `postgres://`, `mysql://`).

mod audit;
mod auth;
mod cache;
mod dump;
mod entities;
mod error;
mod growth;
pub mod migrations;
mod paging;
mod paths;
mod people;
mod repo;
mod sessions;
mod standings;
#[cfg(feature = "testing")]
pub mod testing;
mod versions;

pub use audit::{Audit, AuditEntry, MAX_SUBJECTS};
pub use auth::LoginCandidate;
pub use dump::*;
pub use error::DbError;
pub use growth::{CaseFilter, Scope};
pub use people::{PeoplePage, PeopleQuery, Reach};
pub use repo::*;
pub use standings::{StandingOrder, StandingSummary, StandingsFilter, StandingsQuery};
