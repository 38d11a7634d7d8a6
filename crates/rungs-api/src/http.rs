//! The HTTP surface: `POST /graphql` (with GraphiQL on `GET` when enabled), `/healthz`,
//! `/readyz` and `/metrics`; bearer-token authentication before any resolver runs; request ids, tracing spans,
//! a body limit, a request timeout and a cap on batched operations.

use crate::error::RequestId;
use crate::graphql::{RungsSchema, SchemaLimits, build_schema, graph};
use crate::metrics::Metrics;
use async_graphql::{BatchRequest, BatchResponse, Response as GqlResponse};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLResponse};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use rungs_app::auth::Verified;
use rungs_app::{App, AppError};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::{Span, field::Empty};

/// What the server allows. The defaults suit production; `--demo` turns introspection on.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Introspection, GraphiQL and field suggestions in errors.
    pub introspection: bool,
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Operations in one batched request.
    pub max_batch: usize,
    /// Bytes in a request body (matrix files travel inside `importMatrix`).
    pub body_limit: usize,
    pub request_timeout: Duration,
    /// When set, `/metrics` answers only `Authorization: Bearer <this token>` (a scraper's
    /// secret); when not, anyone who reaches the port may read it.
    pub metrics_token: Option<SecretString>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            introspection: false,
            max_depth: 12,
            max_complexity: 2_000,
            max_batch: 10,
            body_limit: 6 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            metrics_token: None,
        }
    }
}

struct AppState {
    app: App,
    schema: RungsSchema,
    /// With introspection on: the same schema with room for GraphiQL's schema query, which
    /// nests deeper than `max_depth` (used only for documents of introspection fields alone).
    introspection: Option<RungsSchema>,
    cfg: ApiConfig,
    metrics: Metrics,
    /// Parsed documents, kept by their text.
    documents: crate::documents::Documents,
}

/// The whole HTTP API around the use cases (which must carry an authenticator).
pub fn router(app: App, cfg: ApiConfig) -> Router {
    router_with(app, cfg, Router::new())
}

/// The API with other routes beside it (the web app), all behind the same request ids,
/// tracing, timeout, body limit and metrics. The other routes' own error pages (HTML) are
/// left as they are.
pub fn router_with(app: App, cfg: ApiConfig, beside: Router) -> Router {
    let schema = build_schema(
        app.clone(),
        SchemaLimits {
            introspection: cfg.introspection,
            max_depth: cfg.max_depth,
            max_complexity: cfg.max_complexity,
        },
    );
    let introspection = cfg.introspection.then(|| {
        build_schema(
            app.clone(),
            SchemaLimits {
                introspection: true,
                max_depth: 32,
                max_complexity: 100_000,
            },
        )
    });
    let state = Arc::new(AppState {
        app,
        schema,
        introspection,
        cfg: cfg.clone(),
        metrics: Metrics::new(&crate::graphql::sdl()),
        documents: Default::default(),
    });
    let graphql = Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        // The GraphQL extractor streams the body, so the limit is enforced on the stream.
        .layer(RequestBodyLimitLayer::new(cfg.body_limit));
    let scim =
        crate::scim::routes(state.app.clone()).layer(RequestBodyLimitLayer::new(cfg.body_limit));
    Router::new()
        .merge(graphql)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/graphiql/{file}", get(graphiql_file))
        .with_state(state.clone())
        .nest("/scim/v2", scim)
        .merge(beside)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(keep_client_request_id))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request| {
                            let id = req
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            let client = req
                                .headers()
                                .get(CLIENT_REQUEST_ID)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            tracing::info_span!(
                                "request",
                                method = %req.method(),
                                path = %req.uri().path(),
                                request_id = %id,
                                client_request_id = %client,
                                operation = Empty,
                                status = Empty,
                                duration_ms = Empty,
                            )
                        })
                        .on_request(())
                        .on_response(|res: &Response, latency: Duration, span: &Span| {
                            span.record("status", res.status().as_u16());
                            span.record("duration_ms", latency.as_millis());
                            tracing::info!("request finished");
                        }),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    cfg.request_timeout,
                ))
                .layer(DefaultBodyLimit::max(cfg.body_limit)),
        )
        // Every refusal by the layers above (a timeout, a body too large, a request that is
        // not GraphQL) answers as GraphQL errors do.
        .layer(middleware::from_fn(json_errors))
        // Outermost, so that timeouts and refusals by the layers above are counted too.
        .layer(middleware::from_fn_with_state(state, track))
}

/// Replaces an error response that is not JSON (axum's and tower's refusals: plain text, or
/// empty) by a JSON error with a stable code; the original text never reaches the client.
async fn json_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let answered = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || answered {
        return res;
    }
    let (code, message) = match status {
        StatusCode::REQUEST_TIMEOUT => ("TIMEOUT", "the request took too long and was stopped"),
        StatusCode::PAYLOAD_TOO_LARGE => ("TOO_LARGE", "the request body is too large"),
        StatusCode::NOT_FOUND => ("NOT_FOUND", "no such path: the API is at /graphql"),
        StatusCode::METHOD_NOT_ALLOWED => ("INVALID_INPUT", "this path does not take that method"),
        s if s.is_client_error() => (
            "INVALID_INPUT",
            "not a GraphQL request: send JSON with `query` (and `variables`) as \
             application/json, or a GET with `?query=`",
        ),
        _ => ("INTERNAL", "internal error"),
    };
    let id = request_id(res.headers());
    let mut json = error_response(status, code, message, &id);
    if let Some(v) = res.headers().get("x-request-id") {
        json.headers_mut().insert("x-request-id", v.clone());
    }
    json
}

/// Where a client's own `x-request-id` is kept (and logged) once the server has set its own.
const CLIENT_REQUEST_ID: &str = "x-client-request-id";

/// The server names every request itself: a client's `x-request-id` is moved aside (kept,
/// when it is short printable text, for the log as `client_request_id`), never echoed as ours.
async fn keep_client_request_id(mut req: Request, next: Next) -> Response {
    if let Some(theirs) = req.headers_mut().remove("x-request-id") {
        let printable = theirs
            .to_str()
            .is_ok_and(|v| v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()));
        if printable {
            req.headers_mut().insert(CLIENT_REQUEST_ID, theirs);
        }
    }
    next.run(req).await
}

/// Counts every HTTP request by route and status, with its latency.
async fn track(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    st.metrics
        .http(&path, res.status().as_u16(), started.elapsed());
    res
}

async fn metrics(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(expected) = &st.cfg.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let expected = expected.expose_secret().as_bytes();
        if !bool::from(expected.ct_eq(presented.as_bytes())) {
            return error_response(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "the metrics need `Authorization: Bearer <metrics_token>`",
                &request_id(&headers),
            );
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        st.metrics.render(&st.app),
    )
        .into_response()
}

fn request_id(headers: &HeaderMap) -> RequestId {
    RequestId(
        headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned(),
    )
}

/// A GraphQL-shaped error response outside GraphQL execution.
fn error_response(status: StatusCode, code: &str, message: &str, id: &RequestId) -> Response {
    let body = json!({
        "errors": [{ "message": message, "extensions": { "code": code, "requestId": id.0 } }]
    });
    let mut res = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    res
}

/// Verifies the bearer token, if any, before GraphQL sees the request: a bad token is a 401
/// here; no token means an anonymous caller (who may only sign in). Whether the token's
/// session is still live is checked by the handler, in one statement with what the request is
/// about (its [`Lead`](rungs_app::auth::Lead)), before any resolver runs.
async fn authenticate(State(st): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let id = request_id(req.headers());
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return next.run(req).await;
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "the Authorization header must be `Bearer <access token>`",
            &id,
        );
    };
    match st.app.verify_bearer(token).await {
        Ok(verified) => {
            req.extensions_mut().insert(verified);
            next.run(req).await
        }
        Err(e) => refused(e, &id),
    }
}

/// The answer to a request whose caller could not be authenticated.
fn refused(e: AppError, id: &RequestId) -> Response {
    match e {
        AppError::Unauthenticated(why) => {
            error_response(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", &why, id)
        }
        e @ AppError::Unavailable => {
            let mut res = error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                e.code(),
                &e.to_string(),
                id,
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            res
        }
        e => {
            tracing::error!(request_id = %id.0, error = ?e, "authentication failed");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                &format!(
                    "internal error; quote request id {} when reporting it",
                    id.0
                ),
                id,
            )
        }
    }
}

/// What the handler learns from a request's document before running it.
struct Checked {
    /// Why it is refused before validation, if it is.
    refusal: Option<String>,
    /// Whether it asks only for the schema (GraphiQL's introspection).
    introspection: bool,
    /// Its label in the metrics.
    label: String,
    /// Whether it may write (a mutation, or an operation that could not be told).
    writes: bool,
    /// What it is about, when the session's statement can read that too.
    lead: Option<rungs_app::auth::Lead>,
}

impl Checked {
    fn of(r: &mut async_graphql::Request, signed_in: bool, metrics: &Metrics) -> Self {
        let name = r.operation_name.clone();
        if let Some(why) = crate::shape::refusal_of_text(&r.query) {
            return Self {
                refusal: Some(why),
                introspection: false,
                label: "invalid".into(),
                writes: true,
                lead: None,
            };
        }
        // (Only a signed-in caller's session is read, so only theirs can carry a lead.)
        let variables = signed_in.then(|| r.variables.clone());
        let doc = r.parsed_query().ok();
        let introspection = doc.is_some_and(crate::shape::introspection_only_of);
        // GraphiQL's schema query (introspection only, answered without the database) is
        // larger than anonymous operations may be.
        let limits = if signed_in || introspection {
            crate::shape::Limits::SIGNED_IN
        } else {
            crate::shape::Limits::ANONYMOUS
        };
        Self {
            refusal: doc.and_then(|d| crate::shape::refusal_of(d, limits)),
            introspection,
            label: metrics.operation_label(doc, name.as_deref()),
            writes: doc.is_none_or(crate::shape::may_write),
            lead: doc
                .zip(variables.as_ref())
                .and_then(|(d, v)| crate::shape::lead_of(d, name.as_deref(), v)),
        }
    }
}

/// The address a request counts against for sign-in limits (the peer, or the client a trusted
/// proxy forwards).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

async fn graphql(
    State(st): State<Arc<AppState>>,
    verified: Option<Extension<Verified>>,
    peer: Option<Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    req: GraphQLBatchRequest,
) -> Response {
    let id = request_id(&headers);
    let mut batch = req.into_inner();
    if let Some(Extension(axum::extract::ConnectInfo(peer))) = peer {
        let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        batch = batch.data(ClientAddr(st.app.client_address(peer.ip(), forwarded)));
    }
    let signed_in = verified.is_some();
    let operations = match &batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(v) => v.len(),
    };
    // Without a token, one operation per request (sign-in, refresh, sign-out): a batch of
    // sign-ins would be a batch of password hashes.
    let max_batch = if signed_in { st.cfg.max_batch } else { 1 };
    if operations > max_batch {
        return error_response(
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            &format!(
                "a batch may hold at most {} operations{}; this one has {}",
                max_batch,
                if signed_in { "" } else { " without a token" },
                operations
            ),
            &id,
        );
    }
    // Each document is parsed once, or taken from the documents parsed before: the checks
    // here and the execution share it (a request keeps its parsed document; one that does not
    // parse is left to GraphQL, which says where).
    match &mut batch {
        BatchRequest::Single(r) => st.documents.prepare(r, signed_in),
        BatchRequest::Batch(v) => v
            .iter_mut()
            .for_each(|r| st.documents.prepare(r, signed_in)),
    }
    let checked: Vec<Checked> = match &mut batch {
        BatchRequest::Single(r) => vec![Checked::of(r, signed_in, &st.metrics)],
        BatchRequest::Batch(v) => v
            .iter_mut()
            .map(|r| Checked::of(r, signed_in, &st.metrics))
            .collect(),
    };
    let requests: Vec<&async_graphql::Request> = match &batch {
        BatchRequest::Single(r) => vec![r],
        BatchRequest::Batch(v) => v.iter().collect(),
    };
    // The session, checked before anything runs, with what a lone query is about.
    let session = match verified {
        Some(Extension(v)) => {
            let lead = match checked.as_slice() {
                [one] => one.lead,
                _ => None,
            };
            match st.app.session_for(v, lead).await {
                Ok(s) => Some(s),
                Err(e) => return refused(e, &id),
            }
        }
        None => None,
    };
    if let Some(why) = checked.iter().find_map(|c| c.refusal.clone()) {
        return error_response(StatusCode::BAD_REQUEST, "INVALID_INPUT", &why, &id);
    }
    if requests.iter().any(|r| holds_nul(r)) {
        // No backend should be left to decide: PostgreSQL refuses the text, the others store it.
        return error_response(
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            "text may not contain the NUL character (U+0000)",
            &id,
        );
    }
    let requests_are_introspection = checked.iter().all(|c| c.introspection);
    let names: Vec<&str> = requests
        .iter()
        .map(|r| r.operation_name.as_deref().unwrap_or("-"))
        .collect();
    Span::current().record("operation", names.join(",").as_str());
    // What authentication read about the caller is as old as the request: no use to a batch
    // whose operations may write (they run concurrently, so a read may follow a write).
    let writes = checked.iter().any(|c| c.writes);
    let labels: Vec<String> = checked.into_iter().map(|c| c.label).collect();
    let started = Instant::now();
    let mut batch = batch.data(id.clone());
    if let Some(mut s) = session {
        if writes {
            s.read_with = None;
        }
        // Each operation gets its own loaders: nothing one reads is kept for the next.
        let with_loaders = |r: async_graphql::Request| match graph::loaders(&st.app, &s) {
            Some(l) => r.data(l),
            None => r,
        };
        batch = match batch.data(s.clone()) {
            BatchRequest::Single(r) => BatchRequest::Single(with_loaders(r)),
            BatchRequest::Batch(v) => {
                BatchRequest::Batch(v.into_iter().map(with_loaders).collect())
            }
        };
    }
    let schema = match &st.introspection {
        Some(s) if requests_are_introspection => s,
        _ => &st.schema,
    };
    let mut response = schema.execute_batch(batch).await;
    match &mut response {
        BatchResponse::Single(r) => with_codes(r),
        BatchResponse::Batch(v) => v.iter_mut().for_each(with_codes),
    }
    let took = started.elapsed();
    let responses: Vec<&GqlResponse> = match &response {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(v) => v.iter().collect(),
    };
    // The database could not be reached, or too many sign-ins came at once: the client
    // should retry later, so the status says so (the body keeps the GraphQL shape and code).
    let has = |code: &str| {
        responses.iter().any(|r| {
            r.errors.iter().any(|e| {
                e.extensions.as_ref().and_then(|x| x.get("code"))
                    == Some(&async_graphql::Value::String(code.into()))
            })
        })
    };
    // The longest wait any error asks for (each retryable error carries `retryAfter`).
    let retry_after = responses
        .iter()
        .flat_map(|r| r.errors.iter())
        .filter_map(|e| match e.extensions.as_ref()?.get("retryAfter")? {
            async_graphql::Value::Number(n) => n.as_u64(),
            _ => None,
        })
        .max()
        .unwrap_or(5);
    let retry_status = if has("UNAVAILABLE") {
        Some(StatusCode::SERVICE_UNAVAILABLE)
    } else if has("RATE_LIMITED") {
        Some(StatusCode::TOO_MANY_REQUESTS)
    } else {
        None
    };
    for (label, r) in labels.into_iter().zip(responses) {
        let outcome = r
            .errors
            .first()
            .and_then(|e| e.extensions.as_ref())
            .and_then(|x| match x.get("code") {
                Some(async_graphql::Value::String(c)) => Some(c.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "ok".to_owned());
        st.metrics.operation(label, &outcome, took);
    }
    let mut res = GraphQLResponse(response).into_response();
    if let Some(status) = retry_status {
        *res.status_mut() = status;
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    }
    res
}

/// Whether a request carries the NUL character: in a variable (at any depth), or written in
/// the query itself (raw, or as a `\u0000` / `\u{0}` escape in a string).
fn holds_nul(r: &async_graphql::Request) -> bool {
    fn value(v: &async_graphql::Value) -> bool {
        match v {
            async_graphql::Value::String(s) => s.contains('\0'),
            async_graphql::Value::List(l) => l.iter().any(value),
            async_graphql::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || value(v)),
            _ => false,
        }
    }
    r.query.contains('\0')
        || escapes_nul(&r.query)
        || r.variables
            .iter()
            .any(|(k, v)| k.contains('\0') || value(v))
}

/// Whether GraphQL text holds an escape of U+0000 (`\u0000`, or `\u{0}` with any number of
/// zeros); an escaped backslash (`\\`) escapes nothing.
fn escapes_nul(query: &str) -> bool {
    let b = query.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        if b[i + 1] == b'u' {
            let rest = &b[i + 2..];
            if rest.starts_with(b"0000") {
                return true;
            }
            if let Some(body) = rest.strip_prefix(b"{") {
                let zeros = body.iter().take_while(|c| **c == b'0').count();
                if zeros > 0 && body.get(zeros) == Some(&b'}') {
                    return true;
                }
            }
        }
        i += 2;
    }
    false
}

/// Gives a code to the errors GraphQL itself raises (syntax, validation, limits, argument
/// types): they are all about the request, so INVALID_INPUT.
fn with_codes(r: &mut GqlResponse) {
    for e in &mut r.errors {
        let ext = e.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", "INVALID_INPUT");
        }
    }
}

async fn graphiql(State(st): State<Arc<AppState>>) -> Response {
    if st.cfg.introspection {
        crate::graphiql::page()
    } else {
        (
            StatusCode::NOT_FOUND,
            "GraphiQL is off: POST GraphQL requests to /graphql, or enable introspection (RUNGS_INTROSPECTION=true, on with --demo)\n",
        )
            .into_response()
    }
}

async fn graphiql_file(
    State(st): State<Arc<AppState>>,
    file: axum::extract::Path<String>,
) -> Response {
    if !st.cfg.introspection {
        return crate::graphiql::not_found();
    }
    crate::graphiql::file(file).unwrap_or_else(crate::graphiql::not_found)
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the database answers and can write, within a second (a probe must not hang
/// while it is down). Writing is known from the latest writes, or tried with a one-row probe
/// when none committed lately ([`rungs_db::Db::check_writable`]): a full disk makes the
/// server unready until space is freed, then ready again without a restart.
async fn readyz(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let check = tokio::time::timeout(READY_WITHIN, st.app.readiness()).await;
    let unready = |why: &str| {
        error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            why,
            &request_id(&headers),
        )
    };
    match check {
        Ok(Ok(())) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Err(e @ AppError::StorageFull)) => {
            tracing::warn!(error = %e, "readiness check failed: the database cannot write");
            unready("not ready: the database has no room to write")
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            unready("not ready: the database is unavailable")
        }
        Err(_) => {
            tracing::warn!("readiness check failed: the database did not answer within a second");
            unready("not ready: the database did not answer within a second")
        }
    }
}

/// How long `/readyz` waits for the database.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

#[cfg(test)]
mod nul_tests {
    use super::escapes_nul;

    #[test]
    fn escapes_of_nul_are_found_and_escaped_backslashes_are_not() {
        for q in [
            r#"{ people(filter: { search: "a\u0000" }) { totalCount } }"#,
            r#"{ x(s: "\U0000") }"#.replace('U', "u").as_str(),
            r#"{ x(s: "\u{0}") }"#,
            r#"{ x(s: "\u{0000000}") }"#,
            r#"{ x(s: "\\\u0000") }"#,
        ] {
            assert!(escapes_nul(q), "{q}");
        }
        for q in [
            r#"{ x(s: "\\u0000") }"#,
            r#"{ x(s: "\u0001") }"#,
            r#"{ x(s: "\u{10}") }"#,
            r#"{ x(s: "\u{}") }"#,
            r#"{ x(s: "u0000") }"#,
        ] {
            assert!(!escapes_nul(q), "{q}");
        }
    }
}
