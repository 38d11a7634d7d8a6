//! `me` and `organisation`: who the caller is and where.

use super::Ctx;
use super::graph::reader;
use super::types::{Organisation, Person};
use async_graphql::{Context, Object, Result};

#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// The signed-in person (read with the session; the fields about them load on demand).
    async fn me(&self, ctx: &Context<'_>) -> Result<Person> {
        let s = Ctx::of(ctx).session()?;
        Ok(s.person.clone().into())
    }

    /// The caller's organisation (read with the session).
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        Ok(reader(ctx)?.org().clone().into())
    }
}
