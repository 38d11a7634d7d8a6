//! People reads in SQL, on every backend: one person, a page of people, a level history, an
//! assessment history and the audit log cost the same number of statements in an organisation of
//! 10 people as in one of 10,000; pages follow keyset cursors that carry no personal data; search,
//! track and level filters are SQL's and agree with the current position; a manager's reach is
//! their own reporting lines, checked by walking up from the person.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use rungs_app::{Actor, App, MatrixSource, PeopleFilter, PersonChanges, TeamSort};
use rungs_db::testing::{TestDb, backends, counting};
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::person::{Email, Person};
use rungs_domain::text::Key;
use rungs_domain::{AssignmentId, OrgId, PersonId, VersionId};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

fn person(org: OrgId, email: &str, name: &str, manager: Option<PersonId>, admin: bool) -> Person {
    Person {
        id: PersonId::new(),
        org_id: org,
        email: Email::parse(email).unwrap(),
        display_name: name.to_owned(),
        manager_id: manager,
        is_admin: admin,
        active: true,
    }
}

fn as_person(p: &Person) -> Actor {
    Actor::Person {
        id: p.id,
        org: p.org_id,
        is_admin: p.is_admin,
    }
}

fn placed(p: &Person, version: VersionId, level: &str, days_ago: i64) -> LevelAssignment {
    LevelAssignment {
        id: AssignmentId::new(),
        person_id: p.id,
        version_id: version,
        track: Key::parse(if p.email.as_str().starts_with("d") {
            "data-analyst"
        } else {
            "python-developer"
        })
        .unwrap(),
        level: Key::parse(level).unwrap(),
        effective: Utc::now().date_naive() - Duration::days(days_ago),
        reason: "setup".into(),
        set_by: None,
        recorded_at: Utc::now(),
        case_id: None,
        moved_from: None,
    }
}

/// `size` people under one head (`boss`, under `ceo`): leads of ten, each over nine. Everyone
/// is placed at `beginner` a year ago; every third person was promoted to `intermediate` a month
/// ago; every fifth has a promotion to `advanced` that takes effect next month (not current).
/// Emails starting with `d` are on the data track.
struct Org {
    app: App,
    hr: Person,
    ceo: Person,
    boss: Person,
    /// Someone deep in the tree: a report of a lead.
    deep: Person,
    people: Vec<Person>,
}

async fn org(db: rungs_db::Db, size: usize) -> Org {
    let app = App::new(db);
    let sys = Actor::system();
    let o = app.create_org(&sys, "acme", "Acme").await.unwrap();
    app.import_matrix(&sys, "acme", MatrixSource::Template("python"), false)
        .await
        .unwrap();
    let (info, _) = app.show_matrix(&sys, "acme", "python").await.unwrap();
    let hr = person(o.id, "hr@acme.test", "Hana HR", None, true);
    let ceo = person(o.id, "ceo@acme.test", "Cleo Chief", None, false);
    let boss = person(o.id, "boss@acme.test", "Bo Boss", Some(ceo.id), false);
    let mut people = vec![hr.clone(), ceo.clone(), boss.clone()];
    let mut lead = boss.id;
    for i in 0..size {
        let manager = if i % 10 == 0 { boss.id } else { lead };
        let prefix = if i % 4 == 0 { "d" } else { "p" };
        let p = person(
            o.id,
            &format!("{prefix}{i:05}@acme.test"),
            &format!("Person Number{i}"),
            Some(manager),
            false,
        );
        if i % 10 == 0 {
            lead = p.id;
        }
        people.push(p);
    }
    let mut assignments = Vec::new();
    for (i, p) in people.iter().enumerate().skip(3) {
        assignments.push(placed(p, info.id, "beginner", 365));
        if i % 3 == 0 {
            assignments.push(placed(p, info.id, "intermediate", 30));
        }
        if i % 5 == 0 {
            assignments.push(placed(p, info.id, "advanced", -30));
        }
    }
    app.db()
        .write(
            o.id,
            &rungs_db::Audit::new(None, "test.setup", [], "test set-up"),
            async |tx| tx.save_people(&people, &[], &assignments).await,
        )
        .await
        .unwrap();
    let deep = people[3 + 2].clone();
    Org {
        app,
        hr,
        ceo,
        boss,
        deep,
        people,
    }
}

fn filter() -> PeopleFilter {
    PeopleFilter::default()
}

/// The people a search for `q` finds, as HR of `acme` pages them (`first` at most).
async fn searched(
    a: &App,
    hr: &Actor,
    q: &str,
    first: usize,
) -> rungs_app::Page<rungs_app::PersonView> {
    let f = PeopleFilter {
        search: Some(q.into()),
        ..filter()
    };
    a.people_page(hr, "acme", &f, Some(first), None)
        .await
        .unwrap()
}

/// Every listed read, with the statements it ran, for one organisation.
async fn reads(o: &Org, statements: &AtomicU64) -> Vec<(&'static str, u64)> {
    let mut out = Vec::new();
    macro_rules! count {
        ($name:literal, $e:expr) => {{
            let before = statements.load(Ordering::Relaxed);
            let r = $e.await;
            out.push(($name, statements.load(Ordering::Relaxed) - before));
            r.unwrap()
        }};
    }
    let a = &o.app;
    let me = count!("me", a.person_view(&as_person(&o.deep), "acme", o.deep.id));
    assert_eq!(me.person.id, o.deep.id);
    count!(
        "person (a manager, deep report)",
        a.person_view(&as_person(&o.ceo), "acme", o.deep.id)
    );
    count!(
        "person (HR)",
        a.person_view(&as_person(&o.hr), "acme", o.deep.id)
    );
    let page = count!(
        "people (HR)",
        a.people_page(&as_person(&o.hr), "acme", &filter(), Some(5), None)
    );
    count!(
        "people (HR, next page)",
        a.people_page(
            &as_person(&o.hr),
            "acme",
            &filter(),
            Some(5),
            page.end_cursor.as_deref()
        )
    );
    let quick = count!(
        "people (HR, no total)",
        a.people_page(
            &as_person(&o.hr),
            "acme",
            &PeopleFilter {
                skip_total: true,
                ..filter()
            },
            Some(5),
            None
        )
    );
    // The same page, without the count.
    let emails = |p: &rungs_app::Page<rungs_app::PersonView>| -> Vec<String> {
        p.items.iter().map(|v| v.person.email.to_string()).collect()
    };
    assert_eq!(emails(&quick), emails(&page));
    assert_eq!((quick.total, quick.has_next), (0, page.has_next));
    count!(
        "people (search)",
        a.people_page(
            &as_person(&o.hr),
            "acme",
            &PeopleFilter {
                search: Some("number1".into()),
                ..filter()
            },
            Some(20),
            None
        )
    );
    count!(
        "people (track and level)",
        a.people_page(
            &as_person(&o.hr),
            "acme",
            &PeopleFilter {
                track: Some("python-developer".into()),
                level: Some("intermediate".into()),
                ..filter()
            },
            Some(20),
            None
        )
    );
    count!(
        "people (a manager)",
        a.people_page(&as_person(&o.boss), "acme", &filter(), Some(20), None)
    );
    count!(
        "level history",
        a.level_history_of(&as_person(&o.ceo), "acme", o.deep.id)
    );
    count!(
        "assessments",
        a.assessments(
            &as_person(&o.ceo),
            "acme",
            o.deep.id,
            &Default::default(),
            Some(20),
            None
        )
    );
    let log = count!(
        "audit log",
        a.audit_log(&as_person(&o.hr), "acme", None, Some(1), None)
    );
    count!(
        "audit log (next page)",
        a.audit_log(
            &as_person(&o.hr),
            "acme",
            None,
            Some(1),
            log.end_cursor.as_deref()
        )
    );
    let team = count!(
        "team (by readiness)",
        a.team(
            &as_person(&o.ceo),
            "acme",
            None,
            TeamSort::Readiness,
            true,
            Some(5),
            None
        )
    );
    assert_eq!(team.total, o.people.len() - 2, "everyone below the chief");
    count!(
        "team (by level, next page)",
        a.team(
            &as_person(&o.ceo),
            "acme",
            None,
            TeamSort::Level,
            false,
            Some(5),
            team.end_cursor.as_deref()
        )
    );
    count!(
        "readiness",
        a.readiness_of(&as_person(&o.ceo), "acme", o.deep.id)
    );
    count!(
        "promotion cases (HR)",
        a.promotion_cases(&as_person(&o.hr), "acme", None, true, Some(20), None)
    );
    count!(
        "promotion cases (a manager)",
        a.promotion_cases(&as_person(&o.boss), "acme", None, true, Some(20), None)
    );
    out
}

/// Reads that compute readiness load the matrix version (a statement per content table).
fn bound(read: &str) -> u64 {
    if read.starts_with("team") || read == "readiness" {
        30
    } else {
        10
    }
}

#[tokio::test]
async fn people_reads_cost_the_same_at_10_and_10000_people() {
    for backend in backends() {
        let mut runs = Vec::new();
        for size in [10usize, 10_000] {
            let t = TestDb::fresh(backend).await;
            let (db, statements) = counting(&t.db);
            let o = org(db, size).await;
            runs.push(reads(&o, &statements).await);
            t.drop_database().await;
        }
        println!("{backend:?}: statements per read at 10 and 10,000 people: {runs:?}");
        assert_eq!(
            runs[0], runs[1],
            "{backend:?}: a read grew with the organisation"
        );
        for (name, n) in &runs[0] {
            assert!(*n <= bound(name), "{backend:?}: {name} ran {n} statements");
        }
    }
}

#[tokio::test]
async fn people_pages_filter_and_page_in_sql() {
    for backend in backends() {
        let b = format!("{backend:?}");
        let t = TestDb::fresh(backend).await;
        let o = org(t.db.clone(), 120).await;
        let a = &o.app;
        let hr = as_person(&o.hr);

        // Walking every page as HR lists everyone once, in email order; cursors are ids.
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = a
                .people_page(&hr, "acme", &filter(), Some(7), after.as_deref())
                .await
                .unwrap();
            assert_eq!(page.total, o.people.len(), "{b}");
            seen.extend(page.items.iter().map(|v| v.person.email.to_string()));
            let cursor = page.end_cursor.clone().unwrap();
            assert!(!cursor.contains('@'), "{b}: a cursor carries no email");
            assert!(cursor.parse::<PersonId>().is_ok(), "{b}: {cursor}");
            if !page.has_next {
                break;
            }
            after = Some(cursor);
        }
        let mut want: Vec<String> = o.people.iter().map(|p| p.email.to_string()).collect();
        want.sort();
        assert_eq!(seen, want, "{b}");
        let err = a
            .people_page(&hr, "acme", &filter(), Some(5), Some("someone@acme.test"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{b}");

        // Search: the start of a word of a name or an email and what follows it, any case;
        // LIKE's own characters are literal.
        let found = |f: PeopleFilter| {
            let hr = hr.clone();
            async move {
                a.people_page(&hr, "acme", &f, Some(100), None)
                    .await
                    .unwrap()
            }
        };
        let p = found(PeopleFilter {
            search: Some("NUMBER11".into()),
            ..filter()
        })
        .await;
        let names: BTreeSet<String> = p
            .items
            .iter()
            .map(|v| v.person.display_name.clone())
            .collect();
        let want: BTreeSet<String> = o
            .people
            .iter()
            .filter(|p| {
                rungs_domain::search::matches(
                    &rungs_domain::search::search_terms(p.email.as_str(), &p.display_name),
                    "NUMBER11",
                )
            })
            .map(|p| p.display_name.clone())
            .collect();
        assert_eq!(names, want, "{b}");
        assert_eq!(p.total, 11, "{b}: 11 and 110..=119");
        let p = found(PeopleFilter {
            search: Some("d0000".into()),
            ..filter()
        })
        .await;
        assert_eq!(p.total, 3, "{b}: d00000, d00004, d00008");
        let p = found(PeopleFilter {
            search: Some("%".into()),
            ..filter()
        })
        .await;
        assert_eq!(p.total, 0, "{b}: % is a character, not a wildcard");
        // Words run on: across a space in a name, across the email's separators; inside a
        // word nothing starts.
        for (q, total) in [
            ("person number11", 11),
            ("  Person   NUMBER110 ", 1),
            ("00011@acme", 0),
            ("p00011@acme.te", 1),
            ("acme.test", o.people.len()),
            ("@ACME", o.people.len()),
            ("umber11", 0),
            ("erson", 0),
        ] {
            assert_eq!(searched(a, &hr, q, 100).await.total, total, "{b}: {q}");
        }

        // Track and level: the position in force today (a promotion next month is not yet).
        let p = found(PeopleFilter {
            track: Some("python-developer".into()),
            level: Some("intermediate".into()),
            ..filter()
        })
        .await;
        assert!(p.total > 0, "{b}");
        for v in &p.items {
            let c = v.current.as_ref().unwrap();
            assert_eq!(
                (c.track.as_str(), c.level.as_str()),
                ("python-developer", "intermediate"),
                "{b}"
            );
        }
        let expected = o
            .people
            .iter()
            .enumerate()
            .skip(3)
            .filter(|(i, p)| i % 3 == 0 && !p.email.as_str().starts_with('d'))
            .count();
        assert_eq!(p.total, expected, "{b}");
        let p = found(PeopleFilter {
            level: Some("advanced".into()),
            ..filter()
        })
        .await;
        assert_eq!(p.total, 0, "{b}: next month's promotions are not current");

        // A manager's reach: themselves and their lines; an employee: themselves.
        let ceo_sees = a
            .people_page(&as_person(&o.ceo), "acme", &filter(), Some(100), None)
            .await
            .unwrap();
        assert_eq!(ceo_sees.total, o.people.len() - 1, "{b}: all but HR");
        let deep_sees = a
            .people_page(&as_person(&o.deep), "acme", &filter(), Some(100), None)
            .await
            .unwrap();
        assert_eq!(deep_sees.total, 1, "{b}");
        // Reading one person: a manager above them may; someone beside them may not.
        let peer = o
            .people
            .iter()
            .find(|p| p.manager_id == o.deep.manager_id && p.id != o.deep.id)
            .unwrap();
        let err = a
            .person_view(&as_person(peer), "acme", o.deep.id)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "FORBIDDEN", "{b}");
        let v = a
            .person_view(&as_person(&o.ceo), "acme", o.deep.id)
            .await
            .unwrap();
        assert!(v.manager_email.is_some() && v.current.is_some(), "{b}");

        // A manager change that would close a loop is refused and named by email.
        let err = a
            .update_person(
                &hr,
                "acme",
                o.ceo.id,
                PersonChanges {
                    manager: Some(Some(o.deep.id)),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{b}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("cycle: ceo@acme.test -> {} -> ", o.deep.email))
                && msg.ends_with("-> boss@acme.test -> ceo@acme.test"),
            "{b}: {msg}"
        );

        // The audit log pages by key too: newest first, every entry once, ids as cursors.
        for i in 0..12 {
            a.update_person(
                &hr,
                "acme",
                o.deep.id,
                PersonChanges {
                    display_name: Some(format!("Renamed {i}")),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }
        // A renamed person is found by their new name only.
        for (q, found) in [
            ("renamed 11", 1),
            ("renamed 10", 0),
            ("Person Number2 ", 10),
        ] {
            let p = searched(a, &hr, q, 20).await;
            assert_eq!(p.total, found, "{b}: {q}");
            if q == "renamed 11" {
                assert_eq!(p.items[0].person.id, o.deep.id, "{b}");
            }
        }
        let whole = a
            .audit_log(&hr, "acme", None, Some(100), None)
            .await
            .unwrap();
        let ids = |p: &rungs_app::Page<rungs_app::AuditView>| -> Vec<String> {
            p.items.iter().map(|v| v.entry.id.to_string()).collect()
        };
        assert!(whole.total >= 13, "{b}: {}", whole.total);
        assert!(
            whole
                .items
                .windows(2)
                .all(|w| w[0].entry.at >= w[1].entry.at),
            "{b}: newest first"
        );
        let mut walked = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = a
                .audit_log(
                    &hr,
                    "acme",
                    Some("person.update"),
                    Some(5),
                    after.as_deref(),
                )
                .await
                .unwrap();
            assert_eq!(page.total, 12, "{b}");
            walked.extend(ids(&page));
            if !page.has_next {
                break;
            }
            after = page.end_cursor.clone();
        }
        let updates: Vec<String> = whole
            .items
            .iter()
            .filter(|v| v.entry.action == "person.update")
            .map(|v| v.entry.id.to_string())
            .collect();
        assert_eq!(walked, updates, "{b}");
        t.drop_database().await;
    }
}

/// People search's terms and the audit log's mentions are indexes kept beside their records:
/// each answers what the records say (a search as `rungs_domain::search` decides it over the
/// people as listed; "by or about" as the entries' actors and subjects say), after renames,
/// and again once their migrations (and the mentions' append-only triggers) are rolled back
/// and applied to the data already stored (what an upgrade goes through: the mentions filled
/// by their migration, the terms by `Db::migrate`).
#[tokio::test]
async fn search_and_audit_indexes_answer_as_their_records_and_fill_for_older_data() {
    for backend in backends() {
        let b = format!("{backend:?}");
        let t = TestDb::fresh(backend).await;
        let o = org(t.db.clone(), 40).await;
        let a = &o.app;
        let hr = as_person(&o.hr);
        for (who, name) in [
            (&o.deep, "Renamed Once"),
            (&o.deep, "Renamed Twice"),
            (&o.people[7], "Zoë Ødegaard-Number7"),
        ] {
            a.update_person(
                &hr,
                "acme",
                who.id,
                PersonChanges {
                    display_name: Some(name.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }
        let check = async |when: &str| {
            let everyone = a
                .people_page(&hr, "acme", &filter(), Some(100), None)
                .await
                .unwrap();
            assert_eq!(everyone.total, o.people.len(), "{b} {when}");
            for q in [
                "renamed",
                "renamed once",
                "person number1",
                "ACME.test",
                "zoë",
                "ødegaard",
                "number7",
                "hana",
                "umber",
                "-",
            ] {
                let want: BTreeSet<String> = everyone
                    .items
                    .iter()
                    .filter(|v| {
                        rungs_domain::search::matches(
                            &rungs_domain::search::search_terms(
                                v.person.email.as_str(),
                                &v.person.display_name,
                            ),
                            q,
                        )
                    })
                    .map(|v| v.person.email.to_string())
                    .collect();
                let got = searched(a, &hr, q, 100).await;
                let emails: BTreeSet<String> = got
                    .items
                    .iter()
                    .map(|v| v.person.email.to_string())
                    .collect();
                assert_eq!(
                    (emails, got.total),
                    (want.clone(), want.len()),
                    "{b} {when}: {q}"
                );
            }
            let log = a
                .audit_log(&hr, "acme", None, Some(100), None)
                .await
                .unwrap();
            for p in [&o.hr, &o.deep, &o.people[7], &o.ceo] {
                let want: Vec<uuid::Uuid> = log
                    .items
                    .iter()
                    .filter(|v| {
                        v.entry.actor_id == Some(p.id) || v.entry.subjects.contains(&p.id.0)
                    })
                    .map(|v| v.entry.id)
                    .collect();
                let got = a
                    .audit_page(
                        &hr,
                        "acme",
                        &rungs_db::AuditFilter {
                            person: Some(p.id),
                            ..Default::default()
                        },
                        Some(100),
                        None,
                    )
                    .await
                    .unwrap();
                let ids: Vec<uuid::Uuid> = got.items.iter().map(|v| v.entry.id).collect();
                assert_eq!(
                    (ids, got.total),
                    (want.clone(), want.len()),
                    "{b} {when}: {}",
                    p.email
                );
            }
            // A team search pages by its cursors in each order, every match once, as one
            // page holds them (on PostgreSQL the cursor's condition follows the matches,
            // which are found apart from the order: `paging::planned_apart`).
            let boss = as_person(&o.boss);
            let narrow = rungs_app::TeamFilter {
                search: Some("person number1".into()),
                ..Default::default()
            };
            for sort in [TeamSort::Readiness, TeamSort::Name, TeamSort::Level] {
                fn request<'a>(
                    sort: TeamSort,
                    filter: &'a rungs_app::TeamFilter,
                    first: usize,
                    after: Option<&'a str>,
                ) -> rungs_app::TeamRequest<'a> {
                    rungs_app::TeamRequest {
                        sort,
                        filter,
                        want_total: true,
                        first: Some(first),
                        after,
                        ..Default::default()
                    }
                }
                let whole = a
                    .team_rows(&boss, "acme", &request(sort, &narrow, 100, None))
                    .await
                    .unwrap();
                let ids = |p: &rungs_app::Page<rungs_app::TeamRow>| -> Vec<PersonId> {
                    p.items.iter().map(|r| r.person.id).collect()
                };
                assert_eq!(
                    whole.total, 11,
                    "{b} {when} {sort:?}: Number1, Number10 to 19"
                );
                let mut walked = Vec::new();
                let mut after: Option<String> = None;
                loop {
                    let page = a
                        .team_rows(&boss, "acme", &request(sort, &narrow, 3, after.as_deref()))
                        .await
                        .unwrap();
                    walked.extend(ids(&page));
                    if !page.has_next {
                        break;
                    }
                    after = page.end_cursor.clone();
                }
                assert_eq!(walked, ids(&whole), "{b} {when} {sort:?}");
            }
            // The renames are by HR and about the renamed: both are found.
            let deep = log
                .items
                .iter()
                .filter(|v| v.entry.subjects.contains(&o.deep.id.0))
                .count();
            assert!(deep >= 2, "{b} {when}: {deep}");
        };
        check("as written").await;
        t.redo_migrations(3).await;
        t.db.migrate().await.unwrap();
        check("after the upgrade").await;
        t.drop_database().await;
    }
}

/// A person's search terms are rewritten only when they change: a new manager (or admin flag)
/// writes none, a new name replaces them, and search finds the new name and not the old.
#[tokio::test]
async fn only_a_new_name_or_email_rewrites_search_terms() {
    for backend in backends() {
        let b = format!("{backend:?}");
        let t = TestDb::fresh(backend).await;
        let mut db = t.db.clone();
        let written = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let log = written.clone();
        db.observe_statements(move |sql, _, _| {
            let s = sql.to_ascii_lowercase();
            if s.contains("search_terms") && (s.starts_with("insert") || s.starts_with("delete")) {
                log.lock().unwrap().push(sql.to_owned());
            }
        });
        let o = org(db, 20).await;
        let a = &o.app;
        let hr = as_person(&o.hr);
        let who = &o.people[7];
        written.lock().unwrap().clear();
        for changes in [
            PersonChanges {
                manager: Some(Some(o.ceo.id)),
                ..Default::default()
            },
            PersonChanges {
                is_admin: Some(true),
                // The same name again.
                display_name: Some(who.display_name.clone()),
                ..Default::default()
            },
        ] {
            a.update_person(&hr, "acme", who.id, changes).await.unwrap();
        }
        assert_eq!(
            written.lock().unwrap().as_slice(),
            &[] as &[String],
            "{b}: terms written for a person whose name and email stayed"
        );
        let before = searched(a, &hr, &who.display_name, 100).await;
        assert!(
            before.items.iter().any(|v| v.person.id == who.id),
            "{b}: found by their name before the rename"
        );
        a.update_person(
            &hr,
            "acme",
            who.id,
            PersonChanges {
                display_name: Some("Quinn Quartermaine".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            written.lock().unwrap().len(),
            2,
            "{b}: a rename deletes and inserts its terms: {:?}",
            written.lock().unwrap()
        );
        for (q, there) in [("quartermaine", true), (who.display_name.as_str(), false)] {
            let found = searched(a, &hr, q, 100)
                .await
                .items
                .iter()
                .any(|v| v.person.id == who.id);
            assert_eq!(found, there, "{b}: a search for {q:?} after the rename");
        }
        t.drop_database().await;
    }
}

/// On SQLite, which keeps no statistics, a search and a person's audit filter look their few
/// ids up by key instead of checking the whole organisation against them (the `+` of
/// `paging::org_column`): in the plan of each statement that reads the terms or the mentions,
/// every other table is searched by its id.
#[tokio::test]
async fn on_sqlite_a_search_looks_its_matches_up_by_id() {
    use sea_orm::ConnectionTrait;
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut db = t.db.clone();
    let log = seen.clone();
    db.observe_statements(move |sql, _, _| log.lock().unwrap().push(sql.to_owned()));
    let o = org(db, 40).await;
    let a = &o.app;
    let hr = as_person(&o.hr);
    let search = PeopleFilter {
        search: Some("number1".into()),
        ..filter()
    };
    assert!(
        a.people_page(&hr, "acme", &search, Some(5), None)
            .await
            .unwrap()
            .total
            > 0
    );
    let narrow = rungs_app::TeamFilter {
        search: Some("number1".into()),
        ..Default::default()
    };
    let team = a
        .team_rows(
            &as_person(&o.boss),
            "acme",
            &rungs_app::TeamRequest {
                filter: &narrow,
                want_total: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(team.total > 0);
    a.audit_page(
        &hr,
        "acme",
        &rungs_db::AuditFilter {
            person: Some(o.hr.id),
            ..Default::default()
        },
        Some(5),
        None,
    )
    .await
    .unwrap();
    let conn = t.db.conn_for_tests();
    let statements: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.contains("search_terms t") || s.contains("audit_mentions x"))
        .cloned()
        .collect();
    assert!(
        statements.len() >= 5,
        "page, count, team page and count, audit: {statements:?}"
    );
    for sql in statements {
        let nulls = vec![sea_orm::Value::Int(None); sql.matches('?').count()];
        let plan: Vec<String> = conn
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                format!("EXPLAIN QUERY PLAN {sql}"),
                nulls,
            ))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String>("", "detail").unwrap())
            .collect();
        // The listed table (the directory's `people`, a team's standings `s`, the log) is
        // read by its id, never scanned or walked by the organisation's index.
        let listed: Vec<&String> = plan
            .iter()
            .filter(|l| {
                ["SEARCH ", "SCAN "].iter().any(|verb| {
                    ["people", "s", "audit_log"].iter().any(|table| {
                        l.starts_with(&format!("{verb}{table} ")) || **l == format!("{verb}{table}")
                    })
                })
            })
            .collect();
        assert!(
            !listed.is_empty() && listed.iter().all(|l| l.contains("(id=?)")),
            "{plan:#?}\n{sql}"
        );
    }
    t.drop_database().await;
}

/// HR finds the people without a level yet to place them: new people, and those placed only
/// from a later day, until that day comes; the count is calibration's; a manager finds those
/// of their own lines; a track or level beside it is refused.
#[tokio::test]
async fn people_without_a_level_are_listed_to_place_them() {
    for backend in backends() {
        let b = format!("{backend:?}");
        let t = TestDb::fresh(backend).await;
        let o = org(t.db.clone(), 30).await;
        let a = &o.app;
        let hr = as_person(&o.hr);
        let org_id = o.hr.org_id;
        let (info, _) = a.show_matrix(&hr, "acme", "python").await.unwrap();
        // `hr`, `ceo` and `boss` were never placed; three more now.
        let new = person(org_id, "new@acme.test", "Nia New", Some(o.boss.id), false);
        let later = person(
            org_id,
            "later@acme.test",
            "Lea Later",
            Some(o.boss.id),
            false,
        );
        let mut gone = person(org_id, "gone@acme.test", "Gil Gone", Some(o.ceo.id), false);
        gone.active = false;
        a.db()
            .write(
                org_id,
                &rungs_db::Audit::new(None, "test.setup", [], "test set-up"),
                async |tx| {
                    tx.save_people(
                        &[new.clone(), later.clone(), gone.clone()],
                        &[],
                        &[placed(&later, info.id, "beginner", -1)],
                    )
                    .await
                },
            )
            .await
            .unwrap();
        let unplaced = PeopleFilter {
            unplaced: true,
            ..filter()
        };
        let emails = |p: &rungs_app::Page<rungs_app::PersonView>| -> Vec<String> {
            p.items
                .iter()
                .map(|v| v.person.email.as_str().to_owned())
                .collect()
        };
        let all = async |actor: &Actor, f: &PeopleFilter| {
            // Paged two at a time by the cursors, against one page of everything.
            let whole = a
                .people_page(actor, "acme", f, Some(100), None)
                .await
                .unwrap();
            let mut paged = Vec::new();
            let mut after = None;
            loop {
                let p = a
                    .people_page(actor, "acme", f, Some(2), after.as_deref())
                    .await
                    .unwrap();
                assert_eq!(p.total, whole.total, "{b}");
                paged.extend(emails(&p));
                if !p.has_next {
                    break;
                }
                after = p.end_cursor;
            }
            assert_eq!(paged, emails(&whole), "{b}");
            assert_eq!(whole.total, paged.len(), "{b}");
            paged
        };
        let want = [
            "boss@acme.test",
            "ceo@acme.test",
            "hr@acme.test",
            "later@acme.test",
            "new@acme.test",
        ];
        assert_eq!(all(&hr, &unplaced).await, want, "{b}");
        let cal = a.calibration(&hr, "acme", None).await.unwrap();
        assert_eq!(
            cal.unplaced,
            want.len(),
            "{b}: calibration counts the same people"
        );
        // Deactivated people when asked for; a search narrows it.
        let with_gone = PeopleFilter {
            include_inactive: true,
            ..unplaced.clone()
        };
        assert!(
            all(&hr, &with_gone)
                .await
                .contains(&"gone@acme.test".to_owned()),
            "{b}"
        );
        let searched = PeopleFilter {
            search: Some("lea".into()),
            ..unplaced.clone()
        };
        assert_eq!(all(&hr, &searched).await, ["later@acme.test"], "{b}");
        // A manager: themselves and their own lines.
        let boss = as_person(&o.boss);
        assert_eq!(
            all(&boss, &unplaced).await,
            ["boss@acme.test", "later@acme.test", "new@acme.test"],
            "{b}"
        );
        // A track or level of people without one.
        let both = PeopleFilter {
            level: Some("beginner".into()),
            ..unplaced.clone()
        };
        let err = a
            .people_page(&hr, "acme", &both, Some(10), None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{b}");
        // Placed: listed no more.
        a.assign_level(
            &hr,
            "acme",
            "new@acme.test",
            rungs_app::Placement {
                matrix: None,
                track: "python-developer",
                level: "beginner",
                effective: None,
                reason: "placed",
            },
        )
        .await
        .unwrap();
        assert!(
            !all(&hr, &unplaced)
                .await
                .contains(&"new@acme.test".to_owned()),
            "{b}"
        );
        // A day passes: `later`'s level is in force (their kept standing falls due).
        t.a_day_passes().await;
        assert_eq!(
            all(&hr, &unplaced).await,
            ["boss@acme.test", "ceo@acme.test", "hr@acme.test"],
            "{b}"
        );
        t.drop_database().await;
    }
}
