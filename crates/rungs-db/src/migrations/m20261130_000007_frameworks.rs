//! Real career frameworks: ladders per track, branches, shared criteria, themes, rich text.
//!
//! - `levels`: two levels may share a rank (rungs of different branches), so the unique index on
//!   `(org_id, version_id, rank)` becomes a plain one.
//! - `matrix_versions.level_style`: `cumulative` (every existing version) or `restated`.
//! - `tracks.levels`: the track's own levels as a JSON array of keys, NULL for every level of the
//!   matrix (every existing track); `tracks.branch_track` / `branch_level`: the trunk it shares.
//! - `cells.summary`; `expectations.title` and `examples` (a JSON array); `expectations.name`
//!   becomes TEXT (criteria run to 2,000 characters); `competencies.theme`.
//! - `themes`: groups of competencies, per version.
//! - `cell_expectations`: which cells expect which criterion, in order. A criterion is one
//!   `expectations` row (its `cell_id` is the cell that first mentions it); existing rows get one
//!   link each, with the expectation's id as the link's id.
//!
//! The new content tables are frozen for published versions like the others.

use super::m20261124_000006_versions::{freeze_content, unfreeze_content};
use super::{fk, index, tenant};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000007_frameworks"
    }
}

const NEW_CONTENT: [&str; 2] = ["themes", "cell_expectations"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = m.get_connection();
        let backend = m.get_database_backend();
        m.drop_index(
            Index::drop()
                .name("ux_levels_org_version_rank")
                .table("levels")
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_levels_org_version_rank",
            "levels",
            &["org_id", "version_id", "rank"],
            false,
        ))
        .await?;
        for (table, col) in [
            (
                "matrix_versions",
                string_len("level_style", 16).default("cumulative").take(),
            ),
            ("tracks", text_null("levels").take()),
            ("tracks", string_len_null("branch_track", 64).take()),
            ("tracks", string_len_null("branch_level", 64).take()),
            ("cells", text_null("summary").take()),
            ("expectations", string_len_null("title", 255).take()),
            ("expectations", text_null("examples").take()),
            ("competencies", string_len_null("theme", 64).take()),
        ] {
            let mut col = col;
            m.alter_table(Table::alter().table(table).add_column(&mut col).take())
                .await?;
        }
        match backend {
            DbBackend::Postgres => {
                c.execute_unprepared("ALTER TABLE expectations ALTER COLUMN name TYPE text")
                    .await?;
            }
            DbBackend::MySql => {
                c.execute_unprepared("ALTER TABLE expectations MODIFY name TEXT NOT NULL")
                    .await?;
            }
            // SQLite does not enforce a VARCHAR's length.
            _ => {}
        }

        let mut t = Table::create();
        t.table("themes").col(pk_uuid("id"));
        tenant(&mut t, "themes");
        t.col(uuid("version_id"))
            .col(integer("position"))
            .col(string_len("key", 64))
            .col(string_len("name", 255))
            .col(text_null("description"));
        fk(&mut t, "themes", "version_id", "matrix_versions");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_themes_org_version_key",
            "themes",
            &["org_id", "version_id", "key"],
            true,
        ))
        .await?;

        let mut t = Table::create();
        t.table("cell_expectations").col(pk_uuid("id"));
        tenant(&mut t, "cell_expectations");
        t.col(uuid("version_id"))
            .col(uuid("cell_id"))
            .col(uuid("expectation_id"))
            .col(integer("position"));
        fk(&mut t, "cell_expectations", "version_id", "matrix_versions");
        fk(&mut t, "cell_expectations", "cell_id", "cells");
        fk(
            &mut t,
            "cell_expectations",
            "expectation_id",
            "expectations",
        );
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_cell_expectations_org_cell_expectation",
            "cell_expectations",
            &["org_id", "cell_id", "expectation_id"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_cell_expectations_org_version",
            "cell_expectations",
            &["org_id", "version_id"],
            false,
        ))
        .await?;
        c.execute_unprepared(
            "INSERT INTO cell_expectations (id, org_id, version_id, cell_id, expectation_id, position) \
             SELECT id, org_id, version_id, cell_id, id, position FROM expectations",
        )
        .await?;
        for t in NEW_CONTENT {
            freeze_content(c, backend, t).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = m.get_connection();
        let backend = m.get_database_backend();
        for t in NEW_CONTENT {
            unfreeze_content(c, backend, t).await?;
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for (table, col) in [
            ("competencies", "theme"),
            ("expectations", "examples"),
            ("expectations", "title"),
            ("cells", "summary"),
            ("tracks", "branch_level"),
            ("tracks", "branch_track"),
            ("tracks", "levels"),
            ("matrix_versions", "level_style"),
        ] {
            m.alter_table(Table::alter().table(table).drop_column(col).take())
                .await?;
        }
        m.drop_index(
            Index::drop()
                .name("ix_levels_org_version_rank")
                .table("levels")
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_levels_org_version_rank",
            "levels",
            &["org_id", "version_id", "rank"],
            true,
        ))
        .await?;
        Ok(())
    }
}
