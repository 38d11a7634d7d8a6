//! A sign-in flood (issue 13, row 3): password checks take turns (`max_concurrent_hashes`), so
//! the memory they hold is bounded; a sign-in that cannot get a turn within `hash_wait` is
//! refused with RATE_LIMITED, HTTP 429 and `Retry-After`, never an internal error; once the
//! flood is over, signing in works at once.

#![allow(clippy::unwrap_used)]

mod common;

use rungs_api::ApiConfig;
use rungs_app::demo::{DEMO_EMPLOYEE, DEMO_PASSWORD};
use rungs_db::testing::TestDb;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_sign_in_flood_takes_turns_and_the_excess_is_told_to_retry() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let mut cfg = common::auth_config();
    cfg.max_concurrent_hashes = 1;
    cfg.hash_wait = Duration::from_millis(100);
    let app = rungs_app::App::new(t.db.clone()).with_auth(rungs_app::auth::Auth::new(cfg).unwrap());
    common::seed_two_orgs(&app).await;
    let router = rungs_api::router(app, ApiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();
    let send = |e: &str, p: &str| {
        http.post(format!("{base}/graphql"))
            .json(&json!({ "query": common::LOGIN, "variables": { "o": "demo", "e": e, "p": p } }))
            .send()
    };

    // 40 sign-ins at once, of emails that do not exist (each costs a full password check).
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..40 {
        let req = send(&format!("nobody{i}@demo.rungs.test"), "a-wrong-password");
        flood.spawn(async move {
            let res = req.await.unwrap();
            let status = res.status().as_u16();
            let retry = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: serde_json::Value = res.json().await.unwrap();
            let code = body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap()
                .to_owned();
            (status, code, retry)
        });
    }
    let (mut refused, mut limited) = (0, 0);
    while let Some(r) = flood.join_next().await {
        let (status, code, retry) = r.unwrap();
        match (status, code.as_str()) {
            (200 | 401, "UNAUTHENTICATED") => refused += 1,
            (429, "RATE_LIMITED") => {
                assert_eq!(retry.as_deref(), Some("5"));
                limited += 1;
            }
            other => panic!("unexpected answer to a flooded sign-in: {other:?}"),
        }
    }
    eprintln!(
        "40 sign-ins at once, one password check at a time: {refused} checked and refused, {limited} told to retry"
    );
    assert!(refused >= 1, "no sign-in got a turn");
    assert!(limited >= 1, "the flood was never held back");

    // The flood is over: the right password works at once.
    let res = send(DEMO_EMPLOYEE, DEMO_PASSWORD).await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
}
