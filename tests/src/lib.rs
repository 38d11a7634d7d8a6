//! Black-box scenario tests for Rungs live in `tests/`; this library holds what they share.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
