//! Growth: each organisation's readiness rule, and the link from a level assignment to the
//! promotion case that made it.

use super::tenant;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000003_growth"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // `id` is the organisation's id: one rule per organisation; no row means the default.
        let mut t = Table::create();
        t.table("readiness_rules").col(pk_uuid("id"));
        tenant(&mut t, "readiness_rules");
        t.col(string_len("min_rating", 16))
            .col(integer("min_months_in_level"))
            // Thousandths, so the rule compares exactly on every backend.
            .col(integer("min_score_permille"))
            .col(uuid_null("updated_by"))
            .col(timestamp_with_time_zone("updated_at"));
        m.create_table(t.take()).await?;

        // Set when an approved promotion case appended the assignment. No foreign key: SQLite
        // cannot add one to an existing table; the use case writes both rows in one transaction.
        m.alter_table(
            Table::alter()
                .table("level_assignments")
                .add_column(uuid_null("case_id"))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("level_assignments")
                .drop_column("case_id")
                .take(),
        )
        .await?;
        m.drop_table(Table::drop().table("readiness_rules").take())
            .await?;
        Ok(())
    }
}
