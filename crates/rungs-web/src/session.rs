//! The browser's side of a session: the cookie, the signed-in extractor, and CSRF checks.
//!
//! - The session cookie holds a random token (the server keeps its hash, its person, its CSRF
//!   token and its idle and absolute ends). It is `HttpOnly`, `SameSite=Lax`, and `Secure`
//!   behind TLS.
//! - Every state-changing form of a signed-in page carries the session's CSRF token (a hidden
//!   `_csrf` field, compared in constant time). Sign-in, before any session, uses a
//!   double-submitted token: a short-lived cookie and the same value in the form.
//! - Any request whose `Origin` (or `Sec-Fetch-Site`) says it came from another site is
//!   refused before it reaches a handler (`same_origin`).

use crate::WebState;
use crate::error::WebError;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use rungs_app::Reader;
use rungs_app::auth::Session;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rungs_session";
/// The sign-in form's double-submit cookie.
pub(crate) const SIGNIN_COOKIE: &str = "rungs_signin";
/// The organisation last signed in to from this browser (its slug, not a secret), so the
/// sign-in form can offer it again.
pub(crate) const ORG_COOKIE: &str = "rungs_org";
/// A single sign-on under way: its state, nonce, PKCE verifier and where to go after.
pub(crate) const SSO_COOKIE: &str = "rungs_sso";

/// A form that carries nothing but its CSRF token (a button: sign out, start, revoke…).
#[derive(serde::Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

/// A signed-in request: who is asking, their CSRF token, and a reader for their organisation.
pub(crate) struct Signed {
    pub session: Session,
    pub csrf: String,
    pub reader: Reader,
    /// Whether anyone reports to them (the navigation offers their team).
    pub has_reports: bool,
}

impl Signed {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, presented: &str) -> Result<(), WebError> {
        if same_secret(&self.csrf, presented) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

pub(crate) fn same_secret(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// Whether cookies set in answer to this request must be `Secure`.
pub(crate) fn secure(st: &WebState, headers: &HeaderMap) -> bool {
    st.cfg.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A cookie of this app: HttpOnly, SameSite=Lax, for the whole site.
pub(crate) fn cookie(
    name: &'static str,
    value: String,
    secure: bool,
    max_age: chrono::Duration,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age.num_seconds()))
        .build()
}

/// A cookie that removes `name` from the browser.
pub(crate) fn removal(name: &'static str) -> Cookie<'static> {
    Cookie::build((name, ""))
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
}

/// Where a signed-out visitor is sent: the sign-in page, then back to what they asked for.
fn to_signin(parts: &Parts, ended: bool) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .filter(|p| *p != "/" && parts.method == Method::GET)
        .unwrap_or("");
    let mut url = String::from("/signin");
    let mut sep = '?';
    if ended {
        url.push_str("?ended=1");
        sep = '&';
    }
    if !next.is_empty() {
        url.push(sep);
        url.push_str("next=");
        url.push_str(&urlencode(next));
    }
    let jar = CookieJar::new();
    let jar = if ended {
        jar.add(removal(SESSION_COOKIE))
    } else {
        jar
    };
    let mut res = (jar, Redirect::to(&url)).into_response();
    if parts.headers.contains_key("hx-request") {
        // htmx follows redirects inside the page; ask it to load the sign-in page instead.
        res.headers_mut().insert(
            "hx-redirect",
            url.parse()
                .unwrap_or(header::HeaderValue::from_static("/signin")),
        );
    }
    res
}

/// Percent-encodes a path for a query parameter.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl FromRequestParts<Arc<WebState>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &Arc<WebState>,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Err(to_signin(parts, false));
        };
        match st.app.web_session(&token).await {
            Ok((session, web)) => {
                let reader = st
                    .app
                    .session_reader(&session)
                    .map_err(|e| WebError::read(e).into_response())?;
                let has_reports = reader
                    .has_reports()
                    .await
                    .map_err(|e| WebError::read(e).into_response())?;
                Ok(Signed {
                    session,
                    csrf: web.csrf_token,
                    reader,
                    has_reports,
                })
            }
            Err(rungs_app::AppError::Unauthenticated(_)) => Err(to_signin(parts, true)),
            Err(e) => Err(WebError::read(e).into_response()),
        }
    }
}

/// Refuses a state-changing request that a browser says came from another site: its `Origin`
/// is not this host, or `Sec-Fetch-Site` is `cross-site`. (The CSRF token is still checked.)
pub(crate) async fn same_origin(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let h = req.headers();
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_ok = match (h.get(header::ORIGIN).and_then(|v| v.to_str().ok()), host) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    };
    let site_ok = h
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v != "cross-site");
    if origin_ok && site_ok {
        next.run(req).await
    } else {
        WebError::Csrf.into_response()
    }
}

/// The status of a refused CSRF check.
pub(crate) const CSRF_STATUS: StatusCode = StatusCode::FORBIDDEN;
