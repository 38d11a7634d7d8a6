//! MariaDB/MySQL only: every timestamp column becomes `DATETIME(6)`. The first migrations
//! created them as `TIMESTAMP`, which keeps whole seconds only and ends in 2038; PostgreSQL
//! (`timestamptz`, microseconds) and SQLite (text) never lost anything. With microseconds on
//! every backend, an organisation moved between backends keeps its exact history. sqlx runs the
//! session in UTC, so existing values convert without a shift.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000004_mysql_datetime"
    }
}

/// (table, column, nullable)
const COLUMNS: [(&str, &str, bool); 17] = [
    ("organisations", "created_at", false),
    ("people", "created_at", false),
    ("matrices", "created_at", false),
    ("matrix_versions", "created_at", false),
    ("matrix_versions", "published_at", true),
    ("level_assignments", "recorded_at", false),
    ("assessments", "assessed_at", false),
    ("promotion_cases", "proposed_at", false),
    ("promotion_cases", "decided_at", true),
    ("promotion_events", "at", false),
    ("credentials", "locked_until", true),
    ("credentials", "updated_at", false),
    ("refresh_tokens", "issued_at", false),
    ("refresh_tokens", "expires_at", false),
    ("refresh_tokens", "used_at", true),
    ("refresh_tokens", "revoked_at", true),
    ("readiness_rules", "updated_at", false),
];

async fn set_type(m: &SchemaManager<'_>, ty: &str) -> Result<(), DbErr> {
    if m.get_database_backend() != DbBackend::MySql {
        return Ok(());
    }
    for (table, column, nullable) in COLUMNS {
        let null = if nullable { "NULL" } else { "NOT NULL" };
        m.get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE `{table}` MODIFY `{column}` {ty} {null}"
            ))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        set_type(m, "DATETIME(6)").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        set_type(m, "TIMESTAMP").await
    }
}
