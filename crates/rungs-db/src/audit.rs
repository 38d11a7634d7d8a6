//! The audit log: who changed what, when, and which records, written by every change in its
//! own transaction (so a change and its record stand or fall together).

use crate::entities::*;
use crate::error::DbError;
use crate::repo::Db;
use chrono::{DateTime, SubsecRound, Utc};
use rungs_domain::{OrgId, PersonId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
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
    crate::repo::insert_chunked::<audit_log::Entity, _, _>(c, rows).await
}

impl Db {
    /// The organisation's audit log, newest first (the organisation export reads it whole).
    pub async fn audit_log(&self, org: OrgId) -> Result<Vec<AuditEntry>, DbError> {
        Ok(audit_log::Entity::find()
            .filter(audit_log::Column::OrgId.eq(org.0))
            .order_by_desc(audit_log::Column::At)
            .order_by_desc(audit_log::Column::Id)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(entry_from_row)
            .collect())
    }

    /// One page of the audit log, newest first, optionally one action only, after the entry
    /// `after` (the previous page's last): the filter, the order and the page are SQL's, on
    /// the index that leads with the organisation.
    pub async fn audit_page(
        &self,
        org: OrgId,
        action: Option<&str>,
        after: Option<uuid::Uuid>,
        first: usize,
    ) -> Result<(Vec<AuditEntry>, bool, usize), DbError> {
        let mut q = audit_log::Entity::find().filter(audit_log::Column::OrgId.eq(org.0));
        if let Some(a) = action {
            q = q.filter(audit_log::Column::Action.eq(a));
        }
        let total = q.clone().count(&self.conn).await?;
        if let Some(a) = after {
            let b = self.conn.get_database_backend();
            q = q.filter(crate::paging::older_than(b, "audit_log", "at", org, a));
        }
        let mut rows: Vec<AuditEntry> = q
            .order_by_desc(audit_log::Column::At)
            .order_by_desc(audit_log::Column::Id)
            .limit(first as u64 + 1)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(entry_from_row)
            .collect();
        let has_next = rows.len() > first;
        rows.truncate(first);
        Ok((rows, has_next, usize::try_from(total).unwrap_or(usize::MAX)))
    }
}

fn entry_from_row(r: audit_log::Model) -> AuditEntry {
    AuditEntry {
        id: r.id,
        at: r.at.trunc_subsecs(6),
        actor_id: r.actor_id.map(PersonId),
        action: r.action,
        subjects: serde_json::from_str(&r.subjects).unwrap_or_default(),
        subject_count: u32::try_from(r.subject_count).unwrap_or(0),
        detail: r.detail,
    }
}
