//! The core every repository builds on: the connection pool ([`Db`]), and [`Db::write`], which
//! runs a change in one transaction (this process's turn to write, on SQLite) and writes its
//! audit entry in the same transaction, so a change and its record stand or fall together.

use crate::audit::{Audit, write_audit};
use crate::error::DbError;
use crate::migrations::Migrator;
use rungs_domain::OrgId;
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, TransactionTrait,
};
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::MigratorTrait;

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

/// A database transaction, as the row functions below the aggregates take it.
pub(crate) type Txn = DatabaseTransaction;

/// One write of one organisation in progress: the transaction [`Db::write`] opened. The
/// aggregates' writing functions are its methods (`tx.save_people(…)`, `tx.close_case(…)`,
/// `tx.append_assignment(…)`), so a use case composes the writes that belong together in one
/// transaction, which ends with its audit entry. It runs no SQL of its own choosing: only what
/// the aggregates offer.
pub struct Tx {
    pub(crate) txn: Txn,
    /// The published versions' keys (the pool's cache).
    pub(crate) keys: std::sync::Arc<crate::cache::KeysCache>,
    pub(crate) org: OrgId,
}

/// A connection pool to the Rungs database.
#[derive(Clone)]
pub struct Db {
    pub(crate) conn: DatabaseConnection,
    /// Published versions already read (shared by every clone of the pool).
    pub(crate) versions: std::sync::Arc<crate::cache::VersionCache>,
    /// Published versions' row ids to keys (shared by every clone of the pool).
    pub(crate) keys: std::sync::Arc<crate::cache::KeysCache>,
    /// The session's statement as written for each shape of lead (shared by every clone of
    /// the pool).
    pub(crate) statements: std::sync::Arc<crate::statements::SessionStatements>,
    /// SQLite takes one writer at a time, and a transaction that read before it wrote fails
    /// (rather than waits) when another wrote meanwhile: this process's writes take turns here
    /// (shared by every clone of the pool). `None` on PostgreSQL and MariaDB.
    writes: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// How this process's latest writes went (shared by every clone of the pool).
    health: std::sync::Arc<WriteHealth>,
}

/// How writes have been going: when the latest one committed, unless one failed for want of
/// room since (then `None` until a write commits again). Readiness probes read it and write
/// only when it says nothing recent.
#[derive(Debug, Default)]
struct WriteHealth(std::sync::Mutex<Option<std::time::Instant>>);

impl WriteHealth {
    fn record<T>(&self, outcome: &Result<T, DbError>) {
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok(_) => *last = Some(std::time::Instant::now()),
            Err(DbError::StorageFull(_)) => *last = None,
            Err(_) => {}
        }
    }

    /// Whether a write committed within `window` and none failed for want of room since.
    fn recently_fine(&self, window: std::time::Duration) -> bool {
        let last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        last.is_some_and(|at| at.elapsed() <= window)
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend())
            .finish()
    }
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

/// How long a pooled connection may sit idle before it is pinged on its way out of the pool.
const IDLE_BEFORE_PING: std::time::Duration = std::time::Duration::from_secs(5);

/// How a pool waits for its database.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// The longest a statement waits for a connection, opening one included: with the
    /// database down, a request fails with `Unavailable` after this, instead of hanging.
    pub acquire_timeout: std::time::Duration,
    /// The longest one statement may run before the database stops it (PostgreSQL's
    /// `statement_timeout`, MariaDB's `max_statement_time`; SQLite has none): the server sets
    /// its request timeout here, so a request stopped for its time leaves no statement behind.
    pub statement_timeout: Option<std::time::Duration>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        // sqlx's own default: patient, for the CLI's batch work and the tests.
        Self {
            acquire_timeout: std::time::Duration::from_secs(30),
            statement_timeout: None,
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
        // The driver's default pings every connection it hands out: a second round trip for
        // every statement. Only a connection idle long enough to have been dropped by the
        // server or a proxy is pinged; a busy one that broke fails its statement as
        // `Unavailable` (503, retried by the client) and is replaced.
        opts.test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
        if sqlite {
            // One writer at a time; readers share WAL.
            opts.max_connections(4);
            // A COMMIT that fails for want of room (or an I/O error) may already have been
            // rolled back by SQLite, so the driver's ROLLBACK fails too and the connection
            // stays "in a transaction" for the driver: its next transaction would be a
            // savepoint on a stale snapshot, and fail. Such a connection is closed when it
            // comes back to the pool (after any queued rollback has run); a new one replaces it.
            opts.map_sqlx_sqlite_pool_opts(|p| {
                p.after_release(|conn, _| {
                    Box::pin(async move {
                        use sea_orm::sqlx::Connection;
                        if !conn.is_in_transaction() {
                            return Ok(true);
                        }
                        conn.ping().await?;
                        Ok(!conn.is_in_transaction())
                    })
                })
            });
        }
        if let Some(limit) = pool.statement_timeout {
            let ms = limit.as_millis().max(1);
            opts.map_sqlx_postgres_opts(move |o| {
                o.options([("statement_timeout", format!("{ms}ms"))])
            });
            // Set on each new connection. MariaDB's variable first, MySQL's (SELECTs only)
            // otherwise; a server with neither keeps no limit, with a warning.
            opts.map_sqlx_mysql_pool_opts(move |p| {
                p.after_connect(move |conn, _| {
                    Box::pin(async move {
                        use sea_orm::sqlx::{AssertSqlSafe, Executor};
                        let seconds = format!("{:.3}", ms as f64 / 1000.0);
                        let mariadb = format!("SET SESSION max_statement_time = {seconds}");
                        if conn.execute(AssertSqlSafe(mariadb)).await.is_err() {
                            let mysql = format!("SET SESSION max_execution_time = {ms}");
                            if let Err(e) = conn.execute(AssertSqlSafe(mysql)).await {
                                tracing::warn!(error = %e, "no statement timeout on this server");
                            }
                        }
                        Ok(())
                    })
                })
            });
        }
        let conn = Database::connect(opts).await?;
        if sqlite {
            conn.execute_unprepared("PRAGMA journal_mode=WAL").await?;
            conn.execute_unprepared("PRAGMA foreign_keys=ON").await?;
        }
        let mut db = Self {
            conn,
            versions: Default::default(),
            keys: Default::default(),
            statements: Default::default(),
            writes: sqlite.then(Default::default),
            health: Default::default(),
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
        self.fill_missing_terms().await?;
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
    /// nested loop: half a second for 3,000 people instead of a few milliseconds. On
    /// PostgreSQL it vacuums them too (outside any transaction, as VACUUM must be): until their
    /// pages are marked all-visible, a count over a subtree's range of paths (a team's total,
    /// its level distribution, calibration) reads the table instead of the index alone, 48 ms
    /// against 7 for 33,614 of 100,000 people (a second's work after `demo seed`).
    pub async fn analyze(&self) -> Result<(), DbError> {
        const TABLES: &str = "people, standings, level_assignments, assessments, promotion_cases, credentials, \
             search_terms, audit_mentions";
        let sql = match self.backend() {
            Backend::Postgres => format!("VACUUM (ANALYZE) {TABLES}"),
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

    /// Runs `work` in one transaction, in this process's turn to write (on SQLite), and
    /// commits what it did. When `work` fails nothing of it is kept: the transaction is
    /// dropped, which rolls it back. For writes whose audit entry is decided inside (or that
    /// have none); use cases write through [`Db::write`].
    pub(crate) async fn transact<T>(
        &self,
        work: impl AsyncFnOnce(&Txn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.in_turn(async || {
            let tx = self.conn.begin().await?;
            let out = work(&tx).await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    /// Runs a transaction's `body` in this process's turn to write (on SQLite), and records
    /// how it went for [`Db::check_writable`].
    async fn in_turn<T>(
        &self,
        body: impl AsyncFnOnce() -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let _turn = self.serialised().await;
        let outcome = body().await;
        self.health.record(&outcome);
        outcome
    }

    /// Can the database write? Yes without asking when a write committed in the last ten
    /// seconds and none has failed for want of room since; otherwise a probe writes one small
    /// row (`write_probes`) in a transaction of its own. Readiness checks call it, so a full
    /// disk makes the server unready and freeing space makes it ready again, by itself.
    pub async fn check_writable(&self) -> Result<(), DbError> {
        if self
            .health
            .recently_fine(std::time::Duration::from_secs(10))
        {
            return Ok(());
        }
        self.transact(async |tx| {
            use sea_orm::sea_query::{Expr, ExprTrait, Query};
            let stmt = Query::update()
                .table("write_probes")
                .value("checked_at", chrono::Utc::now().timestamp_millis())
                .and_where(Expr::col("id").eq(1))
                .to_owned();
            tx.execute(&stmt).await?;
            Ok(())
        })
        .await
    }

    /// A change of `org` with its audit entry, in one transaction ([`Db::transact`]): the
    /// change and its record stand or fall together. `work` composes the aggregates' writing
    /// functions on the [`Tx`] it is given; when it fails, nothing of it is kept.
    pub async fn write<T>(
        &self,
        org: OrgId,
        audit: &Audit,
        work: impl AsyncFnOnce(&Tx) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.in_turn(async || {
            let tx = Tx {
                txn: self.conn.begin().await?,
                keys: self.keys.clone(),
                org,
            };
            let out = work(&tx).await?;
            write_audit(&tx.txn, org, audit).await?;
            tx.txn.commit().await?;
            Ok(out)
        })
        .await
    }

    pub async fn close(self) -> Result<(), DbError> {
        self.conn.close().await.map_err(DbError::from)
    }
}

#[cfg(feature = "testing")]
impl Db {
    /// The raw connection, for test helpers only.
    pub fn conn_for_tests(&self) -> DatabaseConnection {
        self.conn.clone()
    }
}
