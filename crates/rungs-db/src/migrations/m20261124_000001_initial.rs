//! The first schema: organisations, people, versioned matrices, level assignments, assessments
//! and promotion cases. Every tenant-owned table has `org_id`, and tenant indexes lead with it.

use super::{fk, index, tenant};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000001_initial"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organisations")
                .col(pk_uuid("id"))
                .col(string_len_uniq("slug", 63))
                .col(string_len("name", 255))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
        )
        .await?;

        let mut t = Table::create();
        t.table("people").col(pk_uuid("id"));
        tenant(&mut t, "people");
        t.col(string_len("email", 254))
            .col(string_len("display_name", 255))
            .col(uuid_null("manager_id"))
            .col(boolean("is_admin"))
            .col(boolean("active"))
            .col(timestamp_with_time_zone("created_at"));
        fk(&mut t, "people", "manager_id", "people");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_people_org_email",
            "people",
            &["org_id", "email"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_people_org_manager",
            "people",
            &["org_id", "manager_id"],
            false,
        ))
        .await?;

        let mut t = Table::create();
        t.table("matrices").col(pk_uuid("id"));
        tenant(&mut t, "matrices");
        t.col(string_len("key", 64))
            .col(string_len("name", 255))
            .col(timestamp_with_time_zone("created_at"));
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_matrices_org_key",
            "matrices",
            &["org_id", "key"],
            true,
        ))
        .await?;

        // One row per version; `number` is null for the draft. Content rows hang off the version.
        let mut t = Table::create();
        t.table("matrix_versions").col(pk_uuid("id"));
        tenant(&mut t, "matrix_versions");
        t.col(uuid("matrix_id"))
            .col(integer_null("number"))
            .col(string_len("status", 16))
            .col(string_len("name", 255))
            .col(text_null("description"))
            .col(text_null("note"))
            .col(uuid_null("created_by"))
            .col(timestamp_with_time_zone("created_at"))
            .col(uuid_null("published_by"))
            .col(timestamp_with_time_zone_null("published_at"));
        fk(&mut t, "matrix_versions", "matrix_id", "matrices");
        fk(&mut t, "matrix_versions", "created_by", "people");
        fk(&mut t, "matrix_versions", "published_by", "people");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_versions_org_matrix_number",
            "matrix_versions",
            &["org_id", "matrix_id", "number"],
            true,
        ))
        .await?;

        let mut t = Table::create();
        t.table("levels").col(pk_uuid("id"));
        tenant(&mut t, "levels");
        t.col(uuid("version_id"))
            .col(string_len("key", 64))
            .col(string_len("name", 255))
            .col(integer("rank"))
            .col(text_null("description"));
        fk(&mut t, "levels", "version_id", "matrix_versions");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_levels_org_version_key",
            "levels",
            &["org_id", "version_id", "key"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ux_levels_org_version_rank",
            "levels",
            &["org_id", "version_id", "rank"],
            true,
        ))
        .await?;

        let mut t = Table::create();
        t.table("competencies").col(pk_uuid("id"));
        tenant(&mut t, "competencies");
        t.col(uuid("version_id"))
            .col(integer("position"))
            .col(string_len("key", 64))
            .col(string_len("name", 255))
            .col(text_null("description"));
        fk(&mut t, "competencies", "version_id", "matrix_versions");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_competencies_org_version_key",
            "competencies",
            &["org_id", "version_id", "key"],
            true,
        ))
        .await?;

        let mut t = Table::create();
        t.table("tracks").col(pk_uuid("id"));
        tenant(&mut t, "tracks");
        t.col(uuid("version_id"))
            .col(integer("position"))
            .col(string_len("key", 64))
            .col(string_len("name", 255))
            .col(text_null("description"));
        fk(&mut t, "tracks", "version_id", "matrix_versions");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_tracks_org_version_key",
            "tracks",
            &["org_id", "version_id", "key"],
            true,
        ))
        .await?;

        // A track at a level. `titles` is a JSON array of strings, read and written whole.
        let mut t = Table::create();
        t.table("cells").col(pk_uuid("id"));
        tenant(&mut t, "cells");
        t.col(uuid("version_id"))
            .col(uuid("track_id"))
            .col(uuid("level_id"))
            .col(text("titles"));
        fk(&mut t, "cells", "version_id", "matrix_versions");
        fk(&mut t, "cells", "track_id", "tracks");
        fk(&mut t, "cells", "level_id", "levels");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_cells_org_track_level",
            "cells",
            &["org_id", "track_id", "level_id"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_cells_org_version",
            "cells",
            &["org_id", "version_id"],
            false,
        ))
        .await?;

        let mut t = Table::create();
        t.table("expectations").col(pk_uuid("id"));
        tenant(&mut t, "expectations");
        t.col(uuid("version_id"))
            .col(uuid("cell_id"))
            .col(integer("position"))
            .col(string_len("key", 64))
            .col(string_len("name", 255))
            .col(text_null("description"))
            .col(string_len_null("competency", 64));
        fk(&mut t, "expectations", "version_id", "matrix_versions");
        fk(&mut t, "expectations", "cell_id", "cells");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_expectations_org_version_key",
            "expectations",
            &["org_id", "version_id", "key"],
            true,
        ))
        .await?;

        // A learning resource belongs to a cell or to an expectation (exactly one is set).
        let mut t = Table::create();
        t.table("resources").col(pk_uuid("id"));
        tenant(&mut t, "resources");
        t.col(uuid("version_id"))
            .col(uuid_null("cell_id"))
            .col(uuid_null("expectation_id"))
            .col(integer("position"))
            .col(string_len("title", 255))
            .col(string_len_null("url", 2000))
            .col(string_len("kind", 32))
            .col(text_null("description"));
        fk(&mut t, "resources", "version_id", "matrix_versions");
        fk(&mut t, "resources", "cell_id", "cells");
        fk(&mut t, "resources", "expectation_id", "expectations");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ix_resources_org_version",
            "resources",
            &["org_id", "version_id"],
            false,
        ))
        .await?;

        // Appended, never updated: the current level is the latest effective one.
        let mut t = Table::create();
        t.table("level_assignments").col(pk_uuid("id"));
        tenant(&mut t, "level_assignments");
        t.col(uuid("person_id"))
            .col(uuid("version_id"))
            .col(uuid("track_id"))
            .col(uuid("level_id"))
            .col(date("effective"))
            .col(text("reason"))
            .col(uuid_null("set_by"))
            .col(timestamp_with_time_zone("recorded_at"));
        fk(&mut t, "level_assignments", "person_id", "people");
        fk(&mut t, "level_assignments", "version_id", "matrix_versions");
        fk(&mut t, "level_assignments", "track_id", "tracks");
        fk(&mut t, "level_assignments", "level_id", "levels");
        fk(&mut t, "level_assignments", "set_by", "people");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ix_assignments_org_person",
            "level_assignments",
            &["org_id", "person_id", "effective"],
            false,
        ))
        .await?;

        // Appended, never updated.
        let mut t = Table::create();
        t.table("assessments").col(pk_uuid("id"));
        tenant(&mut t, "assessments");
        t.col(uuid("person_id"))
            .col(uuid("version_id"))
            .col(uuid("expectation_id"))
            .col(string_len("rating", 16))
            .col(uuid("assessor_id"))
            .col(string_len("assessor_role", 16))
            .col(text("evidence_text"))
            .col(text("evidence_links"))
            .col(timestamp_with_time_zone("assessed_at"));
        fk(&mut t, "assessments", "person_id", "people");
        fk(&mut t, "assessments", "version_id", "matrix_versions");
        fk(&mut t, "assessments", "expectation_id", "expectations");
        fk(&mut t, "assessments", "assessor_id", "people");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ix_assessments_org_person",
            "assessments",
            &["org_id", "person_id", "assessed_at"],
            false,
        ))
        .await?;

        let mut t = Table::create();
        t.table("promotion_cases").col(pk_uuid("id"));
        tenant(&mut t, "promotion_cases");
        t.col(uuid("person_id"))
            .col(uuid("version_id"))
            .col(uuid("from_track_id"))
            .col(uuid("from_level_id"))
            .col(uuid("to_track_id"))
            .col(uuid("to_level_id"))
            .col(uuid("proposer_id"))
            .col(text("justification"))
            .col(string_len("status", 16))
            .col(timestamp_with_time_zone("proposed_at"))
            .col(uuid_null("decided_by"))
            .col(timestamp_with_time_zone_null("decided_at"))
            .col(text_null("decision_note"))
            .col(date_null("effective"));
        fk(&mut t, "promotion_cases", "person_id", "people");
        fk(&mut t, "promotion_cases", "version_id", "matrix_versions");
        fk(&mut t, "promotion_cases", "from_track_id", "tracks");
        fk(&mut t, "promotion_cases", "from_level_id", "levels");
        fk(&mut t, "promotion_cases", "to_track_id", "tracks");
        fk(&mut t, "promotion_cases", "to_level_id", "levels");
        fk(&mut t, "promotion_cases", "proposer_id", "people");
        fk(&mut t, "promotion_cases", "decided_by", "people");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ix_cases_org_status",
            "promotion_cases",
            &["org_id", "status"],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_cases_org_person",
            "promotion_cases",
            &["org_id", "person_id"],
            false,
        ))
        .await?;

        // Everything that happened to a case (proposed, commented, decided), appended.
        let mut t = Table::create();
        t.table("promotion_events").col(pk_uuid("id"));
        tenant(&mut t, "promotion_events");
        t.col(uuid("case_id"))
            .col(string_len("kind", 16))
            .col(uuid("actor_id"))
            .col(text("note"))
            .col(timestamp_with_time_zone("at"));
        fk(&mut t, "promotion_events", "case_id", "promotion_cases");
        fk(&mut t, "promotion_events", "actor_id", "people");
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ix_events_org_case",
            "promotion_events",
            &["org_id", "case_id"],
            false,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "promotion_events",
            "promotion_cases",
            "assessments",
            "level_assignments",
            "resources",
            "expectations",
            "cells",
            "tracks",
            "competencies",
            "levels",
            "matrix_versions",
            "matrices",
            "people",
            "organisations",
        ] {
            m.drop_table(Table::drop().table(t).take()).await?;
        }
        Ok(())
    }
}
