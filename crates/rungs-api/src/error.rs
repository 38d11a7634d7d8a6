//! From use-case errors to GraphQL errors: every error carries a stable `extensions.code`; an
//! internal error is logged with its cause chain and reaches the client as a generic message
//! with the request id, so no database or driver text ever leaves the server.

use async_graphql::{ErrorExtensions, Value};
use rungs_app::AppError;

/// The request's id, as given to the client in `x-request-id`.
#[derive(Debug, Clone, Default)]
pub struct RequestId(pub String);

/// Converts a use-case error for the client, logging internal ones.
pub fn to_gql(e: &AppError, request: &RequestId) -> async_graphql::Error {
    let code = e.code();
    match e {
        AppError::Internal(cause) => {
            let mut chain = cause.to_string();
            let mut src = cause.source();
            while let Some(s) = src {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                src = s.source();
            }
            tracing::error!(request_id = %request.0, cause = %chain, "internal error");
            async_graphql::Error::new(format!(
                "internal error; quote request id {} when reporting it",
                request.0
            ))
            .extend_with(|_, ext| {
                ext.set("code", code);
                ext.set("requestId", request.0.clone());
            })
        }
        AppError::InvalidFile(errors) => {
            let problems: Vec<Value> = errors
                .0
                .iter()
                .map(|p| {
                    let mut o = async_graphql::indexmap::IndexMap::new();
                    o.insert(
                        async_graphql::Name::new("file"),
                        Value::from(p.file.clone()),
                    );
                    o.insert(
                        async_graphql::Name::new("line"),
                        p.line.map_or(Value::Null, Value::from),
                    );
                    o.insert(
                        async_graphql::Name::new("column"),
                        p.column.map_or(Value::Null, Value::from),
                    );
                    o.insert(
                        async_graphql::Name::new("field"),
                        p.field.clone().map_or(Value::Null, Value::from),
                    );
                    o.insert(
                        async_graphql::Name::new("message"),
                        Value::from(p.message.clone()),
                    );
                    Value::Object(o)
                })
                .collect();
            async_graphql::Error::new(errors.to_string()).extend_with(|_, ext| {
                ext.set("code", code);
                ext.set("problems", Value::List(problems.clone()));
            })
        }
        other => {
            let retry = other.retry_after();
            async_graphql::Error::new(other.to_string()).extend_with(|_, ext| {
                ext.set("code", code);
                if let Some(secs) = retry {
                    ext.set("retryAfter", secs);
                }
            })
        }
    }
}
