//! The pages, one module per area, and what every page shares (the layout).

pub(crate) mod analytics;
pub(crate) mod audit;
pub(crate) mod explore;
pub(crate) mod growth;
pub(crate) mod history;
pub(crate) mod import;
pub(crate) mod manage;
pub(crate) mod matrices;
pub(crate) mod matrix;
pub(crate) mod moves;
pub(crate) mod people;
pub(crate) mod promotions;
pub(crate) mod settings;
pub(crate) mod signin;
pub(crate) mod team;

use crate::assets::{Urls, urls};
use crate::error::WebError;
use crate::session::Signed;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

/// What the layout of every page needs.
pub(crate) struct Layout {
    pub title: String,
    pub urls: Urls,
    /// The signed-in person, for the navigation and the sign-out form.
    pub me: Option<Nav>,
}

pub(crate) struct Nav {
    pub name: String,
    pub org: String,
    pub csrf: String,
    /// The page the navigation marks as current (`aria-current`).
    pub current: &'static str,
    pub has_reports: bool,
    /// HR admins get the organisation's pages (People).
    pub is_admin: bool,
}

impl Layout {
    /// A page outside a session (sign-in, errors).
    pub fn plain(title: &str) -> Self {
        Self {
            title: title.to_owned(),
            urls: urls(),
            me: None,
        }
    }

    /// A page of a signed-in person.
    pub fn signed(title: &str, s: &Signed, current: &'static str) -> Self {
        let mut l = Self::of_session(title, &s.session, &s.csrf, current);
        if let Some(nav) = &mut l.me {
            nav.has_reports = s.has_reports;
        }
        l
    }

    pub fn of_session(
        title: &str,
        session: &rungs_app::auth::Session,
        csrf: &str,
        current: &'static str,
    ) -> Self {
        Self {
            title: title.to_owned(),
            urls: urls(),
            me: Some(Nav {
                name: session.person.display_name.clone(),
                org: session.org.name.clone(),
                csrf: csrf.to_owned(),
                current,
                has_reports: false,
                is_admin: session.person.is_admin,
            }),
        }
    }
}

/// `/`: one's home page: a manager's team, everyone else's growth (signed-out visitors are
/// sent to sign in).
pub(crate) async fn home(s: Signed) -> Response {
    Redirect::to(if s.has_reports { "/team" } else { "/growth" }).into_response()
}

/// Any other path: the 404 page for browsers, a bare 404 for API clients (which the API's
/// error layer turns into its JSON error).
pub(crate) async fn not_found(headers: HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        WebError::NotFound.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

/// A date field (`YYYY-MM-DD`; `None` when empty), or what to tell the visitor.
pub(crate) fn date_field(raw: &str) -> Result<Option<chrono::NaiveDate>, String> {
    match raw.trim() {
        "" => Ok(None),
        d => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("`{d}` is not a date: use YYYY-MM-DD")),
    }
}

/// The person of the caller's organisation with `email`; when there is none (or the email is
/// not one), `Invalid` with a sentence for the page. The filters and forms that name a person
/// by email all ask here.
pub(crate) async fn person_by_email(
    st: &crate::WebState,
    s: &Signed,
    email: &str,
) -> Result<rungs_domain::person::Person, rungs_app::AppError> {
    use rungs_app::AppError;
    match st
        .app
        .person_by_email(&s.session.actor, s.session.org.slug.as_str(), email)
        .await
    {
        Err(AppError::NotFound(_) | AppError::Invalid(_)) => Err(AppError::Invalid(format!(
            "No one in this organisation has the email {email}"
        ))),
        found => found,
    }
}

/// Whether htmx sent the request (it then wants a fragment, not a page).
pub(crate) fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}
