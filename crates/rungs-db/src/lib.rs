//! Rungs persistence: sea-orm entities, migrations, and repositories that take the tenant scope
//! and return domain types. The only crate that knows sea-orm or SQL; the database is chosen by
//! URL (`sqlite://`, `postgres://`, `mysql://`).
//!
//! The modules form layers, and no module imports one above it (`modules_form_layers` below):
//! - rows on a connection, knowing no pool: [`entities`](crate::entities), `error`, `cache`,
//!   `paging`, `rows` (mappers, bulk inserts), `audit` (an entry), `paths` (reporting lines),
//!   `content` (a version's content rows), `records` (assessments, assignments, cases) and
//!   `standings` (the kept readiness, refreshed in the writing transaction) and `terms` (people
//!   search's index, written with the names and emails it indexes);
//! - `core`: the pool, and [`Db::write`], one transaction with its audit entry;
//! - one module per aggregate, each an `impl Db` over the layers below: `orgs`, `people`,
//!   `matrices`, `versions`, `growth`, `team`, `auth`, `sessions`, `identity`, `provisioning`, `log`, `dump`.

pub mod analytics;
mod audit;
mod auth;
mod cache;
mod content;
mod core;
mod dump;
mod entities;
mod error;
mod growth;
mod identity;
mod log;
mod matrices;
pub mod migrations;
mod orgs;
mod paging;
mod paths;
mod people;
mod provisioning;
mod records;
mod rows;
mod sessions;
mod standings;
mod statements;
mod team;
mod terms;
#[cfg(feature = "testing")]
pub mod testing;
mod versions;

pub use audit::{Audit, AuditEntry, MAX_SUBJECTS};
pub use auth::{Lead, LeadRead, LoginCandidate, SessionRow};
pub use core::{Backend, Db, PoolOptions, PoolStats, Tx, redact_url};
pub use dump::*;
pub use error::DbError;
pub use growth::CaseFilter;
pub use log::AuditFilter;
pub use people::{PeoplePage, PeopleQuery, Reach};
pub use provisioning::ScimFilter;
pub use records::Scope;
pub use team::{RulePreviewRow, StandingOrder, StandingSummary, StandingsFilter, StandingsQuery};

#[cfg(test)]
mod layers {
    use std::collections::{BTreeMap, BTreeSet};

    /// Modules that know no pool: functions over a connection or a transaction.
    const ROWS: &[&str] = &[
        "audit",
        "cache",
        "content",
        "entities",
        "error",
        "migrations",
        "paging",
        "paths",
        "records",
        "rows",
        "standings",
        "statements",
        "terms",
    ];

    /// Each module of this crate (a file of `src/`) and the modules it names as `crate::x`.
    fn imports() -> BTreeMap<String, BTreeSet<String>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                let name = path
                    .file_stem()
                    .expect("a name")
                    .to_string_lossy()
                    .into_owned();
                files.insert(name, std::fs::read_to_string(&path).expect("a source file"));
            }
        }
        files.remove("lib");
        let modules: BTreeSet<String> = files
            .keys()
            .cloned()
            .chain(["migrations".to_owned()])
            .collect();
        files
            .iter()
            .map(|(name, text)| {
                let named = text
                    .split("crate::")
                    .skip(1)
                    .map(|rest| {
                        rest.chars()
                            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                            .collect::<String>()
                    })
                    .filter(|m| modules.contains(m) && m != name)
                    .collect();
                (name.clone(), named)
            })
            .collect()
    }

    #[test]
    fn modules_form_layers() {
        let graph = imports();
        assert!(graph.len() > 20, "the sources were read: {graph:?}");
        let layer = |m: &str| {
            if ROWS.contains(&m) {
                0
            } else if m == "core" {
                1
            } else {
                2
            }
        };
        for (m, uses) in &graph {
            for u in uses {
                assert!(
                    layer(u) <= layer(m),
                    "`{m}` (layer {}) imports `{u}` (layer {}), which is above it",
                    layer(m),
                    layer(u)
                );
            }
        }
        // No cycle, within a layer either: peel off modules whose imports are all peeled.
        let mut left = graph.clone();
        let mut done: BTreeSet<String> = ["migrations".to_owned()].into();
        while !left.is_empty() {
            let ready: Vec<String> = left
                .iter()
                .filter(|(_, uses)| uses.iter().all(|u| done.contains(u)))
                .map(|(m, _)| m.clone())
                .collect();
            assert!(
                !ready.is_empty(),
                "these modules import each other in a cycle: {left:?}"
            );
            for m in ready {
                left.remove(&m);
                done.insert(m);
            }
        }
    }
}
