//! The demo organisation: the `python` template, a three-level management tree of people across
//! tracks and levels, a few assessments and one open promotion case, and three logins (an HR
//! admin, a manager and an employee) sharing one printed password. Deterministic, so the README
//! and the tests can name who is who.

use crate::auth::hash_password;
use crate::policy::Actor;
use crate::{App, AppError, MatrixSource};
use chrono::{Duration, Utc};
use rungs_domain::assessment::{Assessment, AssessorRole, Evidence, Rating};
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::org::Organisation;
use rungs_domain::person::{Email, Person};
use rungs_domain::promotion::{Position, PromotionCase};
use rungs_domain::text::Key;
use rungs_domain::{AssessmentId, AssignmentId, PersonId};
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
    /// (role, email); the password is [`DEMO_PASSWORD`].
    pub logins: Vec<(&'static str, &'static str)>,
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
/// The teams under the head of engineering: (manager email, name, track).
const TEAMS: [(&str, &str, &str); 4] = [
    (DEMO_MANAGER, "Mona Manager", "python-developer"),
    ("data.lead@demo.rungs.test", "Dara Lead", "data-analyst"),
    ("ml.lead@demo.rungs.test", "Milo Lead", "ml-specialist"),
    ("web.lead@demo.rungs.test", "Wren Lead", "web-developer"),
];
const JUNIOR_LEVELS: [&str; 3] = ["beginner", "intermediate", "advanced"];

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
        let logins = vec![
            ("HR admin", DEMO_ADMIN),
            ("manager", DEMO_MANAGER),
            ("employee", DEMO_EMPLOYEE),
        ];
        if let Ok(org) = self.organisation(actor, DEMO_ORG).await {
            let (assessments, open_cases) = self.db.growth_counts(org.id).await?;
            let people = self.db.list_people(org.id).await?.len();
            return Ok(DemoSummary {
                org,
                created: false,
                people,
                assessments,
                open_cases,
                logins,
            });
        }
        let people = people.max(8);
        let org = self
            .create_org(actor, DEMO_ORG, "Demo Organisation")
            .await?;
        let info = self
            .import_matrix(actor, DEMO_ORG, MatrixSource::Template("python"), false)
            .await?;
        let (_, matrix) = self.show_matrix(actor, DEMO_ORG, "python").await?;

        // Three levels of management: the head, four team leads, everyone else in teams.
        let hr = person(&org, DEMO_ADMIN, "Hana Hoffmann", None, true)?;
        let head = person(&org, "head@demo.rungs.test", "Ada Ahmed", None, false)?;
        let mut all = vec![hr.clone(), head.clone()];
        let mut placements: Vec<(PersonId, &str, &str)> =
            vec![(head.id, "software-architect", "leader")];
        let mut leads = Vec::new();
        for (email, name, track) in TEAMS {
            let lead = person(&org, email, name, Some(head.id), false)?;
            placements.push((lead.id, track, "expert"));
            leads.push((lead.clone(), track));
            all.push(lead);
        }
        let employee = person(
            &org,
            DEMO_EMPLOYEE,
            "Emil Employee",
            Some(leads[0].0.id),
            false,
        )?;
        placements.push((employee.id, "python-developer", "intermediate"));
        all.push(employee.clone());
        let mut i = 0usize;
        while all.len() < people {
            let (lead, track) = &leads[i % leads.len()];
            let (first, last) = (
                FIRST[i % FIRST.len()],
                LAST[(i / FIRST.len() + i) % LAST.len()],
            );
            let email = format!(
                "{}.{}{}@demo.rungs.test",
                first.to_lowercase(),
                last.to_lowercase(),
                i
            );
            let p = person(
                &org,
                &email,
                &format!("{first} {last}"),
                Some(lead.id),
                false,
            )?;
            placements.push((p.id, track, JUNIOR_LEVELS[i % JUNIOR_LEVELS.len()]));
            all.push(p);
            i += 1;
        }
        let now = Utc::now();
        let today = now.date_naive();
        let assignments: Vec<LevelAssignment> = placements
            .iter()
            .map(|(id, track, level)| {
                Ok(LevelAssignment {
                    id: AssignmentId::new(),
                    person_id: *id,
                    version_id: info.id,
                    track: Key::parse(track)?,
                    level: Key::parse(level)?,
                    effective: today - Duration::days(400),
                    reason: "demo placement".into(),
                    set_by: Some(hr.id),
                    recorded_at: now,
                    case_id: None,
                })
            })
            .collect::<Result<_, AppError>>()?;
        self.db.save_people(org.id, &all, &[], &assignments).await?;

        // Everyone shares the demo password (hashed once per person, off the runtime).
        for p in &all {
            let hash = hash_password(SecretString::from(DEMO_PASSWORD)).await?;
            self.db.set_password(org.id, p.id, &hash).await?;
        }

        // The employee and a few of each team have been assessed on their next level.
        let mut assessments = Vec::new();
        let lead_of = |p: &Person| p.manager_id.unwrap_or(head.id);
        for (n, (id, track, level)) in placements.iter().enumerate().skip(5).step_by(3).chain(
            placements
                .iter()
                .enumerate()
                .filter(|(_, (id, ..))| *id == employee.id),
        ) {
            let Some(next) = matrix.next_level(level) else {
                continue;
            };
            let Some(p) = all.iter().find(|p| p.id == *id) else {
                continue;
            };
            let expectations = matrix.expectations_up_to(track, next.key.as_str())?;
            for (k, (_, e)) in expectations.iter().enumerate() {
                let rating = match (k + n) % 4 {
                    0 | 1 => Rating::Meets,
                    2 => Rating::Developing,
                    _ => Rating::Exceeds,
                };
                for (role, assessor) in [
                    (AssessorRole::Manager, lead_of(p)),
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
                    });
                }
            }
        }
        self.db.append_assessments(org.id, &assessments).await?;

        // The manager has proposed the employee for the next level.
        let case = PromotionCase::propose(
            employee.id,
            info.id,
            Position {
                track: Key::parse("python-developer")?,
                level: Key::parse("intermediate")?,
            },
            Position {
                track: Key::parse("python-developer")?,
                level: Key::parse("advanced")?,
            },
            leads[0].0.id,
            "Led the API rewrite and mentors two juniors; ready for senior work.",
            now - Duration::days(3),
        )?;
        self.db.insert_case(org.id, &case).await?;

        let (assessments, open_cases) = self.db.growth_counts(org.id).await?;
        Ok(DemoSummary {
            org,
            created: true,
            people: all.len(),
            assessments,
            open_cases,
            logins,
        })
    }
}
