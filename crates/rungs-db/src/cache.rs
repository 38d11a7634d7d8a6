//! Published matrix versions never change (a new version is a new id; drafts are never kept
//! here), so each one is read from the database once per process and kept: a growth plan or a
//! page of readiness then costs no statement for the matrix it is computed against. The most
//! recently used [`CAPACITY`] versions are kept; keys carry the organisation, so one
//! organisation's id never answers for another's.

use lru::LruCache;
use rungs_domain::matrix::{Matrix, VersionInfo, VersionStatus};
use rungs_domain::{OrgId, VersionId};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// How many versions are kept. A large framework's content is a few hundred kilobytes.
pub const CAPACITY: usize = 64;

pub(crate) type Version = Arc<(VersionInfo, Matrix)>;

pub(crate) struct VersionCache(Mutex<LruCache<(OrgId, VersionId), Version>>);

impl Default for VersionCache {
    fn default() -> Self {
        Self(Mutex::new(LruCache::new(
            NonZeroUsize::new(CAPACITY).expect("a positive capacity"),
        )))
    }
}

impl VersionCache {
    pub(crate) fn get(&self, org: OrgId, id: VersionId) -> Option<Version> {
        self.0.lock().ok()?.get(&(org, id)).cloned()
    }

    /// Keeps `v` if it is published; drafts change with every edit.
    pub(crate) fn keep(&self, org: OrgId, v: &Version) {
        if v.0.status == VersionStatus::Published
            && let Ok(mut c) = self.0.lock()
        {
            c.put((org, v.0.id), v.clone());
        }
    }
}

/// Row ids to keys (tracks, levels, criteria) of one published version: what turns a stored
/// assignment, assessment or case back into keys.
#[derive(Default)]
pub(crate) struct VersionKeys {
    pub tracks: std::collections::HashMap<uuid::Uuid, String>,
    pub levels: std::collections::HashMap<uuid::Uuid, String>,
    pub expectations: std::collections::HashMap<uuid::Uuid, String>,
}

/// The keys of published versions, kept per connection pool (each [`crate::Db`] holds one):
/// row ids are never reused and a published version's rows never change (triggers refuse it),
/// so an entry never goes stale in its database. Not per process: a restored organisation has
/// the same version ids as its source, with new row ids, in another database. Keyed by
/// organisation and version like [`VersionCache`].
pub(crate) struct KeysCache(Mutex<LruCache<(OrgId, VersionId), Arc<VersionKeys>>>);

impl Default for KeysCache {
    fn default() -> Self {
        Self(Mutex::new(LruCache::new(
            NonZeroUsize::new(4 * CAPACITY).expect("a positive capacity"),
        )))
    }
}

impl KeysCache {
    pub(crate) fn get(&self, org: OrgId, v: VersionId) -> Option<Arc<VersionKeys>> {
        self.0.lock().ok()?.get(&(org, v)).cloned()
    }

    pub(crate) fn keep(&self, org: OrgId, v: VersionId, keys: Arc<VersionKeys>) {
        if let Ok(mut c) = self.0.lock() {
            c.put((org, v), keys);
        }
    }
}
