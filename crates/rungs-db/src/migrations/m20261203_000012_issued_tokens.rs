//! Access tokens issued by `rungs token issue` (for scripts and integrations): one row each, so
//! that they can be listed and revoked. The token carries the row's id as its session (`sid`);
//! authentication refuses it once the row is revoked.

use super::{index, instant, tenant};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000012_issued_tokens"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut revoked = instant(m, "revoked_at");
        revoked.null();
        let mut t = Table::create();
        t.table("issued_tokens").col(pk_uuid("id"));
        tenant(&mut t, "issued_tokens");
        t.col(uuid("person_id"))
            .col(uuid_null("issued_by"))
            .col(instant(m, "issued_at"))
            .col(instant(m, "expires_at"))
            .col(revoked);
        // A person's tokens go with them.
        t.foreign_key(
            ForeignKey::create()
                .name("fk_issued_tokens_person")
                .from("issued_tokens", "person_id")
                .to("people", "id")
                .on_delete(ForeignKeyAction::Cascade),
        );
        m.create_table(t.take()).await?;
        m.create_index(index(
            "ix_issued_tokens_org_issued",
            "issued_tokens",
            &["org_id", "issued_at"],
            false,
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("issued_tokens").take())
            .await
    }
}
