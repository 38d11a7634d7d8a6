//! The server loop's limits over real TCP (issue 13, row 5): slow-loris connections, which
//! send a request head a byte at a time, are closed after the header-read timeout; beyond the
//! connection cap, connections wait instead of exhausting the process; a normal client is
//! served throughout.

#![allow(clippy::unwrap_used)]

mod common;

use rungs_api::{ApiConfig, ServeLimits};
use rungs_db::testing::TestDb;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn slow_clients_are_closed_and_a_normal_client_is_served_meanwhile() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let app = rungs_app::App::new(t.db.clone())
        .with_auth(rungs_app::auth::Auth::new(common::auth_config()).unwrap());
    let router = rungs_api::router(app, ApiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = ServeLimits {
        header_read_timeout: Duration::from_secs(1),
        max_connections: 20,
    };
    tokio::spawn(rungs_api::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));

    // 30 slow clients (more than the cap), each sending its head one byte every 200 ms.
    let started = Instant::now();
    let mut slow = tokio::task::JoinSet::new();
    for _ in 0..30 {
        slow.spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
            for b in head {
                if s.write_all(&[*b]).await.is_err() {
                    return Instant::now(); // closed by the server
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            // The whole head took about 19 s: it must have been closed long before.
            let mut buf = [0u8; 256];
            let _ = s.read(&mut buf).await;
            panic!("a slow client sent its whole head without being closed");
        });
    }

    // Meanwhile, a normal client is served: at once, or once a slot frees.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let normal = Instant::now();
    let res = tokio::time::timeout(
        Duration::from_secs(10),
        reqwest::get(format!("http://{addr}/healthz")),
    )
    .await
    .expect("the normal client was never served")
    .unwrap();
    assert_eq!(res.status(), 200);
    let waited = normal.elapsed();

    let mut closed_after = Vec::new();
    while let Some(r) = slow.join_next().await {
        closed_after.push(r.unwrap() - started);
    }
    closed_after.sort();
    eprintln!(
        "30 slow clients closed after {:?} to {:?}; the normal client was served in {waited:?}",
        closed_after[0],
        closed_after[closed_after.len() - 1]
    );
    // Each slow client was cut off well before its 19 s head was done (the first 20 after the
    // 1 s timeout, the other 10 once a slot freed and their own second ran out).
    assert!(
        closed_after[closed_after.len() - 1] < Duration::from_secs(8),
        "{closed_after:?}"
    );
}
