//! Matrix versions: one draft per matrix at most, edits detected by a revision number, published
//! versions frozen by the database, and assessments carried over to a newer version keep a link
//! to the one they were made against.
//!
//! - `matrix_versions.revision` counts the draft's edits; an edit names the revision it read and
//!   loses with CONFLICT when another edit came first.
//! - `matrix_versions.draft_of` is the matrix id while the row is a draft and NULL once
//!   published; a unique index on `(org_id, draft_of)` allows one draft per matrix on every
//!   backend (NULLs never collide).
//! - Triggers on every backend refuse UPDATE and DELETE of a published version and any INSERT,
//!   UPDATE or DELETE of content rows (levels, competencies, tracks, cells, expectations,
//!   resources) belonging to one. A version is therefore written as a draft and then published.
//! - `assessments.carried_from` names the assessment a carried-over copy came from, and
//!   `level_assignments.moved_from` the assignment a version move continues.

use super::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000006_versions"
    }
}

/// The tables whose rows belong to a version.
pub(crate) const CONTENT_TABLES: [&str; 6] = [
    "levels",
    "competencies",
    "tracks",
    "cells",
    "expectations",
    "resources",
];

const FROZEN: &str = "published matrix versions cannot be changed";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("matrix_versions")
                .add_column(integer("revision").default(0))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("matrix_versions")
                .add_column(uuid_null("draft_of"))
                .take(),
        )
        .await?;
        let c = m.get_connection();
        c.execute_unprepared(
            "UPDATE matrix_versions SET draft_of = matrix_id WHERE status = 'draft'",
        )
        .await?;
        m.create_index(index(
            "ux_versions_one_draft",
            "matrix_versions",
            &["org_id", "draft_of"],
            true,
        ))
        .await?;
        m.alter_table(
            Table::alter()
                .table("assessments")
                .add_column(uuid_null("carried_from"))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("level_assignments")
                .add_column(uuid_null("moved_from"))
                .take(),
        )
        .await?;

        match m.get_database_backend() {
            DbBackend::Postgres => {
                c.execute_unprepared(&format!(
                    "CREATE FUNCTION rungs_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN IF OLD.status = 'published' THEN RAISE EXCEPTION '{FROZEN}'; END IF; \
                     IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
                ))
                .await?;
                c.execute_unprepared(
                    "CREATE TRIGGER matrix_versions_frozen BEFORE UPDATE OR DELETE ON matrix_versions \
                     FOR EACH ROW EXECUTE FUNCTION rungs_version_frozen()",
                )
                .await?;
                c.execute_unprepared(&format!(
                    "CREATE FUNCTION rungs_content_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN \
                     IF TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM matrix_versions v \
                        WHERE v.id = OLD.version_id AND v.status = 'published') \
                     THEN RAISE EXCEPTION '{FROZEN}'; END IF; \
                     IF TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM matrix_versions v \
                        WHERE v.id = NEW.version_id AND v.status = 'published') \
                     THEN RAISE EXCEPTION '{FROZEN}'; END IF; \
                     IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
                ))
                .await?;
                for t in CONTENT_TABLES {
                    freeze_content(c, DbBackend::Postgres, t).await?;
                }
            }
            DbBackend::MySql => {
                for op in ["UPDATE", "DELETE"] {
                    c.execute_unprepared(&format!(
                        "CREATE TRIGGER matrix_versions_frozen_{} BEFORE {op} ON matrix_versions \
                         FOR EACH ROW BEGIN IF OLD.status = 'published' THEN \
                         SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{FROZEN}'; END IF; END",
                        op.to_lowercase()
                    ))
                    .await?;
                }
                for t in CONTENT_TABLES {
                    freeze_content(c, DbBackend::MySql, t).await?;
                }
            }
            _ => {
                for op in ["UPDATE", "DELETE"] {
                    c.execute_unprepared(&format!(
                        "CREATE TRIGGER matrix_versions_frozen_{} BEFORE {op} ON matrix_versions \
                         WHEN OLD.status = 'published' \
                         BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END",
                        op.to_lowercase()
                    ))
                    .await?;
                }
                for t in CONTENT_TABLES {
                    freeze_content(c, DbBackend::Sqlite, t).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = m.get_connection();
        match m.get_database_backend() {
            DbBackend::Postgres => {
                c.execute_unprepared(
                    "DROP FUNCTION rungs_version_frozen() CASCADE; DROP FUNCTION rungs_content_frozen() CASCADE",
                )
                .await?;
            }
            _ => {
                for op in ["update", "delete"] {
                    c.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS matrix_versions_frozen_{op}"
                    ))
                    .await?;
                }
                for t in CONTENT_TABLES {
                    unfreeze_content(c, m.get_database_backend(), t).await?;
                }
            }
        }
        m.drop_index(
            Index::drop()
                .name("ux_versions_one_draft")
                .table("matrix_versions")
                .to_owned(),
        )
        .await?;
        for (table, col) in [
            ("level_assignments", "moved_from"),
            ("assessments", "carried_from"),
            ("matrix_versions", "draft_of"),
            ("matrix_versions", "revision"),
        ] {
            m.alter_table(Table::alter().table(table).drop_column(col).take())
                .await?;
        }
        Ok(())
    }
}

/// Creates the triggers that refuse writes to a content table's rows of a published version
/// (on PostgreSQL, with the `rungs_content_frozen()` function this migration creates).
pub(crate) async fn freeze_content<C: ConnectionTrait>(
    c: &C,
    backend: DbBackend,
    t: &str,
) -> Result<(), DbErr> {
    match backend {
        DbBackend::Postgres => {
            c.execute_unprepared(&format!(
                "CREATE TRIGGER {t}_frozen BEFORE INSERT OR UPDATE OR DELETE ON {t} \
                 FOR EACH ROW EXECUTE FUNCTION rungs_content_frozen()"
            ))
            .await?;
        }
        DbBackend::MySql => {
            for (op, row) in [("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")] {
                // An UPDATE is checked on both sides: moving a row into a published version is
                // refused like changing one.
                let extra = if op == "UPDATE" {
                    " OR (SELECT status FROM matrix_versions WHERE id = NEW.version_id) = 'published'"
                } else {
                    ""
                };
                c.execute_unprepared(&format!(
                    "CREATE TRIGGER {t}_frozen_{} BEFORE {op} ON {t} FOR EACH ROW BEGIN \
                     IF (SELECT status FROM matrix_versions WHERE id = {row}.version_id) = 'published'{extra} \
                     THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{FROZEN}'; END IF; END",
                    op.to_lowercase()
                ))
                .await?;
            }
        }
        _ => {
            for (op, cond) in [
                ("INSERT", "NEW.version_id"),
                ("UPDATE", "OLD.version_id OR v.id = NEW.version_id"),
                ("DELETE", "OLD.version_id"),
            ] {
                c.execute_unprepared(&format!(
                    "CREATE TRIGGER {t}_frozen_{} BEFORE {op} ON {t} \
                     WHEN EXISTS (SELECT 1 FROM matrix_versions v WHERE (v.id = {cond}) AND v.status = 'published') \
                     BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END",
                    op.to_lowercase()
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// Drops what [`freeze_content`] created.
pub(crate) async fn unfreeze_content<C: ConnectionTrait>(
    c: &C,
    backend: DbBackend,
    t: &str,
) -> Result<(), DbErr> {
    if backend == DbBackend::Postgres {
        c.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}_frozen ON {t}"))
            .await?;
        return Ok(());
    }
    for op in ["insert", "update", "delete"] {
        c.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}_frozen_{op}"))
            .await?;
    }
    Ok(())
}
