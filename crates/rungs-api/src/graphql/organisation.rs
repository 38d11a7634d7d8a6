//! `me` and `organisation`: who the caller is and where.

use super::Ctx;
use super::types::{Organisation, Person};
use async_graphql::{Context, Object, Result};

#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// The signed-in person.
    async fn me(&self, ctx: &Context<'_>) -> Result<Person> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let view = c.ok(c
            .app
            .person_view(&s.actor, s.org.slug.as_str(), s.person.id)
            .await)?;
        Ok(view.into())
    }

    /// The caller's organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let org = c.ok(c.app.organisation(&s.actor, s.org.slug.as_str()).await)?;
        Ok(org.into())
    }
}
