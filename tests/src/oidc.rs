//! A real OpenID Provider for the single sign-on tests: `tests/oidc/provider.mjs`, the OpenID
//! Certified `oidc-provider` package under the machine's Node.js, started once per test
//! process and shared by its tests.
//!
//! - `RUNGS_TEST_OIDC` (set by `.ci/run`): the `oidc-provider` package's directory; the
//!   tests must run, and fail loudly if the provider cannot start.
//! - Without it, `target/ci-tools/oidc/node_modules/oidc-provider` is used when it exists;
//!   otherwise the tests are skipped, and say so.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The running provider.
pub struct OpenIdProvider {
    /// Its issuer, `http://127.0.0.1:PORT`.
    pub issuer: String,
    _child: Mutex<Child>,
    /// Held open: the provider exits when this process does (its stdin closes).
    _stdin: Mutex<Option<ChildStdin>>,
}

fn module() -> Result<PathBuf, String> {
    match std::env::var_os("RUNGS_TEST_OIDC").filter(|v| !v.is_empty()) {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.join("lib/index.js").is_file(),
                "RUNGS_TEST_OIDC={} is not the oidc-provider package: npm install --prefix target/ci-tools/oidc oidc-provider@9.13.3",
                p.display()
            );
            Ok(p)
        }
        None => {
            let p = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/ci-tools/oidc/node_modules/oidc-provider");
            if p.join("lib/index.js").is_file() {
                Ok(p)
            } else {
                Err("SKIPPED the single sign-on tests: no OpenID Provider (npm install --prefix target/ci-tools/oidc oidc-provider@9.13.3, or set RUNGS_TEST_OIDC)".to_owned())
            }
        }
    }
}

impl OpenIdProvider {
    /// The provider of this test process, started on first use; `Err` says why the tests are
    /// skipped. Panics when `RUNGS_TEST_OIDC` is set and the provider does not start.
    pub fn shared() -> Result<&'static Self, String> {
        static OP: OnceLock<Result<OpenIdProvider, String>> = OnceLock::new();
        OP.get_or_init(|| module().map(Self::start))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn start(module: PathBuf) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc/provider.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .env("OIDC_PROVIDER_MODULE", &module)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start node {}: {e}", script.display()));
        let stdout = child.stdout.take().expect("the provider's stdout");
        let mut issuer = None;
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.expect("the provider's output");
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && let Some(i) = v.get("issuer").and_then(|i| i.as_str())
            {
                issuer = Some(i.to_owned());
                break;
            }
        }
        // Whatever it prints later goes to the test's output (a closed pipe would kill it).
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("[oidc-provider] {line}");
            }
        });
        let issuer = issuer.unwrap_or_else(|| panic!("the OpenID Provider did not start"));
        let stdin = child.stdin.take();
        Self {
            issuer,
            _child: Mutex::new(child),
            _stdin: Mutex::new(stdin),
        }
    }
}
