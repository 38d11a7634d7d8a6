//! The use cases. Each takes the acting [`Actor`], resolves the organisation, asks the policy,
//! validates everything, and only then writes (in one transaction where several rows change).

use crate::AppError;
use crate::auth::Auth;
use crate::policy::{Action, Actor, authorize};
use chrono::{NaiveDate, Utc};
use rungs_db::{Audit, Db};
use rungs_domain::assignment::{LevelAssignment, current_as_of, parse_reason};
use rungs_domain::matrix::{Matrix, MatrixSummary, VersionInfo};
use rungs_domain::org::{Organisation, Slug};
use rungs_domain::person::{Email, Person, ReportingTree};
use rungs_domain::text::{Key, required_text};
use rungs_domain::{AssignmentId, PersonId};
use rungs_format::people::{read_people, with_columns};
use rungs_format::{FileError, FileErrors, MatrixFormat};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The use cases over one database.
#[derive(Clone, Debug)]
pub struct App {
    pub(crate) db: Db,
    pub(crate) auth: Option<Arc<Auth>>,
    /// Identity providers' discovery documents and keys, shared by clones.
    pub(crate) providers: Arc<crate::sso::Providers>,
    /// One SCIM write at a time per organisation in this process (see `provisioning.rs`).
    pub(crate) provisioning: Arc<crate::provisioning::Turns>,
}

/// Where a new matrix comes from.
pub enum MatrixSource<'a> {
    /// File text, its format, and its name for error messages.
    File {
        text: &'a str,
        format: MatrixFormat,
        name: &'a str,
    },
    /// A spreadsheet (see `rungs_format::matrix_csv`): its text, its name for error messages,
    /// and the key of the matrix it is (a spreadsheet has no room for one); a new matrix is
    /// named `name`, or after its key.
    Csv {
        text: &'a str,
        name: &'a str,
        /// Used when the file has no `matrix` column.
        key: Option<&'a str>,
        matrix_name: Option<&'a str>,
    },
    /// A built-in template by name.
    Template(&'a str),
}

/// A person as listed: who they are, who manages them, where they stand.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    #[serde(flatten)]
    pub person: Person,
    pub manager_email: Option<Email>,
    pub current: Option<LevelAssignment>,
}

/// Where to place a person: a track and level of a matrix (the organisation's only one
/// unless named), from a date (today unless given), and why.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    pub matrix: Option<&'a str>,
    pub track: &'a str,
    pub level: &'a str,
    pub effective: Option<NaiveDate>,
    pub reason: &'a str,
}

/// What a people import did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PeopleImportSummary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub levels_assigned: usize,
}

/// What a people import does to one row's person.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    Added,
    Updated,
    Unchanged,
}

/// One row of a people import as it would be written.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ImportRowPreview {
    pub line: u64,
    pub email: String,
    pub name: String,
    pub manager_email: Option<String>,
    pub admin: bool,
    pub outcome: RowOutcome,
    /// The position the row names (track and level keys), if any.
    pub placement: Option<(String, String)>,
    /// Whether that position is new for the person (a level assignment is appended).
    pub placed: bool,
}

/// What a people import would do, checked in full and not written.
#[derive(Debug, Clone, Serialize)]
pub struct PeopleImportPreview {
    pub summary: PeopleImportSummary,
    /// Every row, in file order.
    pub rows: Vec<ImportRowPreview>,
}

/// A checked people import: the summary, each row's outcome, and what to write.
struct PeopleImportPlan {
    summary: PeopleImportSummary,
    rows: Vec<ImportRowPreview>,
    inserts: Vec<Person>,
    updates: Vec<Person>,
    assignments: Vec<LevelAssignment>,
}

/// Rows a people import writes before the planner's statistics are refreshed.
const BULK: usize = 1_000;

impl App {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            auth: None,
            providers: Arc::new(crate::sso::Providers::new(std::time::Duration::from_secs(
                30,
            ))),
            provisioning: Arc::default(),
        }
    }

    /// The same use cases, able to sign people in and verify their tokens.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.providers = Arc::new(crate::sso::Providers::new(auth.config().sso_key_refresh));
        self.auth = Some(Arc::new(auth));
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Whether this server can serve: the database answers and can write (see
    /// [`Db::check_writable`]). `StorageFull` when it has no room, `Unavailable` when it
    /// cannot be reached.
    pub async fn readiness(&self) -> Result<(), AppError> {
        self.db.ping().await?;
        self.db.check_writable().await?;
        Ok(())
    }

    /// Resolves an organisation the actor may see, or answers "not found".
    pub async fn organisation(&self, actor: &Actor, slug: &str) -> Result<Organisation, AppError> {
        let not_found = || AppError::NotFound(format!("organisation `{slug}`"));
        let slug = Slug::parse(slug).map_err(|_| not_found())?;
        let org = self.db.org_by_slug(&slug).await?.ok_or_else(not_found)?;
        authorize(actor, Action::ReadOrganisation(org.id)).map_err(|e| match e {
            AppError::NotFound(_) => not_found(),
            other => other,
        })?;
        Ok(org)
    }

    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn create_org(
        &self,
        actor: &Actor,
        slug: &str,
        name: &str,
    ) -> Result<Organisation, AppError> {
        authorize(actor, Action::CreateOrganisation)?;
        let org = Organisation::new(Slug::parse(slug)?, name)?;
        let audit = Audit::new(
            actor.person_id(),
            "organisation.create",
            [org.id.0],
            format!("created `{}` ({})", org.slug, org.name),
        );
        self.db.create_org(&org, &audit).await?;
        Ok(org)
    }

    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn list_orgs(&self, actor: &Actor) -> Result<Vec<Organisation>, AppError> {
        authorize(actor, Action::ListOrganisations)?;
        Ok(self.db.list_orgs().await?)
    }

    // ---- matrices ------------------------------------------------------------------------

    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn list_matrices(
        &self,
        actor: &Actor,
        org_slug: &str,
    ) -> Result<Vec<MatrixSummary>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ReadMatrices(org.id))?;
        Ok(self.db.list_matrices(org.id).await?)
    }

    /// A page of the organisation's matrices by key, after the key `after` (the cursor).
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn matrices_page(
        &self,
        actor: &Actor,
        org_slug: &str,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<crate::Page<MatrixSummary>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ReadMatrices(org.id))?;
        let (first, after) = crate::people::page_args::<String>(first, after)?;
        let (items, has_next) = self
            .db
            .matrices_page(org.id, after.as_deref(), Some(first))
            .await?;
        Ok(crate::Page {
            end_cursor: items.last().map(|m| m.key.to_string()),
            items,
            has_next,
            total: 0,
        })
    }

    /// The newest published version of a matrix.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn show_matrix(
        &self,
        actor: &Actor,
        org_slug: &str,
        key: &str,
    ) -> Result<(VersionInfo, Matrix), AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ReadMatrices(org.id))?;
        self.db
            .latest_published(org.id, key)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("published matrix `{key}` in `{org_slug}`")))
    }

    /// The matrix people are placed in: the one named, or the organisation's only one.
    pub(crate) async fn placement_matrix(
        &self,
        org: &Organisation,
        key: Option<&str>,
    ) -> Result<(VersionInfo, Matrix), AppError> {
        let key = match key {
            Some(k) => k.to_owned(),
            None => {
                let all = self.db.list_matrices(org.id).await?;
                match all.as_slice() {
                    [one] => one.key.to_string(),
                    [] => {
                        return Err(AppError::Invalid(format!(
                            "organisation `{}` has no matrix yet: import one first (rungs matrix import --template python --org {})",
                            org.slug, org.slug
                        )));
                    }
                    many => {
                        return Err(AppError::Invalid(format!(
                            "organisation `{}` has several matrices ({}): say which one (`--matrix` on the command line, `matrix` in the API)",
                            org.slug,
                            many.iter()
                                .map(|m| m.key.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                }
            }
        };
        self.db
            .latest_published(org.id, &key)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("published matrix `{key}`")))
    }

    // ---- people --------------------------------------------------------------------------

    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn list_people(
        &self,
        actor: &Actor,
        org_slug: &str,
    ) -> Result<Vec<PersonView>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ListPeople(org.id))?;
        let people = self.db.list_people(org.id).await?;
        let mut history: HashMap<PersonId, Vec<LevelAssignment>> = HashMap::new();
        for a in self.db.assignments(org.id, None).await? {
            history.entry(a.person_id).or_default().push(a);
        }
        let email_of: HashMap<PersonId, Email> =
            people.iter().map(|p| (p.id, p.email.clone())).collect();
        let today = Utc::now().date_naive();
        Ok(people
            .into_iter()
            .map(|p| PersonView {
                manager_email: p.manager_id.and_then(|m| email_of.get(&m).cloned()),
                current: history
                    .get(&p.id)
                    .and_then(|h| current_as_of(h, today))
                    .cloned(),
                person: p,
            })
            .collect())
    }

    /// Adds or updates everyone in a people CSV, sets managers and places people in the matrix.
    /// Everything is checked first (every problem reported with its line and column); then one
    /// transaction.
    #[tracing::instrument(skip(self, text), err(level = "debug", Display))]
    pub async fn import_people(
        &self,
        actor: &Actor,
        org_slug: &str,
        text: &str,
        file: &str,
        matrix_key: Option<&str>,
    ) -> Result<PeopleImportSummary, AppError> {
        let (org, plan) = self
            .plan_people_import(actor, org_slug, text, file, matrix_key)
            .await?;
        let PeopleImportPlan {
            summary,
            inserts,
            updates,
            assignments,
            ..
        } = plan;
        let subjects = inserts.iter().chain(&updates).map(|p| p.id.0);
        let audit = Audit::new(
            actor.person_id(),
            "people.import",
            subjects,
            format!(
                "{file}: {} added, {} updated, {} level(s) assigned",
                summary.added, summary.updated, summary.levels_assigned
            ),
        );
        self.db
            .write(org.id, &audit, async |tx| {
                tx.save_people(&inserts, &updates, &assignments).await
            })
            .await?;
        if inserts.len() + assignments.len() >= BULK {
            self.db.analyze().await?;
        }
        Ok(summary)
    }

    /// What importing a people CSV would do, row by row, checked exactly as the import checks
    /// it (the same errors, at their lines and columns); nothing is written.
    #[tracing::instrument(skip(self, text), err(level = "debug", Display))]
    pub async fn preview_people_import(
        &self,
        actor: &Actor,
        org_slug: &str,
        text: &str,
        file: &str,
        matrix_key: Option<&str>,
    ) -> Result<PeopleImportPreview, AppError> {
        let (_, plan) = self
            .plan_people_import(actor, org_slug, text, file, matrix_key)
            .await?;
        Ok(PeopleImportPreview {
            summary: plan.summary,
            rows: plan.rows,
        })
    }

    /// The organisation (once the policy allows managing its people) and the checked import.
    async fn plan_people_import(
        &self,
        actor: &Actor,
        org_slug: &str,
        text: &str,
        file: &str,
        matrix_key: Option<&str>,
    ) -> Result<(Organisation, PeopleImportPlan), AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ManagePeople(org.id))?;
        let org = &org;
        // Every row is checked, and the good ones against the organisation too, so that one
        // round shows every problem of the file.
        let read = read_people(text, file)?;
        let rows = read.rows;
        let existing: HashMap<Email, Person> = self
            .db
            .list_people(org.id)
            .await?
            .into_iter()
            .map(|p| (p.email.clone(), p))
            .collect();
        let mut errors = read.errors;
        let err = |line: u64, field: &str, message: String| FileError {
            file: file.to_owned(),
            line: Some(line),
            column: None,
            field: Some(field.to_owned()),
            message,
        };

        // Everyone gets an id first, so managers may come later in the file.
        let mut ids: HashMap<Email, PersonId> =
            existing.iter().map(|(e, p)| (e.clone(), p.id)).collect();
        for email in rows
            .iter()
            .map(|r| &r.email)
            .chain(&read.emails_with_problems)
        {
            ids.entry(email.clone()).or_default(); // a fresh id
        }
        let mut people: HashMap<PersonId, Person> =
            existing.values().map(|p| (p.id, p.clone())).collect();
        let mut line_of: HashMap<PersonId, u64> = HashMap::new();
        for r in &rows {
            let id = ids[&r.email];
            line_of.insert(id, r.line);
            let manager_id = match &r.manager_email {
                None => None,
                Some(m) => match ids.get(m) {
                    Some(mid) => Some(*mid),
                    None => {
                        errors.push(err(
                            r.line,
                            "manager_email",
                            format!(
                                "`{m}` is neither in this file nor in organisation `{}`",
                                org.slug
                            ),
                        ));
                        None
                    }
                },
            };
            people.insert(
                id,
                Person {
                    id,
                    org_id: org.id,
                    email: r.email.clone(),
                    display_name: required_text("name", &r.name, 200)
                        .unwrap_or_else(|_| r.name.clone()),
                    manager_id,
                    is_admin: r.admin,
                    active: true,
                },
            );
        }
        if errors.is_empty()
            && let Err(rungs_domain::DomainError::ReportingCycle { chain }) =
                ReportingTree::new(people.values().map(|p| (p.id, p.manager_id)))
        {
            // Name the cycle from the member that comes first in the file, so the message is stable.
            let by_id = |s: &String| people.values().find(|p| p.id.to_string() == *s);
            let mut ring: Vec<&Person> = chain
                .iter()
                .take(chain.len().saturating_sub(1))
                .filter_map(by_id)
                .collect();
            let line_of_p = |p: &&Person| line_of.get(&p.id).copied().unwrap_or(u64::MAX);
            let start = ring
                .iter()
                .enumerate()
                .min_by_key(|(_, p)| line_of_p(p))
                .map_or(0, |(i, _)| i);
            ring.rotate_left(start);
            let line = ring
                .first()
                .map(line_of_p)
                .filter(|l| *l != u64::MAX)
                .unwrap_or(1);
            let mut names: Vec<String> = ring.iter().map(|p| p.email.to_string()).collect();
            if let Some(first) = names.first().cloned() {
                names.push(first);
            }
            errors.push(err(
                line,
                "manager_email",
                format!("these reporting lines form a cycle: {}", names.join(" -> ")),
            ));
        }

        // Placements are checked against the matrix (loaded only if the file places anyone).
        let placing = rows.iter().any(|r| r.placement.is_some());
        let matrix = if placing {
            match self.placement_matrix(org, matrix_key).await {
                Ok(m) => Some(m),
                Err(e) => {
                    errors.push(err(
                        rows.iter()
                            .find(|r| r.placement.is_some())
                            .map_or(1, |r| r.line),
                        "track",
                        e.to_string(),
                    ));
                    None
                }
            }
        } else {
            None
        };
        // Each person's history, found by id (not searched for per row: imports are linear).
        let mut history: HashMap<PersonId, Vec<LevelAssignment>> = HashMap::new();
        if placing {
            for a in self.db.assignments(org.id, None).await? {
                history.entry(a.person_id).or_default().push(a);
            }
        }
        let today = Utc::now().date_naive();
        let mut assignments = Vec::new();
        if let Some((info, m)) = &matrix {
            for r in &rows {
                let Some((track, level)) = &r.placement else {
                    continue;
                };
                match placement_keys(m, track, level) {
                    Err((field, message)) => errors.push(err(r.line, field, message)),
                    Ok((track, level)) => {
                        let id = ids[&r.email];
                        let mine = history.get(&id).map_or(&[][..], Vec::as_slice);
                        let same = current_as_of(mine, today).is_some_and(|c| {
                            c.version_id == info.id && c.track == track && c.level == level
                        });
                        if !same {
                            assignments.push(LevelAssignment {
                                id: AssignmentId::new(),
                                person_id: id,
                                version_id: info.id,
                                track,
                                level,
                                effective: today,
                                reason: format!("people import from {file}"),
                                set_by: actor.person_id(),
                                recorded_at: Utc::now(),
                                case_id: None,
                                moved_from: None,
                            });
                        }
                    }
                }
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(AppError::InvalidFile(with_columns(
                text,
                FileErrors(errors),
            )));
        }

        let mut summary = PeopleImportSummary {
            levels_assigned: assignments.len(),
            ..Default::default()
        };
        let placed: std::collections::HashSet<PersonId> =
            assignments.iter().map(|a| a.person_id).collect();
        let (mut inserts, mut updates) = (Vec::new(), Vec::new());
        let mut previews = Vec::with_capacity(rows.len());
        for r in &rows {
            let p = &people[&ids[&r.email]];
            let outcome = match existing.get(&r.email) {
                None => {
                    summary.added += 1;
                    inserts.push(p.clone());
                    RowOutcome::Added
                }
                Some(old) if old != p => {
                    summary.updated += 1;
                    updates.push(p.clone());
                    RowOutcome::Updated
                }
                Some(_) => {
                    summary.unchanged += 1;
                    RowOutcome::Unchanged
                }
            };
            previews.push(ImportRowPreview {
                line: r.line,
                email: r.email.to_string(),
                name: p.display_name.clone(),
                manager_email: r.manager_email.as_ref().map(ToString::to_string),
                admin: r.admin,
                outcome,
                placement: r.placement.clone(),
                placed: placed.contains(&p.id),
            });
        }
        Ok((
            org.clone(),
            PeopleImportPlan {
                summary,
                rows: previews,
                inserts,
                updates,
                assignments,
            },
        ))
    }

    // ---- levels --------------------------------------------------------------------------

    /// Places a person (by email) at a track and level of a matrix's newest published version
    /// (appended to their history; effective today unless a date is given).
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn assign_level(
        &self,
        actor: &Actor,
        org_slug: &str,
        email: &str,
        placement: Placement<'_>,
    ) -> Result<LevelAssignment, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::AssignLevel(org.id))?;
        let person = self.person(&org, &Email::parse(email)?).await?;
        self.place(actor, &org, &person, placement).await
    }

    /// The same, for a person given by id.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn assign_level_by_id(
        &self,
        actor: &Actor,
        org_slug: &str,
        id: PersonId,
        placement: Placement<'_>,
    ) -> Result<LevelAssignment, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::AssignLevel(org.id))?;
        let person = self.person_by_id(&org, id).await?;
        self.place(actor, &org, &person, placement).await
    }

    /// The level assignment that places `person` as `p` says, checked against the matrix.
    pub(crate) async fn placement_of(
        &self,
        actor: &Actor,
        org: &Organisation,
        person: PersonId,
        p: Placement<'_>,
    ) -> Result<LevelAssignment, AppError> {
        let (info, m) = self.placement_matrix(org, p.matrix).await?;
        let (track, level) =
            placement_keys(&m, p.track, p.level).map_err(|(_, msg)| AppError::Invalid(msg))?;
        Ok(LevelAssignment {
            id: AssignmentId::new(),
            person_id: person,
            version_id: info.id,
            track,
            level,
            effective: p.effective.unwrap_or_else(|| Utc::now().date_naive()),
            reason: parse_reason(p.reason)?,
            set_by: actor.person_id(),
            recorded_at: Utc::now(),
            case_id: None,
            moved_from: None,
        })
    }

    async fn place(
        &self,
        actor: &Actor,
        org: &Organisation,
        person: &Person,
        p: Placement<'_>,
    ) -> Result<LevelAssignment, AppError> {
        let assignment = self.placement_of(actor, org, person.id, p).await?;
        let audit = Audit::new(
            actor.person_id(),
            "level.assign",
            [assignment.id.0, person.id.0],
            format!(
                "{} is {} / {} from {}: {}",
                person.email,
                assignment.track,
                assignment.level,
                assignment.effective,
                assignment.reason
            ),
        );
        self.db
            .write(org.id, &audit, async |tx| {
                tx.append_assignment(&assignment).await
            })
            .await?;
        Ok(assignment)
    }

    /// A person's level history, oldest first.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn level_history(
        &self,
        actor: &Actor,
        org_slug: &str,
        email: &str,
    ) -> Result<Vec<LevelAssignment>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let person = self.person(&org, &Email::parse(email)?).await?;
        self.level_history_of(actor, org_slug, person.id).await
    }
}

impl App {
    /// A person of `org` by email, or "not found".
    pub(crate) async fn person(
        &self,
        org: &Organisation,
        email: &Email,
    ) -> Result<Person, AppError> {
        self.db
            .person_by_email(org.id, email)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("person `{email}` in `{}`", org.slug)))
    }
}

/// Checks that `track` and `level` exist in `m`, saying which are available when not.
pub(crate) fn placement_keys(
    m: &Matrix,
    track: &str,
    level: &str,
) -> Result<(Key, Key), (&'static str, String)> {
    let t = m.track(track).ok_or_else(|| {
        let known: Vec<&str> = m.tracks().iter().map(|t| t.key.as_str()).collect();
        (
            "track",
            format!(
                "unknown track `{track}` in matrix `{}`: use one of {}",
                m.key(),
                known.join(", ")
            ),
        )
    })?;
    let l = m.level(level).ok_or_else(|| {
        let known: Vec<&str> = m.levels().iter().map(|l| l.key.as_str()).collect();
        (
            "level",
            format!(
                "unknown level `{level}` in matrix `{}`: use one of {}",
                m.key(),
                known.join(", ")
            ),
        )
    })?;
    // The level must be a rung of the track's own ladder.
    m.check_position(track, level).map_err(|e| match e {
        rungs_domain::DomainError::Invalid { message, .. } => ("level", message),
        other => ("level", other.to_string()),
    })?;
    Ok((t.key.clone(), l.key.clone()))
}
