//! Sign-in: a password credential per person (Argon2id PHC string, with the failure counter
//! that throttles guessing) and refresh tokens (stored as hashes, grouped in rotation families).

use super::{fk, index, tenant};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000002_auth"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // `id` is the person's id: one credential per person.
        let mut t = Table::create();
        t.table("credentials").col(pk_uuid("id"));
        tenant(&mut t, "credentials");
        t.col(string_len("password_hash", 255))
            .col(integer("failed_attempts"))
            .col(timestamp_with_time_zone_null("locked_until"))
            .col(timestamp_with_time_zone("updated_at"));
        t.foreign_key(
            ForeignKey::create()
                .name("fk_credentials_person")
                .from("credentials", "id")
                .to("people", "id")
                .on_delete(ForeignKeyAction::Cascade),
        );
        m.create_table(t.take()).await?;

        let mut t = Table::create();
        t.table("refresh_tokens").col(pk_uuid("id"));
        tenant(&mut t, "refresh_tokens");
        t.col(uuid("person_id"))
            .col(uuid("family_id"))
            .col(string_len("token_hash", 64))
            .col(timestamp_with_time_zone("issued_at"))
            .col(timestamp_with_time_zone("expires_at"))
            .col(timestamp_with_time_zone_null("used_at"))
            .col(timestamp_with_time_zone_null("revoked_at"));
        fk(&mut t, "refresh_tokens", "person_id", "people");
        m.create_table(t.take()).await?;
        // Looked up by hash before the tenant is known (the token is the credential).
        m.create_index(index(
            "ux_refresh_tokens_hash",
            "refresh_tokens",
            &["token_hash"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_refresh_tokens_org_family",
            "refresh_tokens",
            &["org_id", "family_id"],
            false,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["refresh_tokens", "credentials"] {
            m.drop_table(Table::drop().table(t).take()).await?;
        }
        Ok(())
    }
}
