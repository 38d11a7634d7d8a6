//! What a page answers when something is wrong: a missing or foreign record is the same plain
//! 404 page; a refused action says why; an internal error says nothing of its cause (it is
//! logged). Handlers only say which error it is; `error_pages` renders it, with the
//! navigation of the session when there is one, so an error page is never a dead end.

use crate::pages::Layout;
use askama::Template;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use rungs_app::AppError;

#[derive(Debug)]
pub(crate) enum WebError {
    /// No such page or record, or one the caller may not see: the same answer.
    NotFound,
    /// An action the caller may not take, with the reason.
    Refused(String),
    /// A form that did not make sense, with what to fix.
    Invalid(String),
    /// A state-changing request without this session's CSRF token, or from another site.
    Csrf,
    /// The database cannot be reached now.
    Unavailable,
    /// The database has no room to write: nothing was saved.
    StorageFull,
    /// Too many requests of this kind, with what to do and how many seconds to wait.
    Busy(String, u64),
    /// The work took too long and was stopped.
    TimedOut,
    Internal,
}

impl WebError {
    /// An error of a read: whatever the caller may not read does not exist for them.
    pub fn read(e: AppError) -> Self {
        match e {
            AppError::NotFound(_) | AppError::Forbidden(_) => Self::NotFound,
            other => Self::action(other),
        }
    }

    /// Why an action was refused, for the form to show again (a refusal or a value that did
    /// not make sense); anything else stays an error page.
    pub fn refusal(e: AppError) -> Result<String, Self> {
        match Self::action(e) {
            Self::Invalid(why) | Self::Refused(why) => Ok(why),
            other => Err(other),
        }
    }

    /// An error of an action: a refusal says why.
    pub fn action(e: AppError) -> Self {
        match e {
            AppError::NotFound(_) => Self::NotFound,
            AppError::Forbidden(m) => Self::Refused(m),
            AppError::Invalid(m) | AppError::Conflict(m) | AppError::StateConflict(m) => {
                Self::Invalid(m)
            }
            AppError::InvalidFile(f) => Self::Invalid(f.to_string()),
            AppError::Unauthenticated(m) => Self::Refused(m),
            AppError::Unavailable => Self::Unavailable,
            AppError::StorageFull => Self::StorageFull,
            AppError::RateLimited {
                message,
                retry_after,
            } => Self::Busy(message, retry_after),
            AppError::TimedOut => Self::TimedOut,
            AppError::Internal(cause) => {
                tracing::error!(error = %cause, "web request failed");
                Self::Internal
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: String,
}

/// An error to be rendered as a page (by [`error_pages`]).
#[derive(Clone)]
struct ErrorPageOf {
    heading: &'static str,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            Self::Busy(_, secs) => *secs,
            _ => 5,
        };
        let (status, heading, message) = match self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is no such page, or it is not yours to see.".to_owned(),
            ),
            Self::Refused(why) => (StatusCode::FORBIDDEN, "Not allowed", why),
            Self::Invalid(why) => (StatusCode::UNPROCESSABLE_ENTITY, "Please check", why),
            Self::Csrf => (
                crate::session::CSRF_STATUS,
                "Form expired",
                "This form was not sent from this session's page. Go back, reload the page and try again.".to_owned(),
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again in a moment",
                "Rungs cannot reach its database right now. Please try again in a moment.".to_owned(),
            ),
            Self::StorageFull => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Not saved",
                "Rungs' database has no room to write right now, so nothing was saved. Please try again later; your administrator has been alerted in the logs.".to_owned(),
            ),
            Self::Busy(why, _) => (StatusCode::TOO_MANY_REQUESTS, "Please wait", why),
            Self::TimedOut => (
                StatusCode::SERVICE_UNAVAILABLE,
                "This took too long",
                "This page took too long to prepare and was stopped. Please try again in a moment.".to_owned(),
            ),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side; it has been logged. Please try again.".to_owned(),
            ),
        };
        let mut res = status.into_response();
        if matches!(
            status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        ) {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after),
            );
        }
        res.extensions_mut()
            .insert(ErrorPageOf { heading, message });
        res
    }
}

/// Renders the error pages of the routes inside it, with the session's navigation when the
/// request has a live session (looked up only for an error).
pub(crate) async fn error_pages(st: crate::State, req: Request, next: Next) -> Response {
    let token = CookieJar::from_headers(req.headers())
        .get(crate::session::SESSION_COOKIE)
        .map(|c| c.value().to_owned());
    let res = next.run(req).await;
    let Some(page) = res.extensions().get::<ErrorPageOf>().cloned() else {
        return res;
    };
    let session = match token {
        Some(t) => st.app.web_session(&t).await.ok(),
        None => None,
    };
    let layout = match &session {
        Some((s, web)) => Layout::of_session(page.heading, s, &web.csrf_token, ""),
        None => Layout::plain(page.heading),
    };
    let (mut parts, _) = res.into_parts();
    let mut rendered = render(
        parts.status,
        &ErrorPage {
            layout,
            heading: page.heading,
            message: page.message,
        },
    );
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    for (k, v) in &parts.headers {
        rendered.headers_mut().insert(k.clone(), v.clone());
    }
    rendered
}

/// Renders a template as a page with `status` (or a bare 500 when rendering fails).
pub(crate) fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}
