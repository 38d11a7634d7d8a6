//! The schema, split by aggregate (`auth`, `organisation`, `people`, `matrices`, `growth`, `identity`) and joined with
//! `MergedObject`; `types` holds the GraphQL objects built from domain values.

mod auth;
mod fields;
pub mod graph;
mod growth;
mod identity;
mod matrices;
mod organisation;
mod people;
mod types;
mod versions;

use crate::error::{RequestId, to_gql};
use async_graphql::{Context, EmptySubscription, MergedObject, Schema};
use rungs_app::auth::Session;
use rungs_app::{App, AppError};

#[derive(MergedObject, Default)]
pub struct Query(
    auth::AuthQuery,
    organisation::OrganisationQuery,
    matrices::MatricesQuery,
    versions::VersionsQuery,
    people::PeopleQuery,
    growth::GrowthQuery,
    growth::AuditQuery,
    identity::IdentityQuery,
    identity::ProvisioningQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    auth::AuthMutation,
    matrices::MatricesMutation,
    versions::VersionsMutation,
    people::PeopleMutation,
    growth::GrowthMutation,
    identity::IdentityMutation,
    identity::ProvisioningMutation,
);

pub type RungsSchema = Schema<Query, Mutation, EmptySubscription>;

/// Limits the schema enforces on every request.
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    pub introspection: bool,
    pub max_depth: usize,
    pub max_complexity: usize,
}

/// The schema with its limits; introspection (and field suggestions) only when enabled.
pub fn build_schema(app: App, limits: SchemaLimits) -> RungsSchema {
    let mut b = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .data(app)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(8);
    if !limits.introspection {
        b = b.disable_introspection().disable_suggestions();
    }
    b.finish()
}

/// The schema's SDL, as committed in `schema/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .finish()
        .sdl()
}

/// What a resolver needs: the use cases, the caller (if signed in) and the request id.
pub(crate) struct Ctx<'a> {
    pub app: &'a App,
    pub session: Option<&'a Session>,
    pub request: RequestId,
}

impl<'a> Ctx<'a> {
    pub fn of(ctx: &'a Context<'_>) -> Self {
        Self {
            app: ctx.data_unchecked::<App>(),
            session: ctx.data_opt::<Session>(),
            request: ctx.data_opt::<RequestId>().cloned().unwrap_or_default(),
        }
    }

    /// The signed-in caller, or UNAUTHENTICATED.
    pub fn session(&self) -> async_graphql::Result<&'a Session> {
        self.session.ok_or_else(|| {
            self.err(AppError::Unauthenticated(
                "sign in first: send `Authorization: Bearer <access token>` (see the `login` mutation)".into(),
            ))
        })
    }

    pub fn err(&self, e: AppError) -> async_graphql::Error {
        to_gql(&e, &self.request)
    }

    /// Maps a use-case result for the client.
    pub fn ok<T>(&self, r: Result<T, AppError>) -> async_graphql::Result<T> {
        r.map_err(|e| self.err(e))
    }
}
