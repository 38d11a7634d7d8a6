//! Black-box scenario tests for Rungs live in `tests/`; this library holds what they share.

pub mod oidc;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

/// The path of the real `rungs` binary, built once per test process.
///
/// `CARGO_BIN_EXE_rungs` only exists inside the `rungs-cli` package, and `cargo test` builds a
/// package's binaries only for that package's own integration tests; so the scenarios ask cargo
/// to build it (a no-op when it is fresh) with the profile they were compiled in, into the
/// workspace's target directory. Never a stale binary, never a missing one on a clean clone.
pub fn rungs_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let run = escargot::CargoBuild::new()
            .manifest_path(manifest)
            .package("rungs-cli")
            .bin("rungs")
            .current_release()
            .run()
            .unwrap_or_else(|e| panic!("could not build the rungs binary: {e}"));
        run.path().to_path_buf()
    })
}

/// The `rungs` binary built with the `otel` feature, in a target directory of its own (so the
/// plain binary the other scenarios use is never replaced under them).
pub fn rungs_otel_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), PathBuf::from)
            .join("otel");
        let run = escargot::CargoBuild::new()
            .manifest_path(root.join("Cargo.toml"))
            .package("rungs-cli")
            .bin("rungs")
            .features("otel")
            .target_dir(target)
            .current_release()
            .run()
            .unwrap_or_else(|e| panic!("could not build the rungs binary with otel: {e}"));
        run.path().to_path_buf()
    })
}

/// The real binary on one database, run from one working directory.
pub struct Rungs<'a> {
    pub url: &'a str,
    pub dir: &'a Path,
}

impl Rungs<'_> {
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        assert_cmd::Command::new(rungs_bin())
            .current_dir(self.dir)
            .env("RUNGS_DATABASE_URL", self.url)
            .env_remove("RUNGS_LOG")
            .args(args)
            .assert()
    }
    /// Runs a command that must succeed; its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).success().get_output().stdout.clone();
        String::from_utf8(out).expect("utf-8 output")
    }
    /// Runs a command that must fail; its standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.cmd(args).failure().get_output().stderr.clone();
        String::from_utf8(out).expect("utf-8 output")
    }
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).expect("valid JSON")
    }
}

/// A running `rungs serve`, stopped when dropped.
pub struct Running {
    pub child: Child,
    pub base: String,
    /// What it printed before it listened.
    pub banner: Vec<String>,
    /// What it prints afterwards, line by line.
    pub lines: mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real binary in `dir`, on `url` (or the default), with none of the caller's settings.
pub fn rungs(dir: &Path, url: Option<&str>) -> Command {
    let mut c = Command::new(rungs_bin());
    c.current_dir(dir)
        .env_remove("RUNGS_LOG")
        .env_remove("RUNGS_JWT_SECRET")
        .env_remove("RUNGS_DATABASE_URL");
    if let Some(u) = url {
        c.env("RUNGS_DATABASE_URL", u);
    }
    c
}

/// Starts `rungs serve ARGS --addr 127.0.0.1:0` and waits for it to say where it listens.
#[allow(clippy::unwrap_used)] // a test helper: a failure to spawn is the test's failure
pub fn serve(mut cmd: Command, args: &[&str]) -> Result<Running, String> {
    let mut child = cmd
        .arg("serve")
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let out = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut banner = Vec::new();
    // A generous bound for a cold start on a busy machine (migrations, seeding, hashing).
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(120)) {
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr = rest.split('/').next().unwrap().to_owned();
            return Ok(Running {
                child,
                base: format!("http://{addr}"),
                banner,
                lines: rx,
            });
        }
        banner.push(line);
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    Err(format!(
        "exited with {status}: {}\n{err}",
        banner.join("\n")
    ))
}
