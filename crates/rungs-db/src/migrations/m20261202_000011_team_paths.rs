//! What a team page walks in order instead of sorting a whole subtree.
//!
//! - `path`: the person's reporting line from the top, each person's id as 32 lowercase hex
//!   digits, the person last (so "in m's subtree" is the range `path > m.path AND path <
//!   m.path || 'g'`, walked by `ix_standings_org_path`). ASCII on MariaDB/MySQL, so that 64
//!   levels fit an index key. Filled by `Db::migrate` for the rows this migration adds it to.
//! - `active`: the person's, copied so that a listing needs no join.
//! - `since_key`, `rank_key`: `in_level_since` and `rank` with their NULLs replaced (9999-12-31
//!   and -1), so that every backend orders them alike and an index serves the order.
//! - `ready`: ready under the organisation's rule today; `ready_on`: the day someone who meets
//!   the rule but for time in level becomes ready (NULL otherwise). Filled by `Db::migrate`.
//!
//! One index per listing order (name; level; readiness under each minimum rating), each
//! leading with the organisation and ending with the id, so a page stops after its rows; and
//! `(org_id, ready_on)` for the rows that time makes ready.

use super::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000011_team_paths"
    }
}

/// The longest path: 64 levels of 32 hex digits.
const PATH_LEN: u32 = 64 * 32;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        let mut path = ColumnDef::new("path");
        if backend == DbBackend::MySql {
            // The character set belongs to the type, before NOT NULL.
            path.custom(format!(
                "VARCHAR({PATH_LEN}) CHARACTER SET ascii COLLATE ascii_bin"
            ));
        } else {
            path.string_len(PATH_LEN);
        }
        path.not_null().default("");
        let columns = [
            path,
            ColumnDef::new("active")
                .boolean()
                .not_null()
                .default(true)
                .take(),
            ColumnDef::new("since_key")
                .date()
                .not_null()
                .default("9999-12-31")
                .take(),
            ColumnDef::new("rank_key")
                .integer()
                .not_null()
                .default(-1)
                .take(),
            ColumnDef::new("ready")
                .boolean()
                .not_null()
                .default(false)
                .take(),
            ColumnDef::new("ready_on").date().null().take(),
        ];
        // One column per statement: SQLite alters one at a time.
        for c in columns {
            m.alter_table(
                Table::alter()
                    .table("standings")
                    .add_column(c.clone())
                    .to_owned(),
            )
            .await?;
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE standings SET \
             active = (SELECT p.active FROM people p WHERE p.id = standings.id), \
             since_key = COALESCE(in_level_since, '9999-12-31'), \
             rank_key = COALESCE(rank, -1)",
        )
        .await?;
        m.create_index(index(
            "ix_standings_org_path",
            "standings",
            &["org_id", "path", "active"],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_standings_org_name",
            "standings",
            &["org_id", "sort_name", "id"],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_standings_org_ready_on",
            "standings",
            &["org_id", "ready_on"],
            false,
        ))
        .await?;
        let desc = |name: &str, first: &[&'static str], rest: &[&'static str]| {
            let mut i = Index::create();
            i.name(name).table("standings").col("org_id");
            for c in first {
                i.col((Alias::new(*c), IndexOrder::Desc));
            }
            for c in rest {
                i.col(*c);
            }
            i.take()
        };
        m.create_index(desc(
            "ix_standings_org_rank",
            &["rank_key"],
            &["sort_name", "id"],
        ))
        .await?;
        for score in ["score_developing", "score_meets", "score_exceeds"] {
            m.create_index(desc(
                &format!("ix_standings_org_{score}"),
                &["ready", score],
                &["since_key", "sort_name", "id"],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "ix_standings_org_path",
            "ix_standings_org_ready_on",
            "ix_standings_org_name",
            "ix_standings_org_rank",
            "ix_standings_org_score_developing",
            "ix_standings_org_score_meets",
            "ix_standings_org_score_exceeds",
        ] {
            m.drop_index(Index::drop().name(name).table("standings").to_owned())
                .await?;
        }
        for c in [
            "path",
            "active",
            "since_key",
            "rank_key",
            "ready",
            "ready_on",
        ] {
            m.alter_table(Table::alter().table("standings").drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}
