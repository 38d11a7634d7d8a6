//! The audit log: one row per change, written in the transaction of the change. Append-only:
//! on every backend a trigger refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL), so not
//! even the application's own connection can rewrite history.

use super::{index, tenant};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000005_audit"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mysql = m.get_database_backend() == DbBackend::MySql;
        let mut t = Table::create();
        t.table("audit_log").col(pk_uuid("id"));
        tenant(&mut t, "audit_log");
        t.col(uuid_null("actor_id"))
            .col(string_len("action", 64))
            .col(text("subjects"))
            .col(integer("subject_count"))
            .col(text("detail"));
        if mysql {
            t.col(ColumnDef::new("at").custom("DATETIME(6)").not_null());
        } else {
            t.col(timestamp_with_time_zone("at"));
        }
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ix_audit_org_at",
            "audit_log",
            &["org_id", "at"],
            false,
        ))
        .await?;
        super::append_only(m, "audit_log", "rungs_audit_append_only").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP TABLE audit_log; DROP FUNCTION rungs_audit_append_only()")
                .await?;
            return Ok(());
        }
        m.drop_table(Table::drop().table("audit_log").take()).await
    }
}
