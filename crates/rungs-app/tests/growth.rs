//! Growth and promotion use cases against real databases (SQLite always; PostgreSQL and
//! MariaDB when their URLs are set): the statement count of a team's readiness, the promotion
//! rules end to end, and growth plans under a configured readiness rule.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use rungs_app::{
    Actor, App, AppError, AssessInput, MatrixSource, Placement, Proposal, TeamSort, Verdict,
};
use rungs_db::testing::{TestDb, backends, counting, manager_rating};
use rungs_domain::assessment::{Assessment, AssessorRole, Evidence, Rating};
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::growth::{ExpectationStatus, ReadinessRule};
use rungs_domain::person::{Email, Person};
use rungs_domain::promotion::PromotionStatus;
use rungs_domain::text::Key;
use rungs_domain::{AssessmentId, AssignmentId, OrgId, PersonId};
use std::sync::atomic::Ordering;

fn person(org: OrgId, email: &str, manager: Option<PersonId>, admin: bool) -> Person {
    Person {
        id: PersonId::new(),
        org_id: org,
        email: Email::parse(email).unwrap(),
        display_name: email.split('@').next().unwrap().to_owned(),
        manager_id: manager,
        is_admin: admin,
        active: true,
    }
}

/// The audit entry of test set-up written straight to the database.
fn setup() -> rungs_db::Audit {
    rungs_db::Audit::new(None, "test.setup", [], "test set-up")
}

fn as_person(p: &Person) -> Actor {
    Actor::Person {
        id: p.id,
        org: p.org_id,
        is_admin: p.is_admin,
    }
}

/// An organisation with the python matrix: HR admins `hr` and `hr2`, `boss` over `mgr` over
/// `emp` (python-developer, intermediate, for 200 days), and `other` in another team.
struct World {
    app: App,
    hr: Person,
    hr2: Person,
    boss: Person,
    mgr: Person,
    emp: Person,
    other: Person,
}

async fn world(db: rungs_db::Db) -> World {
    let app = App::new(db);
    let sys = Actor::system();
    let org = app.create_org(&sys, "acme", "Acme").await.unwrap();
    app.import_matrix(&sys, "acme", MatrixSource::Template("python"), false)
        .await
        .unwrap();
    let hr = person(org.id, "hr@acme.test", None, true);
    let hr2 = person(org.id, "hr2@acme.test", None, true);
    let boss = person(org.id, "boss@acme.test", None, false);
    let mgr = person(org.id, "mgr@acme.test", Some(boss.id), false);
    let emp = person(org.id, "emp@acme.test", Some(mgr.id), false);
    let other = person(org.id, "other@acme.test", Some(boss.id), false);
    app.db()
        .write(org.id, &setup(), async |tx| {
            tx.save_people(
                &[
                    hr.clone(),
                    hr2.clone(),
                    boss.clone(),
                    mgr.clone(),
                    emp.clone(),
                    other.clone(),
                ],
                &[],
                &[],
            )
            .await
        })
        .await
        .unwrap();
    for (p, level, days) in [
        (&emp, "intermediate", 200),
        (&mgr, "expert", 400),
        (&other, "beginner", 30),
    ] {
        app.assign_level(
            &sys,
            "acme",
            p.email.as_str(),
            Placement {
                matrix: None,
                track: "python-developer",
                level,
                effective: Some(Utc::now().date_naive() - Duration::days(days)),
                reason: "setup",
            },
        )
        .await
        .unwrap();
    }
    World {
        app,
        hr,
        hr2,
        boss,
        mgr,
        emp,
        other,
    }
}

/// `p` placed on the python developer track at `level`, `days` ago.
fn placed(p: &Person, version: rungs_domain::VersionId, level: &str, days: i64) -> LevelAssignment {
    LevelAssignment {
        id: AssignmentId::new(),
        person_id: p.id,
        version_id: version,
        track: Key::parse("python-developer").unwrap(),
        level: Key::parse(level).unwrap(),
        effective: Utc::now().date_naive() - Duration::days(days),
        reason: "load".into(),
        set_by: None,
        recorded_at: Utc::now(),
        case_id: None,
        moved_from: None,
    }
}

fn code(e: AppError) -> &'static str {
    e.code()
}

/// Reading a manager's team costs the same number of SQL statements with 10 reports as with
/// 1,000 (in two levels, each assessed and placed): no statement per report.
#[tokio::test]
async fn team_readiness_statement_count_is_constant() {
    for backend in backends() {
        let mut counts = Vec::new();
        for reports in [10usize, 1_000] {
            let t = TestDb::fresh(backend).await;
            let (db, statements) = counting(&t.db);
            let w = world(db).await;
            let sys = Actor::system();
            let (info, m) = w.app.show_matrix(&sys, "acme", "python").await.unwrap();
            let org = w.hr.org_id;
            // `boss` gets `reports` more people: leads of ten, each with their own reports.
            let mut people = Vec::new();
            let mut lead = w.boss.id;
            for i in 0..reports {
                let manager = if i % 10 == 0 { w.boss.id } else { lead };
                let p = person(org, &format!("p{i}@acme.test"), Some(manager), false);
                if i % 10 == 0 {
                    lead = p.id;
                }
                people.push(p);
            }
            let assignments: Vec<LevelAssignment> = people
                .iter()
                .map(|p| placed(p, info.id, "beginner", 200))
                .collect();
            w.app
                .db()
                .write(org, &setup(), async |tx| {
                    tx.save_people(&people, &[], &assignments).await
                })
                .await
                .unwrap();
            let next = m
                .expectations_for("python-developer", "intermediate")
                .unwrap();
            let assessments: Vec<Assessment> = people
                .iter()
                .flat_map(|p| next.iter().map(|(_, e)| manager_rating(p, info.id, &e.key)))
                .collect();
            w.app
                .db()
                .write(org, &setup(), async |tx| {
                    tx.append_assessments(&assessments).await
                })
                .await
                .unwrap();

            let before = statements.load(Ordering::Relaxed);
            let page = w
                .app
                .team(
                    &as_person(&w.boss),
                    "acme",
                    None,
                    TeamSort::Readiness,
                    true,
                    Some(100),
                    None,
                )
                .await
                .unwrap();
            let used = statements.load(Ordering::Relaxed) - before;
            // boss's team: mgr, emp, other and the generated people.
            assert_eq!(page.total, reports + 3, "{backend:?}");
            assert!(page.items[0].readiness.ready, "all assessed: ready first");
            counts.push(used);
            t.drop_database().await;
        }
        println!("{backend:?}: team readiness statements at 10 and 1,000 reports: {counts:?}");
        assert_eq!(
            counts[0], counts[1],
            "{backend:?}: statements grew with the team: {counts:?}"
        );
        assert!(counts[0] < 40, "{backend:?}: {counts:?}");
    }
}

#[tokio::test]
async fn promotion_cases_follow_the_rules() {
    for backend in backends() {
        let t = TestDb::fresh(backend).await;
        let w = world(t.db.clone()).await;
        let (hr, hr2, mgr, emp, other, boss) = (
            as_person(&w.hr),
            as_person(&w.hr2),
            as_person(&w.mgr),
            as_person(&w.emp),
            as_person(&w.other),
            as_person(&w.boss),
        );
        let propose = |who: &Actor, person: PersonId| {
            let app = w.app.clone();
            let who = who.clone();
            async move {
                app.propose_promotion(
                    &who,
                    "acme",
                    Proposal {
                        person,
                        target: None,
                        justification: "ready",
                    },
                )
                .await
            }
        };
        // Only managers propose: not the person, not an unrelated colleague, not HR.
        assert_eq!(
            code(propose(&emp, w.emp.id).await.unwrap_err()),
            "FORBIDDEN"
        );
        assert_eq!(
            code(propose(&other, w.emp.id).await.unwrap_err()),
            "FORBIDDEN"
        );
        assert_eq!(code(propose(&hr, w.emp.id).await.unwrap_err()), "FORBIDDEN");
        let case = propose(&mgr, w.emp.id).await.unwrap();
        assert_eq!(case.case.to.level.as_str(), "advanced");
        assert_eq!(case.events.len(), 1);
        // One open case per person.
        assert_eq!(
            code(propose(&boss, w.emp.id).await.unwrap_err()),
            "CONFLICT"
        );
        // Comments: the person, managers and HR; not a colleague (who cannot even see it).
        let id = case.case.id;
        w.app
            .comment_on_promotion(&emp, "acme", id, "thanks!")
            .await
            .unwrap();
        assert_eq!(
            code(
                w.app
                    .comment_on_promotion(&other, "acme", id, "hm")
                    .await
                    .unwrap_err()
            ),
            "FORBIDDEN"
        );
        // Managers cannot decide; a rejection needs a note.
        let approve = Verdict::Approve {
            note: "well deserved",
            effective: None,
        };
        assert_eq!(
            code(
                w.app
                    .decide_promotion(&mgr, "acme", id, approve)
                    .await
                    .unwrap_err()
            ),
            "FORBIDDEN"
        );
        assert_eq!(
            code(
                w.app
                    .decide_promotion(&hr, "acme", id, Verdict::Reject { note: " " })
                    .await
                    .unwrap_err()
            ),
            "INVALID_INPUT"
        );
        // Two HR admins approve at once: exactly one wins, the other gets CONFLICT.
        let (a, b) = tokio::join!(
            w.app.decide_promotion(&hr, "acme", id, approve),
            w.app.decide_promotion(&hr2, "acme", id, approve)
        );
        let outcomes = [a.is_ok(), b.is_ok()];
        assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{backend:?}");
        let loser = a.err().or(b.err()).unwrap();
        assert_eq!(loser.code(), "CONFLICT", "{loser}");
        let done = w.app.promotion_case(&emp, "acme", id).await.unwrap();
        assert_eq!(done.case.status, PromotionStatus::Approved);
        assert_eq!(done.events.len(), 3); // proposed, commented, approved
        // The new level is in the history, linked to the case, exactly once.
        let career = w.app.career(&emp, "acme", w.emp.id).await.unwrap();
        let last = &career.periods.last().unwrap().assignment;
        assert_eq!(last.level.as_str(), "advanced");
        assert_eq!(last.case_id, Some(id));
        assert_eq!(
            career
                .periods
                .iter()
                .filter(|p| p.assignment.case_id == Some(id))
                .count(),
            1
        );
        assert!(career.periods[0].days >= 199, "{:?}", career.periods[0]);
        // Closed is closed.
        assert_eq!(
            code(
                w.app
                    .withdraw_promotion(&mgr, "acme", id, "")
                    .await
                    .unwrap_err()
            ),
            "CONFLICT"
        );

        // Withdrawal is the proposer's; HR never approves their own promotion.
        let c2 = propose(&boss, w.other.id).await.unwrap().case.id;
        assert_eq!(
            code(
                w.app
                    .withdraw_promotion(&hr, "acme", c2, "")
                    .await
                    .unwrap_err()
            ),
            "INVALID_INPUT"
        );
        w.app
            .withdraw_promotion(&boss, "acme", c2, "too early")
            .await
            .unwrap();
        // Listings: HR sees every case; the colleague only their own (withdrawn) one; the
        // employee only theirs.
        let list = |who: Actor| {
            let app = w.app.clone();
            async move {
                app.promotion_cases(&who, "acme", None, true, None, None)
                    .await
                    .unwrap()
                    .total
            }
        };
        assert_eq!(list(hr.clone()).await, 2);
        assert_eq!(list(emp.clone()).await, 1);
        assert_eq!(list(other.clone()).await, 1);
        assert_eq!(list(mgr.clone()).await, 1);
        assert_eq!(list(boss.clone()).await, 2);
        // Paged by key, one at a time: the same cases in the same order (newest first) as one
        // page, for HR and for the boss (whose reach is their reporting lines).
        for who in [hr.clone(), boss.clone()] {
            let whole = w
                .app
                .promotion_cases(&who, "acme", None, false, Some(100), None)
                .await
                .unwrap();
            let ids = |p: &rungs_app::Page<rungs_app::CaseView>| -> Vec<String> {
                p.items.iter().map(|c| c.case.id.to_string()).collect()
            };
            let mut walked = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = w
                    .app
                    .promotion_cases(&who, "acme", None, false, Some(1), after.as_deref())
                    .await
                    .unwrap();
                walked.extend(ids(&page));
                after = page.end_cursor.clone();
                if !page.has_next {
                    break;
                }
            }
            assert_eq!(walked, ids(&whole), "{backend:?}");
            assert!(
                whole
                    .items
                    .windows(2)
                    .all(|p| p[0].case.proposed_at >= p[1].case.proposed_at),
                "{backend:?}: newest first"
            );
        }
        let open = w
            .app
            .promotion_cases(
                &hr,
                "acme",
                Some(PromotionStatus::Proposed),
                true,
                None,
                None,
            )
            .await
            .unwrap();
        assert_eq!(open.total, 0);

        // The audit log: each change once, with who made it; refusals wrote nothing.
        let log = w
            .app
            .audit_log(&hr, "acme", None, Some(100), None)
            .await
            .unwrap();
        let actions: Vec<(&str, Option<PersonId>)> = log
            .items
            .iter()
            .map(|e| (e.entry.action.as_str(), e.entry.actor_id))
            .filter(|(a, _)| a.starts_with("promotion."))
            .collect();
        assert_eq!(
            actions,
            [
                ("promotion.withdraw", Some(w.boss.id)),
                ("promotion.propose", Some(w.boss.id)),
                ("promotion.approve", actions[2].1),
                ("promotion.comment", Some(w.emp.id)),
                ("promotion.propose", Some(w.mgr.id)),
            ],
            "{backend:?}"
        );
        assert!([Some(w.hr.id), Some(w.hr2.id)].contains(&actions[2].1));
        let approve = &log
            .items
            .iter()
            .find(|e| e.entry.action == "promotion.approve")
            .unwrap()
            .entry;
        assert!(approve.subjects.contains(&id.0) && approve.subjects.contains(&w.emp.id.0));
        assert_eq!(
            approve.subjects.len(),
            3,
            "the case, the person and the new assignment"
        );
        // Only HR admins read it.
        assert_eq!(
            code(
                w.app
                    .audit_log(&mgr, "acme", None, None, None)
                    .await
                    .unwrap_err()
            ),
            "FORBIDDEN"
        );
        // The database itself refuses to rewrite it.
        use sea_orm::ConnectionTrait;
        let conn = t.db.conn_for_tests();
        for sql in [
            "UPDATE audit_log SET detail = 'rewritten'",
            "DELETE FROM audit_log",
            "UPDATE audit_mentions SET mentioned = entry_id",
            "DELETE FROM audit_mentions",
        ] {
            let err = conn.execute_unprepared(sql).await.unwrap_err();
            assert!(
                err.to_string().contains("append-only"),
                "{backend:?} {sql}: {err}"
            );
        }
        let again = w
            .app
            .audit_log(&hr, "acme", None, Some(100), None)
            .await
            .unwrap();
        assert_eq!(again.total, log.total);
        t.drop_database().await;
    }
}

#[tokio::test]
async fn assessments_plans_and_the_readiness_rule() {
    for backend in backends() {
        let t = TestDb::fresh(backend).await;
        let w = world(t.db.clone()).await;
        let (hr, mgr, emp, other, boss) = (
            as_person(&w.hr),
            as_person(&w.mgr),
            as_person(&w.emp),
            as_person(&w.other),
            as_person(&w.boss),
        );
        let assess = |who: &Actor, key: &str, rating| {
            let (app, who, key) = (w.app.clone(), who.clone(), key.to_owned());
            let person = w.emp.id;
            async move {
                app.assess(
                    &who,
                    "acme",
                    AssessInput {
                        person,
                        expectation: &key,
                        rating,
                        evidence: "shipped it",
                        links: vec!["https://example.com/pr/1".into()],
                    },
                )
                .await
            }
        };
        // Who may assess: the person (self), their managers (direct or not); not HR, not a
        // colleague. Only expectations of the person's track.
        let own = assess(&emp, "advanced-data-structures", Rating::Exceeds)
            .await
            .unwrap();
        assert_eq!(own.role, AssessorRole::Myself);
        let by_boss = assess(&boss, "multithreading", Rating::Developing)
            .await
            .unwrap();
        assert_eq!(by_boss.role, AssessorRole::Manager);
        assert_eq!(
            code(
                assess(&hr, "multithreading", Rating::Meets)
                    .await
                    .unwrap_err()
            ),
            "FORBIDDEN"
        );
        assert_eq!(
            code(
                assess(&other, "multithreading", Rating::Meets)
                    .await
                    .unwrap_err()
            ),
            "FORBIDDEN"
        );
        let wrong = assess(&mgr, "matplotlib", Rating::Meets).await.unwrap_err();
        assert!(
            wrong
                .to_string()
                .contains("not an expectation of track `python-developer`"),
            "{wrong}"
        );
        assess(&mgr, "advanced-data-structures", Rating::Meets)
            .await
            .unwrap();

        let plan = w
            .app
            .growth_plan(&emp, "acme", w.emp.id, None)
            .await
            .unwrap();
        assert_eq!(plan.plan.target.level.key.as_str(), "advanced");
        let item = |key: &str| {
            plan.plan
                .items
                .iter()
                .find(|i| i.expectation.key.as_str() == key)
                .unwrap()
                .clone()
        };
        let ads = item("advanced-data-structures");
        assert_eq!(ads.status, ExpectationStatus::Met);
        assert_eq!(ads.myself.unwrap().rating, Rating::Exceeds);
        assert_eq!(item("multithreading").status, ExpectationStatus::InProgress);
        assert!(item("basic-syntax").held);
        let gaps: Vec<&str> = plan
            .plan
            .gaps()
            .map(|g| g.expectation.key.as_str())
            .collect();
        assert_eq!(gaps, ["multithreading"]);

        // Readiness: 1 of 2 met, so not ready; loosen the rule and it is.
        let r = w.app.readiness_of(&mgr, "acme", w.emp.id).await.unwrap();
        assert_eq!((r.readiness.score, r.readiness.ready), (0.5, false));
        assert_eq!(
            code(
                w.app
                    .set_readiness_rule(&mgr, "acme", ReadinessRule::default())
                    .await
                    .unwrap_err()
            ),
            "FORBIDDEN"
        );
        let loose = ReadinessRule::new(Rating::Developing, 3, 1.0).unwrap();
        w.app.set_readiness_rule(&hr, "acme", loose).await.unwrap();
        assert_eq!(w.app.readiness_rule(&emp, "acme").await.unwrap(), loose);
        let r = w.app.readiness_of(&emp, "acme", w.emp.id).await.unwrap();
        assert!(r.readiness.ready, "{:?}", r.readiness.reasons);
        // Colleagues see nothing of it.
        assert_eq!(
            code(
                w.app
                    .readiness_of(&other, "acme", w.emp.id)
                    .await
                    .unwrap_err()
            ),
            "FORBIDDEN"
        );
        assert_eq!(
            code(
                w.app
                    .growth_plan(&other, "acme", w.emp.id, None)
                    .await
                    .unwrap_err()
            ),
            "FORBIDDEN"
        );
        // A lateral plan, and the history of assessments newest first.
        let lateral = w
            .app
            .growth_plan(
                &emp,
                "acme",
                w.emp.id,
                Some(("data-analyst", "intermediate")),
            )
            .await
            .unwrap();
        assert!(lateral.plan.lateral && lateral.plan.met() == 0);
        let history = w
            .app
            .assessments(&emp, "acme", w.emp.id, &Default::default(), Some(2), None)
            .await
            .unwrap();
        assert_eq!(
            (history.total, history.items.len(), history.has_next),
            (3, 2, true)
        );
        assert_eq!(
            history.items[0].assessment.expectation.as_str(),
            "advanced-data-structures"
        );
        assert_eq!(history.items[0].assessor.as_ref().unwrap().id, w.mgr.id);
        // The next page by key: the rest, newest first, nothing twice; filters are SQL's.
        let rest = w
            .app
            .assessments(
                &emp,
                "acme",
                w.emp.id,
                &Default::default(),
                Some(2),
                history.end_cursor.as_deref(),
            )
            .await
            .unwrap();
        assert_eq!((rest.items.len(), rest.has_next, rest.total), (1, false, 3));
        assert!(rest.items[0].assessment.at <= history.items[1].assessment.at);
        assert!(
            history
                .items
                .iter()
                .all(|h| h.assessment.id != rest.items[0].assessment.id)
        );
        let one = w
            .app
            .assessments(
                &emp,
                "acme",
                w.emp.id,
                &rungs_app::AssessmentFilter {
                    expectation: Some("advanced-data-structures".into()),
                    role: None,
                },
                None,
                None,
            )
            .await
            .unwrap();
        assert!(one.total >= 1);
        assert!(
            one.items
                .iter()
                .all(|a| a.assessment.expectation.as_str() == "advanced-data-structures")
        );
        let bad = w
            .app
            .assessments(&emp, "acme", w.emp.id, &Default::default(), None, Some("3"))
            .await
            .unwrap_err();
        assert_eq!(code(bad), "INVALID_INPUT");
        // Calibration: HR only; counts per track and level.
        let cal = w.app.calibration(&hr, "acme", None).await.unwrap();
        assert_eq!((cal.people, cal.unplaced), (6, 3));
        let count = |level: &str| {
            cal.matrices[0]
                .cells
                .iter()
                .find(|c| c.track.as_str() == "python-developer" && c.level.as_str() == level)
                .unwrap()
                .count
        };
        assert_eq!(
            (count("beginner"), count("intermediate"), count("expert")),
            (1, 1, 1)
        );
        assert_eq!(
            code(w.app.calibration(&mgr, "acme", None).await.unwrap_err()),
            "FORBIDDEN"
        );
        let sub = w
            .app
            .calibration(&hr, "acme", Some(w.boss.id))
            .await
            .unwrap();
        assert_eq!(sub.people, 3);
        t.drop_database().await;
    }
}

/// Calibration's figures as reading everyone would give them (what it did before it counted
/// in SQL): active people, those without a level, and per placement held (version, track,
/// level) its people and open cases, in that order.
type Figures = (
    usize,
    usize,
    Vec<(rungs_domain::VersionId, String, String, usize, usize)>,
);

async fn calibration_by_hand(w: &World, manager: Option<PersonId>) -> Figures {
    let db = w.app.db();
    let org = w.hr.org_id;
    let scope = manager.map_or(rungs_db::Scope::Org, rungs_db::Scope::ReportsOf);
    let today = Utc::now().date_naive();
    let people: Vec<Person> = db
        .people_in(org, scope)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.active)
        .collect();
    let history = db.assignments_in(org, scope).await.unwrap();
    let open: Vec<PersonId> = db
        .open_cases(org, scope)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.person_id)
        .collect();
    let mut held = std::collections::BTreeMap::new();
    let mut placed = 0;
    for p in &people {
        let mine: Vec<LevelAssignment> = history
            .iter()
            .filter(|a| a.person_id == p.id)
            .cloned()
            .collect();
        if let Some(a) = rungs_domain::assignment::current_as_of(&mine, today) {
            placed += 1;
            let key = (a.version_id.0, a.track.to_string(), a.level.to_string());
            let e = held.entry(key).or_insert((0, 0));
            e.0 += 1;
            e.1 += usize::from(open.contains(&p.id));
        }
    }
    let held = held
        .into_iter()
        .map(|((v, t, l), (n, o))| (rungs_domain::VersionId(v), t, l, n, o))
        .collect();
    (people.len(), people.len() - placed, held)
}

/// Calibration's figures as the use case answers them (cells held by someone).
fn calibration_figures(c: &rungs_app::Calibration) -> Figures {
    let mut held = Vec::new();
    for m in &c.matrices {
        let mut sum = 0;
        for cell in m.cells.iter().filter(|c| c.count > 0) {
            held.push((
                m.version.id,
                cell.track.to_string(),
                cell.level.to_string(),
                cell.count,
                cell.open_cases,
            ));
            sum += cell.count;
        }
        // Every placement held is a cell of its matrix.
        assert_eq!(sum, m.people, "{}", m.name);
    }
    held.sort_by(|a, b| (a.0.0, &a.1, &a.2).cmp(&(b.0.0, &b.1, &b.2)));
    (c.people, c.unplaced, held)
}

/// The reference order of a team: every member's readiness computed in full (one use case
/// call each), sorted as `TeamSort` documents.
async fn team_by_hand(w: &World, members: &[PersonId], sort: TeamSort) -> Vec<PersonId> {
    let hr = as_person(&w.hr);
    let mut views = Vec::new();
    for id in members {
        let v = w.app.readiness_of(&hr, "acme", *id).await.unwrap();
        if v.person.active {
            views.push(v);
        }
    }
    let name = |v: &rungs_app::ReadinessView| (v.person.display_name.to_lowercase(), v.person.id.0);
    views.sort_by(|a, b| {
        let (ra, rb) = (&a.readiness, &b.readiness);
        let since = |r: &rungs_domain::growth::Readiness| {
            r.in_level_since.unwrap_or(chrono::NaiveDate::MAX)
        };
        let rank = |v: &rungs_app::ReadinessView| v.standing.as_ref().map(|s| s.level.rank);
        match sort {
            TeamSort::Readiness => rb
                .ready
                .cmp(&ra.ready)
                .then(rb.score.total_cmp(&ra.score))
                .then(since(ra).cmp(&since(rb)))
                .then_with(|| name(a).cmp(&name(b))),
            TeamSort::Name => name(a).cmp(&name(b)),
            TeamSort::Level => rank(b).cmp(&rank(a)).then_with(|| name(a).cmp(&name(b))),
        }
    });
    views.into_iter().map(|v| v.person.id).collect()
}

/// The team of `manager` as `team` pages it (pages of 7, following the cursors).
async fn team_paged(w: &World, manager: &Person, sort: TeamSort) -> Vec<PersonId> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = w
            .app
            .team(
                &as_person(manager),
                "acme",
                None,
                sort,
                false,
                Some(7),
                after.as_deref(),
            )
            .await
            .unwrap();
        out.extend(page.items.iter().map(|v| v.person.id));
        after = page.end_cursor;
        if !page.has_next {
            return out;
        }
    }
}

/// The kept standings follow every write that changes readiness, and time: after each step, a
/// team walked page by page in every order is the order computed in full for every member.
#[tokio::test]
async fn team_pages_follow_every_write_that_changes_readiness() {
    for backend in backends() {
        let t = TestDb::fresh(backend).await;
        let w = world(t.db.clone()).await;
        let sys = Actor::system();
        let hr = as_person(&w.hr);
        let (info, m) = w.app.show_matrix(&sys, "acme", "python").await.unwrap();
        let org = w.hr.org_id;
        let today = Utc::now().date_naive();
        // Thirty more under `boss` and `mgr`, on three levels, placed on different days.
        let levels = ["beginner", "intermediate", "advanced"];
        let people: Vec<Person> = (0..30)
            .map(|i| {
                let mut p = person(
                    org,
                    &format!("t{i}@acme.test"),
                    Some(if i % 2 == 0 { w.boss.id } else { w.mgr.id }),
                    false,
                );
                p.display_name = format!("n{:02}x", (i * 7) % 30);
                p
            })
            .collect();
        let assignments: Vec<LevelAssignment> = people
            .iter()
            .enumerate()
            .map(|(i, p)| placed(p, info.id, levels[i % 3], 20 + (i as i64 * 37) % 400))
            .collect();
        w.app
            .db()
            .write(org, &setup(), async |tx| {
                tx.save_people(&people, &[], &assignments).await
            })
            .await
            .unwrap();
        // Everyone below `m`, from the stored reporting lines.
        let below = async |m: PersonId| {
            let all = w.app.db().list_people(org).await.unwrap();
            let mut found = vec![m];
            let mut i = 0;
            while i < found.len() {
                let here = found[i];
                found.extend(
                    all.iter()
                        .filter(|p| p.manager_id == Some(here))
                        .map(|p| p.id),
                );
                i += 1;
            }
            found.split_off(1)
        };
        let check = async |step: &str| {
            for manager in [&w.boss, &w.mgr] {
                let members = below(manager.id).await;
                for sort in [TeamSort::Readiness, TeamSort::Name, TeamSort::Level] {
                    let want = team_by_hand(&w, &members, sort).await;
                    let got = team_paged(&w, manager, sort).await;
                    assert_eq!(
                        got, want,
                        "{backend:?}, {step}, {sort:?}, {}",
                        manager.email
                    );
                }
                // The rows the kept standings answer say what readiness computed in full says.
                let rows = w
                    .app
                    .team_rows(
                        &as_person(manager),
                        "acme",
                        &rungs_app::TeamRequest {
                            want_total: true,
                            first: Some(100),
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                let order: Vec<PersonId> = rows.items.iter().map(|r| r.person.id).collect();
                assert_eq!(
                    order,
                    team_by_hand(&w, &members, TeamSort::Readiness).await,
                    "{backend:?}, {step}"
                );
                assert_eq!(rows.total, order.len(), "{backend:?}, {step}");
                for r in &rows.items {
                    let full = w.app.readiness_of(&hr, "acme", r.person.id).await.unwrap();
                    let got = (
                        r.ready,
                        r.score.to_bits(),
                        r.in_level_since,
                        r.months_in_level,
                    );
                    let f = &full.readiness;
                    let want = (
                        f.ready,
                        f.score.to_bits(),
                        f.in_level_since,
                        f.months_in_level,
                    );
                    assert_eq!(got, want, "{backend:?}, {step}, {}", r.person.email);
                    assert_eq!(
                        r.direct,
                        r.person.manager_id == Some(manager.id),
                        "{backend:?}"
                    );
                }
            }
            // Calibration, counted in SQL over the kept standings, says what reading everyone
            // says: for the organisation and each manager's subtree.
            for manager in [None, Some(w.boss.id), Some(w.mgr.id)] {
                let cal = w.app.calibration(&hr, "acme", manager).await.unwrap();
                assert_eq!(
                    calibration_figures(&cal),
                    calibration_by_hand(&w, manager).await,
                    "{backend:?}, {step}, calibration of {manager:?}"
                );
            }
        };
        check("placed").await;

        // Manager ratings: everything the next level asks for some, part of it for others.
        let mut rated = Vec::new();
        for (i, (p, a)) in people.iter().zip(&assignments).enumerate() {
            let next = m.next_level("python-developer", a.level.as_str()).unwrap();
            let wanted = m
                .expectations_for("python-developer", next.key.as_str())
                .unwrap();
            for (k, (_, e)) in wanted.iter().enumerate() {
                if i % 3 == 0 || k % (i % 4 + 1) == 0 {
                    rated.push(Assessment {
                        id: AssessmentId::new(),
                        person_id: p.id,
                        version_id: info.id,
                        expectation: e.key.clone(),
                        rating: [Rating::Developing, Rating::Meets, Rating::Exceeds][(i + k) % 3],
                        assessor_id: p.manager_id.unwrap(),
                        role: AssessorRole::Manager,
                        evidence: Evidence::default(),
                        at: Utc::now(),
                        carried_from: None,
                    });
                }
            }
        }
        w.app
            .db()
            .write(org, &setup(), async |tx| {
                tx.append_assessments(&rated).await
            })
            .await
            .unwrap();
        check("assessed").await;

        // One assessment through the use case, by the manager.
        let first = m
            .expectations_for("python-developer", "advanced")
            .unwrap()
            .last()
            .unwrap()
            .1
            .key
            .clone();
        w.app
            .assess(
                &as_person(&w.mgr),
                "acme",
                AssessInput {
                    person: w.emp.id,
                    expectation: first.as_str(),
                    rating: Rating::Exceeds,
                    evidence: "shipped it",
                    links: Vec::new(),
                },
            )
            .await
            .unwrap();
        check("assess").await;

        // The rule: it changes who is ready and the scores, and rewrites nothing.
        w.app
            .set_readiness_rule(
                &hr,
                "acme",
                ReadinessRule::new(Rating::Developing, 3, 0.5).unwrap(),
            )
            .await
            .unwrap();
        check("rule").await;

        // A new level, a promotion approved, a rename and a deactivation.
        w.app
            .assign_level(
                &sys,
                "acme",
                "t4@acme.test",
                Placement {
                    matrix: None,
                    track: "python-developer",
                    level: "expert",
                    effective: None,
                    reason: "moved up",
                },
            )
            .await
            .unwrap();
        let case = w
            .app
            .propose_promotion(
                &as_person(&w.boss),
                "acme",
                Proposal {
                    person: people[6].id,
                    target: None,
                    justification: "ready",
                },
            )
            .await
            .unwrap();
        w.app
            .decide_promotion(
                &hr,
                "acme",
                case.case.id,
                Verdict::Approve {
                    note: "yes",
                    effective: None,
                },
            )
            .await
            .unwrap();
        w.app
            .update_person(
                &hr,
                "acme",
                people[8].id,
                rungs_app::PersonChanges {
                    display_name: Some("AAA first".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        w.app
            .update_person(
                &hr,
                "acme",
                people[10].id,
                rungs_app::PersonChanges {
                    active: Some(false),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        // A case left open: calibration counts it in its person's cell.
        let open = w
            .app
            .propose_promotion(
                &as_person(&w.boss),
                "acme",
                Proposal {
                    person: people[14].id,
                    target: None,
                    justification: "nearly",
                },
            )
            .await
            .unwrap();
        check("assigned, promoted, renamed, deactivated").await;
        let cal = w.app.calibration(&hr, "acme", None).await.unwrap();
        assert_eq!(
            cal.matrices
                .iter()
                .flat_map(|m| &m.cells)
                .map(|c| c.open_cases)
                .sum::<usize>(),
            1,
            "{backend:?}"
        );

        // Reporting lines move: `mgr` and everyone below leave `boss` for `hr`, one of them
        // comes back under `boss` directly, and `other` (with people of their own now) goes
        // under `mgr`.
        w.app
            .update_person(
                &hr,
                "acme",
                w.mgr.id,
                rungs_app::PersonChanges {
                    manager: Some(Some(w.hr.id)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(below(w.boss.id).await.iter().all(|p| *p != w.emp.id));
        check("mgr moved away").await;
        for (who, to) in [
            (people[3].id, w.boss.id),
            (people[2].id, w.other.id),
            (w.other.id, w.mgr.id),
        ] {
            w.app
                .update_person(
                    &hr,
                    "acme",
                    who,
                    rungs_app::PersonChanges {
                        manager: Some(Some(to)),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        check("moved back and across").await;

        // A level that takes effect tomorrow is not current today; then a day passes (both the
        // assignment and the day its row expires move one day back).
        let tomorrow = today + Duration::days(1);
        w.app
            .assign_level(
                &sys,
                "acme",
                "t12@acme.test",
                Placement {
                    matrix: None,
                    track: "python-developer",
                    level: "expert",
                    effective: Some(tomorrow),
                    reason: "from tomorrow",
                },
            )
            .await
            .unwrap();
        check("tomorrow's level").await;
        t.a_day_passes().await;
        check("a day later").await;
        let v = w
            .app
            .readiness_of(&hr, "acme", people[12].id)
            .await
            .unwrap();
        assert_eq!(v.current.unwrap().level.as_str(), "expert", "{backend:?}");

        // Ninety days pass (every stored date moves back): those who met the rule but for
        // time in level become ready on their day, without a write of their own.
        let ready_now = async || {
            let mut ready = Vec::new();
            for id in below(w.boss.id).await {
                let r = w.app.readiness_of(&hr, "acme", id).await.unwrap();
                if r.person.active && r.readiness.ready {
                    ready.push(id);
                }
            }
            ready
        };
        let before = ready_now().await;
        let back = |col: &str| match backend {
            rungs_db::Backend::Postgres => format!("{col} - 90"),
            rungs_db::Backend::MySql => format!("DATE_SUB({col}, INTERVAL 90 DAY)"),
            rungs_db::Backend::Sqlite => format!("date({col}, '-90 days')"),
        };
        t.execute(&format!(
            "UPDATE level_assignments SET effective = {}",
            back("effective")
        ))
        .await;
        t.execute(&format!(
            "UPDATE standings SET valid_until = {}, in_level_since = {}, ready_on = {}",
            back("valid_until"),
            back("in_level_since"),
            back("ready_on")
        ))
        .await;
        t.execute(&format!(
            "UPDATE standings SET since_key = {} WHERE since_key < '9999-01-01'",
            back("since_key")
        ))
        .await;
        let after = ready_now().await;
        assert!(
            after.len() > before.len(),
            "{backend:?}: {before:?} -> {after:?}"
        );
        check("ninety days later").await;

        // A new version with one more criterion at `intermediate`, and everyone moved to it.
        let (draft, _) = w.app.start_draft(&hr, "acme", "python").await.unwrap();
        w.app
            .edit_draft(
                &hr,
                "acme",
                "python",
                draft.revision,
                &[rungs_domain::edit::MatrixEdit::AddExpectation {
                    track: "python-developer".into(),
                    level: "intermediate".into(),
                    expectation: rungs_domain::matrix::ExpectationDraft {
                        key: "type-hints".into(),
                        name: "Type hints".into(),
                        ..Default::default()
                    },
                    position: None,
                }],
            )
            .await
            .unwrap();
        w.app
            .publish_matrix(&hr, "acme", "python", "type hints", None)
            .await
            .unwrap();
        // An open case blocks a version move: withdrawn, calibration counts it no more.
        w.app
            .withdraw_promotion(&as_person(&w.boss), "acme", open.case.id, "after the move")
            .await
            .unwrap();
        check("case withdrawn").await;
        w.app
            .move_people(&hr, "acme", "python", 2, None, false)
            .await
            .unwrap();
        check("moved to version 2").await;

        // Rows from before reporting paths existed get them from `migrate`.
        t.execute("UPDATE standings SET path = ''").await;
        w.app.db().migrate().await.unwrap();
        check("paths filled by migrate").await;

        // A reporting line 64 people deep is kept; one more is refused and writes nothing.
        let mut line = Vec::new();
        let mut above = w.hr.id; // `hr` tops a line of their own
        for i in 0..64 {
            let p = person(org, &format!("deep{i}@acme.test"), Some(above), false);
            above = p.id;
            line.push(p);
        }
        let err = w
            .app
            .db()
            .write(org, &setup(), async |tx| {
                tx.save_people(&line, &[], &[]).await
            })
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("64 people deep"),
            "{backend:?}: {err}"
        );
        let stored = w.app.db().list_people(org).await.unwrap();
        assert!(
            stored.iter().all(|p| !p.email.as_str().starts_with("deep")),
            "{backend:?}"
        );
        line.pop();
        w.app
            .db()
            .write(org, &setup(), async |tx| {
                tx.save_people(&line, &[], &[]).await
            })
            .await
            .unwrap();
        check("a line 64 deep").await;

        // Exported and restored into another database under its rule (not the default one):
        // the restored standings answer the same team, in the same order, with the same
        // "ready" as the source, and as readiness computed in full there.
        let rows_of = async |app: &App| {
            let page = app
                .team_rows(
                    &as_person(&w.boss),
                    "acme",
                    &rungs_app::TeamRequest {
                        first: Some(100),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert!(!page.has_next, "{backend:?}: one page holds the team");
            page.items
                .into_iter()
                .map(|r| (r.person.id, r.ready, r.score.to_bits()))
                .collect::<Vec<_>>()
        };
        let source = rows_of(&w.app).await;
        assert!(
            source.iter().any(|r| r.1) && source.iter().any(|r| !r.1),
            "{backend:?}: some are ready and some are not: {source:?}"
        );
        // Single sign-on and provisioning move too: the provider with its secret, a token by
        // its hash (it still works), a provisioned person's SCIM attributes.
        let provider = rungs_domain::sso::IdentityProvider {
            org_id: org,
            name: "Keycloak".into(),
            issuer: "https://sso.acme.test/realms/acme".into(),
            client_id: "-rungs".into(),
            client_secret: "s3cret".into(),
            scopes: vec!["email".into(), "profile".into()],
            email_claim: "email".into(),
            allowed_domains: vec!["acme.test".into()],
            admin_group: Some(rungs_domain::sso::AdminGroup {
                claim: "groups".into(),
                value: "hr".into(),
            }),
            passwords_allowed: false,
            create_people: true,
            api_audience: Some("rungs-api".into()),
            updated_at: Utc::now(),
        };
        w.app
            .db()
            .set_identity_provider(&provider, &setup())
            .await
            .unwrap();
        let (token, _) = w
            .app
            .create_scim_token(&as_person(&w.hr), "acme", "okta")
            .await
            .unwrap();
        let identity = rungs_domain::provisioning::ScimIdentity {
            person_id: w.emp.id,
            user_name: "Emp@Acme.test".into(),
            external_id: Some("00u1".into()),
            given_name: Some("Em".into()),
            email_primary: Some(true),
            updated_at: Utc::now(),
            ..Default::default()
        };
        w.app
            .db()
            .write(org, &setup(), async |tx| {
                tx.save_scim_identity(w.emp.id, &identity).await
            })
            .await
            .unwrap();
        let export = w.app.export_org(&sys, "acme").await.unwrap();
        let t2 = TestDb::fresh(backend).await;
        let restored = World {
            app: App::new(t2.db.clone()),
            hr: w.hr.clone(),
            hr2: w.hr2.clone(),
            boss: w.boss.clone(),
            mgr: w.mgr.clone(),
            emp: w.emp.clone(),
            other: w.other.clone(),
        };
        restored
            .app
            .import_org(&sys, &export, "acme.json")
            .await
            .unwrap();
        assert_eq!(rows_of(&restored.app).await, source, "{backend:?}");
        let original: serde_json::Value = serde_json::from_str(&export).unwrap();
        let back: serde_json::Value =
            serde_json::from_str(&restored.app.export_org(&sys, "acme").await.unwrap()).unwrap();
        assert_eq!(original["version"], 2, "{backend:?}");
        for part in ["identity_provider", "scim_tokens", "scim_identities"] {
            assert_eq!(back[part], original[part], "{backend:?}: `{part}` changed");
        }
        assert_eq!(original["identity_provider"]["client_secret"], "s3cret");
        assert_eq!(original["scim_identities"][0]["user_name"], "Emp@Acme.test");
        let moved = restored
            .app
            .db()
            .identity_provider(org)
            .await
            .unwrap()
            .expect("the provider moved");
        assert_eq!(
            rungs_domain::sso::IdentityProvider {
                updated_at: provider.updated_at,
                ..moved
            },
            provider,
            "{backend:?}"
        );
        let (_, scim_org) = restored.app.scim_authenticate(&token).await.unwrap();
        assert_eq!(
            scim_org.id, org,
            "{backend:?}: the token works after the move"
        );
        // A version 1 export (before single sign-on moved) still imports, without them.
        let mut older = original.clone();
        older["version"] = 1.into();
        for part in ["identity_provider", "scim_tokens", "scim_identities"] {
            older.as_object_mut().unwrap().remove(part);
        }
        let t3 = TestDb::fresh(backend).await;
        let third = App::new(t3.db.clone());
        third
            .import_org(&sys, &older.to_string(), "acme-v1.json")
            .await
            .unwrap();
        assert_eq!(third.db().identity_provider(org).await.unwrap(), None);
        t3.drop_database().await;
        // A SCIM identity of no one in the file, another with a taken userName, and a
        // provider whose issuer is no URL: refused with their places, nothing written.
        let mut broken = original.clone();
        let ids = broken["scim_identities"].as_array_mut().unwrap();
        let mut stray = ids[0].clone();
        stray["person_id"] = uuid::Uuid::now_v7().to_string().into();
        stray["user_name"] = "EMP@acme.test".into();
        ids.push(stray);
        broken["identity_provider"]["issuer"] = "not a url".into();
        let t4 = TestDb::fresh(backend).await;
        let fourth = App::new(t4.db.clone());
        let err = fourth
            .import_org(&sys, &broken.to_string(), "broken.json")
            .await
            .unwrap_err()
            .to_string();
        for place in [
            "scim_identities[1].person_id",
            "scim_identities[1].user_name",
            "identity_provider: invalid issuer: `not a url`",
        ] {
            assert!(err.contains(place), "{backend:?}: {place} in {err}");
        }
        assert!(
            fourth.db().list_orgs().await.unwrap().is_empty(),
            "{backend:?}"
        );
        t4.drop_database().await;
        let members = below(w.boss.id).await;
        assert_eq!(
            team_paged(&restored, &w.boss, TeamSort::Readiness).await,
            team_by_hand(&restored, &members, TeamSort::Readiness).await,
            "{backend:?}"
        );
        t2.drop_database().await;
        t.drop_database().await;
    }
}
