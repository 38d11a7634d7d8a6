//! The demo organisation: the `python` template, a three-level management tree of people across
//! tracks and levels, a few assessments and one open promotion case, and three logins (an HR
//! admin, a manager and an employee) sharing one printed password. Deterministic, so the README
//! and the tests can name who is who.

use crate::auth::hash_password;
use crate::policy::Actor;
use crate::{App, AppError, MatrixSource};
use chrono::{Duration, Utc};
use rungs_db::{Audit, Db, DbError};
use rungs_domain::assessment::{Assessment, AssessorRole, Evidence, Rating};
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::org::Organisation;
use rungs_domain::person::{Email, Person};
use rungs_domain::promotion::{Position, PromotionCase};
use rungs_domain::text::Key;
use rungs_domain::{AssessmentId, AssignmentId, OrgId, PersonId};
use secrecy::SecretString;

pub const DEMO_ORG: &str = "demo";
/// Every demo person's password. Demo data only: never reuse it.
pub const DEMO_PASSWORD: &str = "rungs-demo-password";
pub const DEMO_ADMIN: &str = "hr@demo.rungs.test";
pub const DEMO_MANAGER: &str = "manager@demo.rungs.test";
pub const DEMO_EMPLOYEE: &str = "employee@demo.rungs.test";

/// What the demo holds, and how to sign in to it.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub org: Organisation,
    /// False when the demo organisation was already there (nothing was changed).
    pub created: bool,
    pub people: usize,
    pub assessments: u64,
    pub open_cases: u64,
    /// (role, email); the password is the one seeded ([`DEMO_PASSWORD`] for the demo).
    pub logins: Vec<(&'static str, String)>,
}

const FIRST: [&str; 12] = [
    "Alex", "Sam", "Noor", "Kai", "Mira", "Jonas", "Lena", "Ravi", "Ines", "Tariq", "Yuki", "Olga",
];
const LAST: [&str; 8] = [
    "Berg",
    "Okafor",
    "Santos",
    "Novak",
    "Lindqvist",
    "Haddad",
    "Moreau",
    "Tanaka",
];
/// The teams under the head of engineering: (login prefix, name, track).
const TEAMS: [(&str, &str, &str); 4] = [
    ("manager", "Mona Manager", "python-developer"),
    ("data.lead", "Dara Lead", "data-analyst"),
    ("ml.lead", "Milo Lead", "ml-specialist"),
    ("web.lead", "Wren Lead", "web-developer"),
];
const JUNIOR_LEVELS: [&str; 3] = ["beginner", "intermediate", "advanced"];
/// People directly under the team leads before the tree grows deeper.
const FIRST_TEAMS: usize = 24;
/// Reports per manager deeper in a large organisation.
const SPAN: usize = 7;
/// People written per transaction by the generator (each batch is reported as progress).
const BATCH: usize = 5_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedOptions<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    /// At least 8.
    pub people: usize,
    pub password: &'a str,
}

/// Reports the generator's progress: (stage, done, total).
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Send + Sync);

/// A deterministic spread for generated data (SplitMix64).
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn person(
    org: &Organisation,
    email: &str,
    name: &str,
    manager: Option<PersonId>,
    admin: bool,
) -> Result<Person, AppError> {
    Ok(Person {
        id: PersonId::new(),
        org_id: org.id,
        email: Email::parse(email)?,
        display_name: name.to_owned(),
        manager_id: manager,
        is_admin: admin,
        active: true,
    })
}

impl App {
    /// Creates the demo organisation with `people` people (at least 8), unless it exists.
    pub async fn seed_demo(&self, actor: &Actor, people: usize) -> Result<DemoSummary, AppError> {
        if let Ok(org) = self.organisation(actor, DEMO_ORG).await {
            let (assessments, open_cases) = self.db.growth_counts(org.id).await?;
            let people = self.db.list_people(org.id).await?.len();
            return Ok(DemoSummary {
                logins: logins(DEMO_ORG),
                org,
                created: false,
                people,
                assessments,
                open_cases,
            });
        }
        let opts = SeedOptions {
            slug: DEMO_ORG,
            name: "Demo Organisation",
            people,
            password: DEMO_PASSWORD,
        };
        self.seed_org(actor, &opts, &|_, _, _| {}).await
    }

    /// Generates a realistic organisation: the `python` matrix; a management tree (HR, a head
    /// of engineering, four team leads, then teams of seven, as deep as needed); tracks and
    /// levels spread like a real pyramid (managers higher); manager and self assessments for a
    /// third of the people; open promotion cases for a few of them. Everyone shares one password
    /// (hashed once). Refuses an organisation that exists. Written in batches of 5,000 people.
    pub async fn seed_org(
        &self,
        actor: &Actor,
        opts: &SeedOptions<'_>,
        progress: Progress<'_>,
    ) -> Result<DemoSummary, AppError> {
        if self.organisation(actor, opts.slug).await.is_ok() {
            return Err(AppError::Conflict(format!("organisation `{}`", opts.slug)));
        }
        crate::auth::check_new_password(&SecretString::from(opts.password.to_owned()))?;
        let n = opts.people.max(8);
        let org = self.create_org(actor, opts.slug, opts.name).await?;
        let info = self
            .import_matrix(actor, opts.slug, MatrixSource::Template("python"), false)
            .await?
            .into_version();
        let (_, matrix) = self.show_matrix(actor, opts.slug, "python").await?;
        let domain = format!("{}.rungs.test", opts.slug);
        let mail = |local: &str| format!("{local}@{domain}");

        // The fixed top: HR, the head, four team leads, the demo employee.
        let hr = person(&org, &mail("hr"), "Hana Hoffmann", None, true)?;
        let head = person(&org, &mail("head"), "Ada Ahmed", None, false)?;
        let mut all = vec![hr.clone(), head.clone()];
        let mut track_of: Vec<&str> = vec!["", "software-architect"];
        let mut leads = Vec::new();
        for (local, name, track) in TEAMS {
            let lead = person(&org, &mail(local), name, Some(head.id), false)?;
            leads.push((lead.id, track));
            all.push(lead);
            track_of.push(track);
        }
        let employee = person(
            &org,
            &mail("employee"),
            "Emil Employee",
            Some(leads[0].0),
            false,
        )?;
        all.push(employee.clone());
        track_of.push("python-developer");
        // Everyone else: first round-robin under the leads, then teams of SPAN under the
        // people generated before them (breadth first, so the tree stays balanced).
        let fixed = all.len();
        let tracks: Vec<&str> = matrix.tracks().iter().map(|t| t.key.as_str()).collect();
        let mut i = 0usize;
        while all.len() < n {
            let (manager, track) = if i < FIRST_TEAMS {
                let (id, track) = leads[i % leads.len()];
                (id, track)
            } else {
                let m = fixed + (i - FIRST_TEAMS) / SPAN;
                let r = mix(i as u64);
                // Most people share their manager's track; a few work across tracks.
                let track = if r.is_multiple_of(10) {
                    tracks[(r / 10) as usize % tracks.len()]
                } else {
                    track_of[m]
                };
                (all[m].id, track)
            };
            let (first, last) = (
                FIRST[i % FIRST.len()],
                LAST[(i / FIRST.len() + i) % LAST.len()],
            );
            let email = mail(&format!(
                "{}.{}{}",
                first.to_lowercase(),
                last.to_lowercase(),
                i
            ));
            all.push(person(
                &org,
                &email,
                &format!("{first} {last}"),
                Some(manager),
                false,
            )?);
            track_of.push(track);
            i += 1;
            if all.len() % BATCH == 0 {
                progress("people", all.len() as u64, n as u64);
            }
        }
        let has_reports: std::collections::HashSet<PersonId> =
            all.iter().filter_map(|p| p.manager_id).collect();
        // Levels: the top as in the small demo; managers deeper down at advanced or expert;
        // everyone else on a pyramid.
        let level_for = |k: usize, p: &Person| -> &'static str {
            if k < fixed {
                return match k {
                    0 => "",
                    1 => "leader",
                    _ if p.id == employee.id => "intermediate",
                    _ => "expert",
                };
            }
            let g = k - fixed;
            if has_reports.contains(&p.id) {
                return if mix(g as u64 + 7).is_multiple_of(3) {
                    "expert"
                } else {
                    "advanced"
                };
            }
            if g < FIRST_TEAMS {
                return JUNIOR_LEVELS[g % JUNIOR_LEVELS.len()];
            }
            match mix(g as u64 + 13) % 20 {
                0..=5 => "beginner",
                6..=13 => "intermediate",
                14..=18 => "advanced",
                _ => "expert",
            }
        };
        let now = Utc::now();
        let today = now.date_naive();
        let mut placements: Vec<(usize, &str, &str)> = Vec::new();
        for (k, p) in all.iter().enumerate() {
            let level = level_for(k, p);
            if !level.is_empty() {
                placements.push((k, track_of[k], level));
            }
        }
        let assignments: Vec<LevelAssignment> = placements
            .iter()
            .map(|&(k, track, level)| {
                Ok(LevelAssignment {
                    id: AssignmentId::new(),
                    person_id: all[k].id,
                    version_id: info.id,
                    track: Key::parse(track)?,
                    level: Key::parse(level)?,
                    // Spread over the last two years, so time in level varies.
                    effective: today - Duration::days(60 + (mix(k as u64 + 3) % 700) as i64),
                    reason: "demo placement".into(),
                    set_by: Some(hr.id),
                    recorded_at: now,
                    case_id: None,
                    moved_from: None,
                })
            })
            .collect::<Result<_, AppError>>()?;
        let mut by_person: std::collections::HashMap<PersonId, Vec<LevelAssignment>> =
            std::collections::HashMap::new();
        for a in assignments {
            by_person.entry(a.person_id).or_default().push(a);
        }
        let hash = hash_password(SecretString::from(opts.password.to_owned())).await?;
        // Each depth of the tree once the one above it is stored (a report refers to their
        // manager), in batches of a transaction each: people of one depth never refer to one
        // another, so its batches are written `Batches::parallel` at a time.
        let mut depth: std::collections::HashMap<PersonId, usize> =
            std::collections::HashMap::with_capacity(all.len());
        let mut waves: Vec<Vec<usize>> = Vec::new();
        for (k, p) in all.iter().enumerate() {
            // `all` lists managers before their reports.
            let d = p
                .manager_id
                .and_then(|m| depth.get(&m))
                .map_or(0, |d| d + 1);
            depth.insert(p.id, d);
            if waves.len() <= d {
                waves.resize_with(d + 1, Vec::new);
            }
            waves[d].push(k);
        }
        let mut writer = Batches::new(&self.db, org.id);
        let mut saved = 0;
        for wave in waves {
            for at in wave.chunks(BATCH) {
                let batch: Vec<Person> = at.iter().map(|&k| all[k].clone()).collect();
                let placed: Vec<LevelAssignment> = batch
                    .iter()
                    .flat_map(|p| by_person.remove(&p.id).unwrap_or_default())
                    .collect();
                writer
                    .start(save_generated(
                        self.db.clone(),
                        org.id,
                        actor.person_id(),
                        batch,
                        placed,
                        hash.clone(),
                    ))
                    .await?;
                saved += at.len();
                progress("saving people", saved as u64, all.len() as u64);
            }
            writer.wait().await?;
        }

        // A third of the people (and the demo employee) are assessed on their next level by
        // their manager and by themselves; a few of the ready ones have an open case.
        let mut assessments = Vec::new();
        let mut cases = Vec::new();
        let assessed = placements
            .iter()
            .filter(|&&(k, ..)| k >= 5 && (k - 5) % 3 == 0 || all[k].id == employee.id);
        let total = placements.len() as u64;
        for (done, &(k, track, level)) in assessed.enumerate() {
            let p = &all[k];
            let Some(next) = matrix.next_level(track, level) else {
                continue;
            };
            let Some(manager) = p.manager_id else {
                continue;
            };
            let expectations = matrix.expectations_for(track, next.key.as_str())?;
            let mut all_met = true;
            for (e_i, (_, e)) in expectations.iter().enumerate() {
                let rating = match (e_i + k) % 4 {
                    0 | 1 => Rating::Meets,
                    2 => Rating::Developing,
                    _ => Rating::Exceeds,
                };
                all_met &= rating.is_met();
                for (role, assessor) in [
                    (AssessorRole::Manager, manager),
                    (AssessorRole::Myself, p.id),
                ] {
                    assessments.push(Assessment {
                        id: AssessmentId::new(),
                        person_id: p.id,
                        version_id: info.id,
                        expectation: e.key.clone(),
                        rating,
                        assessor_id: assessor,
                        role,
                        evidence: Evidence::new(
                            &format!("Demo evidence for {}", e.name),
                            Vec::new(),
                        )?,
                        at: now - Duration::days(30),
                        carried_from: None,
                    });
                }
            }
            let position = |level: &Key| -> Result<Position, AppError> {
                Ok(Position {
                    track: Key::parse(track)?,
                    level: level.clone(),
                })
            };
            if p.id == employee.id {
                // The manager has proposed the employee for the next level.
                cases.push(PromotionCase::propose(
                    p.id,
                    info.id,
                    position(&Key::parse(level)?)?,
                    position(&next.key)?,
                    manager,
                    "Led the API rewrite and mentors two juniors; ready for senior work.",
                    now - Duration::days(3),
                )?);
            } else if all_met && k > FIRST_TEAMS + fixed && mix(k as u64 + 29).is_multiple_of(4) {
                cases.push(PromotionCase::propose(
                    p.id,
                    info.id,
                    position(&Key::parse(level)?)?,
                    position(&next.key)?,
                    manager,
                    "Meets everything the next level asks; proposed after the last review.",
                    now - Duration::days(1 + (mix(k as u64) % 20) as i64),
                )?);
            }
            if assessments.len() >= BATCH * 4 {
                writer.write(std::mem::take(&mut assessments)).await?;
                progress("assessments", done as u64 * 3, total);
            }
        }
        writer.write(assessments).await?;
        writer.wait().await?;
        progress("assessments", total, total);
        let case_total = cases.len() as u64;
        for (done, case) in cases.iter().enumerate() {
            let audit = Audit::new(
                Some(case.proposer_id),
                "promotion.propose",
                [case.id.0, case.person_id.0],
                "generated",
            );
            self.db
                .write(org.id, &audit, async |tx| tx.open_case(case).await)
                .await?;
            if done % 500 == 0 {
                progress("promotion cases", done as u64, case_total);
            }
        }
        progress("promotion cases", case_total, case_total);
        self.db.analyze().await?;

        let (assessments, open_cases) = self.db.growth_counts(org.id).await?;
        Ok(DemoSummary {
            logins: logins(opts.slug),
            org,
            created: true,
            people: all.len(),
            assessments,
            open_cases,
        })
    }
}

/// The three logins of a generated organisation: (role, email).
pub fn logins(slug: &str) -> Vec<(&'static str, String)> {
    ["hr", "manager", "employee"]
        .into_iter()
        .zip(["HR admin", "manager", "employee"])
        .map(|(local, role)| (role, format!("{local}@{slug}.rungs.test")))
        .collect()
}

/// Batches of generated rows, each written in its own transaction (about different people):
/// two at a time on PostgreSQL (each on its own connection, so the server's two cores work on
/// both), one at a time elsewhere (SQLite has one writer; MariaDB's gap locks could make two
/// deadlock).
struct Batches {
    db: rungs_db::Db,
    org: rungs_domain::OrgId,
    parallel: usize,
    writing: tokio::task::JoinSet<Result<(), rungs_db::DbError>>,
}

impl Batches {
    fn new(db: &rungs_db::Db, org: rungs_domain::OrgId) -> Self {
        let parallel = match db.backend() {
            rungs_db::Backend::Postgres => 2,
            _ => 1,
        };
        Self {
            db: db.clone(),
            org,
            parallel,
            writing: tokio::task::JoinSet::new(),
        }
    }

    /// Starts writing a batch of assessments.
    async fn write(&mut self, batch: Vec<Assessment>) -> Result<(), AppError> {
        if batch.is_empty() {
            return Ok(());
        }
        let (db, org) = (self.db.clone(), self.org);
        self.start(append_seeded(db, org, batch)).await
    }

    /// Starts `writing`, once fewer than `parallel` batches are being written.
    async fn start(
        &mut self,
        writing: impl Future<Output = Result<(), rungs_db::DbError>> + Send + 'static,
    ) -> Result<(), AppError> {
        while self.writing.len() >= self.parallel {
            self.next().await?;
        }
        self.writing.spawn(writing);
        Ok(())
    }

    /// Waits for every batch started.
    async fn wait(&mut self) -> Result<(), AppError> {
        while !self.writing.is_empty() {
            self.next().await?;
        }
        Ok(())
    }

    async fn next(&mut self) -> Result<(), AppError> {
        match self.writing.join_next().await {
            Some(Ok(r)) => Ok(r?),
            Some(Err(e)) => Err(AppError::Internal(Box::new(e))),
            None => Ok(()),
        }
    }
}

/// Writes a batch of generated people with their placements in a transaction of its own, then
/// their demo password in another.
async fn save_generated(
    db: Db,
    org: OrgId,
    by: Option<PersonId>,
    batch: Vec<Person>,
    placed: Vec<LevelAssignment>,
    hash: String,
) -> Result<(), DbError> {
    let ids: Vec<PersonId> = batch.iter().map(|p| p.id).collect();
    let audit = Audit::new(
        by,
        "demo.seed_people",
        ids.iter().map(|p| p.0),
        format!("{} generated people placed", batch.len()),
    );
    db.write(org, &audit, async |tx| {
        tx.save_people(&batch, &[], &placed).await
    })
    .await?;
    let audit = Audit::new(
        by,
        "password.set",
        ids.iter().map(|p| p.0),
        format!("the demo password for {} people", ids.len()),
    );
    db.insert_credentials(org, &ids, &hash, &audit).await
}

/// Writes a batch of generated assessments in a transaction of its own.
async fn append_seeded(db: Db, org: OrgId, batch: Vec<Assessment>) -> Result<(), DbError> {
    db.write(org, &seeded(&batch), async |tx| {
        tx.append_assessments(&batch).await
    })
    .await
}

fn seeded(list: &[Assessment]) -> Audit {
    Audit::new(
        None,
        "demo.seed_assessments",
        list.iter().map(|a| a.id.0),
        format!("{} generated assessments", list.len()),
    )
}
