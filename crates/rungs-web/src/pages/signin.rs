//! Signing in and out.

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::session::{
    ORG_COOKIE, SESSION_COOKIE, SIGNIN_COOKIE, SSO_COOKIE, Signed, cookie, removal, same_secret,
    secure, urlencode,
};
use askama::Template;
use axum::extract::{Form, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rungs_app::AppError;
use secrecy::SecretString;
use serde::Deserialize;

/// How long a sign-in form stays usable.
const FORM_MINUTES: i64 = 30;
/// How long a browser remembers the organisation it signed in to.
const REMEMBER_ORG_DAYS: i64 = 400;
/// How long a sign-in at the identity provider may take before coming back.
const SSO_MINUTES: i64 = 10;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    layout: Layout,
    csrf: String,
    next: String,
    email: String,
    organisation: String,
    /// Why the visitor is here, or what went wrong.
    notice: Option<String>,
    error: Option<String>,
    /// The organisation's single sign-on, when it has one: the provider's name and the link.
    sso: Option<(String, String)>,
    /// Whether the password form is offered.
    passwords: bool,
    /// After signing out of an organisation with single sign-on: the provider's name and its
    /// end-session link.
    provider_sign_out: Option<(String, String)>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct SignInQuery {
    next: Option<String>,
    /// The organisation to offer (a link HR shares: `/signin?org=acme`).
    org: Option<String>,
    ended: Option<String>,
    signed_out: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    email: String,
    password: String,
    #[serde(default)]
    organisation: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: a path of this site, never another site.
fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok { next } else { "/" }
}

fn random_token() -> Result<String, WebError> {
    let mut bytes = [0u8; 32];
    rungs_app::auth::random_bytes(&mut bytes).map_err(WebError::action)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// This server's own address as the browser sees it: the configured public URL, else the
/// request's host (and `X-Forwarded-Proto` from a proxy).
pub(crate) fn base_url(st: &crate::WebState, headers: &HeaderMap) -> String {
    if let Some(u) = &st.cfg.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if secure(st, headers) { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Where the identity provider sends the browser back to.
fn callback_url(st: &crate::WebState, headers: &HeaderMap) -> String {
    format!("{}/signin/callback", base_url(st, headers))
}

/// Fills in what the organisation offers: its single sign-on link, and whether passwords are
/// still allowed.
async fn with_options(st: &crate::WebState, mut page: SignInPage) -> SignInPage {
    if page.organisation.is_empty() {
        return page;
    }
    // A provider that cannot be looked up now leaves the password form, never an error page.
    if let Ok(Some(o)) = st.app.sign_in_options(&page.organisation).await {
        let mut link = format!("/signin/sso?org={}", urlencode(&page.organisation));
        if !page.next.is_empty() && page.next != "/" {
            link.push_str("&next=");
            link.push_str(&urlencode(&page.next));
        }
        page.sso = Some((o.provider, link));
        page.passwords = o.passwords_allowed;
    }
    page
}

/// Renders the form with a fresh double-submit token.
fn form_page(
    st: &crate::WebState,
    headers: &HeaderMap,
    status: StatusCode,
    mut page: SignInPage,
) -> Result<Response, WebError> {
    let token = random_token()?;
    page.csrf = token.clone();
    let jar = CookieJar::new().add(cookie(
        SIGNIN_COOKIE,
        token,
        secure(st, headers),
        chrono::Duration::minutes(FORM_MINUTES),
    ));
    Ok((jar, render(status, &page)).into_response())
}

/// The organisation the form offers: the link's, else the one this browser last signed in
/// to. Only a well-formed slug is echoed back.
fn offered_organisation(q: &SignInQuery, jar: &CookieJar) -> String {
    [q.org.as_deref(), jar.get(ORG_COOKIE).map(|c| c.value())]
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_lowercase())
        .find(|s| rungs_domain::org::Slug::parse(s).is_ok())
        .unwrap_or_default()
}

/// `GET /signin`
pub(crate) async fn form(
    st: State,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<SignInQuery>,
) -> Result<Response, WebError> {
    let notice = if q.ended.is_some() {
        Some("Your session has ended. Please sign in again.".to_owned())
    } else if q.signed_out.is_some() {
        Some("You are signed out.".to_owned())
    } else {
        None
    };
    let organisation = offered_organisation(&q, &jar);
    let provider_sign_out = if q.signed_out.is_some() && !organisation.is_empty() {
        let back = format!("{}/signin?signed_out=1", base_url(&st, &headers));
        st.app
            .sso_end_session_url(&organisation, &back)
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let page = SignInPage {
        layout: Layout::plain("Sign in"),
        csrf: String::new(),
        next: safe_next(q.next.as_deref().unwrap_or("")).to_owned(),
        email: String::new(),
        organisation,
        notice,
        error: None,
        sso: None,
        passwords: true,
        provider_sign_out,
    };
    let page = with_options(&st, page).await;
    form_page(&st, &headers, StatusCode::OK, page)
}

/// `POST /signin`
pub(crate) async fn submit(
    st: State,
    headers: HeaderMap,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    jar: CookieJar,
    Form(f): Form<SignInForm>,
) -> Result<Response, WebError> {
    let expected = jar.get(SIGNIN_COOKIE).map(|c| c.value()).unwrap_or("");
    if !same_secret(expected, &f.csrf) {
        return Err(WebError::Csrf);
    }
    let organisation = f.organisation.trim();
    let outcome = st
        .app
        .web_sign_in(
            organisation,
            f.email.trim(),
            SecretString::from(f.password),
            peer.map(|axum::Extension(axum::extract::ConnectInfo(p))| {
                let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
                st.app.client_address(p.ip(), forwarded)
            }),
        )
        .await;
    let (status, error) = match outcome {
        Ok((token, _)) => {
            let jar =
                signed_in(&st, &headers, jar, token, organisation).add(removal(SIGNIN_COOKIE));
            return Ok((jar, Redirect::to(safe_next(&f.next))).into_response());
        }
        Err(AppError::Unauthenticated(m)) => (StatusCode::UNAUTHORIZED, m),
        Err(e) => return Err(WebError::action(e)),
    };
    let page = SignInPage {
        layout: Layout::plain("Sign in"),
        csrf: String::new(),
        next: safe_next(&f.next).to_owned(),
        email: f.email,
        organisation: organisation.to_owned(),
        notice: None,
        error: Some(error),
        sso: None,
        passwords: true,
        provider_sign_out: None,
    };
    let page = with_options(&st, page).await;
    form_page(&st, &headers, status, page)
}

/// Sets the session cookie (and remembers the organisation) once someone is signed in.
fn signed_in(
    st: &crate::WebState,
    headers: &HeaderMap,
    jar: CookieJar,
    token: String,
    organisation: &str,
) -> CookieJar {
    let life = st.app.web_session_lifetime();
    jar.add(cookie(
        SESSION_COOKIE,
        token,
        secure(st, headers),
        life.absolute,
    ))
    .add(cookie(
        ORG_COOKIE,
        organisation.trim().to_lowercase(),
        secure(st, headers),
        chrono::Duration::days(REMEMBER_ORG_DAYS),
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SsoQuery {
    #[serde(default)]
    org: String,
    #[serde(default)]
    next: String,
}

/// `GET /signin/sso?org=…`: leaves for the organisation's identity provider (a link, not a
/// form: the page's `form-action 'self'` would stop a form's redirect to another site).
pub(crate) async fn sso_start(
    st: State,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<SsoQuery>,
) -> Result<Response, WebError> {
    let next = safe_next(&q.next);
    match st
        .app
        .sso_begin(&q.org, &callback_url(&st, &headers), next)
        .await
    {
        Ok(start) => {
            let kept = serde_json::to_vec(&start.pending)
                .map(|v| URL_SAFE_NO_PAD.encode(v))
                .map_err(|e| WebError::action(AppError::Internal(e.to_string().into())))?;
            let jar = jar.add(cookie(
                SSO_COOKIE,
                kept,
                secure(&st, &headers),
                chrono::Duration::minutes(SSO_MINUTES),
            ));
            Ok((jar, Redirect::to(&start.url)).into_response())
        }
        Err(AppError::Unauthenticated(m)) => sso_refused(&st, &headers, &q.org, next, m).await,
        Err(e) => Err(WebError::action(e)),
    }
}

/// The sign-in page again, saying why single sign-on did not sign the visitor in.
async fn sso_refused(
    st: &crate::WebState,
    headers: &HeaderMap,
    organisation: &str,
    next: &str,
    error: String,
) -> Result<Response, WebError> {
    let page = SignInPage {
        layout: Layout::plain("Sign in"),
        csrf: String::new(),
        next: next.to_owned(),
        email: String::new(),
        organisation: organisation.trim().to_lowercase(),
        notice: None,
        error: Some(error),
        sso: None,
        passwords: true,
        provider_sign_out: None,
    };
    let page = with_options(st, page).await;
    let res = form_page(st, headers, StatusCode::UNAUTHORIZED, page)?;
    Ok((CookieJar::new().add(removal(SSO_COOKIE)), res).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /signin/callback`: the identity provider sends the browser back here with a code (or
/// an error). The `state` must be the one this browser left with.
pub(crate) async fn sso_callback(
    st: State,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    let pending: Option<rungs_app::sso::PendingSignIn> = jar
        .get(SSO_COOKIE)
        .and_then(|c| URL_SAFE_NO_PAD.decode(c.value()).ok())
        .and_then(|v| serde_json::from_slice(&v).ok());
    let Some(pending) = pending else {
        let org = jar
            .get(ORG_COOKIE)
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        return sso_refused(
            &st,
            &headers,
            &org,
            "/",
            "This sign-in was not started from this browser, or took too long: sign in again."
                .into(),
        )
        .await;
    };
    let next = safe_next(&pending.next).to_owned();
    let refuse = |m: String| sso_refused(&st, &headers, &pending.org, &next, m);
    if !same_secret(&pending.state, q.state.as_deref().unwrap_or("")) {
        return refuse(
            "This answer from the identity provider does not belong to this sign-in: sign in again."
                .into(),
        )
        .await;
    }
    if let Some(e) = q.error {
        let why = q.error_description.unwrap_or(e);
        return refuse(format!("The identity provider did not sign you in: {why}")).await;
    }
    let Some(code) = q.code else {
        return refuse("The identity provider sent no code: sign in again.".into()).await;
    };
    match st
        .app
        .sso_finish(&pending, &code, &callback_url(&st, &headers))
        .await
    {
        Ok((token, _)) => {
            let jar = signed_in(&st, &headers, jar, token, &pending.org).add(removal(SSO_COOKIE));
            Ok((jar, Redirect::to(&next)).into_response())
        }
        Err(AppError::Unauthenticated(m)) => refuse(m).await,
        Err(e) => Err(WebError::action(e)),
    }
}

/// `POST /signout`: ends the session on the server and forgets the cookie.
pub(crate) async fn sign_out(
    st: State,
    s: Signed,
    jar: CookieJar,
    Form(f): Form<crate::session::CsrfForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    if let Some(token) = jar.get(SESSION_COOKIE) {
        st.app
            .web_sign_out(token.value())
            .await
            .map_err(WebError::action)?;
    }
    let jar = jar.add(removal(SESSION_COOKIE));
    Ok((jar, Redirect::to("/signin?signed_out=1")).into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_of_this_site_are_followed_after_signing_in() {
        assert_eq!(safe_next("/growth?x=1"), "/growth?x=1");
        for bad in [
            "https://evil.test/",
            "//evil.test",
            "/\\evil.test",
            "",
            "growth",
            "/a\nb",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
