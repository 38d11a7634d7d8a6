//! Rungs use cases and the authorization policy: the one API that both the server and the CLI
//! call. Every use case takes an [`Actor`] and asks [`policy`] before it reads or writes.

pub mod analytics;
pub mod auth;
pub mod demo;
mod error;
mod graph;
mod growth;
mod orgs;
mod people;
pub mod policy;
mod promotions;
pub mod provisioning;
pub mod sso;
#[cfg(feature = "testing")]
pub mod testing;
mod usecases;
mod versions;

pub use error::AppError;
pub use graph::{Each, Reader};
pub use growth::*;
pub use orgs::*;
pub use people::*;
pub use policy::{Action, Actor};
pub use promotions::*;
pub use rungs_db::AuditFilter;
pub use usecases::*;
pub use versions::*;
