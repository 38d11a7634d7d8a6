//! Settings: defaults < `rungs.toml` (or the file named by `--config`) < `RUNGS_*` environment
//! variables < command-line flags. `Debug` never shows the signing secret.

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub database_url: String,
    pub addr: SocketAddr,
    /// HS256 signing secret (at least 32 bytes). Required by `rungs serve` outside `--demo`.
    pub jwt_secret: Option<SecretString>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_minutes: i64,
    pub refresh_token_days: i64,
    /// The longest lifetime `rungs token issue` gives a token.
    pub issued_token_max_days: i64,
    /// Introspection and GraphiQL.
    pub introspection: bool,
    pub log_format: LogFormat,
    pub request_timeout_secs: u64,
    /// After SIGTERM or Ctrl-C, how long requests in flight may take to finish before the
    /// server closes their connections anyway.
    pub shutdown_grace_secs: u64,
    /// An OTLP/HTTP collector to export traces to, such as `http://otel-collector:4318/v1/traces`
    /// (builds with the `otel` feature only).
    pub otel_endpoint: Option<String>,
    pub body_limit_bytes: usize,
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_batch: usize,
    /// Mark the web app's cookies `Secure` always (set it when users reach Rungs over
    /// HTTPS; behind a proxy that sends `X-Forwarded-Proto: https` they are marked anyway).
    pub secure_cookies: bool,
    /// The address people reach Rungs at, such as `https://rungs.example.com`: single sign-on
    /// sends browsers back to `<public_url>/signin/callback`. Unset: the request's own host.
    pub public_url: Option<String>,
    /// Web sessions end after this many minutes without a request…
    pub session_idle_minutes: i64,
    /// …and this many hours after signing in, however active.
    pub session_max_hours: i64,
    /// The server's longest wait for a database connection (opening one included): with the
    /// database down, requests fail with UNAVAILABLE (HTTP 503) after this.
    pub database_wait_ms: u64,
    /// A connection that has not sent a request's head within this many seconds (a slow
    /// client, or a keep-alive connection idle that long) is closed.
    pub header_read_timeout_secs: u64,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Password checks run at once (Argon2id holds 19 MiB each); 0 means one per core.
    pub password_checks_at_once: usize,
    /// How long a sign-in waits for its turn to check a password before it gets 429.
    pub sign_in_wait_ms: u64,
    /// Sign-ins started per minute from one client address, and for one email.
    pub sign_ins_per_address_per_minute: u32,
    pub sign_ins_per_account_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` names the client (exact addresses).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// When set, `/metrics` needs `Authorization: Bearer <metrics_token>`.
    pub metrics_token: Option<SecretString>,
}

impl Default for Settings {
    fn default() -> Self {
        let api = rungs_api::ApiConfig::default();
        Self {
            database_url: "sqlite://rungs.db".into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            jwt_secret: None,
            jwt_issuer: "rungs".into(),
            jwt_audience: "rungs-api".into(),
            access_token_minutes: 15,
            refresh_token_days: 30,
            issued_token_max_days: 90,
            introspection: false,
            log_format: LogFormat::Pretty,
            request_timeout_secs: api.request_timeout.as_secs(),
            shutdown_grace_secs: 20,
            otel_endpoint: None,
            body_limit_bytes: api.body_limit,
            max_depth: api.max_depth,
            max_complexity: api.max_complexity,
            max_batch: api.max_batch,
            secure_cookies: false,
            public_url: None,
            session_idle_minutes: 30,
            session_max_hours: 12,
            database_wait_ms: 3000,
            header_read_timeout_secs: rungs_api::ServeLimits::default()
                .header_read_timeout
                .as_secs(),
            max_connections: rungs_api::ServeLimits::default().max_connections,
            password_checks_at_once: 0,
            sign_in_wait_ms: 2000,
            sign_ins_per_address_per_minute: 30,
            sign_ins_per_account_per_minute: 10,
            trusted_proxies: Vec::new(),
            metrics_token: None,
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &rungs_db::redact_url(&self.database_url))
            .field("addr", &self.addr)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("introspection", &self.introspection)
            .field("log_format", &self.log_format)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Reads the file (if present) and the environment over the defaults.
    pub fn load(file: &Path) -> Result<Self, String> {
        Figment::new()
            .merge(Toml::file(file))
            // RUNGS_LOG is the log filter and RUNGS_TEST_* belong to the tests, not settings.
            .merge(Env::prefixed("RUNGS_").ignore(&["log", "test_postgres_url", "test_mysql_url"]))
            .extract()
            .map_err(|e| format!("invalid configuration ({}): {e}", file.display()))
    }
}
