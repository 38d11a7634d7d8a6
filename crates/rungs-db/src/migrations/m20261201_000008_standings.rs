//! Standings: one row per person, kept up to date in the transaction of every write that changes
//! it, so that listings (a manager's team, the people directory's track and level filter) sort,
//! filter and page in SQL instead of computing every plan per request.
//!
//! - `id` is the person's id; `sort_name` their display name in lower case (Unicode-aware, as
//!   Rust lowers it), for sorting by name the same way on every backend.
//! - `version_id`, `track`, `level`, `rank`: the position in force (all NULL with no level);
//!   `valid_until`: the day a later assignment takes over, when the row must be recomputed.
//! - `in_level_since`: since when the level has been held without a break.
//! - `has_target`: placed and not at the top of the track; `score_developing`, `score_meets`,
//!   `score_exceeds`: the readiness score under each minimum rating a rule may set, so that a
//!   rule change needs no recomputation ("ready" is decided at read time from the rule).
//!
//! Existing people get their rows from `Db::migrate`, which fills any that are missing.

use super::{index, tenant};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000008_standings"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table("standings").col(pk_uuid("id"));
        tenant(&mut t, "standings");
        t.col(string_len("sort_name", 255))
            .col(uuid_null("version_id"))
            .col(string_len_null("track", 64))
            .col(string_len_null("level", 64))
            .col(integer_null("rank"))
            .col(date_null("valid_until"))
            .col(date_null("in_level_since"))
            .col(boolean("has_target"))
            .col(double("score_developing"))
            .col(double("score_meets"))
            .col(double("score_exceeds"))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_standings_person")
                    .from("standings", "id")
                    .to("people", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            );
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ix_standings_org_valid_until",
            "standings",
            &["org_id", "valid_until"],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_standings_org_track_level",
            "standings",
            &["org_id", "track", "level"],
            false,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("standings").to_owned())
            .await
    }
}
