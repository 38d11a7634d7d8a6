//! SCIM 2.0 (RFC 7643, 7644) at `/scim/v2`: users provisioned by an identity provider or an HR
//! system with one of the organisation's provisioning tokens (`Authorization: Bearer
//! rungs_scim_…`). Transport only: JSON in and out, filters, paging, projections and PATCH
//! are here; the rules (policy, uniqueness, managers, cycles, audit) are `rungs-app`'s.
//!
//! - `Users`: create, read, replace, patch, delete (which deactivates: people keep their
//!   history), `filter=userName eq "…"` (and `externalId eq`, `id eq`), `startIndex`/`count`,
//!   `attributes`/`excludedAttributes`; the enterprise extension's `manager` sets the
//!   reporting line.
//! - `ServiceProviderConfig`, `Schemas`, `ResourceTypes` describe exactly what is supported.
//! - Errors are SCIM errors (`urn:ietf:params:scim:api:messages:2.0:Error`), and never carry
//!   database text.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rungs_app::provisioning::{ScimFilter, ScimUser, ScimUserInput};
use rungs_app::{Actor, App, AppError};
use rungs_domain::PersonId;
use rungs_domain::org::Organisation;
use serde::Deserialize;
use serde_json::{Map, Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const CONTENT_TYPE: &str = "application/scim+json";
/// The most users one page returns.
const MAX_COUNT: u64 = 1000;

/// A SCIM answer: JSON with SCIM's content type.
fn scim(status: StatusCode, body: Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    res
}

/// A SCIM error (RFC 7644 §3.12).
struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
}

impl ScimError {
    fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }

    fn not_found(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            scim_type: None,
            detail: detail.into(),
        }
    }
}

impl From<AppError> for ScimError {
    fn from(e: AppError) -> Self {
        let (status, scim_type, detail) = match &e {
            AppError::Invalid(m) => (StatusCode::BAD_REQUEST, Some("invalidValue"), m.clone()),
            AppError::InvalidFile(f) => {
                (StatusCode::BAD_REQUEST, Some("invalidValue"), f.to_string())
            }
            AppError::Conflict(m) | AppError::StateConflict(m) => (
                StatusCode::CONFLICT,
                Some("uniqueness"),
                format!("{m} exists already"),
            ),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, None, format!("{m} not found")),
            AppError::Unauthenticated(m) => (StatusCode::UNAUTHORIZED, None, m.clone()),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, None, m.clone()),
            AppError::RateLimited { message, .. } => {
                (StatusCode::TOO_MANY_REQUESTS, None, message.clone())
            }
            AppError::Unavailable | AppError::StorageFull => (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "the service is unavailable: try again later".to_owned(),
            ),
            _ => {
                tracing::error!(error = %e, "SCIM request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    "internal error".to_owned(),
                )
            }
        };
        Self {
            status,
            scim_type,
            detail,
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        let mut res = scim(self.status, body);
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\""),
            );
        }
        res
    }
}

type Result<T> = std::result::Result<T, ScimError>;

/// The SCIM routes, to be nested at `/scim/v2`.
pub(crate) fn routes(app: App) -> Router {
    Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{id}", get(resource_type))
        .route("/Users", get(list_users).post(create_user))
        .route("/Users/.search", axum::routing::post(search_users))
        .route("/.search", axum::routing::post(search_users))
        .route(
            "/Users/{id}",
            get(get_user)
                .put(replace_user)
                .patch(patch_user)
                .delete(delete_user),
        )
        .fallback(|| async { ScimError::not_found("no such SCIM endpoint").into_response() })
        .with_state(app)
}

/// The caller (its token's organisation) and where this server's SCIM base is.
struct Caller {
    actor: Actor,
    org: Organisation,
    base: String,
}

async fn caller(app: &App, headers: &HeaderMap) -> Result<Caller> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| {
            ScimError::from(AppError::Unauthenticated(
                "send a provisioning token: Authorization: Bearer rungs_scim_…".into(),
            ))
        })?;
    let (actor, org) = app.scim_authenticate(token).await?;
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    Ok(Caller {
        actor,
        org,
        base: format!("{scheme}://{host}/scim/v2"),
    })
}

// ---- discovery -------------------------------------------------------------------------

async fn service_provider_config(State(app): State<App>, headers: HeaderMap) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    Ok(scim(
        StatusCode::OK,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": "https://example.invalid/rungs/docs/identity.md",
            "patch": { "supported": true },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": MAX_COUNT },
            "changePassword": { "supported": false },
            "sort": { "supported": false },
            "etag": { "supported": false },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Provisioning token",
                "description": "A bearer token an HR admin creates in Rungs (Settings, or `rungs scim token create`).",
                "primary": true,
            }],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": format!("{}/ServiceProviderConfig", c.base),
            },
        }),
    ))
}

fn attribute(name: &str, kind: &str, extra: Value) -> Value {
    let mut a = json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": name,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    });
    if let (Some(a), Value::Object(extra)) = (a.as_object_mut(), extra) {
        a.extend(extra);
    }
    a
}

fn user_schema(base: &str) -> Value {
    let string = |name: &str| attribute(name, "string", json!({}));
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER,
        "name": "User",
        "description": "A person of the organisation",
        "attributes": [
            attribute("userName", "string", json!({"required": true, "uniqueness": "server"})),
            attribute("name", "complex", json!({"subAttributes": [
                string("formatted"), string("familyName"), string("givenName"),
            ]})),
            // Rungs shows every person by a name, and knows whether they are active.
            attribute("displayName", "string", json!({"required": true})),
            // Rungs knows people by their email: a user needs one.
            attribute("emails", "complex", json!({"multiValued": true, "required": true, "subAttributes": [
                attribute("value", "string", json!({"required": true})),
                attribute("type", "string", json!({"canonicalValues": ["work", "home", "other"]})),
                attribute("primary", "boolean", json!({})),
            ]})),
            attribute("active", "boolean", json!({"required": true})),
        ],
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{USER}") },
    })
}

fn enterprise_schema(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": ENTERPRISE,
        "name": "EnterpriseUser",
        "description": "The enterprise extension: the person's manager",
        "attributes": [
            attribute("manager", "complex", json!({"subAttributes": [
                attribute("value", "string", json!({})),
                attribute("$ref", "reference", json!({"referenceTypes": ["User"]})),
                attribute("displayName", "string", json!({"mutability": "readOnly"})),
            ]})),
        ],
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{ENTERPRISE}") },
    })
}

fn list(resources: Vec<Value>, total: u64, start: u64) -> Value {
    json!({
        "schemas": [LIST],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

async fn schemas(State(app): State<App>, headers: HeaderMap) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    let all = vec![user_schema(&c.base), enterprise_schema(&c.base)];
    Ok(scim(StatusCode::OK, list(all, 2, 1)))
}

async fn schema(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    match id.as_str() {
        USER => Ok(scim(StatusCode::OK, user_schema(&c.base))),
        ENTERPRISE => Ok(scim(StatusCode::OK, enterprise_schema(&c.base))),
        _ => Err(ScimError::not_found(format!("no schema {id}"))),
    }
}

fn user_resource_type(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "People of the organisation",
        "schema": USER,
        "schemaExtensions": [{ "schema": ENTERPRISE, "required": false }],
        "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") },
    })
}

async fn resource_types(State(app): State<App>, headers: HeaderMap) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    Ok(scim(
        StatusCode::OK,
        list(vec![user_resource_type(&c.base)], 1, 1),
    ))
}

async fn resource_type(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    if id == "User" {
        Ok(scim(StatusCode::OK, user_resource_type(&c.base)))
    } else {
        Err(ScimError::not_found(format!("no resource type {id}")))
    }
}

// ---- users: JSON --------------------------------------------------------------------------

/// A user as SCIM shows it.
fn user_json(base: &str, u: &ScimUser) -> Value {
    let p = &u.person;
    let i = u.identity.as_ref();
    let location = format!("{base}/Users/{}", p.id);
    let mut v = json!({
        "schemas": [USER],
        "id": p.id.to_string(),
        "userName": u.user_name(),
        "displayName": p.display_name,
        "emails": [{
            "value": p.email.as_str(),
            "type": i.and_then(|i| i.email_type.clone()).unwrap_or_else(|| "work".to_owned()),
            "primary": i.and_then(|i| i.email_primary).unwrap_or(true),
        }],
        "active": p.active,
        "meta": { "resourceType": "User", "location": location },
    });
    if let Some(i) = i {
        if let Some(e) = &i.external_id {
            v["externalId"] = json!(e);
        }
        let mut name = Map::new();
        for (k, val) in [
            ("formatted", &i.formatted),
            ("givenName", &i.given_name),
            ("familyName", &i.family_name),
        ] {
            if let Some(val) = val {
                name.insert(k.to_owned(), json!(val));
            }
        }
        if !name.is_empty() {
            v["name"] = Value::Object(name);
        }
        v["meta"]["lastModified"] = json!(i.updated_at.to_rfc3339());
    }
    if let Some(m) = p.manager_id {
        v["schemas"] = json!([USER, ENTERPRISE]);
        let manager = json!({ "value": m.to_string(), "$ref": format!("{base}/Users/{m}") });
        v[ENTERPRISE] = json!({ "manager": manager });
    }
    v
}

/// A string attribute of a JSON object, if it is one.
fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// `true`/`false`, also as the strings some clients send.
fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The user a SCIM client sent (a POST or PUT body, or a patched user).
fn user_input(v: &Value) -> Result<ScimUserInput> {
    if !v.is_object() {
        return Err(ScimError::bad(
            "invalidSyntax",
            "the body is not a JSON object",
        ));
    }
    let user_name = text(v, "userName")
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| ScimError::bad("invalidValue", "userName is required"))?;
    let emails = v.get("emails").and_then(Value::as_array);
    let email = emails.and_then(|list| {
        list.iter()
            .find(|e| e.get("primary").and_then(boolean) == Some(true))
            .or_else(|| list.first())
    });
    let name = v.get("name").cloned().unwrap_or(Value::Null);
    let manager = match v.get(ENTERPRISE).and_then(|e| e.get("manager")) {
        None | Some(Value::Null) => None,
        // Some clients send the manager's id as a bare string.
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(m) => text(m, "value")
            .filter(|s| !s.is_empty())
            .or_else(|| text(m, "$ref").and_then(|r| r.rsplit('/').next().map(str::to_owned))),
    };
    let manager = match manager {
        Some(m) => Some(
            m.parse::<uuid::Uuid>()
                .map(PersonId)
                .map_err(|_| ScimError::bad("invalidValue", format!("manager: no user {m}")))?,
        ),
        None => None,
    };
    let active = match v.get("active") {
        None | Some(Value::Null) => true,
        Some(a) => {
            boolean(a).ok_or_else(|| ScimError::bad("invalidValue", "active is true or false"))?
        }
    };
    Ok(ScimUserInput {
        user_name,
        external_id: text(v, "externalId"),
        display_name: text(v, "displayName"),
        formatted: text(&name, "formatted"),
        given_name: text(&name, "givenName"),
        family_name: text(&name, "familyName"),
        email: email.and_then(|e| text(e, "value")),
        email_type: email.and_then(|e| text(e, "type")),
        email_primary: email.and_then(|e| e.get("primary")).and_then(boolean),
        active,
        manager,
    })
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) on a user: `id`, `schemas` and
/// `meta` always stay.
fn project(mut v: Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let names = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|a| {
                let a = a.trim();
                let a = a.strip_prefix(&format!("{USER}:")).unwrap_or(a);
                a.to_owned()
            })
            .filter(|a| !a.is_empty())
            .collect()
    };
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    if let Some(keep) = attributes.map(names) {
        let always = ["id", "schemas", "meta"];
        let wanted = |key: &str| {
            always.contains(&key)
                || keep.iter().any(|k| {
                    k.eq_ignore_ascii_case(key)
                        || k.split('.')
                            .next()
                            .is_some_and(|h| h.eq_ignore_ascii_case(key))
                        || (key == ENTERPRISE && k.starts_with(ENTERPRISE))
                })
        };
        obj.retain(|k, _| wanted(k));
        // Sub-attributes asked for alone (`name.givenName`) keep only those.
        for k in &keep {
            if let Some((head, _)) = k.split_once('.')
                && !keep.iter().any(|o| o.eq_ignore_ascii_case(head))
                && let Some(Value::Object(inner)) = obj.get_mut(head)
            {
                let subs: Vec<&str> = keep
                    .iter()
                    .filter_map(|o| {
                        o.split_once('.')
                            .filter(|(h, _)| *h == head)
                            .map(|(_, s)| s)
                    })
                    .collect();
                inner.retain(|name, _| subs.iter().any(|s| s.eq_ignore_ascii_case(name)));
            }
        }
    }
    if let Some(drop) = excluded.map(names) {
        for k in drop {
            match k.split_once('.') {
                Some((head, sub)) => {
                    if let Some(Value::Object(inner)) = obj.get_mut(head) {
                        inner.retain(|name, _| !name.eq_ignore_ascii_case(sub));
                    }
                }
                None if !["id", "schemas", "meta"].contains(&k.as_str()) => {
                    obj.retain(|name, _| !name.eq_ignore_ascii_case(&k));
                }
                None => {}
            }
        }
    }
    v
}

// ---- users: filters ----------------------------------------------------------------------

/// The filters supported: `userName eq "…"`, `externalId eq "…"`, `id eq "…"` (the attribute
/// names and `eq` case-insensitively; the value a JSON string).
enum Filter {
    All,
    Db(ScimFilter),
    Id(String),
}

fn parse_filter(f: Option<&str>) -> Result<Filter> {
    let Some(f) = f.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(Filter::All);
    };
    let unsupported = || {
        ScimError::bad(
            "invalidFilter",
            format!(
                "unsupported filter `{f}`: use userName eq \"…\", externalId eq \"…\" or id eq \"…\""
            ),
        )
    };
    let mut parts = f.splitn(3, char::is_whitespace);
    let (Some(attr), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(unsupported());
    };
    if !op.eq_ignore_ascii_case("eq") {
        return Err(unsupported());
    }
    let value: String = serde_json::from_str(value.trim()).map_err(|_| unsupported())?;
    let attr = attr.strip_prefix(&format!("{USER}:")).unwrap_or(attr);
    match attr.to_ascii_lowercase().as_str() {
        "username" => Ok(Filter::Db(ScimFilter::UserName(
            value.trim().to_lowercase(),
        ))),
        "externalid" => Ok(Filter::Db(ScimFilter::ExternalId(value))),
        "id" => Ok(Filter::Id(value)),
        _ => Err(unsupported()),
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    filter: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct OneQuery {
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

fn user_id(id: &str) -> Result<PersonId> {
    id.parse::<uuid::Uuid>()
        .map(PersonId)
        .map_err(|_| ScimError::not_found(format!("no user {id}")))
}

/// Users as JSON.
fn users_json(c: &Caller, users: &[ScimUser]) -> Vec<Value> {
    users.iter().map(|u| user_json(&c.base, u)).collect()
}

async fn list_users(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    search(&app, &c, q).await
}

/// `POST /Users/.search`: the same query in a body (RFC 7644 §3.4.3).
async fn search_users(
    State(app): State<App>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    let v = body(&bytes)?;
    let list_of = |k: &str| match v.get(k) {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let q = ListQuery {
        filter: text(&v, "filter"),
        start_index: v.get("startIndex").and_then(Value::as_i64),
        count: v.get("count").and_then(Value::as_i64),
        attributes: list_of("attributes"),
        excluded_attributes: list_of("excludedAttributes"),
    };
    search(&app, &c, q).await
}

async fn search(app: &App, c: &Caller, q: ListQuery) -> Result<Response> {
    let start = u64::try_from(q.start_index.unwrap_or(1).max(1)).unwrap_or(1);
    let count = u64::try_from(q.count.unwrap_or(100).max(0))
        .unwrap_or(0)
        .min(MAX_COUNT);
    let (users, total) = match parse_filter(q.filter.as_deref())? {
        Filter::All => {
            app.scim_users(&c.actor, &c.org, &ScimFilter::All, start - 1, count)
                .await?
        }
        Filter::Db(f) => {
            app.scim_users(&c.actor, &c.org, &f, start - 1, count)
                .await?
        }
        Filter::Id(id) => match user_id(&id) {
            Ok(pid) => match app.scim_user(&c.actor, &c.org, pid).await {
                Ok(u) if start == 1 && count > 0 => (vec![u], 1),
                Ok(_) => (vec![], 1),
                Err(AppError::NotFound(_)) => (vec![], 0),
                Err(e) => return Err(e.into()),
            },
            Err(_) => (vec![], 0),
        },
    };
    let resources = users_json(c, &users)
        .into_iter()
        .map(|u| project(u, q.attributes.as_deref(), q.excluded_attributes.as_deref()))
        .collect();
    Ok(scim(StatusCode::OK, list(resources, total, start)))
}

fn one_user(c: &Caller, u: &ScimUser, q: &OneQuery) -> Value {
    project(
        user_json(&c.base, u),
        q.attributes.as_deref(),
        q.excluded_attributes.as_deref(),
    )
}

async fn get_user(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<OneQuery>,
) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    let u = app.scim_user(&c.actor, &c.org, user_id(&id)?).await?;
    Ok(scim(StatusCode::OK, one_user(&c, &u, &q)))
}

fn body(bytes: &Bytes) -> Result<Value> {
    serde_json::from_slice(bytes)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("the body is not JSON: {e}")))
}

fn with_location(status: StatusCode, v: Value) -> Response {
    let location = v["meta"]["location"].as_str().map(str::to_owned);
    let mut res = scim(status, v);
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(header::LOCATION, l);
    }
    res
}

async fn create_user(State(app): State<App>, headers: HeaderMap, bytes: Bytes) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    let input = user_input(&body(&bytes)?)?;
    let u = app.scim_save(&c.actor, &c.org, None, input).await?;
    let v = one_user(&c, &u, &OneQuery::default());
    Ok(with_location(StatusCode::CREATED, v))
}

async fn replace_user(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    let id = user_id(&id)?;
    // A user of another organisation is as missing as one that never was.
    app.scim_user(&c.actor, &c.org, id).await?;
    saved(&app, &c, id, user_input(&body(&bytes)?)?).await
}

/// Saves a user whole and answers with it.
async fn saved(app: &App, c: &Caller, id: PersonId, input: ScimUserInput) -> Result<Response> {
    let u = app.scim_save(&c.actor, &c.org, Some(id), input).await?;
    Ok(with_location(
        StatusCode::OK,
        one_user(c, &u, &OneQuery::default()),
    ))
}

async fn delete_user(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    app.scim_delete(&c.actor, &c.org, user_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- users: PATCH ------------------------------------------------------------------------

/// Where a PATCH path points: a top-level attribute (or the enterprise extension's), and a
/// sub-attribute of it.
struct Target {
    /// The key in the user's JSON (`userName`, `name`, `emails`, or the extension's URN).
    key: String,
    /// Inside the extension: `manager`; inside a complex attribute: its sub-attribute.
    sub: Option<String>,
    /// A sub-attribute of the extension's attribute (`manager.value`).
    subsub: Option<String>,
}

fn target(path: &str) -> Result<Target> {
    let bad = || ScimError::bad("invalidPath", format!("unsupported path `{path}`"));
    if let Some(rest) = path.strip_prefix(ENTERPRISE) {
        let rest = rest.trim_start_matches(':');
        if rest.is_empty() {
            return Ok(Target {
                key: ENTERPRISE.into(),
                sub: None,
                subsub: None,
            });
        }
        let (attr, sub) = match rest.split_once('.') {
            Some((a, s)) => (a, Some(s.to_owned())),
            None => (rest, None),
        };
        if !attr.eq_ignore_ascii_case("manager") {
            return Err(bad());
        }
        return Ok(Target {
            key: ENTERPRISE.into(),
            sub: Some("manager".into()),
            subsub: sub,
        });
    }
    let path = path.strip_prefix(&format!("{USER}:")).unwrap_or(path);
    // `emails[type eq "work"].value`: Rungs keeps one email, which any filter designates.
    let (head, rest) = match path.split_once('[') {
        Some((head, rest)) => {
            let after = rest.split_once(']').ok_or_else(bad)?.1;
            (head.to_owned(), after.trim_start_matches('.').to_owned())
        }
        None => match path.split_once('.') {
            Some((h, s)) => (h.to_owned(), s.to_owned()),
            None => (path.to_owned(), String::new()),
        },
    };
    let known = [
        "userName",
        "externalId",
        "displayName",
        "name",
        "emails",
        "active",
    ];
    let key = known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(&head))
        .ok_or_else(bad)?;
    Ok(Target {
        key: (*key).to_owned(),
        sub: Some(rest).filter(|s| !s.is_empty()),
        subsub: None,
    })
}

/// Sets `key` of `map` to `value`, or removes it when there is none.
fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            map.insert(key.to_owned(), v);
        }
        None => {
            map.remove(key);
        }
    }
}

/// Sets (or, with `None`, removes) what a path points at in the user's JSON.
fn apply(user: &mut Value, t: &Target, value: Option<Value>) {
    let Some(obj) = user.as_object_mut() else {
        return;
    };
    match (&t.sub, &t.subsub) {
        (None, _) => match value {
            // `emails` given whole: the primary (or first) one is kept.
            Some(v) => {
                // A complex attribute given whole keeps the sub-attributes it does not name.
                let v = match (obj.get(&t.key), v) {
                    (Some(Value::Object(old)), Value::Object(new))
                        if t.key == ENTERPRISE || t.key == "name" =>
                    {
                        let mut merged = old.clone();
                        merged.extend(new);
                        Value::Object(merged)
                    }
                    (_, v) => v,
                };
                obj.insert(t.key.clone(), v);
            }
            None => {
                obj.remove(&t.key);
            }
        },
        (Some(sub), None) if t.key == "emails" => {
            let list = obj.entry("emails").or_insert_with(|| json!([{}]));
            if !list.is_array() || list.as_array().is_some_and(Vec::is_empty) {
                *list = json!([{}]);
            }
            if let Some(first) = list.get_mut(0).and_then(Value::as_object_mut) {
                put(first, sub, value);
            }
        }
        (Some(sub), subsub) => {
            let outer = obj
                .entry(t.key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !outer.is_object() {
                *outer = Value::Object(Map::new());
            }
            let Some(outer) = outer.as_object_mut() else {
                return;
            };
            match subsub {
                None => put(outer, sub, value),
                Some(ss) => {
                    let inner = outer
                        .entry(sub.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if !inner.is_object() {
                        *inner = Value::Object(Map::new());
                    }
                    if let Some(inner) = inner.as_object_mut() {
                        put(inner, ss, value);
                    }
                }
            }
        }
    }
}

/// Applies a PatchOp's operations to a user's JSON (RFC 7644 §3.5.2).
fn patch(user: &mut Value, ops: &Value) -> Result<()> {
    let schemas_ok = ops
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|x| x == PATCH_OP));
    let list = ops
        .get("Operations")
        .or_else(|| ops.get("operations"))
        .and_then(Value::as_array)
        .filter(|_| schemas_ok)
        .ok_or_else(|| {
            ScimError::bad(
                "invalidSyntax",
                format!("a PATCH body is a {PATCH_OP} with Operations"),
            )
        })?;
    for op in list {
        let kind = text(op, "op").unwrap_or_default().to_ascii_lowercase();
        let path = text(op, "path");
        let value = op.get("value").cloned();
        match (kind.as_str(), path) {
            ("add" | "replace", None) => {
                let Some(Value::Object(fields)) = value else {
                    return Err(ScimError::bad(
                        "invalidValue",
                        "an operation without a path needs an object value",
                    ));
                };
                for (k, v) in fields {
                    let t = target(&k)?;
                    apply(user, &t, Some(v));
                }
            }
            ("add" | "replace", Some(p)) => {
                let v = value.ok_or_else(|| {
                    ScimError::bad("invalidValue", format!("`{kind}` of {p} needs a value"))
                })?;
                let t = target(&p)?;
                // A manager given as a bare id.
                let v = match (&t.sub, &t.subsub, v) {
                    (Some(m), None, Value::String(s)) if m == "manager" => json!({ "value": s }),
                    (_, _, v) => v,
                };
                apply(user, &t, Some(v));
            }
            ("remove", Some(p)) => {
                let t = target(&p)?;
                apply(user, &t, None);
            }
            ("remove", None) => {
                return Err(ScimError::bad("noTarget", "`remove` needs a path"));
            }
            _ => {
                return Err(ScimError::bad(
                    "invalidSyntax",
                    format!("unknown operation `{kind}`: add, replace or remove"),
                ));
            }
        }
    }
    Ok(())
}

async fn patch_user(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response> {
    let c = caller(&app, &headers).await?;
    let id = user_id(&id)?;
    let current = app.scim_user(&c.actor, &c.org, id).await?;
    let mut v = one_user(&c, &current, &OneQuery::default());
    patch(&mut v, &body(&bytes)?)?;
    saved(&app, &c, id, user_input(&v)?).await
}
