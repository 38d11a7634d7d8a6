//! The Rungs GraphQL API over HTTP (async-graphql on axum). Transport only: resolvers turn
//! GraphQL arguments into rungs-app use-case calls and domain values into GraphQL objects. The
//! only crate that names a GraphQL type or an HTTP route.

mod documents;
mod error;
mod graphiql;
mod graphql;
mod http;
mod metrics;
mod scim;
mod server;
mod shape;

pub use graphql::{RungsSchema, build_schema, sdl};
pub use http::{ApiConfig, router, router_with};
pub use server::{ServeLimits, serve};
