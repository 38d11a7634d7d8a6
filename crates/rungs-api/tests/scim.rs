//! SCIM 2.0 at `/scim/v2` over real HTTP, on every configured backend: a scripted sync of
//! 1,000 users with their managers, then a re-sync of changes, arrives exactly; the tokens
//! (hashed, revocable) and the organisation's boundary; errors in SCIM's format, and a cycle
//! in the reporting lines refused with nothing written. The third-party conformance checker
//! (scim2-tester) runs against the real binary in `tests/tests/scim.rs`.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use rungs_api::ApiConfig;
use rungs_app::Actor;
use rungs_db::testing::on_every_backend;
use rungs_domain::PersonId;
use serde_json::{Value, json};
use std::collections::HashMap;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// How many requests the sync keeps in flight (an identity provider's sync is concurrent).
const IN_FLIGHT: usize = 8;

struct Scim {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Scim {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/scim/v2{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        if status != 204 {
            assert_eq!(
                res.headers()["content-type"],
                "application/scim+json",
                "{path}"
            );
        }
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    async fn patch(&self, path: &str, ops: Value) -> (u16, Value) {
        let body = json!({ "schemas": [PATCH_OP], "Operations": ops });
        self.send(reqwest::Method::PATCH, path, Some(&body)).await
    }
}

fn user(i: usize, name: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": format!("u{i:04}@sync.test"),
        "externalId": format!("ext-{i}"),
        "name": { "givenName": name, "familyName": format!("Number {i}") },
        "displayName": format!("{name} Number {i}"),
        "emails": [{ "value": format!("u{i:04}@sync.test"), "type": "work", "primary": true }],
        "active": true,
    })
}

/// Who manages whom in the synced organisation: a tree ten wide under user 0.
fn manager_of(i: usize) -> Option<usize> {
    (i > 0).then(|| (i - 1) / 10)
}

/// Runs `jobs` with at most `IN_FLIGHT` at once, in order of completion.
async fn all<T>(jobs: Vec<impl std::future::Future<Output = T>>) -> Vec<T> {
    use futures_util::StreamExt;
    futures_util::stream::iter(jobs)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await
}

#[tokio::test]
async fn a_sync_of_1000_users_with_managers_then_a_resync_arrives_exactly() {
    on_every_backend(async |t| {
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let sys = Actor::system();
        s.app.create_org(&sys, "sync", "Sync Ltd").await.unwrap();
        let (token, record) = s.app.create_scim_token(&sys, "sync", "idp").await.unwrap();
        let scim = Scim {
            base: s.base.clone(),
            token,
            http: reqwest::Client::new(),
        };
        const N: usize = 1000;

        // 1. Every user, in an order that is not the tree's, then their managers.
        let mut order: Vec<usize> = (0..N).collect();
        order.reverse();
        let created = all(order
            .iter()
            .map(|&i| {
                let scim = &scim;
                async move {
                    let (status, body) = scim.post("/Users", &user(i, "Ada")).await;
                    assert_eq!(status, 201, "{body}");
                    (i, body["id"].as_str().unwrap().to_owned())
                }
            })
            .collect())
        .await;
        let ids: HashMap<usize, String> = created.into_iter().collect();
        let patched = all((1..N)
            .map(|i| {
                let (scim, ids) = (&scim, &ids);
                async move {
                    let m = &ids[&manager_of(i).unwrap()];
                    let (status, body) = scim
                        .patch(
                            &format!("/Users/{}", ids[&i]),
                            json!([{ "op": "add", "path": format!("{ENTERPRISE}:manager"), "value": { "value": m } }]),
                        )
                        .await;
                    assert_eq!(status, 200, "{body}");
                    assert_eq!(body[ENTERPRISE]["manager"]["value"], m.as_str());
                }
            })
            .collect())
        .await;
        assert_eq!(patched.len(), N - 1);

        // What arrived: every user once, each with their manager, name and externalId.
        let org = s.app.organisation(&sys, "sync").await.unwrap();
        let check = async |expect: &dyn Fn(usize) -> (String, Option<usize>, bool)| {
            let mut seen = 0;
            let mut start = 1;
            loop {
                let (status, page) = scim
                    .get(&format!("/Users?startIndex={start}&count=300"))
                    .await;
                assert_eq!(status, 200);
                assert_eq!(page["totalResults"], N);
                let list = page["Resources"].as_array().unwrap();
                if list.is_empty() {
                    break;
                }
                for u in list {
                    let i: usize = u["externalId"].as_str().unwrap()[4..].parse().unwrap();
                    let (display, manager, active) = expect(i);
                    assert_eq!(u["displayName"], display.as_str(), "user {i}");
                    assert_eq!(u["active"], active, "user {i}");
                    assert_eq!(
                        u[ENTERPRISE]["manager"]["value"].as_str(),
                        manager.map(|m| ids[&m].as_str()),
                        "user {i}"
                    );
                    seen += 1;
                }
                start += list.len();
            }
            assert_eq!(seen, N);
        };
        check(&|i| (format!("Ada Number {i}"), manager_of(i), true)).await;
        // The reporting lines are the people's own: the manager's team page agrees.
        let people = s.app.db().list_people(org.id).await.unwrap();
        assert_eq!(people.len(), N);
        let by_id: HashMap<PersonId, &rungs_domain::person::Person> =
            people.iter().map(|p| (p.id, p)).collect();
        for p in &people {
            let i: usize = p.email.as_str()[1..5].parse().unwrap();
            let m = p.manager_id.map(|m| by_id[&m].email.as_str()[1..5].parse::<usize>().unwrap());
            assert_eq!(m, manager_of(i), "{}", p.email);
        }

        // 2. The re-sync: 100 renamed by PUT, 50 deactivated and 50 moved by PATCH, 10 deleted.
        let renamed = |i: usize| i % 10 == 1 && i < 1000;
        let deactivated = |i: usize| i % 20 == 2;
        let moved = |i: usize| i % 20 == 3 && i > 100;
        let deleted = |i: usize| (990..1000).contains(&i);
        all((0..N)
            .filter(|&i| renamed(i) || deactivated(i) || moved(i))
            .map(|i| {
                let (scim, ids) = (&scim, &ids);
                async move {
                    let path = format!("/Users/{}", ids[&i]);
                    if renamed(i) {
                        let mut body = user(i, "Bea");
                        if let Some(m) = manager_of(i) {
                            body[ENTERPRISE] = json!({ "manager": { "value": ids[&m] } });
                        }
                        let (status, out) = scim.put(&path, &body).await;
                        assert_eq!(status, 200, "{out}");
                    }
                    if deactivated(i) {
                        let (status, out) = scim
                            .patch(&path, json!([{ "op": "replace", "value": { "active": false } }]))
                            .await;
                        assert_eq!(status, 200, "{out}");
                    }
                    if moved(i) {
                        let (status, out) = scim
                            .patch(&path, json!([{ "op": "replace", "path": format!("{ENTERPRISE}:manager"), "value": ids[&0] }]))
                            .await;
                        assert_eq!(status, 200, "{out}");
                    }
                }
            })
            .collect())
        .await;
        for i in (0..N).filter(|&i| deleted(i)) {
            let (status, _) = scim
                .send(reqwest::Method::DELETE, &format!("/Users/{}", ids[&i]), None)
                .await;
            assert_eq!(status, 204);
            assert_eq!(scim.get(&format!("/Users/{}", ids[&i])).await.0, 404);
        }
        // Deleted users are gone from SCIM's lists, and deactivated in Rungs (history kept).
        let (_, page) = scim.get("/Users?count=1").await;
        assert_eq!(page["totalResults"], N - 10);
        let people = s.app.db().list_people(org.id).await.unwrap();
        assert_eq!(people.len(), N, "deleting deactivates: no one is removed");
        for p in &people {
            let i: usize = p.email.as_str()[1..5].parse().unwrap();
            let name = if renamed(i) { "Bea" } else { "Ada" };
            assert_eq!(p.display_name, format!("{name} Number {i}"));
            assert_eq!(p.active, !(deactivated(i) || deleted(i)), "{}", p.email);
            let m = p.manager_id.map(|m| by_id[&m].email.as_str()[1..5].parse::<usize>().unwrap());
            let want = if moved(i) { Some(0) } else { manager_of(i) };
            assert_eq!(m, want, "{}", p.email);
        }

        // 3. A cycle is refused in SCIM's format, and nothing is written.
        let before = s.app.db().list_people(org.id).await.unwrap();
        let (status, err) = scim
            .patch(
                &format!("/Users/{}", ids[&0]),
                json!([{ "op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": { "value": ids[&11] } }]),
            )
            .await;
        assert_eq!(status, 400, "{err}");
        assert_eq!(err["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
        assert_eq!(err["status"], "400");
        assert_eq!(err["scimType"], "invalidValue");
        assert!(err["detail"].as_str().unwrap().contains("cycle"), "{err}");
        assert_eq!(s.app.db().list_people(org.id).await.unwrap(), before);

        // Errors: a taken userName is a conflict; a bad filter; an unknown user.
        let (status, err) = scim.post("/Users", &user(5, "Dup")).await;
        assert_eq!((status, err["scimType"].as_str()), (409, Some("uniqueness")));
        let (status, err) = scim.get("/Users?filter=displayName%20co%20%22x%22").await;
        assert_eq!((status, err["scimType"].as_str()), (400, Some("invalidFilter")));
        let (_, found) = scim
            .get("/Users?filter=userName%20eq%20%22U0042@SYNC.test%22")
            .await;
        assert_eq!(found["totalResults"], 1);
        assert_eq!(found["Resources"][0]["id"], ids[&42].as_str());

        // Every write is audited, naming the token.
        let log = s
            .app
            .audit_log(&sys, "sync", Some("person.add"), Some(1), None)
            .await
            .unwrap();
        assert_eq!(log.total, N);
        assert!(
            log.items[0].entry.detail.contains(&format!("by SCIM token \"idp\" {}", record.id)),
            "{:?}",
            log.items[0].entry
        );

        // The boundary: another organisation's user is not found; a revoked token is refused.
        let demo = s.app.organisation(&sys, "demo").await.unwrap();
        let someone = s.app.db().list_people(demo.id).await.unwrap()[0].id;
        assert_eq!(scim.get(&format!("/Users/{someone}")).await.0, 404);
        s.app
            .revoke_scim_token(&sys, "sync", record.id)
            .await
            .unwrap();
        let (status, err) = scim.get("/Users").await;
        assert_eq!(status, 401, "{err}");
        assert_eq!(err["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
        let wrong = Scim {
            base: s.base.clone(),
            token: "rungs_scim_not-a-token".into(),
            http: reqwest::Client::new(),
        };
        assert_eq!(wrong.get("/ServiceProviderConfig").await.0, 401);
    })
    .await;
}

/// Deactivation by SCIM signs the person out everywhere: their refresh tokens stop working.
#[tokio::test]
async fn deactivation_by_scim_ends_the_persons_sessions() {
    on_every_backend(async |t| {
        let s = spawn(&t.db, ApiConfig::default()).await;
        seed_two_orgs(&s.app).await;
        let sys = Actor::system();
        let (token, _) = s.app.create_scim_token(&sys, "beta", "idp").await.unwrap();
        let scim = Scim {
            base: s.base.clone(),
            token,
            http: reqwest::Client::new(),
        };
        let (_, refresh) = s.login("employee@beta.test").await;
        let (_, found) = scim
            .get("/Users?filter=userName%20eq%20%22employee@beta.test%22")
            .await;
        let id = found["Resources"][0]["id"].as_str().unwrap().to_owned();
        let (status, body) = scim
            .patch(
                &format!("/Users/{id}"),
                json!([{ "op": "replace", "path": "active", "value": false }]),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["active"], false);
        assert!(
            s.app.refresh(&refresh).await.is_err(),
            "the refresh token was revoked"
        );
    })
    .await;
}
