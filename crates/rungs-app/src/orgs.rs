//! Moving a whole organisation between databases: export everything as JSON, import it into
//! any backend. Operators only (the export holds password hashes). The import checks the whole
//! file first and reports every problem with its place; then one transaction writes it all.

use crate::policy::{Action, Actor, authorize};
use crate::{App, AppError};
use rungs_db::{Audit, DUMP_FORMAT, DUMP_VERSION, OrgDump};
use rungs_domain::matrix::Matrix;
use rungs_domain::org::Organisation;
use rungs_domain::person::ReportingTree;
use rungs_domain::{CaseId, PersonId, VersionId};
use rungs_format::{FileError, FileErrors};
use std::collections::{HashMap, HashSet};

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrgImportSummary {
    pub organisation: String,
    pub people: usize,
    pub matrix_versions: usize,
    pub assignments: usize,
    pub assessments: usize,
    pub cases: usize,
}

/// An audit entry with the person who acted (`None`: an operator at the command line).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditView {
    #[serde(flatten)]
    pub entry: rungs_db::AuditEntry,
    pub actor: Option<rungs_domain::person::Person>,
}

impl App {
    /// The organisation's audit log, newest first, optionally one action only (HR admins).
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn audit_log(
        &self,
        actor: &Actor,
        org_slug: &str,
        action: Option<&str>,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<crate::Page<AuditView>, AppError> {
        let filter = rungs_db::AuditFilter {
            action: action.map(str::to_owned),
            ..Default::default()
        };
        self.audit_page(actor, org_slug, &filter, first, after)
            .await
    }

    /// The organisation's audit log, newest first, kept by `filter` (an action, entries by or
    /// about a person, a time range), a page at a time with the total (HR admins).
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn audit_page(
        &self,
        actor: &Actor,
        org_slug: &str,
        filter: &rungs_db::AuditFilter,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<crate::Page<AuditView>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ReadAudit(org.id))?;
        let (first, after) = crate::people::page_args::<uuid::Uuid>(first, after)?;
        let (entries, has_next, total) = self.db.audit_page(org.id, filter, after, first).await?;
        let ids: Vec<PersonId> = entries.iter().filter_map(|e| e.actor_id).collect();
        let people = self.people_named(&org, &ids).await?;
        let end_cursor = entries.last().map(|e| e.id.to_string());
        Ok(crate::Page {
            items: entries
                .into_iter()
                .map(|entry| AuditView {
                    actor: entry.actor_id.and_then(|a| people.get(&a).cloned()),
                    entry,
                })
                .collect(),
            has_next,
            total,
            end_cursor,
        })
    }

    /// The actions the organisation's audit log holds (HR admins).
    pub async fn audit_actions(
        &self,
        actor: &Actor,
        org_slug: &str,
    ) -> Result<Vec<String>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ReadAudit(org.id))?;
        Ok(self.db.audit_actions(org.id).await?)
    }

    /// Everything an organisation holds, as JSON (operators).
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn export_org(&self, actor: &Actor, slug: &str) -> Result<String, AppError> {
        authorize(actor, Action::MoveOrganisation)?;
        let org = self.organisation(actor, slug).await?;
        let dump = self.db.dump_org(org.id).await?;
        serde_json::to_string_pretty(&dump).map_err(|e| AppError::Internal(Box::new(e)))
    }

    /// Restores an exported organisation, with its ids, into this database (operators).
    #[tracing::instrument(skip(self, text), err(level = "debug", Display))]
    pub async fn import_org(
        &self,
        actor: &Actor,
        text: &str,
        file: &str,
    ) -> Result<(Organisation, OrgImportSummary), AppError> {
        authorize(actor, Action::MoveOrganisation)?;
        let dump: OrgDump = serde_json::from_str(text).map_err(|e| {
            AppError::InvalidFile(FileErrors(vec![FileError {
                file: file.to_owned(),
                line: Some(e.line() as u64),
                column: Some(e.column() as u64),
                field: None,
                message: format!("not an organisation export: {e}"),
            }]))
        })?;
        check(&dump, file)?;
        let audit = Audit::new(
            actor.person_id(),
            "organisation.import",
            [dump.organisation.id.0],
            format!("imported from {file}"),
        );
        self.db.restore_org(&dump, &audit).await.map_err(|e| match e {
            rungs_db::DbError::Conflict { what } => AppError::StateConflict(format!(
                "{what} is already in this database: import into another database, or remove it first"
            )),
            other => other.into(),
        })?;
        let summary = OrgImportSummary {
            organisation: dump.organisation.slug.to_string(),
            people: dump.people.len(),
            matrix_versions: dump.matrices.iter().map(|m| m.versions.len()).sum(),
            assignments: dump.assignments.len(),
            assessments: dump.assessments.len(),
            cases: dump.cases.len(),
        };
        Ok((dump.organisation, summary))
    }
}

/// Every problem of a dump, each with its place (`people[3].manager_id`).
fn check(d: &OrgDump, file: &str) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let mut err = |field: String, message: String| {
        errors.push(FileError {
            file: file.to_owned(),
            line: None,
            column: None,
            field: Some(field),
            message,
        });
    };
    if d.format != DUMP_FORMAT || !(1..=DUMP_VERSION).contains(&d.version) {
        err(
            "format".into(),
            format!(
                "this build reads `{DUMP_FORMAT}` versions 1 to {DUMP_VERSION}, not `{}` version {}",
                d.format, d.version
            ),
        );
    }
    let org = d.organisation.id;
    let mut ids = HashSet::new();
    let mut emails = HashSet::new();
    for (i, p) in d.people.iter().enumerate() {
        if p.person.org_id != org {
            err(
                format!("people[{i}].org_id"),
                "belongs to another organisation".into(),
            );
        }
        if !ids.insert(p.person.id) {
            err(
                format!("people[{i}].id"),
                format!("duplicate person id {}", p.person.id),
            );
        }
        if !emails.insert(p.person.email.clone()) {
            err(
                format!("people[{i}].email"),
                format!("duplicate email {}", p.person.email),
            );
        }
    }
    for (i, p) in d.people.iter().enumerate() {
        if let Some(m) = p.person.manager_id.filter(|m| !ids.contains(m)) {
            err(
                format!("people[{i}].manager_id"),
                format!("no person {m} in the file"),
            );
        }
    }
    if let Err(e) = ReportingTree::new(d.people.iter().map(|p| (p.person.id, p.person.manager_id)))
    {
        err("people".into(), e.to_string());
    }
    let known = |id: &PersonId| ids.contains(id);
    for (i, c) in d.credentials.iter().enumerate() {
        if !known(&c.person_id) {
            err(
                format!("credentials[{i}].person_id"),
                format!("no person {}", c.person_id),
            );
        }
    }
    // Each version's content is checked as a new matrix would be.
    let mut versions: HashMap<VersionId, Matrix> = HashMap::new();
    for (i, m) in d.matrices.iter().enumerate() {
        for (j, v) in m.versions.iter().enumerate() {
            match Matrix::new(&v.content.to_draft()) {
                Ok(valid) => {
                    versions.insert(VersionId(v.id), valid);
                }
                Err(e) => err(
                    format!("matrices[{i}].versions[{j}].content"),
                    e.to_string(),
                ),
            }
        }
    }
    let in_version = |v: &VersionId, track: &str, level: &str| -> Result<(), String> {
        let m = versions
            .get(v)
            .ok_or_else(|| format!("no matrix version {v} in the file"))?;
        m.track(track)
            .ok_or_else(|| format!("no track `{track}` in version {v}"))?;
        m.level(level)
            .ok_or_else(|| format!("no level `{level}` in version {v}"))?;
        Ok(())
    };
    for (i, a) in d.assignments.iter().enumerate() {
        if !known(&a.person_id) {
            err(
                format!("assignments[{i}].person_id"),
                format!("no person {}", a.person_id),
            );
        }
        if let Err(m) = in_version(&a.version_id, a.track.as_str(), a.level.as_str()) {
            err(format!("assignments[{i}]"), m);
        }
    }
    for (i, a) in d.assessments.iter().enumerate() {
        if !known(&a.person_id) || !known(&a.assessor_id) {
            err(
                format!("assessments[{i}]"),
                "names a person not in the file".into(),
            );
        }
        let has = versions.get(&a.version_id).is_some_and(|m| {
            m.tracks()
                .iter()
                .flat_map(|t| &t.cells)
                .flat_map(|c| &c.expectations)
                .any(|e| e.key == a.expectation)
        });
        if !has {
            err(
                format!("assessments[{i}].expectation"),
                format!(
                    "no expectation `{}` in version {}",
                    a.expectation, a.version_id
                ),
            );
        }
    }
    let mut cases: HashSet<CaseId> = HashSet::new();
    for (i, c) in d.cases.iter().enumerate() {
        cases.insert(c.id);
        if !known(&c.person_id) || !known(&c.proposer_id) {
            err(
                format!("cases[{i}]"),
                "names a person not in the file".into(),
            );
        }
        for (what, p) in [("from", &c.from), ("to", &c.to)] {
            if let Err(m) = in_version(&c.version_id, p.track.as_str(), p.level.as_str()) {
                err(format!("cases[{i}].{what}"), m);
            }
        }
    }
    for (i, e) in d.case_events.iter().enumerate() {
        if !cases.contains(&e.case_id) {
            err(
                format!("case_events[{i}].case_id"),
                format!("no case {}", e.case_id),
            );
        }
        if !known(&e.actor_id) {
            err(
                format!("case_events[{i}].actor_id"),
                format!("no person {}", e.actor_id),
            );
        }
    }
    if let Some(p) = &d.identity_provider {
        if p.org_id != org {
            err(
                "identity_provider.org_id".into(),
                "belongs to another organisation".into(),
            );
        }
        // Checked as setting it is.
        if let Err(e) = p.check() {
            err("identity_provider".into(), e.to_string());
        }
    }
    for (i, t) in d.scim_tokens.iter().enumerate() {
        if t.token.org_id != org {
            err(
                format!("scim_tokens[{i}].org_id"),
                "belongs to another organisation".into(),
            );
        }
        if let Some(by) = t.token.created_by.filter(|p| !known(p)) {
            err(
                format!("scim_tokens[{i}].created_by"),
                format!("no person {by}"),
            );
        }
    }
    let mut provisioned = HashSet::new();
    let mut user_names = HashSet::new();
    for (i, s) in d.scim_identities.iter().enumerate() {
        if !known(&s.person_id) {
            err(
                format!("scim_identities[{i}].person_id"),
                format!("no person {}", s.person_id),
            );
        }
        if !provisioned.insert(s.person_id) {
            err(
                format!("scim_identities[{i}].person_id"),
                format!("a second identity for person {}", s.person_id),
            );
        }
        // SCIM's userName is unique in the organisation whatever its case.
        if !user_names.insert(s.user_name.to_lowercase()) {
            err(
                format!("scim_identities[{i}].user_name"),
                format!("duplicate userName {}", s.user_name),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::InvalidFile(FileErrors(errors)))
    }
}
