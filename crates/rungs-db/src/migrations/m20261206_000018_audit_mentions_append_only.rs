//! The audit log's index by person is append-only as the log is (`m20261124_000005_audit`):
//! on every backend a trigger refuses UPDATE and DELETE of `audit_mentions` (and TRUNCATE on
//! PostgreSQL). Deleting a mention would hide its entry from "by or about this person" while
//! the log still held it; nothing in Rungs rewrites one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

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
        let c = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Postgres => {
                c.execute_unprepared(
                    "DROP TRIGGER audit_mentions_append_only ON audit_mentions; \
                     DROP TRIGGER audit_mentions_no_truncate ON audit_mentions; \
                     DROP FUNCTION rungs_audit_mentions_append_only()",
                )
                .await?;
            }
            _ => {
                for op in ["update", "delete"] {
                    c.execute_unprepared(&format!("DROP TRIGGER audit_mentions_no_{op}"))
                        .await?;
                }
            }
        }
        Ok(())
    }
}
