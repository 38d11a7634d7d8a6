//! The growth story over real HTTP on every configured backend: HR imports the matrix and the
//! people, the manager assesses, the employee reads their growth plan, the manager proposes a
//! promotion, HR approves it, and the history shows it.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use rungs_api::ApiConfig;
use rungs_app::Actor;
use rungs_app::demo::DEMO_PASSWORD;
use rungs_db::testing::on_every_backend;
use serde_json::{Value, json};

const PYTHON: &str = include_str!("../../rungs-format/templates/python.yaml");
const PEOPLE: &str = "\
email,name,manager_email,track,level,admin
hr@acme.test,Hana HR,,,,yes
lead@acme.test,Lee Lead,,python-developer,expert,
dev@acme.test,Dev Eloper,lead@acme.test,python-developer,intermediate,
";

#[tokio::test]
async fn hr_imports_manager_assesses_employee_reads_manager_proposes_hr_approves() {
    on_every_backend(async |t| {
        let s = spawn(&t.db, ApiConfig::default()).await;
        let b = format!("{:?}", t.backend);
        // The operator creates the organisation and its first HR admin (the CLI's job).
        let sys = Actor::system();
        s.app.create_org(&sys, "acme", "Acme").await.unwrap();
        s.app
            .import_people(&sys, "acme", "email,name,admin\nhr@acme.test,Hana HR,yes\n", "hr.csv", None)
            .await
            .unwrap();
        s.app
            .set_password(&sys, "acme", "hr@acme.test", DEMO_PASSWORD.to_owned().into())
            .await
            .unwrap();
        let (hr, _) = s.login("hr@acme.test").await;

        // HR imports the matrix, then the people (placing them in it).
        let r = s
            .gql(
                Some(&hr),
                "mutation($c: String!) { importMatrix(format: YAML, content: $c) { version { number status } } }",
                json!({ "c": PYTHON }),
            )
            .await;
        assert_eq!(r.ok()["importMatrix"]["version"]["number"], 1, "{b}");
        let r = s
            .gql(
                Some(&hr),
                "mutation($c: String!) { importPeople(content: $c) { added updated levelsAssigned } }",
                json!({ "c": PEOPLE }),
            )
            .await;
        assert_eq!(r.ok()["importPeople"], json!({ "added": 2, "updated": 0, "levelsAssigned": 2 }), "{b}");
        // A broken file is refused whole, with its line.
        let r = s
            .gql(
                Some(&hr),
                "mutation($c: String!) { importPeople(content: $c) { added } }",
                json!({ "c": "email,name,manager_email\nx@acme.test,X,nobody@acme.test\n" }),
            )
            .await;
        assert_eq!(r.code(), Some("INVALID_INPUT"), "{b}");
        assert_eq!(r.body["errors"][0]["extensions"]["problems"][0]["line"], 2, "{}", r.body);
        for email in ["lead@acme.test", "dev@acme.test"] {
            s.app
                .set_password(&sys, "acme", email, DEMO_PASSWORD.to_owned().into())
                .await
                .unwrap();
        }
        let (lead, _) = s.login("lead@acme.test").await;
        let (dev, _) = s.login("dev@acme.test").await;
        let dev_id = s.id_of(&hr, "dev@acme.test").await;

        // The employee's plan toward the next level: everything new is a gap.
        let plan_q = "{ growthPlan { matrixKey matrixVersion { number } current { level { key } titles } target { level { key } titles } met total progress complete items { expectation { key } status held } gaps { expectation { key resources { title } } status } } }";
        let r = s.gql(Some(&dev), plan_q, json!({})).await;
        let p = &r.ok()["growthPlan"];
        assert_eq!(p["target"]["level"]["key"], "advanced", "{b}");
        assert_eq!(p["matrixVersion"]["number"], 1);
        let gaps: Vec<String> = keys(&p["gaps"]);
        assert_eq!(gaps, ["advanced-data-structures", "multithreading"], "{b}");
        assert!(p["items"].as_array().unwrap().iter().filter(|i| i["held"] == true).count() >= 4);
        assert_eq!(p["complete"], false);

        // The manager assesses both; the employee adds a self-rating.
        let assess = "mutation($p: ID!, $k: String!, $r: Rating!) { assess(input: { personId: $p, expectationKey: $k, rating: $r, evidence: \"Shipped the job queue\", links: [\"https://git.example/pr/7\"] }) { role rating } }";
        for k in &gaps {
            let r = s.gql(Some(&lead), assess, json!({ "p": dev_id, "k": k, "r": "MEETS" })).await;
            assert_eq!(r.ok()["assess"]["role"], "MANAGER", "{b}");
        }
        let r = s
            .gql(Some(&dev), assess, json!({ "p": dev_id, "k": "multithreading", "r": "EXCEEDS" }))
            .await;
        assert_eq!(r.ok()["assess"]["role"], "SELF");
        // HR is not an assessor.
        let r = s.gql(Some(&hr), assess, json!({ "p": dev_id, "k": "multithreading", "r": "MEETS" })).await;
        assert_eq!(r.code(), Some("FORBIDDEN"));

        // The employee reads the plan again: complete, with both ratings side by side.
        let r = s
            .gql(
                Some(&dev),
                "{ growthPlan { progress complete gaps { expectation { key } } items { expectation { key } status managerRating { rating evidence links } selfRating { rating } } } }",
                json!({}),
            )
            .await;
        let p = &r.ok()["growthPlan"];
        assert_eq!((p["progress"].as_f64(), &p["complete"]), (Some(1.0), &json!(true)), "{b}");
        let mt = p["items"].as_array().unwrap().iter().find(|i| i["expectation"]["key"] == "multithreading").unwrap();
        assert_eq!(mt["status"], "MET");
        assert_eq!(mt["managerRating"]["rating"], "MEETS");
        assert_eq!(mt["managerRating"]["links"][0], "https://git.example/pr/7");
        assert_eq!(mt["selfRating"]["rating"], "EXCEEDS");

        // Readiness: everything met, but placed today: not ready under the default rule.
        let team_q = "{ team { totalCount edges { node { person { email } ready score monthsInLevel reasons { kind ok message } openCase { id } } } } }";
        let r = s.gql(Some(&lead), team_q, json!({})).await;
        let node = &r.ok()["team"]["edges"][0]["node"];
        assert_eq!((node["ready"].clone(), node["score"].as_f64()), (json!(false), Some(1.0)), "{b}");
        let time = node["reasons"].as_array().unwrap().iter().find(|x| x["kind"] == "TIME_IN_LEVEL").unwrap();
        assert_eq!(time["ok"], false);
        let ready_q = "query($s: String) { team(filter: { readyOnly: true, search: $s }) { totalCount edges { node { person { email } ready } } } }";
        let r = s.gql(Some(&lead), ready_q, json!({})).await;
        assert_eq!(r.ok()["team"]["totalCount"], 0, "{b}: no one is ready yet");
        // A stricter rule: a manager's MEETS no longer meets. The employee's own plan (the
        // rule and position read with their session) and their lead's view of it (read on
        // their own) both follow it at once.
        let r = s
            .gql(
                Some(&hr),
                "mutation { setReadinessRule(input: { minRating: EXCEEDS, minMonthsInLevel: 0, minScore: 1.0 }) { minRating } }",
                json!({}),
            )
            .await;
        assert_eq!(r.ok()["setReadinessRule"]["minRating"], "EXCEEDS");
        let plan_q = "query($p: ID) { growthPlan(personId: $p) { complete current { level { key } } items { expectation { key } status } } }";
        let own = s.gql(Some(&dev), plan_q, json!({})).await.ok()["growthPlan"].clone();
        let seen = s.gql(Some(&lead), plan_q, json!({ "p": dev_id })).await.ok()["growthPlan"].clone();
        assert_eq!(own, seen, "{b}");
        assert_eq!(own["complete"], false, "{b}");
        let mt = own["items"].as_array().unwrap().iter().find(|i| i["expectation"]["key"] == "multithreading").unwrap();
        assert_ne!(mt["status"], "MET", "{b}");
        let me = s.gql(Some(&dev), "{ me { current { level } } }", json!({})).await;
        assert_eq!(me.ok()["me"]["current"]["level"], own["current"]["level"]["key"], "{b}");
        // HR sets a rule without a waiting time: ready.
        let r = s
            .gql(
                Some(&hr),
                "mutation { setReadinessRule(input: { minRating: MEETS, minMonthsInLevel: 0, minScore: 1.0 }) { minMonthsInLevel } }",
                json!({}),
            )
            .await;
        assert_eq!(r.ok()["setReadinessRule"]["minMonthsInLevel"], 0);
        let r = s.gql(Some(&lead), team_q, json!({})).await;
        assert_eq!(r.ok()["team"]["edges"][0]["node"]["ready"], true, "{b}");
        // The ready-only filter now finds them, and a search narrows it (in SQL, counted).
        let r = s.gql(Some(&lead), ready_q, json!({})).await;
        assert_eq!(r.ok()["team"]["totalCount"], 1, "{b}");
        assert_eq!(r.ok()["team"]["edges"][0]["node"]["ready"], true, "{b}");
        let email = r.ok()["team"]["edges"][0]["node"]["person"]["email"].clone();
        let part = email.as_str().unwrap()[..3].to_uppercase();
        let r = s.gql(Some(&lead), ready_q, json!({ "s": part })).await;
        assert_eq!(r.ok()["team"]["edges"][0]["node"]["person"]["email"], email, "{b}");
        let r = s.gql(Some(&lead), ready_q, json!({ "s": "%no such person" })).await;
        assert_eq!(r.ok()["team"]["totalCount"], 0, "{b}");
        assert_eq!(r.ok()["team"]["edges"], json!([]), "{b}");

        // The manager proposes; HR comments and approves.
        let r = s
            .gql(
                Some(&lead),
                "mutation($p: ID!) { proposePromotion(input: { personId: $p, justification: \"Meets every expectation of Advanced\" }) { id status from { level } to { level } } }",
                json!({ "p": dev_id }),
            )
            .await;
        let case = r.ok()["proposePromotion"].clone();
        assert_eq!((case["from"]["level"].as_str(), case["to"]["level"].as_str()), (Some("intermediate"), Some("advanced")));
        let case_id = case["id"].as_str().unwrap();
        let r = s.gql(Some(&lead), team_q, json!({})).await;
        assert_eq!(r.ok()["team"]["edges"][0]["node"]["openCase"]["id"], case_id);
        let r = s
            .gql(Some(&hr), "mutation($c: ID!) { commentOnPromotion(caseId: $c, comment: \"Calibrated with the other leads\") { events { kind } } }", json!({ "c": case_id }))
            .await;
        assert_eq!(r.ok()["commentOnPromotion"]["events"].as_array().unwrap().len(), 2);
        let r = s
            .gql(Some(&hr), "mutation($c: ID!) { approvePromotion(caseId: $c, note: \"Congratulations\") { status decidedBy { email } effective events { kind actor { email } } } }", json!({ "c": case_id }))
            .await;
        let done = &r.ok()["approvePromotion"];
        assert_eq!(done["status"], "APPROVED", "{b}");
        assert_eq!(done["decidedBy"]["email"], "hr@acme.test");
        let kinds: Vec<&str> = done["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["PROPOSED", "COMMENTED", "APPROVED"]);
        // Approving twice is a conflict, not a second level.
        let r = s.gql(Some(&hr), "mutation($c: ID!) { approvePromotion(caseId: $c) { status } }", json!({ "c": case_id })).await;
        assert_eq!(r.code(), Some("CONFLICT"), "{}", r.body);

        // The history shows it: the employee is Advanced, the change points at the case.
        let r = s
            .gql(
                Some(&dev),
                "{ me { current { level promotionCaseId } } career { periods { assignment { level promotionCaseId reason } until days } promotions { status to { level } } } levelHistory(personId: null) { level } }",
                json!({}),
            )
            .await;
        // levelHistory needs a person id: the error proves the argument is required.
        assert_eq!(r.code(), Some("INVALID_INPUT"));
        let r = s
            .gql(
                Some(&dev),
                "{ me { current { level promotionCaseId } } career { periods { assignment { level promotionCaseId reason } until days } promotions { status to { level } } } }",
                json!({}),
            )
            .await;
        let d = r.ok();
        assert_eq!(d["me"]["current"]["level"], "advanced", "{b}");
        assert_eq!(d["me"]["current"]["promotionCaseId"], case_id);
        let periods = d["career"]["periods"].as_array().unwrap();
        assert_eq!(periods.len(), 2);
        assert_eq!(periods[0]["assignment"]["level"], "intermediate");
        assert!(periods[0]["until"].is_string());
        assert_eq!(periods[1]["assignment"]["reason"], "promotion approved: Congratulations");
        assert_eq!(d["career"]["promotions"][0]["status"], "APPROVED");
        // And the next plan aims one level higher.
        let r = s.gql(Some(&dev), "{ growthPlan { target { level { key } } } readiness { target { level { key } } ready } }", json!({})).await;
        assert_eq!(r.ok()["growthPlan"]["target"]["level"]["key"], "expert", "{b}");
        assert_eq!(r.ok()["readiness"]["ready"], false);
        // HR's calibration counts the move.
        let r = s.gql(Some(&hr), "{ calibration { people unplaced matrices { cells { track level count } } } }", json!({})).await;
        let cal = &r.ok()["calibration"];
        assert_eq!((cal["people"].as_u64(), cal["unplaced"].as_u64()), (Some(3), Some(1)));
        let advanced = cal["matrices"][0]["cells"].as_array().unwrap().iter().find(|c| c["track"] == "python-developer" && c["level"] == "advanced").unwrap();
        assert_eq!(advanced["count"], 1, "{b}");
        // The one without a level is who the directory lists to place; not with a level.
        let r = s.gql(Some(&hr), "{ people(filter: { unplaced: true }) { totalCount edges { node { email current { level } } } } }", json!({})).await;
        let unplaced = &r.ok()["people"];
        assert_eq!(unplaced["totalCount"], cal["unplaced"], "{b}");
        assert_eq!(unplaced["edges"][0]["node"]["current"], Value::Null, "{b}");
        let r = s.gql(Some(&hr), "{ people(filter: { unplaced: true, level: \"advanced\" }) { totalCount } }", json!({})).await;
        assert_eq!(r.code(), Some("INVALID_INPUT"), "{b}: {}", r.body);

        // The audit log tells the whole story, newest first, with who did what.
        let r = s
            .gql(
                Some(&hr),
                "{ auditLog(first: 100) { totalCount edges { node { action actor { email } subjectCount } } } }",
                json!({}),
            )
            .await;
        let entries: Vec<(String, String)> = r.ok()["auditLog"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let n = &e["node"];
                (
                    n["action"].as_str().unwrap().to_owned(),
                    n["actor"]["email"].as_str().unwrap_or("operator").to_owned(),
                )
            })
            .collect();
        let has = |action: &str, who: &str| entries.iter().any(|(a, w)| a == action && w == who);
        for (action, who) in [
            ("organisation.create", "operator"),
            ("matrix.import", "hr@acme.test"),
            ("people.import", "hr@acme.test"),
            ("session.sign_in", "dev@acme.test"),
            ("assessment.add", "lead@acme.test"),
            ("assessment.add", "dev@acme.test"),
            ("readiness_rule.set", "hr@acme.test"),
            ("promotion.propose", "lead@acme.test"),
            ("promotion.comment", "hr@acme.test"),
            ("promotion.approve", "hr@acme.test"),
        ] {
            assert!(has(action, who), "{b}: no {action} by {who} in {entries:?}");
        }
        // Refused changes left no trace: HR's one people import (the broken file wrote
        // nothing), one approval (the second was a conflict), no assessment by HR.
        let count = |action: &str, who: &str| {
            entries
                .iter()
                .filter(|(a, w)| a == action && w == who)
                .count()
        };
        assert_eq!(count("people.import", "hr@acme.test"), 1, "{b}");
        assert_eq!(count("promotion.approve", "hr@acme.test"), 1, "{b}");
        assert!(!has("assessment.add", "hr@acme.test"), "{b}");
    })
    .await;
}

fn keys(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["expectation"]["key"].as_str().unwrap().to_owned())
        .collect()
}
