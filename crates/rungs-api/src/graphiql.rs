//! GraphiQL served from the binary (React, GraphiQL and its style sheet are vendored in
//! `assets/graphiql/`), so that it works without internet: the page at `GET /graphql` and its
//! files under `/graphiql/`. Only when introspection is on.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The page's policy: its own files only. GraphiQL 1.x evaluates a string once at start-up
/// (webpack's global lookup, uncaught) and its editors set inline styles, so this developer
/// page (on only with introspection) allows both; the web app's pages allow neither.
const CSP: &str = "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'";

const FILES: [(&str, &[u8], &str); 6] = [
    (
        "graphiql-1.11.5.min.js",
        include_bytes!("../assets/graphiql/graphiql-1.11.5.min.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "graphiql-1.11.5.min.css",
        include_bytes!("../assets/graphiql/graphiql-1.11.5.min.css"),
        "text/css; charset=utf-8",
    ),
    (
        "react-17.0.2.production.min.js",
        include_bytes!("../assets/graphiql/react-17.0.2.production.min.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "react-dom-17.0.2.production.min.js",
        include_bytes!("../assets/graphiql/react-dom-17.0.2.production.min.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "rungs-graphiql.js",
        include_bytes!("../assets/graphiql/rungs-graphiql.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "rungs-graphiql.css",
        include_bytes!("../assets/graphiql/rungs-graphiql.css"),
        "text/css; charset=utf-8",
    ),
];

/// The GraphiQL page.
pub(crate) fn page() -> Response {
    let mut res = Html(include_str!("../assets/graphiql/index.html")).into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    res
}

/// One of GraphiQL's files (`None`: no such file).
pub(crate) fn file(Path(name): Path<String>) -> Option<Response> {
    let (name, bytes, content_type) = FILES.iter().find(|(n, _, _)| *n == name)?;
    // Vendored files carry their version in their name; ours may change with a release.
    let cache = if name.starts_with("rungs-") {
        "public, max-age=3600"
    } else {
        "public, max-age=31536000, immutable"
    };
    Some(
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            *bytes,
        )
            .into_response(),
    )
}

/// For `/graphiql/{file}` when GraphiQL is off, or the file does not exist.
pub(crate) fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}
