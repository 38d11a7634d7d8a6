//! `rungs serve`: the GraphQL API on an address, until Ctrl-C or SIGTERM.

use crate::config::Settings;
use crate::{Failure, open_with, source_text};
use rungs_api::ApiConfig;
use rungs_app::auth::{Auth, AuthConfig};
use rungs_app::demo::{DEMO_ORG, DEMO_PASSWORD};
use rungs_app::{Actor, App};
use rungs_db::redact_url;
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::time::Duration;

/// How many people `--demo` seeds.
const DEMO_PEOPLE: usize = 30;

pub struct ServeOptions {
    pub addr: Option<SocketAddr>,
    pub demo: bool,
    pub migrate: bool,
}

/// The authenticator from settings; `--demo` without a secret gets a random one for this run.
pub fn auth_from(settings: &Settings, demo: bool) -> Result<Auth, Failure> {
    let secret = match (&settings.jwt_secret, demo) {
        (Some(s), _) => s.clone(),
        (None, true) => {
            let mut bytes = [0u8; 48];
            getrandom_fill(&mut bytes)?;
            SecretString::from(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
        }
        (None, false) => {
            return Err(Failure(
                "a signing secret is required: set RUNGS_JWT_SECRET (or jwt_secret in rungs.toml) to at least 32 random bytes, for example `openssl rand -base64 48`; or try `rungs serve --demo`".into(),
            ));
        }
    };
    let mut cfg = AuthConfig::new(secret);
    cfg.issuer = settings.jwt_issuer.clone();
    cfg.audience = settings.jwt_audience.clone();
    cfg.access_ttl = chrono::Duration::minutes(settings.access_token_minutes.max(1));
    cfg.refresh_ttl = chrono::Duration::days(settings.refresh_token_days.max(1));
    cfg.max_issued_ttl = chrono::Duration::days(settings.issued_token_max_days.max(1));
    cfg.web.idle = chrono::Duration::minutes(settings.session_idle_minutes.max(1));
    cfg.web.absolute = chrono::Duration::hours(settings.session_max_hours.max(1));
    if settings.password_checks_at_once > 0 {
        cfg.max_concurrent_hashes = settings.password_checks_at_once;
    }
    cfg.hash_wait = Duration::from_millis(settings.sign_in_wait_ms);
    cfg.sign_ins_per_address = settings.sign_ins_per_address_per_minute.max(1);
    cfg.sign_ins_per_account = settings.sign_ins_per_account_per_minute.max(1);
    cfg.trusted_proxies = settings.trusted_proxies.clone();
    Auth::new(cfg).map_err(|e| Failure(e.to_string()))
}

fn getrandom_fill(bytes: &mut [u8]) -> Result<(), Failure> {
    // The OS generator, through the same crate the authenticator uses for its tokens.
    rungs_app::auth::random_bytes(bytes).map_err(|e| Failure(e.to_string()))
}

pub async fn serve(settings: &Settings, url: &str, opts: ServeOptions) -> Result<(), Failure> {
    let auth = auth_from(settings, opts.demo)?;
    let pool = rungs_db::PoolOptions {
        acquire_timeout: std::time::Duration::from_millis(settings.database_wait_ms.max(100)),
        // A request stopped at its timeout leaves no statement running behind it.
        statement_timeout: Some(std::time::Duration::from_secs(
            settings.request_timeout_secs.max(1),
        )),
    };
    let app: App = open_with(url, opts.migrate || opts.demo, pool)
        .await?
        .with_auth(auth);
    if opts.demo {
        let summary = app
            .seed_demo(&Actor::system(), DEMO_PEOPLE)
            .await
            .map_err(|e| Failure(e.to_string()))?;
        if summary.created {
            println!(
                "Seeded the `{DEMO_ORG}` organisation: {} people, {} assessments, {} open promotion case(s).",
                summary.people, summary.assessments, summary.open_cases
            );
        }
        println!("Demo logins (password `{DEMO_PASSWORD}`, organisation `{DEMO_ORG}`):");
        for (role, email) in &summary.logins {
            println!("  {role:<9} {email}");
        }
    }
    let cfg = ApiConfig {
        introspection: settings.introspection || opts.demo,
        max_depth: settings.max_depth,
        max_complexity: settings.max_complexity,
        max_batch: settings.max_batch,
        body_limit: settings.body_limit_bytes,
        request_timeout: Duration::from_secs(settings.request_timeout_secs.max(1)),
        metrics_token: settings
            .metrics_token
            .clone()
            .filter(|t| !t.expose_secret().is_empty()),
    };
    let introspection = cfg.introspection;
    let web = rungs_web::router(
        app.clone(),
        rungs_web::WebConfig {
            secure_cookies: settings.secure_cookies,
            public_url: settings.public_url.clone(),
        },
    );
    let router = rungs_api::router_with(app.clone(), cfg, web);
    let addr = opts.addr.unwrap_or(settings.addr);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure(format!("cannot listen on {addr}: {e}")))?;
    println!(
        "Rungs is listening on http://{local}/ (web app; the API is at http://{local}/graphql; database {})",
        redact_url(url)
    );
    if opts.demo {
        println!("Sign in: open http://{local}/signin?org={DEMO_ORG} in a browser");
    }
    if introspection {
        println!("GraphiQL: open http://{local}/graphql in a browser");
    }
    tracing::info!(%local, "listening");
    // On a signal: stop accepting, let requests in flight finish, but not for longer than the
    // grace period; then close the pool.
    let grace = Duration::from_secs(settings.shutdown_grace_secs);
    let (signalled, mut on_signal) = tokio::sync::watch::channel(false);
    let limits = rungs_api::ServeLimits {
        header_read_timeout: Duration::from_secs(settings.header_read_timeout_secs.max(1)),
        max_connections: settings.max_connections.max(1),
    };
    let server = rungs_api::serve(listener, router, limits, async move {
        shutdown_signal().await;
        let _ = signalled.send(true);
    });
    let deadline = async move {
        let _ = on_signal.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        () = server => {}
        () = deadline => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight after the grace period: closing them");
            println!("Requests still in flight after {}s were cut off", grace.as_secs());
        }
    }
    app.db()
        .clone()
        .close()
        .await
        .map_err(|e| Failure(source_text(&e)))?;
    println!("Rungs stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    println!("Shutting down: no new connections; finishing requests in flight");
    tracing::info!("shutting down: finishing requests in flight");
}
