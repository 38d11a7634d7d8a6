//! The audit log's index by person: one row per entry and each id it names, its actor and its
//! subjects (`mentioned`), so that "entries by or about this person" is a range of
//! `(org_id, mentioned)` instead of a scan of the organisation's log for a JSON substring.
//! Derived from the log, which stays the record: the entries stored before this migration are
//! indexed here, from their `actor_id` and their `subjects` (a JSON list of ids).

use super::tenant;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use std::collections::BTreeSet;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000017_audit_mentions"
    }
}

/// Rows per INSERT (three values each).
const ROWS: usize = 2_000;

/// Stored entries read at a time.
const PAGE: usize = 5_000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table("audit_mentions");
        tenant(&mut t, "audit_mentions");
        t.col(uuid("mentioned")).col(uuid("entry_id")).primary_key(
            Index::create()
                .name("pk_audit_mentions")
                .col("org_id")
                .col("mentioned")
                .col("entry_id"),
        );
        m.create_table(t.take()).await?;

        // The stored entries, a page at a time by id (a log of millions is never held whole).
        let db = m.get_connection();
        let backend = m.get_database_backend();
        let after = match backend {
            DbBackend::Postgres => "$1",
            _ => "?",
        };
        let mut last: Option<uuid::Uuid> = None;
        loop {
            let page = match last {
                None => Statement::from_string(
                    backend,
                    format!(
                        "SELECT id, org_id, actor_id, subjects FROM audit_log ORDER BY id LIMIT {PAGE}"
                    ),
                ),
                Some(id) => Statement::from_sql_and_values(
                    backend,
                    format!(
                        "SELECT id, org_id, actor_id, subjects FROM audit_log \
                         WHERE id > {after} ORDER BY id LIMIT {PAGE}"
                    ),
                    [Value::from(id)],
                ),
            };
            let entries = db.query_all_raw(page).await?;
            let mut rows: Vec<(uuid::Uuid, uuid::Uuid, uuid::Uuid)> = Vec::new();
            for e in &entries {
                let id: uuid::Uuid = e.try_get("", "id")?;
                let org: uuid::Uuid = e.try_get("", "org_id")?;
                let actor: Option<uuid::Uuid> = e.try_get("", "actor_id")?;
                let subjects: String = e.try_get("", "subjects")?;
                let subjects: Vec<uuid::Uuid> = serde_json::from_str(&subjects).unwrap_or_default();
                let named: BTreeSet<uuid::Uuid> = actor.into_iter().chain(subjects).collect();
                rows.extend(named.into_iter().map(|n| (org, n, id)));
                last = Some(id);
            }
            for round in rows.chunks(ROWS) {
                let mut q = Query::insert();
                q.into_table("audit_mentions")
                    .columns(["org_id", "mentioned", "entry_id"]);
                for (org, n, id) in round {
                    q.values_panic([Value::from(*org).into(), (*n).into(), (*id).into()]);
                }
                m.exec_stmt(q.take()).await?;
            }
            if entries.len() < PAGE {
                break;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("audit_mentions").take())
            .await
    }
}
