//! Matrix versions: importing (a new matrix, or a changed file into the draft), the draft and
//! its field-by-field edits, publishing, listing, diffs, exports of any version, and moving
//! people to a newer version.

use crate::policy::{Action, Actor, authorize};
use crate::{App, AppError, MatrixSource};
use chrono::Utc;
use rungs_db::Audit;
use rungs_domain::assignment::{LevelAssignment, current_as_of};
use rungs_domain::diff::{MatrixDiff, diff};
use rungs_domain::edit::MatrixEdit;
use rungs_domain::matrix::{Matrix, VersionInfo, VersionStatus};
use rungs_domain::migrate::{Mapping, Member, PersonMove, Target, plan_move};
use rungs_domain::org::Organisation;
use rungs_domain::person::Person;
use rungs_domain::{PersonId, VersionId};
use rungs_format::mapping::MappingFile;
use rungs_format::matrix_csv::{CsvBase, csv_matrix_key, parse_matrix_csv};
use rungs_format::{ExportFormat, parse_matrix, render_matrix, templates};
use serde::Serialize;
use std::collections::HashMap;

/// Which version of a matrix: the newest published one, a number, or the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRef {
    Latest,
    Number(u32),
    Draft,
}

impl VersionRef {
    /// `3`, `v3`, `draft` or `latest`.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        let t = s.trim().to_lowercase();
        match t.as_str() {
            "draft" => Ok(Self::Draft),
            "latest" => Ok(Self::Latest),
            _ => t
                .trim_start_matches('v')
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .map(Self::Number)
                .ok_or_else(|| {
                    AppError::Invalid(format!(
                        "`{s}` is not a version: use a number such as 2, `draft` or `latest`"
                    ))
                }),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ImportOutcome {
    /// A new matrix: version 1, or a draft.
    Created { version: VersionInfo },
    /// The file matches the matrix's draft (or, without one, its newest version): nothing written.
    Unchanged { version: VersionInfo },
    /// The file differs: the draft now holds it; the diff is against the newest published version.
    DraftUpdated {
        draft: VersionInfo,
        against: Option<VersionInfo>,
        diff: MatrixDiff,
    },
}

impl ImportOutcome {
    /// The version the import created, left alone, or updated (the draft).
    pub fn version(&self) -> &VersionInfo {
        match self {
            Self::Created { version } | Self::Unchanged { version } => version,
            Self::DraftUpdated { draft, .. } => draft,
        }
    }
    pub fn into_version(self) -> VersionInfo {
        match self {
            Self::Created { version } | Self::Unchanged { version } => version,
            Self::DraftUpdated { draft, .. } => draft,
        }
    }
}

/// A version as listed, with the names of who made and published it.
#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    #[serde(flatten)]
    pub info: VersionInfo,
    pub created_by_name: Option<String>,
    pub published_by_name: Option<String>,
}

/// The difference between two versions.
#[derive(Debug, Clone, Serialize)]
pub struct VersionDiff {
    pub from: VersionInfo,
    pub to: VersionInfo,
    pub diff: MatrixDiff,
}

/// One person's move, with who they are.
#[derive(Debug, Clone, Serialize)]
pub struct MoveView {
    pub email: String,
    pub name: String,
    pub from_version: Option<u32>,
    #[serde(flatten)]
    pub change: PersonMove,
}

/// What moving people to a version did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct MoveReport {
    pub target: VersionInfo,
    pub dry_run: bool,
    pub moves: Vec<MoveView>,
    /// People of this matrix already on the target or a newer version.
    pub already_there: usize,
    pub assessments_carried: usize,
    /// People with an open promotion case: the move waits until those are decided.
    pub blocked_by_open_cases: Vec<String>,
}

impl App {
    async fn version_of(
        &self,
        org: &Organisation,
        key: &str,
        which: VersionRef,
    ) -> Result<(VersionInfo, Matrix), AppError> {
        let found = match which {
            VersionRef::Latest => self.db.latest_published(org.id, key).await?,
            VersionRef::Number(n) => self.db.matrix_version(org.id, key, Some(n)).await?,
            VersionRef::Draft => self.db.matrix_version(org.id, key, None).await?,
        };
        found.ok_or_else(|| {
            AppError::NotFound(match which {
                VersionRef::Latest => format!("published version of matrix `{key}`"),
                VersionRef::Number(n) => format!("version {n} of matrix `{key}`"),
                VersionRef::Draft => format!(
                    "draft of matrix `{key}` (import a changed file to start one, or use startMatrixDraft in the API)"
                ),
            })
        })
    }

    /// One version of a matrix; the draft needs the right to edit.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn matrix_version(
        &self,
        actor: &Actor,
        org_slug: &str,
        key: &str,
        which: VersionRef,
    ) -> Result<(VersionInfo, Matrix), AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, read_action(org.id, which))?;
        self.version_of(&org, key, which).await
    }

    /// Imports a matrix: a new key becomes version 1 (or a draft with `draft`); a known key
    /// with different content updates the draft (starting one if needed); the same content
    /// again changes nothing.
    #[tracing::instrument(skip(self, source), err(level = "debug", Display))]
    pub async fn import_matrix(
        &self,
        actor: &Actor,
        org_slug: &str,
        source: MatrixSource<'_>,
        draft: bool,
    ) -> Result<ImportOutcome, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ImportMatrix(org.id))?;
        // What the file would replace: the draft, or else the newest published version.
        let current = |key: String| async move {
            let d = self.db.matrix_version(org.id, &key, None).await;
            match d {
                Ok(Some(x)) => Ok(Some(x)),
                Ok(None) => Ok(self.db.latest_published(org.id, &key).await?),
                Err(rungs_db::DbError::NotFound { .. }) => Ok(None),
                Err(e) => Err(AppError::from(e)),
            }
        };
        let (matrix, current) = match source {
            MatrixSource::File { text, format, name } => {
                let m = parse_matrix(text, format, name)?;
                let cur = current(m.key().to_string()).await?;
                (m, cur)
            }
            MatrixSource::Csv {
                text,
                name,
                key,
                matrix_name,
            } => {
                // The file's `matrix` column names the matrix; `key` is for files without one.
                let named = csv_matrix_key(text);
                let key = named.as_deref().or(key).ok_or_else(|| {
                    AppError::Invalid(format!(
                        "{name}: say which matrix this is: add a `matrix` column with its key, or give the key (--key)"
                    ))
                })?;
                let cur = current(key.to_owned()).await?;
                let base = CsvBase {
                    key,
                    name: matrix_name.unwrap_or(key),
                    existing: cur.as_ref().map(|(_, m)| m),
                };
                (parse_matrix_csv(text, name, base)?, cur)
            }
            MatrixSource::Template(name) => {
                let m = templates::template(name)
                    .ok_or_else(|| {
                        AppError::NotFound(format!(
                            "template `{name}` (available: {})",
                            templates::names().join(", ")
                        ))
                    })?
                    .map_err(|e| AppError::Internal(Box::new(e)))?;
                let cur = current(m.key().to_string()).await?;
                (m, cur)
            }
        };
        let by = actor.person_id();
        let Some((info, content)) = current else {
            let status = if draft {
                VersionStatus::Draft
            } else {
                VersionStatus::Published
            };
            let version = self
                .db
                .create_matrix(
                    org.id,
                    &matrix,
                    status,
                    Some("imported"),
                    by,
                    &Audit::new(
                        by,
                        "matrix.import",
                        [],
                        format!("matrix `{}` ({})", matrix.key(), status.as_str()),
                    ),
                )
                .await?;
            return Ok(ImportOutcome::Created { version });
        };
        if content == matrix {
            return Ok(ImportOutcome::Unchanged { version: info });
        }
        let key = matrix.key().to_string();
        let audit = Audit::new(
            by,
            "matrix.draft.import",
            [info.matrix_id.0],
            format!("matrix `{key}`: draft replaced by an imported file"),
        );
        let draft_id = match info.status {
            VersionStatus::Draft => {
                self.db
                    .save_draft(org.id, info.id, Some(info.revision), &matrix, &audit)
                    .await?;
                info.id
            }
            VersionStatus::Published => {
                self.db
                    .start_draft(org.id, info.matrix_id, &matrix, by, &audit)
                    .await?
            }
        };
        let (draft, _) = self.db.load_version(org.id, draft_id).await?;
        let against = self.db.latest_published(org.id, &key).await?;
        let d = match &against {
            Some((_, m)) => diff(m, &matrix),
            None => MatrixDiff::default(),
        };
        Ok(ImportOutcome::DraftUpdated {
            draft,
            against: against.map(|(i, _)| i),
            diff: d,
        })
    }

    /// Every version of a matrix, with who created and published it. The draft is listed for
    /// those who may edit it.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn matrix_versions(
        &self,
        actor: &Actor,
        org_slug: &str,
        key: &str,
    ) -> Result<Vec<VersionView>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ReadMatrices(org.id))?;
        let editor = authorize(actor, Action::EditMatrix(org.id)).is_ok();
        let versions: Vec<VersionInfo> = self
            .db
            .matrix_versions(org.id, key)
            .await?
            .into_iter()
            .filter(|v| editor || v.status == VersionStatus::Published)
            .collect();
        let ids: Vec<PersonId> = versions
            .iter()
            .flat_map(|v| [v.created_by, v.published_by])
            .flatten()
            .collect();
        let names: HashMap<PersonId, Person> = self.people_named(&org, &ids).await?;
        let name = |p: Option<PersonId>| {
            p.and_then(|p| names.get(&p))
                .map(|p| format!("{} <{}>", p.display_name, p.email))
        };
        Ok(versions
            .into_iter()
            .map(|info| VersionView {
                created_by_name: name(info.created_by),
                published_by_name: name(info.published_by),
                info,
            })
            .collect())
    }

    /// What changed from one version to another (either may be the draft).
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn diff_versions(
        &self,
        actor: &Actor,
        org_slug: &str,
        key: &str,
        from: VersionRef,
        to: VersionRef,
    ) -> Result<VersionDiff, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, read_action(org.id, from))?;
        authorize(actor, read_action(org.id, to))?;
        let (fi, fm) = self.version_of(&org, key, from).await?;
        let (ti, tm) = self.version_of(&org, key, to).await?;
        Ok(VersionDiff {
            from: fi,
            to: ti,
            diff: diff(&fm, &tm),
        })
    }

    /// A version in an export format.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn export_matrix(
        &self,
        actor: &Actor,
        org_slug: &str,
        key: &str,
        format: ExportFormat,
        which: VersionRef,
    ) -> Result<String, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ExportMatrix(org.id))?;
        authorize(actor, read_action(org.id, which))?;
        let (_, m) = self.version_of(&org, key, which).await?;
        Ok(render_matrix(&m, format))
    }

    /// Starts the draft from the newest published version; CONFLICT when there is one.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn start_draft(
        &self,
        actor: &Actor,
        org_slug: &str,
        key: &str,
    ) -> Result<(VersionInfo, Matrix), AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::EditMatrix(org.id))?;
        let (info, m) = self.version_of(&org, key, VersionRef::Latest).await?;
        let by = actor.person_id();
        let audit = Audit::new(
            by,
            "matrix.draft.start",
            [],
            format!(
                "matrix `{key}`: draft started from version {}",
                info.label()
            ),
        );
        let id = self
            .db
            .start_draft(org.id, info.matrix_id, &m, by, &audit)
            .await
            .map_err(|e| match e {
                rungs_db::DbError::Conflict { .. } => AppError::StateConflict(format!(
                    "matrix `{key}` already has a draft: edit it, publish it or discard it"
                )),
                other => other.into(),
            })?;
        Ok(self.db.load_version(org.id, id).await?)
    }

    /// Applies edits to the draft read at `revision`, all or none: the result is checked as a
    /// whole matrix, and an edit made since `revision` by someone else is a CONFLICT.
    #[tracing::instrument(skip(self, edits), err(level = "debug", Display))]
    pub async fn edit_draft(
        &self,
        actor: &Actor,
        org_slug: &str,
        key: &str,
        revision: u32,
        edits: &[MatrixEdit],
    ) -> Result<(VersionInfo, Matrix), AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::EditMatrix(org.id))?;
        if edits.is_empty() {
            return Err(AppError::Invalid("give at least one edit".into()));
        }
        let (info, m) = self.version_of(&org, key, VersionRef::Draft).await?;
        if info.revision != revision {
            return Err(AppError::StateConflict(format!(
                "the draft is at revision {}, not {revision}: someone else changed it; reload it and apply your change again",
                info.revision
            )));
        }
        let mut d = m.to_draft();
        for (i, e) in edits.iter().enumerate() {
            e.apply(&mut d)
                .map_err(|err| AppError::Invalid(format!("edit {}: {}", i + 1, message(err))))?;
        }
        let edited = Matrix::new(&d)?;
        let audit = Audit::new(
            actor.person_id(),
            "matrix.draft.edit",
            [info.matrix_id.0],
            format!("matrix `{key}`: {} edit(s) to the draft", edits.len()),
        );
        self.db
            .save_draft(org.id, info.id, Some(revision), &edited, &audit)
            .await?;
        Ok(self.db.load_version(org.id, info.id).await?)
    }

    /// Deletes the draft.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn discard_draft(
        &self,
        actor: &Actor,
        org_slug: &str,
        key: &str,
        revision: Option<u32>,
    ) -> Result<(), AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::EditMatrix(org.id))?;
        let (info, _) = self.version_of(&org, key, VersionRef::Draft).await?;
        if self.db.latest_published(org.id, key).await?.is_none() {
            return Err(AppError::Invalid(format!(
                "matrix `{key}` has no published version: its draft is all there is; edit it or publish it"
            )));
        }
        let audit = Audit::new(
            actor.person_id(),
            "matrix.draft.discard",
            [info.matrix_id.0],
            format!("matrix `{key}`: draft discarded"),
        );
        Ok(self
            .db
            .discard_draft(org.id, info.id, revision.or(Some(info.revision)), &audit)
            .await?)
    }

    /// Publishes the draft as the next version; from then on the database refuses changes to
    /// it. A draft identical to the newest version is refused: there is nothing to publish.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn publish_matrix(
        &self,
        actor: &Actor,
        org_slug: &str,
        key: &str,
        note: &str,
        revision: Option<u32>,
    ) -> Result<VersionInfo, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::EditMatrix(org.id))?;
        let note = note.trim();
        if note.is_empty() || note.chars().count() > 2_000 {
            return Err(AppError::Invalid(
                "a version needs a note saying what changed (up to 2,000 characters)".into(),
            ));
        }
        let (info, m) = self.version_of(&org, key, VersionRef::Draft).await?;
        if let Some((latest, lm)) = self.db.latest_published(org.id, key).await?
            && lm == m
        {
            return Err(AppError::Invalid(format!(
                "the draft is the same as version {}: there is nothing to publish",
                latest.label()
            )));
        }
        let by = actor.person_id();
        let audit = Audit::new(by, "matrix.publish", [], format!("matrix `{key}`: {note}"));
        self.db
            // What was checked above is what gets published: the revision read, unless the
            // caller named one.
            .publish_draft(
                org.id,
                info.id,
                revision.or(Some(info.revision)),
                note,
                by,
                &audit,
            )
            .await?;
        Ok(self.db.load_version(org.id, info.id).await?.0)
    }

    /// Moves everyone on an older version of the matrix to version `to`: level assignments by
    /// key (or the mapping), assessments carried over where the expectation's key is unchanged
    /// or mapped. Everything is checked first; a dry run writes nothing; the move is one
    /// transaction.
    #[tracing::instrument(skip(self, mapping), err(level = "debug", Display))]
    pub async fn move_people(
        &self,
        actor: &Actor,
        org_slug: &str,
        key: &str,
        to: u32,
        mapping: Option<&MappingFile>,
        dry_run: bool,
    ) -> Result<MoveReport, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::MovePeople(org.id))?;
        let (target, tm) = self.version_of(&org, key, VersionRef::Number(to)).await?;
        let today = Utc::now().date_naive();
        let mut history: HashMap<PersonId, Vec<LevelAssignment>> = HashMap::new();
        for a in self.db.assignments_in(org.id, rungs_db::Scope::Org).await? {
            history.entry(a.person_id).or_default().push(a);
        }
        let versions: HashMap<VersionId, VersionInfo> = self
            .db
            .matrix_versions(org.id, key)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
        // Everyone whose current level is on an older version of this matrix.
        let mut current: Vec<LevelAssignment> = Vec::new();
        let mut already_there = 0;
        for h in history.values() {
            let Some(c) = current_as_of(h, today) else {
                continue;
            };
            match versions.get(&c.version_id).and_then(|v| v.number) {
                Some(n) if n < to => current.push(c.clone()),
                Some(_) => already_there += 1,
                None => {}
            }
        }
        current.sort_by_key(|c| c.person_id.0);
        let mut contents: HashMap<VersionId, Matrix> = HashMap::new();
        for c in &current {
            if let std::collections::hash_map::Entry::Vacant(slot) = contents.entry(c.version_id) {
                slot.insert(self.db.load_version(org.id, c.version_id).await?.1);
            }
        }
        let mut assessed: HashMap<
            (PersonId, VersionId),
            Vec<rungs_domain::assessment::Assessment>,
        > = HashMap::new();
        for a in self
            .db
            .assessments_in(org.id, rungs_db::Scope::Org, None)
            .await?
        {
            assessed
                .entry((a.person_id, a.version_id))
                .or_default()
                .push(a);
        }
        let empty = Vec::new();
        let members: Vec<Member<'_>> = current
            .iter()
            .filter_map(|c| {
                Some(Member {
                    current: c,
                    from: contents.get(&c.version_id)?,
                    assessments: assessed.get(&(c.person_id, c.version_id)).unwrap_or(&empty),
                })
            })
            .collect();
        let default_mapping = Mapping::default();
        if let Some(f) = mapping {
            let sources: Vec<&Matrix> = contents.values().collect();
            f.check(&tm, to, &sources)?;
        }
        let rule = self.db.readiness_rule(org.id).await?;
        let plan = plan_move(
            Target {
                version_id: target.id,
                number: to,
                matrix: &tm,
                rule: &rule,
                today,
                now: Utc::now(),
                by: actor.person_id(),
            },
            &members,
            mapping.map_or(&default_mapping, |f| &f.mapping),
        )?;
        // A case decided after the move would place its person back on the old version: such
        // cases block the move (a dry run lists them).
        let open: Vec<PersonId> = self
            .db
            .open_cases(org.id, rungs_db::Scope::Org)
            .await?
            .into_iter()
            .map(|c| c.person_id)
            .filter(|p| current.iter().any(|c| c.person_id == *p))
            .collect();
        let mut blocked: Vec<String> = self
            .people_named(&org, &open)
            .await?
            .values()
            .map(|p| p.email.to_string())
            .collect();
        blocked.sort();
        if !dry_run && !blocked.is_empty() {
            return Err(AppError::StateConflict(format!(
                "{} people have an open promotion case against their current version ({}): approve, reject or withdraw those cases first",
                blocked.len(),
                blocked.join(", ")
            )));
        }
        let ids: Vec<PersonId> = plan.moves.iter().map(|m| m.person).collect();
        let people = self.people_named(&org, &ids).await?;
        let moves = plan
            .moves
            .iter()
            .map(|m| {
                let p = people.get(&m.person);
                MoveView {
                    email: p.map(|p| p.email.to_string()).unwrap_or_default(),
                    name: p.map(|p| p.display_name.clone()).unwrap_or_default(),
                    from_version: versions.get(&m.from_version).and_then(|v| v.number),
                    change: m.clone(),
                }
            })
            .collect();
        let report = MoveReport {
            target: target.clone(),
            dry_run,
            moves,
            already_there,
            assessments_carried: plan.assessments.len(),
            blocked_by_open_cases: blocked,
        };
        if !dry_run && !plan.assignments.is_empty() {
            let audit = Audit::new(
                actor.person_id(),
                "matrix.move_people",
                ids.iter().map(|p| p.0).chain([target.id.0]),
                format!(
                    "matrix `{key}`: {} people moved to version {to}, {} assessments carried over",
                    plan.assignments.len(),
                    plan.assessments.len()
                ),
            );
            self.db
                .write(org.id, &audit, async |tx| {
                    tx.move_people(&plan.assignments, &plan.assessments).await
                })
                .await?;
        }
        Ok(report)
    }
}

/// Reading the draft is editing business; published versions are for everyone.
fn read_action(org: rungs_domain::OrgId, which: VersionRef) -> Action {
    match which {
        VersionRef::Draft => Action::EditMatrix(org),
        _ => Action::ReadMatrices(org),
    }
}

fn message(e: rungs_domain::DomainError) -> String {
    match e {
        rungs_domain::DomainError::Invalid { message, .. } => message,
        other => other.to_string(),
    }
}
