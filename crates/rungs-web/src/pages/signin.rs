//! Signing in and out.

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::session::{
    ORG_COOKIE, SESSION_COOKIE, SIGNIN_COOKIE, Signed, cookie, removal, same_secret, secure,
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
    let page = SignInPage {
        layout: Layout::plain("Sign in"),
        csrf: String::new(),
        next: safe_next(q.next.as_deref().unwrap_or("")).to_owned(),
        email: String::new(),
        organisation: offered_organisation(&q, &jar),
        notice,
        error: None,
    };
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
            let life = st.app.web_session_lifetime();
            let jar = jar
                .add(cookie(
                    SESSION_COOKIE,
                    token,
                    secure(&st, &headers),
                    life.absolute,
                ))
                .add(cookie(
                    ORG_COOKIE,
                    organisation.trim().to_lowercase(),
                    secure(&st, &headers),
                    chrono::Duration::days(REMEMBER_ORG_DAYS),
                ))
                .add(removal(SIGNIN_COOKIE));
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
    };
    form_page(&st, &headers, status, page)
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// `POST /signout`: ends the session on the server and forgets the cookie.
pub(crate) async fn sign_out(
    st: State,
    s: Signed,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
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
