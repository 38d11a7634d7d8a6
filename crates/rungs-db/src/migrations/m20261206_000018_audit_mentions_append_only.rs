//! The audit log's index by person is append-only as the log is (`m20261124_000005_audit`):
//! on every backend a trigger refuses UPDATE and DELETE of `audit_mentions` (and TRUNCATE on
//! PostgreSQL). Deleting a mention would hide its entry from "by or about this person" while
//! the log still held it; nothing in Rungs rewrites one.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000018_audit_mentions_append_only"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        super::append_only(m, "audit_mentions", "rungs_audit_mentions_append_only").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        super::drop_append_only(m, "audit_mentions", "rungs_audit_mentions_append_only").await
    }
}
