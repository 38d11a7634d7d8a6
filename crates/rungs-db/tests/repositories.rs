//! Repositories against real databases: SQLite always, PostgreSQL and MariaDB when configured.

#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, Utc};
use rungs_db::testing::{TestDb, backends, on_every_backend};
use rungs_db::{Backend, DbError};
use rungs_domain::assignment::{LevelAssignment, current_as_of};
use rungs_domain::matrix::VersionStatus;
use rungs_domain::org::{Organisation, Slug};
use rungs_domain::person::{Email, Person};
use rungs_domain::text::Key;
use rungs_domain::{AssignmentId, OrgId, PersonId};

fn org(slug: &str) -> Organisation {
    Organisation::new(Slug::parse(slug).unwrap(), &format!("{slug} Inc")).unwrap()
}

fn person(org: OrgId, email: &str, manager: Option<PersonId>) -> Person {
    Person {
        id: PersonId::new(),
        org_id: org,
        email: Email::parse(email).unwrap(),
        display_name: email.split('@').next().unwrap().to_owned(),
        manager_id: manager,
        is_admin: false,
        active: true,
    }
}

/// The built-in Python matrix.
fn python() -> rungs_domain::matrix::Matrix {
    rungs_format::templates::template("python")
        .unwrap()
        .unwrap()
}

/// `acme` and `globex`, created.
async fn two_orgs(db: &rungs_db::Db) -> (Organisation, Organisation) {
    let (a, b) = (org("acme"), org("globex"));
    db.create_org(&a, &setup()).await.unwrap();
    db.create_org(&b, &setup()).await.unwrap();
    (a, b)
}

#[tokio::test]
async fn migrations_leave_nothing_pending_and_are_idempotent() {
    on_every_backend(async |t: &TestDb| {
        assert!(t.db.pending_migrations().await.unwrap().is_empty());
        assert_eq!(t.db.migrate().await.unwrap(), 0, "{:?}", t.backend);
        t.db.ping().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn organisations_have_unique_slugs() {
    on_every_backend(async |t: &TestDb| {
        let a = org("acme");
        t.db.create_org(&a, &setup()).await.unwrap();
        let err = t.db.create_org(&org("acme"), &setup()).await.unwrap_err();
        assert!(
            matches!(err, DbError::Conflict { .. }),
            "{:?}: {err:?}",
            t.backend
        );
        t.db.create_org(&org("globex"), &setup()).await.unwrap();
        let slugs: Vec<String> =
            t.db.list_orgs()
                .await
                .unwrap()
                .iter()
                .map(|o| o.slug.to_string())
                .collect();
        assert_eq!(slugs, ["acme", "globex"]);
        assert_eq!(
            t.db.org_by_slug(&Slug::parse("acme").unwrap())
                .await
                .unwrap(),
            Some(a)
        );
    })
    .await;
}

#[tokio::test]
async fn matrices_round_trip_through_the_database_and_stay_in_their_tenant() {
    let python = python();
    on_every_backend(async |t: &TestDb| {
        let (a, b) = two_orgs(&t.db).await;
        let info =
            t.db.create_matrix(
                a.id,
                &python,
                VersionStatus::Published,
                Some("v1"),
                None,
                &setup(),
            )
            .await
            .unwrap();
        assert_eq!(info.number, Some(1));
        let (loaded_info, loaded) =
            t.db.latest_published(a.id, "python")
                .await
                .unwrap()
                .unwrap();
        assert_eq!(
            loaded, python,
            "{:?}: stored and loaded matrix differ",
            t.backend
        );
        assert_eq!(loaded_info.id, info.id);
        // The other organisation sees nothing, by key or by id.
        assert!(
            t.db.latest_published(b.id, "python")
                .await
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            t.db.load_version(b.id, info.id).await,
            Err(DbError::NotFound { .. })
        ));
        let listed = t.db.list_matrices(a.id).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].tracks, listed[0].levels, listed[0].expectations),
            (6, 5, 49)
        );
        assert!(t.db.list_matrices(b.id).await.unwrap().is_empty());
        // Same key again in the same organisation: a conflict; in another: fine.
        let err =
            t.db.create_matrix(
                a.id,
                &python,
                VersionStatus::Published,
                None,
                None,
                &setup(),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
        t.db.create_matrix(b.id, &python, VersionStatus::Draft, None, None, &setup())
            .await
            .unwrap();
        assert!(
            t.db.latest_published(b.id, "python")
                .await
                .unwrap()
                .is_none(),
            "a draft is not published"
        );
    })
    .await;
}

/// A published version is read from the database once per process; a draft every time (it
/// changes with each edit), and another organisation never gets one by id.
#[tokio::test]
async fn published_versions_are_read_once_and_drafts_every_time() {
    use std::sync::atomic::Ordering;
    let python = python();
    on_every_backend(async |t: &TestDb| {
        let (a, b) = two_orgs(&t.db).await;
        let (db, statements) = rungs_db::testing::counting(&t.db);
        let count = || statements.load(Ordering::Relaxed);
        let published = db
            .create_matrix(
                a.id,
                &python,
                VersionStatus::Published,
                None,
                None,
                &setup(),
            )
            .await
            .unwrap();
        let before = count();
        let first = db.load_version(a.id, published.id).await.unwrap();
        assert!(count() > before, "the first read goes to the database");
        let before = count();
        let again = db.load_version(a.id, published.id).await.unwrap();
        assert_eq!(count(), before, "{:?}: read again", t.backend);
        assert_eq!((again.0.id, &again.1), (first.0.id, &first.1));
        assert!(matches!(
            db.load_version(b.id, published.id).await,
            Err(DbError::NotFound { .. })
        ));

        let draft = db
            .create_matrix(b.id, &python, VersionStatus::Draft, None, None, &setup())
            .await
            .unwrap();
        let (_, content) = db.load_version(b.id, draft.id).await.unwrap();
        let before = count();
        db.load_version(b.id, draft.id).await.unwrap();
        assert!(count() > before, "a draft is read every time");
        let mut edited = content.to_draft();
        edited.name = "Python, renamed".into();
        let renamed = rungs_domain::matrix::Matrix::new(&edited).unwrap();
        db.save_draft(b.id, draft.id, Some(draft.revision), &renamed, &setup())
            .await
            .unwrap();
        let (info, now) = db.load_version(b.id, draft.id).await.unwrap();
        assert_eq!(now.name(), "Python, renamed");
        db.publish_draft(b.id, draft.id, Some(info.revision), "", None, &setup())
            .await
            .unwrap();
        let (info, now) = db.load_version(b.id, draft.id).await.unwrap();
        assert_eq!(
            (info.status, now.name()),
            (VersionStatus::Published, "Python, renamed")
        );
    })
    .await;
}

#[tokio::test]
async fn people_and_assignments_are_saved_together_and_history_appends() {
    let python = python();
    on_every_backend(async |t: &TestDb| {
        let a = org("acme");
        t.db.create_org(&a, &setup()).await.unwrap();
        let v =
            t.db.create_matrix(
                a.id,
                &python,
                VersionStatus::Published,
                None,
                None,
                &setup(),
            )
            .await
            .unwrap();
        // The report comes before the manager: managers are set after everyone is inserted.
        let boss = person(a.id, "boss@acme.test", None);
        let dev = person(a.id, "dev@acme.test", Some(boss.id));
        let assign = |p: &Person, level: &str, day: u32| LevelAssignment {
            id: AssignmentId::new(),
            person_id: p.id,
            version_id: v.id,
            track: Key::parse("python-developer").unwrap(),
            level: Key::parse(level).unwrap(),
            effective: NaiveDate::from_ymd_opt(2026, 1, day).unwrap(),
            reason: "import".into(),
            set_by: None,
            recorded_at: Utc::now(),
            case_id: None,
            moved_from: None,
        };
        t.db.write(a.id, &setup(), async |tx| {
            tx.save_people(
                &[dev.clone(), boss.clone()],
                &[],
                &[assign(&dev, "beginner", 1)],
            )
            .await
        })
        .await
        .unwrap();
        let people = t.db.list_people(a.id).await.unwrap();
        assert_eq!(people, vec![boss.clone(), dev.clone()]);

        t.db.write(a.id, &setup(), async |tx| {
            tx.append_assignment(&assign(&dev, "intermediate", 20))
                .await
        })
        .await
        .unwrap();
        let history = t.db.assignments(a.id, Some(dev.id)).await.unwrap();
        let levels: Vec<&str> = history.iter().map(|h| h.level.as_str()).collect();
        assert_eq!(
            levels,
            ["beginner", "intermediate"],
            "history is appended, not overwritten"
        );
        let today = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        assert_eq!(
            current_as_of(&history, today).unwrap().level.as_str(),
            "intermediate"
        );

        // A failing write leaves nothing behind: the duplicate email aborts the whole save.
        let newcomer = person(a.id, "new@acme.test", None);
        let dup = person(a.id, "dev@acme.test", None);
        let err =
            t.db.write(a.id, &setup(), async |tx| {
                tx.save_people(
                    &[newcomer.clone(), dup],
                    &[],
                    &[assign(&newcomer, "beginner", 2)],
                )
                .await
            })
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
        assert_eq!(t.db.list_people(a.id).await.unwrap().len(), 2);

        // Writes a use case composes in one `write` stand or fall together: a person, their
        // level, then a write that fails (an email already taken) keeps neither.
        let late = person(a.id, "late@acme.test", None);
        let err =
            t.db.write(a.id, &setup(), async |tx| {
                tx.save_people(std::slice::from_ref(&late), &[], &[])
                    .await?;
                tx.append_assignment(&assign(&late, "beginner", 3)).await?;
                tx.save_people(&[person(a.id, "boss@acme.test", None)], &[], &[])
                    .await
            })
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
        assert_eq!(t.db.list_people(a.id).await.unwrap().len(), 2);
        assert!(
            t.db.assignments(a.id, Some(late.id))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            t.db.assignments(a.id, Some(newcomer.id))
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn the_database_enforces_foreign_keys() {
    on_every_backend(async |t: &TestDb| {
        // A person in an organisation that does not exist is refused by the database itself.
        let ghost = OrgId::new();
        let err =
            t.db.write(ghost, &setup(), async |tx| {
                tx.save_people(&[person(ghost, "x@y.test", None)], &[], &[])
                    .await
            })
            .await;
        assert!(
            err.is_err(),
            "{:?}: foreign keys are not enforced",
            t.backend
        );
    })
    .await;
}

#[test]
fn ci_asks_for_every_backend() {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        assert_eq!(
            backends(),
            [Backend::Sqlite, Backend::Postgres, Backend::MySql],
            "CI must test all three backends"
        );
    }
}

/// The audit entry of test writes.
fn setup() -> rungs_db::Audit {
    rungs_db::Audit::new(None, "test.setup", [], "test set-up")
}

/// Matrices are listed a page at a time by key, each with its latest version's size, in the
/// same statements for one matrix as for five.
#[tokio::test]
async fn matrices_page_by_key_in_constant_statements() {
    use std::sync::atomic::Ordering;
    on_every_backend(async |t: &TestDb| {
        let (a, _) = two_orgs(&t.db).await;
        let (db, statements) = rungs_db::testing::counting(&t.db);
        let mut used = Vec::new();
        for (i, key) in ["m1", "m2", "m3", "m4", "m5"].iter().enumerate() {
            let mut d = python().to_draft();
            d.key = (*key).to_owned();
            let m = rungs_domain::matrix::Matrix::new(&d).unwrap();
            db.create_matrix(a.id, &m, VersionStatus::Published, None, None, &setup())
                .await
                .unwrap();
            let before = statements.load(Ordering::Relaxed);
            let (all, more) = db.matrices_page(a.id, None, None).await.unwrap();
            used.push(statements.load(Ordering::Relaxed) - before);
            assert_eq!((all.len(), more), (i + 1, false));
        }
        assert!(
            used.windows(2).all(|w| w[0] == w[1]),
            "{:?}: {used:?}",
            t.backend
        );
        let (page, more) = db.matrices_page(a.id, None, Some(2)).await.unwrap();
        let keys = |p: &[rungs_domain::matrix::MatrixSummary]| -> Vec<String> {
            p.iter().map(|m| m.key.to_string()).collect()
        };
        assert_eq!((keys(&page), more), (vec!["m1".into(), "m2".into()], true));
        let (page, more) = db.matrices_page(a.id, Some("m4"), Some(2)).await.unwrap();
        assert_eq!((keys(&page), more), (vec!["m5".to_owned()], false));
        assert_eq!(
            (page[0].tracks, page[0].levels, page[0].expectations),
            (6, 5, 49)
        );
    })
    .await;
}

/// A pool with a statement timeout: the database itself stops a statement that runs past it
/// (PostgreSQL and MariaDB; SQLite has no such limit), the error says so (`TimedOut`, never
/// `Other`), and the pool goes on serving.
#[tokio::test]
async fn the_database_stops_a_statement_at_the_pool_s_statement_timeout() {
    for backend in backends() {
        let sleep = match backend {
            Backend::Sqlite => {
                println!("SQLite has no statement timeout: nothing to check there");
                continue;
            }
            Backend::Postgres => "SELECT pg_sleep(5)",
            Backend::MySql => "SELECT SLEEP(5)",
        };
        let t = TestDb::fresh(backend).await;
        let db = rungs_db::Db::connect_with(
            &t.url,
            rungs_db::PoolOptions {
                statement_timeout: Some(std::time::Duration::from_millis(500)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        use sea_orm::ConnectionTrait;
        let started = std::time::Instant::now();
        let err = db.conn_for_tests().execute_unprepared(sleep).await;
        let took = started.elapsed();
        // MariaDB's SLEEP interrupted by max_statement_time returns 1 as a row rather than
        // failing; PostgreSQL fails with query_canceled.
        match backend {
            Backend::Postgres => {
                let err = DbError::from(err.unwrap_err());
                assert!(matches!(err, DbError::TimedOut(_)), "{backend:?}: {err:?}");
            }
            _ => {
                if let Err(e) = err {
                    let err = DbError::from(e);
                    assert!(matches!(err, DbError::TimedOut(_)), "{backend:?}: {err:?}");
                }
            }
        }
        assert!(
            took < std::time::Duration::from_secs(3),
            "{backend:?}: the statement ran {took:?}"
        );
        db.ping().await.unwrap();
        drop(db);
        t.drop_database().await;
    }
}
