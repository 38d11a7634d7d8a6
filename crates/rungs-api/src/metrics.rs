//! `/metrics` in the Prometheus text format: HTTP requests by route and status, GraphQL
//! operations by root fields and outcome (the error code, or `ok`), latency histograms for
//! both, and the database pool's use. Labels come from closed sets (the routes, the schema's
//! root fields, the error codes), so a client cannot grow them.

use async_graphql::parser::types::{DocumentOperations, Selection, TypeKind, TypeSystemDefinition};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use rungs_app::App;
use std::collections::HashSet;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationOnly {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

fn latency() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

pub(crate) struct Metrics {
    registry: Registry,
    http: Family<HttpLabels, Counter>,
    http_latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    operations: Family<OperationLabels, Counter>,
    operation_latency: Family<OperationOnly, Histogram, fn() -> Histogram>,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    /// The schema's root fields (queries and mutations): the only operation labels.
    roots: HashSet<String>,
}

/// The routes that get their own label; anything else is `other`.
const ROUTES: [&str; 4] = ["/graphql", "/healthz", "/readyz", "/metrics"];

impl Metrics {
    pub(crate) fn new(sdl: &str) -> Self {
        let mut registry = Registry::default();
        let http = Family::<HttpLabels, Counter>::default();
        let http_latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency);
        let operations = Family::<OperationLabels, Counter>::default();
        let operation_latency: Family<OperationOnly, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency);
        let pool = Family::<PoolLabels, Gauge>::default();
        let pool_max = Gauge::default();
        registry.register(
            "rungs_http_requests",
            "HTTP requests by route and status",
            http.clone(),
        );
        registry.register(
            "rungs_http_request_duration_seconds",
            "HTTP request latency by route",
            http_latency.clone(),
        );
        registry.register(
            "rungs_graphql_operations",
            "GraphQL operations by root fields and outcome (ok, or the first error's code)",
            operations.clone(),
        );
        registry.register(
            "rungs_graphql_operation_duration_seconds",
            "GraphQL operation latency by root fields",
            operation_latency.clone(),
        );
        registry.register(
            "rungs_db_pool_connections",
            "Database pool connections by state (idle, in_use)",
            pool.clone(),
        );
        registry.register(
            "rungs_db_pool_max_connections",
            "The most connections the pool may open",
            pool_max.clone(),
        );
        Self {
            registry,
            http,
            http_latency,
            operations,
            operation_latency,
            pool,
            pool_max,
            roots: root_fields(sdl),
        }
    }

    pub(crate) fn http(&self, path: &str, status: u16, took: Duration) {
        let route = ROUTES
            .iter()
            .find(|r| **r == path)
            .map_or("other", |r| r)
            .to_owned();
        self.http
            .get_or_create(&HttpLabels {
                route: route.clone(),
                status: status.to_string(),
            })
            .inc();
        self.http_latency
            .get_or_create(&RouteLabels { route })
            .observe(took.as_secs_f64());
    }

    /// The label of a request: its root fields, sorted and joined by `+` (`me+people`), or
    /// `invalid` when it does not parse or names a field the schema lacks.
    pub(crate) fn operation_label(
        &self,
        doc: Option<&async_graphql::parser::types::ExecutableDocument>,
        name: Option<&str>,
    ) -> String {
        let Some(doc) = doc else {
            return "invalid".into();
        };
        let op = match (&doc.operations, name) {
            (DocumentOperations::Single(op), _) => Some(op),
            (DocumentOperations::Multiple(ops), Some(n)) => {
                ops.iter().find(|(k, _)| k.as_str() == n).map(|(_, op)| op)
            }
            // One named operation, sent without its name.
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
            (DocumentOperations::Multiple(_), None) => None,
        };
        let Some(op) = op else {
            return "invalid".into();
        };
        let mut fields = Vec::new();
        for item in &op.node.selection_set.node.items {
            match &item.node {
                Selection::Field(f) => {
                    let n = f.node.name.node.as_str();
                    if n == "__typename" {
                        continue;
                    }
                    if n.starts_with("__") || !self.roots.contains(n) {
                        return if n.starts_with("__") {
                            "introspection".into()
                        } else {
                            "invalid".into()
                        };
                    }
                    fields.push(n.to_owned());
                }
                _ => return "fragment".into(),
            }
        }
        fields.sort();
        fields.dedup();
        if fields.is_empty() {
            "invalid".into()
        } else {
            fields.join("+")
        }
    }

    pub(crate) fn operation(&self, label: String, outcome: &str, took: Duration) {
        self.operations
            .get_or_create(&OperationLabels {
                operation: label.clone(),
                outcome: outcome.to_owned(),
            })
            .inc();
        self.operation_latency
            .get_or_create(&OperationOnly { operation: label })
            .observe(took.as_secs_f64());
    }

    /// The text exposition, with the pool read now.
    pub(crate) fn render(&self, app: &App) -> String {
        let s = app.db().pool_stats();
        let set = |state: &str, v: u32| {
            self.pool
                .get_or_create(&PoolLabels {
                    state: state.to_owned(),
                })
                .set(i64::from(v));
        };
        set("idle", s.idle);
        set("in_use", s.open.saturating_sub(s.idle));
        self.pool_max.set(i64::from(s.max));
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        out
    }
}

/// The fields of `Query` and `Mutation` in an SDL.
fn root_fields(sdl: &str) -> HashSet<String> {
    let Ok(doc) = async_graphql::parser::parse_schema(sdl) else {
        return HashSet::new();
    };
    let mut out = HashSet::new();
    for def in doc.definitions {
        if let TypeSystemDefinition::Type(t) = def
            && matches!(t.node.name.node.as_str(), "Query" | "Mutation")
            && let TypeKind::Object(o) = &t.node.kind
        {
            out.extend(o.fields.iter().map(|f| f.node.name.node.to_string()));
        }
    }
    out
}
