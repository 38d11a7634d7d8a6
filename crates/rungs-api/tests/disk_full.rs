//! SQLite's disk fills, then space is freed (issue 13, row 7). The database lives on a real
//! filesystem of a few megabytes (a tmpfs the test mounts), which a filler file then fills:
//! writes are refused with UNAVAILABLE and HTTP 503 (never INTERNAL), keep nothing, and
//! `/readyz` says the database cannot write; once the filler is deleted `/readyz` is ready
//! again and writes work, without a restart.
//!
//! Mounting needs root: the test runs when `RUNGS_TEST_TMPFS=1` (`.ci/run` sets it and fails
//! if it cannot mount) and says that it skipped otherwise.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Reply, Server, seed_two_orgs, spawn};
use rungs_api::ApiConfig;
use rungs_app::demo::DEMO_EMPLOYEE;
use rungs_db::testing::TestDb;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size` mounted on a new directory, unmounted and removed on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    /// `None` (with the reason printed) when the run did not ask for it.
    fn mount(size: &str) -> Option<Self> {
        if std::env::var("RUNGS_TEST_TMPFS").is_err() {
            eprintln!(
                "SKIPPED disk_full: set RUNGS_TEST_TMPFS=1 to run it (it mounts a small tmpfs, so it needs root); .ci/run does"
            );
            return None;
        }
        let dir = std::env::temp_dir().join(format!("rungs-full-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .unwrap_or_else(|e| panic!("RUNGS_TEST_TMPFS is set but `mount` cannot run: {e}"));
        assert!(
            out.status.success(),
            "RUNGS_TEST_TMPFS is set but mounting a tmpfs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(Self(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a filler file until the filesystem has no room left.
    fn fill(&self) -> PathBuf {
        let filler = self.0.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 16 * 1024];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        // The last partial blocks too.
        while f.write(&[0u8; 512]).is_ok_and(|n| n > 0) {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn ready(s: &Server) -> (u16, String) {
    let r = s
        .http
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn rate(s: &Server, token: &str, me: &str, n: usize) -> Reply {
    s.gql(
        Some(token),
        "mutation($i: AssessInput!) { assess(input: $i) { id } }",
        json!({ "i": {
            "personId": me,
            "expectationKey": "advanced-data-structures",
            "rating": "MEETS",
            "evidence": format!("attempt {n}: {}", "x".repeat(4000)),
        }}),
    )
    .await
}

async fn ratings(s: &Server, token: &str) -> usize {
    let r = s
        .gql(
            Some(token),
            "{ me { assessments(first: 100) { edges { node { id } } } } }",
            json!({}),
        )
        .await;
    r.ok()["me"]["assessments"]["edges"]
        .as_array()
        .map(Vec::len)
        .unwrap()
}

#[tokio::test]
async fn writes_fail_cleanly_on_a_full_disk_and_work_again_once_space_is_freed() {
    let Some(disk) = SmallDisk::mount("24m") else {
        return;
    };
    let t = TestDb::sqlite_in(disk.path()).await;
    let s = spawn(&t.db, ApiConfig::default()).await;
    seed_two_orgs(&s.app).await;
    let (token, _) = s.login(DEMO_EMPLOYEE).await;
    let me: Value = s.gql(Some(&token), "{ me { id } }", json!({})).await.ok()["me"]["id"].clone();
    let me = me.as_str().unwrap().to_owned();
    assert!(rate(&s, &token, &me, 0).await.ok()["assess"].is_object());
    assert_eq!(ready(&s).await.0, 200);
    let before = ratings(&s, &token).await;

    // Everything written so far moves into the database file, and the write-ahead log is
    // emptied: the next write needs new room.
    t.execute("PRAGMA wal_checkpoint(TRUNCATE)").await;
    let filler = disk.fill();

    for n in 1..=3 {
        let r = rate(&s, &token, &me, n).await;
        assert_eq!(r.status, 503, "{}", r.body);
        assert_eq!(r.code(), Some("UNAVAILABLE"), "{}", r.body);
        let text = r.body.to_string();
        assert!(text.contains("no room to write"), "{text}");
        assert!(
            !text.contains("code: 13") && !text.contains("database or disk"),
            "{text}"
        );
    }
    let (status, body) = ready(&s).await;
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"],
        "not ready: the database has no room to write"
    );
    assert_eq!(
        ratings(&s, &token).await,
        before,
        "a refused write keeps nothing"
    );

    // Space comes back: ready again and writing, with no restart.
    std::fs::remove_file(filler).unwrap();
    assert_eq!(ready(&s).await, (200, "ready\n".to_owned()));
    for n in 4..=6 {
        let r = rate(&s, &token, &me, n).await;
        assert!(r.ok()["assess"].is_object(), "{}", r.body);
    }
    assert_eq!(ratings(&s, &token).await, before + 3);
}
