//! A fresh, migrated database per test: a SQLite file in a temporary directory always, plus a
//! uniquely named PostgreSQL and MariaDB/MySQL database when `RUNGS_TEST_POSTGRES_URL` /
//! `RUNGS_TEST_MYSQL_URL` are set (CI sets both). Same migrations as production.

use crate::{Backend, Db};
use sea_orm::{ConnectionTrait, Database};
use sea_orm_migration::MigratorTrait;

/// A database made for one test. Call [`TestDb::drop_database`] at the end to remove a server
/// database; SQLite files go with their temporary directory.
pub struct TestDb {
    pub db: Db,
    /// The URL the test database answers at (to hand to the real binary).
    pub url: String,
    pub backend: Backend,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

/// The backends to test against: SQLite, and each server whose URL is set.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if std::env::var("RUNGS_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        out.push(Backend::Postgres);
    }
    if std::env::var("RUNGS_TEST_MYSQL_URL").is_ok_and(|v| !v.is_empty()) {
        out.push(Backend::MySql);
    }
    out
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..host_end])
}

impl TestDb {
    /// A fresh, migrated database on `backend`.
    ///
    /// # Panics
    /// When the server cannot be reached: a test run that asked for a backend must not pass
    /// without it.
    pub async fn fresh(backend: Backend) -> Self {
        let (url, admin, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("rungs.db").display());
                (url, None, Some(dir))
            }
            Backend::Postgres | Backend::MySql => {
                let var = if backend == Backend::Postgres {
                    "RUNGS_TEST_POSTGRES_URL"
                } else {
                    "RUNGS_TEST_MYSQL_URL"
                };
                let admin_url = std::env::var(var).expect("backend URL set");
                let name = format!("rungs_test_{}", uuid::Uuid::now_v7().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("{var}: cannot connect: {e}"));
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap_or_else(|e| panic!("{var}: cannot create a test database: {e}"));
                admin.close().await.ok();
                (
                    with_database(&admin_url, &name),
                    Some((admin_url, name)),
                    None,
                )
            }
        };
        Self::migrated(url, backend, admin, dir).await
    }

    /// A migrated SQLite database in `dir`, a directory the test owns (a small mount, say).
    pub async fn sqlite_in(dir: &std::path::Path) -> Self {
        let url = format!("sqlite://{}", dir.join("rungs.db").display());
        Self::migrated(url, Backend::Sqlite, None, None).await
    }

    async fn migrated(
        url: String,
        backend: Backend,
        admin: Option<(String, String)>,
        dir: Option<tempfile::TempDir>,
    ) -> Self {
        let db = Db::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e:?}"));
        db.migrate()
            .await
            .unwrap_or_else(|e| panic!("migrate {url}: {e:?}"));
        Self {
            db,
            url,
            backend,
            admin,
            _dir: dir,
        }
    }

    /// A fresh database without migrations applied (for the CLI's `db migrate`).
    pub async fn empty(backend: Backend) -> Self {
        let t = Self::fresh(backend).await;
        // Migrations are reversible: roll them all back to leave an empty schema.
        crate::migrations::Migrator::reset(&t.db.conn_for_tests())
            .await
            .expect("reset");
        t
    }

    /// Rolls the newest `n` migrations back and applies them again, on the data the database
    /// holds: what an existing installation goes through when it upgrades.
    pub async fn redo_migrations(&self, n: u32) {
        let conn = self.db.conn_for_tests();
        crate::migrations::Migrator::down(&conn, Some(n))
            .await
            .expect("down");
        crate::migrations::Migrator::up(&conn, None)
            .await
            .expect("up");
    }

    /// Removes a server database made for the test.
    pub async fn drop_database(self) {
        let TestDb { db, admin, .. } = self;
        db.close().await.ok();
        if let Some((admin_url, name)) = admin
            && let Ok(conn) = Database::connect(&admin_url).await
        {
            conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await
                .ok();
            conn.close().await.ok();
        }
    }
}

/// Runs `body` once per backend in [`backends`], each on a fresh database.
pub async fn on_every_backend(body: impl AsyncFn(&TestDb)) {
    for backend in backends() {
        let t = TestDb::fresh(backend).await;
        body(&t).await;
        t.drop_database().await;
    }
}

impl TestDb {
    /// Runs raw SQL against the test database (to break it on purpose, for instance).
    pub async fn execute(&self, sql: &str) {
        self.db
            .conn_for_tests()
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// As if a day passed: what takes effect tomorrow takes effect today, assignments and the
    /// day their kept standings fall due alike.
    pub async fn a_day_passes(&self) {
        let today = chrono::Utc::now().date_naive();
        let tomorrow = today + chrono::Duration::days(1);
        self.execute(&format!(
            "UPDATE level_assignments SET effective = '{today}' WHERE effective = '{tomorrow}'"
        ))
        .await;
        self.execute(&format!(
            "UPDATE standings SET valid_until = '{today}' WHERE valid_until = '{tomorrow}'"
        ))
        .await;
    }
}

/// A clone of `db` that counts the statements it (and every clone made from it) runs.
pub fn counting(db: &Db) -> (Db, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    let mut db = db.clone();
    let statements = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = statements.clone();
    db.observe_statements(move |_, _, _| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    (db, statements)
}

/// A `Meets` rating of `person` on `expectation` by their manager, now.
pub fn manager_rating(
    person: &rungs_domain::person::Person,
    version: rungs_domain::VersionId,
    expectation: &rungs_domain::text::Key,
) -> rungs_domain::assessment::Assessment {
    use rungs_domain::assessment::{Assessment, AssessorRole, Evidence, Rating};
    Assessment {
        id: rungs_domain::AssessmentId::new(),
        person_id: person.id,
        version_id: version,
        expectation: expectation.clone(),
        rating: Rating::Meets,
        assessor_id: person.manager_id.expect("a person with a manager"),
        role: AssessorRole::Manager,
        evidence: Evidence::default(),
        at: chrono::Utc::now(),
        carried_from: None,
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_swapped_in_the_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306/test?ssl-mode=disabled", "x"),
            "mysql://root@127.0.0.1:3306/x?ssl-mode=disabled"
        );
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306", "x"),
            "mysql://root@127.0.0.1:3306/x"
        );
    }
}
