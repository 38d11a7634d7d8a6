//! `/settings`: how the organisation's people sign in (HR admins): single sign-on with an
//! OpenID Connect identity provider. The client secret can be replaced, never read back.

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::session::Signed;
use askama::Template;
use axum::extract::{Form, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rungs_app::Action;
use rungs_app::sso::{ProviderInput, ProviderSettings};
use serde::Deserialize;

/// The form's fields, as typed (kept when a save is refused).
#[derive(Deserialize, Default, Clone)]
pub(crate) struct SsoForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    scopes: String,
    #[serde(default)]
    email_claim: String,
    #[serde(default)]
    allowed_domains: String,
    #[serde(default)]
    admin_group_claim: String,
    #[serde(default)]
    admin_group_value: String,
    /// Checkboxes: present when ticked.
    passwords_allowed: Option<String>,
    create_people: Option<String>,
    #[serde(default)]
    api_audience: String,
}

impl SsoForm {
    fn of(p: &ProviderSettings) -> Self {
        let (claim, value) = p
            .admin_group
            .as_ref()
            .map(|g| (g.claim.clone(), g.value.clone()))
            .unwrap_or_default();
        Self {
            csrf: String::new(),
            name: p.name.clone(),
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            client_secret: String::new(),
            scopes: p.scopes.join(" "),
            email_claim: p.email_claim.clone(),
            allowed_domains: p.allowed_domains.join(", "),
            admin_group_claim: claim,
            admin_group_value: value,
            passwords_allowed: p.passwords_allowed.then(|| "on".into()),
            create_people: p.create_people.then(|| "on".into()),
            api_audience: p.api_audience.clone().unwrap_or_default(),
        }
    }

    fn input(&self) -> ProviderInput {
        let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        ProviderInput {
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: opt(&self.client_secret).map(Into::into),
            scopes: vec![self.scopes.clone()],
            email_claim: opt(&self.email_claim),
            allowed_domains: vec![self.allowed_domains.clone()],
            admin_group_claim: opt(&self.admin_group_claim),
            admin_group_value: opt(&self.admin_group_value),
            passwords_allowed: self.passwords_allowed.is_some(),
            create_people: self.create_people.is_some(),
            api_audience: opt(&self.api_audience),
        }
    }
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    csrf: String,
    /// Where the provider must send people back.
    callback: String,
    configured: Option<ProviderSettings>,
    form: SsoForm,
    notice: Option<String>,
    problem: Option<String>,
    /// Where SCIM clients send their requests.
    scim_base: String,
    tokens: Vec<TokenRow>,
    /// A token just created: shown this once.
    new_token: Option<String>,
    token_problem: Option<String>,
}

/// A provisioning token as listed.
struct TokenRow {
    id: String,
    name: String,
    created: String,
    used: String,
    revoked: Option<String>,
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl From<rungs_domain::provisioning::ScimToken> for TokenRow {
    fn from(t: rungs_domain::provisioning::ScimToken) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            created: day(t.created_at),
            used: t.last_used_at.map_or_else(|| "never".to_owned(), day),
            revoked: t.revoked_at.map(day),
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct SettingsQuery {
    done: Option<String>,
}

fn callback(st: &crate::WebState, headers: &HeaderMap) -> String {
    format!(
        "{}/signin/callback",
        crate::pages::signin::base_url(st, headers)
    )
}

async fn page(
    st: &crate::WebState,
    s: &Signed,
    headers: &HeaderMap,
    configured: Option<ProviderSettings>,
    form: SsoForm,
) -> Result<SettingsPage, WebError> {
    let tokens = st
        .app
        .scim_tokens(&s.session.actor, s.session.org.slug.as_str())
        .await
        .map_err(WebError::read)?;
    let base = crate::pages::signin::base_url(st, headers);
    Ok(SettingsPage {
        layout: Layout::signed("Settings", s, "settings"),
        csrf: s.csrf.clone(),
        callback: callback(st, headers),
        configured,
        form,
        notice: None,
        problem: None,
        scim_base: format!("{base}/scim/v2"),
        tokens: tokens.into_iter().map(Into::into).collect(),
        new_token: None,
        token_problem: None,
    })
}

/// The settings as stored, with the provider's form filled from them.
async fn stored(
    st: &crate::WebState,
    s: &Signed,
    headers: &HeaderMap,
) -> Result<SettingsPage, WebError> {
    let configured = st
        .app
        .identity_provider(&s.session.actor, s.session.org.slug.as_str())
        .await
        .map_err(WebError::read)?;
    let form = configured.as_ref().map(SsoForm::of).unwrap_or(SsoForm {
        email_claim: "email".into(),
        scopes: "email profile".into(),
        passwords_allowed: Some("on".into()),
        ..Default::default()
    });
    page(st, s, headers, configured, form).await
}

/// `GET /settings`
pub(crate) async fn show(
    st: State,
    s: Signed,
    headers: HeaderMap,
    Query(q): Query<SettingsQuery>,
) -> Result<Response, WebError> {
    s.reader
        .may(Action::ConfigureSignIn)
        .map_err(WebError::read)?;
    let mut p = stored(&st, &s, &headers).await?;
    p.notice = match q.done.as_deref() {
        Some("saved") => Some("Single sign-on is saved: the sign-in page offers it now.".into()),
        Some("removed") => Some("Single sign-on is removed: people sign in with passwords.".into()),
        Some("revoked") => Some("The provisioning token is revoked.".into()),
        _ => None,
    };
    Ok(render(StatusCode::OK, &p))
}

/// `POST /settings/sso`: saves the identity provider (its discovery document must answer).
pub(crate) async fn save(
    st: State,
    s: Signed,
    headers: HeaderMap,
    Form(f): Form<SsoForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    s.reader
        .may(Action::ConfigureSignIn)
        .map_err(WebError::read)?;
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let outcome = st
        .app
        .set_identity_provider(actor, org, f.input())
        .await
        .map(|_| ())
        .map_err(WebError::refusal);
    match outcome {
        Ok(()) => Ok(Redirect::to("/settings?done=saved").into_response()),
        Err(Ok(why)) => {
            let configured = st
                .app
                .identity_provider(actor, org)
                .await
                .map_err(WebError::read)?;
            let mut form = f;
            // Never echoed back, even when typed.
            form.client_secret.clear();
            let mut p = page(&st, &s, &headers, configured, form).await?;
            p.problem = Some(why);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
        Err(Err(e)) => Err(e),
    }
}

/// `POST /settings/sso/remove`
pub(crate) async fn remove(
    st: State,
    s: Signed,
    Form(f): Form<crate::session::CsrfForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    st.app
        .remove_identity_provider(&s.session.actor, s.session.org.slug.as_str())
        .await
        .map_err(WebError::action)?;
    Ok(Redirect::to("/settings?done=removed").into_response())
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `POST /settings/scim/tokens`: creates a provisioning token and shows it this once.
pub(crate) async fn create_token(
    st: State,
    s: Signed,
    headers: HeaderMap,
    Form(f): Form<TokenForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let outcome = st
        .app
        .create_scim_token(&s.session.actor, s.session.org.slug.as_str(), &f.name)
        .await;
    match outcome {
        Ok((token, _)) => {
            let mut p = stored(&st, &s, &headers).await?;
            p.new_token = Some(token);
            Ok(render(StatusCode::OK, &p))
        }
        Err(e) => {
            let why = WebError::refusal(e)?;
            let mut p = stored(&st, &s, &headers).await?;
            p.token_problem = Some(why);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &p))
        }
    }
}

/// `POST /settings/scim/tokens/{id}/revoke`
pub(crate) async fn revoke_token(
    st: State,
    s: Signed,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(f): Form<crate::session::CsrfForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let id = id.parse::<uuid::Uuid>().map_err(|_| WebError::NotFound)?;
    st.app
        .revoke_scim_token(
            &s.session.actor,
            s.session.org.slug.as_str(),
            rungs_domain::ScimTokenId(id),
        )
        .await
        .map_err(WebError::action)?;
    Ok(Redirect::to("/settings?done=revoked").into_response())
}
