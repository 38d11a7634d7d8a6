//! Shared by the API tests: a real server on a free port over a fresh database, and a client.

#![allow(dead_code)]

use rungs_api::ApiConfig;
use rungs_app::App;
use rungs_app::auth::{Auth, AuthConfig};
use rungs_app::demo::DEMO_PASSWORD;
use rungs_db::Db;
use serde_json::{Value, json};

#[allow(unused_imports)]
pub use rungs_app::testing::{BETA_PEOPLE, roles, seed_two_orgs};

pub const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

/// The tests' settings: sign-in rate limits far above what they send (one process, one address,
/// many sign-ins of the same people), so that only the test of the limits meets them.
pub fn auth_config() -> AuthConfig {
    let mut cfg = AuthConfig::new(SECRET.to_owned().into());
    cfg.sign_ins_per_address = 100_000;
    cfg.sign_ins_per_account = 100_000;
    cfg
}

pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    pub app: App,
}

/// Starts the real router on 127.0.0.1:<free port>.
pub async fn spawn(db: &Db, cfg: ApiConfig) -> Server {
    let app = App::new(db.clone()).with_auth(Auth::new(auth_config()).unwrap());
    let router = rungs_api::router(app.clone(), cfg);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Server {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        app,
    }
}

/// A server that knows each connection's address (as `rungs serve` does), with `cfg`.
pub async fn spawn_with_addresses(db: &Db, cfg: AuthConfig) -> Server {
    let app = App::new(db.clone()).with_auth(Auth::new(cfg).unwrap());
    let router = rungs_api::router(app.clone(), ApiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    Server {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        app,
    }
}

/// The open promotion case of an organisation's employee, as its HR admin sees it.
pub async fn open_case(s: &Server, admin_token: &str) -> String {
    let r = s
        .gql(
            Some(admin_token),
            "{ promotionCases(status: PROPOSED, first: 100) { edges { node { id person { email } } } } }",
            json!({}),
        )
        .await;
    r.ok()["promotionCases"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["node"]["person"]["email"]
                .as_str()
                .is_some_and(|m| m.starts_with("employee@"))
        })
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .expect("an open case for the employee")
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The first error's code, if any.
    pub fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.body);
        assert!(self.body.get("errors").is_none(), "{}", self.body);
        &self.body["data"]
    }
}

impl Server {
    pub async fn post(&self, token: Option<&str>, body: Value) -> Reply {
        let mut req = self.http.post(format!("{}/graphql", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body = res.json().await.unwrap_or(Value::Null);
        Reply { status, body }
    }

    pub async fn gql(&self, token: Option<&str>, query: &str, vars: Value) -> Reply {
        self.post(token, json!({ "query": query, "variables": vars }))
            .await
    }

    /// Signs in to the organisation the email's domain names (`hr@acme.test` to `acme`)
    /// and returns (access token, refresh token).
    pub async fn login(&self, email: &str) -> (String, String) {
        let r = self
            .gql(
                None,
                LOGIN,
                json!({ "o": org_of(email), "e": email, "p": DEMO_PASSWORD }),
            )
            .await;
        let d = &r.ok()["login"];
        (
            d["accessToken"].as_str().unwrap().to_owned(),
            d["refreshToken"].as_str().unwrap().to_owned(),
        )
    }

    /// A person's id by email, as an HR admin of their organisation sees it.
    pub async fn id_of(&self, admin_token: &str, email: &str) -> String {
        let r = self
            .gql(
                Some(admin_token),
                "query($s: String) { people(first: 5, filter: { search: $s }) { edges { node { id email } } } }",
                json!({ "s": email }),
            )
            .await;
        r.ok()["people"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["email"] == email)
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{email} not found"))
    }
}

/// The sign-in mutation, with its variables `$o` (organisation), `$e` and `$p`.
pub const LOGIN: &str = "mutation($o: String!, $e: String!, $p: String!) { login(organisation: $o, email: $e, password: $p) { accessToken refreshToken } }";

/// The organisation of a test person: the first label of their email's domain (the demo's
/// `employee@demo.rungs.test` belongs to `demo`).
pub fn org_of(email: &str) -> &str {
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
    domain.split('.').next().unwrap_or("")
}
