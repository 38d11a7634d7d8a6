//! The Rungs web app: pages rendered on the server (askama templates, checked at compile time)
//! over the same `rungs-app` use cases and policy as the GraphQL API, enhanced by a vendored
//! htmx served from the binary. Every page reads and every form submits with JavaScript off.
//!
//! Handlers are thin: they read the session, parse the form, call a use case with the session's
//! actor and render. Sessions live in the database (`rungs_app::App::web_session`); the cookie
//! holds only a random token. Every state-changing request carries the session's CSRF token.

mod assets;
mod charts;
mod error;
mod pages;
mod session;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use rungs_app::App;
use std::sync::Arc;

pub use session::SESSION_COOKIE;

/// How the web app runs.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` always. Without it they are marked `Secure` when the request came
    /// over TLS as the proxy in front says (`X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// The address people reach Rungs at (`https://rungs.example.com`), for the single
    /// sign-on callback. Without it, the request's host (and `X-Forwarded-Proto`) is used.
    pub public_url: Option<String>,
}

pub(crate) struct WebState {
    pub app: App,
    pub cfg: WebConfig,
}

pub(crate) type State = axum::extract::State<Arc<WebState>>;

/// The web app's routes, to be served beside the API.
pub fn router(app: App, cfg: WebConfig) -> Router {
    let state = Arc::new(WebState { app, cfg });
    Router::new()
        .route("/", get(pages::home))
        .route(
            "/signin",
            get(pages::signin::form).post(pages::signin::submit),
        )
        .route("/signin/sso", get(pages::signin::sso_start))
        .route("/signin/callback", get(pages::signin::sso_callback))
        .route("/signout", post(pages::signin::sign_out))
        .route("/growth", get(pages::growth::page))
        .route("/growth/rate", post(pages::growth::rate))
        .route("/explore", get(pages::explore::page))
        .route("/history", get(pages::history::page))
        .route("/matrix", get(pages::matrix::page))
        .route("/team", get(pages::team::page))
        .route("/people", get(pages::people::directory))
        .route(
            "/people/import",
            get(pages::import::form).post(pages::import::submit),
        )
        .route(
            "/people/new",
            get(pages::manage::new_form).post(pages::manage::add),
        )
        .route("/people/{id}", get(pages::team::person))
        .route("/people/{id}/edit", post(pages::manage::edit))
        .route("/people/{id}/place", post(pages::manage::place))
        .route("/people/{id}/assess", post(pages::team::assess))
        .route("/people/{id}/propose", post(pages::team::propose))
        .route("/cases/{id}/{action}", post(pages::team::case_action))
        .route("/promotions", get(pages::promotions::page))
        .route("/analytics", get(pages::analytics::page))
        .route("/matrices", get(pages::matrices::list))
        .route(
            "/matrices/import",
            get(pages::moves::import_form).post(pages::moves::import),
        )
        .route(
            "/matrices/{key}/move",
            get(pages::moves::form).post(pages::moves::submit),
        )
        .route("/matrices/{key}", get(pages::matrices::version))
        .route("/matrices/{key}/export", get(pages::matrices::export))
        .route("/matrices/{key}/diff", get(pages::matrices::diff))
        .route("/matrices/{key}/draft", get(pages::matrices::draft))
        .route("/matrices/{key}/draft/start", post(pages::matrices::start))
        .route("/matrices/{key}/draft/edit", post(pages::matrices::edit))
        .route(
            "/matrices/{key}/draft/publish",
            post(pages::matrices::publish),
        )
        .route(
            "/matrices/{key}/draft/discard",
            post(pages::matrices::discard),
        )
        .route("/audit", get(pages::audit::page))
        .route("/settings", get(pages::settings::show))
        .route("/settings/sso", post(pages::settings::save))
        .route("/settings/sso/remove", post(pages::settings::remove))
        .route("/settings/scim/tokens", post(pages::settings::create_token))
        .route(
            "/settings/scim/tokens/{id}/revoke",
            post(pages::settings::revoke_token),
        )
        .route(
            "/promotions/rule",
            get(pages::promotions::rule).post(pages::promotions::change_rule),
        )
        .route("/assets/{file}", get(assets::serve))
        .fallback(pages::not_found)
        .layer(middleware::from_fn(session::same_origin))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error::error_pages,
        ))
        .with_state(state)
        .layer(middleware::from_fn(security_headers))
}

/// The Content-Security-Policy of every page: scripts and styles only from this server's files
/// (no inline script or style), nothing framed, forms posted only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages name people and their ratings: never kept by a shared cache or the back button.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
