//! sea-orm entities: one module per table. They never leave this crate; repositories turn them
//! into domain types.

macro_rules! entity {
    ($module:ident, $table:literal, { $($field:ident : $ty:ty),* $(,)? }) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;
            #[allow(unused_imports)]
            use chrono::{DateTime, NaiveDate, Utc};

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub id: Uuid,
                $(pub $field: $ty,)*
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            /// How many columns the table has.
            #[allow(dead_code)]
            pub const COLUMNS: usize = 1 $(+ { let _ = stringify!($field); 1 })*;

            impl Model {
                /// The row's columns `at..at + COLUMNS`, in the table's order (as
                /// `records::prefixed` selects them), read by position: a wide statement's
                /// rows are not looked up column by column by name. `None` if the first (the
                /// id) is NULL: a LEFT JOIN's absent row, or a row of a `UNION ALL` about
                /// something else.
                #[allow(dead_code)]
                pub(crate) fn at(
                    row: &sea_orm::QueryResult,
                    at: usize,
                ) -> Result<Option<Self>, sea_orm::DbErr> {
                    let Some(id) = row.try_get_by_index::<Option<Uuid>>(at)? else {
                        return Ok(None);
                    };
                    let mut i = at;
                    // (A struct expression's fields are evaluated in the order written.)
                    Ok(Some(Self {
                        id,
                        $($field: {
                            i += 1;
                            row.try_get_by_index(i)?
                        },)*
                    }))
                }
            }

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

entity!(organisation, "organisations", {
    slug: String,
    name: String,
    created_at: DateTime<Utc>,
});

entity!(person, "people", {
    org_id: Uuid,
    email: String,
    display_name: String,
    manager_id: Option<Uuid>,
    is_admin: bool,
    active: bool,
    created_at: DateTime<Utc>,
});

entity!(matrix, "matrices", {
    org_id: Uuid,
    key: String,
    name: String,
    created_at: DateTime<Utc>,
});

entity!(matrix_version, "matrix_versions", {
    org_id: Uuid,
    matrix_id: Uuid,
    number: Option<i32>,
    status: String,
    name: String,
    description: Option<String>,
    note: Option<String>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    published_by: Option<Uuid>,
    published_at: Option<DateTime<Utc>>,
    revision: i32,
    draft_of: Option<Uuid>,
    level_style: String,
});

entity!(level, "levels", {
    org_id: Uuid,
    version_id: Uuid,
    key: String,
    name: String,
    rank: i32,
    description: Option<String>,
});

entity!(theme, "themes", {
    org_id: Uuid,
    version_id: Uuid,
    position: i32,
    key: String,
    name: String,
    description: Option<String>,
});

entity!(competency, "competencies", {
    org_id: Uuid,
    version_id: Uuid,
    position: i32,
    key: String,
    name: String,
    description: Option<String>,
    theme: Option<String>,
});

entity!(track, "tracks", {
    org_id: Uuid,
    version_id: Uuid,
    position: i32,
    key: String,
    name: String,
    description: Option<String>,
    levels: Option<String>,
    branch_track: Option<String>,
    branch_level: Option<String>,
});

entity!(cell, "cells", {
    org_id: Uuid,
    version_id: Uuid,
    track_id: Uuid,
    level_id: Uuid,
    titles: String,
    summary: Option<String>,
});

entity!(expectation, "expectations", {
    org_id: Uuid,
    version_id: Uuid,
    cell_id: Uuid,
    position: i32,
    key: String,
    name: String,
    description: Option<String>,
    competency: Option<String>,
    title: Option<String>,
    examples: Option<String>,
});

// Which cells expect a criterion (`expectations` holds each criterion once).
entity!(cell_expectation, "cell_expectations", {
    org_id: Uuid,
    version_id: Uuid,
    cell_id: Uuid,
    expectation_id: Uuid,
    position: i32,
});

entity!(resource, "resources", {
    org_id: Uuid,
    version_id: Uuid,
    cell_id: Option<Uuid>,
    expectation_id: Option<Uuid>,
    position: i32,
    title: String,
    url: Option<String>,
    kind: String,
    description: Option<String>,
});

entity!(level_assignment, "level_assignments", {
    org_id: Uuid,
    person_id: Uuid,
    version_id: Uuid,
    track_id: Uuid,
    level_id: Uuid,
    effective: NaiveDate,
    reason: String,
    set_by: Option<Uuid>,
    recorded_at: DateTime<Utc>,
    case_id: Option<Uuid>,
    moved_from: Option<Uuid>,
});

entity!(audit_log, "audit_log", {
    org_id: Uuid,
    actor_id: Option<Uuid>,
    action: String,
    subjects: String,
    subject_count: i32,
    detail: String,
    at: DateTime<Utc>,
});

entity!(readiness_rule, "readiness_rules", {
    org_id: Uuid,
    min_rating: String,
    min_months_in_level: i32,
    min_score_permille: i32,
    updated_by: Option<Uuid>,
    updated_at: DateTime<Utc>,
});

entity!(credential, "credentials", {
    org_id: Uuid,
    password_hash: String,
    failed_attempts: i32,
    locked_until: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
});

entity!(refresh_token, "refresh_tokens", {
    org_id: Uuid,
    person_id: Uuid,
    family_id: Uuid,
    token_hash: String,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
});

entity!(issued_token, "issued_tokens", {
    org_id: Uuid,
    person_id: Uuid,
    issued_by: Option<Uuid>,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
});

entity!(identity_provider, "identity_providers", {
    org_id: Uuid,
    name: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    scopes: String,
    email_claim: String,
    allowed_domains: String,
    admin_group_claim: Option<String>,
    admin_group_value: Option<String>,
    passwords_allowed: bool,
    create_people: bool,
    api_audience: Option<String>,
    updated_at: DateTime<Utc>,
});

entity!(scim_token, "scim_tokens", {
    org_id: Uuid,
    name: String,
    token_hash: String,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
});

entity!(scim_identity, "scim_identities", {
    org_id: Uuid,
    user_name: String,
    external_id: Option<String>,
    formatted: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    email_type: Option<String>,
    email_primary: Option<bool>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
});

entity!(web_session, "web_sessions", {
    org_id: Uuid,
    person_id: Uuid,
    token_hash: String,
    csrf_token: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
});

// Assessments and promotion cases (with their events).
mod growth_tables {
    entity!(assessment, "assessments", {
        org_id: Uuid,
        person_id: Uuid,
        version_id: Uuid,
        expectation_id: Uuid,
        rating: String,
        assessor_id: Uuid,
        assessor_role: String,
        evidence_text: String,
        evidence_links: String,
        assessed_at: DateTime<Utc>,
        carried_from: Option<Uuid>,
    });

    entity!(promotion_case, "promotion_cases", {
        org_id: Uuid,
        person_id: Uuid,
        version_id: Uuid,
        from_track_id: Uuid,
        from_level_id: Uuid,
        to_track_id: Uuid,
        to_level_id: Uuid,
        proposer_id: Uuid,
        justification: String,
        status: String,
        proposed_at: DateTime<Utc>,
        decided_by: Option<Uuid>,
        decided_at: Option<DateTime<Utc>>,
        decision_note: Option<String>,
        effective: Option<NaiveDate>,
    });

    entity!(promotion_event, "promotion_events", {
        org_id: Uuid,
        case_id: Uuid,
        kind: String,
        actor_id: Uuid,
        note: String,
        at: DateTime<Utc>,
    });
}
pub use growth_tables::*;

/// One person's standing (the table's `id` is the person's): not `Eq`, it holds scores.
pub mod standing {
    use chrono::NaiveDate;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "standings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub sort_name: String,
        pub version_id: Option<Uuid>,
        pub track: Option<String>,
        pub level: Option<String>,
        pub rank: Option<i32>,
        pub valid_until: Option<NaiveDate>,
        pub in_level_since: Option<NaiveDate>,
        pub has_target: bool,
        pub score_developing: f64,
        pub score_meets: f64,
        pub score_exceeds: f64,
        /// The reporting line from the top, each id as 32 hex digits, this person last.
        pub path: String,
        pub active: bool,
        /// `in_level_since`, or 9999-12-31 without a level.
        pub since_key: NaiveDate,
        /// `rank`, or -1 without a level.
        pub rank_key: i32,
        /// Ready under the organisation's rule (as of the last write or due refresh).
        pub ready: bool,
        /// The day time in level makes this person ready, when only that is missing.
        pub ready_on: Option<NaiveDate>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
