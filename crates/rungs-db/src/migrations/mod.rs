//! Schema migrations. They name tables and columns as strings and never import the entities, so
//! an old migration keeps meaning what it meant. Each runs on SQLite, PostgreSQL and MariaDB/MySQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

mod m20261124_000001_initial;
mod m20261124_000002_auth;
mod m20261124_000003_growth;
mod m20261124_000004_mysql_datetime;
mod m20261124_000005_audit;
mod m20261124_000006_versions;
mod m20261130_000007_frameworks;
mod m20261201_000008_standings;
mod m20261201_000009_case_pages;
mod m20261202_000010_web_sessions;
mod m20261202_000011_team_paths;
mod m20261203_000012_issued_tokens;
mod m20261205_000013_write_probes;
mod m20261205_000014_identity_providers;
mod m20261205_000015_provisioning;
mod m20261206_000016_search_terms;
mod m20261206_000017_audit_mentions;
mod m20261206_000018_audit_mentions_append_only;
mod m20261206_000019_standings_path_covering;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_initial::Migration),
            Box::new(m20261124_000002_auth::Migration),
            Box::new(m20261124_000003_growth::Migration),
            Box::new(m20261124_000004_mysql_datetime::Migration),
            Box::new(m20261124_000005_audit::Migration),
            Box::new(m20261124_000006_versions::Migration),
            Box::new(m20261130_000007_frameworks::Migration),
            Box::new(m20261201_000008_standings::Migration),
            Box::new(m20261201_000009_case_pages::Migration),
            Box::new(m20261202_000010_web_sessions::Migration),
            Box::new(m20261202_000011_team_paths::Migration),
            Box::new(m20261203_000012_issued_tokens::Migration),
            Box::new(m20261205_000013_write_probes::Migration),
            Box::new(m20261205_000014_identity_providers::Migration),
            Box::new(m20261205_000015_provisioning::Migration),
            Box::new(m20261206_000016_search_terms::Migration),
            Box::new(m20261206_000017_audit_mentions::Migration),
            Box::new(m20261206_000018_audit_mentions_append_only::Migration),
            Box::new(m20261206_000019_standings_path_covering::Migration),
        ]
    }
}

// ---- helpers shared by the migrations (strings only, never entities) ----------------------

/// Makes `table` append-only on every backend: a trigger refuses UPDATE and DELETE (and, on
/// PostgreSQL, TRUNCATE, through the trigger function `function`), saying "`table` is
/// append-only".
pub(crate) async fn append_only(
    m: &SchemaManager<'_>,
    table: &str,
    function: &str,
) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
    let c = m.get_connection();
    let refused = format!("{table} is append-only");
    match m.get_database_backend() {
        DbBackend::Postgres => {
            c.execute_unprepared(&format!(
                "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION '{refused}'; END $$"
            ))
            .await?;
            c.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION {function}()"
            ))
            .await?;
            c.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            ))
            .await?;
        }
        DbBackend::MySql => {
            for op in ["UPDATE", "DELETE"] {
                c.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_no_{} BEFORE {op} ON {table} FOR EACH ROW \
                     SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{refused}'",
                    op.to_lowercase()
                ))
                .await?;
            }
        }
        _ => {
            for op in ["UPDATE", "DELETE"] {
                c.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_no_{} BEFORE {op} ON {table} \
                     BEGIN SELECT RAISE(ABORT, '{refused}'); END",
                    op.to_lowercase()
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// Undoes [`append_only`] for `table` (the table stays).
pub(crate) async fn drop_append_only(
    m: &SchemaManager<'_>,
    table: &str,
    function: &str,
) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
    let c = m.get_connection();
    if m.get_database_backend() == DbBackend::Postgres {
        c.execute_unprepared(&format!("DROP FUNCTION {function}() CASCADE"))
            .await?;
        return Ok(());
    }
    for op in ["update", "delete"] {
        c.execute_unprepared(&format!("DROP TRIGGER {table}_no_{op}"))
            .await?;
    }
    Ok(())
}

/// `org_id` with its foreign key to `organisations`.
pub(crate) fn tenant(t: &mut TableCreateStatement, table: &'static str) {
    t.col(uuid("org_id")).foreign_key(
        ForeignKey::create()
            .name(format!("fk_{table}_org"))
            .from(table, "org_id")
            .to("organisations", "id")
            .on_delete(ForeignKeyAction::Cascade),
    );
}

/// A timestamp column: `DATETIME(6)` on MariaDB/MySQL (microseconds, beyond 2038; see
/// `m20261124_000004_mysql_datetime`), `timestamptz` on PostgreSQL, text on SQLite.
pub(crate) fn instant(m: &SchemaManager, name: &'static str) -> ColumnDef {
    if m.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::MySql {
        ColumnDef::new(name).custom("DATETIME(6)").not_null().take()
    } else {
        timestamp_with_time_zone(name)
    }
}

pub(crate) fn fk(
    t: &mut TableCreateStatement,
    table: &'static str,
    col: &'static str,
    to: &'static str,
) {
    t.foreign_key(
        ForeignKey::create()
            .name(format!("fk_{table}_{col}"))
            .from(table, col)
            .to(to, "id"),
    );
}

pub(crate) fn index(
    name: &str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    if unique {
        i.unique();
    }
    i.take()
}
