//! `me` and `organisation`: who the caller is and where.

use super::Ctx;
use super::graph::reader;
use super::types::{Organisation, Person};
use async_graphql::{Context, Object, Result};
use rungs_app::Reader;

#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// The signed-in person (read with the session; the fields about them load on demand).
    async fn me(&self, ctx: &Context<'_>) -> Result<Person> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let mut me = Person::from(s.person.clone());
        // Asked for here, the position is the one authentication read (kept only when the
        // request writes nothing), or else read at once rather than through a batch.
        if ctx.look_ahead().field("current").exists() {
            me.known_current = Some(match &s.read_with {
                Some(known) => known.position.clone(),
                None => c.ok(reader(ctx)?.one(s.person.id, Reader::current).await)?,
            });
        }
        Ok(me)
    }

    /// The caller's organisation (read with the session).
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        Ok(reader(ctx)?.org().clone().into())
    }
}
