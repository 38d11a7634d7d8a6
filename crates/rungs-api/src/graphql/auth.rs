//! `login`, `refresh` and `logout`: the only fields an anonymous caller may use.

use super::Ctx;
use super::types::AuthPayload;
use async_graphql::{Context, Object, Result};
use rungs_app::Actor;

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The API's version, for clients checking what they talk to. Needs no sign-in.
    async fn api_version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Signs in to one organisation, named by its slug. Only that organisation's people are
    /// looked at: a wrong organisation, email or password and a locked account answer alike.
    async fn login(
        &self,
        ctx: &Context<'_>,
        organisation: String,
        email: String,
        #[graphql(secret)] password: String,
    ) -> Result<AuthPayload> {
        let c = Ctx::of(ctx);
        let secret = secrecy::SecretString::from(password);
        let client = ctx.data_opt::<crate::http::ClientAddr>().map(|a| a.0);
        let tokens = c.ok(c.app.login(&organisation, &email, secret, client).await)?;
        // The signed-in person as they would read themselves (with manager and level).
        let actor = Actor::Person {
            id: tokens.person.id,
            org: tokens.org.id,
            is_admin: tokens.person.is_admin,
        };
        let me = c.ok(c
            .app
            .person_view(&actor, tokens.org.slug.as_str(), tokens.person.id)
            .await)?;
        let mut payload = AuthPayload::from(tokens);
        payload.person = me.into();
        Ok(payload)
    }

    /// Exchanges a refresh token for new tokens. The old one stops working; presenting it
    /// again revokes every session from the same sign-in.
    async fn refresh(&self, ctx: &Context<'_>, token: String) -> Result<AuthPayload> {
        let c = Ctx::of(ctx);
        Ok(c.ok(c.app.refresh(&token).await)?.into())
    }

    /// Signs out: revokes the refresh token and every token from the same sign-in.
    async fn logout(&self, ctx: &Context<'_>, token: String) -> Result<bool> {
        let c = Ctx::of(ctx);
        c.ok(c.app.logout(&token).await)
    }
}
