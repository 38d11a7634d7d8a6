//! The web app in a real browser: headless Chromium driven through ChromeDriver (WebDriver, by
//! fantoccini), against the real binary (`rungs serve --demo`, the README's run command). One
//! server, one ChromeDriver and one browser serve every story, in order.
//!
//! - `RUNGS_TEST_CHROMEDRIVER` (set by `.ci/run`): the ChromeDriver to use; the stories must
//!   run, and fail loudly if they cannot. Without it, `chromedriver` on the PATH is used when
//!   there is one; otherwise the stories are skipped, and the test says so.
//! - `RUNGS_TEST_AXE`: axe-core's `axe.min.js` (`.ci/run` installs it with npm); every page
//!   of the stories is audited, and a serious or critical violation fails the test. Without
//!   it the audit is skipped, and the test says so.
//! - Screenshots of each page at 375 and 1440 px wide go to `target/browser-screenshots/`.

#![allow(clippy::unwrap_used)]

use fantoccini::{Client, ClientBuilder, Locator};
use rungs_tests::{Running, rungs, serve};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PASSWORD: &str = "rungs-demo-password";
const EMPLOYEE: &str = "employee@demo.rungs.test";
const MANAGER: &str = "manager@demo.rungs.test";
const HR: &str = "hr@demo.rungs.test";
/// A manager of the second organisation (`rungs demo seed --org beta`).
const BETA_MANAGER: &str = "manager@beta.rungs.test";

/// ChromeDriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// The ChromeDriver to use, or why the stories cannot run.
fn chromedriver() -> Result<PathBuf, String> {
    match std::env::var_os("RUNGS_TEST_CHROMEDRIVER").filter(|v| !v.is_empty()) {
        Some(p) => {
            let p = PathBuf::from(p);
            if p.is_file() {
                Ok(p)
            } else {
                panic!(
                    "RUNGS_TEST_CHROMEDRIVER={} does not exist: install chromium and chromium-driver (apt-get install chromium chromium-driver)",
                    p.display()
                )
            }
        }
        None => find_on_path("chromedriver").ok_or_else(|| {
            "SKIPPED the browser stories: no chromedriver on the PATH (apt-get install chromium chromium-driver, or set RUNGS_TEST_CHROMEDRIVER)".to_owned()
        }),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_driver(path: &PathBuf) -> Driver {
    let port = free_port();
    let mut child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Driver { child, url };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chromedriver did not answer on port {port}");
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    let mut chrome = json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1440,900", "--lang=en-GB"]
    });
    if let Some(bin) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .find(|p| std::path::Path::new(p).is_file())
    {
        chrome["binary"] = json!(bin);
    }
    caps.insert("goog:chromeOptions".into(), chrome);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}"))
}

/// The browser, the server it talks to, and what every story needs.
struct Stories {
    c: Client,
    base: String,
    shots: PathBuf,
    axe: Option<String>,
    audited: Vec<String>,
}

impl Stories {
    async fn open(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn path(&self) -> String {
        let u = self.c.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    /// The text of the first `css`, once there is one (a page that is still loading, or an
    /// element replaced meanwhile, is waited for).
    async fn text(&self, css: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            match self.c.find(Locator::Css(css)).await {
                Ok(el) => match el.text().await {
                    Ok(t) => return t,
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no `{css}` on {}: {last}", self.path().await)
    }

    /// Waits until the browser is at `expected` (path and query), after a click that navigates.
    async fn at(&self, expected: &str) {
        for _ in 0..100 {
            if self.path().await == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(self.path().await, expected);
    }

    /// Waits until the first `css` reads `expected` (after a navigation or an in-place update).
    async fn see(&self, css: &str, expected: &str) {
        let mut last = String::new();
        for _ in 0..100 {
            if let Ok(el) = self.c.find(Locator::Css(css)).await
                && let Ok(t) = el.text().await
            {
                if t.contains(expected) {
                    return;
                }
                last = t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "`{css}` on {} reads {last:?}, not {expected:?}",
            self.path().await
        )
    }

    async fn fill(&self, css: &str, text: &str) {
        let el = self.c.find(Locator::Css(css)).await.unwrap();
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    /// Clicks a button that posts its form, then waits until the browser has left the page it
    /// was on: a notice of the old page (the last "Saved.") must not pass for the new page's.
    async fn submit(&self, css: &str) {
        let before = self.c.find(Locator::Css("main")).await.ok();
        self.click(css).await;
        let Some(before) = before else { return };
        for _ in 0..100 {
            // The old page's element is stale once the new page has replaced it.
            if before.text().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{css}` did not leave {}", self.path().await)
    }

    async fn click(&self, css: &str) {
        match self.c.find(Locator::Css(css)).await {
            Ok(el) => el.click().await.unwrap(),
            Err(e) => {
                let page = self.c.source().await.unwrap_or_default();
                panic!("no `{css}` on {}: {e}\n{page}", self.path().await)
            }
        }
    }

    /// Screenshots at a phone's and a desktop's width, then the accessibility audit.
    async fn check_page(&mut self, name: &str) {
        for (w, h) in [(375u32, 812u32), (1440, 900)] {
            self.c.set_window_size(w, h).await.unwrap();
            let png = self.c.screenshot().await.unwrap();
            std::fs::write(self.shots.join(format!("{name}-{w}.png")), png).unwrap();
            // Nothing may be wider than the window (a page usable on a phone scrolls down only);
            // a wide table or chart scrolls inside its own box, which must fit.
            let wide = self
                .c
                .execute(
                    "const w = document.documentElement.clientWidth; // the window less its scroll bar
                     if (document.documentElement.scrollWidth <= w + 1) return [];
                     return [...document.querySelectorAll('body *')]
                       .filter(e => e.getBoundingClientRect().right > w + 1
                                 && !e.parentElement.closest('.scroll, figure.chart'))
                       .slice(0, 5)
                       .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                                 + (e.className && e.className.baseVal === undefined ? '.' + e.className : '')
                                 + ' right=' + Math.round(e.getBoundingClientRect().right))
                       .concat(['the page is ' + document.documentElement.scrollWidth + 'px wide in ' + w + 'px']);",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(wide, json!([]), "{name} at {w}px is wider than the window");
        }
        let Some(axe) = &self.axe else { return };
        self.c.execute(axe, vec![]).await.unwrap();
        let found = self
            .c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
                   .then(r => done(r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .unwrap();
        let found: Vec<String> = serde_json::from_value(found).unwrap();
        assert!(
            found.is_empty(),
            "axe-core on {name}:\n{}",
            found.join("\n")
        );
        self.audited.push(name.to_owned());
    }

    async fn sign_in(&self, email: &str) {
        self.open("/signin").await;
        // The organisation is the first label of the email's domain in these stories.
        let org = email
            .rsplit_once('@')
            .and_then(|(_, d)| d.split('.').next())
            .unwrap();
        self.fill("#organisation", org).await;
        self.fill("#email", email).await;
        self.fill("#password", PASSWORD).await;
        self.click("form[action='/signin'] button[type=submit]")
            .await;
        // Signed in once the browser has left the sign-in page (its own `h1` is there at once)
        // and the page it landed on has its heading.
        for _ in 0..100 {
            if !self.path().await.starts_with("/signin") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            !self.path().await.starts_with("/signin"),
            "{email} did not get past sign-in"
        );
        self.c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("main h1"))
            .await
            .unwrap();
    }

    /// On the provider's pages (after "Sign in with …"): signs in as `login` (any password)
    /// and consents.
    async fn through_the_provider(&self, login: &str) {
        // The provider's own sign-in page, then its consent page once it has replaced it.
        for (prompt, fill) in [("login", true), ("consent", false)] {
            self.c
                .wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css(&format!("input[name=prompt][value={prompt}]")))
                .await
                .unwrap();
            if fill {
                self.fill("input[name=login]", login).await;
                self.fill("input[name=password]", "anything").await;
            }
            self.click("button[type=submit]").await;
        }
    }

    async fn sign_out(&self) {
        self.click("form[action='/signout'] button").await;
        self.see("p.notice", "You are signed out.").await;
    }
}

/// The demo's server on a fresh SQLite file, as the README runs it, with a second
/// organisation beside the demo's.
fn demo_server(dir: &std::path::Path) -> Running {
    for args in [
        &["db", "migrate"][..],
        &["demo", "seed", "--org", "beta", "--people", "10"][..],
    ] {
        let out = rungs(dir, None).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "rungs {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serve(rungs(dir, None), &["--demo"]).unwrap_or_else(|e| panic!("serve --demo: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_in_a_real_browser() {
    let driver_path = match chromedriver() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("{why}");
            return;
        }
    };
    let axe = match std::env::var_os("RUNGS_TEST_AXE").filter(|v| !v.is_empty()) {
        Some(p) => Some(
            std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("RUNGS_TEST_AXE={}: {e}", p.to_string_lossy())),
        ),
        None => {
            eprintln!(
                "SKIPPED the accessibility audit: set RUNGS_TEST_AXE to axe-core's axe.min.js (npm install axe-core)"
            );
            None
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(dir.path());
    let driver = start_driver(&driver_path);
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/browser-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut s = Stories {
        c: browser(&driver).await,
        base: server.base.clone(),
        shots,
        axe,
        audited: Vec::new(),
    };

    employee_signs_in_and_rates_themselves(&mut s).await;
    a_form_without_its_csrf_token_is_refused(&mut s).await;
    s.sign_out().await;
    let urls = manager_assesses_and_proposes_a_promotion(&mut s).await;
    employee_sees_the_case_explores_and_reads_the_matrix(&mut s, &urls).await;
    another_organisation_gets_404(&mut s, &urls).await;
    hr_finds_people_in_the_directory(&mut s).await;
    hr_decides_promotions_and_previews_the_rule(&mut s).await;
    hr_imports_people_fixing_an_error_first(&mut s).await;
    hr_reads_analytics_and_the_audit_log(&mut s).await;
    // A second browser session (the same ChromeDriver), for a second HR admin at once.
    let mut second = browser(&driver).await;
    hr_builds_a_version_in_the_editor(&mut s, &mut second).await;
    second.close().await.unwrap();
    s.sign_in(EMPLOYEE).await;
    signing_out_ends_the_session_and_its_cookie_is_refused_after(&mut s).await;
    unknown_pages_are_a_plain_404(&mut s).await;
    graphiql_runs_without_internet(&mut s).await;
    match rungs_tests::oidc::OpenIdProvider::shared() {
        Ok(op) => people_sign_in_with_the_identity_provider(&mut s, dir.path(), op).await,
        Err(why) => eprintln!("{why}"),
    }

    println!(
        "browser stories passed; audited by axe-core: {:?}; screenshots in {}",
        s.audited,
        s.shots.display()
    );
    s.c.close().await.unwrap();
    drop(server);
}

async fn employee_signs_in_and_rates_themselves(s: &mut Stories) {
    s.open("/growth").await;
    assert_eq!(s.path().await, "/signin?next=/growth", "signed out");
    s.check_page("signin").await;
    s.sign_in(EMPLOYEE).await;
    s.at("/growth").await;
    s.see("main h1", "My growth").await;
    assert!(s.text("#next-h").await.starts_with("Toward"));
    s.check_page("growth").await;

    // Rate myself on the first gap: the criterion is answered in place (htmx), the page stays.
    let gap =
        s.c.find(Locator::Css("#gaps-h + ol li.item"))
            .await
            .unwrap();
    let id = gap.attr("id").await.unwrap().unwrap();
    // A marker on the page that a reload would lose.
    s.c.execute("window.__stayed = true; return true;", vec![])
        .await
        .unwrap();
    s.click(&format!("#{id} details.rate summary")).await;
    s.click(&format!("#{id} input[name=rating][value=meets]"))
        .await;
    s.fill(
        &format!("#{id} textarea[name=evidence]"),
        "Shipped the trie behind search",
    )
    .await;
    s.fill(
        &format!("#{id} textarea[name=links]"),
        "https://example.com/pr/42",
    )
    .await;
    s.click(&format!("#{id} form button[type=submit]")).await;
    s.see(&format!("#{id} p.notice"), "Your rating is saved.")
        .await;
    let mine = s.text(&format!("#{id} .ratings div:nth-child(2) dd")).await;
    assert!(mine.contains("Meets"), "{mine}");
    assert!(mine.contains("Shipped the trie behind search"), "{mine}");
    let stayed: Value =
        s.c.execute("return window.__stayed === true;", vec![])
            .await
            .unwrap();
    assert_eq!(
        stayed,
        json!(true),
        "the page was reloaded instead of updated in place"
    );
    s.check_page("growth-rated").await;
}

async fn a_form_without_its_csrf_token_is_refused(s: &mut Stories) {
    s.open("/growth").await;
    let id =
        s.c.find(Locator::Css("#gaps-h + ol li.item"))
            .await
            .unwrap()
            .attr("id")
            .await
            .unwrap()
            .unwrap();
    // The form loses its token and is posted as a plain form (not through htmx).
    s.c.execute(
        "const f = document.querySelector('#' + arguments[0] + ' form');
         f.querySelector('input[name=_csrf]').value = 'forged';
         f.querySelector('input[name=rating][value=exceeds]').checked = true;
         f.removeAttribute('hx-post');
         HTMLFormElement.prototype.submit.call(f);
         return true;",
        vec![json!(id)],
    )
    .await
    .unwrap();
    s.see("main h1", "Form expired").await;
    s.check_page("refused").await;
}

async fn signing_out_ends_the_session_and_its_cookie_is_refused_after(s: &mut Stories) {
    s.open("/growth").await;
    let cookie = s.c.get_named_cookie("rungs_session").await.unwrap();
    s.sign_out().await;
    assert!(s.path().await.starts_with("/signin"));
    // The old cookie, put back, no longer opens anything.
    s.c.add_cookie(cookie).await.unwrap();
    s.open("/growth").await;
    s.see("p.notice", "Your session has ended. Please sign in again.")
        .await;
    assert!(s.path().await.starts_with("/signin?ended=1"));
}

async fn unknown_pages_are_a_plain_404(s: &mut Stories) {
    s.sign_in(EMPLOYEE).await;
    s.open("/no/such/page").await;
    s.see("main h1", "Page not found").await;
    s.check_page("not-found").await;
    s.sign_out().await;
}

/// Pages the later stories open again.
struct Urls {
    /// The employee's page, as their manager sees it.
    employee: String,
    /// A colleague of the employee's (another of the manager's reports).
    colleague: String,
}

async fn manager_assesses_and_proposes_a_promotion(s: &mut Stories) -> Urls {
    s.sign_in(MANAGER).await;
    s.click("nav a[href='/team']").await;
    s.see("main h1", "My team").await;
    s.check_page("team").await;
    // The heatmap is below the fold: keep a picture of it too.
    let heat =
        s.c.find(Locator::Css(
            "section[aria-labelledby=heat-h] figure.chart svg",
        ))
        .await
        .unwrap();
    std::fs::write(
        s.shots.join("team-heatmap.png"),
        heat.screenshot().await.unwrap(),
    )
    .unwrap();
    let colleague =
        s.c.execute(
            "return [...document.querySelectorAll('table.team a[href^=\"/people/\"]')]
               .find(a => a.textContent !== 'Emil Employee').getAttribute('href');",
            vec![],
        )
        .await
        .unwrap();
    let colleague = colleague.as_str().unwrap().to_owned();
    // Direct reports only, by name: the employee reports to this manager.
    s.click("input[name=scope][value=direct]").await;
    s.c.execute(
        "document.querySelector('#sort').value = 'name'; return true;",
        vec![],
    )
    .await
    .unwrap();
    s.click("form[action='/team'] button").await;
    // A GET form sends every field, the empty filters too.
    s.at("/team?scope=direct&q=&track=&sort=name").await;
    // The name filter narrows the table (in SQL) and says how many match.
    s.fill("#q", "emil").await;
    s.click("form[action='/team'] button").await;
    s.at("/team?scope=direct&q=emil&track=&sort=name").await;
    s.see("#people-h", "1 person matches").await;
    let names =
        s.c.execute(
            "return [...document.querySelectorAll('table.team tbody th a')].map(a => a.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(names, serde_json::json!(["Emil Employee"]));
    s.click("form[action='/team'] a").await;
    s.at("/team?scope=direct&sort=name").await;
    let employee =
        s.c.execute(
            "return [...document.querySelectorAll('table.team a[href^=\"/people/\"]')]
               .find(a => a.textContent === 'Emil Employee').getAttribute('href');",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    s.open(&employee).await;
    s.see("main h1", "Emil Employee").await;
    s.check_page("person").await;

    // Assess the first gap: answered in place.
    let id =
        s.c.find(Locator::Css("#pgaps-h + ol li.item"))
            .await
            .unwrap()
            .attr("id")
            .await
            .unwrap()
            .unwrap();
    s.click(&format!("#{id} details.rate summary")).await;
    s.click(&format!("#{id} input[name=rating][value=exceeds]"))
        .await;
    s.fill(
        &format!("#{id} textarea[name=evidence]"),
        "Led the search rewrite review",
    )
    .await;
    s.click(&format!("#{id} form button[type=submit]")).await;
    s.see(&format!("#{id} p.notice"), "The assessment is saved.")
        .await;

    // The demo's open case is withdrawn, and a new one proposed with a justification.
    s.fill("#withdraw-note", "Rescoping the target").await;
    s.click("form[action$='/withdraw'] button").await;
    s.see("p.notice", "The case is withdrawn.").await;
    s.fill("#justification", "Leads the search rewrite end to end")
        .await;
    s.click("form[action$='/propose'] button").await;
    s.see("p.notice", "The promotion is proposed.").await;
    s.check_page("person-proposed").await;
    // A second proposal, for the HR admin to reject.
    s.open(&colleague).await;
    s.fill("#justification", "Runs the on-call rotation").await;
    s.click("form[action$='/propose'] button").await;
    s.see("p.notice", "The promotion is proposed.").await;
    // HR's pages are not a manager's.
    for hr_page in [
        "/people",
        "/promotions",
        "/matrices",
        "/analytics",
        "/audit",
    ] {
        s.open(hr_page).await;
        s.see("main h1", "Page not found").await;
    }
    s.sign_out().await;
    Urls {
        employee,
        colleague,
    }
}

async fn employee_sees_the_case_explores_and_reads_the_matrix(s: &mut Stories, urls: &Urls) {
    s.sign_in(EMPLOYEE).await;
    s.click("nav a[href='/history']").await;
    s.see("main h1", "My history").await;
    let cases = s.text("#cases").await;
    assert!(
        cases.contains("Leads the search rewrite end to end"),
        "{cases}"
    );
    assert!(cases.contains("withdrawn"), "{cases}");
    s.check_page("history").await;

    s.click("nav a[href='/explore']").await;
    s.c.execute(
        "const sel = document.querySelector('#to');
         sel.value = [...sel.options].find(o => o.value.startsWith('data-analyst/')).value;
         return true;",
        vec![],
    )
    .await
    .unwrap();
    s.click("form[action='/explore'] button").await;
    s.see("#to-h", "Data Analyst").await;
    s.see("#to-h + p", "A move to another track.").await;
    s.check_page("explore").await;

    s.click("nav a[href='/matrix']").await;
    s.see("td.mine .here", "You are here").await;
    s.check_page("matrix").await;

    // A manager's URL: the same 404 as a page that does not exist.
    s.open(&urls.colleague).await;
    s.see("main h1", "Page not found").await;
    s.open(&urls.employee).await;
    s.see("main h1", "Page not found").await;
    // The HR pages too.
    for hr_page in [
        "/people",
        "/people/new",
        "/people/import",
        "/analytics",
        "/audit",
        "/matrices",
        "/matrices/python",
        "/matrices/python/move",
        "/matrices/import",
        "/promotions",
        "/promotions/rule",
    ] {
        s.open(hr_page).await;
        s.see("main h1", "Page not found").await;
    }
    s.sign_out().await;
}

/// The HR admin finds a person in the directory by part of their name and opens their page.
async fn hr_finds_people_in_the_directory(s: &mut Stories) {
    s.sign_in(HR).await;
    s.click("nav a[href='/people']").await;
    s.see("main h1", "People").await;
    s.see("#people-h", "30 people").await;
    s.check_page("people-directory").await;
    s.fill("#q", "emil").await;
    s.click("form[action='/people'] button[type=submit]").await;
    s.see("#people-h", "1 person matches").await;
    s.click("table.team a[href^='/people/']").await;
    s.see("main h1", "Emil").await;
    s.sign_out().await;
}

/// The HR admin approves the employee's promotion and rejects the colleague's (first trying
/// without a reason), then previews a readiness rule.
async fn hr_decides_promotions_and_previews_the_rule(s: &mut Stories) {
    s.sign_in(HR).await;
    s.click("nav a[href='/promotions']").await;
    s.see("main h1", "Promotions").await;
    s.see("#queue-h", "2 open cases").await;
    s.check_page("promotions").await;
    let case_of = |name: &'static str| {
        format!(
            "return [...document.querySelectorAll('article.case')]
               .find(a => a.querySelector('h3 a').textContent === '{name}').id;"
        )
    };
    let emil =
        s.c.execute(&case_of("Emil Employee"), vec![])
            .await
            .unwrap();
    let emil = emil.as_str().unwrap().to_owned();
    let other =
        s.c.execute(
            "return [...document.querySelectorAll('article.case')]
               .find(a => a.querySelector('h3 a').textContent !== 'Emil Employee').id;",
            vec![],
        )
        .await
        .unwrap();
    let other = other.as_str().unwrap().to_owned();
    let text = s.text(&format!("#{other}")).await;
    assert!(text.contains("Runs the on-call rotation"), "{text}");
    // A rejection needs its reason: without one (the browser's own check switched off, as
    // an old browser would send it) it is not saved and says so at the case.
    s.c.execute(
        &format!("document.querySelector('#{other} form[action$=reject] textarea').removeAttribute('required'); return true;"),
        vec![],
    )
    .await
    .unwrap();
    s.click(&format!("#{other} form[action$='/reject'] button"))
        .await;
    s.see(&format!("#{other} p.error"), "Not saved").await;
    s.fill(
        &format!("#{other} form[action$='/reject'] textarea"),
        "Not this cycle: lead a project first",
    )
    .await;
    s.click(&format!("#{other} form[action$='/reject'] button"))
        .await;
    s.see("p.notice", "The promotion is rejected.").await;
    s.see("#queue-h", "1 open case").await;
    s.fill(
        &format!("#{emil} form[action$='/approve'] textarea"),
        "Well earned",
    )
    .await;
    s.click(&format!("#{emil} form[action$='/approve'] button"))
        .await;
    s.see("p.notice", "The promotion is approved").await;
    s.see("#queue-h", "0 open cases").await;
    s.click("nav.tabs a[href='/promotions?status=all']").await;
    s.see(&format!("#{emil} .badge"), "approved").await;
    s.see(&format!("#{other} .badge"), "rejected").await;
    s.check_page("promotions-decided").await;

    s.click("a[href='/promotions/rule']").await;
    s.see("main h1", "Readiness rule").await;
    s.check_page("readiness-rule").await;
    s.c.execute(
        "document.querySelector('#min_rating').value = 'developing'; return true;",
        vec![],
    )
    .await
    .unwrap();
    s.fill("#score", "50").await;
    s.fill("#months", "0").await;
    s.click("button[name=intent][value=preview]").await;
    s.see("#preview-h", "If people were ready when at least 50%")
        .await;
    s.check_page("readiness-rule-preview").await;
    s.sign_out().await;
}

/// The HR admin uploads a people CSV with a mistake, sees it at its line and column, fixes it
/// in the page, checks the preview and imports; the new people are in the directory.
async fn hr_imports_people_fixing_an_error_first(s: &mut Stories) {
    s.sign_in(HR).await;
    s.click("nav a[href='/people']").await;
    s.click("a[href='/people/import']").await;
    s.see("main h1", "Import people").await;
    s.check_page("people-import").await;
    let file = std::env::temp_dir().join(format!("rungs-browser-{}.csv", std::process::id()));
    std::fs::write(
        &file,
        "email,name,manager_email,track,level\n\
         nia@demo.rungs.test,Nia New,manager@demo.rungs.test,python-developer,beginner\n\
         omar@demo.rungs.test,Omar New,nia@demo.rungs.test,data-analyst,begginer\n",
    )
    .unwrap();
    s.c.find(Locator::Css("#file"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    s.click("button[name=intent][value=preview]").await;
    s.see("#problems-h", "1 problem found; nothing was written")
        .await;
    let problem = s.text("table.problems tbody tr").await;
    assert!(problem.starts_with("3 5 level"), "{problem}");
    s.check_page("people-import-problems").await;
    // Fixed where the page shows the file's text.
    let text =
        s.c.find(Locator::Css("#text"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap();
    s.fill("#text", &text.replace("begginer", "beginner")).await;
    s.click("button[name=intent][value=preview]").await;
    s.see("#preview-h", "Ready to import: 2 to add").await;
    s.check_page("people-import-preview").await;
    s.click("button[name=intent][value=import]").await;
    s.see(
        "p.notice",
        "Imported: 2 added, 0 updated, 0 unchanged, 2 levels assigned.",
    )
    .await;
    s.open("/people?q=omar%40demo").await;
    s.see("#people-h", "1 person matches").await;
    s.see("table.team tbody", "Omar New").await;
    std::fs::remove_file(&file).ok();

    // One person by hand, with their first position; then deactivated on their page.
    s.open("/people").await;
    s.click("a[href='/people/new']").await;
    s.see("main h1", "Add a person").await;
    s.check_page("person-new").await;
    s.fill("#email", "pia@demo.rungs.test").await;
    s.fill("#name", "Pia Placed").await;
    s.fill("#manager", MANAGER).await;
    s.c.execute(
        "document.querySelector('#position').value = 'web-developer/beginner'; return true;",
        vec![],
    )
    .await
    .unwrap();
    s.click("form[action='/people/new'] button").await;
    s.see("p.notice", "The person is added.").await;
    s.see("main h1 + p", "Web Developer · Beginner").await;
    s.check_page("person-manage").await;
    s.click("input[name=active]").await;
    s.click("form[action$='/edit'] button").await;
    s.see("p.notice", "The changes are saved.").await;
    s.see("main h1 + p", "Deactivated").await;
    s.sign_out().await;
}

/// The HR admin reads the analytics of the organisation and of the manager's subtree, and
/// finds the approval in the audit log.
async fn hr_reads_analytics_and_the_audit_log(s: &mut Stories) {
    s.sign_in(HR).await;
    s.click("nav a[href='/analytics']").await;
    s.see("main h1", "Analytics").await;
    s.see("#summary", "For the whole organisation").await;
    let charts =
        s.c.execute(
            "return document.querySelectorAll('figure.chart svg[role=img][aria-label]').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        charts,
        json!(4),
        "four charts, each with a text alternative"
    );
    s.check_page("analytics").await;
    // Those without a level yet, listed in the directory to be placed.
    s.click("#summary a[href='/people?unplaced=1']").await;
    s.see("main h1", "People").await;
    s.see("#people-h", "match").await;
    s.see("table.team tbody", "no level yet").await;
    let placed =
        s.c.execute(
            "return [...document.querySelectorAll('table.team tbody tr td:nth-of-type(2)')]
                .filter(td => td.textContent !== 'no level yet').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(placed, json!(0), "only people without a level are listed");
    s.check_page("people-unplaced").await;
    s.click("nav a[href='/analytics']").await;
    s.fill("#manager", MANAGER).await;
    s.click("form[action='/analytics'] button").await;
    s.see("#summary", "everyone below").await;
    s.click("a[href='/audit']").await;
    s.see("main h1", "Audit log").await;
    s.c.execute(
        "document.querySelector('#action').value = 'promotion.approve'; return true;",
        vec![],
    )
    .await
    .unwrap();
    s.click("form[action='/audit'] button").await;
    s.see("#entries-h", "1 entry matches").await;
    s.see("table.audit tbody", "Well earned").await;
    s.check_page("audit").await;
    s.sign_out().await;
}

/// The HR admin starts a draft of the matrix, edits a cell's titles, renames a level, adds a
/// track and a criterion; a second HR admin with the same draft open in her own browser,
/// stale by then, gets the conflict with the current content; then the diff, publishing, and
/// moving everyone to the new version after a dry run.
async fn hr_builds_a_version_in_the_editor(s: &mut Stories, other: &mut Client) {
    s.sign_in(HR).await;
    s.click("nav a[href='/matrices']").await;
    s.see("main h1", "Matrices").await;
    s.check_page("matrices").await;
    s.click("a[href='/matrices/python']").await;
    s.see("main p.muted", "Showing version 1.").await;
    s.check_page("matrix-version").await;
    s.click("form[action='/matrices/python/draft/start'] button")
        .await;
    s.see("p.notice", "The draft is started").await;
    s.check_page("matrix-draft").await;
    // The manager becomes a second HR admin (on her page, by HR), and opens the same draft
    // in her own browser: it holds the editor as it is now.
    s.open("/people?q=manager%40demo").await;
    s.click("table.team a[href^='/people/']").await;
    s.click("input[name=admin]").await;
    s.click("form[action$='/edit'] button").await;
    s.see("p.notice", "The changes are saved.").await;
    std::mem::swap(&mut s.c, other);
    s.sign_in(MANAGER).await;
    s.open("/matrices/python/draft?track=python-developer")
        .await;
    s.see("main h1", "Draft of").await;
    std::mem::swap(&mut s.c, other);
    s.open("/matrices/python/draft?track=python-developer")
        .await;

    s.fill("#titles-beginner", "Trainee, Junior Developer")
        .await;
    s.submit("form:has(#titles-beginner) button").await;
    s.see("p.notice", "Saved.").await;
    s.click("#level-expert-h + details summary").await;
    s.fill("#level-expert-name", "Principal").await;
    s.submit("form:has(#level-expert-name) button").await;
    s.see("p.notice", "Saved.").await;
    s.see("#level-expert-h", "Principal").await;
    s.click("details:has(#new-key-beginner) summary").await;
    s.fill("#new-key-beginner", "reads-tracebacks").await;
    s.fill("#new-name-beginner", "Reads a traceback to its cause")
        .await;
    s.submit("form:has(#new-key-beginner) button").await;
    s.see("p.notice", "Saved.").await;
    s.fill("#new-track-key", "data-engineer").await;
    s.fill("#new-track-name", "Data Engineer").await;
    s.submit("form:has(#new-track-key) button").await;
    s.see("p.notice", "Saved.").await;
    s.see("#track-h", "Data Engineer").await;

    // The other HR admin's page was read four revisions ago: her edit is refused, and she
    // sees the current draft.
    std::mem::swap(&mut s.c, other);
    s.fill("#titles-intermediate", "Overwritten").await;
    s.click("form:has(#titles-intermediate) button").await;
    s.see("div.error", "Someone else changed the draft meanwhile")
        .await;
    s.see("#level-expert-h", "Principal").await;
    s.check_page("matrix-conflict").await;
    s.sign_out().await;
    std::mem::swap(&mut s.c, other);

    s.open("/matrices/python/diff?to=draft").await;
    s.see("main h1", "From version 1 to the draft").await;
    let diff = s.text("main").await;
    for expected in ["Principal", "data-engineer", "reads-tracebacks"] {
        assert!(diff.contains(expected), "{expected} in the diff:\n{diff}");
    }
    assert!(!diff.contains("Overwritten"), "{diff}");
    s.check_page("matrix-diff").await;
    s.open("/matrices/python/draft").await;
    s.fill("#note", "A principal level and data engineers")
        .await;
    s.click("form[action='/matrices/python/draft/publish'] button")
        .await;
    s.see("p.notice", "Published as version 2.").await;

    // Everyone moves to version 2 after a dry run, with a mapping.
    s.click("a[href='/matrices/python/move']").await;
    s.see("main h1", "Move people to a new version").await;
    s.fill("#mapping", "levels:\n  expert: expert\n").await;
    s.click("button[name=intent][value=preview]").await;
    s.see("#dry-h", "Dry run to version 2").await;
    s.check_page("matrix-move").await;
    s.click("button[name=intent][value=move]").await;
    s.see("p.notice", "to version 2.").await;
    s.open("/matrices/import").await;
    s.see("main h1", "Import a matrix").await;
    s.check_page("matrix-import").await;
    s.sign_out().await;
}

async fn another_organisation_gets_404(s: &mut Stories, urls: &Urls) {
    s.sign_in(BETA_MANAGER).await;
    s.at("/team").await;
    s.open(&urls.employee).await;
    s.see("main h1", "Page not found").await;
    s.check_page("not-found-other-org").await;
    s.sign_out().await;
}

/// GraphiQL (on in the demo) comes from the binary: this machine has no internet, so the page
/// only starts if React and GraphiQL are served by Rungs. Then a query runs through it.
async fn graphiql_runs_without_internet(s: &mut Stories) {
    s.open("/graphql").await;
    let started = s
        .c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const t0 = Date.now();
             (function poll() {
               if (document.querySelector('.graphiql-container')) return done('started');
               if (Date.now() - t0 > 10000) return done('not started: ' + document.body.innerHTML.slice(0, 300)
                 + ' | React=' + typeof React + ' GraphiQL=' + typeof GraphiQL);
               setTimeout(poll, 100);
             })();",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(started, json!("started"), "GraphiQL did not start");
    let result =
        s.c.execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' },
                                 body: JSON.stringify({ query: '{ __typename }' }) })
               .then(r => r.json()).then(done, e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(result["data"]["__typename"], "Query", "{result}");
    let png = s.c.screenshot().await.unwrap();
    std::fs::write(s.shots.join("graphiql-1440.png"), png).unwrap();
}

/// HR connects the demo to a real OpenID Provider with the CLI (the secret from the
/// environment, never printed); the employee signs in through the provider's own pages and
/// lands on their growth; signing out offers the provider's sign-out; HR reads the settings.
async fn people_sign_in_with_the_identity_provider(
    s: &mut Stories,
    dir: &std::path::Path,
    op: &rungs_tests::oidc::OpenIdProvider,
) {
    let reg: Value = reqwest::Client::new()
        .post(format!("{}/reg", op.issuer))
        .json(&json!({
            "redirect_uris": [format!("{}/signin/callback", s.base)],
            "post_logout_redirect_uris": [format!("{}/signin?signed_out=1", s.base)],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, secret) = (
        reg["client_id"].as_str().unwrap(),
        reg["client_secret"].as_str().unwrap(),
    );
    let run = |args: &[&str]| {
        let out = rungs(dir, None)
            .env("RUNGS_SSO_CLIENT_SECRET", secret)
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "rungs {args:?}: {text}");
        assert!(!text.contains(secret), "the secret was printed: {text}");
        text
    };
    run(&[
        "sso",
        "set",
        "--org",
        "demo",
        "--issuer",
        &op.issuer,
        "--client-id",
        id,
        "--name",
        "Test IdP",
        "--scopes",
        "email profile groups",
        "--admin-group",
        "groups=rungs-hr",
        "--create-people",
    ]);
    let shown = run(&["sso", "show", "--org", "demo"]);
    assert!(
        shown.contains("set (never shown)") && shown.contains(id),
        "{shown}"
    );

    s.open("/signin?org=demo").await;
    s.see("#sso", "Sign in with Test IdP").await;
    s.check_page("signin-sso").await;
    s.click("#sso").await;
    s.through_the_provider(EMPLOYEE).await;
    s.see("main h1", "My growth").await;
    assert_eq!(s.path().await, "/growth");
    s.sign_out().await;
    s.see("#provider-sign-out", "Also sign out of Test IdP")
        .await;

    // Someone new to Rungs signs in with the provider: added at once, without a level, they
    // land on "My growth", which says what happens next, and can read the matrix meanwhile.
    // (Forgetting the cookies ends the provider's session too: both are on 127.0.0.1.)
    s.c.delete_all_cookies().await.unwrap();
    s.open("/signin?org=demo").await;
    s.click("#sso").await;
    s.through_the_provider("newcomer@demo.rungs.test").await;
    s.see("main h1", "My growth").await;
    assert_eq!(s.path().await, "/growth");
    s.see("#where-h + p", "You have no level yet").await;
    s.check_page("growth-unplaced").await;
    s.click("main a[href='/matrix']").await;
    s.see("main h1", "The matrix").await;
    s.see("main h1 + p", "You have no level yet").await;
    let marked =
        s.c.execute(
            "return document.querySelectorAll('td.mine').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(marked, json!(0), "no cell is theirs");
    s.check_page("matrix-unplaced").await;
    s.sign_out().await;
    s.c.delete_all_cookies().await.unwrap();

    // HR finds the newcomer among the people without a level, opens their page (no plan
    // yet, the form to place them) and places them.
    s.sign_in(HR).await;
    s.open("/people?unplaced=1&q=newcomer").await;
    s.see("#people-h", "1 person matches").await;
    s.click("table.team tbody a[href^='/people/']").await;
    s.see("main h1", "Test newcomer").await;
    s.see("#pnext-h + p", "has no level yet").await;
    s.check_page("person-unplaced").await;
    s.c.execute(
        "document.querySelector('#m-position').value = 'python-developer/beginner'; return true;",
        vec![],
    )
    .await
    .unwrap();
    s.fill("#m-reason", "joined").await;
    s.submit("form[action$='/place'] button").await;
    s.see("p.notice", "The new position is recorded.").await;
    s.see("main h1 + p", "Python Developer · Beginner").await;
    s.see("#pnext-h", "Toward").await;
    s.open("/settings").await;
    s.see("#sso-state", "Test IdP").await;
    s.check_page("settings").await;
    // A provisioning token for SCIM, shown once.
    s.fill("#token-name", "Okta").await;
    s.click("form[action='/settings/scim/tokens'] button[type=submit]")
        .await;
    s.see("#new-token", "Copy this token now").await;
    assert!(s.text("#new-token code").await.starts_with("rungs_scim_"));
    s.check_page("settings-token").await;
    s.sign_out().await;
    run(&["sso", "remove", "--org", "demo"]);
}
