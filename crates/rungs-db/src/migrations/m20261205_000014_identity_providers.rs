//! Single sign-on: at most one OpenID Provider per organisation (its row's id is the
//! organisation's). The client secret is kept here to be sent to the provider only; no API
//! returns it. Looked up by organisation, and by issuer for access tokens presented to the API.

use super::{index, instant, tenant};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000014_identity_providers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table("identity_providers").col(pk_uuid("id"));
        tenant(&mut t, "identity_providers");
        t.col(string_len("name", 60))
            .col(string_len("issuer", 255))
            .col(string_len("client_id", 255))
            .col(text("client_secret"))
            .col(text("scopes"))
            .col(string_len("email_claim", 100))
            .col(text("allowed_domains"))
            .col(string_len_null("admin_group_claim", 100))
            .col(string_len_null("admin_group_value", 255))
            .col(boolean("passwords_allowed"))
            .col(boolean("create_people"))
            .col(string_len_null("api_audience", 255))
            .col(instant(m, "updated_at"));
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ux_identity_providers_org",
            "identity_providers",
            &["org_id"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_identity_providers_issuer",
            "identity_providers",
            &["issuer"],
            false,
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("identity_providers").take())
            .await
    }
}
