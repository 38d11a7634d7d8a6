//! Single sign-on against a real OpenID Provider (`oidc-provider` under Node.js, started once
//! for this test process: `rungs_tests::oidc`). The sign-in runs over real HTTP through the
//! provider's own pages, as a browser without JavaScript would (its cookies kept by reqwest);
//! the token tests sign ID and access tokens with the provider's own keys (which the test
//! provider lends to tests), so each refusal is about the one thing made wrong.

#![allow(clippy::unwrap_used)]

use rungs_app::auth::{Auth, AuthConfig};
use rungs_app::demo::{DEMO_ADMIN, DEMO_EMPLOYEE, DEMO_MANAGER, DEMO_PASSWORD};
use rungs_app::sso::ProviderInput;
use rungs_app::testing::seed_two_orgs;
use rungs_app::{Actor, App, AppError, PersonChanges};
use rungs_db::testing::on_every_backend;
use rungs_domain::person::Email;
use rungs_tests::oidc::OpenIdProvider;
use serde_json::{Value, json};

const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

fn provider() -> Option<&'static OpenIdProvider> {
    match OpenIdProvider::shared() {
        Ok(op) => Some(op),
        Err(why) => {
            eprintln!("{why}");
            None
        }
    }
}

/// Rungs (web app) in this process, on a free port, fetching the provider's keys again as soon
/// as a token names one it has not seen.
async fn spawn(db: &rungs_db::Db) -> (String, App) {
    let mut cfg = AuthConfig::new(SECRET.to_owned().into());
    cfg.sign_ins_per_address = 100_000;
    cfg.sign_ins_per_account = 100_000;
    cfg.sso_key_refresh = std::time::Duration::ZERO;
    let app = App::new(db.clone()).with_auth(Auth::new(cfg).unwrap());
    let router = rungs_web::router(app.clone(), rungs_web::WebConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}"), app)
}

/// A client registered with the provider for this Rungs (dynamic client registration).
struct Registered {
    client_id: String,
    client_secret: String,
}

async fn register(op: &OpenIdProvider, base: &str) -> Registered {
    let r: Value = reqwest::Client::new()
        .post(format!("{}/reg", op.issuer))
        .json(&json!({
            "redirect_uris": [format!("{base}/signin/callback")],
            "post_logout_redirect_uris": [format!("{base}/signin?signed_out=1")],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Registered {
        client_id: r["client_id"].as_str().unwrap().to_owned(),
        client_secret: r["client_secret"].as_str().unwrap().to_owned(),
    }
}

fn settings(op: &OpenIdProvider, c: &Registered) -> ProviderInput {
    ProviderInput {
        name: "Test IdP".into(),
        issuer: op.issuer.clone(),
        client_id: c.client_id.clone(),
        client_secret: Some(c.client_secret.clone().into()),
        scopes: vec!["email profile groups".into()],
        email_claim: None,
        allowed_domains: vec![],
        admin_group_claim: Some("groups".into()),
        admin_group_value: Some("rungs-hr".into()),
        passwords_allowed: true,
        create_people: false,
        api_audience: Some("rungs-demo-api".into()),
    }
}

/// Rungs with the two organisations, its client registered with the provider, and the demo
/// organisation connected to it.
async fn connected(op: &OpenIdProvider, db: &rungs_db::Db) -> (String, App, Registered) {
    let (base, app) = spawn(db).await;
    seed_two_orgs(&app).await;
    let client = register(op, &base).await;
    app.set_identity_provider(&Actor::system(), "demo", settings(op, &client))
        .await
        .unwrap();
    (base, app, client)
}

/// A person of `org` by email.
async fn person(app: &App, org: &str, email: &str) -> rungs_domain::person::Person {
    let o = app.organisation(&Actor::system(), org).await.unwrap();
    app.db()
        .person_by_email(o.id, &Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap()
}

/// Changes a person as the operator would.
async fn change(app: &App, org: &str, email: &str, changes: PersonChanges) {
    let id = person(app, org, email).await.id;
    app.update_person(&Actor::system(), org, id, changes)
        .await
        .unwrap();
}

/// A browser without JavaScript: cookies kept, redirects followed by hand.
struct Browser {
    http: reqwest::Client,
}

struct Landing {
    url: String,
    status: u16,
    body: String,
}

fn form_field<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let at = body.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &body[at + name.len() + 15..];
    Some(&rest[..rest.find('"')?])
}

impl Browser {
    fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Follows redirects from a response until a page.
    async fn follow(&self, mut res: reqwest::Response) -> Landing {
        loop {
            let url = res.url().clone();
            if res.status().is_redirection() {
                let to = res.headers()["location"].to_str().unwrap().to_owned();
                let next = url.join(&to).unwrap();
                res = self.http.get(next).send().await.unwrap();
                continue;
            }
            return Landing {
                url: url.to_string(),
                status: res.status().as_u16(),
                body: res.text().await.unwrap(),
            };
        }
    }

    async fn get(&self, url: &str) -> Landing {
        let res = self.http.get(url).send().await.unwrap();
        self.follow(res).await
    }

    /// Signs in with a password, as the sign-in form does.
    async fn password(&self, base: &str, org: &str, email: &str) -> Landing {
        let page = self.get(&format!("{base}/signin?org={org}")).await;
        let csrf = form_field(&page.body, "_csrf").unwrap().to_owned();
        self.post(
            base,
            "/signin",
            &[
                ("organisation", org),
                ("email", email),
                ("password", DEMO_PASSWORD),
                ("_csrf", &csrf),
                ("next", "/"),
            ],
        )
        .await
    }

    /// Posts a form from this site's pages and follows where it leads.
    async fn post(&self, base: &str, path: &str, form: &[(&str, &str)]) -> Landing {
        let res = self
            .http
            .post(format!("{base}{path}"))
            .header("origin", base)
            .form(form)
            .send()
            .await
            .unwrap();
        self.follow(res).await
    }

    /// Starts single sign-on at `org`'s sign-in page, signs in at the provider as `login`
    /// (consenting when asked) and lands wherever Rungs sends the browser.
    async fn sign_in(&self, base: &str, org: &str, login: &str) -> Landing {
        let page = self.get(&format!("{base}/signin?org={org}")).await;
        assert!(
            page.body.contains("Sign in with Test IdP"),
            "the sign-in page offers single sign-on: {}",
            page.body
        );
        let mut at = self
            .get(&format!("{base}/signin/sso?org={org}&next=/growth"))
            .await;
        for _ in 0..4 {
            let prompt = form_field(&at.body, "prompt").map(str::to_owned);
            let form: Vec<(&str, &str)> = match prompt.as_deref() {
                Some("login") => vec![("prompt", "login"), ("login", login), ("password", "x")],
                Some("consent") => vec![("prompt", "consent")],
                _ => return at,
            };
            let res = self.http.post(&at.url).form(&form).send().await.unwrap();
            at = self.follow(res).await;
        }
        panic!("the provider kept asking: {}", at.body);
    }
}

#[tokio::test]
async fn people_sign_in_through_their_organisations_identity_provider() {
    let Some(op) = provider() else { return };
    on_every_backend(async |t| {
        let (base, app, client) = connected(op, &t.db).await;
        let sys = Actor::system();

        // The employee signs in through the provider and lands on their growth page.
        let b = Browser::new();
        let home = b.sign_in(&base, "demo", DEMO_EMPLOYEE).await;
        assert_eq!(home.status, 200, "{}", home.body);
        assert!(home.url.ends_with("/growth"), "{}", home.url);
        assert!(home.body.contains("My growth"), "{}", home.body);
        let demo = app.organisation(&sys, "demo").await.unwrap();
        let log = app
            .audit_log(&sys, "demo", Some("session.sso_sign_in"), Some(10), None)
            .await
            .unwrap();
        assert_eq!(log.items.len(), 1);
        assert!(log.items[0].entry.detail.contains("with Test IdP"));
        assert_eq!(
            log.items[0].actor.as_ref().map(|p| p.email.as_str()),
            Some(DEMO_EMPLOYEE)
        );

        // The admin group decides who is an HR admin: HR keeps it (their login is in
        // `rungs-hr`), an employee made admin by hand loses it at their next sign-in.
        change(
            &app,
            "demo",
            DEMO_EMPLOYEE,
            PersonChanges {
                is_admin: Some(true),
                ..Default::default()
            },
        )
        .await;
        let again = Browser::new().sign_in(&base, "demo", DEMO_EMPLOYEE).await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert!(
            !person(&app, "demo", DEMO_EMPLOYEE).await.is_admin,
            "the group claim removed HR admin"
        );
        let hr = Browser::new();
        hr.sign_in(&base, "demo", DEMO_ADMIN).await;
        let queue = hr.get(&format!("{base}/promotions")).await;
        assert_eq!(queue.status, 200, "HR keeps the HR pages: {}", queue.body);

        // Refused: an unknown email, an unverified one, a deactivated person.
        let unknown = Browser::new()
            .sign_in(&base, "demo", "nobody@demo.rungs.test")
            .await;
        assert_eq!(unknown.status, 401, "{}", unknown.body);
        assert!(
            unknown.body.contains("no one in") && unknown.body.contains("nobody@demo.rungs.test"),
            "{}",
            unknown.body
        );
        let unverified = Browser::new()
            .sign_in(&base, "demo", "unverified@demo.rungs.test")
            .await;
        assert_eq!(unverified.status, 401);
        assert!(
            unverified.body.contains("has not verified"),
            "{}",
            unverified.body
        );
        change(
            &app,
            "demo",
            DEMO_MANAGER,
            PersonChanges {
                active: Some(false),
                ..Default::default()
            },
        )
        .await;
        let gone = Browser::new().sign_in(&base, "demo", DEMO_MANAGER).await;
        assert_eq!(gone.status, 401);
        assert!(gone.body.contains("is deactivated"), "{}", gone.body);

        // Just-in-time creation, and the allowed domains.
        let mut s = settings(op, &client);
        s.client_secret = None; // kept
        s.create_people = true;
        s.allowed_domains = vec!["demo.rungs.test".into()];
        app.set_identity_provider(&sys, "demo", s.clone())
            .await
            .unwrap();
        let newcomer = Browser::new()
            .sign_in(&base, "demo", "newcomer@demo.rungs.test")
            .await;
        // Signed in: at their growth page, which says they have no level yet.
        assert!(newcomer.url.ends_with("/growth"), "{}", newcomer.url);
        assert!(newcomer.body.contains("no level yet"), "{}", newcomer.body);
        let added = person(&app, "demo", "newcomer@demo.rungs.test").await;
        assert!(added.active && !added.is_admin);
        assert_eq!(added.display_name, "Test newcomer");
        let outsider = Browser::new()
            .sign_in(&base, "demo", "someone@elsewhere.test")
            .await;
        assert_eq!(outsider.status, 401);
        assert!(
            outsider.body.contains("domain is not allowed"),
            "{}",
            outsider.body
        );
        assert!(
            app.db()
                .person_by_email(demo.id, &Email::parse("someone@elsewhere.test").unwrap())
                .await
                .unwrap()
                .is_none()
        );

        // Passwords turned off: the form is gone and a password sign-in is refused, in the web
        // app and at the API's login.
        s.passwords_allowed = false;
        app.set_identity_provider(&sys, "demo", s).await.unwrap();
        let b = Browser::new();
        let page = b.get(&format!("{base}/signin?org=demo")).await;
        assert!(!page.body.contains("type=\"password\""), "{}", page.body);
        // (A form of another organisation's page, to post a password for this one.)
        let other = b.get(&format!("{base}/signin?org=beta")).await;
        let csrf = form_field(&other.body, "_csrf").unwrap().to_owned();
        let refused = b
            .http
            .post(format!("{base}/signin"))
            .header("origin", &base)
            .form(&[
                ("organisation", "demo"),
                ("email", DEMO_ADMIN),
                ("password", DEMO_PASSWORD),
                ("_csrf", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("signs in with Test IdP")
        );
        match app
            .login("demo", DEMO_ADMIN, DEMO_PASSWORD.to_owned().into(), None)
            .await
        {
            Err(AppError::Unauthenticated(m)) => assert!(m.contains("signs in with Test IdP")),
            other => panic!("{other:?}"),
        }
        // Beta still signs in with passwords, and sees no provider.
        assert!(
            app.login(
                "beta",
                "hr@beta.test",
                DEMO_PASSWORD.to_owned().into(),
                None
            )
            .await
            .is_ok()
        );
        let beta_page = Browser::new().get(&format!("{base}/signin?org=beta")).await;
        assert!(!beta_page.body.contains("Sign in with"));
        assert!(beta_page.body.contains("type=\"password\""));

        // A callback this browser did not start, or with another state, signs no one in.
        let stray = Browser::new()
            .get(&format!("{base}/signin/callback?code=x&state=y"))
            .await;
        assert_eq!(stray.status, 401);
        assert!(stray.body.contains("not started from this browser"));
        let b = Browser::new();
        let out = b
            .http
            .get(format!("{base}/signin/sso?org=demo"))
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 303);
        let forged = b
            .get(&format!("{base}/signin/callback?code=x&state=forged"))
            .await;
        assert_eq!(forged.status, 401);
        assert!(forged.body.contains("does not belong to this sign-in"));

        // Signing out offers the provider's end-session endpoint.
        let b = Browser::new();
        b.sign_in(&base, "demo", DEMO_EMPLOYEE).await;
        let home = b.get(&format!("{base}/growth")).await;
        let csrf = form_field(&home.body, "_csrf").unwrap().to_owned();
        let res = b
            .http
            .post(format!("{base}/signout"))
            .header("origin", &base)
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        let after = b.follow(res).await;
        assert!(after.body.contains("You are signed out"), "{}", after.body);
        assert!(
            after.body.contains("Also sign out of Test IdP")
                && after.body.contains(&format!("{}/session/end", op.issuer)),
            "{}",
            after.body
        );

        // Only HR of the organisation reads the settings, and never the secret.
        let beta_hr = person(&app, "beta", "hr@beta.test").await;
        let beta_hr = Actor::Person {
            id: beta_hr.id,
            org: beta_hr.org_id,
            is_admin: true,
        };
        assert!(matches!(
            app.identity_provider(&beta_hr, "demo").await,
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(
            app.remove_identity_provider(&beta_hr, "demo").await,
            Err(AppError::NotFound(_))
        ));
        let shown = app.identity_provider(&sys, "demo").await.unwrap().unwrap();
        assert!(shown.has_client_secret);
        assert!(!format!("{shown:?}").contains(&client.client_secret));
    })
    .await;
}

/// Held by the tests that sign with the provider's current key or rotate it, so that a
/// rotation never lands between another test's reading of the key and its use.
static SIGNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The provider's signing keys (private halves), lent to tests by the test provider.
struct Keys {
    current: (String, String),
    retired: Vec<(String, String)>,
}

async fn keys(op: &OpenIdProvider) -> Keys {
    let v: Value = reqwest::get(format!("{}/__test/keys", op.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pair = |k: &Value| {
        (
            k["kid"].as_str().unwrap().to_owned(),
            k["der"].as_str().unwrap().to_owned(),
        )
    };
    Keys {
        current: pair(&v["current"]),
        retired: v["retired"].as_array().unwrap().iter().map(pair).collect(),
    }
}

/// A JWT signed RS256 with one of the provider's keys.
fn signed(key: &(String, String), claims: &Value) -> String {
    use base64::Engine;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(key.0.clone());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(
            &base64::engine::general_purpose::STANDARD
                .decode(&key.1)
                .unwrap(),
        ),
    )
    .unwrap()
}

/// A JWT with `alg: none` and no signature.
fn unsigned(claims: &Value) -> String {
    use base64::Engine;
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(claims)
    )
}

/// A JWT signed HS256 with a shared secret (the client secret, as a confused verifier would
/// accept).
fn hs256(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn refused<T: std::fmt::Debug>(r: Result<T, AppError>, why: &str) {
    match r {
        Err(AppError::Unauthenticated(m)) => assert!(m.contains(why), "{m:?} should say {why:?}"),
        other => panic!("refused because {why:?} expected, got {other:?}"),
    }
}

/// ID tokens wrong in exactly one way are each refused; the same token made right is accepted
/// (so each refusal is about that one thing). Then the provider rotates its key: a token signed
/// with the old key is refused, one signed with the new key accepted.
#[tokio::test]
async fn id_tokens_wrong_in_any_way_are_refused_and_key_rotation_is_honoured() {
    let Some(op) = provider() else { return };
    let _turn = SIGNING.lock().await;
    on_every_backend(async |t| {
        let (_, app, client) = connected(op, &t.db).await;
        let sys = Actor::system();
        let demo = app.organisation(&sys, "demo").await.unwrap();
        let p = app
            .identity_provider_record(demo.id)
            .await
            .unwrap()
            .unwrap();
        let now = chrono::Utc::now().timestamp();
        let good = json!({
            "iss": op.issuer, "aud": client.client_id, "sub": DEMO_EMPLOYEE,
            "email": DEMO_EMPLOYEE, "email_verified": true,
            "iat": now, "exp": now + 300, "nonce": "n-1",
        });
        let with = |k: &str, v: Value| {
            let mut c = good.clone();
            c[k] = v;
            c
        };
        let key = keys(op).await.current;
        let claims = app
            .verify_id_token(&p, &signed(&key, &good), "n-1")
            .await
            .unwrap();
        assert_eq!(claims["email"], DEMO_EMPLOYEE);

        let wrong = [
            (
                signed(&key, &with("iss", json!("http://127.0.0.1:1"))),
                "names another issuer",
            ),
            (
                signed(&key, &with("aud", json!("another-client"))),
                "meant for another application",
            ),
            (
                signed(
                    &key,
                    &with("exp", json!(now - 600)).tap(|c| c["iat"] = json!(now - 900)),
                ),
                "has expired",
            ),
            (
                signed(&key, &with("nonce", json!("n-2"))),
                "does not belong to this sign-in",
            ),
            (unsigned(&good), "is not signed"),
            (hs256(&client.client_secret, &good), "Rungs refuses"),
        ];
        for (token, why) in wrong {
            refused(app.verify_id_token(&p, &token, "n-1").await, why);
        }

        // The provider rotates: the old key stops verifying, the new one is learnt.
        let rotated: Value = reqwest::Client::new()
            .post(format!("{}/__test/rotate", op.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let k = keys(op).await;
        assert_eq!(rotated["kid"], k.current.0.as_str());
        assert!(k.retired.iter().any(|r| r.0 == key.0));
        let fresh = app
            .verify_id_token(&p, &signed(&k.current, &good), "n-1")
            .await
            .unwrap();
        assert_eq!(fresh["sub"], DEMO_EMPLOYEE);
        refused(
            app.verify_id_token(&p, &signed(&key, &good), "n-1").await,
            "does not publish",
        );
    })
    .await;
}

/// API clients present the provider's access tokens (JWTs for the configured audience) over
/// real HTTP; every wrong one is refused with `UNAUTHENTICATED`, and an organisation's
/// provider never speaks for another organisation's people.
#[tokio::test]
async fn the_api_accepts_the_providers_access_tokens_for_its_audience_only() {
    let Some(op) = provider() else { return };
    let _turn = SIGNING.lock().await;
    on_every_backend(async |t| {
        let (_, app, client) = connected(op, &t.db).await;
        let sys = Actor::system();
        let api = rungs_api::router(app.clone(), rungs_api::ApiConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, api).await.unwrap() });
        let gql = async |token: &str, query: &str| -> Value {
            reqwest::Client::new()
                .post(format!("{api_base}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        };
        let me = async |token: &str| gql(token, "{ me { email isAdmin } }").await;
        let now = chrono::Utc::now().timestamp();
        let good = json!({
            "iss": op.issuer, "aud": "rungs-demo-api", "sub": "u-1",
            "email": DEMO_EMPLOYEE, "iat": now, "exp": now + 300,
        });
        let with = |k: &str, v: Value| {
            let mut c = good.clone();
            c[k] = v;
            c
        };
        let key = keys(op).await.current;
        let ok = me(&signed(&key, &good)).await;
        assert_eq!(ok["data"]["me"]["email"], DEMO_EMPLOYEE, "{ok}");

        // The settings are HR's: the employee is refused, HR reads them without the secret.
        let settings_query = "{ identityProvider { issuer clientId hasClientSecret apiAudience } }";
        let employee_view = gql(&signed(&key, &good), settings_query).await;
        assert_eq!(
            employee_view["errors"][0]["extensions"]["code"],
            "FORBIDDEN"
        );
        let removal = gql(&signed(&key, &good), "mutation { removeIdentityProvider }").await;
        assert_eq!(removal["errors"][0]["extensions"]["code"], "FORBIDDEN");
        let hr = signed(&key, &with("email", json!(DEMO_ADMIN)));
        let hr_view = gql(&hr, settings_query).await;
        assert_eq!(
            hr_view["data"]["identityProvider"]["issuer"],
            op.issuer.as_str()
        );
        assert_eq!(hr_view["data"]["identityProvider"]["hasClientSecret"], true);
        assert!(!hr_view.to_string().contains(&client.client_secret));

        let wrong = [
            signed(&key, &with("aud", json!(client.client_id))),
            signed(&key, &with("iss", json!("http://127.0.0.1:1"))),
            signed(&key, &with("exp", json!(now - 600))),
            // Beta's HR, named by demo's provider: not a person of demo.
            signed(&key, &with("email", json!("hr@beta.test"))),
            signed(&key, &with("email", json!("nobody@demo.rungs.test"))),
            unsigned(&good),
            hs256(&client.client_secret, &good),
        ];
        for token in wrong {
            let r = me(&token).await;
            assert_eq!(
                r["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                "{r}"
            );
            assert!(r["data"].is_null() || r["data"]["me"].is_null(), "{r}");
        }

        // Without an API audience configured, the provider's access tokens are not accepted.
        let mut s = settings(op, &client);
        s.client_secret = None;
        s.api_audience = None;
        app.set_identity_provider(&sys, "demo", s).await.unwrap();
        let r = me(&signed(&key, &good)).await;
        assert_eq!(
            r["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{r}"
        );
    })
    .await;
}

trait Tap: Sized {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}

impl Tap for Value {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}

/// HR connects the provider in the web app's settings (the secret never shown back), people
/// then see it on the sign-in page; a provider that does not answer is not saved; only HR of
/// the organisation reaches the page; HR removes it again.
#[tokio::test]
async fn hr_connects_and_removes_the_identity_provider_in_the_settings() {
    let Some(op) = provider() else { return };
    on_every_backend(async |t| {
        let (base, app) = spawn(&t.db).await;
        seed_two_orgs(&app).await;
        let client = register(op, &base).await;
        let hr = Browser::new();
        hr.password(&base, "demo", DEMO_ADMIN).await;
        let page = hr.get(&format!("{base}/settings")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("People sign in with passwords"));
        assert!(page.body.contains(&format!("{base}/signin/callback")));
        let csrf = form_field(&page.body, "_csrf").unwrap().to_owned();
        let form = |issuer: &str| {
            vec![
                ("_csrf", csrf.clone()),
                ("name", "Test IdP".to_owned()),
                ("issuer", issuer.to_owned()),
                ("client_id", client.client_id.clone()),
                ("client_secret", client.client_secret.clone()),
                ("scopes", "email profile groups".to_owned()),
                ("email_claim", "email".to_owned()),
                ("allowed_domains", "demo.rungs.test".to_owned()),
                ("admin_group_claim", "groups".to_owned()),
                ("admin_group_value", "rungs-hr".to_owned()),
                ("passwords_allowed", "on".to_owned()),
            ]
        };
        // A provider that does not answer is refused, and what was typed stays (not the secret).
        let bad = form("http://127.0.0.1:1");
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = hr.post(&base, "/settings/sso", &bad).await;
        assert_eq!(refused.status, 422);
        assert!(
            refused.body.contains("no OpenID Provider answered"),
            "{}",
            refused.body
        );
        assert!(refused.body.contains(&client.client_id));
        assert!(!refused.body.contains(&client.client_secret));
        assert!(
            app.identity_provider(&Actor::system(), "demo")
                .await
                .unwrap()
                .is_none()
        );

        // An admin group needs both its claim and its value (the use case's rule).
        let half: Vec<(&str, String)> = form(&op.issuer)
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    if k == "admin_group_value" {
                        String::new()
                    } else {
                        v
                    },
                )
            })
            .collect();
        let half: Vec<(&str, &str)> = half.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = hr.post(&base, "/settings/sso", &half).await;
        assert_eq!(refused.status, 422);
        assert!(
            refused.body.contains("give both the claim and the value"),
            "{}",
            refused.body
        );
        assert!(
            app.identity_provider(&Actor::system(), "demo")
                .await
                .unwrap()
                .is_none()
        );

        let good = form(&op.issuer);
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let saved = hr.post(&base, "/settings/sso", &good).await;
        assert_eq!(saved.status, 200, "{}", saved.body);
        assert!(saved.url.ends_with("/settings?done=saved"));
        assert!(
            saved
                .body
                .contains("People sign in with <strong>Test IdP</strong>")
        );
        assert!(saved.body.contains("A secret is stored"));
        assert!(!saved.body.contains(&client.client_secret));
        let stored = app
            .identity_provider(&Actor::system(), "demo")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.allowed_domains, vec!["demo.rungs.test".to_owned()]);
        assert_eq!(stored.admin_group.unwrap().value, "rungs-hr");
        let log = app
            .audit_log(
                &Actor::system(),
                "demo",
                Some("sso.configure"),
                Some(5),
                None,
            )
            .await
            .unwrap();
        assert_eq!(log.items.len(), 1);
        assert!(!log.items[0].entry.detail.contains(&client.client_secret));

        // People see it, and it works.
        let home = Browser::new().sign_in(&base, "demo", DEMO_EMPLOYEE).await;
        assert!(home.url.ends_with("/growth"), "{}", home.url);

        // Only demo's HR: the employee and beta's HR get the plain 404 page.
        for (org, who) in [("demo", DEMO_EMPLOYEE), ("beta", "employee@beta.test")] {
            let b = Browser::new();
            b.password(&base, org, who).await;
            assert_eq!(b.get(&format!("{base}/settings")).await.status, 404);
        }
        let beta_hr = Browser::new();
        beta_hr.password(&base, "beta", "hr@beta.test").await;
        let beta_page = beta_hr.get(&format!("{base}/settings")).await;
        assert!(beta_page.body.contains("People sign in with passwords"));
        assert!(!beta_page.body.contains("Test IdP"));

        // Provisioning tokens: created with the token shown once, listed, revoked.
        let page = hr.get(&format!("{base}/settings")).await;
        assert!(page.body.contains(&format!("{base}/scim/v2")));
        let csrf = form_field(&page.body, "_csrf").unwrap().to_owned();
        let created = hr
            .post(
                &base,
                "/settings/scim/tokens",
                &[("_csrf", csrf.as_str()), ("name", "Okta")],
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.body);
        let at = created
            .body
            .find("rungs_scim_")
            .expect("the new token is shown");
        let token: String = created.body[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        assert!(app.scim_authenticate(&token).await.is_ok());
        let again = hr.get(&format!("{base}/settings")).await;
        assert!(
            again.body.contains("Okta") && !again.body.contains(&token),
            "shown once only"
        );
        let record = app.scim_tokens(&Actor::system(), "demo").await.unwrap()[0].clone();
        let revoked = hr
            .post(
                &base,
                &format!("/settings/scim/tokens/{}/revoke", record.id),
                &[("_csrf", csrf.as_str())],
            )
            .await;
        assert!(
            revoked.body.contains("The provisioning token is revoked"),
            "{}",
            revoked.body
        );
        assert!(app.scim_authenticate(&token).await.is_err());
        // Beta's HR cannot revoke demo's tokens.
        let beta_page = beta_hr.get(&format!("{base}/settings")).await;
        let beta_csrf = form_field(&beta_page.body, "_csrf").unwrap().to_owned();
        let (other, _) = app
            .create_scim_token(&Actor::system(), "demo", "kept")
            .await
            .unwrap();
        let other_id = app.scim_tokens(&Actor::system(), "demo").await.unwrap()[0].id;
        let refused = beta_hr
            .post(
                &base,
                &format!("/settings/scim/tokens/{other_id}/revoke"),
                &[("_csrf", beta_csrf.as_str())],
            )
            .await;
        assert_eq!(refused.status, 404);
        assert!(app.scim_authenticate(&other).await.is_ok());

        // Removed: passwords only again.
        let page = hr.get(&format!("{base}/settings")).await;
        let csrf = form_field(&page.body, "_csrf").unwrap().to_owned();
        let removed = hr
            .post(&base, "/settings/sso/remove", &[("_csrf", csrf.as_str())])
            .await;
        assert!(
            removed.body.contains("Single sign-on is removed"),
            "{}",
            removed.body
        );
        let signin = Browser::new().get(&format!("{base}/signin?org=demo")).await;
        assert!(!signin.body.contains("Sign in with Test IdP"));
    })
    .await;
}
