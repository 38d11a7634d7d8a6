//! The audit log: who changed what, when, and which records, written by every change in its
//! own transaction (so a change and its record stand or fall together).

use crate::entities::*;
use crate::error::DbError;
use chrono::{DateTime, SubsecRound, Utc};
use rungs_domain::{OrgId, PersonId};
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// At most this many record ids are kept per entry (the count keeps the total).
pub const MAX_SUBJECTS: usize = 1_000;

/// What a change writes to the audit log.
#[derive(Debug, Clone)]
pub struct Audit {
    /// `None`: an operator at the command line.
    pub actor: Option<PersonId>,
    /// A stable name such as `person.update` or `promotion.approve`.
    pub action: &'static str,
    /// The records changed (people, cases, versions...).
    pub subjects: Vec<Uuid>,
    pub detail: String,
}

impl Audit {
    pub fn new(
        actor: Option<PersonId>,
        action: &'static str,
        subjects: impl IntoIterator<Item = Uuid>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            actor,
            action,
            subjects: subjects.into_iter().collect(),
            detail: detail.into(),
        }
    }
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<PersonId>,
    pub action: String,
    /// The first [`MAX_SUBJECTS`] records.
    pub subjects: Vec<Uuid>,
    pub subject_count: u32,
    pub detail: String,
}

pub(crate) async fn write_audit<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    a: &Audit,
) -> Result<(), DbError> {
    let entry = AuditEntry {
        id: Uuid::now_v7(),
        at: Utc::now().trunc_subsecs(6),
        actor_id: a.actor,
        action: a.action.to_owned(),
        subjects: a.subjects.iter().take(MAX_SUBJECTS).copied().collect(),
        subject_count: u32::try_from(a.subjects.len()).unwrap_or(u32::MAX),
        detail: a.detail.clone(),
    };
    insert_entries(c, org, std::slice::from_ref(&entry)).await
}

pub(crate) async fn insert_entries<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    entries: &[AuditEntry],
) -> Result<(), DbError> {
    let rows = entries
        .iter()
        .map(|e| {
            Ok(audit_log::ActiveModel {
                id: Set(e.id),
                org_id: Set(org.0),
                actor_id: Set(e.actor_id.map(|p| p.0)),
                action: Set(e.action.clone()),
                subjects: Set(serde_json::to_string(&e.subjects)
                    .map_err(|err| DbError::Other(sea_orm::DbErr::Custom(err.to_string())))?),
                subject_count: Set(i32::try_from(e.subject_count).unwrap_or(i32::MAX)),
                detail: Set(e.detail.clone()),
                at: Set(e.at),
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    crate::rows::insert_chunked::<audit_log::Entity, _, _>(c, rows).await?;
    // The index by person: each id an entry names (its actor, its subjects), once.
    let mut mentions: Vec<[sea_orm::Value; 3]> = Vec::new();
    for e in entries {
        let named: std::collections::BTreeSet<Uuid> = e
            .actor_id
            .map(|p| p.0)
            .into_iter()
            .chain(e.subjects.iter().copied())
            .collect();
        mentions.extend(
            named
                .into_iter()
                .map(|n| [org.0.into(), n.into(), e.id.into()]),
        );
    }
    crate::rows::insert_values(
        c,
        "audit_mentions",
        ["org_id", "mentioned", "entry_id"],
        mentions,
    )
    .await
}
