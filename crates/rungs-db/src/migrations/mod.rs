//! Schema migrations. They name tables and columns as strings and never import the entities, so
//! an old migration keeps meaning what it meant. Each runs on SQLite, PostgreSQL and MariaDB/MySQL.

use sea_orm_migration::prelude::*;

mod m20261124_000001_initial;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261124_000001_initial::Migration)]
    }
}
