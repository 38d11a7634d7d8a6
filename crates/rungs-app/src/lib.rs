//! Rungs use cases and the authorization policy: the one API that both the server and the CLI
//! call. Every use case takes an [`Actor`] and asks [`policy`] before it reads or writes.

mod error;
pub mod policy;
mod usecases;

pub use error::AppError;
pub use policy::{Action, Actor};
pub use usecases::*;
