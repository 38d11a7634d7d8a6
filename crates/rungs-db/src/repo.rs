//! Repositories: every function takes the tenant (`OrgId`) it works in, and returns domain types.
//! Writes that belong together run in one transaction.

use crate::audit::Audit;
use crate::entities::*;
use crate::error::DbError;
use crate::migrations::Migrator;
use chrono::Utc;
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::matrix::{
    BranchDraft, CellDraft, CompetencyDraft, ExpectationDraft, LevelDraft, LevelStyle, Matrix,
    MatrixDraft, MatrixSummary, ResourceDraft, ThemeDraft, TrackDraft, VersionInfo, VersionStatus,
};
use rungs_domain::org::{Organisation, Slug};
use rungs_domain::person::{Email, Person};
use rungs_domain::text::Key;
use rungs_domain::{MatrixId, OrgId, PersonId, VersionId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DbBackend, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::collections::HashMap;
use uuid::Uuid;

/// Which kind of server a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// Connections of the pool: open (idle or in use), idle, and the most it may open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// A connection pool to the Rungs database.
#[derive(Clone)]
pub struct Db {
    pub(crate) conn: DatabaseConnection,
    /// Published versions already read (shared by every clone of the pool).
    versions: std::sync::Arc<crate::cache::VersionCache>,
    /// SQLite takes one writer at a time, and a transaction that read before it wrote fails
    /// (rather than waits) when another wrote meanwhile: this process's writes take turns here
    /// (shared by every clone of the pool). `None` on PostgreSQL and MariaDB.
    writes: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend())
            .finish()
    }
}

/// Rows per INSERT, well under every backend's bound-parameter limit (a dozen columns at
/// most: 6,000 parameters, against 32,766 on SQLite and 65,535 elsewhere).
const CHUNK: usize = 500;

/// `items` ordered so that every manager in the list comes before their reports (siblings by
/// `key`); anyone no top leads to (a cycle) comes last, in the order given.
pub(crate) fn managers_first<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> PersonId,
    manager: impl Fn(&T) -> Option<PersonId>,
    key: impl Fn(&T) -> String,
) -> Vec<T> {
    let ids: std::collections::HashSet<PersonId> = items.iter().map(&id).collect();
    let mut by_manager: HashMap<Option<PersonId>, Vec<usize>> = HashMap::new();
    for (i, t) in items.iter().enumerate() {
        // A manager outside the list is already stored (or absent): a top here.
        by_manager
            .entry(manager(t).filter(|m| ids.contains(m)))
            .or_default()
            .push(i);
    }
    let mut order = Vec::with_capacity(items.len());
    let mut queue: Vec<Option<PersonId>> = vec![None];
    while let Some(m) = queue.pop() {
        let mut reports = by_manager.remove(&m).unwrap_or_default();
        reports.sort_by_key(|&i| key(&items[i]));
        for &i in reports.iter().rev() {
            queue.push(Some(id(&items[i])));
            order.push(i);
        }
    }
    let mut placed = vec![false; items.len()];
    for &i in &order {
        placed[i] = true;
    }
    order.extend((0..items.len()).filter(|i| !placed[*i]));
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Describes a database URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***@{}", &url[..s], &url[at + 1..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// How a pool waits for its database.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// The longest a statement waits for a connection, opening one included: with the
    /// database down, a request fails with `Unavailable` after this, instead of hanging.
    pub acquire_timeout: std::time::Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        // sqlx's own default: patient, for the CLI's batch work and the tests.
        Self {
            acquire_timeout: std::time::Duration::from_secs(30),
        }
    }
}

impl Db {
    /// Connects to `url`. A SQLite file is created if missing, in WAL mode with foreign keys on.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_with(url, PoolOptions::default()).await
    }

    /// Connects to `url` with `pool`'s waits (the server fails fast when the database is down).
    pub async fn connect_with(url: &str, pool: PoolOptions) -> Result<Self, DbError> {
        let mut url = url.to_owned();
        let sqlite = url.starts_with("sqlite:");
        if sqlite && !url.contains("mode=") && !url.contains(":memory:") {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str("mode=rwc");
        }
        let mut opts = ConnectOptions::new(url);
        opts.sqlx_logging(false);
        opts.acquire_timeout(pool.acquire_timeout);
        if sqlite {
            // One writer at a time; readers share WAL.
            opts.max_connections(4);
        }
        let conn = Database::connect(opts).await?;
        if sqlite {
            conn.execute_unprepared("PRAGMA journal_mode=WAL").await?;
            conn.execute_unprepared("PRAGMA foreign_keys=ON").await?;
        }
        let mut db = Self {
            conn,
            versions: Default::default(),
            writes: sqlite.then(Default::default),
        };
        db.observe_statements(|_, _, _| {});
        Ok(db)
    }

    /// Calls `observe` after every SQL statement this pool (or a transaction from it) runs,
    /// with its SQL (placeholders, never values), how long it took and whether it failed. Set
    /// it before cloning the `Db`. Statements are also traced (target `rungs_db::sql`), and
    /// those slower than a second are logged as warnings.
    pub fn observe_statements<F>(&mut self, observe: F)
    where
        F: Fn(&str, std::time::Duration, bool) + Send + Sync + 'static,
    {
        self.conn.set_metric_callback(move |info| {
            let sql = info.statement.sql.as_str();
            let ms = info.elapsed.as_millis() as u64;
            if info.elapsed >= std::time::Duration::from_secs(1) {
                tracing::warn!(target: "rungs_db::sql", ms, failed = info.failed, sql, "slow statement");
            } else {
                tracing::trace!(target: "rungs_db::sql", ms, failed = info.failed, sql);
            }
            observe(sql, info.elapsed, info.failed);
        });
    }

    /// This process's turn to write, on SQLite (held until the transaction ends); nothing to
    /// wait for elsewhere.
    pub(crate) async fn serialised(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.writes {
            Some(m) => Some(m.lock().await),
            None => None,
        }
    }

    /// How the connection pool is used right now (for metrics).
    pub fn pool_stats(&self) -> PoolStats {
        macro_rules! stats {
            ($pool:expr) => {{
                let pool = $pool;
                PoolStats {
                    open: pool.size(),
                    idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                    max: pool.options().get_max_connections(),
                }
            }};
        }
        match self.backend() {
            Backend::Sqlite => stats!(self.conn.get_sqlite_connection_pool()),
            Backend::Postgres => stats!(self.conn.get_postgres_connection_pool()),
            Backend::MySql => stats!(self.conn.get_mysql_connection_pool()),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.conn.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            DbBackend::MySql => Backend::MySql,
            _ => Backend::Sqlite,
        }
    }

    /// Applies every pending migration; returns how many ran.
    pub async fn migrate(&self) -> Result<usize, DbError> {
        let pending = Migrator::get_pending_migrations(&self.conn).await?.len();
        Migrator::up(&self.conn, None).await?;
        // Derived rows for people stored before they existed.
        self.fill_missing_standings().await?;
        Ok(pending)
    }

    /// Names of migrations not yet applied.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, DbError> {
        Ok(Migrator::get_pending_migrations(&self.conn)
            .await?
            .iter()
            .map(|m| m.name().to_owned())
            .collect())
    }

    /// Refreshes the planner's statistics of the tables bulk writes fill (PostgreSQL and
    /// MariaDB; SQLite plans these reads by their written join order). Without it, right after
    /// a bulk load, PostgreSQL still believes the tables empty and plans a team page as a
    /// nested loop: half a second for 3,000 people instead of a few milliseconds.
    pub async fn analyze(&self) -> Result<(), DbError> {
        const TABLES: &str =
            "people, standings, level_assignments, assessments, promotion_cases, credentials";
        let sql = match self.backend() {
            Backend::Postgres => format!("ANALYZE {TABLES}"),
            Backend::MySql => format!("ANALYZE TABLE {TABLES}"),
            Backend::Sqlite => return Ok(()),
        };
        self.conn.execute_unprepared(&sql).await?;
        Ok(())
    }

    /// Does the database answer?
    pub async fn ping(&self) -> Result<(), DbError> {
        self.conn.ping().await.map_err(DbError::from)
    }

    pub async fn close(self) -> Result<(), DbError> {
        self.conn.close().await.map_err(DbError::from)
    }

    // ---- organisations -------------------------------------------------------------------

    pub async fn create_org(&self, org: &Organisation, audit: &Audit) -> Result<(), DbError> {
        let _turn = self.serialised().await;
        let txn = self.conn.begin().await?;
        organisation::Entity::insert(organisation::ActiveModel {
            id: Set(org.id.0),
            slug: Set(org.slug.to_string()),
            name: Set(org.name.clone()),
            created_at: Set(Utc::now()),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(|e| DbError::conflict_or_other(e, format!("organisation `{}`", org.slug)))?;
        crate::audit::write_audit(&txn, org.id, audit).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn org_by_slug(&self, slug: &Slug) -> Result<Option<Organisation>, DbError> {
        organisation::Entity::find()
            .filter(organisation::Column::Slug.eq(slug.as_str()))
            .one(&self.conn)
            .await?
            .map(org_from_row)
            .transpose()
    }

    pub async fn list_orgs(&self) -> Result<Vec<Organisation>, DbError> {
        organisation::Entity::find()
            .order_by_asc(organisation::Column::Slug)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(org_from_row)
            .collect()
    }

    // ---- people --------------------------------------------------------------------------

    pub async fn list_people(&self, org: OrgId) -> Result<Vec<Person>, DbError> {
        person::Entity::find()
            .filter(person::Column::OrgId.eq(org.0))
            .order_by_asc(person::Column::Email)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(person_from_row)
            .collect()
    }

    pub async fn person_by_email(
        &self,
        org: OrgId,
        email: &Email,
    ) -> Result<Option<Person>, DbError> {
        person::Entity::find()
            .filter(person::Column::OrgId.eq(org.0))
            .filter(person::Column::Email.eq(email.as_str()))
            .one(&self.conn)
            .await?
            .map(person_from_row)
            .transpose()
    }

    /// Adds and updates people and appends level assignments, all in one transaction. People
    /// are written before their managers are set, so a file may list reports before managers.
    pub async fn save_people(
        &self,
        org: OrgId,
        inserts: &[Person],
        updates: &[Person],
        assignments: &[LevelAssignment],
        audit: &Audit,
    ) -> Result<(), DbError> {
        let _turn = self.serialised().await;
        let txn = self.conn.begin().await?;
        let now = Utc::now();
        // Managers first, so that every manager is inserted before their reports.
        let inserts = managers_first(
            inserts.to_vec(),
            |p| p.id,
            |p| p.manager_id,
            |p| p.email.to_string(),
        );
        let inserts = inserts.as_slice();
        // A manager inserted earlier in the list (or already stored) is set directly; one that
        // comes later (only in a cycle, which the use cases refuse) is set by an UPDATE once
        // everyone exists.
        let position: HashMap<PersonId, usize> =
            inserts.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let direct = |i: usize, p: &Person| {
            p.manager_id
                .is_none_or(|m| position.get(&m).is_none_or(|&j| j < i))
        };
        for (c, chunk) in inserts.chunks(CHUNK).enumerate() {
            person::Entity::insert_many(chunk.iter().enumerate().map(|(k, p)| {
                person::ActiveModel {
                    id: Set(p.id.0),
                    org_id: Set(org.0),
                    email: Set(p.email.to_string()),
                    display_name: Set(p.display_name.clone()),
                    manager_id: Set(if direct(c * CHUNK + k, p) {
                        p.manager_id.map(|m| m.0)
                    } else {
                        None
                    }),
                    is_admin: Set(p.is_admin),
                    active: Set(p.active),
                    created_at: Set(now),
                }
            }))
            .exec_without_returning(&txn)
            .await
            .map_err(|e| DbError::conflict_or_other(e, "a person with one of these emails"))?;
        }
        for p in inserts
            .iter()
            .enumerate()
            .filter(|(i, p)| !direct(*i, p))
            .map(|(_, p)| p)
            .chain(updates)
        {
            person::Entity::update_many()
                .col_expr(
                    person::Column::ManagerId,
                    Expr::value(p.manager_id.map(|m| m.0)),
                )
                .col_expr(
                    person::Column::DisplayName,
                    Expr::value(p.display_name.clone()),
                )
                .col_expr(person::Column::IsAdmin, Expr::value(p.is_admin))
                .col_expr(person::Column::Active, Expr::value(p.active))
                .filter(person::Column::OrgId.eq(org.0))
                .filter(person::Column::Id.eq(p.id.0))
                .exec(&txn)
                .await?;
        }
        append_assignments(&txn, org, assignments).await?;
        // New people, and anyone whose manager may have changed, with everyone below them.
        let planned = crate::paths::plan(
            &txn,
            org,
            inserts.iter().chain(updates).map(|p| (p.id, p.manager_id)),
        )
        .await?;
        let touched = inserts.iter().chain(updates).map(|p| p.id);
        crate::standings::refresh_placed(
            &txn,
            org,
            touched.chain(assignments.iter().map(|a| a.person_id)),
            &planned.new,
        )
        .await?;
        crate::paths::write_changed(&txn, org, &planned).await?;
        crate::audit::write_audit(&txn, org, audit).await?;
        txn.commit().await?;
        Ok(())
    }

    // ---- matrices ------------------------------------------------------------------------

    /// Every matrix of the organisation, by key.
    pub async fn list_matrices(&self, org: OrgId) -> Result<Vec<MatrixSummary>, DbError> {
        Ok(self.matrices_page(org, None, None).await?.0)
    }

    /// The organisation's matrices by key after the key `after` (`first` of them, or all),
    /// each with its latest version's size, and whether more follow: four statements, however
    /// many matrices there are.
    pub async fn matrices_page(
        &self,
        org: OrgId,
        after: Option<&str>,
        first: Option<usize>,
    ) -> Result<(Vec<MatrixSummary>, bool), DbError> {
        use sea_orm::QuerySelect;
        let mut q = matrix::Entity::find()
            .filter(matrix::Column::OrgId.eq(org.0))
            .order_by_asc(matrix::Column::Key);
        if let Some(a) = after {
            q = q.filter(matrix::Column::Key.gt(a));
        }
        if let Some(n) = first {
            q = q.limit(n as u64 + 1);
        }
        let mut matrices = q.all(&self.conn).await?;
        let has_next = first.is_some_and(|n| matrices.len() > n);
        if let Some(n) = first {
            matrices.truncate(n);
        }
        if matrices.is_empty() {
            return Ok((Vec::new(), has_next));
        }
        let versions = matrix_version::Entity::find()
            .filter(matrix_version::Column::OrgId.eq(org.0))
            .filter(matrix_version::Column::MatrixId.is_in(matrices.iter().map(|m| m.id)))
            .all(&self.conn)
            .await?;
        let latest: HashMap<Uuid, &matrix_version::Model> = matrices
            .iter()
            .filter_map(|m| {
                versions
                    .iter()
                    .filter(|v| v.matrix_id == m.id && v.number.is_some())
                    .max_by_key(|v| v.number)
                    .map(|v| (m.id, v))
            })
            .collect();
        let counts = self
            .version_counts(org, latest.values().map(|v| v.id).collect())
            .await?;
        let mut out = Vec::new();
        for m in matrices {
            let latest = latest.get(&m.id).copied();
            let has_draft = versions
                .iter()
                .any(|v| v.matrix_id == m.id && v.status == VersionStatus::Draft.as_str());
            let (tracks, levels, expectations) = latest
                .and_then(|v| counts.get(&v.id).copied())
                .unwrap_or_default();
            out.push(MatrixSummary {
                id: MatrixId(m.id),
                key: Key::parse(&m.key)?,
                name: latest.map(|v| v.name.clone()).unwrap_or(m.name),
                latest_version: latest.and_then(|v| v.number).map(|n| n as u32),
                has_draft,
                tracks,
                levels,
                expectations,
            });
        }
        Ok((out, has_next))
    }

    /// How many tracks, levels and criteria each of `versions` has (a statement per table).
    async fn version_counts(
        &self,
        org: OrgId,
        versions: Vec<Uuid>,
    ) -> Result<HashMap<Uuid, (usize, usize, usize)>, DbError> {
        use sea_orm::QuerySelect;
        let mut out: HashMap<Uuid, (usize, usize, usize)> = HashMap::new();
        if versions.is_empty() {
            return Ok(out);
        }
        let n = |x: i64| usize::try_from(x).unwrap_or(usize::MAX);
        macro_rules! count {
            ($e:ident, $slot:tt) => {
                let rows: Vec<(Uuid, i64)> = $e::Entity::find()
                    .select_only()
                    .column($e::Column::VersionId)
                    .column_as($e::Column::Id.count(), "n")
                    .filter($e::Column::OrgId.eq(org.0))
                    .filter($e::Column::VersionId.is_in(versions.clone()))
                    .group_by($e::Column::VersionId)
                    .into_tuple()
                    .all(&self.conn)
                    .await?;
                for (v, c) in rows {
                    out.entry(v).or_default().$slot = n(c);
                }
            };
        }
        count!(track, 0);
        count!(level, 1);
        count!(expectation, 2);
        Ok(out)
    }

    /// Creates a matrix with its first version (published as version 1, or a draft).
    pub async fn create_matrix(
        &self,
        org: OrgId,
        m: &Matrix,
        status: VersionStatus,
        note: Option<&str>,
        by: Option<PersonId>,
        audit: &Audit,
    ) -> Result<VersionInfo, DbError> {
        let _turn = self.serialised().await;
        let txn = self.conn.begin().await?;
        let now = Utc::now();
        let matrix_id = Uuid::now_v7();
        matrix::Entity::insert(matrix::ActiveModel {
            id: Set(matrix_id),
            org_id: Set(org.0),
            key: Set(m.key().to_string()),
            name: Set(m.name().to_owned()),
            created_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(|e| DbError::conflict_or_other(e, format!("matrix `{}`", m.key())))?;
        let published = status == VersionStatus::Published;
        let info = VersionInfo {
            id: VersionId::new(),
            matrix_id: MatrixId(matrix_id),
            matrix_key: m.key().clone(),
            number: published.then_some(1),
            status,
            note: note.map(str::to_owned),
            created_by: by,
            created_at: now,
            published_at: published.then_some(now),
            published_by: if published { by } else { None },
            revision: 0,
        };
        crate::versions::insert_version(
            &txn,
            org,
            crate::versions::NewVersion {
                id: info.id.0,
                matrix_id,
                content: m,
                note: info.note.clone(),
                created_by: by,
                created_at: now,
                published: published.then_some((1, by, now)),
            },
        )
        .await?;
        let mut audit = audit.clone();
        audit.subjects.extend([matrix_id, info.id.0]);
        crate::audit::write_audit(&txn, org, &audit).await?;
        txn.commit().await?;
        Ok(info)
    }

    /// The newest published version of the matrix `key` and its content.
    pub async fn latest_published(
        &self,
        org: OrgId,
        key: &str,
    ) -> Result<Option<(VersionInfo, Matrix)>, DbError> {
        let Some(m) = matrix::Entity::find()
            .filter(matrix::Column::OrgId.eq(org.0))
            .filter(matrix::Column::Key.eq(key))
            .one(&self.conn)
            .await?
        else {
            return Ok(None);
        };
        let Some(v) = matrix_version::Entity::find()
            .filter(matrix_version::Column::OrgId.eq(org.0))
            .filter(matrix_version::Column::MatrixId.eq(m.id))
            .filter(matrix_version::Column::Status.eq(VersionStatus::Published.as_str()))
            .order_by_desc(matrix_version::Column::Number)
            .one(&self.conn)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.versioned(org, v, &m.key).await?))
    }

    /// The content of one version, by id (no statement for a published version read before).
    pub async fn load_version(
        &self,
        org: OrgId,
        version: VersionId,
    ) -> Result<(VersionInfo, Matrix), DbError> {
        if let Some(v) = self.versions.get(org, version) {
            return Ok((*v).clone());
        }
        let v = matrix_version::Entity::find()
            .filter(matrix_version::Column::OrgId.eq(org.0))
            .filter(matrix_version::Column::Id.eq(version.0))
            .one(&self.conn)
            .await?
            .ok_or_else(|| DbError::not_found("matrix version"))?;
        let m = matrix::Entity::find()
            .filter(matrix::Column::OrgId.eq(org.0))
            .filter(matrix::Column::Id.eq(v.matrix_id))
            .one(&self.conn)
            .await?
            .ok_or_else(|| DbError::not_found("matrix"))?;
        self.versioned(org, v, &m.key).await
    }

    /// A version row with its content, read consistently: a draft can be replaced while its
    /// rows are being read (several statements), so the revision is read again afterwards and
    /// the whole read repeated if an edit committed in between.
    pub(crate) async fn versioned(
        &self,
        org: OrgId,
        mut v: matrix_version::Model,
        key: &str,
    ) -> Result<(VersionInfo, Matrix), DbError> {
        let id = VersionId(v.id);
        if let Some(kept) = self.versions.get(org, id) {
            return Ok((*kept).clone());
        }
        for _ in 0..10 {
            let content = self.load_content(org, &v).await;
            if v.status != VersionStatus::Draft.as_str() {
                let read = std::sync::Arc::new((version_from_row(&v, key)?, content?));
                self.versions.keep(org, &read);
                return Ok((*read).clone());
            }
            let now = matrix_version::Entity::find()
                .filter(matrix_version::Column::OrgId.eq(org.0))
                .filter(matrix_version::Column::Id.eq(v.id))
                .one(&self.conn)
                .await?
                .ok_or_else(|| DbError::not_found("matrix draft"))?;
            if now.revision == v.revision && now.status == v.status {
                return Ok((version_from_row(&v, key)?, content?));
            }
            v = now;
        }
        Err(DbError::Stale {
            what: "the draft keeps changing while being read: try again".into(),
        })
    }

    pub(crate) async fn load_content(
        &self,
        org: OrgId,
        v: &matrix_version::Model,
    ) -> Result<Matrix, DbError> {
        load_content(&self.conn, org, v).await
    }

    // ---- level assignments ---------------------------------------------------------------

    pub async fn append_assignment(
        &self,
        org: OrgId,
        a: &LevelAssignment,
        audit: &Audit,
    ) -> Result<(), DbError> {
        let _turn = self.serialised().await;
        let txn = self.conn.begin().await?;
        crate::standings::lock(&txn, org, [a.person_id]).await?;
        append_assignments(&txn, org, std::slice::from_ref(a)).await?;
        crate::standings::refresh(&txn, org, [a.person_id]).await?;
        crate::audit::write_audit(&txn, org, audit).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Every assignment of the organisation (or of one person), oldest first.
    pub async fn assignments(
        &self,
        org: OrgId,
        person: Option<PersonId>,
    ) -> Result<Vec<LevelAssignment>, DbError> {
        let scope = person.map_or(crate::Scope::Org, crate::Scope::Person);
        self.assignments_in(org, scope).await
    }
}

/// The content of a version, read on `c` (a transaction sees its own writes).
pub(crate) async fn load_content<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    v: &matrix_version::Model,
) -> Result<Matrix, DbError> {
    let vid = v.id;
    let levels = level::Entity::find()
        .filter(level::Column::OrgId.eq(org.0))
        .filter(level::Column::VersionId.eq(vid))
        .order_by_asc(level::Column::Rank)
        .all(c)
        .await?;
    let themes = theme::Entity::find()
        .filter(theme::Column::OrgId.eq(org.0))
        .filter(theme::Column::VersionId.eq(vid))
        .order_by_asc(theme::Column::Position)
        .all(c)
        .await?;
    let competencies = competency::Entity::find()
        .filter(competency::Column::OrgId.eq(org.0))
        .filter(competency::Column::VersionId.eq(vid))
        .order_by_asc(competency::Column::Position)
        .all(c)
        .await?;
    let tracks = track::Entity::find()
        .filter(track::Column::OrgId.eq(org.0))
        .filter(track::Column::VersionId.eq(vid))
        .order_by_asc(track::Column::Position)
        .all(c)
        .await?;
    let cells = cell::Entity::find()
        .filter(cell::Column::OrgId.eq(org.0))
        .filter(cell::Column::VersionId.eq(vid))
        .all(c)
        .await?;
    let expectations: HashMap<Uuid, expectation::Model> = expectation::Entity::find()
        .filter(expectation::Column::OrgId.eq(org.0))
        .filter(expectation::Column::VersionId.eq(vid))
        .all(c)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let links = cell_expectation::Entity::find()
        .filter(cell_expectation::Column::OrgId.eq(org.0))
        .filter(cell_expectation::Column::VersionId.eq(vid))
        .order_by_asc(cell_expectation::Column::Position)
        .all(c)
        .await?;
    let resources = resource::Entity::find()
        .filter(resource::Column::OrgId.eq(org.0))
        .filter(resource::Column::VersionId.eq(vid))
        .order_by_asc(resource::Column::Position)
        .all(c)
        .await?;

    let level_key: HashMap<Uuid, &str> = levels.iter().map(|l| (l.id, l.key.as_str())).collect();
    let level_rank: HashMap<Uuid, i32> = levels.iter().map(|l| (l.id, l.rank)).collect();
    let res_of = |pred: &dyn Fn(&resource::Model) -> bool| -> Vec<ResourceDraft> {
        resources
            .iter()
            .filter(|r| pred(r))
            .map(|r| ResourceDraft {
                title: r.title.clone(),
                url: r.url.clone(),
                kind: Some(r.kind.clone()),
                description: r.description.clone(),
            })
            .collect()
    };
    let json_list = |s: &Option<String>| -> Option<Vec<String>> {
        s.as_deref().and_then(|s| serde_json::from_str(s).ok())
    };
    // Every mention carries the whole definition; identical repeats are one criterion.
    let criterion = |e: &expectation::Model| ExpectationDraft {
        key: e.key.clone(),
        name: e.name.clone(),
        title: e.title.clone(),
        description: e.description.clone(),
        competency: e.competency.clone(),
        examples: json_list(&e.examples).unwrap_or_default(),
        resources: res_of(&|r| r.expectation_id == Some(e.id)),
    };
    let draft = MatrixDraft {
        key: matrix_key_of(c, org, v.matrix_id).await?,
        name: v.name.clone(),
        description: v.description.clone(),
        level_style: Some(v.level_style.clone()).filter(|s| s != LevelStyle::Cumulative.as_str()),
        levels: levels
            .iter()
            .map(|l| LevelDraft {
                key: l.key.clone(),
                name: l.name.clone(),
                rank: u32::try_from(l.rank).ok(),
                description: l.description.clone(),
            })
            .collect(),
        themes: themes
            .iter()
            .map(|t| ThemeDraft {
                key: t.key.clone(),
                name: t.name.clone(),
                description: t.description.clone(),
            })
            .collect(),
        competencies: competencies
            .iter()
            .map(|c| CompetencyDraft {
                key: c.key.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                theme: c.theme.clone(),
            })
            .collect(),
        tracks: tracks
            .iter()
            .map(|t| {
                let mut mine: Vec<&cell::Model> =
                    cells.iter().filter(|c| c.track_id == t.id).collect();
                mine.sort_by_key(|c| level_rank.get(&c.level_id).copied().unwrap_or(i32::MAX));
                TrackDraft {
                    key: t.key.clone(),
                    name: t.name.clone(),
                    description: t.description.clone(),
                    levels: json_list(&t.levels),
                    branches_from: match (&t.branch_track, &t.branch_level) {
                        (Some(track), Some(level)) => Some(BranchDraft {
                            track: track.clone(),
                            level: level.clone(),
                        }),
                        _ => None,
                    },
                    cells: mine
                        .into_iter()
                        .map(|c| CellDraft {
                            level: level_key
                                .get(&c.level_id)
                                .map(|k| k.to_string())
                                .unwrap_or_default(),
                            titles: serde_json::from_str(&c.titles).unwrap_or_default(),
                            summary: c.summary.clone(),
                            expectations: links
                                .iter()
                                .filter(|l| l.cell_id == c.id)
                                .filter_map(|l| expectations.get(&l.expectation_id))
                                .map(criterion)
                                .collect(),
                            resources: res_of(&|r| r.cell_id == Some(c.id)),
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    Ok(Matrix::new(&draft)?)
}

async fn matrix_key_of<C: ConnectionTrait>(
    conn: &C,
    org: OrgId,
    matrix_id: Uuid,
) -> Result<String, DbError> {
    Ok(matrix::Entity::find()
        .filter(matrix::Column::OrgId.eq(org.0))
        .filter(matrix::Column::Id.eq(matrix_id))
        .one(conn)
        .await?
        .ok_or_else(|| DbError::not_found("matrix"))?
        .key)
}

/// Appends assignments, resolving track and level keys inside each assignment's version.
pub(crate) async fn append_assignments<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    list: &[LevelAssignment],
) -> Result<(), DbError> {
    if list.is_empty() {
        return Ok(());
    }
    let mut versions: Vec<Uuid> = list.iter().map(|a| a.version_id.0).collect();
    versions.sort();
    versions.dedup();
    let tracks: HashMap<(Uuid, String), Uuid> = track::Entity::find()
        .filter(track::Column::OrgId.eq(org.0))
        .filter(track::Column::VersionId.is_in(versions.clone()))
        .all(c)
        .await?
        .into_iter()
        .map(|t| ((t.version_id, t.key), t.id))
        .collect();
    let levels: HashMap<(Uuid, String), Uuid> = level::Entity::find()
        .filter(level::Column::OrgId.eq(org.0))
        .filter(level::Column::VersionId.is_in(versions))
        .all(c)
        .await?
        .into_iter()
        .map(|l| ((l.version_id, l.key), l.id))
        .collect();
    let mut rows = Vec::with_capacity(list.len());
    for a in list {
        let v = a.version_id.0;
        let track_id = *tracks
            .get(&(v, a.track.to_string()))
            .ok_or_else(|| DbError::not_found(format!("track `{}`", a.track)))?;
        let level_id = *levels
            .get(&(v, a.level.to_string()))
            .ok_or_else(|| DbError::not_found(format!("level `{}`", a.level)))?;
        rows.push(level_assignment::ActiveModel {
            id: Set(a.id.0),
            org_id: Set(org.0),
            person_id: Set(a.person_id.0),
            version_id: Set(v),
            track_id: Set(track_id),
            level_id: Set(level_id),
            effective: Set(a.effective),
            reason: Set(a.reason.clone()),
            set_by: Set(a.set_by.map(|p| p.0)),
            recorded_at: Set(a.recorded_at),
            case_id: Set(a.case_id.map(|c| c.0)),
            moved_from: Set(a.moved_from.map(|m| m.0)),
        });
    }
    insert_chunked::<level_assignment::Entity, _, _>(c, rows).await
}

pub(crate) async fn insert_chunked<E, A, C>(c: &C, rows: Vec<A>) -> Result<(), DbError>
where
    E: EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        E::insert_many(chunk).exec_without_returning(c).await?;
    }
    Ok(())
}

/// Writes the content rows of a version: levels, competencies, tracks, cells, expectations
/// and resources, a few multi-row INSERTs per table.
pub(crate) async fn write_content<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    version: Uuid,
    m: &Matrix,
) -> Result<(), DbError> {
    let o = org.0;
    let mut level_ids = HashMap::new();
    let mut levels = Vec::new();
    for l in m.levels() {
        let id = Uuid::now_v7();
        level_ids.insert(l.key.as_str(), id);
        levels.push(level::ActiveModel {
            id: Set(id),
            org_id: Set(o),
            version_id: Set(version),
            key: Set(l.key.to_string()),
            name: Set(l.name.clone()),
            rank: Set(l.rank.get() as i32),
            description: Set(l.description.clone()),
        });
    }
    insert_chunked::<level::Entity, _, _>(c, levels).await?;
    let themes = m
        .themes()
        .iter()
        .enumerate()
        .map(|(i, t)| theme::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(o),
            version_id: Set(version),
            position: Set(i as i32),
            key: Set(t.key.to_string()),
            name: Set(t.name.clone()),
            description: Set(t.description.clone()),
        })
        .collect();
    insert_chunked::<theme::Entity, _, _>(c, themes).await?;
    let comps = m
        .competencies()
        .iter()
        .enumerate()
        .map(|(i, comp)| competency::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(o),
            version_id: Set(version),
            position: Set(i as i32),
            key: Set(comp.key.to_string()),
            name: Set(comp.name.clone()),
            description: Set(comp.description.clone()),
            theme: Set(comp.theme.as_ref().map(ToString::to_string)),
        })
        .collect();
    insert_chunked::<competency::Entity, _, _>(c, comps).await?;

    let (mut tracks, mut cells, mut exps, mut res, mut links) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut criteria: HashMap<&str, Uuid> = HashMap::new();
    let mut position = 0i32;
    let resource = |cell_id: Option<Uuid>,
                    exp_id: Option<Uuid>,
                    i: usize,
                    r: &rungs_domain::matrix::Resource| {
        resource::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(o),
            version_id: Set(version),
            cell_id: Set(cell_id),
            expectation_id: Set(exp_id),
            position: Set(i as i32),
            title: Set(r.title.clone()),
            url: Set(r.url.clone()),
            kind: Set(r.kind.as_str().to_owned()),
            description: Set(r.description.clone()),
        }
    };
    for (ti, t) in m.tracks().iter().enumerate() {
        let track_id = Uuid::now_v7();
        tracks.push(track::ActiveModel {
            id: Set(track_id),
            org_id: Set(o),
            version_id: Set(version),
            position: Set(ti as i32),
            key: Set(t.key.to_string()),
            name: Set(t.name.clone()),
            description: Set(t.description.clone()),
            levels: Set(t
                .levels_as_written(m)
                .and_then(|l| serde_json::to_string(&l).ok())),
            branch_track: Set(t.branches_from.as_ref().map(|b| b.track.to_string())),
            branch_level: Set(t.branches_from.as_ref().map(|b| b.level.to_string())),
        });
        for cell in &t.cells {
            let cell_id = Uuid::now_v7();
            let level_id = *level_ids
                .get(cell.level.as_str())
                .ok_or_else(|| DbError::not_found(format!("level `{}`", cell.level)))?;
            cells.push(cell::ActiveModel {
                id: Set(cell_id),
                org_id: Set(o),
                version_id: Set(version),
                track_id: Set(track_id),
                level_id: Set(level_id),
                titles: Set(serde_json::to_string(&cell.titles).unwrap_or_else(|_| "[]".into())),
                summary: Set(cell.summary.clone()),
            });
            for (ri, r) in cell.resources.iter().enumerate() {
                res.push(resource(Some(cell_id), None, ri, r));
            }
            for (ei, e) in cell.expectations.iter().enumerate() {
                let exp_id = match criteria.get(e.key.as_str()) {
                    Some(id) => *id,
                    None => {
                        let exp_id = Uuid::now_v7();
                        criteria.insert(e.key.as_str(), exp_id);
                        exps.push(expectation::ActiveModel {
                            id: Set(exp_id),
                            org_id: Set(o),
                            version_id: Set(version),
                            cell_id: Set(cell_id),
                            position: Set(position),
                            key: Set(e.key.to_string()),
                            name: Set(e.name.clone()),
                            description: Set(e.description.clone()),
                            competency: Set(e.competency.as_ref().map(ToString::to_string)),
                            title: Set(e.title.clone()),
                            examples: Set((!e.examples.is_empty())
                                .then(|| serde_json::to_string(&e.examples).ok())
                                .flatten()),
                        });
                        position += 1;
                        for (ri, r) in e.resources.iter().enumerate() {
                            res.push(resource(None, Some(exp_id), ri, r));
                        }
                        exp_id
                    }
                };
                links.push(cell_expectation::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    org_id: Set(o),
                    version_id: Set(version),
                    cell_id: Set(cell_id),
                    expectation_id: Set(exp_id),
                    position: Set(ei as i32),
                });
            }
        }
    }
    insert_chunked::<track::Entity, _, _>(c, tracks).await?;
    insert_chunked::<cell::Entity, _, _>(c, cells).await?;
    insert_chunked::<expectation::Entity, _, _>(c, exps).await?;
    insert_chunked::<cell_expectation::Entity, _, _>(c, links).await?;
    insert_chunked::<resource::Entity, _, _>(c, res).await?;
    Ok(())
}

pub(crate) fn org_from_row(r: organisation::Model) -> Result<Organisation, DbError> {
    Ok(Organisation {
        id: OrgId(r.id),
        slug: Slug::parse(&r.slug)?,
        name: r.name,
    })
}

pub(crate) fn person_from_row(r: person::Model) -> Result<Person, DbError> {
    Ok(Person {
        id: PersonId(r.id),
        org_id: OrgId(r.org_id),
        email: Email::parse(&r.email)?,
        display_name: r.display_name,
        manager_id: r.manager_id.map(PersonId),
        is_admin: r.is_admin,
        active: r.active,
    })
}

pub(crate) fn version_from_row(
    v: &matrix_version::Model,
    key: &str,
) -> Result<VersionInfo, DbError> {
    Ok(VersionInfo {
        id: VersionId(v.id),
        matrix_id: MatrixId(v.matrix_id),
        matrix_key: Key::parse(key)?,
        number: v.number.and_then(|n| u32::try_from(n).ok()),
        status: VersionStatus::parse(&v.status)?,
        note: v.note.clone(),
        created_by: v.created_by.map(PersonId),
        created_at: v.created_at,
        published_at: v.published_at,
        published_by: v.published_by.map(PersonId),
        revision: u32::try_from(v.revision).unwrap_or_default(),
    })
}

#[cfg(feature = "testing")]
impl Db {
    /// The raw connection, for test helpers only.
    pub fn conn_for_tests(&self) -> DatabaseConnection {
        self.conn.clone()
    }
}
