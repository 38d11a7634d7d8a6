//! Promotion cases are listed newest first, a page at a time after a case's id: an index on
//! the organisation and that order lets a page read only its rows.

use super::index;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000009_case_pages"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(
            "ix_cases_org_proposed",
            "promotion_cases",
            &["org_id", "proposed_at", "id"],
            false,
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_cases_org_proposed")
                .table("promotion_cases")
                .to_owned(),
        )
        .await
    }
}
