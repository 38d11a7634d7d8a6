//! The web app over real HTTP on every configured backend, as a browser without JavaScript
//! would use it (cookies kept by hand, forms posted as forms): sign-in, the session's life and
//! end, CSRF, rating oneself, and what a page costs. The stories in a real browser are in
//! `tests/tests/browser.rs`.

#![allow(clippy::unwrap_used)]

use rungs_app::auth::{Auth, AuthConfig};
use rungs_app::demo::{DEMO_ADMIN, DEMO_EMPLOYEE, DEMO_MANAGER, DEMO_PASSWORD};
use rungs_app::testing::seed_two_orgs;
use rungs_app::{Actor, App, PersonChanges};
use rungs_db::Db;
use rungs_db::testing::{TestDb, backends, counting, on_every_backend};
use rungs_domain::auth::SessionLifetime;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

/// The stories' settings: sign-in rate limits far above what they send (one process, one
/// address, many sign-ins of the same people), so that only the tests of limits meet them.
fn test_auth(secret: &str) -> AuthConfig {
    let mut cfg = AuthConfig::new(secret.to_owned().into());
    cfg.sign_ins_per_address = 100_000;
    cfg.sign_ins_per_account = 100_000;
    cfg
}

async fn spawn(db: &Db) -> (String, App) {
    spawn_with(db, SessionLifetime::default()).await
}

async fn spawn_with(db: &Db, web: SessionLifetime) -> (String, App) {
    let mut cfg = test_auth(SECRET);
    cfg.web = web;
    spawn_auth(db, cfg).await
}

async fn spawn_auth(db: &Db, cfg: AuthConfig) -> (String, App) {
    let app = App::new(db.clone()).with_auth(Auth::new(cfg).unwrap());
    let router = rungs_web::router(app.clone(), rungs_web::WebConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum_serve(listener, router).await });
    (format!("http://{addr}"), app)
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) {
    axum::serve(listener, router).await.unwrap();
}

/// A browser without JavaScript: it keeps cookies and follows nothing by itself.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden `_csrf` field.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"_csrf\" value=\"")
            .expect("a CSRF field");
        let rest = &self.body[at + 20..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

impl Browser {
    fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let res = req
            .header("cookie", self.cookie_header())
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        for v in res.headers().get_all("set-cookie") {
            let c = cookie::Cookie::parse(v.to_str().unwrap().to_owned()).unwrap();
            let gone = c.max_age().is_some_and(|a| a.is_zero());
            if gone || c.value().is_empty() {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_owned(), c.value().to_owned());
            }
        }
        Page {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    async fn post_htmx(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("hx-request", "true")
            .form(form);
        self.send(req).await
    }

    /// Posts a multipart form (text fields, and a file field `file` when given).
    async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, Vec<u8>)>,
    ) -> Page {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        if let Some((name, bytes)) = file {
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_owned())
                .mime_str("text/csv")
                .unwrap();
            form = form.part("file", part);
        }
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .multipart(form);
        self.send(req).await
    }

    /// Signs in with the demo password and asserts that it worked.
    async fn signed_in(&mut self, email: &str, context: &str) {
        let r = self.sign_in(email, DEMO_PASSWORD, org_of(email)).await;
        assert_eq!(r.status, 303, "{context}: signing in as {email}");
    }

    async fn sign_in(&mut self, email: &str, password: &str, org: &str) -> Page {
        let form = self.get("/signin").await;
        assert_eq!(form.status, 200);
        let csrf = form.csrf();
        self.post(
            "/signin",
            &[
                ("email", email),
                ("password", password),
                ("organisation", org),
                ("_csrf", &csrf),
                ("next", "/growth"),
            ],
        )
        .await
    }
}

#[tokio::test]
async fn an_employee_signs_in_reads_their_growth_rates_themselves_and_signs_out() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let (base, app) = spawn(&t.db).await;
        seed_two_orgs(&app).await;
        let mut browser = Browser::new(&base);

        // Signed out, a page sends you to sign in, and back.
        let r = browser.get("/growth").await;
        assert_eq!(r.status, 303, "{b}");
        assert_eq!(r.location(), "/signin?next=/growth", "{b}");

        // A wrong password says so, and sets no session.
        let r = browser
            .sign_in(DEMO_EMPLOYEE, "wrong password!", "demo")
            .await;
        assert_eq!(r.status, 401, "{b}");
        assert!(
            r.body.contains("wrong organisation, email or password"),
            "{b}"
        );
        // The employee's password with another organisation's slug, or none, opens nothing.
        for org in ["beta", ""] {
            let r = browser.sign_in(DEMO_EMPLOYEE, DEMO_PASSWORD, org).await;
            assert_eq!(r.status, 401, "{b}: organisation {org:?}");
        }
        assert!(
            !browser.cookies.contains_key(rungs_web::SESSION_COOKIE),
            "{b}"
        );

        // The right one: a session cookie the page's scripts cannot read.
        let r = browser.sign_in(DEMO_EMPLOYEE, DEMO_PASSWORD, "demo").await;
        assert_eq!(r.status, 303, "{b}: {}", r.body);
        assert_eq!(r.location(), "/growth", "{b}");
        let set = r
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|v| v.starts_with("rungs_session="))
            .unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{b}: {set}"
        );

        let page = browser.get("/growth").await;
        assert_eq!(page.status, 200, "{b}");
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{b}"
        );
        assert!(!page.body.contains("<script>"), "{b}: no inline script");
        assert!(!page.body.contains(" style=\""), "{b}: no inline style");
        for text in [
            "Emil Employee",
            "Where I stand",
            "Toward Advanced",
            "Gaps",
            "<progress",
        ] {
            assert!(page.body.contains(text), "{b}: {text} missing");
        }
        assert!(
            page.body.contains("<svg role=\"img\" aria-label="),
            "{b}: the radar"
        );
        assert!(
            !page.body.contains("Bo Employee"),
            "{b}: another organisation's person"
        );

        // A rating without the session's CSRF token is refused and writes nothing.
        let employee = app
            .person_by_email(&Actor::system(), "demo", DEMO_EMPLOYEE)
            .await
            .unwrap();
        let count = || async {
            app.assessments(
                &Actor::system(),
                "demo",
                employee.id,
                &Default::default(),
                Some(100),
                None,
            )
            .await
            .unwrap()
            .items
            .len()
        };
        let before = count().await;
        let rate = [
            ("expectation", "advanced-data-structures"),
            ("rating", "meets"),
            ("evidence", "Built the trie behind search"),
            ("links", "https://example.com/pr/7"),
        ];
        let r = browser
            .post(
                "/growth/rate",
                &[rate.as_slice(), &[("_csrf", "forged")]].concat(),
            )
            .await;
        assert_eq!(r.status, 403, "{b}");
        assert_eq!(count().await, before, "{b}");

        // With it, through htmx: the criterion comes back in place with the rating.
        let csrf = page.csrf();
        let form = [rate.as_slice(), &[("_csrf", csrf.as_str())]].concat();
        let r = browser.post_htmx("/growth/rate", &form).await;
        assert_eq!(r.status, 200, "{b}: {}", r.body);
        assert!(r.body.starts_with("<li class=\"item"), "{b}: a fragment");
        assert!(r.body.contains("Your rating is saved"), "{b}");
        assert!(r.body.contains("Built the trie behind search"), "{b}");
        assert_eq!(count().await, before + 1, "{b}");

        // Without JavaScript: the page again, at the criterion.
        let r = browser.post("/growth/rate", &form).await;
        assert_eq!(r.status, 303, "{b}");
        assert!(r.location().ends_with("#c-advanced-data-structures"), "{b}");

        // A rating the scale does not have is explained, not stored.
        let bad = [
            ("expectation", "advanced-data-structures"),
            ("rating", "superb"),
            ("_csrf", csrf.as_str()),
        ];
        let r = browser.post_htmx("/growth/rate", &bad).await;
        assert_eq!(r.status, 422, "{b}");
        assert!(r.body.contains("Choose a rating"), "{b}");
        assert_eq!(count().await, before + 2, "{b}");

        // Signing out ends the session on the server: the old cookie is refused.
        let stale = browser.cookies.clone();
        let r = browser.post("/signout", &[("_csrf", csrf.as_str())]).await;
        assert_eq!(r.status, 303, "{b}");
        assert!(
            !browser.cookies.contains_key(rungs_web::SESSION_COOKIE),
            "{b}"
        );
        browser.cookies = stale;
        let r = browser.get("/growth").await;
        assert_eq!(r.status, 303, "{b}");
        assert!(r.location().starts_with("/signin?ended=1"), "{b}");

        // The browser remembers the organisation; a shared link names one; anything that is
        // not a slug is not echoed.
        let offered = |p: &Page| {
            let at = p
                .body
                .find("id=\"organisation\"")
                .expect("the organisation field");
            let rest = &p.body[at..];
            let v = rest.find("value=\"").unwrap() + 7;
            rest[v..v + rest[v..].find('"').unwrap()].to_owned()
        };
        assert_eq!(offered(&browser.get("/signin").await), "demo", "{b}");
        assert_eq!(
            offered(&browser.get("/signin?org=beta").await),
            "beta",
            "{b}"
        );
        let odd = browser.get("/signin?org=%3Cb%3Ex").await;
        assert_eq!(offered(&odd), "demo", "{b}");
        assert_eq!(
            offered(&Browser::new(&base).get("/signin").await),
            "",
            "{b}"
        );
    })
    .await;
}

/// Sign-ins of one organisation at the same moment all succeed (two at once deadlocked on
/// MariaDB when each swept ended sessions inside its own transaction).
#[tokio::test]
async fn sign_ins_at_the_same_moment_all_succeed() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        // Every password check at once, so that the sessions are stored at the same moment.
        let mut cfg = test_auth(SECRET);
        cfg.max_concurrent_hashes = 16;
        let (base, app) = spawn_auth(&t.db, cfg).await;
        seed_two_orgs(&app).await;
        // Three rounds, so that later ones find sessions already stored. Four at once per
        // person at most: each attempt counts as a failure until its password is checked, and
        // the fifth at once would lock the account (as parallel guesses must).
        let people = [DEMO_EMPLOYEE, DEMO_MANAGER, DEMO_ADMIN];
        for round in 0..3 {
            let mut at_once = tokio::task::JoinSet::new();
            for i in 0..12 {
                let base = base.clone();
                let who = people[i % 3];
                at_once.spawn(async move {
                    let mut browser = Browser::new(&base);
                    browser
                        .sign_in(who, DEMO_PASSWORD, org_of(who))
                        .await
                        .status
                });
            }
            let statuses: Vec<u16> = at_once.join_all().await;
            assert_eq!(statuses, vec![303; 12], "{b}, round {round}");
        }
    })
    .await;
}

/// Sessions end by themselves: after `idle` without a request (each request, at most every
/// `touch_every`, pushes that back), and `absolute` after signing in however active. Lifetimes
/// of seconds here, so that real time passes; margins of a second or more allow for databases
/// that keep whole seconds (rounded or truncated) and for a loaded machine.
#[tokio::test]
async fn an_idle_session_and_an_old_one_end_by_themselves() {
    use std::time::Duration;
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let secs = chrono::Duration::seconds;
        let idle = SessionLifetime {
            idle: secs(4),
            absolute: chrono::Duration::hours(1),
            touch_every: chrono::Duration::milliseconds(200),
        };
        let old = SessionLifetime {
            idle: chrono::Duration::hours(1),
            absolute: secs(3),
            touch_every: chrono::Duration::milliseconds(200),
        };
        let (idle_base, app) = spawn_with(&t.db, idle).await;
        seed_two_orgs(&app).await;
        let (old_base, _) = spawn_with(&t.db, old).await;
        let idle_story = async {
            let mut browser = Browser::new(&idle_base);
            browser.signed_in(DEMO_EMPLOYEE, &b).await;
            // Active for longer than `idle`: each request keeps the session alive.
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                assert_eq!(
                    browser.get("/growth").await.status,
                    200,
                    "{b}: active, yet ended"
                );
            }
            // Then quiet for longer than `idle`.
            tokio::time::sleep(Duration::from_millis(5500)).await;
            let r = browser.get("/growth").await;
            assert_eq!(r.status, 303, "{b}: idle, yet live");
            assert!(r.location().starts_with("/signin?ended=1"), "{b}");
            // A fresh sign-in works again.
            browser.signed_in(DEMO_EMPLOYEE, &b).await;
            assert_eq!(browser.get("/growth").await.status, 200, "{b}");
        };
        let old_story = async {
            let mut browser = Browser::new(&old_base);
            browser.signed_in(DEMO_MANAGER, &b).await;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert_eq!(browser.get("/team").await.status, 200, "{b}");
            // Seen 3 s ago (well within `idle`), but signed in longer than `absolute` ago.
            tokio::time::sleep(Duration::from_millis(3000)).await;
            let r = browser.get("/team").await;
            assert_eq!(r.status, 303, "{b}: past its absolute end, yet live");
            assert!(r.location().starts_with("/signin?ended=1"), "{b}");
        };
        tokio::join!(idle_story, old_story);
    })
    .await;
}

#[tokio::test]
async fn a_password_change_or_a_deactivation_ends_every_session_of_that_person() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let (base, app) = spawn(&t.db).await;
        seed_two_orgs(&app).await;
        let sys = Actor::system();
        let mut phone = Browser::new(&base);
        let mut laptop = Browser::new(&base);
        for browser in [&mut phone, &mut laptop] {
            let r = browser
                .sign_in(DEMO_EMPLOYEE, DEMO_PASSWORD, org_of(DEMO_EMPLOYEE))
                .await;
            assert_eq!(r.status, 303, "{b}");
            assert_eq!(browser.get("/growth").await.status, 200, "{b}");
        }
        app.set_password(
            &sys,
            "demo",
            DEMO_EMPLOYEE,
            "a new long passphrase".to_owned().into(),
        )
        .await
        .unwrap();
        for browser in [&mut phone, &mut laptop] {
            let r = browser.get("/growth").await;
            assert_eq!(r.status, 303, "{b}");
            assert!(r.location().starts_with("/signin?ended=1"), "{b}");
        }

        // Beta's employee, signed in, is deactivated by their HR admin.
        let mut beta = Browser::new(&base);
        let r = beta
            .sign_in("employee@beta.test", DEMO_PASSWORD, "beta")
            .await;
        assert_eq!(r.status, 303, "{b}");
        let page = beta.get("/growth").await;
        assert!(page.body.contains("Bo Employee"), "{b}");
        assert!(!page.body.contains("Emil Employee"), "{b}");
        let bo = app
            .person_by_email(&sys, "beta", "employee@beta.test")
            .await
            .unwrap();
        let off = PersonChanges {
            active: Some(false),
            ..PersonChanges::default()
        };
        app.update_person(&sys, "beta", bo.id, off).await.unwrap();
        let r = beta.get("/growth").await;
        assert_eq!(r.status, 303, "{b}");
        // And cannot sign in again.
        let r = beta
            .sign_in("employee@beta.test", DEMO_PASSWORD, "beta")
            .await;
        assert_eq!(r.status, 401, "{b}");
    })
    .await;
}

#[tokio::test]
async fn forms_from_elsewhere_are_refused_and_unknown_pages_are_plain_404s() {
    let t = TestDb::fresh(rungs_db::Backend::Sqlite).await;
    let (base, app) = spawn(&t.db).await;
    seed_two_orgs(&app).await;
    let mut browser = Browser::new(&base);

    // Sign-in's own token: a form posted without the cookie's twin is refused.
    let r = browser
        .post(
            "/signin",
            &[
                ("email", DEMO_EMPLOYEE),
                ("password", DEMO_PASSWORD),
                ("_csrf", "guess"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(!browser.cookies.contains_key(rungs_web::SESSION_COOKIE));

    let r = browser.sign_in(DEMO_EMPLOYEE, DEMO_PASSWORD, "demo").await;
    assert_eq!(r.status, 303);
    let csrf = browser.get("/growth").await.csrf();
    // The right token, but the browser says the form came from another site.
    let req = browser
        .http
        .post(format!("{base}/growth/rate"))
        .header("origin", "https://evil.example")
        .form(&[
            ("expectation", "advanced-data-structures"),
            ("rating", "meets"),
            ("_csrf", csrf.as_str()),
        ]);
    let r = browser.send(req).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Form expired"));

    // After signing in, `next` only ever leads to this site.
    let mut other = Browser::new(&base);
    let form = other.get("/signin").await.csrf();
    let r = other
        .post(
            "/signin",
            &[
                ("email", DEMO_EMPLOYEE),
                ("password", DEMO_PASSWORD),
                ("organisation", "demo"),
                ("_csrf", form.as_str()),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/");
    // Home is one's growth; a manager's is their team.
    assert_eq!(other.get("/").await.location(), "/growth");

    let r = browser.get("/no/such/page").await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("Page not found"));
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    // Assets are served from the binary, for a year.
    let page = browser.get("/growth").await;
    let at = page.body.find("/assets/app.").unwrap();
    let path = &page.body[at..];
    let path = &path[..path.find('"').unwrap()];
    let r = browser.get(path).await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(browser.get("/assets/app.nothash.css").await.status, 404);
    t.drop_database().await;
}

/// The first `/people/{id}` link of a page whose text follows it is `name`.
/// The organisation of a test person: the first label of their email's domain.
/// Someone of the demo organisation HR just added: given the demo's password, signed in.
async fn first_sign_in(app: &App, base: &str, email: &str, context: &str) -> Browser {
    app.set_password(
        &Actor::system(),
        "demo",
        email,
        DEMO_PASSWORD.to_owned().into(),
    )
    .await
    .unwrap();
    let mut browser = Browser::new(base);
    browser.signed_in(email, context).await;
    browser
}

fn org_of(email: &str) -> &str {
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
    domain.split('.').next().unwrap_or("")
}

fn link_to(page: &Page, name: &str) -> String {
    let at = page.body.find(&format!("\">{name}</a>")).expect(name);
    let start = page.body[..at].rfind("/people/").unwrap();
    page.body[start..at].to_owned()
}

#[tokio::test]
async fn a_manager_reviews_the_team_assesses_and_handles_the_promotion_case() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let (base, app) = spawn(&t.db).await;
        seed_two_orgs(&app).await;
        let mut manager = Browser::new(&base);
        assert_eq!(
            manager
                .sign_in(DEMO_MANAGER, DEMO_PASSWORD, org_of(DEMO_MANAGER))
                .await
                .status,
            303
        );

        // Home is the team, with the navigation's link to it.
        assert_eq!(manager.get("/").await.location(), "/team", "{b}");
        let team = manager.get("/team").await;
        assert_eq!(team.status, 200, "{b}");
        assert!(
            team.body.contains("href=\"/team\" aria-current=\"page\""),
            "{b}"
        );
        assert!(team.body.contains("Emil Employee"), "{b}");
        assert!(team.body.contains("Levels in my team"), "{b}");
        assert!(!team.body.contains("Bo Employee"), "{b}");
        let direct = manager.get("/team?scope=direct&sort=name").await;
        assert_eq!(direct.status, 200, "{b}");
        assert!(!direct.body.contains("(indirect)"), "{b}");
        // The employee reports to this manager directly; every direct report is listed.
        assert!(direct.body.contains("Emil Employee"), "{b}");
        let rows = direct.body.matches("<a href=\"/people/").count();
        assert!(
            direct
                .body
                .contains(&format!("<h2 id=\"people-h\">{rows} p")),
            "{b}: {rows} rows, and the total says otherwise"
        );
        // Filters: by name or email, by track, the ready only; each listing's count agrees
        // with its rows, and the tracks' listings add up to the team.
        let rows_of = |p: &Page| p.body.matches("<a href=\"/people/").count();
        let everyone = rows_of(&team);
        let named = manager.get("/team?q=EMIL").await;
        assert_eq!(rows_of(&named), 1, "{b}: {}", named.body);
        assert!(named.body.contains("Emil Employee"), "{b}");
        assert!(named.body.contains("1 person matches"), "{b}");
        assert!(
            named.body.contains("value=\"EMIL\""),
            "{b}: the search is kept"
        );
        let nobody = manager.get("/team?q=%25_nobody").await;
        assert_eq!(rows_of(&nobody), 0, "{b}");
        assert!(nobody.body.contains("No one in this team matches"), "{b}");
        let ready = manager.get("/team?ready=1").await;
        assert_eq!(
            rows_of(&ready),
            team.body
                .matches("<strong class=\"ok-text\">Ready</strong>")
                .count(),
            "{b}"
        );
        assert!(!ready.body.contains("Not yet <span"), "{b}");
        let select = team
            .body
            .split("id=\"track\"")
            .nth(1)
            .and_then(|s| s.split("</select>").next())
            .expect("a track filter");
        let keys: Vec<&str> = select
            .split("<option value=\"")
            .skip(1)
            .filter_map(|o| o.split('"').next())
            .filter(|k| !k.is_empty())
            .collect();
        assert!(keys.len() >= 2, "{b}: {select}");
        let mut on_tracks = 0;
        for k in &keys {
            let p = manager.get(&format!("/team?track={k}")).await;
            assert_eq!(p.status, 200, "{b}");
            let n = rows_of(&p);
            assert!(
                p.body.contains(&format!("<h2 id=\"people-h\">{n} p")),
                "{b}: {k}: {n} rows, and the total says otherwise"
            );
            on_tracks += n;
        }
        let unplaced = team.body.matches("<td>no level yet</td>").count();
        assert_eq!(on_tracks + unplaced, everyone, "{b}");
        // "Levels in my team" counts the same people as the listing (one page holds them
        // all here), for the whole team and for the direct reports.
        for p in [&team, &direct] {
            assert!(
                !p.body.contains("rel=\"next\""),
                "{b}: the team fits a page"
            );
            let listed = positions_listed(p);
            assert!(!listed.is_empty(), "{b}");
            assert_eq!(level_table(p), listed, "{b}");
        }
        let emil = link_to(&team, "Emil Employee");

        // Emil's page: the plan with both ratings, an assessment form, the open case.
        let page = manager.get(&emil).await;
        assert_eq!(page.status, 200, "{b}");
        assert!(page.body.contains("Their own rating"), "{b}");
        assert!(
            page.body.contains(&format!("action=\"{emil}/assess\"")),
            "{b}"
        );
        assert!(page.body.contains("An open case"), "{b}");
        let csrf = page.csrf();
        let r = manager
            .post_htmx(
                &format!("{emil}/assess"),
                &[
                    ("_csrf", csrf.as_str()),
                    ("expectation", "advanced-data-structures"),
                    ("rating", "meets"),
                    ("evidence", "Reviewed the trie PR"),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{b}: {}", r.body);
        assert!(r.body.contains("The assessment is saved."), "{b}");
        assert!(r.body.contains("Reviewed the trie PR"), "{b}");

        // Comment, withdraw, and propose again with a justification.
        let case_form = |page: &Page, action: &str| {
            let at = page.body.find(&format!("/{action}\"")).unwrap();
            let start = page.body[..at].rfind("/cases/").unwrap();
            page.body[start..at + action.len() + 1].to_owned()
        };
        let comment = case_form(&page, "comment");
        let r = manager
            .post(
                &comment,
                &[("_csrf", csrf.as_str()), ("note", "Strong quarter")],
            )
            .await;
        assert_eq!(r.status, 303, "{b}: {}", r.body);
        let withdraw = case_form(&page, "withdraw");
        let r = manager
            .post(
                &withdraw,
                &[("_csrf", csrf.as_str()), ("note", "Rescoping")],
            )
            .await;
        assert_eq!(r.status, 303, "{b}: {}", r.body);
        let page = manager.get(&emil).await;
        assert!(page.body.contains("Propose the promotion"), "{b}");
        assert!(page.body.contains("withdrawn"), "{b}");
        let r = manager
            .post(
                &format!("{emil}/propose"),
                &[
                    ("_csrf", csrf.as_str()),
                    ("target", "python-developer/advanced"),
                    ("justification", "Leads the search rewrite"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{b}: {}", r.body);
        assert!(r.location().ends_with("?done=proposed#cases"), "{b}");

        // The employee sees the case and its events in their history.
        let mut employee = Browser::new(&base);
        assert_eq!(
            employee
                .sign_in(DEMO_EMPLOYEE, DEMO_PASSWORD, org_of(DEMO_EMPLOYEE))
                .await
                .status,
            303
        );
        let history = employee.get("/history").await;
        assert_eq!(history.status, 200, "{b}");
        for text in [
            "Leads the search rewrite",
            "Strong quarter",
            "withdrawn",
            "Levels held",
        ] {
            assert!(history.body.contains(text), "{b}: {text}");
        }
        assert!(
            !history.body.contains("href=\"/team\""),
            "{b}: no team link for an employee"
        );
        // The employee may not open a colleague's page, nor the manager's: the same 404.
        let me_page = employee.get(&emil).await;
        assert_eq!(me_page.status, 404, "{b}: one's own page is My growth");
        let colleague = link_to(&team, &first_other_than(&team, "Emil Employee"));
        let r = employee.get(&colleague).await;
        assert_eq!(r.status, 404, "{b}: {colleague}");
        assert!(r.body.contains("Page not found"), "{b}");
        // Explore and the matrix.
        let explore = employee.get("/explore?to=data-analyst/intermediate").await;
        assert_eq!(explore.status, 200, "{b}");
        assert!(explore.body.contains("A move to another track."), "{b}");
        let matrix = employee.get("/matrix").await;
        assert_eq!(matrix.status, 200, "{b}");
        assert!(matrix.body.contains("You are here"), "{b}");

        // Another organisation's manager: Emil's page does not exist for them.
        let mut beta = Browser::new(&base);
        assert_eq!(
            beta.sign_in("manager@beta.test", DEMO_PASSWORD, "beta")
                .await
                .status,
            303
        );
        let r = beta.get(&emil).await;
        assert_eq!(r.status, 404, "{b}");
        assert_eq!(beta.get("/people/not-an-id").await.status, 404, "{b}");
        let beta_csrf = beta.get("/growth").await.csrf();
        let r = beta
            .post(
                &format!("{emil}/assess"),
                &[
                    ("_csrf", beta_csrf.as_str()),
                    ("expectation", "basic-syntax"),
                    ("rating", "meets"),
                ],
            )
            .await;
        assert_eq!(r.status, 404, "{b}: assessing across organisations");
    })
    .await;
}

/// The first person named in a team page's table who is not `not`.
fn first_other_than(page: &Page, not: &str) -> String {
    page.body
        .split("<a href=\"/people/")
        .skip(1)
        .map(|rest| {
            let start = rest.find('>').unwrap() + 1;
            let end = rest.find("</a>").unwrap();
            rest[start..end].to_owned()
        })
        .find(|n| n != not)
        .unwrap()
}

/// Each page costs the same statements whatever the size of the organisation.
#[tokio::test]
async fn every_page_costs_the_same_statements_at_10_and_2000_people() {
    for backend in backends() {
        let mut runs = Vec::new();
        for size in [10usize, 2_000] {
            let t = TestDb::fresh(backend).await;
            let (db, statements) = counting(&t.db);
            let (base, app) = spawn(&db).await;
            app.seed_demo(&Actor::system(), size).await.unwrap();
            let mut employee = Browser::new(&base);
            assert_eq!(
                employee
                    .sign_in(DEMO_EMPLOYEE, DEMO_PASSWORD, org_of(DEMO_EMPLOYEE))
                    .await
                    .status,
                303
            );
            let mut manager = Browser::new(&base);
            assert_eq!(
                manager
                    .sign_in(DEMO_MANAGER, DEMO_PASSWORD, org_of(DEMO_MANAGER))
                    .await
                    .status,
                303
            );
            let mut hr = Browser::new(&base);
            assert_eq!(
                hr.sign_in(DEMO_ADMIN, DEMO_PASSWORD, org_of(DEMO_ADMIN))
                    .await
                    .status,
                303
            );
            let emil = app
                .person_by_email(&Actor::system(), "demo", DEMO_EMPLOYEE)
                .await
                .unwrap();
            let emil = format!("/people/{}", emil.id);
            let pages: [(&str, &str); 20] = [
                ("employee", "/growth"),
                ("employee", "/explore?to=data-analyst/intermediate"),
                ("employee", "/history"),
                ("employee", "/matrix"),
                ("manager", "/team"),
                ("manager", "/team?scope=direct&sort=level"),
                (
                    "manager",
                    "/team?q=e&ready=&track=python-developer&sort=name",
                ),
                ("manager", emil.as_str()),
                ("hr", "/people"),
                (
                    "hr",
                    "/people?q=e&track=python-developer&level=&manager=manager%40demo.rungs.test&inactive=1",
                ),
                ("hr", "/people?unplaced=1&inactive=1"),
                ("hr", "/promotions"),
                ("hr", "/promotions?status=all"),
                ("hr", "/promotions/rule"),
                ("hr", "/people/new"),
                ("hr", "/people/import"),
                ("hr", "/analytics"),
                ("hr", "/analytics?manager=manager%40demo.rungs.test"),
                ("hr", "/audit"),
                (
                    "hr",
                    "/audit?action=promotion.propose&person=employee%40demo.rungs.test&from=2020-01-01&to=2999-12-31",
                ),
            ];
            let mut used = Vec::new();
            for (who, path) in pages {
                let browser = match who {
                    "employee" => &mut employee,
                    "manager" => &mut manager,
                    _ => &mut hr,
                };
                // Once to let the published version's caches fill, then counted.
                assert_eq!(browser.get(path).await.status, 200, "{path}");
                let before = statements.load(Ordering::Relaxed);
                let page = browser.get(path).await;
                assert_eq!(page.status, 200, "{path}");
                let path = if path.starts_with("/people/") && path.len() == "/people/".len() + 36 {
                    "/people/{id}"
                } else {
                    path
                };
                used.push((path.to_owned(), statements.load(Ordering::Relaxed) - before));
            }
            runs.push(used);
            t.drop_database().await;
        }
        println!("{backend:?}: statements per page at 10 and 2,000 people: {runs:?}");
        assert_eq!(
            runs[0], runs[1],
            "{backend:?}: a page grew with the organisation"
        );
        for (path, n) in &runs[0] {
            assert!(*n <= 40, "{backend:?}: {path} ran {n} statements");
        }
    }
}

/// The HR admin's directory: everyone of their organisation and no one else's, searched,
/// filtered by track, manager and deactivation, paged by cursor; the people pages of anyone
/// else are a plain 404, and their navigation does not offer it. On every backend.
#[tokio::test]
async fn the_hr_directory_searches_filters_and_pages_for_hr_only() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let (base, app) = spawn(&t.db).await;
        seed_two_orgs(&app).await;
        let sys = Actor::system();
        // Forty more people, to need a second page.
        let csv: String = std::iter::once("email,name\n".to_owned())
            .chain((0..40).map(|i| format!("extra{i:02}@demo.rungs.test,Extra {i:02}\n")))
            .collect();
        app.import_people(&sys, "demo", &csv, "extra.csv", None)
            .await
            .unwrap();
        let total = app
            .people_page(&sys, "demo", &Default::default(), Some(100), None)
            .await
            .unwrap()
            .total;
        assert!(total > 50, "{b}: {total}");

        let mut hr = Browser::new(&base);
        hr.signed_in(DEMO_ADMIN, &b).await;
        let rows = |p: &Page| p.body.matches("<th scope=\"row\"><a href=\"").count();
        let first = hr.get("/people").await;
        assert_eq!(first.status, 200, "{b}");
        assert!(first.body.contains(&format!("{total} people")), "{b}");
        assert!(
            first.body.contains("aria-current=\"page\">People</a>"),
            "{b}"
        );
        assert_eq!(rows(&first), 50, "{b}");
        assert!(
            !first.body.contains("@beta.test"),
            "{b}: another organisation's people"
        );
        // The next page holds the rest, none twice.
        let next = first.body.split("<a href=\"").find_map(|s| {
            s.split_once("\" rel=\"next\"")
                .map(|(h, _)| h.replace("&amp;", "&"))
        });
        let second = hr.get(&next.expect("a next page")).await;
        assert_eq!(rows(&second), total - 50, "{b}");
        // Each row links to the person's page; the HR admin's own, to My growth.
        let ids = |p: &Page| -> Vec<String> {
            p.body
                .split("<th scope=\"row\"><a href=\"")
                .skip(1)
                .map(|s| s.split('"').next().unwrap().to_owned())
                .collect()
        };
        let mut all = ids(&first);
        all.extend(ids(&second));
        assert_eq!(
            all.iter().filter(|h| *h == "/growth").count(),
            1,
            "{b}: {all:?}"
        );
        assert!(
            all.iter()
                .all(|h| h == "/growth" || h.starts_with("/people/")),
            "{b}"
        );
        assert_eq!(
            [&first, &second]
                .iter()
                .map(|p| p
                    .body
                    .matches("</a> <span class=\"muted\">(you)</span>")
                    .count())
                .sum::<usize>(),
            1,
            "{b}"
        );
        all.sort();
        all.dedup();
        assert_eq!(all.len(), total, "{b}");

        // Search, and a manager's direct reports.
        let found = hr.get("/people?q=EMIL").await;
        assert!(found.body.contains("1 person matches"), "{b}");
        assert!(found.body.contains("Emil Employee"), "{b}");
        let reports = hr.get("/people?manager=manager%40demo.rungs.test").await;
        let n = rows(&reports);
        assert!(n > 0, "{b}");
        assert_eq!(
            reports
                .body
                .matches("<td>manager@demo.rungs.test</td>")
                .count(),
            n,
            "{b}: each row names the manager"
        );
        let nobody = hr.get("/people?manager=nobody%40demo.rungs.test").await;
        assert!(
            nobody
                .body
                .contains("No one in this organisation has the email"),
            "{b}"
        );
        // Another organisation's manager is no one here.
        let foreign = hr.get("/people?manager=manager%40beta.test").await;
        assert_eq!(rows(&foreign), 0, "{b}");
        // A track: fewer people, each placed on it.
        let on_track = hr.get("/people?track=python-developer").await;
        let n = rows(&on_track);
        assert!(n > 0 && n < 50, "{b}: {n}");

        // Deactivated people are left out unless asked for.
        let emil = app
            .person_by_email(&sys, "demo", DEMO_EMPLOYEE)
            .await
            .unwrap();
        app.update_person(
            &sys,
            "demo",
            emil.id,
            PersonChanges {
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            !hr.get("/people?q=emil")
                .await
                .body
                .contains("Emil Employee"),
            "{b}"
        );
        let with = hr.get("/people?q=emil&inactive=1").await;
        assert!(
            with.body.contains("Emil Employee") && with.body.contains("Deactivated"),
            "{b}"
        );

        // A manager and an employee: no People in the navigation, and the page is a 404.
        for who in [DEMO_MANAGER, "employee@beta.test"] {
            let mut other = Browser::new(&base);
            other.signed_in(who, &b).await;
            let home = other.get("/matrix").await;
            assert!(!home.body.contains("href=\"/people\""), "{b}: {who}");
            assert_eq!(other.get("/people").await.status, 404, "{b}: {who}");
        }
        // Beta's HR sees beta's people only.
        let mut beta = Browser::new(&base);
        beta.signed_in("hr@beta.test", &b).await;
        let theirs = beta.get("/people").await;
        assert_eq!(theirs.status, 200, "{b}");
        assert!(!theirs.body.contains("@demo.rungs.test"), "{b}");
    })
    .await;
}

/// The open cases of the demo organisation, as the operator reads them.
async fn open_cases(app: &App) -> Vec<rungs_app::CaseView> {
    app.promotion_cases(
        &Actor::system(),
        "demo",
        Some(rungs_domain::promotion::PromotionStatus::Proposed),
        false,
        Some(100),
        None,
    )
    .await
    .unwrap()
    .items
}

/// The HR admin's promotion queue: the open cases with readiness and comments; a rejection
/// needs its reason, an approval records the level from its date; nobody decides a case they
/// proposed; the readiness rule is previewed (and the preview agrees with readiness computed
/// person by person once saved). Managers, employees and another organisation's HR get 404
/// and decide nothing. On every backend.
#[tokio::test]
async fn the_promotion_queue_and_the_readiness_rule_for_hr_only() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let (base, app) = spawn(&t.db).await;
        seed_two_orgs(&app).await;
        let sys = Actor::system();
        let manager = app
            .person_by_email(&sys, "demo", DEMO_MANAGER)
            .await
            .unwrap();
        let emil = app
            .person_by_email(&sys, "demo", DEMO_EMPLOYEE)
            .await
            .unwrap();
        let as_manager = Actor::Person {
            id: manager.id,
            org: manager.org_id,
            is_admin: false,
        };
        // A second open case: the manager proposes another report.
        let reports = app
            .people_page(
                &sys,
                "demo",
                &rungs_app::PeopleFilter {
                    manager: Some(manager.id),
                    ..Default::default()
                },
                Some(100),
                None,
            )
            .await
            .unwrap()
            .items;
        let mut other = None;
        for r in reports.iter().filter(|r| r.person.id != emil.id) {
            let proposal = rungs_app::Proposal {
                person: r.person.id,
                target: None,
                justification: "Carries the on-call rotation",
            };
            if let Ok(c) = app.propose_promotion(&as_manager, "demo", proposal).await {
                other = Some(c);
                break;
            }
        }
        let other = other.expect("a second report to propose");
        let open = open_cases(&app).await;
        let emil_case = open
            .iter()
            .find(|c| c.case.person_id == emil.id)
            .expect("the demo's open case")
            .case
            .id
            .to_string();
        let other_case = other.case.id.to_string();

        let mut hr = Browser::new(&base);
        hr.signed_in(DEMO_ADMIN, &b).await;
        let queue = hr.get("/promotions").await;
        assert_eq!(queue.status, 200, "{b}");
        assert!(
            queue.body.contains("aria-current=\"page\">Promotions</a>"),
            "{b}"
        );
        assert!(
            queue.body.contains(&format!("{} open cases", open.len())),
            "{b}"
        );
        for id in [&emil_case, &other_case] {
            assert!(
                queue
                    .body
                    .contains(&format!("action=\"/cases/{id}/approve\"")),
                "{b}: {id}"
            );
        }
        // Readiness with its reasons, and the proposer's justification.
        assert!(queue.body.contains("criteria new at"), "{b}");
        assert!(queue.body.contains("Carries the on-call rotation"), "{b}");
        // Beta's case is not here.
        let beta_case = app
            .promotion_cases(&sys, "beta", None, false, Some(10), None)
            .await
            .unwrap()
            .items[0]
            .case
            .id
            .to_string();
        assert!(!queue.body.contains(&beta_case), "{b}");
        let csrf = queue.csrf();

        // A rejection without its reason is not saved, and says so at the case.
        let refused = hr
            .post(
                &format!("/cases/{other_case}/reject"),
                &[("_csrf", &csrf), ("note", "  ")],
            )
            .await;
        assert_eq!(refused.status, 422, "{b}");
        assert!(refused.body.contains("Not saved:"), "{b}");
        assert_eq!(open_cases(&app).await.len(), open.len(), "{b}");
        // A date that is not one.
        let bad_date = hr
            .post(
                &format!("/cases/{emil_case}/approve"),
                &[("_csrf", &csrf), ("note", "x"), ("effective", "2026-02-30")],
            )
            .await;
        assert_eq!(bad_date.status, 422, "{b}");
        assert!(bad_date.body.contains("value=\"2026-02-30\""), "{b}: kept");

        // Reject one, approve the other.
        let rejected = hr
            .post(
                &format!("/cases/{other_case}/reject"),
                &[
                    ("_csrf", &csrf),
                    ("note", "Not this cycle: lead a project first"),
                ],
            )
            .await;
        assert_eq!(rejected.status, 303, "{b}");
        assert_eq!(rejected.location(), "/promotions?done=rejected", "{b}");
        let effective = chrono::Utc::now().date_naive().to_string();
        let approved = hr
            .post(
                &format!("/cases/{emil_case}/approve"),
                &[
                    ("_csrf", &csrf),
                    ("note", "Well earned"),
                    ("effective", &effective),
                ],
            )
            .await;
        assert_eq!(approved.status, 303, "{b}");
        let after = hr.get(approved.location()).await;
        assert!(after.body.contains("The promotion is approved"), "{b}");
        assert!(!after.body.contains(&emil_case), "{b}: no longer open");
        let case = |id: &str| {
            let (app, id) = (app.clone(), id.parse::<uuid::Uuid>().unwrap());
            async move {
                app.promotion_case(&Actor::system(), "demo", rungs_domain::CaseId(id))
                    .await
                    .unwrap()
                    .case
            }
        };
        assert_eq!(case(&other_case).await.status.as_str(), "rejected", "{b}");
        let decided = case(&emil_case).await;
        assert_eq!(decided.status.as_str(), "approved", "{b}");
        let now = app
            .person_view(&sys, "demo", emil.id)
            .await
            .unwrap()
            .current
            .unwrap();
        assert_eq!(
            (
                now.track.as_str(),
                now.level.as_str(),
                now.effective.to_string()
            ),
            (
                decided.to.track.as_str(),
                decided.to.level.as_str(),
                effective.clone()
            ),
            "{b}"
        );
        let done = hr.get("/promotions?status=rejected").await;
        assert!(done.body.contains(&other_case), "{b}");
        assert!(
            done.body.contains("Not this cycle: lead a project first"),
            "{b}"
        );
        assert!(!done.body.contains("/reject\""), "{b}: nothing to decide");

        // Nobody decides a case they proposed, even as an HR admin.
        app.update_person(
            &sys,
            "demo",
            manager.id,
            PersonChanges {
                is_admin: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let as_admin_manager = Actor::Person {
            id: manager.id,
            org: manager.org_id,
            is_admin: true,
        };
        let again = app
            .propose_promotion(
                &as_admin_manager,
                "demo",
                rungs_app::Proposal {
                    person: other.case.person_id,
                    target: None,
                    justification: "Led the project",
                },
            )
            .await
            .unwrap()
            .case
            .id
            .to_string();
        let mut own = Browser::new(&base);
        own.signed_in(DEMO_MANAGER, &b).await;
        let theirs = own.get("/promotions").await;
        assert_eq!(theirs.status, 200, "{b}");
        assert!(
            theirs
                .body
                .contains("You proposed this promotion: another HR admin decides it."),
            "{b}"
        );
        assert!(
            !theirs.body.contains(&format!("/cases/{again}/approve")),
            "{b}"
        );
        let forced = own
            .post(
                &format!("/cases/{again}/approve"),
                &[("_csrf", &theirs.csrf()), ("note", "")],
            )
            .await;
        assert_eq!(forced.status, 422, "{b}");
        assert!(forced.body.contains("Not saved:"), "{b}");
        assert_eq!(case(&again).await.status.as_str(), "proposed", "{b}");

        // The rule: what it makes ready today, a preview of another, then saved.
        let rule = hr.get("/promotions/rule").await;
        assert_eq!(rule.status, 200, "{b}");
        let people = app
            .people_page(&sys, "demo", &Default::default(), Some(1), None)
            .await
            .unwrap()
            .total;
        let ready_in_full = |app: App| async move {
            let mut n = 0;
            app.readiness_report(&Actor::system(), "demo", None, |chunk| {
                n += chunk.iter().filter(|v| v.readiness.ready).count();
                Ok(())
            })
            .await
            .unwrap();
            n
        };
        let today = ready_in_full(app.clone()).await;
        assert!(
            rule.body.contains(&format!(
                "<strong>{today}</strong> of {people} people are ready today"
            )),
            "{b}: {today} of {people}\n{}",
            rule.body
        );
        let csrf = rule.csrf();
        let rule_form = |csrf: &str, intent: &str, rule: (&str, &str, &str)| {
            let (rating, score, months) = rule;
            [
                ("_csrf", csrf),
                ("min_rating", rating),
                ("score", score),
                ("months", months),
                ("intent", intent),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec()
        };
        let bad = rule_form(&csrf, "preview", ("developing", "150", "0"));
        let invalid = hr.post("/promotions/rule", &pairs(&bad)).await;
        assert_eq!(invalid.status, 422, "{b}");
        assert!(invalid.body.contains("a percentage from 0 to 100"), "{b}");
        // Rules whose thresholds fall on people's scores and months: each previewed, then
        // saved, and the preview checked against readiness computed in full.
        let mut before = today;
        let mut differed = false;
        for rule in [
            ("developing", "50", "0"),
            ("meets", "50", "5"),
            ("exceeds", "34", "12"),
            ("meets", "100", "6"),
        ] {
            let preview = hr
                .post(
                    "/promotions/rule",
                    &pairs(&rule_form(&csrf, "preview", rule)),
                )
                .await;
            assert_eq!(preview.status, 200, "{b}: {rule:?}");
            let would: usize = preview
                .body
                .split("<p id=\"preview-total\"><strong>")
                .nth(1)
                .and_then(|s| s.split('<').next())
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                ready_in_full(app.clone()).await,
                before,
                "{b}: a preview saves nothing"
            );
            if !preview.body.contains("If people were") {
                // The rule in force again: nothing to compare it with.
                assert_eq!(would, before, "{b}: {rule:?}");
            } else {
                assert!(
                    preview.body.contains(&format!(
                        "of {people} people would be ready, against {before} today"
                    )),
                    "{b}: {rule:?}"
                );
            }
            differed |= would != before;
            let saved = hr
                .post("/promotions/rule", &pairs(&rule_form(&csrf, "save", rule)))
                .await;
            assert_eq!(saved.location(), "/promotions/rule?done=saved", "{b}");
            assert_eq!(
                ready_in_full(app.clone()).await,
                would,
                "{b}: the preview of {rule:?} was wrong"
            );
            assert!(
                hr.get("/promotions/rule?done=saved")
                    .await
                    .body
                    .contains(&format!(
                        "<strong>{would}</strong> of {people} people are ready today"
                    )),
                "{b}"
            );
            before = would;
        }
        assert!(differed, "{b}: no rule changed who is ready");

        // Managers, employees, and another organisation's HR: 404, and nothing decided.
        let open_now = open_cases(&app).await.len();
        for who in [DEMO_EMPLOYEE, "manager@beta.test", "hr@beta.test"] {
            let mut x = Browser::new(&base);
            x.signed_in(who, &b).await;
            let page = x.get("/matrix").await;
            let csrf = page.csrf();
            if who != "hr@beta.test" {
                assert!(!page.body.contains("href=\"/promotions\""), "{b}: {who}");
                assert_eq!(x.get("/promotions").await.status, 404, "{b}: {who}");
                assert_eq!(x.get("/promotions/rule").await.status, 404, "{b}: {who}");
                let theirs = rule_form(&csrf, "save", ("developing", "0", "0"));
                let posted = x.post("/promotions/rule", &pairs(&theirs)).await;
                assert_eq!(posted.status, 404, "{b}: {who}");
            } else {
                let theirs = x.get("/promotions").await;
                assert_eq!(theirs.status, 200, "{b}");
                assert!(!theirs.body.contains(&again), "{b}");
            }
            let forced = x
                .post(
                    &format!("/cases/{again}/approve"),
                    &[("_csrf", &csrf), ("note", "")],
                )
                .await;
            assert_eq!(forced.status, 404, "{b}: {who}");
        }
        assert_eq!(open_cases(&app).await.len(), open_now, "{b}");
        assert_eq!(case(&again).await.status.as_str(), "proposed", "{b}");
    })
    .await;
}

fn pairs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Someone HR has not placed yet (added without a position, as single sign-on and SCIM add
/// people) signs in: "My growth" says what happens next instead of an error, the matrix is
/// the one people are placed on with nothing marked, any position can be explored, and
/// rating is refused with the reason. HR opens their page to place them (their manager sees
/// it without HR's section and cannot assess yet; others get a 404); once placed, the plan
/// is there.
#[tokio::test]
async fn someone_not_placed_yet_sees_what_comes_next_the_matrix_and_any_path() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let (base, app) = spawn(&t.db).await;
        seed_two_orgs(&app).await;
        let sys = Actor::system();
        let mut hr = Browser::new(&base);
        hr.signed_in(DEMO_ADMIN, &b).await;
        let csrf = hr.get("/people/new").await.csrf();
        let added = hr
            .post(
                "/people/new",
                &[
                    ("_csrf", csrf.as_str()),
                    ("email", "nia@demo.rungs.test"),
                    ("name", "Nia New"),
                    ("manager", DEMO_MANAGER),
                    ("position", ""),
                    ("effective", ""),
                    ("reason", ""),
                ],
            )
            .await;
        assert_eq!(added.status, 303, "{b}: {}", added.body);
        let nia = app
            .person_by_email(&sys, "demo", "nia@demo.rungs.test")
            .await
            .unwrap();
        assert!(
            app.person_view(&sys, "demo", nia.id)
                .await
                .unwrap()
                .current
                .is_none(),
            "{b}: added without a level"
        );
        let mut nia_browser = first_sign_in(&app, &base, "nia@demo.rungs.test", &b).await;
        assert_eq!(nia_browser.get("/").await.location(), "/growth", "{b}");

        // My growth says what comes next; the matrix is the one people are placed on, nothing
        // marked as theirs: (page, what it shows, what it must not).
        let mut growth = None;
        for (url, shown, not) in [
            (
                "/growth",
                &[
                    "You have no level yet",
                    "href=\"/matrix\"",
                    "href=\"/explore\"",
                ][..],
                "Please check",
            ),
            (
                "/matrix",
                &["version 1", "Python Developer", "You have no level yet"][..],
                "You are here",
            ),
        ] {
            let page = nia_browser.get(url).await;
            assert_eq!(page.status, 200, "{b}: {url}: {}", page.body);
            for text in shown {
                assert!(page.body.contains(text), "{b}: {url}: {text}");
            }
            assert!(!page.body.contains(not), "{b}: {url}: {not}");
            growth.get_or_insert(page);
        }
        let growth = growth.expect("My growth");

        // Any position: what it expects, what is met (nothing is rated yet).
        let explore = nia_browser.get("/explore").await;
        assert_eq!(explore.status, 200, "{b}: {}", explore.body);
        assert!(!explore.body.contains("where I stand"), "{b}");
        let path = nia_browser
            .get("/explore?to=python-developer%2Fintermediate")
            .await;
        assert_eq!(path.status, 200, "{b}: {}", path.body);
        assert!(path.body.contains("Python Developer · Intermediate"), "{b}");
        assert!(
            path.body.contains("What I don't meet yet ("),
            "{b}: {}",
            path.body
        );
        assert!(!path.body.contains("A rung of my own ladder"), "{b}");
        let total = path
            .body
            .split("<label for=\"explore-progress\">0 of ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .expect("none of the criteria met");
        assert!(total > 0, "{b}");

        // Rating is refused with the reason, and nothing is written.
        let rate = nia_browser
            .post(
                "/growth/rate",
                &[
                    ("_csrf", growth.csrf().as_str()),
                    ("expectation", "advanced-data-structures"),
                    ("rating", "meets"),
                ],
            )
            .await;
        assert_eq!(rate.status, 422, "{b}: {}", rate.body);
        assert!(rate.body.contains("no level yet"), "{b}: {}", rate.body);
        assert!(
            app.assessments(&sys, "demo", nia.id, &Default::default(), Some(10), None)
                .await
                .unwrap()
                .items
                .is_empty(),
            "{b}"
        );

        // HR opens their page from the directory (no plan yet, and the form to place them),
        // and places them: the plan toward their next rung.
        let theirs = hr.get(&format!("/people/{}", nia.id)).await;
        assert_eq!(theirs.status, 200, "{b}: {}", theirs.body);
        assert!(theirs.body.contains("no level yet"), "{b}");
        assert!(
            theirs
                .body
                .contains(&format!("action=\"/people/{}/place\"", nia.id)),
            "{b}"
        );
        assert!(
            theirs.body.contains("Place them on a position below"),
            "{b}"
        );
        assert!(
            !theirs.body.contains("/propose\""),
            "{b}: nothing to propose"
        );
        // Their manager sees the same without HR's section, and cannot assess yet; a
        // colleague, and another organisation's HR admin, get the 404 page.
        let mut manager = Browser::new(&base);
        manager.signed_in(DEMO_MANAGER, &b).await;
        let page = manager.get(&format!("/people/{}", nia.id)).await;
        assert_eq!(page.status, 200, "{b}: {}", page.body);
        assert!(page.body.contains("An HR admin places them"), "{b}");
        assert!(!page.body.contains("/place\""), "{b}");
        let assess = manager
            .post(
                &format!("/people/{}/assess", nia.id),
                &[
                    ("_csrf", page.csrf().as_str()),
                    ("expectation", "basic-syntax"),
                    ("rating", "meets"),
                ],
            )
            .await;
        assert_eq!(assess.status, 422, "{b}: {}", assess.body);
        assert!(assess.body.contains("no level yet"), "{b}: {}", assess.body);
        for who in [DEMO_EMPLOYEE, "hr@beta.test"] {
            let mut x = Browser::new(&base);
            x.signed_in(who, &b).await;
            let page = x.get(&format!("/people/{}", nia.id)).await;
            assert_eq!(page.status, 404, "{b}: {who}");
            assert!(!page.body.contains("Nia New"), "{b}: {who}");
        }
        let today = chrono::Utc::now().date_naive().to_string();
        let placed = hr
            .post(
                &format!("/people/{}/place", nia.id),
                &[
                    ("_csrf", csrf.as_str()),
                    ("position", "python-developer/beginner"),
                    ("effective", today.as_str()),
                    ("reason", "joined"),
                ],
            )
            .await;
        assert_eq!(placed.status, 303, "{b}: {}", placed.body);
        let growth = nia_browser.get("/growth").await;
        assert_eq!(growth.status, 200, "{b}");
        assert!(growth.body.contains("Toward Intermediate"), "{b}");
        assert!(!growth.body.contains("You have no level yet"), "{b}");
        assert!(
            nia_browser
                .get("/matrix")
                .await
                .body
                .contains("You are here"),
            "{b}"
        );
    })
    .await;
}

/// HR's people import in the browser's way: a CSV with problems is refused whole with each at
/// its line and column, a clean one is previewed row by row without writing, then imported in
/// one go; a file that is not UTF-8 and a form without its token are refused. Nobody else may
/// open or post it, and another organisation's HR imports only into their own. On every
/// backend.
#[tokio::test]
async fn the_people_import_shows_every_problem_then_previews_then_writes() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let (base, app) = spawn(&t.db).await;
        seed_two_orgs(&app).await;
        let sys = Actor::system();
        let count = |org: &'static str| {
            let app = app.clone();
            async move {
                app.people_page(&Actor::system(), org, &Default::default(), Some(1), None)
                    .await
                    .unwrap()
                    .total
            }
        };
        let (demo_before, beta_before) = (count("demo").await, count("beta").await);

        let mut hr = Browser::new(&base);
        hr.signed_in(DEMO_ADMIN, &b).await;
        let form = hr.get("/people/import").await;
        assert_eq!(form.status, 200, "{b}");
        assert!(form.body.contains("enctype=\"multipart/form-data\""), "{b}");
        assert!(hr.get("/people").await.body.contains("href=\"/people/import\""), "{b}");
        let csrf = form.csrf();

        // Three problems on three rows, all shown at once; nothing written.
        let bad = "email,name,manager_email,track,level\n\
                   new1@demo.rungs.test,New One,manager@demo.rungs.test,python-developer,beginner\n\
                   new2@demo.rungs.test,New Two,nobody@demo.rungs.test,nope,beginner\n\
                   new3@demo.rungs.test,,new1@demo.rungs.test,,\n";
        let refused = hr
            .post_multipart(
                "/people/import",
                &[("_csrf", &csrf), ("intent", "preview")],
                Some(("team.csv", bad.as_bytes().to_vec())),
            )
            .await;
        assert_eq!(refused.status, 422, "{b}");
        assert!(refused.body.contains("3 problems found; nothing was written"), "{b}");
        for (line, column, field) in [(3, 3, "manager_email"), (3, 4, "track"), (4, 2, "name")] {
            assert!(
                refused.body.contains(&format!(
                    "<tr><td>{line}</td><td>{column}</td><td><code>{field}</code></td>"
                )),
                "{b}: line {line}, column {column}, {field}\n{}",
                refused.body
            );
        }
        // The text is kept for fixing, under the file's name.
        assert!(refused.body.contains("new2@demo.rungs.test,New Two"), "{b}");
        assert!(refused.body.contains("value=\"team.csv\""), "{b}");
        assert_eq!(count("demo").await, demo_before, "{b}");

        // Fixed in the text (as the browser sends a textarea, with CRLF): a preview, nothing written.
        let good = "email,name,manager_email,track,level\r\n\
                    new1@demo.rungs.test,New One,manager@demo.rungs.test,python-developer,beginner\r\n\
                    new2@demo.rungs.test,New Two,new1@demo.rungs.test,data-analyst,beginner\r\n\
                    employee@demo.rungs.test,Emil Employee,manager@demo.rungs.test,,\r\n";
        let preview = hr
            .post_multipart(
                "/people/import",
                &[("_csrf", &csrf), ("intent", "preview"), ("text", good), ("name", "team.csv")],
                None,
            )
            .await;
        assert_eq!(preview.status, 200, "{b}: {}", preview.body);
        assert!(
            preview
                .body
                .contains("Ready to import: 2 to add, 0 to update, 1 unchanged, 2 new positions"),
            "{b}"
        );
        assert!(preview.body.contains("value=\"import\">Import 3 people"), "{b}");
        assert_eq!(count("demo").await, demo_before, "{b}: a preview writes nothing");

        // Without the form's token: refused, nothing written.
        let forged = hr
            .post_multipart(
                "/people/import",
                &[("_csrf", "forged"), ("intent", "import"), ("text", good)],
                None,
            )
            .await;
        assert_eq!(forged.status, 403, "{b}");
        assert!(forged.body.contains("Form expired"), "{b}");
        assert_eq!(count("demo").await, demo_before, "{b}");
        // Not UTF-8: said so.
        let latin1 = hr
            .post_multipart(
                "/people/import",
                &[("_csrf", &csrf), ("intent", "preview")],
                Some(("latin1.csv", b"email,name\nzoe@demo.rungs.test,Zo\xeb\n".to_vec())),
            )
            .await;
        assert_eq!(latin1.status, 422, "{b}");
        assert!(latin1.body.contains("is not UTF-8 text"), "{b}");

        let done = hr
            .post_multipart(
                "/people/import",
                &[("_csrf", &csrf), ("intent", "import"), ("text", good), ("name", "team.csv")],
                None,
            )
            .await;
        assert_eq!(done.status, 303, "{b}: {}", done.body);
        assert_eq!(
            done.location(),
            "/people/import?added=2&updated=0&unchanged=1&levels=2",
            "{b}"
        );
        assert!(
            hr.get(done.location())
                .await
                .body
                .contains("Imported: 2 added, 0 updated, 1 unchanged, 2 levels assigned."),
            "{b}"
        );
        assert_eq!(count("demo").await, demo_before + 2, "{b}");
        let new2 = app
            .person_by_email(&sys, "demo", "new2@demo.rungs.test")
            .await
            .unwrap();
        let view = app.person_view(&sys, "demo", new2.id).await.unwrap();
        assert_eq!(view.person.display_name, "New Two", "{b}");
        assert_eq!(
            view.manager_email.as_ref().map(|e| e.as_str().to_owned()),
            Some("new1@demo.rungs.test".to_owned()),
            "{b}"
        );
        let at = view.current.unwrap();
        assert_eq!((at.track.as_str(), at.level.as_str()), ("data-analyst", "beginner"), "{b}");

        // Nobody else may open or post it.
        for who in [DEMO_MANAGER, DEMO_EMPLOYEE, "employee@beta.test"] {
            let mut x = Browser::new(&base);
            x.signed_in(who, &b).await;
            assert_eq!(x.get("/people/import").await.status, 404, "{b}: {who}");
            let theirs = x.get("/matrix").await.csrf();
            let posted = x
                .post_multipart(
                    "/people/import",
                    &[("_csrf", &theirs), ("intent", "import"), ("text", "email,name\nx9@demo.rungs.test,X\n")],
                    None,
                )
                .await;
            assert_eq!(posted.status, 404, "{b}: {who}");
        }
        assert_eq!(count("demo").await, demo_before + 2, "{b}");
        // Beta's HR imports into beta: demo's people are no one there.
        let mut beta = Browser::new(&base);
        beta.signed_in("hr@beta.test", &b).await;
        let theirs = beta.get("/people/import").await.csrf();
        let foreign = beta
            .post_multipart(
                "/people/import",
                &[
                    ("_csrf", &theirs),
                    ("intent", "import"),
                    ("text", "email,name,manager_email\nnew9@beta.test,New Nine,manager@demo.rungs.test\n"),
                ],
                None,
            )
            .await;
        assert_eq!(foreign.status, 422, "{b}");
        assert!(foreign.body.contains("neither in this file nor in organisation `beta`"), "{b}");
        assert_eq!(count("beta").await, beta_before, "{b}");
        assert_eq!(count("demo").await, demo_before + 2, "{b}");
    })
    .await;
}

/// HR adds a person with their first position (one transaction), edits them, moves them to
/// another manager, deactivates them (their sessions end) and places them; each refusal keeps
/// the form and says why. Nobody else may, and another organisation's people are no one here.
/// On every backend.
#[tokio::test]
async fn hr_adds_edits_deactivates_and_places_people() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let (base, app) = spawn(&t.db).await;
        seed_two_orgs(&app).await;
        let sys = Actor::system();
        let mut hr = Browser::new(&base);
        hr.signed_in(DEMO_ADMIN, &b).await;
        let form = hr.get("/people/new").await;
        assert_eq!(form.status, 200, "{b}");
        let csrf = form.csrf();
        let add = |email: &str, manager: &str, position: &str| -> Vec<(String, String)> {
            [
                ("_csrf", csrf.as_str()),
                ("email", email),
                ("name", "Zed New"),
                ("manager", manager),
                ("position", position),
                ("effective", "2026-11-02"),
                ("reason", "joined"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec()
        };
        // Refusals: an email already taken, a manager of another organisation, an unknown
        // position; each keeps what was typed, and nothing is written.
        for (fields, why) in [
            (
                add(DEMO_EMPLOYEE, "", "python-developer/beginner"),
                "already has the email",
            ),
            (
                add(
                    "zed@demo.rungs.test",
                    "manager@beta.test",
                    "python-developer/beginner",
                ),
                "No one in this organisation has the email manager@beta.test",
            ),
            (
                add("zed@demo.rungs.test", "", "python-developer/nope"),
                "nope",
            ),
        ] {
            let page = hr.post("/people/new", &pairs(&fields)).await;
            assert_eq!(page.status, 422, "{b}: {why}");
            assert!(page.body.contains(why), "{b}: {why}\n{}", page.body);
            assert!(page.body.contains("value=\"Zed New\""), "{b}: kept");
        }
        assert!(
            app.person_by_email(&sys, "demo", "zed@demo.rungs.test")
                .await
                .is_err(),
            "{b}: nothing written"
        );
        let added = hr
            .post(
                "/people/new",
                &pairs(&add(
                    "zed@demo.rungs.test",
                    "manager@demo.rungs.test",
                    "python-developer/beginner",
                )),
            )
            .await;
        assert_eq!(added.status, 303, "{b}: {}", added.body);
        let zed = app
            .person_by_email(&sys, "demo", "zed@demo.rungs.test")
            .await
            .unwrap();
        assert_eq!(
            added.location(),
            format!("/people/{}?done=added", zed.id),
            "{b}"
        );
        let view = app.person_view(&sys, "demo", zed.id).await.unwrap();
        let at = view.current.unwrap();
        assert_eq!(
            (
                at.track.as_str(),
                at.level.as_str(),
                at.effective.to_string()
            ),
            ("python-developer", "beginner", "2026-11-02".to_owned()),
            "{b}"
        );
        assert_eq!(
            view.manager_email.map(|e| e.as_str().to_owned()),
            Some(DEMO_MANAGER.to_owned()),
            "{b}"
        );
        let url = format!("/people/{}", zed.id);
        let page = hr.get(added.location()).await;
        assert!(page.body.contains("The person is added."), "{b}");
        assert!(page.body.contains("id=\"manage-h\""), "{b}");
        assert!(
            page.body.contains("aria-current=\"page\">People</a>"),
            "{b}"
        );

        // Zed signs in; then HR renames, gives another manager, and deactivates them.
        let mut zed_browser = first_sign_in(&app, &base, "zed@demo.rungs.test", &b).await;
        assert_eq!(zed_browser.get("/growth").await.status, 200, "{b}");
        let cycle = hr
            .post(
                &format!("{url}/edit"),
                &[
                    ("_csrf", &csrf),
                    ("name", "Zed"),
                    ("manager", "zed@demo.rungs.test"),
                    ("active", "1"),
                ],
            )
            .await;
        assert_eq!(cycle.status, 422, "{b}");
        assert!(cycle.body.contains("Not saved:"), "{b}");
        let edited = hr
            .post(
                &format!("{url}/edit"),
                &[
                    ("_csrf", &csrf),
                    ("name", "Zed Renamed"),
                    ("manager", DEMO_ADMIN),
                ],
            )
            .await;
        assert_eq!(edited.location(), format!("{url}?done=updated"), "{b}");
        let view = app.person_view(&sys, "demo", zed.id).await.unwrap();
        assert_eq!(view.person.display_name, "Zed Renamed", "{b}");
        assert!(!view.person.active && !view.person.is_admin, "{b}");
        assert_eq!(
            view.manager_email.map(|e| e.as_str().to_owned()),
            Some(DEMO_ADMIN.to_owned()),
            "{b}"
        );
        assert_eq!(
            zed_browser.get("/growth").await.status,
            303,
            "{b}: a deactivated person is signed out"
        );
        assert!(hr.get(&url).await.body.contains("Deactivated"), "{b}");

        // A new position from a date, with its reason; a date that is not one is refused.
        let bad = hr
            .post(
                &format!("{url}/place"),
                &[
                    ("_csrf", &csrf),
                    ("position", "data-analyst/intermediate"),
                    ("effective", "2026-02-30"),
                    ("reason", "moved teams"),
                ],
            )
            .await;
        assert_eq!(bad.status, 422, "{b}");
        assert!(bad.body.contains("is not a date"), "{b}");
        let placed = hr
            .post(
                &format!("{url}/place"),
                &[
                    ("_csrf", &csrf),
                    ("position", "data-analyst/intermediate"),
                    ("effective", "2026-12-01"),
                    ("reason", "moved teams"),
                ],
            )
            .await;
        assert_eq!(placed.location(), format!("{url}?done=placed"), "{b}");
        let history = app.level_history_of(&sys, "demo", zed.id).await.unwrap();
        assert_eq!(history.len(), 2, "{b}");
        assert_eq!(history[1].reason, "moved teams", "{b}");
        assert_eq!(history[1].effective.to_string(), "2026-12-01", "{b}");

        // Nobody else: 404 for the pages and the posts, and nothing changes.
        for who in [DEMO_MANAGER, DEMO_EMPLOYEE, "hr@beta.test"] {
            let mut x = Browser::new(&base);
            x.signed_in(who, &b).await;
            let theirs = x.get("/matrix").await.csrf();
            if who != "hr@beta.test" {
                assert_eq!(x.get("/people/new").await.status, 404, "{b}: {who}");
                let page = x.get("/people/new").await;
                assert!(!page.body.contains("name=\"email\""), "{b}: {who}");
            }
            let manager_page = x.get(&format!("/people/{}", emil_id(&app).await)).await;
            assert!(
                !manager_page.body.contains("id=\"manage-h\""),
                "{b}: {who} sees HR's section"
            );
            for (path, form) in [
                (
                    format!("{url}/edit"),
                    vec![
                        ("_csrf", theirs.as_str()),
                        ("name", "Hacked"),
                        ("active", "1"),
                    ],
                ),
                (
                    format!("{url}/place"),
                    vec![
                        ("_csrf", theirs.as_str()),
                        ("position", "python-developer/beginner"),
                        ("effective", "2026-12-02"),
                        ("reason", "x"),
                    ],
                ),
            ] {
                assert_eq!(x.post(&path, &form).await.status, 404, "{b}: {who} {path}");
            }
        }
        let view = app.person_view(&sys, "demo", zed.id).await.unwrap();
        assert_eq!(view.person.display_name, "Zed Renamed", "{b}");
        assert_eq!(
            app.level_history_of(&sys, "demo", zed.id)
                .await
                .unwrap()
                .len(),
            2,
            "{b}"
        );
    })
    .await;
}

async fn emil_id(app: &App) -> rungs_domain::PersonId {
    app.person_by_email(&Actor::system(), "demo", DEMO_EMPLOYEE)
        .await
        .unwrap()
        .id
}

/// The readiness of everyone in `demo` (or a manager's subtree), computed person by person.
async fn readiness_in_full(
    app: &App,
    org: &str,
    manager: Option<rungs_domain::PersonId>,
) -> Vec<rungs_app::ReadinessView> {
    let mut all = Vec::new();
    app.readiness_report(&Actor::system(), org, manager, |chunk| {
        all.extend(chunk);
        Ok(())
    })
    .await
    .unwrap();
    all
}

/// The numbers of the analytics page agree with what is computed person by person: people,
/// ready, each track's total, each level's median time in level, this month's promotions; for
/// the organisation and for a manager's subtree. The audit log filters by action, person and
/// date and pages. Both are HR's only, and another organisation's HR sees their own. On every
/// backend.
#[tokio::test]
async fn analytics_and_the_audit_log_agree_with_the_records_for_hr_only() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let (base, app) = spawn(&t.db).await;
        let seeded_on = chrono::Utc::now().date_naive().to_string();
        seed_two_orgs(&app).await;
        let sys = Actor::system();
        // One promotion approved now.
        let open = open_cases(&app).await;
        let hr_person = app.person_by_email(&sys, "demo", DEMO_ADMIN).await.unwrap();
        let as_hr = Actor::Person {
            id: hr_person.id,
            org: hr_person.org_id,
            is_admin: true,
        };
        app.decide_promotion(
            &as_hr,
            "demo",
            open[0].case.id,
            rungs_app::Verdict::Approve {
                note: "",
                effective: None,
            },
        )
        .await
        .unwrap();

        let mut hr = Browser::new(&base);
        hr.signed_in(DEMO_ADMIN, &b).await;
        let manager = app
            .person_by_email(&sys, "demo", DEMO_MANAGER)
            .await
            .unwrap();
        for (path, scope) in [
            ("/analytics".to_owned(), None),
            (
                "/analytics?manager=manager%40demo.rungs.test".to_owned(),
                Some(manager.id),
            ),
        ] {
            let page = hr.get(&path).await;
            assert_eq!(page.status, 200, "{b}: {path}");
            let everyone = readiness_in_full(&app, "demo", scope).await;
            let ready = everyone.iter().filter(|v| v.readiness.ready).count();
            assert!(
                page.body.contains(&format!(
                    "<strong>{}</strong> active people, {ready} ready for promotion",
                    everyone.len()
                )),
                "{b}: {path}: {} people, {ready} ready",
                everyone.len()
            );
            // Those without a level: for the organisation, a link to them in the directory,
            // which lists the same people, each "no level yet".
            let unplaced: BTreeSet<String> = everyone
                .iter()
                .filter(|v| v.standing.is_none())
                .map(|v| v.person.email.as_str().to_owned())
                .collect();
            let link = format!(
                "<a href=\"/people?unplaced=1\">{} without a level yet</a>",
                unplaced.len()
            );
            match scope {
                None => {
                    assert!(!unplaced.is_empty(), "{b}: the demo has people to place");
                    assert!(page.body.contains(&link), "{b}: {path}: {link}");
                    let listed = hr.get("/people?unplaced=1").await;
                    assert_eq!(listed.status, 200, "{b}");
                    let n = unplaced.len();
                    let noun = if n == 1 {
                        "person matches"
                    } else {
                        "people match"
                    };
                    assert!(
                        listed.body.contains(&format!("{n} {noun}")),
                        "{b}: {n} {noun}"
                    );
                    for email in &unplaced {
                        let row = listed
                            .body
                            .split(&format!("<td>{email}</td>"))
                            .nth(1)
                            .unwrap_or_else(|| panic!("{b}: {email} not listed"));
                        assert!(
                            row.starts_with("\n      <td>no level yet</td>"),
                            "{b}: {email}"
                        );
                    }
                    let both = hr.get("/people?unplaced=1&level=beginner").await;
                    assert!(
                        both.body
                            .contains("People without a level have no track or level"),
                        "{b}"
                    );
                }
                Some(_) => assert!(!page.body.contains("/people?unplaced=1"), "{b}: {path}"),
            }
            // Each track's total, and each level's median time in level.
            let mut tracks: BTreeMap<String, usize> = BTreeMap::new();
            let mut months: BTreeMap<String, Vec<u32>> = BTreeMap::new();
            for v in &everyone {
                if let Some(st) = &v.standing {
                    *tracks.entry(st.track_name.clone()).or_default() += 1;
                    months
                        .entry(st.level.name.clone())
                        .or_default()
                        .push(v.readiness.months_in_level.unwrap());
                }
            }
            for (track, n) in &tracks {
                let row = page
                    .body
                    .split(&format!("<tr><th scope=\"row\">{track}</th>"))
                    .nth(1)
                    .unwrap_or_else(|| panic!("{b}: no row for {track}"));
                let row = &row[..row.find("</tr>").unwrap()];
                assert!(
                    row.ends_with(&format!("<td>{n}</td>")),
                    "{b}: {track}: {row}"
                );
            }
            for (level, mut m) in months {
                m.sort_unstable();
                let median = m[m.len().div_ceil(2) - 1];
                let unit = if median == 1 { "month" } else { "months" };
                assert!(
                    page.body.contains(&format!(
                        "<tr><th scope=\"row\">{level}</th><td>{}</td><td>{median} {unit}</td>",
                        m.len()
                    )),
                    "{b}: {path}: {level}: median {median} of {m:?}"
                );
            }
            let this_month = chrono::Utc::now().date_naive().format("%Y-%m").to_string();
            let approved_here = usize::from(
                scope.is_none()
                    || everyone
                        .iter()
                        .any(|v| v.person.id == open[0].case.person_id),
            );
            assert!(
                page.body.contains(&format!(
                    "<tr><th scope=\"row\">{this_month}</th><td>{approved_here}</td></tr>"
                )),
                "{b}: {path}: promotions this month: expected {approved_here}, {}",
                page.body
                    .split("id=\"promo-caption\"")
                    .nth(1)
                    .unwrap_or_default()
                    .chars()
                    .take(1200)
                    .collect::<String>()
            );
            assert_eq!(
                page.body
                    .matches("<figure class=\"chart\"><svg role=\"img\" aria-label=")
                    .count(),
                4,
                "{b}: four charts"
            );
        }
        let nobody = hr.get("/analytics?manager=nobody%40demo.rungs.test").await;
        assert!(
            nobody
                .body
                .contains("No one in this organisation has the email"),
            "{b}"
        );

        // The audit log: everything, then by action, by person, by dates; pages of 50.
        let all = hr.get("/audit").await;
        assert_eq!(all.status, 200, "{b}");
        let total = app
            .audit_page(&sys, "demo", &Default::default(), Some(1), None)
            .await
            .unwrap()
            .total;
        assert!(all.body.contains(&format!("{total} entries")), "{b}");
        let rows = |p: &Page| p.body.matches("<tr><td>").count();
        assert_eq!(rows(&all), total.min(50), "{b}");
        let approvals = hr.get("/audit?action=promotion.approve").await;
        assert!(approvals.body.contains("1 entry matches"), "{b}");
        assert!(approvals.body.contains("Hana Hoffmann"), "{b}");
        let about = hr
            .get(&format!(
                "/audit?person={}",
                open[0]
                    .person
                    .as_ref()
                    .unwrap()
                    .email
                    .as_str()
                    .replace('@', "%40")
            ))
            .await;
        let n = rows(&about);
        assert!(n >= 2, "{b}: proposed and approved at least");
        assert!(about.body.contains("promotion.approve"), "{b}");
        let future = hr.get("/audit?from=2999-01-01").await;
        assert!(future.body.contains("0 entries match"), "{b}");
        let past = hr.get("/audit?to=2000-01-01").await;
        assert!(past.body.contains("0 entries match"), "{b}");
        // Every entry was written today (unless the test ran across midnight, UTC).
        let today = chrono::Utc::now().date_naive().to_string();
        let since = hr.get(&format!("/audit?from={today}&to={today}")).await;
        if chrono::Utc::now().date_naive().to_string() == today && seeded_on == today {
            assert!(
                since.body.contains(&format!("{total} entries match")),
                "{b}"
            );
        }
        if total > 50 {
            let next = all.body.split("<a href=\"").find_map(|s| {
                s.split_once("\" rel=\"next\"")
                    .map(|(h, _)| h.replace("&amp;", "&"))
            });
            let second = hr.get(&next.expect("a next page")).await;
            assert_eq!(rows(&second), (total - 50).min(50), "{b}");
        }

        // Nobody else; and beta's HR reads beta's.
        for who in [DEMO_MANAGER, DEMO_EMPLOYEE] {
            let mut x = Browser::new(&base);
            x.signed_in(who, &b).await;
            assert_eq!(x.get("/analytics").await.status, 404, "{b}: {who}");
            assert_eq!(x.get("/audit").await.status, 404, "{b}: {who}");
            assert!(
                !x.get("/matrix").await.body.contains("href=\"/analytics\""),
                "{b}"
            );
        }
        let mut beta = Browser::new(&base);
        beta.signed_in("hr@beta.test", &b).await;
        let theirs = beta.get("/analytics").await;
        let beta_people = readiness_in_full(&app, "beta", None).await.len();
        assert!(
            theirs
                .body
                .contains(&format!("<strong>{beta_people}</strong> active people")),
            "{b}"
        );
        let log = beta.get("/audit").await;
        assert!(!log.body.contains("demo.rungs.test"), "{b}");
        assert!(!log.body.contains("Hana Hoffmann"), "{b}");
        // Demo's manager is no one in beta.
        let foreign = beta
            .get("/analytics?manager=manager%40demo.rungs.test")
            .await;
        assert!(foreign.body.contains("No one in this organisation"), "{b}");
    })
    .await;
}

/// The value of the first hidden `revision` field.
fn revision_of(page: &Page) -> String {
    let at = page
        .body
        .find("name=\"revision\" value=\"")
        .expect("a revision field");
    let rest = &page.body[at + 23..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// HR's matrix pages: the list, a version and its downloads; a draft started, edited in
/// place (a level renamed, a cell's titles, a criterion added, edited, moved and removed, a
/// track added), a second HR admin's edit at a stale revision answered 409 with the current
/// draft and nothing overwritten, the diff, publishing with a note; nobody else may. On every
/// backend.
#[tokio::test]
async fn hr_edits_a_draft_with_conflicts_answered_then_publishes() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let (base, app) = spawn(&t.db).await;
        seed_two_orgs(&app).await;
        let sys = Actor::system();
        // A second HR admin.
        let manager = app
            .person_by_email(&sys, "demo", DEMO_MANAGER)
            .await
            .unwrap();
        app.update_person(
            &sys,
            "demo",
            manager.id,
            PersonChanges {
                is_admin: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut hr = Browser::new(&base);
        hr.signed_in(DEMO_ADMIN, &b).await;
        let list = hr.get("/matrices").await;
        assert_eq!(list.status, 200, "{b}");
        assert!(list.body.contains("href=\"/matrices/python\""), "{b}");
        let v1 = hr.get("/matrices/python").await;
        assert!(v1.body.contains("Showing version 1."), "{b}");
        for (format, mime) in [
            ("yaml", "application/yaml"),
            ("json", "application/json"),
            ("csv", "text/csv"),
            ("markdown", "text/markdown"),
            ("html", "text/html"),
        ] {
            let file = hr
                .get(&format!("/matrices/python/export?v=1&format={format}"))
                .await;
            assert_eq!(file.status, 200, "{b}: {format}");
            let ct = file.headers.get("content-type").unwrap().to_str().unwrap();
            assert!(ct.starts_with(mime), "{b}: {format}: {ct}");
            assert!(
                file.headers
                    .get("content-disposition")
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .contains("python-v1."),
                "{b}"
            );
        }
        let yaml = hr.get("/matrices/python/export?v=1&format=yaml").await.body;
        assert!(yaml.contains("basic-syntax"), "{b}");

        let csrf = v1.csrf();
        let started = hr
            .post("/matrices/python/draft/start", &[("_csrf", &csrf)])
            .await;
        assert_eq!(
            started.location(),
            "/matrices/python/draft?done=started",
            "{b}"
        );
        let editor = hr
            .get("/matrices/python/draft?track=python-developer")
            .await;
        assert_eq!(editor.status, 200, "{b}");
        let edit = |rev: &str, fields: &[(&str, &str)]| -> Vec<(String, String)> {
            let mut f = vec![
                ("_csrf".to_owned(), csrf.clone()),
                ("revision".to_owned(), rev.to_owned()),
            ];
            f.extend(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            f
        };
        let mut rev = revision_of(&editor);
        let steps: [&[(&str, &str)]; 21] = [
            &[
                ("op", "rename_level"),
                ("track", "python-developer"),
                ("level", "expert"),
                ("name", "Principal"),
            ],
            &[
                ("op", "titles"),
                ("track", "python-developer"),
                ("level", "beginner"),
                ("titles", "Trainee, Junior Developer"),
            ],
            &[
                ("op", "add_criterion"),
                ("track", "python-developer"),
                ("level", "beginner"),
                ("key", "reads-tracebacks"),
                ("name", "Reads a traceback"),
                ("description", "Finds the failing line"),
            ],
            &[
                ("op", "edit_criterion"),
                ("track", "python-developer"),
                ("criterion", "reads-tracebacks"),
                ("name", "Reads a traceback to its cause"),
                ("description", ""),
            ],
            &[
                ("op", "move_criterion"),
                ("track", "python-developer"),
                ("level", "beginner"),
                ("criterion", "reads-tracebacks"),
                ("index", "2"),
                ("direction", "up"),
            ],
            &[
                ("op", "add_track"),
                ("track", "python-developer"),
                ("key", "data-engineer"),
                ("name", "Data Engineer"),
            ],
            &[
                ("op", "remove_criterion"),
                ("track", "python-developer"),
                ("level", "intermediate"),
                ("criterion", "object-oriented-programming"),
            ],
            &[("op", "add_theme"), ("key", "craft"), ("name", "Craft")],
            &[
                ("op", "add_competency"),
                ("key", "debugging"),
                ("name", "Debugging"),
                ("theme", "craft"),
            ],
            &[
                ("op", "edit_criterion"),
                ("track", "python-developer"),
                ("criterion", "reads-tracebacks"),
                ("name", "Reads a traceback to its cause"),
                ("description", ""),
                ("competency", "debugging"),
                ("examples", "A failing import\r\nA KeyError\r\n"),
            ],
            &[
                ("op", "add_resource"),
                ("criterion", "reads-tracebacks"),
                ("name", "Old notes"),
                ("url", ""),
            ],
            &[
                ("op", "add_resource"),
                ("criterion", "reads-tracebacks"),
                ("name", "Errors and exceptions"),
                ("url", "https://docs.python.org/3/tutorial/errors.html"),
            ],
            &[
                ("op", "remove_resource"),
                ("criterion", "reads-tracebacks"),
                ("index", "0"),
            ],
            &[
                ("op", "add_resource"),
                ("track", "python-developer"),
                ("level", "beginner"),
                ("name", "Pairing with a senior"),
                ("url", ""),
            ],
            &[("op", "add_level"), ("key", "staff"), ("name", "Staff")],
            &[
                ("op", "add_level"),
                ("key", "distinguished"),
                ("name", "Distinguished"),
            ],
            &[
                ("op", "move_level"),
                ("level", "staff"),
                ("index", "5"),
                ("direction", "up"),
            ],
            &[("op", "remove_level"), ("level", "distinguished")],
            &[
                ("op", "ladder"),
                ("track", "data-engineer"),
                ("ladder", "beginner"),
                ("ladder", "intermediate"),
            ],
            &[
                ("op", "edit_competency"),
                ("competency", "debugging"),
                ("name", "Debugging and tracing"),
                ("theme", "craft"),
            ],
            &[
                ("op", "rename_theme"),
                ("theme", "craft"),
                ("name", "Craftsmanship"),
            ],
        ];
        for step in steps {
            let done = hr
                .post("/matrices/python/draft/edit", &pairs(&edit(&rev, step)))
                .await;
            assert_eq!(done.status, 303, "{b}: {step:?}: {}", done.body);
            let page = hr.get(done.location()).await;
            assert!(page.body.contains("Saved."), "{b}");
            rev = revision_of(&page);
        }
        let (_, draft) = app
            .matrix_version(&sys, "demo", "python", rungs_app::VersionRef::Draft)
            .await
            .unwrap();
        assert_eq!(draft.level("expert").unwrap().name, "Principal", "{b}");
        let beginner = draft.cell("python-developer", "beginner").unwrap();
        assert_eq!(beginner.titles, ["Trainee", "Junior Developer"], "{b}");
        let keys: Vec<&str> = beginner
            .expectations
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        let at = keys.iter().position(|k| *k == "reads-tracebacks").unwrap();
        assert_eq!(at + 1, keys.len() - 1, "{b}: moved up by one: {keys:?}");
        assert_eq!(
            beginner.expectations[at].name, "Reads a traceback to its cause",
            "{b}"
        );
        assert!(draft.track("data-engineer").is_some(), "{b}");
        let e = draft.criterion("reads-tracebacks").unwrap();
        assert_eq!(
            e.competency.as_ref().map(|c| c.as_str()),
            Some("debugging"),
            "{b}"
        );
        assert_eq!(e.examples, ["A failing import", "A KeyError"], "{b}");
        let titles: Vec<&str> = e.resources.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, ["Errors and exceptions"], "{b}");
        let cell_resources: Vec<&str> = draft
            .cell("python-developer", "beginner")
            .unwrap()
            .resources
            .iter()
            .map(|r| r.title.as_str())
            .collect();
        assert!(
            cell_resources.contains(&"Pairing with a senior"),
            "{b}: {cell_resources:?}"
        );
        let c = draft.competency("debugging").unwrap();
        assert_eq!(c.name, "Debugging and tracing", "{b}");
        assert_eq!(c.theme.as_ref().map(|t| t.as_str()), Some("craft"), "{b}");
        assert_eq!(draft.theme("craft").unwrap().name, "Craftsmanship", "{b}");
        let rank = |k: &str| draft.level(k).unwrap().rank;
        assert!(
            rank("expert") < rank("staff") && rank("staff") < rank("leader"),
            "{b}"
        );
        assert!(draft.level("distinguished").is_none(), "{b}");
        let ladder: Vec<&str> = draft
            .ladder("data-engineer")
            .iter()
            .map(|l| l.key.as_str())
            .collect();
        assert_eq!(ladder, ["beginner", "intermediate"], "{b}");
        assert!(
            !draft
                .cell("python-developer", "intermediate")
                .unwrap()
                .expectations
                .iter()
                .any(|e| e.key.as_str() == "object-oriented-programming"),
            "{b}"
        );

        // The other HR admin read the draft before the last edit: their edit is a conflict,
        // with the current draft shown and nothing overwritten.
        let mut other = Browser::new(&base);
        other.signed_in(DEMO_MANAGER, &b).await;
        let theirs = other.get("/matrices/python/draft").await;
        let their_csrf = theirs.csrf();
        let stale = "1";
        let conflict = other
            .post(
                "/matrices/python/draft/edit",
                &[
                    ("_csrf", their_csrf.as_str()),
                    ("revision", stale),
                    ("op", "rename_level"),
                    ("track", "python-developer"),
                    ("level", "expert"),
                    ("name", "Overwritten"),
                ],
            )
            .await;
        assert_eq!(conflict.status, 409, "{b}");
        assert!(
            conflict
                .body
                .contains("Someone else changed the draft meanwhile"),
            "{b}"
        );
        assert!(
            conflict.body.contains("value=\"Principal\""),
            "{b}: the current content"
        );
        assert!(
            conflict
                .body
                .contains(&format!("name=\"revision\" value=\"{rev}\"")),
            "{b}"
        );
        let (_, after) = app
            .matrix_version(&sys, "demo", "python", rungs_app::VersionRef::Draft)
            .await
            .unwrap();
        assert_eq!(after.level("expert").unwrap().name, "Principal", "{b}");
        // A bad key is refused with the reason, and nothing is written.
        let bad = hr
            .post(
                "/matrices/python/draft/edit",
                &pairs(&edit(
                    &rev,
                    &[
                        ("op", "add_criterion"),
                        ("track", "python-developer"),
                        ("level", "beginner"),
                        ("key", "Bad Key"),
                        ("name", "x"),
                    ],
                )),
            )
            .await;
        assert_eq!(bad.status, 422, "{b}");
        assert!(
            bad.body.contains("may only contain lowercase letters"),
            "{b}"
        );

        // The diff, then publishing (a stale revision is refused too).
        let diff = hr.get("/matrices/python/diff?to=draft").await;
        assert_eq!(diff.status, 200, "{b}");
        for expected in [
            "<del>Expert</del> → <ins>Principal</ins>",
            "track data-engineer",
            "Python Developer · Beginner",
        ] {
            assert!(
                diff.body.contains(expected),
                "{b}: {expected}\n{}",
                diff.body
            );
        }
        let stale_publish = hr
            .post(
                "/matrices/python/draft/publish",
                &[("_csrf", &csrf), ("revision", "1"), ("note", "x")],
            )
            .await;
        assert_eq!(stale_publish.status, 409, "{b}");
        let published = hr
            .post(
                "/matrices/python/draft/publish",
                &[
                    ("_csrf", &csrf),
                    ("revision", &rev),
                    ("note", "Principal level, data engineers"),
                ],
            )
            .await;
        assert_eq!(
            published.location(),
            "/matrices/python?v=2&done=published",
            "{b}"
        );
        let v2 = hr.get(published.location()).await;
        assert!(v2.body.contains("Published as version 2."), "{b}");
        assert!(v2.body.contains("Principal level, data engineers"), "{b}");
        assert!(
            v2.body.contains("/matrices/python/diff?from=1&amp;to=2"),
            "{b}"
        );
        // Any two versions, in either direction.
        assert!(
            v2.body
                .contains("<form method=\"get\" action=\"/matrices/python/diff\""),
            "{b}"
        );
        let any_two = hr.get("/matrices/python/diff?from=2&to=1").await;
        assert!(any_two.body.contains("From version 2 to version 1"), "{b}");
        assert!(any_two.body.contains("<del>Principal</del>"), "{b}");

        // Nobody else: 404 for every page and form.
        for who in [DEMO_EMPLOYEE, "hr@beta.test"] {
            let mut x = Browser::new(&base);
            x.signed_in(who, &b).await;
            let their = x.get("/matrix").await.csrf();
            for path in [
                "/matrices",
                "/matrices/python",
                "/matrices/python/draft",
                "/matrices/python/diff?from=1&to=2",
                "/matrices/python/export?v=1&format=yaml",
            ] {
                let page = x.get(path).await;
                if who == "hr@beta.test" && path == "/matrices" {
                    // Beta's own list: not demo's.
                    assert!(!page.body.contains("Principal"), "{b}");
                    continue;
                }
                if who == "hr@beta.test" && path != "/matrices/python/draft" {
                    // Beta has a python matrix of its own: it sees that one, never demo's.
                    assert!(!page.body.contains("Principal"), "{b}: {who} {path}");
                    continue;
                }
                assert_eq!(page.status, 404, "{b}: {who} {path}");
            }
            for path in [
                "/matrices/python/draft/start",
                "/matrices/python/draft/edit",
                "/matrices/python/draft/publish",
            ] {
                let posted = x
                    .post(
                        path,
                        &[
                            ("_csrf", &their),
                            ("revision", "0"),
                            ("op", "add_track"),
                            ("key", "x"),
                            ("name", "X"),
                            ("note", "x"),
                        ],
                    )
                    .await;
                if who == DEMO_EMPLOYEE {
                    assert_eq!(posted.status, 404, "{b}: {who} {path}");
                }
            }
        }
        let (v, m) = app
            .matrix_version(&sys, "demo", "python", rungs_app::VersionRef::Latest)
            .await
            .unwrap();
        assert_eq!(v.number, Some(2), "{b}");
        assert!(m.track("x").is_none(), "{b}");
    })
    .await;
}

/// HR imports a matrix file (a broken one refused at its line and column, nothing written; a
/// changed one becoming the draft), publishes it, then moves people: a mapping with a mistake
/// refused at its place, a dry run that writes nothing and names who waits for an open case,
/// and the move once the case is decided. Nobody else may. On every backend.
#[tokio::test]
async fn hr_imports_a_matrix_and_moves_people_after_a_dry_run() {
    on_every_backend(async |t| {
        let b = format!("{:?}", t.backend);
        let (base, app) = spawn(&t.db).await;
        seed_two_orgs(&app).await;
        let sys = Actor::system();
        let mut hr = Browser::new(&base);
        hr.signed_in(DEMO_ADMIN, &b).await;
        let form = hr.get("/matrices/import").await;
        assert_eq!(form.status, 200, "{b}");
        let csrf = form.csrf();
        let broken = "key: broken\nname: Broken\nlevels:\n  - key: l1\n    name: L1\ntracks:\n  - key: t\n    name: T\n    cells:\n      - level: l2\n";
        let refused = hr
            .post_multipart("/matrices/import", &[("_csrf", &csrf)], Some(("broken.yaml", broken.as_bytes().to_vec())))
            .await;
        assert_eq!(refused.status, 422, "{b}");
        assert!(
            refused.body.contains("<tr><td>10</td><td>16</td><td><code>tracks[0].cells[0].level</code></td>"),
            "{b}: {}",
            refused.body
        );
        assert!(
            app.matrix_version(&sys, "demo", "broken", rungs_app::VersionRef::Latest).await.is_err(),
            "{b}: nothing written"
        );
        let yaml = hr.get("/matrices/python/export?v=1&format=yaml").await.body;
        let changed = yaml.replacen("name: Expert\n", "name: Principal\n", 1);
        assert_ne!(yaml, changed, "{b}");
        let imported = hr
            .post_multipart("/matrices/import", &[("_csrf", &csrf)], Some(("python.yaml", changed.into_bytes())))
            .await;
        assert_eq!(imported.location(), "/matrices/python/draft?done=saved", "{b}: {}", imported.body);
        let draft = hr.get("/matrices/python/draft").await;
        let rev = revision_of(&draft);
        let published = hr
            .post("/matrices/python/draft/publish", &[("_csrf", &csrf), ("revision", &rev), ("note", "Principal")])
            .await;
        assert_eq!(published.location(), "/matrices/python?v=2&done=published", "{b}");

        let on = |app: App, version: u32| async move {
            let people = app
                .people_page(&Actor::system(), "demo", &Default::default(), Some(100), None)
                .await
                .unwrap()
                .items;
            let mut n = 0;
            for p in people {
                let h = app.level_history_of(&Actor::system(), "demo", p.person.id).await.unwrap();
                if let Some(last) = h.last() {
                    let (v, _) = app
                        .matrix_version(&Actor::system(), "demo", "python", rungs_app::VersionRef::Number(version))
                        .await
                        .unwrap();
                    n += usize::from(last.version_id == v.id);
                }
            }
            n
        };
        let before = on(app.clone(), 1).await;
        assert!(before > 0, "{b}");
        let page = hr.get("/matrices/python/move").await;
        assert_eq!(page.status, 200, "{b}");
        let bad = hr
            .post("/matrices/python/move", &[("_csrf", &csrf), ("to", "2"), ("intent", "preview"), ("mapping", "levels:\n  expert: nope\n")])
            .await;
        assert_eq!(bad.status, 422, "{b}");
        assert!(bad.body.contains("<tr><td>2</td><td>11</td><td><code>levels.expert</code></td>"), "{b}: {}", bad.body);
        let dry = hr
            .post("/matrices/python/move", &[("_csrf", &csrf), ("to", "2"), ("intent", "preview"), ("mapping", "levels:\n  expert: expert\n")])
            .await;
        assert_eq!(dry.status, 200, "{b}");
        assert!(dry.body.contains("Dry run to version 2"), "{b}");
        assert!(dry.body.contains("employee@demo.rungs.test</li>"), "{b}: blocked by the open case");
        assert!(!dry.body.contains("value=\"move\""), "{b}: no move while blocked");
        assert_eq!(on(app.clone(), 1).await, before, "{b}: a dry run writes nothing");

        // The case decided, the move goes through.
        let open = open_cases(&app).await;
        let hr_person = app.person_by_email(&sys, "demo", DEMO_ADMIN).await.unwrap();
        let as_hr = Actor::Person { id: hr_person.id, org: hr_person.org_id, is_admin: true };
        for c in &open {
            app.decide_promotion(&as_hr, "demo", c.case.id, rungs_app::Verdict::Reject { note: "next cycle" })
                .await
                .unwrap();
        }
        let dry = hr
            .post("/matrices/python/move", &[("_csrf", &csrf), ("to", "2"), ("intent", "preview"), ("mapping", "")])
            .await;
        assert!(dry.body.contains(&format!("Dry run to version 2: {before} to move")), "{b}: {}", dry.body);
        assert!(dry.body.contains("value=\"move\""), "{b}");
        let moved = hr
            .post("/matrices/python/move", &[("_csrf", &csrf), ("to", "2"), ("intent", "move"), ("mapping", "")])
            .await;
        assert_eq!(moved.location(), format!("/matrices/python/move?to=2&moved={before}"), "{b}");
        assert!(hr.get(moved.location()).await.body.contains(&format!("Moved {before} people to version 2.")), "{b}");
        assert_eq!(on(app.clone(), 2).await, before, "{b}");
        assert_eq!(on(app.clone(), 1).await, 0, "{b}");

        for who in [DEMO_MANAGER, DEMO_EMPLOYEE] {
            let mut x = Browser::new(&base);
            x.signed_in(who, &b).await;
            let their = x.get("/matrix").await.csrf();
            assert_eq!(x.get("/matrices/import").await.status, 404, "{b}: {who}");
            assert_eq!(x.get("/matrices/python/move").await.status, 404, "{b}: {who}");
            let posted = x.post("/matrices/python/move", &[("_csrf", &their), ("to", "1"), ("intent", "move")]).await;
            assert_eq!(posted.status, 404, "{b}: {who}");
            let posted = x
                .post_multipart("/matrices/import", &[("_csrf", &their)], Some(("b.yaml", broken.as_bytes().to_vec())))
                .await;
            assert_eq!(posted.status, 404, "{b}: {who}");
        }
    })
    .await;
}

/// The team page's "Levels in my team" table: position and people, sorted.
fn level_table(p: &Page) -> Vec<(String, usize)> {
    let table = p
        .body
        .split("id=\"dist-caption\"")
        .nth(1)
        .and_then(|s| s.split("</tbody>").next())
        .expect("the level distribution");
    let mut rows: Vec<(String, usize)> = table
        .split("<tr><th scope=\"row\">")
        .skip(1)
        .map(|r| {
            let (k, rest) = r.split_once("</th><td>").expect("a position and its count");
            let n = rest.split("</td>").next().expect("a count");
            (k.to_owned(), n.parse().expect("a number"))
        })
        .collect();
    rows.sort();
    rows
}

/// How many of the team page's listed people hold each position, sorted as
/// [`level_table`].
fn positions_listed(p: &Page) -> Vec<(String, usize)> {
    let listing = p
        .body
        .split("<table class=\"team\">")
        .nth(1)
        .and_then(|s| s.split("</tbody>").next())
        .expect("the team's table");
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for row in listing.split("</th>\n      <td>").skip(1) {
        let position = row.split("</td>").next().expect("a position");
        let position = if position == "no level yet" {
            "No level yet"
        } else {
            position
        };
        *counts.entry(position.to_owned()).or_default() += 1;
    }
    counts.into_iter().collect()
}
