//! SCIM provisioning: the organisation's bearer tokens (their SHA-256 hashes only), and the
//! SCIM attributes of provisioned people that `people` has no column for (`userName`,
//! `externalId`, the parts of the name, the email's type), one row per person; `deleted_at`:
//! deleted by SCIM (the person is deactivated, and SCIM answers 404 for them from then on).

use super::{index, instant, tenant};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000015_provisioning"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut used = instant(m, "last_used_at");
        used.null();
        let mut revoked = instant(m, "revoked_at");
        revoked.null();
        let mut t = Table::create();
        t.table("scim_tokens").col(pk_uuid("id"));
        tenant(&mut t, "scim_tokens");
        t.col(string_len("name", 100))
            .col(string_len("token_hash", 64))
            .col(uuid_null("created_by"))
            .col(instant(m, "created_at"))
            .col(used)
            .col(revoked);
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_scim_tokens_hash",
            "scim_tokens",
            &["token_hash"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_scim_tokens_org",
            "scim_tokens",
            &["org_id", "created_at"],
            false,
        ))
        .await?;

        let mut deleted = instant(m, "deleted_at");
        deleted.null();
        let mut t = Table::create();
        t.table("scim_identities").col(pk_uuid("id"));
        tenant(&mut t, "scim_identities");
        t.col(string_len("user_name", 255))
            .col(string_len_null("external_id", 255))
            .col(string_len_null("formatted", 255))
            .col(string_len_null("given_name", 255))
            .col(string_len_null("family_name", 255))
            .col(string_len_null("email_type", 50))
            .col(boolean_null("email_primary"))
            .col(instant(m, "updated_at"))
            .col(deleted);
        // The row is the person's: it goes with them.
        t.foreign_key(
            ForeignKey::create()
                .name("fk_scim_identities_person")
                .from("scim_identities", "id")
                .to("people", "id")
                .on_delete(ForeignKeyAction::Cascade),
        );
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_scim_identities_user_name",
            "scim_identities",
            &["org_id", "user_name"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_scim_identities_external_id",
            "scim_identities",
            &["org_id", "external_id"],
            false,
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("scim_identities").take())
            .await?;
        m.drop_table(Table::drop().table("scim_tokens").take())
            .await
    }
}
