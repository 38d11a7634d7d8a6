//! One row that readiness checks write (`Db::check_writable`) when no write has committed
//! lately: a database that cannot write, its disk full, answers not ready. It belongs to no
//! organisation and holds nothing but the time of the latest probe (Unix milliseconds).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000013_write_probes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("write_probes")
                .col(integer("id").primary_key())
                .col(big_integer("checked_at"))
                .take(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table("write_probes")
                .columns(["id", "checked_at"])
                .values_panic([1.into(), 0i64.into()])
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("write_probes").take())
            .await
    }
}
