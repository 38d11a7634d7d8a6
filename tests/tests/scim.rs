//! A third-party SCIM 2.0 conformance checker against the real binary, on every backend:
//! `scim2 test` from `scim2-cli` (PyPI), which runs `scim2-tester`'s checks (discovery
//! endpoints, methods refused, creation, reads with and without attributes, searches, PUT,
//! PATCH add/replace/remove of every attribute the schemas publish, deletion).
//!
//! - `RUNGS_TEST_SCIM` (set by `.ci/run`): the `scim2` command; the check must run, and fail
//!   loudly if it cannot. Without it, `target/ci-tools/scim/bin/scim2` is used when it exists;
//!   otherwise the check is skipped, and says so.

#![allow(clippy::unwrap_used)]

use rungs_db::testing::{TestDb, backends};
use rungs_tests::{rungs, serve};
use std::path::{Path, PathBuf};
use std::process::Command;

const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

fn scim2() -> Result<PathBuf, String> {
    match std::env::var_os("RUNGS_TEST_SCIM").filter(|v| !v.is_empty()) {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.is_file(),
                "RUNGS_TEST_SCIM={} does not exist: python3 -m venv target/ci-tools/scim && target/ci-tools/scim/bin/pip install scim2-cli==0.6.0",
                p.display()
            );
            Ok(p)
        }
        None => {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ci-tools/scim/bin/scim2");
            if p.is_file() {
                Ok(p)
            } else {
                Err("SKIPPED the SCIM conformance check: no scim2 (python3 -m venv target/ci-tools/scim && target/ci-tools/scim/bin/pip install scim2-cli==0.6.0, or set RUNGS_TEST_SCIM)".to_owned())
            }
        }
    }
}

/// Creates an organisation and a provisioning token with the CLI, serves, and runs the
/// checker against `/scim/v2`.
fn conformance(dir: &Path, url: Option<&str>, scim2: &Path) {
    let run = |args: &[&str]| {
        let out = rungs(dir, url).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "rungs {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["db", "migrate"]);
    run(&["org", "create", "conformance", "--name", "Conformance Ltd"]);
    let token = run(&[
        "scim",
        "token",
        "create",
        "--org",
        "conformance",
        "--name",
        "scim2-tester",
    ]);
    let token = token.trim();
    assert!(token.starts_with("rungs_scim_"), "{token}");
    let listed = run(&["scim", "token", "list", "--org", "conformance"]);
    assert!(
        listed.contains("scim2-tester") && !listed.contains(token),
        "{listed}"
    );
    let mut cmd = rungs(dir, url);
    cmd.env("RUNGS_JWT_SECRET", SECRET);
    let server = serve(cmd, &[]).unwrap();
    let out = Command::new(scim2)
        .args(["-u", &format!("{}/scim/v2", server.base), "test"])
        // The token in the environment, not on a command line others can read.
        .env("SCIM_CLI_HEADERS", format!("Authorization: Bearer {token}"))
        .output()
        .unwrap();
    let report =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let passed = report.lines().filter(|l| l.starts_with("SUCCESS")).count();
    let failed: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("ERROR") || l.starts_with("CRITICAL"))
        .collect();
    assert!(out.status.success(), "scim2 test failed:\n{report}");
    assert!(
        failed.is_empty(),
        "{} checks failed:\n{report}",
        failed.len()
    );
    // Discovery (about 20), and the user checks (about 30): the checker really ran them all.
    assert!(passed >= 45, "only {passed} checks ran:\n{report}");
    println!(
        "scim2-tester: {passed} checks passed, none failed ({})",
        url.unwrap_or("SQLite")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_scim_checker_finds_no_failure_on_every_backend() {
    let scim2 = match scim2() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("{why}");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    let s = scim2.clone();
    tokio::task::spawn_blocking(move || conformance(&d, None, &s))
        .await
        .unwrap();
    for backend in backends().into_iter().skip(1) {
        let t = TestDb::empty(backend).await;
        let (d, s, url) = (dir.path().to_owned(), scim2.clone(), t.url.clone());
        tokio::task::spawn_blocking(move || conformance(&d, Some(&url), &s))
            .await
            .unwrap();
        t.drop_database().await;
    }
}
