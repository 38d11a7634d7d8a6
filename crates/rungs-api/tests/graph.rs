//! The graph over real HTTP on every configured backend: every field is filled however its
//! object was reached, answers only what the caller may read (two organisations, three roles),
//! and a manager's dashboard costs the same statements with 10 reports as with 1,000.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use rungs_api::ApiConfig;
use rungs_app::Actor;
use rungs_app::demo::{DEMO_ADMIN, DEMO_EMPLOYEE, DEMO_MANAGER, DEMO_PASSWORD};
use rungs_db::testing::{TestDb, backends, manager_rating, on_every_backend};
use rungs_domain::assessment::Assessment;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Everything about a person the graph offers, as one fragment.
const PERSON: &str = "
fragment Everything on Person {
  email managerEmail
  manager { email }
  current { track level }
  history { level }
  reports(first: 3) { totalCount edges { node { email current { level } } } }
  growthPlan { person { email current { level } } total gaps { expectation { key } } }
  readiness { score ready person { current { level } } }
  assessments(first: 3) { totalCount edges { node { rating assessor { email } } } }
  openCase { id person { email } proposer { email } events { kind actor { email } } }
}";

fn errors(r: &Reply) -> Vec<(String, String)> {
    r.body["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    let path: Vec<String> = e["path"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p.to_string().trim_matches('"').to_owned())
                        .collect();
                    (
                        path.join("."),
                        e["extensions"]["code"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn every_field_is_filled_however_reached_and_only_for_who_may_read_it() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let (employee, _) = s.login(DEMO_EMPLOYEE).await;
        let (manager, _) = s.login(DEMO_MANAGER).await;
        let (hr, _) = s.login(DEMO_ADMIN).await;
        let (beta_hr, _) = s.login("hr@beta.test").await;

        // The employee reaches themselves: every field filled, their manager named.
        let q = format!("{{ me {{ ...Everything }} }} {PERSON}");
        let r = s.gql(Some(&employee), &q, json!({})).await;
        let me = &r.ok()["me"];
        assert_eq!(me["manager"]["email"], DEMO_MANAGER, "{b}");
        assert_eq!(me["managerEmail"], DEMO_MANAGER, "{b}");
        assert!(me["current"]["level"].is_string(), "{b}: {me}");
        assert!(!me["history"].as_array().unwrap().is_empty(), "{b}");
        // The growth plan's person has their position (it used to be null there).
        assert_eq!(me["growthPlan"]["person"]["current"]["level"], me["current"]["level"], "{b}");
        assert_eq!(me["readiness"]["person"]["current"]["level"], me["current"]["level"], "{b}");
        // The demo's manager proposed the employee: the case names everyone, with its events.
        let case = &me["openCase"];
        assert_eq!(case["person"]["email"], DEMO_EMPLOYEE, "{b}: {case}");
        assert_eq!(case["proposer"]["email"], DEMO_MANAGER, "{b}");
        assert_eq!(case["events"][0]["kind"], "PROPOSED", "{b}");
        assert_eq!(case["events"][0]["actor"]["email"], DEMO_MANAGER, "{b}");
        assert_eq!(me["reports"]["totalCount"], 0, "{b}: an employee without reports");

        // What is about their manager is not theirs to read: named, nothing more.
        let r = s
            .gql(
                Some(&employee),
                "{ me { manager { email displayName current { level } growthPlan { total } readiness { score } history { level } openCase { id } assessments(first: 1) { totalCount } } } }",
                json!({}),
            )
            .await;
        assert_eq!(r.body["data"]["me"]["manager"]["email"], DEMO_MANAGER, "{b}");
        let mut refused = errors(&r);
        refused.sort();
        assert_eq!(
            refused,
            ["assessments", "current", "growthPlan", "history", "openCase", "readiness"]
                .iter()
                .map(|f| (format!("me.manager.{f}"), "FORBIDDEN".to_owned()))
                .collect::<Vec<_>>(),
            "{b}: {}",
            r.body
        );

        // The manager reaches the employee through their team, their reports and a case: the
        // same fields, filled the same way.
        let r = s
            .gql(
                Some(&manager),
                &format!("{{ team(first: 5, sort: NAME) {{ edges {{ node {{ person {{ ...Everything }} openCase {{ proposer {{ email }} person {{ email }} events {{ kind }} }} }} }} }} }} {PERSON}"),
                json!({}),
            )
            .await;
        let team = r.ok()["team"].clone();
        let r = s
            .gql(
                Some(&manager),
                &format!("{{ me {{ reports(first: 5) {{ edges {{ node {{ ...Everything }} }} }} }} }} {PERSON}"),
                json!({}),
            )
            .await;
        let reports = r.ok()["me"]["reports"].clone();
        let r = s
            .gql(
                Some(&manager),
                &format!("{{ promotionCases(first: 3) {{ edges {{ node {{ person {{ ...Everything }} events {{ kind }} }} }} }} }} {PERSON}"),
                json!({}),
            )
            .await;
        let d = json!({ "team": team, "me": { "reports": reports }, "promotionCases": r.ok()["promotionCases"] });
        let find = |list: &Value, path: &[&str]| -> Value {
            list["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| path.iter().fold(&e["node"], |v, k| &v[*k]).clone())
                .find(|p| p["email"] == DEMO_EMPLOYEE)
                .unwrap_or_else(|| panic!("{b}: {DEMO_EMPLOYEE} not in {list}"))
        };
        let via_team = find(&d["team"], &["person"]);
        let via_reports = find(&d["me"]["reports"], &[]);
        let via_case = find(&d["promotionCases"], &["person"]);
        assert_eq!(via_team, via_reports, "{b}");
        assert_eq!(via_team, via_case, "{b}");
        // Reached by the employee themselves, the same again (the manager sees what they see).
        let r = s.gql(Some(&employee), &format!("{{ me {{ ...Everything }} }} {PERSON}"), json!({})).await;
        assert_eq!(r.ok()["me"], via_team, "{b}");
        // The team's open case names its proposer (it used to be null there), and lists
        // carry their cases' events.
        let team_case = d["team"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["person"]["email"] == DEMO_EMPLOYEE)
            .map(|e| e["node"]["openCase"].clone())
            .unwrap();
        assert_eq!(team_case["proposer"]["email"], DEMO_MANAGER, "{b}: {team_case}");
        assert_eq!(team_case["events"][0]["kind"], "PROPOSED", "{b}");
        for e in d["promotionCases"]["edges"].as_array().unwrap() {
            assert!(!e["node"]["events"].as_array().unwrap().is_empty(), "{b}: {e}");
        }

        // A version's content, from a growth plan.
        let r = s
            .gql(
                Some(&employee),
                "{ growthPlan { matrixVersion { label levels { key } tracks { key ladder cells { track level } } cells { track level expectations { key } } criteria { key label } } } }",
                json!({}),
            )
            .await;
        let v = &r.ok()["growthPlan"]["matrixVersion"];
        assert_eq!(v["label"], "v1", "{b}");
        assert_eq!(v["levels"].as_array().unwrap().len(), 5, "{b}");
        assert_eq!(v["tracks"].as_array().unwrap().len(), 6, "{b}");
        let cells = v["cells"].as_array().unwrap();
        let in_tracks: usize = v["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["cells"].as_array().unwrap().len())
            .sum();
        assert_eq!(cells.len(), in_tracks, "{b}");
        let criteria: Vec<&str> = v["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["key"].as_str().unwrap())
            .collect();
        let mut unique = criteria.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(criteria.len(), unique.len(), "{b}: each criterion once");
        assert_eq!(criteria.len(), 49, "{b}");

        // HR reads everyone's fields; the other organisation's HR reaches none of them.
        let employee_id = s.id_of(&hr, DEMO_EMPLOYEE).await;
        let q = format!("query($id: ID!) {{ person(id: $id) {{ ...Everything }} }} {PERSON}");
        let r = s.gql(Some(&hr), &q, json!({ "id": employee_id })).await;
        assert_eq!(r.ok()["person"], via_team, "{b}");
        let r = s.gql(Some(&beta_hr), &q, json!({ "id": employee_id })).await;
        assert_eq!(r.code(), Some("NOT_FOUND"), "{b}: {}", r.body);
        let r = s
            .gql(
                Some(&beta_hr),
                &format!("{{ promotionCases(first: 10) {{ edges {{ node {{ person {{ ...Everything }} proposer {{ email }} }} }} }} }} {PERSON}"),
                json!({}),
            )
            .await;
        let text = r.ok().to_string();
        assert!(text.contains("employee@beta.test"), "{b}: {text}");
        assert!(!text.contains("acme") && !text.contains("demo"), "{b}: {text}");
    })
    .await;
}

/// A lone `person(id)` or the caller's own `growthPlan` is read with the session, in its
/// statement; beside another root field it is read as before. Both answer the same, for every
/// role and across organisations, and a session that has ended is refused either way.
#[tokio::test]
async fn a_read_with_the_session_answers_as_the_read_alone() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let (employee, employee_refresh) = s.login(DEMO_EMPLOYEE).await;
        let (manager, _) = s.login(DEMO_MANAGER).await;
        let (hr, _) = s.login(DEMO_ADMIN).await;
        let (beta_hr, _) = s.login("hr@beta.test").await;
        let employee_id = s.id_of(&hr, DEMO_EMPLOYEE).await;
        let manager_id = s.id_of(&hr, DEMO_MANAGER).await;
        let beta_id = s.id_of(&beta_hr, "employee@beta.test").await;
        let person = "person(id: $id) { email displayName managerEmail current { track level } }";
        let plan = "growthPlan { person { email current { level } } current { level { key } } \
                    target { level { key } } met total progress gaps { expectation { key } status } }";
        let directory = "people(first: 2) { edges { cursor node { email displayName } } \
                         pageInfo { endCursor hasNextPage } }";
        let placed = "people(first: 3) { edges { node { email current { track level } } } \
                      pageInfo { hasNextPage } }";
        // Alone (read with the session), and beside `organisation` (read on its own).
        let both = async |token: &str, field: &str, id: &str| {
            let (head, vars) = if field.contains("$id") {
                ("query($id: ID!)", json!({ "id": id }))
            } else {
                ("query", json!({}))
            };
            let alone = s.gql(Some(token), &format!("{head} {{ {field} }}"), vars.clone()).await;
            let beside = s
                .gql(Some(token), &format!("{head} {{ organisation {{ name }} {field} }}"), vars)
                .await;
            (alone, beside)
        };
        let cases = [
            // who, what, whose id, the answer expected (None: the person's record)
            ("hr", &hr, person, employee_id.as_str(), None),
            ("hr, themselves", &hr, person, "", None),
            ("manager", &manager, person, employee_id.as_str(), None),
            ("employee, themselves", &employee, person, employee_id.as_str(), None),
            ("employee, their manager", &employee, person, manager_id.as_str(), Some("FORBIDDEN")),
            ("beta hr, acme's employee", &beta_hr, person, employee_id.as_str(), Some("NOT_FOUND")),
            ("hr, beta's employee", &hr, person, beta_id.as_str(), Some("NOT_FOUND")),
            ("hr, no such id", &hr, person, "not-an-id", Some("INVALID_INPUT")),
            ("employee's own plan", &employee, plan, "", None),
            ("manager's own plan", &manager, plan, "", None),
            ("hr, the directory", &hr, directory, "", None),
            ("hr, the directory placed", &hr, placed, "", None),
            ("manager, their people", &manager, directory, "", None),
            ("employee, themselves listed", &employee, placed, "", None),
            ("beta hr, their directory", &beta_hr, placed, "", None),
        ];
        for (who, token, field, id, refused) in cases {
            let id = if id.is_empty() { s.id_of(&hr, DEMO_ADMIN).await } else { id.to_owned() };
            let (alone, beside) = both(token, field, &id).await;
            match refused {
                None => {
                    let key = field.split('(').next().unwrap().split(' ').next().unwrap();
                    let a = &alone.ok()[key];
                    assert!(a.is_object(), "{b}: {who}: {}", alone.body);
                    assert_eq!(a, &beside.ok()[key], "{b}: {who}");
                }
                Some(code) => {
                    assert_eq!(alone.code(), Some(code), "{b}: {who}: {}", alone.body);
                    assert_eq!(beside.code(), Some(code), "{b}: {who}: {}", beside.body);
                }
            }
        }
        // The employee's own plan says what they have assessed: the read with the session
        // holds every assessment.
        let (alone, _) = both(&employee, plan, "").await;
        let gaps = alone.ok()["growthPlan"]["gaps"].as_array().unwrap().len();
        assert!(gaps > 0, "{b}: {}", alone.body);
        // HR's directory is the organisation's, paged; beta's HR sees only beta.
        let (alone, _) = both(&hr, placed, "").await;
        let listed = alone.ok()["people"]["edges"].as_array().unwrap().clone();
        assert_eq!(listed.len(), 3, "{b}: {}", alone.body);
        assert!(listed.iter().any(|e| e["node"]["current"]["level"].is_string()), "{b}: {listed:?}");
        assert_eq!(alone.ok()["people"]["pageInfo"]["hasNextPage"], true, "{b}");
        let (alone, _) = both(&beta_hr, placed, "").await;
        let text = alone.ok().to_string();
        assert!(text.contains("beta.test") && !text.contains("demo"), "{b}: {text}");

        // A session that has ended is refused before anything is read, lead or not.
        s.gql(None, "mutation($t: String!) { logout(token: $t) }", json!({ "t": employee_refresh }))
            .await
            .ok();
        for field in [person, plan] {
            let (alone, beside) = both(&employee, field, &employee_id).await;
            assert_eq!(alone.status, 401, "{b}: {}", alone.body);
            assert_eq!(beside.status, 401, "{b}: {}", beside.body);
            assert_eq!(alone.code(), Some("UNAUTHENTICATED"), "{b}");
        }
    })
    .await;
}

/// A manager's dashboard (their team with each report's position, gaps and open case, and the
/// case's people and events) is one request whose statements do not grow with the team.
#[tokio::test]
async fn a_dashboard_costs_the_same_statements_for_10_and_1000_reports() {
    const LISTING: &str =
        "{ team(first: 50) { totalCount edges { node { __typename direct score ready
        inLevelSince monthsInLevel person { email } } } pageInfo { hasNextPage } } }";
    const DASHBOARD: &str = "{ team(first: 50) { totalCount edges { node { score ready reasons { message }
        direct inLevelSince monthsInLevel
        person { email current { level } manager { email } growthPlan { total gaps { expectation { key label } } } }
        openCase { proposer { email } events { kind actor { email } } } } } } }";
    for backend in backends() {
        let (mut counts, mut sql, mut light) = (Vec::new(), Vec::new(), Vec::new());
        for reports in [10usize, 1_000] {
            let t = TestDb::fresh(backend).await;
            let mut db = t.db.clone();
            let statements = Arc::new(AtomicU64::new(0));
            let log = Arc::new(Mutex::new(Vec::<String>::new()));
            let (counter, logged) = (statements.clone(), log.clone());
            db.observe_statements(move |sql, _, _| {
                counter.fetch_add(1, Ordering::Relaxed);
                logged.lock().unwrap().push(sql.chars().take(160).collect());
            });
            let s = spawn(&db, ApiConfig::default()).await;
            let sys = Actor::system();
            s.app.create_org(&sys, "acme", "Acme").await.unwrap();
            s.app
                .import_matrix(
                    &sys,
                    "acme",
                    rungs_app::MatrixSource::Template("python"),
                    false,
                )
                .await
                .unwrap();
            // The boss, leads of ten under them, and everyone else under a lead.
            let mut csv = String::from(
                "email,name,manager_email,track,level,admin\nboss@acme.test,Bo Boss,,python-developer,expert,\n",
            );
            let mut lead = String::new();
            for i in 0..reports {
                let manager = if i % 10 == 0 {
                    "boss@acme.test".to_owned()
                } else {
                    lead.clone()
                };
                csv.push_str(&format!(
                    "p{i}@acme.test,P {i},{manager},python-developer,beginner,\n"
                ));
                if i % 10 == 0 {
                    lead = format!("p{i}@acme.test");
                }
            }
            s.app
                .import_people(&sys, "acme", &csv, "people.csv", None)
                .await
                .unwrap();
            s.app
                .set_password(
                    &sys,
                    "acme",
                    "boss@acme.test",
                    DEMO_PASSWORD.to_owned().into(),
                )
                .await
                .unwrap();
            // Every report is rated on half of what is new at the next level, by their manager.
            let org = s.app.organisation(&sys, "acme").await.unwrap();
            let (info, m) = s.app.show_matrix(&sys, "acme", "python").await.unwrap();
            let next = m
                .expectations_for("python-developer", "intermediate")
                .unwrap()
                .into_iter()
                .filter(|(l, _)| l.key.as_str() == "intermediate")
                .collect::<Vec<_>>();
            let people = s
                .app
                .db()
                .people_in(org.id, rungs_db::Scope::Org)
                .await
                .unwrap();
            let assessments: Vec<Assessment> = people
                .iter()
                .filter(|p| p.manager_id.is_some())
                .flat_map(|p| {
                    next.iter()
                        .step_by(2)
                        .map(|(_, e)| manager_rating(p, info.id, &e.key))
                })
                .collect();
            s.app
                .db()
                .write(
                    org.id,
                    &rungs_db::Audit::new(None, "test.setup", [], "setup"),
                    async |tx| tx.append_assessments(&assessments).await,
                )
                .await
                .unwrap();
            // Open cases, proposed by the boss: two on the first page whatever the size.
            let proposed = ["p0@acme.test", "p1@acme.test", "p9@acme.test"];
            let boss = people
                .iter()
                .find(|p| p.email.as_str() == "boss@acme.test")
                .unwrap();
            let as_boss = Actor::Person {
                id: boss.id,
                org: org.id,
                is_admin: false,
            };
            for p in people
                .iter()
                .filter(|p| proposed.contains(&p.email.as_str()))
            {
                s.app
                    .propose_promotion(
                        &as_boss,
                        "acme",
                        rungs_app::Proposal {
                            person: p.id,
                            target: None,
                            justification: "ready",
                        },
                    )
                    .await
                    .unwrap();
            }
            let (token, _) = s.login("boss@acme.test").await;

            let before = statements.load(Ordering::Relaxed);
            log.lock().unwrap().clear();
            let r = s.gql(Some(&token), DASHBOARD, json!({})).await;
            let used = statements.load(Ordering::Relaxed) - before;
            sql.push(log.lock().unwrap().clone());
            let team = &r.ok()["team"];
            assert_eq!(team["totalCount"], reports, "{backend:?}");
            let edges = team["edges"].as_array().unwrap();
            assert_eq!(edges.len(), reports.min(50), "{backend:?}");
            let cases = edges
                .iter()
                .filter(|e| e["node"]["openCase"].is_object())
                .count();
            assert!(cases >= 2, "{backend:?}: {team}");
            for e in edges {
                let email = e["node"]["person"]["email"].as_str().unwrap();
                assert_eq!(
                    e["node"]["openCase"].is_object(),
                    proposed.contains(&email),
                    "{backend:?}: {email}"
                );
                let p = &e["node"]["person"];
                assert_eq!(p["current"]["level"], "beginner", "{backend:?}");
                assert!(p["manager"]["email"].is_string(), "{backend:?}");
                let gaps = p["growthPlan"]["gaps"].as_array().unwrap().len();
                let met = next.iter().step_by(2).count();
                assert_eq!(gaps, next.len() - met, "{backend:?}: those rated are met");
                if let Some(c) = e["node"]["openCase"].as_object() {
                    assert_eq!(c["proposer"]["email"], "boss@acme.test");
                    assert_eq!(c["events"][0]["actor"]["email"], "boss@acme.test");
                }
            }
            counts.push(used);

            // A listing of names, scores and readiness is answered from the kept standings:
            // the same people in the same order with the same values, in fewer statements.
            let before = statements.load(Ordering::Relaxed);
            let l = s.gql(Some(&token), LISTING, json!({})).await;
            light.push(statements.load(Ordering::Relaxed) - before);
            let rows = l.ok()["team"]["edges"].as_array().unwrap().clone();
            assert_eq!(l.ok()["team"]["totalCount"], reports, "{backend:?}");
            assert_eq!(rows.len(), edges.len(), "{backend:?}");
            for (row, full) in rows.iter().zip(edges) {
                let (row, full) = (&row["node"], &full["node"]);
                assert_eq!(
                    row["person"]["email"], full["person"]["email"],
                    "{backend:?}"
                );
                for field in ["score", "ready", "direct", "inLevelSince", "monthsInLevel"] {
                    assert_eq!(row[field], full[field], "{backend:?}: {field} of {row}");
                }
            }
            t.drop_database().await;
        }
        println!("{backend:?}: listing statements at 10 and 1,000 reports: {light:?}");
        assert_eq!(light[0], light[1], "{backend:?}: {light:?}");
        assert!(
            light[0] < counts[0],
            "{backend:?}: {light:?} against {counts:?}"
        );
        println!("{backend:?}: dashboard statements at 10 and 1,000 reports: {counts:?}");
        if counts[0] != counts[1] {
            println!(
                "at 10:\n{}\nat 1,000:\n{}",
                sql[0].join("\n"),
                sql[1].join("\n")
            );
        }
        assert_eq!(
            counts[0], counts[1],
            "{backend:?}: statements grew with the team: {counts:?}"
        );
        assert!(counts[0] < 40, "{backend:?}: {counts:?}");
    }
}

/// Each root read costs the same statements in an organisation of 10 people as in one of
/// 10,000 (the demo generator), asked over HTTP as the client would.
#[tokio::test]
async fn root_reads_cost_the_same_at_10_and_10000_people() {
    let reads: [(&str, &str); 11] = [
        ("organisation", "{ organisation { name } }"),
        ("me", "{ me { id email current { level } } }"),
        (
            "me, named manager",
            "{ me { managerEmail manager { displayName } } }",
        ),
        (
            "growthPlan",
            "{ growthPlan { total gaps { expectation { key } } } }",
        ),
        (
            "readiness",
            "{ readiness { score ready reasons { message } } }",
        ),
        (
            "person",
            "query($id: ID!) { person(id: $id) { email current { level } } }",
        ),
        (
            "person, as HR",
            "query($id: ID!) { person(id: $id) { email current { level } } }",
        ),
        (
            "people, a page",
            "{ people(first: 20) { edges { node { email current { level } } } pageInfo { hasNextPage } } }",
        ),
        (
            "people",
            "{ people(first: 20) { totalCount edges { node { email managerEmail current { level } } } } }",
        ),
        (
            "team",
            "{ team(first: 20) { totalCount edges { node { score person { email } } } } }",
        ),
        (
            "calibration",
            "{ calibration { people unplaced matrices { people cells { track level count openCases } } } }",
        ),
    ];
    for backend in backends() {
        let mut runs = Vec::new();
        for size in [10usize, 10_000] {
            let t = TestDb::fresh(backend).await;
            let (db, statements) = rungs_db::testing::counting(&t.db);
            let s = spawn(&db, ApiConfig::default()).await;
            s.app.seed_demo(&Actor::system(), size).await.unwrap();
            let (employee, _) = s.login(DEMO_EMPLOYEE).await;
            let (manager, _) = s.login(DEMO_MANAGER).await;
            let (hr, _) = s.login(DEMO_ADMIN).await;
            let employee_id = s.id_of(&hr, DEMO_EMPLOYEE).await;
            let mut used = Vec::new();
            for (name, query) in reads {
                let token = match name {
                    "people" | "person, as HR" | "people, a page" | "calibration" => &hr,
                    "person" | "team" => &manager,
                    _ => &employee,
                };
                let before = statements.load(Ordering::Relaxed);
                let r = s
                    .gql(Some(token), query, json!({ "id": employee_id }))
                    .await;
                r.ok();
                used.push((name, statements.load(Ordering::Relaxed) - before));
            }
            if size == 10 {
                // A batch that may write does not use what authentication read about the
                // caller (its operations run concurrently): `me { current }` beside a mutation
                // reads the position itself, one statement more than the mutation alone.
                let logout = json!({ "query": "mutation { logout(token: \"not-a-token\") }" });
                let me = json!({ "query": "{ me { current { level } } }" });
                let mut cost = Vec::new();
                for body in [json!([logout.clone()]), json!([logout, me])] {
                    let before = statements.load(Ordering::Relaxed);
                    let r = s.post(Some(&employee), body).await;
                    assert_eq!(r.status, 200, "{backend:?}: {}", r.body);
                    cost.push(statements.load(Ordering::Relaxed) - before);
                }
                assert_eq!(cost[1], cost[0] + 1, "{backend:?}: {cost:?}");
            }
            runs.push(used);
            t.drop_database().await;
        }
        println!("{backend:?}: statements per root read at 10 and 10,000 people: {runs:?}");
        assert_eq!(
            runs[0], runs[1],
            "{backend:?}: a read grew with the organisation"
        );
        for (name, n) in &runs[0] {
            assert!(*n <= 12, "{backend:?}: {name} ran {n} statements");
        }
        // Authentication reads the caller's position and the readiness rule with the session,
        // and what a lone root field is about (its lead): `me`, the caller's own plan (with
        // their assessments) and a person for HR (with their position) are that one
        // statement; a person for their manager one more (whether the manager manages them).
        // So is a page of the directory for HR (with each one's position). A page with its
        // total and managers' emails: the session, the total, the page with each one's
        // position, the managers' emails.
        let most = |name: &str| runs[0].iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(most("organisation"), 1, "{backend:?}");
        assert_eq!(most("me"), 1, "{backend:?}");
        assert_eq!(most("growthPlan"), 1, "{backend:?}");
        assert_eq!(most("person, as HR"), 1, "{backend:?}");
        assert_eq!(most("person"), 2, "{backend:?}");
        assert_eq!(most("people"), 4, "{backend:?}");
        assert_eq!(most("people, a page"), 1, "{backend:?}");
        // Calibration: the session, the due standings, the counts per placement (grouped in
        // SQL: a row per placement, not per person), the matrix versions they name.
        assert_eq!(most("calibration"), 4, "{backend:?}");
    }
}
