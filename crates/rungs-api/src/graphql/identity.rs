//! `identityProvider`, `setIdentityProvider` and `removeIdentityProvider`: the organisation's
//! single sign-on (HR admins). The client secret goes in and never comes out.

use super::Ctx;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use rungs_app::sso::{ProviderInput, ProviderSettings};

/// The organisation's OpenID Connect identity provider, as HR sees it (never the secret).
#[derive(SimpleObject)]
pub struct IdentityProvider {
    /// What the sign-in button names: "Sign in with {name}".
    name: String,
    issuer: String,
    client_id: String,
    /// Whether a client secret is stored (it is never returned).
    has_client_secret: bool,
    /// Scopes asked for besides `openid`.
    scopes: Vec<String>,
    /// The ID token claim that carries the email.
    email_claim: String,
    /// Email domains that may sign in this way; empty: any.
    allowed_domains: Vec<String>,
    /// The claim, and the value in it, that makes a person an HR admin (set at each sign-in).
    admin_group_claim: Option<String>,
    admin_group_value: Option<String>,
    passwords_allowed: bool,
    /// Whether an unknown verified email creates a person at their first sign-in.
    create_people: bool,
    /// The audience the provider's access tokens must carry to be accepted by this API.
    api_audience: Option<String>,
    updated_at: DateTime<Utc>,
}

impl From<ProviderSettings> for IdentityProvider {
    fn from(p: ProviderSettings) -> Self {
        let (admin_group_claim, admin_group_value) = match p.admin_group {
            Some(g) => (Some(g.claim), Some(g.value)),
            None => (None, None),
        };
        Self {
            name: p.name,
            issuer: p.issuer,
            client_id: p.client_id,
            has_client_secret: p.has_client_secret,
            scopes: p.scopes,
            email_claim: p.email_claim,
            allowed_domains: p.allowed_domains,
            admin_group_claim,
            admin_group_value,
            passwords_allowed: p.passwords_allowed,
            create_people: p.create_people,
            api_audience: p.api_audience,
            updated_at: p.updated_at,
        }
    }
}

#[derive(InputObject)]
pub struct IdentityProviderInput {
    name: String,
    /// The issuer identifier: `https://…` (its discovery document must answer).
    issuer: String,
    client_id: String,
    /// Omit to keep the stored secret (for the same client id).
    #[graphql(secret)]
    client_secret: Option<String>,
    /// Besides `openid`; empty: `email profile`.
    #[graphql(default)]
    scopes: Vec<String>,
    /// Default `email`.
    email_claim: Option<String>,
    #[graphql(default)]
    allowed_domains: Vec<String>,
    admin_group_claim: Option<String>,
    admin_group_value: Option<String>,
    #[graphql(default = true)]
    passwords_allowed: bool,
    #[graphql(default)]
    create_people: bool,
    api_audience: Option<String>,
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The organisation's identity provider, if it has one (HR admins).
    async fn identity_provider(&self, ctx: &Context<'_>) -> Result<Option<IdentityProvider>> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        Ok(
            c.ok(c.app.identity_provider(&s.actor, s.org.slug.as_str()).await)?
                .map(Into::into),
        )
    }
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Sets (or replaces) the organisation's identity provider (HR admins). Its discovery
    /// document is fetched first; the provider must send people back to
    /// `<this server>/signin/callback`.
    async fn set_identity_provider(
        &self,
        ctx: &Context<'_>,
        input: IdentityProviderInput,
    ) -> Result<IdentityProvider> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let input = ProviderInput {
            name: input.name,
            issuer: input.issuer,
            client_id: input.client_id,
            client_secret: input.client_secret.map(Into::into),
            scopes: input.scopes,
            email_claim: input.email_claim,
            allowed_domains: input.allowed_domains,
            admin_group_claim: input.admin_group_claim,
            admin_group_value: input.admin_group_value,
            passwords_allowed: input.passwords_allowed,
            create_people: input.create_people,
            api_audience: input.api_audience,
        };
        Ok(c.ok(c
            .app
            .set_identity_provider(&s.actor, s.org.slug.as_str(), input)
            .await)?
            .into())
    }

    /// Removes the organisation's identity provider: people sign in with passwords again.
    async fn remove_identity_provider(&self, ctx: &Context<'_>) -> Result<bool> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        c.ok(c
            .app
            .remove_identity_provider(&s.actor, s.org.slug.as_str())
            .await)?;
        Ok(true)
    }
}

/// A provisioning token for SCIM (never the token itself, after its creation).
#[derive(SimpleObject)]
pub struct ScimToken {
    id: async_graphql::ID,
    name: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<rungs_domain::provisioning::ScimToken> for ScimToken {
    fn from(t: rungs_domain::provisioning::ScimToken) -> Self {
        Self {
            id: t.id.to_string().into(),
            name: t.name,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A new provisioning token: `token` is shown this once (only its hash is kept).
#[derive(SimpleObject)]
pub struct NewScimToken {
    token: String,
    record: ScimToken,
}

#[derive(Default)]
pub struct ProvisioningQuery;

#[Object]
impl ProvisioningQuery {
    /// The organisation's SCIM provisioning tokens, newest first (HR admins).
    async fn scim_tokens(&self, ctx: &Context<'_>) -> Result<Vec<ScimToken>> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        Ok(
            c.ok(c.app.scim_tokens(&s.actor, s.org.slug.as_str()).await)?
                .into_iter()
                .map(Into::into)
                .collect(),
        )
    }
}

#[derive(Default)]
pub struct ProvisioningMutation;

#[Object]
impl ProvisioningMutation {
    /// Creates a SCIM provisioning token (HR admins). The identity provider sends it as
    /// `Authorization: Bearer …` to `/scim/v2`.
    async fn create_scim_token(&self, ctx: &Context<'_>, name: String) -> Result<NewScimToken> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let (token, t) = c.ok(c
            .app
            .create_scim_token(&s.actor, s.org.slug.as_str(), &name)
            .await)?;
        Ok(NewScimToken {
            token,
            record: t.into(),
        })
    }

    /// Revokes a SCIM provisioning token: requests carrying it are refused from the next one.
    async fn revoke_scim_token(&self, ctx: &Context<'_>, id: async_graphql::ID) -> Result<bool> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let id = id.parse::<uuid::Uuid>().map_err(|_| {
            c.err(rungs_app::AppError::NotFound(format!(
                "provisioning token {}",
                id.as_str()
            )))
        })?;
        c.ok(c
            .app
            .revoke_scim_token(&s.actor, s.org.slug.as_str(), rungs_domain::ScimTokenId(id))
            .await)?;
        Ok(true)
    }
}
