//! Web app sessions, kept on the server so that every replica behind a load balancer sees the
//! same ones: the cookie's token is stored as its hash, with the session's CSRF token and its
//! idle and absolute ends.

use super::{index, instant, tenant};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000010_web_sessions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table("web_sessions").col(pk_uuid("id"));
        tenant(&mut t, "web_sessions");
        t.col(uuid("person_id"))
            .col(string_len("token_hash", 64))
            .col(string_len("csrf_token", 64))
            .col(instant(m, "created_at"))
            .col(instant(m, "last_seen_at"))
            .col(instant(m, "expires_at"));
        // A person's sessions go with them.
        t.foreign_key(
            ForeignKey::create()
                .name("fk_web_sessions_person")
                .from("web_sessions", "person_id")
                .to("people", "id")
                .on_delete(ForeignKeyAction::Cascade),
        );
        m.create_table(t.take()).await?;
        // Looked up by hash before the tenant is known (the cookie is the credential).
        m.create_index(index(
            "ux_web_sessions_hash",
            "web_sessions",
            &["token_hash"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_web_sessions_org_person",
            "web_sessions",
            &["org_id", "person_id"],
            false,
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("web_sessions").take())
            .await
    }
}
