//! The GraphQL API over real HTTP, on every configured backend: the demo roles sign in and use
//! the schema; the authorization table across roles and two organisations; token rejection;
//! refresh-token rotation; the safety limits; the committed SDL.

#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rungs_api::ApiConfig;
use rungs_app::demo::{DEMO_ADMIN, DEMO_EMPLOYEE, DEMO_MANAGER};
use rungs_db::testing::{TestDb, on_every_backend};
use serde_json::{Value, json};
use std::time::Duration;

// ---- the story ---------------------------------------------------------------------------

async fn story(t: &TestDb) {
    let s = spawn(&t.db, ApiConfig::default()).await;
    seed_two_orgs(&s.app).await;
    let b = format!("{:?}", t.backend);

    // The employee reads themselves, their organisation and its matrix.
    let (emp, _) = s.login(DEMO_EMPLOYEE).await;
    let r = s
        .gql(
            Some(&emp),
            "{ me { email displayName managerEmail current { track level } } organisation { slug } matrices { edges { node { key expectations } } } people { totalCount } }",
            json!({}),
        )
        .await;
    let d = r.ok();
    assert_eq!(d["me"]["email"], DEMO_EMPLOYEE, "{b}");
    assert_eq!(d["me"]["managerEmail"], DEMO_MANAGER, "{b}");
    assert_eq!(d["me"]["current"]["level"], "intermediate", "{b}");
    assert_eq!(d["organisation"]["slug"], "demo", "{b}");
    assert_eq!(d["matrices"]["edges"][0]["node"]["expectations"], 49, "{b}");
    assert_eq!(
        d["people"]["totalCount"], 1,
        "an employee sees only themselves ({b})"
    );
    let r = s
        .gql(
            Some(&emp),
            "{ matrix(key: \"python\") { version { number status } levels { key } tracks { key cells { level titles expectations { key } } } } }",
            json!({}),
        )
        .await;
    let m = &r.ok()["matrix"];
    assert_eq!(m["version"]["number"], 1);
    assert_eq!(m["version"]["status"], "PUBLISHED");
    assert_eq!(m["levels"].as_array().unwrap().len(), 5);
    assert_eq!(
        m["tracks"][0]["cells"][0]["expectations"][0]["key"],
        "basic-syntax"
    );

    // The manager sees themselves and their reports, paginated.
    let (mgr, _) = s.login(DEMO_MANAGER).await;
    let page = |after: Value| {
        s.gql(
            Some(&mgr),
            "query($a: String) { people(first: 2, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { node { email managerEmail } } } }",
            json!({ "a": after }),
        )
    };
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = page(after.clone()).await;
        let p = r.ok()["people"].clone();
        for e in p["edges"].as_array().unwrap() {
            seen.push(e["node"]["email"].as_str().unwrap().to_owned());
        }
        if !p["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            assert_eq!(p["totalCount"].as_u64().unwrap() as usize, seen.len());
            break;
        }
        after = p["pageInfo"]["endCursor"].clone();
    }
    assert!(seen.contains(&DEMO_EMPLOYEE.to_owned()) && seen.contains(&DEMO_MANAGER.to_owned()));
    assert!(!seen.contains(&DEMO_ADMIN.to_owned()), "{seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "pages are ordered by email without repeats");

    // The HR admin adds a person, gives them a manager, places them and exports the matrix.
    let (hr, _) = s.login(DEMO_ADMIN).await;
    let mgr_id = s.id_of(&hr, DEMO_MANAGER).await;
    let r = s
        .gql(
            Some(&hr),
            "mutation($m: ID) { addPerson(input: { email: \"new@demo.rungs.test\", displayName: \"New Hire\", managerId: $m }) { id email managerEmail active } }",
            json!({ "m": mgr_id }),
        )
        .await;
    let new_id = r.ok()["addPerson"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r.ok()["addPerson"]["managerEmail"], DEMO_MANAGER);
    let r = s
        .gql(
            Some(&hr),
            "mutation($p: ID!) { assignLevel(input: { personId: $p, track: \"web-developer\", level: \"beginner\", reason: \"hired\" }) { track level reason } }",
            json!({ "p": new_id }),
        )
        .await;
    assert_eq!(r.ok()["assignLevel"]["track"], "web-developer");
    let r = s
        .gql(
            Some(&mgr),
            "query($p: ID!) { levelHistory(personId: $p) { level reason } }",
            json!({ "p": new_id }),
        )
        .await;
    assert_eq!(
        r.ok()["levelHistory"][0]["reason"],
        "hired",
        "the manager reads a new report's history"
    );
    // A cycle is refused, by email.
    let r = s
        .gql(
            Some(&hr),
            "mutation($id: ID!, $m: ID) { updatePerson(id: $id, input: { managerId: $m }) { id } }",
            json!({ "id": mgr_id, "m": new_id }),
        )
        .await;
    assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
    assert!(
        r.body.to_string().contains("new@demo.rungs.test"),
        "{}",
        r.body
    );
    // Duplicate email: CONFLICT.
    let r = s
        .gql(Some(&hr), "mutation { addPerson(input: { email: \"new@demo.rungs.test\", displayName: \"Again\" }) { id } }", json!({}))
        .await;
    assert_eq!(r.code(), Some("CONFLICT"), "{}", r.body);
    let r = s
        .gql(
            Some(&hr),
            "mutation { exportMatrix(key: \"python\", format: YAML) }",
            json!({}),
        )
        .await;
    let yaml = r.ok()["exportMatrix"].as_str().unwrap().to_owned();
    assert!(yaml.contains("basic-syntax"));
    // A broken file: every problem with its place, nothing written.
    let r = s
        .gql(
            Some(&hr),
            "mutation($c: String!) { importMatrix(format: YAML, content: $c) { version { number } } }",
            json!({ "c": "format_version: 1\nkey: bad\nname: Bad\nlevels: []\ntracks: []\nsurprise: 1\n" }),
        )
        .await;
    assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
    let problems = r.body["errors"][0]["extensions"]["problems"]
        .as_array()
        .unwrap();
    assert!(problems.iter().all(|p| p["line"].is_u64()), "{problems:?}");
    // Deactivation ends the person's sessions: their access token stops working.
    let (new_pw_token, _) = {
        s.app
            .set_password(
                &rungs_app::Actor::system(),
                "demo",
                "new@demo.rungs.test",
                common_password(),
            )
            .await
            .unwrap();
        s.login("new@demo.rungs.test").await
    };
    assert!(
        s.gql(Some(&new_pw_token), "{ me { email } }", json!({}))
            .await
            .ok()["me"]
            .is_object()
    );
    let r = s
        .gql(
            Some(&hr),
            "mutation($id: ID!) { updatePerson(id: $id, input: { active: false }) { active } }",
            json!({ "id": new_id }),
        )
        .await;
    assert_eq!(r.ok()["updatePerson"]["active"], false);
    let r = s
        .gql(Some(&new_pw_token), "{ me { email } }", json!({}))
        .await;
    assert_eq!((r.status, r.code()), (401, Some("UNAUTHENTICATED")));
    // HR admins cannot lock themselves out.
    let hr_id = s.id_of(&hr, DEMO_ADMIN).await;
    let r = s
        .gql(
            Some(&hr),
            "mutation($id: ID!) { updatePerson(id: $id, input: { isAdmin: false }) { id } }",
            json!({ "id": hr_id }),
        )
        .await;
    assert_eq!(r.code(), Some("INVALID_INPUT"));
}

fn common_password() -> secrecy::SecretString {
    rungs_app::demo::DEMO_PASSWORD.to_owned().into()
}

#[tokio::test]
async fn demo_roles_use_the_schema_on_every_backend() {
    on_every_backend(async |t| story(t).await).await;
}

// ---- who may do what -------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum E {
    Ok,
    Unauth,
    Forbidden,
    NotFound,
}

struct Targets {
    /// The home organisation's employee (a report of its manager).
    employee: String,
    /// The home organisation's HR admin (unrelated to the employee and the manager).
    admin: String,
    /// The other organisation's employee.
    away: String,
    /// The home organisation's manager (the employee's).
    manager: String,
    /// The open promotion case of the home employee, and of the other organisation's.
    case: String,
    away_case: String,
}

/// Runs every query and mutation as each role of `home` and checks the outcome per cell.
async fn table(s: &Server, home: &str, away: &str) {
    let (admin, manager, employee) = roles(home);
    let tokens = [
        ("anonymous", None),
        ("employee", Some(s.login(employee).await.0)),
        ("manager", Some(s.login(manager).await.0)),
        ("admin", Some(s.login(admin).await.0)),
    ];
    let admin_token = tokens[3].1.clone().unwrap();
    let away_admin = s.login(roles(away).0).await.0;
    let t = Targets {
        employee: s.id_of(&admin_token, employee).await,
        admin: s.id_of(&admin_token, admin).await,
        away: s.id_of(&away_admin, roles(away).2).await,
        manager: s.id_of(&admin_token, manager).await,
        case: open_case(s, &admin_token).await,
        away_case: open_case(s, &away_admin).await,
    };
    use E::*;
    let person = "query($id: ID!) { person(id: $id) { email } }";
    let history = "query($id: ID!) { levelHistory(personId: $id) { level } }";
    let update =
        "mutation($id: ID!) { updatePerson(id: $id, input: { displayName: \"Renamed\" }) { id } }";
    let assign = "mutation($id: ID!) { assignLevel(input: { personId: $id, matrix: \"python\", track: \"python-developer\", level: \"advanced\", reason: \"table\" }) { level } }";
    let import =
        "mutation($c: String!) { importMatrix(format: YAML, content: $c) { version { number } } }";
    let mini = format!(
        "format_version: 1\nkey: mini-{home}\nname: Mini\nlevels:\n  - key: one\n    name: One\n    rank: 1\ntracks:\n  - key: t\n    name: T\n    cells:\n      - level: one\n        titles: [Doer]\n        expectations:\n          - key: e\n            name: E\n"
    );
    let plan = "query($id: ID) { growthPlan(personId: $id) { progress } }";
    let assessments = "query($id: ID) { assessments(personId: $id) { totalCount } }";
    let readiness = "query($id: ID) { readiness(personId: $id) { score } }";
    let career = "query($id: ID) { career(personId: $id) { periods { days } } }";
    let team = "query($id: ID) { team(managerId: $id) { totalCount } }";
    let case = "query($id: ID!) { promotionCase(id: $id) { status } }";
    let assess = "mutation($id: ID!) { assess(input: { personId: $id, expectationKey: \"basic-syntax\", rating: MEETS, evidence: \"table\" }) { id } }";
    let comment =
        "mutation($id: ID!) { commentOnPromotion(caseId: $id, comment: \"table\") { id } }";
    let withdraw = "mutation($id: ID!) { withdrawPromotion(caseId: $id) { id } }";
    let approve = "mutation($id: ID!) { approvePromotion(caseId: $id) { id } }";
    let reject = "mutation($id: ID!) { rejectPromotion(caseId: $id, note: \"not yet\") { id } }";
    let propose = "mutation($id: ID!) { proposePromotion(input: { personId: $id, justification: \"table\" }) { id } }";
    // (what, query, variables, [anonymous, employee, manager, admin])
    let cells: Vec<(&str, &str, Value, [E; 4])> = vec![
        ("me", "{ me { email } }", json!({}), [Unauth, Ok, Ok, Ok]),
        (
            "organisation",
            "{ organisation { slug } }",
            json!({}),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "matrices",
            "{ matrices { edges { node { key } } } }",
            json!({}),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "matrix",
            "{ matrix(key: \"python\") { key } }",
            json!({}),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "people",
            "{ people { totalCount } }",
            json!({}),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "person(employee)",
            person,
            json!({ "id": t.employee }),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "person(admin)",
            person,
            json!({ "id": t.admin }),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "person(away)",
            person,
            json!({ "id": t.away }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
        (
            "levelHistory(employee)",
            history,
            json!({ "id": t.employee }),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "levelHistory(admin)",
            history,
            json!({ "id": t.admin }),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "levelHistory(away)",
            history,
            json!({ "id": t.away }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
        (
            "exportMatrix",
            "mutation { exportMatrix(key: \"python\", format: JSON) }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "importMatrix",
            import,
            json!({ "c": mini }),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "addPerson",
            "mutation($e: String!) { addPerson(input: { email: $e, displayName: \"Table\" }) { id } }",
            json!({ "e": format!("table@{home}.test") }),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "updatePerson(employee)",
            update,
            json!({ "id": t.employee }),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "updatePerson(away)",
            update,
            json!({ "id": t.away }),
            [Unauth, Forbidden, Forbidden, NotFound],
        ),
        (
            "assignLevel(employee)",
            assign,
            json!({ "id": t.employee }),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "assignLevel(away)",
            assign,
            json!({ "id": t.away }),
            [Unauth, Forbidden, Forbidden, NotFound],
        ),
        (
            "logout",
            "mutation { logout(token: \"not-a-token\") }",
            json!({}),
            [Ok, Ok, Ok, Ok],
        ),
        (
            "importPeople",
            "mutation($c: String!) { importPeople(content: $c) { added } }",
            json!({ "c": format!("email,name\nimported@{home}.test,Imported One\n") }),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        // ---- matrix versions (the draft is HR's; published versions are everyone's) ----
        (
            "matrixVersions",
            "{ matrixVersions(key: \"python\") { version { number } } }",
            json!({}),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "startMatrixDraft",
            "mutation { startMatrixDraft(key: \"python\") { version { revision } } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "matrix(draft)",
            "{ matrix(key: \"python\", version: \"draft\") { version { revision } } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "editMatrixDraft",
            "mutation { editMatrixDraft(key: \"python\", revision: 0, edits: [{ addExpectation: { track: \"python-developer\", level: \"beginner\", key: \"table-new\", name: \"Table\" } }]) { version { revision } } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "matrixDiff(draft)",
            "{ matrixDiff(key: \"python\", from: \"1\") { summary } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "exportMatrix(draft)",
            "mutation { exportMatrix(key: \"python\", format: CSV, version: \"draft\") }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "publishMatrix",
            "mutation { publishMatrix(key: \"python\", note: \"table\") { number } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "matrixDiff(published)",
            "{ matrixDiff(key: \"python\", from: \"1\", to: \"2\") { summary } }",
            json!({}),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "movePeople(dryRun)",
            "mutation { movePeople(key: \"python\", to: 2, dryRun: true) { moves { email } } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "startMatrixDraft(again)",
            "mutation { startMatrixDraft(key: \"python\") { version { revision } } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "discardMatrixDraft",
            "mutation { discardMatrixDraft(key: \"python\") }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        // ---- growth ----
        (
            "growthPlan(employee)",
            plan,
            json!({ "id": t.employee }),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "growthPlan(away)",
            plan,
            json!({ "id": t.away }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
        (
            "assessments(employee)",
            assessments,
            json!({ "id": t.employee }),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "assessments(admin)",
            assessments,
            json!({ "id": t.admin }),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "assessments(away)",
            assessments,
            json!({ "id": t.away }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
        (
            "readiness(employee)",
            readiness,
            json!({ "id": t.employee }),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "readiness(admin)",
            readiness,
            json!({ "id": t.admin }),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "readiness(away)",
            readiness,
            json!({ "id": t.away }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
        (
            "career(employee)",
            career,
            json!({ "id": t.employee }),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "career(admin)",
            career,
            json!({ "id": t.admin }),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "career(away)",
            career,
            json!({ "id": t.away }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
        (
            "team(own)",
            "{ team { totalCount } }",
            json!({}),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "team(manager)",
            team,
            json!({ "id": t.manager }),
            [Unauth, Forbidden, Ok, Ok],
        ),
        (
            "team(away)",
            team,
            json!({ "id": t.away }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
        (
            "calibration",
            "{ calibration { people } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "auditLog",
            "{ auditLog { totalCount } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "readinessRule",
            "{ readinessRule { minRating } }",
            json!({}),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "setReadinessRule",
            "mutation { setReadinessRule(input: { minRating: MEETS, minMonthsInLevel: 6, minScore: 1.0 }) { minRating } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "identityProvider",
            "{ identityProvider { issuer } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "scimTokens",
            "{ scimTokens { id name } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "createScimToken",
            "mutation { createScimToken(name: \"table\") { token record { id } } }",
            json!({}),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "promotionCases",
            "{ promotionCases { totalCount } }",
            json!({}),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "promotionCase(home)",
            case,
            json!({ "id": t.case }),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "promotionCase(away)",
            case,
            json!({ "id": t.away_case }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
        (
            "assess(employee)",
            assess,
            json!({ "id": t.employee }),
            [Unauth, Ok, Ok, Forbidden],
        ),
        (
            "assess(away)",
            assess,
            json!({ "id": t.away }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
        (
            "commentOnPromotion(home)",
            comment,
            json!({ "id": t.case }),
            [Unauth, Ok, Ok, Ok],
        ),
        (
            "commentOnPromotion(away)",
            comment,
            json!({ "id": t.away_case }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
        (
            "withdrawPromotion(away)",
            withdraw,
            json!({ "id": t.away_case }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
        (
            "approvePromotion(away)",
            approve,
            json!({ "id": t.away_case }),
            [Unauth, Forbidden, Forbidden, NotFound],
        ),
        (
            "rejectPromotion(away)",
            reject,
            json!({ "id": t.away_case }),
            [Unauth, Forbidden, Forbidden, NotFound],
        ),
        // Closes the home case, so that the manager may propose again.
        (
            "rejectPromotion(home)",
            reject,
            json!({ "id": t.case }),
            [Unauth, Forbidden, Forbidden, Ok],
        ),
        (
            "proposePromotion(employee)",
            propose,
            json!({ "id": t.employee }),
            [Unauth, Forbidden, Ok, Forbidden],
        ),
        (
            "proposePromotion(away)",
            propose,
            json!({ "id": t.away }),
            [Unauth, NotFound, NotFound, NotFound],
        ),
    ];
    for (what, query, vars, expected) in cells {
        for ((role, token), want) in tokens.iter().zip(expected) {
            let r = s.gql(token.as_deref(), query, vars.clone()).await;
            let got = match r.code() {
                None if r.status == 200 && !r.body["data"].is_null() => Ok,
                Some("UNAUTHENTICATED") => Unauth,
                Some("FORBIDDEN") => Forbidden,
                Some("NOT_FOUND") => NotFound,
                _ => panic!("{home} {role} {what}: unexpected {} {}", r.status, r.body),
            };
            assert_eq!(got, want, "{home} {role} {what}: {}", r.body);
            if want == NotFound {
                // Another organisation's record answers exactly like a missing one.
                let fake = "01930000-0000-7000-8000-000000000000";
                let missing = s.gql(token.as_deref(), query, json!({ "id": fake })).await;
                assert_eq!(missing.code(), r.code(), "{what}");
                let as_missing = missing.body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .replace(fake, vars["id"].as_str().unwrap());
                assert_eq!(
                    as_missing,
                    r.body["errors"][0]["message"].as_str().unwrap(),
                    "{what}"
                );
            }
        }
    }
    // What each role sees of the people list.
    let mut counts = Vec::new();
    for (_, token) in &tokens[1..] {
        let r = s
            .gql(
                token.as_deref(),
                "{ people(first: 100) { totalCount edges { node { email } } } }",
                json!({}),
            )
            .await;
        let emails: Vec<String> = r.ok()["people"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["email"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            emails
                .iter()
                .all(|e| e.ends_with(&format!("{home}.rungs.test"))
                    || e.ends_with(&format!("@{home}.test"))),
            "{emails:?}"
        );
        counts.push(emails.len());
    }
    assert_eq!(counts[0], 1, "{home} employee sees themselves");
    assert!(
        counts[1] > 1 && counts[1] < counts[2],
        "{home} manager sees a subtree: {counts:?}"
    );
}

#[tokio::test]
async fn each_role_sees_only_what_it_may_across_two_organisations() {
    on_every_backend(async |t| {
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        table(&s, "demo", "beta").await;
        table(&s, "beta", "demo").await;
    })
    .await;
}

// ---- tokens ------------------------------------------------------------------------------

fn sign(header: &Header, claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test]
async fn bad_tokens_get_401_before_any_resolver_runs() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let s = spawn(&t.db, ApiConfig::default()).await;
    seed_two_orgs(&s.app).await;
    let (good, _) = s.login(DEMO_EMPLOYEE).await;
    // The session of another sign-in, ended by signing out: a token naming it is refused.
    let (ended, ended_refresh) = s.login(DEMO_EMPLOYEE).await;
    let sid_of = |token: &str| -> Value {
        serde_json::from_slice::<Value>(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap()["sid"]
            .clone()
    };
    let revoked_sid = sid_of(&ended);
    assert_ne!(
        revoked_sid,
        sid_of(&good),
        "each sign-in is its own session"
    );
    s.gql(
        None,
        "mutation($t: String!) { logout(token: $t) }",
        json!({ "t": ended_refresh }),
    )
    .await
    .ok();
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(good.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    let with = |k: &str, v: Value| {
        let mut c = payload.clone();
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = payload.clone();
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let hs = Header::new(Algorithm::HS256);
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            sign(&hs, &with("exp", json!(now - 3600)), SECRET),
        ),
        (
            "wrong signature",
            sign(
                &hs,
                &payload,
                "another-secret-that-is-long-enough-0123456789",
            ),
        ),
        ("alg none", alg_none),
        (
            "another algorithm",
            sign(&Header::new(Algorithm::HS512), &payload, SECRET),
        ),
        (
            "wrong issuer",
            sign(&hs, &with("iss", json!("someone-else")), SECRET),
        ),
        (
            "wrong audience",
            sign(&hs, &with("aud", json!("another-api")), SECRET),
        ),
        (
            "sub of the wrong type",
            sign(&hs, &with("sub", json!(12345)), SECRET),
        ),
        (
            "exp of the wrong type",
            sign(&hs, &with("exp", json!("tomorrow")), SECRET),
        ),
        (
            "issued in the future",
            sign(&hs, &with("iat", json!(now + 3600)), SECRET),
        ),
        (
            "not valid yet",
            sign(&hs, &with("nbf", json!(now + 3600)), SECRET),
        ),
        ("org missing", sign(&hs, &without("org"), SECRET)),
        ("exp missing", sign(&hs, &without("exp"), SECRET)),
        ("iat missing", sign(&hs, &without("iat"), SECRET)),
        ("sid missing", sign(&hs, &without("sid"), SECRET)),
        (
            "sid of a revoked sign-in",
            sign(&hs, &with("sid", json!(revoked_sid)), SECRET),
        ),
        (
            "unknown person",
            sign(
                &hs,
                &with("sub", json!("01930000-0000-7000-8000-000000000000")),
                SECRET,
            ),
        ),
        ("garbage", "not.a.jwt".into()),
    ];
    for (what, token) in cases {
        let r = s.gql(Some(&token), "{ me { email } }", json!({})).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        assert_eq!(r.code(), Some("UNAUTHENTICATED"), "{what}");
        assert!(r.body.get("data").is_none(), "{what}: no resolver ran");
    }
    // A header that is not a bearer token.
    let res = s
        .http
        .post(format!("{}/graphql", s.base))
        .header("authorization", "Basic dXNlcjpwdw==")
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // The genuine token still works, and a re-signed copy of it too (the check is real).
    assert_eq!(
        s.gql(Some(&good), "{ me { email } }", json!({})).await.ok()["me"]["email"],
        DEMO_EMPLOYEE
    );
    let resigned = sign(&hs, &payload, SECRET);
    assert_eq!(
        s.gql(Some(&resigned), "{ me { email } }", json!({}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn refresh_rotates_reuse_revokes_the_family_and_logout_revokes() {
    on_every_backend(async |t| {
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let refresh = "mutation($t: String!) { refresh(token: $t) { accessToken refreshToken person { email } } }";
        let (_, r1) = s.login(DEMO_MANAGER).await;
        let r = s.gql(None, refresh, json!({ "t": r1 })).await;
        let r2 = r.ok()["refresh"]["refreshToken"].as_str().unwrap().to_owned();
        let a2 = r.ok()["refresh"]["accessToken"].as_str().unwrap().to_owned();
        assert_ne!(r1, r2);
        assert_eq!(s.gql(Some(&a2), "{ me { email } }", json!({})).await.ok()["me"]["email"], DEMO_MANAGER);
        // The old token stops working, and presenting it revokes the newer one too.
        let r = s.gql(None, refresh, json!({ "t": r1 })).await;
        assert_eq!(r.code(), Some("UNAUTHENTICATED"), "{}", r.body);
        assert!(r.body.to_string().contains("already used"));
        let r = s.gql(None, refresh, json!({ "t": r2 })).await;
        assert_eq!(r.code(), Some("UNAUTHENTICATED"), "the family is revoked");
        // So are the access tokens already issued to that sign-in, from the next request on.
        let me = "{ me { email } }";
        let r = s.gql(Some(&a2), me, json!({})).await;
        assert_eq!((r.status, r.code()), (401, Some("UNAUTHENTICATED")), "{}", r.body);
        assert!(r.body.to_string().contains("session has ended"), "{}", r.body);
        // Logout revokes the refresh token and the sign-in's access tokens; another sign-in of
        // the same person is unaffected.
        let (a_access, a) = s.login(DEMO_MANAGER).await;
        let (b_access, b) = s.login(DEMO_MANAGER).await;
        assert_eq!(s.gql(Some(&a_access), me, json!({})).await.ok()["me"]["email"], DEMO_MANAGER);
        assert_eq!(s.gql(None, "mutation($t: String!) { logout(token: $t) }", json!({ "t": a })).await.ok()["logout"], true);
        assert_eq!(s.gql(None, refresh, json!({ "t": a })).await.code(), Some("UNAUTHENTICATED"));
        assert_eq!(s.gql(Some(&a_access), me, json!({})).await.status, 401, "signed out");
        assert_eq!(s.gql(Some(&b_access), me, json!({})).await.ok()["me"]["email"], DEMO_MANAGER);
        assert!(s.gql(None, refresh, json!({ "t": b })).await.ok()["refresh"].is_object());
        // A password change signs the person out everywhere, access tokens included.
        let (c_access, _) = s.login(DEMO_MANAGER).await;
        s.app
            .set_password(
                &rungs_app::Actor::system(),
                "demo",
                DEMO_MANAGER,
                secrecy::SecretString::from("a brand new passphrase 42"),
            )
            .await
            .unwrap();
        assert_eq!(s.gql(Some(&c_access), me, json!({})).await.status, 401, "password changed");
    })
    .await;
}

/// Tokens issued for automation are kept: listed with their person, revoked by id (within the
/// organisation only), and refused from the next request on once revoked.
#[tokio::test]
async fn issued_tokens_are_listed_and_revoked() {
    on_every_backend(async |t| {
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let sys = rungs_app::Actor::system();
        let day = chrono::Duration::days(1);
        let (token, issued) = s
            .app
            .issue_token(&sys, "demo", DEMO_EMPLOYEE, day)
            .await
            .unwrap();
        let (other, _) = s
            .app
            .issue_token(&sys, "demo", DEMO_MANAGER, day)
            .await
            .unwrap();
        let me = "{ me { email } }";
        assert_eq!(
            s.gql(Some(&token), me, json!({})).await.ok()["me"]["email"],
            DEMO_EMPLOYEE
        );
        // At most `issued_token_max_days`.
        let err = s
            .app
            .issue_token(&sys, "demo", DEMO_EMPLOYEE, chrono::Duration::days(91))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{err}");
        let listed = s.app.issued_tokens(&sys, "demo", false).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].0.id, issued.id, "newest first");
        assert_eq!(listed[1].1.as_str(), DEMO_EMPLOYEE);
        assert!(
            s.app
                .issued_tokens(&sys, "beta", true)
                .await
                .unwrap()
                .is_empty()
        );
        // Another organisation cannot revoke it.
        let err = s
            .app
            .revoke_issued_token(&sys, "beta", issued.id)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "NOT_FOUND");
        assert_eq!(s.gql(Some(&token), me, json!({})).await.status, 200);
        s.app
            .revoke_issued_token(&sys, "demo", issued.id)
            .await
            .unwrap();
        let r = s.gql(Some(&token), me, json!({})).await;
        assert_eq!(
            (r.status, r.code()),
            (401, Some("UNAUTHENTICATED")),
            "{}",
            r.body
        );
        assert_eq!(
            s.gql(Some(&other), me, json!({})).await.ok()["me"]["email"],
            DEMO_MANAGER
        );
        let live = s.app.issued_tokens(&sys, "demo", false).await.unwrap();
        assert_eq!(live.len(), 1);
        let all = s.app.issued_tokens(&sys, "demo", true).await.unwrap();
        assert!(
            all.iter()
                .any(|(t, _)| t.id == issued.id && t.revoked_at.is_some())
        );
        let err = s
            .app
            .revoke_issued_token(&sys, "demo", issued.id)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "NOT_FOUND", "revoked already");
        for action in ["token.issue", "token.revoke"] {
            let log = s
                .app
                .audit_log(&sys, "demo", Some(action), Some(10), None)
                .await
                .unwrap();
            assert_eq!(
                log.items.len(),
                if action == "token.issue" { 2 } else { 1 },
                "{action}"
            );
        }
    })
    .await;
}

/// Sign-ins are limited per client address and per account, over real connections: a
/// client's own `X-Forwarded-For` changes nothing; behind a trusted proxy, each forwarded
/// client has its own allowance, and one email's allowance holds whatever the address.
#[tokio::test]
async fn sign_ins_are_limited_per_address_and_per_account() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let attempt = async |s: &Server, email: &str, forwarded: Option<&str>| {
        let mut req = s.http.post(format!("{}/graphql", s.base)).json(&json!({
            "query": "mutation($e: String!) { login(organisation: \"demo\", email: $e, password: \"not the password\") { accessToken } }",
            "variables": { "e": email },
        }));
        if let Some(f) = forwarded {
            req = req.header("x-forwarded-for", f);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let retry = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body: Value = res.json().await.unwrap();
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        (status, code, retry, body)
    };

    // Three per address: the fourth is refused, whatever it claims to be forwarded for.
    let mut cfg = auth_config();
    cfg.sign_ins_per_address = 3;
    cfg.sign_ins_per_account = 100;
    let s = spawn_with_addresses(&t.db, cfg).await;
    seed_two_orgs(&s.app).await;
    for i in 0..3 {
        let (status, code, ..) = attempt(&s, &format!("x{i}@demo.rungs.test"), None).await;
        assert_eq!(
            (status, code.as_str()),
            (200, "UNAUTHENTICATED"),
            "attempt {i}"
        );
    }
    let (status, code, retry, body) = attempt(&s, "x9@demo.rungs.test", Some("203.0.113.7")).await;
    assert_eq!((status, code.as_str()), (429, "RATE_LIMITED"), "{body}");
    assert!(body.to_string().contains("from this address"), "{body}");
    // `Retry-After` is the wait the message names (three a minute: a new one in about 20 s),
    // and the error carries it too.
    let wait = retry.expect("Retry-After");
    assert!((15..=20).contains(&wait), "{wait}");
    assert!(
        body.to_string()
            .contains(&format!("try again in {wait} seconds")),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["retryAfter"], wait,
        "{body}"
    );

    // Behind a trusted proxy: five per email from anywhere, each forwarded client its own three.
    let mut cfg = auth_config();
    cfg.sign_ins_per_address = 3;
    cfg.sign_ins_per_account = 5;
    cfg.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let s = spawn_with_addresses(&t.db, cfg).await;
    for i in 0..5 {
        let client = format!("198.51.100.{i}");
        let (status, code, ..) = attempt(&s, DEMO_EMPLOYEE, Some(&client)).await;
        assert_eq!(
            (status, code.as_str()),
            (200, "UNAUTHENTICATED"),
            "attempt {i}"
        );
    }
    let (status, code, _, body) = attempt(&s, DEMO_EMPLOYEE, Some("198.51.100.99")).await;
    assert_eq!((status, code.as_str()), (429, "RATE_LIMITED"), "{body}");
    assert!(body.to_string().contains("for this account"), "{body}");
    // A forwarded client counts as the proxy saw it: the address a client wrote to the left
    // of it is not believed (all three count against 192.0.2.1).
    for (i, chain) in ["10.9.9.1, 192.0.2.1", "10.9.9.2, 192.0.2.1", "192.0.2.1"]
        .into_iter()
        .enumerate()
    {
        let (status, ..) = attempt(&s, &format!("y{i}@demo.rungs.test"), Some(chain)).await;
        assert_eq!(status, 200, "{chain}");
    }
    let (status, _, _, body) = attempt(&s, "y9@demo.rungs.test", Some("10.9.9.3, 192.0.2.1")).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.to_string().contains("from this address"), "{body}");
}

/// A failed sign-in runs the same statements whether the email is unknown, known with a wrong
/// password, or of a locked account (then the same hashing work): what it costs says nothing
/// about which it was. On every backend.
#[tokio::test]
async fn failed_sign_ins_run_the_same_statements_whatever_the_email() {
    on_every_backend(async |t| {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let mut db = t.db.clone();
        let seen = log.clone();
        db.observe_statements(move |sql, _, _| seen.lock().unwrap().push(sql.to_owned()));
        let s = spawn(&db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let login = "mutation($o: String!, $e: String!) { login(organisation: $o, email: $e, password: \"not the password\") { accessToken } }";
        let statements_at = async |org: &str, email: &str| {
            log.lock().unwrap().clear();
            let r = s.gql(None, login, json!({ "o": org, "e": email })).await;
            assert_eq!(r.code(), Some("UNAUTHENTICATED"), "{}", r.body);
            std::mem::take(&mut *log.lock().unwrap())
        };
        let statements = async |email: &str| statements_at("demo", email).await;
        let unknown = statements("nobody@demo.rungs.test").await;
        // An email of another organisation, and an organisation that does not exist, cost
        // what an unknown email costs.
        assert_eq!(statements("hr@beta.test").await, unknown, "{:?}", t.backend);
        assert_eq!(
            statements_at("nowhere", DEMO_MANAGER).await,
            unknown,
            "{:?}",
            t.backend
        );
        let wrong = statements(DEMO_MANAGER).await;
        assert_eq!(unknown, wrong, "{:?}", t.backend);
        // Whether the organisation still takes passwords, the candidate, the attempt's claim.
        assert_eq!(unknown.len(), 3, "{:?}: {unknown:?}", t.backend);
        for _ in 0..5 {
            statements(DEMO_MANAGER).await;
        }
        let locked = statements(DEMO_MANAGER).await;
        assert_eq!(locked, unknown, "{:?}: a locked account", t.backend);
        // It was locked: the right password is refused too.
        let r = s
            .gql(None, LOGIN, json!({ "o": "demo", "e": DEMO_MANAGER, "p": rungs_app::demo::DEMO_PASSWORD }))
            .await;
        assert_eq!(r.code(), Some("UNAUTHENTICATED"), "{}", r.body);
    })
    .await;
}

#[tokio::test]
async fn login_failures_answer_alike_and_repeated_failures_lock_the_account() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let s = spawn(&t.db, ApiConfig::default()).await;
    seed_two_orgs(&s.app).await;
    let try_login = |e: &'static str, p: &'static str| {
        s.gql(None, LOGIN, json!({ "o": org_of(e), "e": e, "p": p }))
    };
    let unknown = try_login("nobody@demo.rungs.test", "whatever-password").await;
    let wrong = try_login(DEMO_EMPLOYEE, "wrong-password").await;
    assert_eq!(unknown.code(), Some("UNAUTHENTICATED"));
    assert_eq!(
        unknown.body["errors"][0]["message"],
        wrong.body["errors"][0]["message"]
    );
    // Four more failures lock the account: even the right password is refused for a while.
    for _ in 0..4 {
        assert_eq!(
            try_login(DEMO_EMPLOYEE, "wrong-password").await.code(),
            Some("UNAUTHENTICATED")
        );
    }
    let locked = try_login(DEMO_EMPLOYEE, rungs_app::demo::DEMO_PASSWORD).await;
    assert_eq!(locked.code(), Some("UNAUTHENTICATED"));
    assert_eq!(
        locked.body["errors"][0]["message"],
        wrong.body["errors"][0]["message"]
    );
    // Other accounts are not affected.
    assert!(
        try_login(DEMO_MANAGER, rungs_app::demo::DEMO_PASSWORD)
            .await
            .ok()["login"]
            .is_object()
    );
}

/// Sign-in is per organisation: another organisation adding a person with the same email,
/// and failing that person's sign-in until it locks, changes nothing for the first; and no
/// answer says whether an email exists elsewhere.
#[tokio::test]
async fn sign_in_is_per_organisation_and_another_cannot_break_it() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let s = spawn(&t.db, ApiConfig::default()).await;
    seed_two_orgs(&s.app).await;
    let sign_in = async |org: &str, email: &str, password: &str| {
        s.gql(
            None,
            "mutation($o: String!, $e: String!, $p: String!) { login(organisation: $o, email: $e, password: $p) { organisation { slug } person { displayName } } }",
            json!({ "o": org, "e": email, "p": password }),
        )
        .await
    };
    let good = rungs_app::demo::DEMO_PASSWORD;
    let message = |r: &Reply| {
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    // Before beta knows the email: signing in to beta with it is an unknown email.
    let unknown_before = sign_in("beta", DEMO_EMPLOYEE, good).await;
    assert_eq!(unknown_before.code(), Some("UNAUTHENTICATED"));
    let nobody = sign_in("beta", "nobody@nowhere.test", good).await;
    assert_eq!(message(&unknown_before), message(&nobody));
    // Beta's HR adds a person with the demo employee's email, and fails their sign-in until
    // it locks.
    let sys = rungs_app::Actor::system();
    s.app
        .import_people(
            &sys,
            "beta",
            &format!("email,name\n{DEMO_EMPLOYEE},Twin\n"),
            "twin.csv",
            None,
        )
        .await
        .unwrap();
    s.app
        .set_password(&sys, "beta", DEMO_EMPLOYEE, common_password())
        .await
        .unwrap();
    for _ in 0..6 {
        assert_eq!(
            sign_in("beta", DEMO_EMPLOYEE, "wrong-password")
                .await
                .code(),
            Some("UNAUTHENTICATED")
        );
    }
    // The demo employee signs in to demo as before, as themselves.
    let r = sign_in("demo", DEMO_EMPLOYEE, good).await;
    assert_eq!(
        r.ok()["login"]["organisation"]["slug"],
        "demo",
        "{}",
        r.body
    );
    assert_ne!(r.ok()["login"]["person"]["displayName"], "Twin");
    // Their password opens nothing in beta, with the answer an unknown email gets.
    let elsewhere = sign_in("beta", "employee@beta.test", good).await;
    assert!(elsewhere.ok()["login"].is_object(), "{}", elsewhere.body);
    let twin = sign_in("beta", DEMO_EMPLOYEE, good).await;
    assert_eq!(
        message(&twin),
        message(&nobody),
        "a locked twin answers as no one"
    );
    // A wrong or unknown organisation answers alike, and the organisation is required.
    let nowhere = sign_in("nowhere", DEMO_EMPLOYEE, good).await;
    assert_eq!(message(&nowhere), message(&nobody));
    let without = s
        .gql(
            None,
            "mutation { login(email: \"employee@demo.rungs.test\", password: \"rungs-demo-password\") { accessToken } }",
            json!({}),
        )
        .await;
    assert!(without.body["data"].is_null(), "{}", without.body);
    assert!(without.code().is_some(), "{}", without.body);
    assert!(
        message(&without).contains("organisation"),
        "{}",
        without.body
    );
}

// ---- limits ------------------------------------------------------------------------------

/// The server keeps parsed documents by their text: the same text sent again, with other
/// variables or by another caller, answers for its own variables and caller, and a text that
/// does not parse still says where.
#[tokio::test]
async fn a_query_text_sent_again_answers_for_its_own_variables() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let s = spawn(&t.db, ApiConfig::default()).await;
    seed_two_orgs(&s.app).await;
    let (hr, _) = s.login(DEMO_ADMIN).await;
    let (employee, _) = s.login(DEMO_EMPLOYEE).await;
    let q = "query($withName: Boolean!, $first: Int) { me { email displayName @include(if: $withName) } \
             people(first: $first) { edges { node { email } } } }";
    for _ in 0..2 {
        let r = s
            .gql(Some(&hr), q, json!({ "withName": true, "first": 2 }))
            .await;
        let me = &r.ok()["me"];
        assert_eq!(me["email"], DEMO_ADMIN);
        assert!(me["displayName"].is_string(), "{}", r.body);
        assert_eq!(r.ok()["people"]["edges"].as_array().unwrap().len(), 2);

        let r = s
            .gql(Some(&hr), q, json!({ "withName": false, "first": 1 }))
            .await;
        assert!(r.ok()["me"].get("displayName").is_none(), "{}", r.body);
        assert_eq!(r.ok()["people"]["edges"].as_array().unwrap().len(), 1);

        let r = s
            .gql(Some(&employee), q, json!({ "withName": true, "first": 5 }))
            .await;
        assert_eq!(r.ok()["me"]["email"], DEMO_EMPLOYEE);
        let people = r.ok()["people"]["edges"].as_array().unwrap().clone();
        assert_eq!(
            people.len(),
            1,
            "an employee sees only themselves: {}",
            r.body
        );
        assert_eq!(people[0]["node"]["email"], DEMO_EMPLOYEE);
    }
    for _ in 0..2 {
        let r = s.gql(Some(&hr), "{ me { email } ", json!({})).await;
        assert!(r.body.to_string().contains("line"), "{}", r.body);
        assert!(r.body["data"].is_null(), "{}", r.body);
    }
}

#[tokio::test]
async fn safety_limits_reject() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let s = spawn(&t.db, ApiConfig::default()).await;
    seed_two_orgs(&s.app).await;
    let (hr, _) = s.login(DEMO_ADMIN).await;

    // Complexity: three full pages of people with their levels.
    let big = "{ a: people(first: 100) { edges { node { email displayName managerEmail current { track level reason effective } } } } b: people(first: 100) { edges { node { email displayName managerEmail current { track level reason effective } } } } c: people(first: 100) { edges { node { email displayName managerEmail current { track level reason effective } } } } }";
    let r = s.gql(Some(&hr), big, json!({})).await;
    assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
    assert!(r.body.to_string().contains("complex"), "{}", r.body);
    // Page size.
    let r = s
        .gql(
            Some(&hr),
            "{ people(first: 1000) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
    // Batches: ten operations pass, eleven are refused.
    let one = json!({ "query": "{ me { email } }" });
    let r = s.post(Some(&hr), Value::Array(vec![one.clone(); 10])).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_array().unwrap().len(), 10);
    let r = s.post(Some(&hr), Value::Array(vec![one.clone(); 11])).await;
    assert_eq!(
        (r.status, r.code()),
        (400, Some("INVALID_INPUT")),
        "{}",
        r.body
    );
    // Introspection is off, and so are suggestions.
    let r = s
        .gql(Some(&hr), "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(r.body["data"]["__schema"].is_null(), "{}", r.body);
    let r = s.gql(Some(&hr), "{ mee { email } }", json!({})).await;
    assert_eq!(r.code(), Some("INVALID_INPUT"));
    assert!(!r.body.to_string().contains("Did you mean"), "{}", r.body);
    let res = s
        .http
        .get(format!("{}/graphql", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "GraphiQL is off");
    let res = s
        .http
        .get(format!(
            "{}/graphiql/react-17.0.2.production.min.js",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "and so are its files");

    // Depth, body size and time, with tighter settings.
    let tight = spawn(
        &t.db,
        ApiConfig {
            max_depth: 4,
            body_limit: 2048,
            ..ApiConfig::default()
        },
    )
    .await;
    let r = tight
        .gql(Some(&hr), "{ matrix(key: \"python\") { tracks { cells { expectations { resources { title } } } } } }", json!({}))
        .await;
    assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
    assert!(r.body.to_string().contains("deep"), "{}", r.body);
    let r = tight
        .gql(
            Some(&hr),
            "mutation($c: String!) { importMatrix(format: YAML, content: $c) { version { number } } }",
            json!({ "c": "x".repeat(4096) }),
        )
        .await;
    assert_eq!(r.status, 413);
    let slow = spawn(
        &t.db,
        ApiConfig {
            request_timeout: Duration::from_millis(1),
            ..ApiConfig::default()
        },
    )
    .await;
    // Checking a password (Argon2id, 19 MiB) takes far longer than a millisecond.
    let r = slow
        .gql(None, "mutation { login(organisation: \"demo\", email: \"hr@demo.rungs.test\", password: \"rungs-demo-password\") { accessToken } }", json!({}))
        .await;
    assert_eq!(r.status, 408);

    // With introspection on (as in --demo): GraphiQL, the schema, suggestions.
    let open = spawn(
        &t.db,
        ApiConfig {
            introspection: true,
            ..ApiConfig::default()
        },
    )
    .await;
    let res = open
        .http
        .get(format!("{}/graphql", open.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.to_lowercase().contains("graphiql"));
    // Nothing comes from the internet: every script and style sheet is served from the binary.
    let sources: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.ends_with(".js") || s.ends_with(".css"))
        .collect();
    assert_eq!(sources.len(), 6, "{page}");
    assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("//unpkg"));
    assert!(!page.contains("<script>"), "no inline script");
    for src in sources {
        let r = open
            .http
            .get(format!("{}{src}", open.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{src}");
        assert!(r.bytes().await.unwrap().len() > 50, "{src}");
    }
    // GraphiQL's schema query nests deeper than ordinary queries may (max_depth 12): it runs.
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(8),
        "} ".repeat(8)
    );
    let deep = deep.as_str();
    let r = open.gql(None, deep, json!({})).await;
    assert!(r.ok()["__schema"]["types"].is_array());
    // An ordinary query as deep is still refused, with or without introspection beside it.
    let r = open
        .gql(
            Some(&hr),
            "{ __typename me { manager { manager { manager { manager { manager { manager { manager { manager { manager { manager { manager { manager { id } } } } } } } } } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
    let r = open
        .gql(Some(&hr), "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(r.ok()["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn internal_errors_reach_the_client_without_driver_text_and_probes_answer() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let s = spawn(&t.db, ApiConfig::default()).await;
    seed_two_orgs(&s.app).await;
    let (_, refresh) = s.login(DEMO_ADMIN).await;
    for probe in ["healthz", "readyz"] {
        let res = s
            .http
            .get(format!("{}/{probe}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{probe}");
        assert!(res.headers().contains_key("x-request-id"));
    }
    // A client's own request id is not taken for ours, nor echoed.
    let res = s
        .http
        .post(format!("{}/graphql", s.base))
        .header("x-request-id", "<b>not-ours</b>")
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    let ours = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(ours.len(), 36, "{ours}");
    let body = res.text().await.unwrap();
    assert!(!body.contains("not-ours"), "{body}");
    assert!(body.contains(&ours), "{body}");
    t.execute("DROP TABLE refresh_tokens").await;
    let r = s
        .gql(
            None,
            "mutation($t: String!) { refresh(token: $t) { accessToken } }",
            json!({ "t": refresh }),
        )
        .await;
    assert_eq!(r.code(), Some("INTERNAL"), "{}", r.body);
    let text = r.body.to_string();
    assert!(
        !text.to_lowercase().contains("refresh_tokens") && !text.contains("SQL"),
        "{text}"
    );
    let id = r.body["errors"][0]["extensions"]["requestId"]
        .as_str()
        .unwrap();
    assert!(text.contains(id) && id.len() == 36, "{text}");
    t.db.clone().close().await.unwrap();
    let res = s
        .http
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let res = s
        .http
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "alive, though not ready");
}

// ---- the SDL -----------------------------------------------------------------------------

#[test]
fn committed_sdl_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/schema.graphql");
    let sdl = rungs_api::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &sdl).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == sdl,
        "schema/schema.graphql is out of date with the code.\nRegenerate it with `UPDATE_SCHEMA=1 cargo test -p rungs-api --test api committed_sdl` (or `just schema`), and review the diff."
    );
}

#[tokio::test]
async fn metrics_count_requests_by_operation_and_outcome() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let s = spawn(&t.db, ApiConfig::default()).await;
    seed_two_orgs(&s.app).await;
    let (emp, _) = s.login(DEMO_EMPLOYEE).await;
    s.gql(Some(&emp), "{ me { email } }", json!({})).await.ok();
    s.gql(
        Some(&emp),
        "query Named { me { email } organisation { slug } }",
        json!({}),
    )
    .await
    .ok();
    let r = s
        .gql(Some(&emp), "{ calibration { people } }", json!({}))
        .await;
    assert_eq!(r.code(), Some("FORBIDDEN"));
    let r = s.gql(Some(&emp), "{ noSuchField }", json!({})).await;
    assert_eq!(r.code(), Some("INVALID_INPUT"));
    assert_eq!(
        s.gql(Some("garbage"), "{ me { email } }", json!({}))
            .await
            .status,
        401
    );

    let res = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    for line in [
        r#"rungs_graphql_operations_total{operation="login",outcome="ok"} 1"#,
        r#"rungs_graphql_operations_total{operation="me",outcome="ok"} 1"#,
        r#"rungs_graphql_operations_total{operation="me+organisation",outcome="ok"} 1"#,
        r#"rungs_graphql_operations_total{operation="calibration",outcome="FORBIDDEN"} 1"#,
        r#"rungs_graphql_operations_total{operation="invalid",outcome="INVALID_INPUT"} 1"#,
        r#"rungs_graphql_operation_duration_seconds_count{operation="me"} 1"#,
        r#"rungs_http_requests_total{route="/graphql",status="200"} 5"#,
        r#"rungs_http_requests_total{route="/graphql",status="401"} 1"#,
        "rungs_db_pool_max_connections 4",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with(r#"rungs_db_pool_connections{state="idle"} "#)),
        "{text}"
    );
    // A client cannot invent labels: unknown fields and operation names stay `invalid`.
    assert!(
        !text.contains("noSuchField") && !text.contains("Named"),
        "{text}"
    );

    // With a metrics token, only a scraper that presents it reads them.
    let guarded = spawn(
        &t.db,
        ApiConfig {
            metrics_token: Some("scraper-secret-0123456789".to_owned().into()),
            ..ApiConfig::default()
        },
    )
    .await;
    let scrape = |token: Option<&'static str>| {
        let mut req = guarded.http.get(format!("{}/metrics", guarded.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    for wrong in [None, Some("scraper-secret-012345678"), Some("")] {
        let res = scrape(wrong).await.unwrap();
        assert_eq!(res.status(), 401, "{wrong:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
    let res = scrape(Some("scraper-secret-0123456789")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("rungs_http_requests_total")
    );
    t.drop_database().await;
}

// ---- matrix versions over HTTP -----------------------------------------------------------

/// HR edits the draft field by field over HTTP: a stale revision is a CONFLICT that loses
/// nothing, a broken edit is INVALID_INPUT with the reason; a spreadsheet round trip through
/// the API changes nothing; a changed spreadsheet updates the draft and returns the diff.
#[tokio::test]
async fn the_draft_is_edited_field_by_field_over_http() {
    on_every_backend(async |t| {
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let (hr, _) = s.login(DEMO_ADMIN).await;
        let q = async |query: &str, vars: Value| s.gql(Some(&hr), query, vars).await;
        let r = q(
            "mutation { startMatrixDraft(key: \"python\") { version { label revision } } }",
            json!({}),
        )
        .await;
        assert_eq!(r.ok()["startMatrixDraft"]["version"]["label"], "draft");
        let edit = "mutation($r: Int!, $e: [MatrixEditInput!]!) { editMatrixDraft(key: \"python\", revision: $r, edits: $e) { version { revision } tracks { key cells { level titles expectations { key name } } } } }";
        let rename = json!([{ "updateExpectation": { "key": "basic-syntax", "newKey": "python-syntax", "name": "Python syntax" } },
                            { "setTitles": { "track": "python-developer", "level": "beginner", "titles": ["Apprentice"] } },
                            { "moveTrack": { "key": "web-developer", "position": 0 } }]);
        let r = q(edit, json!({ "r": 0, "e": rename })).await;
        let m = &r.ok()["editMatrixDraft"];
        assert_eq!(m["version"]["revision"], 1);
        assert_eq!(m["tracks"][0]["key"], "web-developer");
        let py = m["tracks"].as_array().unwrap().iter().find(|t| t["key"] == "python-developer").unwrap();
        assert_eq!(py["cells"][0]["titles"], json!(["Apprentice"]));
        assert_eq!(py["cells"][0]["expectations"][0]["key"], "python-syntax");
        // Someone still holding revision 0 loses, and their edit is not applied.
        let other = json!([{ "removeTrack": { "key": "data-analyst" } }]);
        let r = q(edit, json!({ "r": 0, "e": other })).await;
        assert_eq!(r.code(), Some("CONFLICT"), "{}", r.body);
        assert!(r.body.to_string().contains("revision 1, not 0"), "{}", r.body);
        // Exactly one field per edit, and edits that break the matrix are refused whole.
        let r = q(edit, json!({ "r": 1, "e": [{ "removeTrack": { "key": "data-analyst" }, "removeLevel": { "key": "leader" } }] })).await;
        assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
        let r = q(edit, json!({ "r": 1, "e": [{ "removeLevel": { "key": "nope" } }] })).await;
        assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
        assert!(r.body.to_string().contains("edit 1: the draft has no level `nope`"), "{}", r.body);
        let r = q("{ matrix(key: \"python\", version: \"draft\") { version { revision } tracks { key } } }", json!({})).await;
        assert_eq!(r.ok()["matrix"]["version"]["revision"], 1, "nothing was applied");
        assert_eq!(r.ok()["matrix"]["tracks"].as_array().unwrap().len(), 6);
        // The diff as data.
        let r = q("{ matrixDiff(key: \"python\", from: \"latest\") { summary changes { entity kind key field before after } } }", json!({})).await;
        let d = &r.ok()["matrixDiff"];
        assert_eq!(d["summary"], "1 added, 1 removed, 2 changed", "{d}");
        assert!(d["changes"].as_array().unwrap().iter().any(|c| c["entity"] == "CELL" && c["field"] == "titles" && c["after"] == "Apprentice"), "{d}");

        // The spreadsheet of the draft imports back unchanged; a changed one updates the draft.
        let r = q("mutation { exportMatrix(key: \"python\", format: CSV, version: \"draft\") }", json!({})).await;
        let csv = r.ok()["exportMatrix"].as_str().unwrap().to_owned();
        let import = "mutation($c: String!) { importMatrix(format: CSV, content: $c) { outcome version { label revision } changes { summary } } }";
        let r = q(import, json!({ "c": csv })).await;
        assert_eq!(r.ok()["importMatrix"]["outcome"], "UNCHANGED", "{}", r.body);
        let changed = csv.replace("Python syntax", "Python syntax and idioms");
        let r = q(import, json!({ "c": changed })).await;
        assert_eq!(r.ok()["importMatrix"]["outcome"], "DRAFT_UPDATED", "{}", r.body);
        assert_eq!(r.ok()["importMatrix"]["version"]["revision"], 2);
        assert_eq!(r.ok()["importMatrix"]["changes"]["summary"], "1 added, 1 removed, 2 changed");
        // A broken spreadsheet: every problem with its row and column, nothing written.
        let broken = "matrix,track,level,expectation_key,name\npython,python-developer,beginner,,Orphan\npython,python-developer,,x,X\n";
        let r = q(import, json!({ "c": broken })).await;
        assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
        let problems = r.body["errors"][0]["extensions"]["problems"].as_array().unwrap().clone();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!((problems[0]["line"].as_u64(), problems[0]["column"].as_u64()), (Some(2), Some(5)));
        assert_eq!((problems[1]["line"].as_u64(), problems[1]["column"].as_u64()), (Some(3), Some(3)));
        // Publishing, then the published version is what everyone reads.
        let r = q("mutation { publishMatrix(key: \"python\", note: \"syntax renamed\", revision: 2) { number label } }", json!({})).await;
        assert_eq!(r.ok()["publishMatrix"]["label"], "v2");
        let (emp, _) = s.login(DEMO_EMPLOYEE).await;
        let r = s.gql(Some(&emp), "{ matrix(key: \"python\") { version { number } } matrixVersions(key: \"python\") { version { label } publishedBy } }", json!({})).await;
        assert_eq!(r.ok()["matrix"]["version"]["number"], 2);
        let versions = r.ok()["matrixVersions"].as_array().unwrap().clone();
        assert_eq!(versions.len(), 2);
        assert!(versions[1]["publishedBy"].as_str().unwrap().contains(DEMO_ADMIN));
    })
    .await;
}

#[tokio::test]
async fn a_framework_is_built_in_the_draft_and_read_over_http() {
    on_every_backend(async |t| {
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let (hr, _) = s.login(DEMO_ADMIN).await;
        let q = async |query: &str, vars: Value| s.gql(Some(&hr), query, vars).await;
        q("mutation { startMatrixDraft(key: \"python\") { version { revision } } }", json!({})).await.ok();
        let edit = "mutation($r: Int!, $e: [MatrixEditInput!]!) { editMatrixDraft(key: \"python\", revision: $r, edits: $e) { version { revision } } }";
        let long = "Leads the design of a system that several teams build:\n\n1. writes the proposal\n2. ".to_owned() + &"gathers feedback, ".repeat(100) + "and decides.";
        assert!(long.chars().count() > 1_500 && long.chars().count() <= 2_000);
        let edits = json!([
            { "setLevelStyle": "restated" },
            { "addTheme": { "key": "craft", "name": "Craft" } },
            { "updateCompetency": { "key": "technical", "theme": "craft" } },
            { "addTrack": { "key": "eng-manager", "name": "Engineering manager" } },
            { "setLadder": { "track": "eng-manager", "levels": ["expert", "leader"], "branchesFrom": { "track": "python-developer", "level": "advanced" } } },
            { "setTitles": { "track": "eng-manager", "level": "expert", "titles": ["Engineering manager"] } },
            { "setSummary": { "track": "eng-manager", "level": "expert", "summary": "Runs a team of teams." } },
            { "linkExpectation": { "key": "design-patterns", "track": "eng-manager", "level": "expert" } },
            { "addExpectation": { "track": "eng-manager", "level": "leader", "key": "org-design", "name": long, "title": "Designs the organisation", "competency": "leadership", "examples": ["Split a team of twelve in two"] } },
            { "updateExpectation": { "key": "design-patterns", "title": "Design patterns", "examples": ["Chose a strategy pattern for pricing"] } },
        ]);
        let r = q(edit, json!({ "r": 0, "e": edits })).await;
        assert_eq!(r.ok()["editMatrixDraft"]["version"]["revision"], 1, "{}", r.body);

        let read = "{ matrix(key: \"python\", version: \"draft\") { levelStyle themes { key name } competencies { key theme } tracks { key ladder branchesFrom { track level } cells { level titles summary expectations { key label title name examples competency } } } } }";
        let r = q(read, json!({})).await;
        let m = &r.ok()["matrix"];
        assert_eq!(m["levelStyle"], "restated");
        assert_eq!(m["themes"], json!([{ "key": "craft", "name": "Craft" }]));
        assert_eq!(m["competencies"][0], json!({ "key": "technical", "theme": "craft" }));
        let mgr = m["tracks"].as_array().unwrap().iter().find(|t| t["key"] == "eng-manager").unwrap();
        assert_eq!(mgr["ladder"], json!(["beginner", "intermediate", "advanced", "expert", "leader"]));
        assert_eq!(mgr["branchesFrom"], json!({ "track": "python-developer", "level": "advanced" }));
        assert_eq!(mgr["cells"][0]["summary"], "Runs a team of teams.");
        let shared = &mgr["cells"][0]["expectations"][0];
        assert_eq!((shared["key"].as_str(), shared["label"].as_str()), (Some("design-patterns"), Some("Design patterns")));
        assert_eq!(shared["examples"], json!(["Chose a strategy pattern for pricing"]));
        let org = &mgr["cells"][1]["expectations"][0];
        assert_eq!(org["name"].as_str(), Some(long.as_str()));
        assert_eq!(org["label"], "Designs the organisation");
        // The criterion is the same one in both tracks: one definition, read in each.
        let py = m["tracks"].as_array().unwrap().iter().find(|t| t["key"] == "python-developer").unwrap();
        let dp = py["cells"][3]["expectations"].as_array().unwrap().iter().find(|e| e["key"] == "design-patterns").unwrap();
        assert_eq!(dp["examples"], shared["examples"]);

        // A shared criterion moves only from a named cell; unlinking leaves the other.
        let r = q(edit, json!({ "r": 1, "e": [{ "moveExpectation": { "key": "design-patterns", "track": "eng-manager", "level": "leader" } }] })).await;
        assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
        assert!(r.body.to_string().contains("python-developer/expert, eng-manager/expert"), "{}", r.body);
        let r = q(edit, json!({ "r": 1, "e": [{ "unlinkExpectation": { "key": "design-patterns", "track": "eng-manager", "level": "leader" } }] })).await;
        assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
        assert!(r.body.to_string().contains("does not expect `design-patterns`"), "{}", r.body);
        // A ladder that names a level twice is refused with the field.
        let r = q(edit, json!({ "r": 1, "e": [{ "setLadder": { "track": "eng-manager", "levels": ["expert", "expert"], "branchesFrom": { "track": "python-developer", "level": "advanced" } } }] })).await;
        assert_eq!(r.code(), Some("INVALID_INPUT"), "{}", r.body);
        assert!(r.body.to_string().contains("listed twice"), "{}", r.body);

        // The diff names criteria by what they say.
        let r = q("{ matrixDiff(key: \"python\", from: \"latest\") { changes { entity kind key label field before after } } }", json!({})).await;
        let changes = r.ok()["matrixDiff"]["changes"].as_array().unwrap().clone();
        let has = |f: &dyn Fn(&Value) -> bool| changes.iter().any(f);
        assert!(has(&|c| c["entity"] == "THEME" && c["kind"] == "ADDED" && c["key"] == "craft"), "{changes:?}");
        assert!(has(&|c| c["entity"] == "MATRIX" && c["field"] == "level style" && c["after"] == "restated"), "{changes:?}");
        assert!(has(&|c| c["entity"] == "EXPECTATION" && c["field"] == "cells" && c["label"] == "Design patterns"
            && c["after"] == "python-developer/expert, eng-manager/expert"), "{changes:?}");
        assert!(has(&|c| c["entity"] == "EXPECTATION" && c["kind"] == "ADDED" && c["label"] == "Designs the organisation"), "{changes:?}");
        assert!(changes.iter().filter(|c| c["entity"] != "EXPECTATION").all(|c| c["label"].is_null()), "{changes:?}");
    })
    .await;
}

/// Text with the NUL character is refused at the boundary, as INVALID_INPUT on every backend
/// (PostgreSQL cannot store it; the others could), and nothing is written.
#[tokio::test]
async fn nul_characters_are_refused_before_anything_runs() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let (hr, _) = s.login(DEMO_ADMIN).await;
        let count = "{ people(first: 1, filter: { includeInactive: true }) { totalCount } }";
        let before = s.gql(Some(&hr), count, json!({})).await.ok()["people"]["totalCount"].clone();
        let employee = s.id_of(&hr, DEMO_EMPLOYEE).await;
        let add = "mutation($i: AddPersonInput!) { addPerson(input: $i) { id } }";
        let cases: Vec<(&str, String, Value)> = vec![
            ("a variable", add.into(), json!({ "i": { "email": "nul@demo.test", "displayName": "Nu\u{0}l" } })),
            ("a variable in a list", "mutation($l: [String!]!) { assess(input: { personId: \"x\", expectationKey: \"k\", rating: MEETS, links: $l }) { id } }".into(), json!({ "l": ["https://a.test/\u{0}"] })),
            ("an escape in the query", format!("mutation {{ updatePerson(id: \"{employee}\", input: {{ displayName: \"E\\u0000\" }}) {{ id }} }}"), json!({})),
            ("a braced escape in the query", "{ people(filter: { search: \"a\\u{0}\" }) { totalCount } }".into(), json!({})),
            ("sign-in", "mutation($e: String!) { login(organisation: \"demo\", email: $e, password: \"x\") { accessToken } }".into(), json!({ "e": "hr@demo.test\u{0}" })),
        ];
        for (what, query, vars) in cases {
            let token = if what == "sign-in" { None } else { Some(hr.as_str()) };
            let r = s.gql(token, &query, vars).await;
            assert_eq!(r.status, 400, "{b}: {what}: {}", r.body);
            assert_eq!(r.code(), Some("INVALID_INPUT"), "{b}: {what}: {}", r.body);
            assert!(r.body.to_string().contains("NUL"), "{b}: {what}");
        }
        let after = s.gql(Some(&hr), count, json!({})).await.ok()["people"]["totalCount"].clone();
        assert_eq!(after, before, "{b}: nothing was added");
        // An escaped backslash before `u0000` is text, not NUL.
        let r = s
            .gql(Some(&hr), r#"{ people(filter: { search: "\\u0000" }) { totalCount } }"#, json!({}))
            .await;
        assert_eq!(r.ok()["people"]["totalCount"], 0, "{b}");
    })
    .await;
}

/// Wrong passwords sent at the same moment each count: twenty at once lock the account after
/// the fifth, as twenty one after the other would, and the right password is then refused.
#[tokio::test]
async fn parallel_guesses_each_count_and_lock_the_account() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let body = json!({
            "query": LOGIN,
            "variables": { "o": "demo", "e": DEMO_EMPLOYEE, "p": "a-wrong-password" },
        });
        let mut guesses = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (http, url, body) = (s.http.clone(), format!("{}/graphql", s.base), body.clone());
            guesses.spawn(async move {
                let r = http.post(url).json(&body).send().await.unwrap();
                r.json::<Value>().await.unwrap()
            });
        }
        while let Some(r) = guesses.join_next().await {
            let r = r.unwrap();
            assert_eq!(
                r["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                "{b}: {r}"
            );
        }
        let sys = rungs_app::Actor::system();
        let org = s.app.organisation(&sys, "demo").await.unwrap();
        let me = s
            .app
            .db()
            .person_by_email(
                org.id,
                &rungs_domain::person::Email::parse(DEMO_EMPLOYEE).unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        let cred = s.app.db().credential(org.id, me.id).await.unwrap().unwrap();
        assert_eq!(
            cred.failed_attempts, 5,
            "{b}: every guess up to the lock counted"
        );
        assert!(
            cred.locked_until.is_some_and(|u| u > chrono::Utc::now()),
            "{b}"
        );
        let right = s
            .gql(
                None,
                LOGIN,
                json!({ "o": "demo", "e": DEMO_EMPLOYEE, "p": rungs_app::demo::DEMO_PASSWORD }),
            )
            .await;
        assert_eq!(right.code(), Some("UNAUTHENTICATED"), "{b}: locked");
    })
    .await;
}

/// Requests that are not GraphQL, too large or on no route get a JSON error with a stable code
/// (and the request id), never the framework's text.
#[tokio::test]
async fn malformed_requests_get_json_errors_with_a_code() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let cfg = ApiConfig {
        body_limit: 4096,
        ..ApiConfig::default()
    };
    let s = spawn(&t.db, cfg).await;
    let url = format!("{}/graphql", s.base);
    let post = |body: Vec<u8>, content_type: &'static str| {
        s.http
            .post(url.clone())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: Vec<(&str, reqwest::Response, u16, &str)> = vec![
        (
            "invalid JSON",
            post(b"{ not json".to_vec(), "application/json")
                .await
                .unwrap(),
            400,
            "INVALID_INPUT",
        ),
        (
            "a key that is not a string",
            post(br#"{1: "x"}"#.to_vec(), "application/json")
                .await
                .unwrap(),
            400,
            "INVALID_INPUT",
        ),
        (
            "no query",
            post(br#"{"variables": {}}"#.to_vec(), "application/json")
                .await
                .unwrap(),
            200,
            "INVALID_INPUT",
        ),
        (
            "bad UTF-8",
            post(vec![b'{', 0xff, 0xfe, b'}'], "application/json")
                .await
                .unwrap(),
            400,
            "INVALID_INPUT",
        ),
        (
            "too large",
            post(
                format!(
                    r#"{{"query": "{{ apiVersion }}", "x": "{}"}}"#,
                    "a".repeat(10_000)
                )
                .into_bytes(),
                "application/json",
            )
            .await
            .unwrap(),
            413,
            "TOO_LARGE",
        ),
        (
            "no such path",
            s.http
                .get(format!("{}/nowhere", s.base))
                .send()
                .await
                .unwrap(),
            404,
            "NOT_FOUND",
        ),
    ];
    for (what, res, status, code) in cases {
        assert_eq!(res.status().as_u16(), status, "{what}");
        let ct = res
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(ct.contains("json"), "{what}: {ct}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], code,
            "{what}: {body}"
        );
        let text = body.to_string();
        assert!(
            !text.contains("Error(") && !text.contains("InvalidRequest"),
            "{what}: {text}"
        );
    }
    // A well-formed request still works.
    let r = s.gql(None, "{ apiVersion }", json!({})).await;
    assert!(r.ok()["apiVersion"].is_string());
}

/// A short document that spreads fragments into millions of fields is refused before GraphQL
/// validates it, anonymous or not; so is an overlong query. (The time is printed, not
/// asserted: speed goes into benchmarks.)
#[tokio::test]
async fn fragment_bombs_and_overlong_queries_are_refused_before_validation() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let s = spawn(&t.db, ApiConfig::default()).await;
    let mut bomb = String::from("query { ...F26 }\nfragment F0 on Query { apiVersion }\n");
    for i in 1..=26 {
        bomb.push_str(&format!(
            "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
            i - 1,
            i - 1
        ));
    }
    assert!(bomb.len() < 2048, "a short document");
    let started = std::time::Instant::now();
    let r = s.gql(None, &bomb, json!({})).await;
    println!("a 2^26-field document refused in {:?}", started.elapsed());
    assert_eq!(
        (r.status, r.code()),
        (400, Some("INVALID_INPUT")),
        "{}",
        r.body
    );
    assert!(r.body.to_string().contains("fields"), "{}", r.body);
    let long = format!("{{ {} }}", "apiVersion ".repeat(8_000));
    let r = s.gql(None, &long, json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (400, Some("INVALID_INPUT")),
        "{}",
        r.body
    );
    // Ordinary fragments pass.
    let r = s
        .gql(
            None,
            "query { ...A } fragment A on Query { apiVersion }",
            json!({}),
        )
        .await;
    assert!(r.ok()["apiVersion"].is_string());

    // A thousand aliases of `me`, signed in: refused for their number of root fields before
    // any resolver or statement runs; twenty pass.
    seed_two_orgs(&s.app).await;
    let (employee, _) = s.login(DEMO_EMPLOYEE).await;
    let aliases = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}: me {{ id }}")).collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let r = s.gql(Some(&employee), &aliases(1000), json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (400, Some("INVALID_INPUT")),
        "{}",
        r.body
    );
    assert!(r.body.to_string().contains("root fields"), "{}", r.body);
    let r = s.gql(Some(&employee), &aliases(20), json!({})).await;
    assert_eq!(r.ok()["a19"]["id"], r.ok()["a0"]["id"]);
    // Without a token: one operation, one root field.
    let login = json!({ "query": "mutation { login(organisation: \"demo\", email: \"x@y.test\", password: \"wrong password\") { accessToken } }" });
    let r = s
        .post(None, Value::Array(vec![login.clone(), login.clone()]))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.to_string().contains("without a token"), "{}", r.body);
    let r = s
        .gql(None, "{ a: apiVersion b: apiVersion }", json!({}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, Some("INVALID_INPUT")),
        "{}",
        r.body
    );
}

/// Writes at the same moment wait for each other instead of failing: sixteen assessments at
/// once, and twenty refreshes of one token, give no INTERNAL error on any backend (SQLite, the
/// default, included).
#[tokio::test]
async fn concurrent_writes_wait_instead_of_failing() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let (manager, _) = s.login(DEMO_MANAGER).await;
        let (hr, _) = s.login(DEMO_ADMIN).await;
        let employee = s.id_of(&hr, DEMO_EMPLOYEE).await;
        let plan = s
            .gql(Some(&manager), "query($id: ID) { growthPlan(personId: $id) { items { expectation { key } } } }", json!({ "id": employee }))
            .await;
        let keys: Vec<String> = plan.ok()["growthPlan"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["expectation"]["key"].as_str().unwrap().to_owned())
            .collect();
        let before = s
            .gql(Some(&manager), "query($id: ID) { assessments(personId: $id) { totalCount } }", json!({ "id": employee }))
            .await
            .ok()["assessments"]["totalCount"]
            .as_u64()
            .unwrap();
        let send = |token: String, body: Value| {
            let (http, url) = (s.http.clone(), format!("{}/graphql", s.base));
            async move {
                let r = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
                r.json::<Value>().await.unwrap()
            }
        };
        let mut writes = tokio::task::JoinSet::new();
        for i in 0..16 {
            let body = json!({
                "query": "mutation($i: AssessInput!) { assess(input: $i) { id } }",
                "variables": { "i": { "personId": employee, "expectationKey": keys[i % keys.len()], "rating": "MEETS", "evidence": format!("at once {i}") } },
            });
            writes.spawn(send(manager.clone(), body));
        }
        let mut codes = Vec::new();
        while let Some(r) = writes.join_next().await {
            let r = r.unwrap();
            codes.push(r["errors"][0]["extensions"]["code"].as_str().unwrap_or("ok").to_owned());
        }
        assert!(codes.iter().all(|c| c == "ok"), "{b}: {codes:?}");
        let after = s
            .gql(Some(&manager), "query($id: ID) { assessments(personId: $id) { totalCount } }", json!({ "id": employee }))
            .await
            .ok()["assessments"]["totalCount"]
            .as_u64()
            .unwrap();
        assert_eq!(after, before + 16, "{b}");

        // One refresh token presented twenty times at once: the first rotates it, the others
        // are reuse and revoke the whole sign-in; none fails. The first gets tokens only if
        // its answer was ready before a reuse revoked the family, and then those tokens end
        // with it.
        let (_, refresh) = s.login(DEMO_EMPLOYEE).await;
        let mut refreshes = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (http, url, token) = (s.http.clone(), format!("{}/graphql", s.base), refresh.clone());
            refreshes.spawn(async move {
                let body = json!({ "query": "mutation($t: String!) { refresh(token: $t) { accessToken } }", "variables": { "t": token } });
                http.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap()
            });
        }
        let mut won = Vec::new();
        while let Some(r) = refreshes.join_next().await {
            let r = r.unwrap();
            match r["errors"][0]["extensions"]["code"].as_str() {
                None => won.push(r["data"]["refresh"]["accessToken"].as_str().unwrap().to_owned()),
                Some(code) => assert_eq!(code, "UNAUTHENTICATED", "{b}: {r}"),
            }
        }
        assert!(won.len() <= 1, "{b}: {} won", won.len());
        for token in &won {
            let r = s.gql(Some(token), "{ me { id } }", json!({})).await;
            assert_eq!(r.status, 401, "{b}: the reused sign-in's tokens are revoked: {}", r.body);
        }
    })
    .await;
}
