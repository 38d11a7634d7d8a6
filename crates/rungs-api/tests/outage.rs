//! A database that goes away and comes back (issue 13, row 8), on PostgreSQL and MariaDB: the
//! server talks to the real database through a TCP relay that the test cuts (every connection
//! closed and the port closed, as when the server stops) and restores on the same port. With the database
//! gone, requests fail fast with UNAVAILABLE and HTTP 503, `/readyz` answers 503 within its
//! second, and once it is back the same server serves again, with no restart. SQLite is a file
//! in the process: there is no server to lose.

#![allow(clippy::unwrap_used)]

mod common;

use common::{seed_two_orgs, spawn};
use rungs_api::ApiConfig;
use rungs_app::demo::DEMO_EMPLOYEE;
use rungs_db::testing::{TestDb, backends};
use rungs_db::{Backend, Db, PoolOptions};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A TCP relay to the database that can be cut and restored.
struct Relay {
    addr: std::net::SocketAddr,
    upstream: String,
    accepting: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    pipes: Arc<std::sync::Mutex<JoinSet<()>>>,
}

impl Relay {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = Self {
            addr: listener.local_addr().unwrap(),
            upstream,
            accepting: std::sync::Mutex::new(None),
            pipes: Arc::new(std::sync::Mutex::new(JoinSet::new())),
        };
        relay.accept(listener);
        relay
    }

    fn accept(&self, listener: TcpListener) {
        let (upstream, pipes) = (self.upstream.clone(), self.pipes.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                pipes.lock().unwrap().spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
        *self.accepting.lock().unwrap() = Some(task);
    }

    /// The database stops: every open connection is closed, and new ones are refused (the
    /// port is closed).
    async fn cut(&self) {
        let task = self.accepting.lock().unwrap().take().unwrap();
        task.abort();
        let _ = task.await; // the listener is dropped
        self.pipes.lock().unwrap().abort_all();
        let refused = TcpStream::connect(self.addr).await;
        assert!(refused.is_err(), "the relay still accepts");
    }

    /// The database is back, at the same address.
    async fn restore(&self) {
        self.accept(TcpListener::bind(self.addr).await.unwrap());
    }
}

/// The `host:port` of a database URL.
fn server_of(url: &str) -> &str {
    let start = url
        .find('@')
        .or_else(|| url.find("://").map(|i| i + 2))
        .unwrap()
        + 1;
    let end = url[start..].find('/').map_or(url.len(), |i| i + start);
    &url[start..end]
}

#[tokio::test]
async fn a_database_outage_fails_fast_with_503_and_service_resumes_by_itself() {
    let servers: Vec<Backend> = backends()
        .into_iter()
        .filter(|b| *b != Backend::Sqlite)
        .collect();
    if servers.is_empty() {
        eprintln!(
            "SKIPPED the database outage test: it needs PostgreSQL or MariaDB (set RUNGS_TEST_POSTGRES_URL or RUNGS_TEST_MYSQL_URL)"
        );
        return;
    }
    for backend in servers {
        let b = format!("{backend:?}");
        let t = TestDb::fresh(backend).await;
        // The relay in front of the database, and the server's URL through it.
        let relay = Relay::start(server_of(&t.url).to_owned()).await;
        let url = t
            .url
            .replacen(server_of(&t.url), &relay.addr.to_string(), 1);
        let db = Db::connect_with(
            &url,
            PoolOptions {
                acquire_timeout: Duration::from_secs(2),
                ..PoolOptions::default()
            },
        )
        .await
        .unwrap();
        let s = spawn(&db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let (token, _) = s.login(DEMO_EMPLOYEE).await;
        let me = "{ me { email } }";
        let r = s.gql(Some(&token), me, json!({})).await;
        assert_eq!(r.ok()["me"]["email"], DEMO_EMPLOYEE, "{b}");
        let ready = async || {
            let started = Instant::now();
            let res = s
                .http
                .get(format!("{}/readyz", s.base))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), started.elapsed())
        };
        assert_eq!(ready().await.0, 200, "{b}");

        relay.cut().await;
        let started = Instant::now();
        let r = s.gql(Some(&token), me, json!({})).await;
        let took = started.elapsed();
        eprintln!(
            "{b}: with the database down, `me` answered {} in {took:?}",
            r.status
        );
        assert_eq!(r.status, 503, "{b}: {}", r.body);
        assert_eq!(r.code(), Some("UNAVAILABLE"), "{b}: {}", r.body);
        assert!(took < Duration::from_secs(5), "{b}: took {took:?}");
        let text = r.body.to_string().to_lowercase();
        assert!(
            !text.contains("pool") && !text.contains("sqlx") && !text.contains("connection"),
            "{b}: driver text reached the client: {text}"
        );
        // An anonymous sign-in reads the database too.
        let r = s
            .gql(
                None,
                "mutation { login(organisation: \"demo\", email: \"employee@demo.rungs.test\", password: \"x\") { accessToken } }",
                json!({}),
            )
            .await;
        assert_eq!(r.code(), Some("UNAVAILABLE"), "{b}: {}", r.body);
        let (status, took) = ready().await;
        eprintln!("{b}: with the database down, /readyz answered {status} in {took:?}");
        assert_eq!(status, 503, "{b}");
        assert!(
            took < Duration::from_millis(1500),
            "{b}: /readyz took {took:?}"
        );

        relay.restore().await;
        let mut back = None;
        for _ in 0..50 {
            let r = s.gql(Some(&token), me, json!({})).await;
            if r.status == 200 {
                back = Some(r);
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let r = back.unwrap_or_else(|| panic!("{b}: the server did not recover"));
        assert_eq!(r.ok()["me"]["email"], DEMO_EMPLOYEE, "{b}");
        assert_eq!(ready().await.0, 200, "{b}");
        t.drop_database().await;
    }
}
