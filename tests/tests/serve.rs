//! `rungs serve` as a newcomer and an operator run it: the README's run command (`serve
//! --demo`) on every backend, the refusals without a secret or with pending migrations, and
//! `user set-password` / `token issue` feeding a real server.

#![allow(clippy::unwrap_used)]

use rungs_db::testing::{TestDb, backends};
use rungs_tests::{Running, rungs, serve};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SECRET: &str = "an-operator-secret-of-at-least-32-bytes-0123456789";

async fn gql(base: &str, token: Option<&str>, query: &str, vars: Value) -> Value {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

/// Signs in to the organisation the email's domain names (`hr@demo.rungs.test` to `demo`).
async fn login(base: &str, email: &str, password: &str) -> Value {
    let org = email
        .rsplit_once('@')
        .and_then(|(_, d)| d.split('.').next())
        .unwrap_or("");
    gql(
        base,
        None,
        "mutation($o: String!, $e: String!, $p: String!) { login(organisation: $o, email: $e, password: $p) { accessToken person { email } } }",
        json!({ "o": org, "e": email, "p": password }),
    )
    .await
}

/// The README's run command: one command, and the printed logins work.
async fn demo(dir: &Path, url: Option<&str>) {
    let s = serve(rungs(dir, url), &["--demo"]).unwrap();
    let banner = s.banner.join("\n");
    assert!(
        banner.contains("Seeded the `demo` organisation: 30 people"),
        "{banner}"
    );
    let password = banner
        .split("password `")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .unwrap();
    let logins: Vec<&str> = s
        .banner
        .iter()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|w| w.contains('@'))
        .collect();
    assert_eq!(logins.len(), 3, "{banner}");
    let mut seen = Vec::new();
    for email in logins {
        let r = login(&s.base, email, password).await;
        let token = r["data"]["login"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = gql(
            &s.base,
            Some(&token),
            "{ me { email } people { totalCount } }",
            json!({}),
        )
        .await;
        assert_eq!(r["data"]["me"]["email"], email, "{r}");
        seen.push(r["data"]["people"]["totalCount"].as_u64().unwrap());
    }
    // HR admin sees everyone, the manager a team, the employee themselves.
    assert_eq!(seen[0], 30);
    assert!(seen[1] > 1 && seen[1] < 30, "{seen:?}");
    assert_eq!(seen[2], 1);
    let res = reqwest::get(format!("{}/graphql", s.base)).await.unwrap();
    assert_eq!(res.status(), 200, "GraphiQL is on in the demo");
    drop(s);
    // Again on the same database: nothing is seeded twice.
    let s = serve(rungs(dir, url), &["--demo"]).unwrap();
    assert!(!s.banner.join("\n").contains("Seeded"), "{:?}", s.banner);
    let r = login(&s.base, "hr@demo.rungs.test", password).await;
    assert!(r["data"]["login"].is_object(), "{r}");
}

#[tokio::test]
async fn serve_demo_starts_a_server_a_newcomer_can_sign_in_to() {
    // The default: rungs.db in the working directory.
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path(), None).await;
    assert!(dir.path().join("rungs.db").exists());
    for backend in backends().into_iter().skip(1) {
        let t = TestDb::empty(backend).await;
        demo(dir.path(), Some(&t.url)).await;
        t.drop_database().await;
    }
}

#[tokio::test]
async fn serve_refuses_without_a_secret_or_with_pending_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let err = serve(rungs(dir.path(), None), &[]).err().unwrap();
    assert!(err.contains("RUNGS_JWT_SECRET"), "{err}");
    let mut with_secret = rungs(dir.path(), None);
    with_secret.env("RUNGS_JWT_SECRET", SECRET);
    let err = serve(with_secret, &[]).err().unwrap();
    assert!(err.contains("pending migration(s)"), "{err}");
    let mut short = rungs(dir.path(), None);
    short.env("RUNGS_JWT_SECRET", "short");
    let err = serve(short, &["--migrate"]).err().unwrap();
    assert!(err.contains("at least 32 bytes"), "{err}");
    let mut ok = rungs(dir.path(), None);
    ok.env("RUNGS_JWT_SECRET", SECRET).env("RUNGS_LOG", "debug");
    let s = serve(ok, &["--migrate"]).unwrap();
    let res = reqwest::get(format!("{}/readyz", s.base)).await.unwrap();
    assert_eq!(res.status(), 200);
    let res = reqwest::get(format!("{}/graphql", s.base)).await.unwrap();
    assert_eq!(res.status(), 404, "GraphiQL is off by default");
    assert!(
        !s.banner.join("\n").contains(SECRET),
        "the secret is never printed"
    );
}

#[tokio::test]
async fn set_password_and_token_issue_feed_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut c = rungs(dir.path(), None);
        c.env("RUNGS_JWT_SECRET", SECRET)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    assert!(run(&["db", "migrate"], None).0);
    assert!(run(&["org", "create", "acme", "--name", "Acme"], None).0);
    std::fs::write(
        dir.path().join("p.csv"),
        "email,name,admin\nops@acme.test,Ops,yes\n",
    )
    .unwrap();
    assert!(run(&["people", "import", "p.csv", "--org", "acme"], None).0);
    let (ok, _, err) = run(
        &["user", "set-password", "ops@acme.test", "--org", "acme"],
        Some("short\n"),
    );
    assert!(!ok && err.contains("10 to 256 characters"), "{err}");
    let (ok, out, err) = run(
        &["user", "set-password", "ops@acme.test", "--org", "acme"],
        Some("correct horse battery staple\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("password set for ops@acme.test"), "{out}");
    let (ok, token, err) = run(
        &[
            "token",
            "issue",
            "ops@acme.test",
            "--org",
            "acme",
            "--ttl",
            "10m",
        ],
        None,
    );
    assert!(ok, "{err}");
    let token = token.trim().to_owned();
    assert!(err.contains("expires"), "{err}");
    let issued_line = err.clone();
    let (ok, _, err) = run(
        &["token", "issue", "nobody@acme.test", "--org", "acme"],
        None,
    );
    assert!(!ok && err.contains("not found"), "{err}");
    // Tokens for automation live at most `issued_token_max_days` (90 by default).
    let issue = |ttl: &'static str| {
        run(
            &[
                "token",
                "issue",
                "ops@acme.test",
                "--org",
                "acme",
                "--ttl",
                ttl,
            ],
            None,
        )
    };
    let (ok, _, err) = issue("90d");
    assert!(ok, "{err}");
    let (ok, _, err) = issue("91d");
    assert!(!ok && err.contains("90 days"), "{err}");

    let mut cmd = rungs(dir.path(), None);
    cmd.env("RUNGS_JWT_SECRET", SECRET);
    let s = serve(cmd, &[]).unwrap();
    let r = gql(&s.base, Some(&token), "{ me { email isAdmin } }", json!({})).await;
    assert_eq!(r["data"]["me"]["email"], "ops@acme.test", "{r}");
    // Issued tokens are listed, and one revoked from the command line is refused by the
    // running server from the next request on.
    let id = issued_line
        .split_whitespace()
        .nth(1)
        .expect("`token <id> expires ...`")
        .to_owned();
    let (ok, listed, err) = run(
        &["token", "list", "--org", "acme", "--format", "json"],
        None,
    );
    assert!(ok, "{err}");
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id.as_str()
                && t["email"] == "ops@acme.test"
                && t["status"] == "live"),
        "{listed}"
    );
    let (ok, out, err) = run(&["token", "revoke", &id, "--org", "acme"], None);
    assert!(ok && out.contains("revoked"), "{out}{err}");
    let r = gql(&s.base, Some(&token), "{ me { email } }", json!({})).await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{r}"
    );
    let (ok, _, err) = run(&["token", "revoke", &id, "--org", "acme"], None);
    assert!(!ok && err.contains("no live issued token"), "{err}");
    let (_, listed, _) = run(&["token", "list", "--org", "acme", "--all"], None);
    assert!(listed.contains("revoked"), "{listed}");
    let r = login(&s.base, "ops@acme.test", "correct horse battery staple").await;
    assert!(r["data"]["login"]["accessToken"].is_string(), "{r}");
    // A token signed with another secret is refused by this server.
    let mut other = rungs(dir.path(), None);
    other
        .env(
            "RUNGS_JWT_SECRET",
            "a-different-secret-of-at-least-32-bytes-xyz",
        )
        .args(["token", "issue", "ops@acme.test", "--org", "acme"]);
    let foreign = String::from_utf8(other.output().unwrap().stdout).unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/graphql", s.base))
        .bearer_auth(foreign.trim())
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

/// Waits (boundedly) for a line containing `what`; returns every line read.
fn wait_for_line(s: &Running, what: &str) -> Vec<String> {
    let mut seen = Vec::new();
    while let Ok(line) = s.lines.recv_timeout(Duration::from_secs(60)) {
        let done = line.contains(what);
        seen.push(line);
        if done {
            return seen;
        }
    }
    panic!("no line with `{what}`; saw {seen:?}");
}

/// A request whose body is only half sent: it stays in flight until the rest comes.
fn half_sent_request(base: &str) -> (std::net::TcpStream, Vec<u8>) {
    let addr = base.trim_start_matches("http://");
    let body = br#"{"query":"{ apiVersion }"}"#.to_vec();
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    write!(
        tcp,
        "POST /graphql HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    tcp.write_all(first).unwrap();
    tcp.flush().unwrap();
    (tcp, rest.to_vec())
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM");
}

/// SIGTERM: no new connections, the request in flight finishes, the pool closes, exit 0; a
/// request that never finishes is cut off after the grace period.
#[test]
fn sigterm_drains_requests_in_flight_within_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = rungs(dir.path(), None);
    cmd.env("RUNGS_SHUTDOWN_GRACE_SECS", "30")
        .env("RUNGS_LOG_FORMAT", "json")
        .env("RUNGS_LOG", "info");
    let mut s = serve(cmd, &["--demo"]).unwrap();
    let addr = s.base.trim_start_matches("http://").to_owned();
    // The container health check: `rungs probe` answers 0 while the server is ready.
    let probe = |addr: &str| {
        rungs(dir.path(), None)
            .args(["probe", "--addr", addr])
            .output()
            .unwrap()
    };
    let up = probe(&addr);
    assert!(up.status.success(), "{up:?}");
    let (mut tcp, rest) = half_sent_request(&s.base);
    std::thread::sleep(Duration::from_millis(200)); // the server has the request
    sigterm(&s.child);
    wait_for_line(&s, "Shutting down");
    // No new connections once shutting down.
    let mut refused = false;
    for _ in 0..50 {
        if std::net::TcpStream::connect(&addr).is_err() {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(refused, "still accepting connections after SIGTERM");
    // The request in flight completes normally.
    tcp.write_all(&rest).unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut tcp, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("apiVersion"), "{response}");
    let tail = wait_for_line(&s, "Rungs stopped");
    assert!(!tail.iter().any(|l| l.contains("cut off")), "{tail:?}");
    assert!(s.child.wait().unwrap().success());
    // JSON logs: one object per line; the finished request carries its id and status.
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut s.child.stderr.take().unwrap(), &mut logs).unwrap();
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let finished = lines
        .iter()
        .find(|l| l["fields"]["message"] == "request finished" && l["span"]["path"] == "/graphql")
        .unwrap_or_else(|| panic!("no finished request in {logs}"));
    assert_eq!(finished["span"]["status"], 200, "{finished}");
    assert!(
        finished["span"]["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36),
        "{finished}"
    );
    let down = probe(&addr);
    assert!(!down.status.success(), "{down:?}");

    // A request that never completes is cut off after the (short) grace period.
    let mut cmd = rungs(dir.path(), None);
    cmd.env("RUNGS_SHUTDOWN_GRACE_SECS", "1");
    let mut s = serve(cmd, &["--demo"]).unwrap();
    let (_stuck, _) = half_sent_request(&s.base);
    std::thread::sleep(Duration::from_millis(200));
    sigterm(&s.child);
    let tail = wait_for_line(&s, "Rungs stopped");
    assert!(
        tail.iter().any(|l| l.contains("after 1s were cut off")),
        "{tail:?}"
    );
    assert!(s.child.wait().unwrap().success());
}
