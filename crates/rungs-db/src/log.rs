//! Reading the audit log: whole (for the export) or a page at a time.

use crate::audit::AuditEntry;
use crate::core::Db;
use crate::entities::*;
use crate::error::DbError;
use chrono::SubsecRound;
use rungs_domain::{OrgId, PersonId};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

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
