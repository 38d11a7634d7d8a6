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

    /// One page of the audit log, newest first, kept by `filter`, after the entry `after` (the
    /// previous page's last): the filter, the order and the page are SQL's, on the index that
    /// leads with the organisation (and the time, when the filter bounds it). With the total.
    pub async fn audit_page(
        &self,
        org: OrgId,
        filter: &AuditFilter,
        after: Option<uuid::Uuid>,
        first: usize,
    ) -> Result<(Vec<AuditEntry>, bool, usize), DbError> {
        let backend = self.conn.get_database_backend();
        let column =
            crate::paging::org_column(backend, "audit_log.org_id", filter.person.is_some());
        let mut q = audit_log::Entity::find().filter(sea_orm::sea_query::Expr::cust_with_values(
            format!("{column} = {}", crate::paging::placeholder(backend, 1)),
            [org.0],
        ));
        if let Some(a) = &filter.action {
            q = q.filter(audit_log::Column::Action.eq(a.as_str()));
        }
        if let Some(p) = filter.person {
            // Who acted, or whom it is about: the entries that name them, from the index of
            // mentions (a range of its key), not the JSON list of subjects.
            let mut b = crate::paging::Bound::new(backend);
            let sql = format!(
                "audit_log.id IN (SELECT x.entry_id FROM audit_mentions x \
                 WHERE x.org_id = {} AND x.mentioned = {})",
                b.bind(org.0),
                b.bind(p.0)
            );
            q = q.filter(sea_orm::sea_query::Expr::cust_with_values(
                sql,
                b.into_values(),
            ));
        }
        if let Some(from) = filter.from {
            q = q.filter(audit_log::Column::At.gte(from));
        }
        if let Some(until) = filter.until {
            q = q.filter(audit_log::Column::At.lt(until));
        }
        let total = q.clone().count(&self.conn).await?;
        if let Some(a) = after {
            q = q.filter(crate::paging::older_than(
                backend,
                "audit_log",
                "at",
                org,
                a,
            ));
        }
        let rows = if crate::paging::planned_apart(backend, filter.person.is_some()) {
            // The person's entries first, then their order (see `planned_apart`).
            use sea_orm::QueryTrait;
            let inner = q.build(backend);
            let sql = format!(
                "SELECT * FROM {} ORDER BY audit_log.at DESC, audit_log.id DESC LIMIT {}",
                crate::paging::apart(&inner.sql, "audit_log"),
                first + 1
            );
            let values = inner.values.map(|v| v.0).unwrap_or_default();
            audit_log::Entity::find()
                .from_raw_sql(sea_orm::Statement::from_sql_and_values(
                    backend, sql, values,
                ))
                .all(&self.conn)
                .await?
        } else {
            q.order_by_desc(audit_log::Column::At)
                .order_by_desc(audit_log::Column::Id)
                .limit(first as u64 + 1)
                .all(&self.conn)
                .await?
        };
        let mut rows: Vec<AuditEntry> = rows.into_iter().map(entry_from_row).collect();
        let has_next = rows.len() > first;
        rows.truncate(first);
        Ok((rows, has_next, usize::try_from(total).unwrap_or(usize::MAX)))
    }

    /// The actions the organisation's audit log holds, in order (for a filter's choices).
    pub async fn audit_actions(&self, org: OrgId) -> Result<Vec<String>, DbError> {
        Ok(audit_log::Entity::find()
            .select_only()
            .column(audit_log::Column::Action)
            .distinct()
            .filter(audit_log::Column::OrgId.eq(org.0))
            .order_by_asc(audit_log::Column::Action)
            .into_tuple()
            .all(&self.conn)
            .await?)
    }
}

/// Which audit entries a page keeps (all conditions hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action: Option<String>,
    /// Entries by this person or about them.
    pub person: Option<PersonId>,
    /// From this moment on (inclusive).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this moment.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
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
