//! People search's index: each person's search terms (`rungs_domain::search`: their name and
//! email from the start of each word, lower case), one row per term, so that a search is a
//! range of `(org_id, term)` on every backend instead of a scan of the organisation.
//!
//! `term` compares by code point (`COLLATE "C"` on PostgreSQL, `utf8mb4_bin` on MariaDB/MySQL,
//! SQLite's default `BINARY`): a prefix's range `term >= prefix AND term < after(prefix)` holds
//! exactly the terms that begin with it, which a linguistic collation does not promise. The rows
//! go with their person. `Db::migrate` fills the terms of people stored before this migration.
//!
//! The table has no foreign keys. It is an index of `people`, derived from the rows written in
//! the same transaction, and neither people nor organisations are ever deleted (people are
//! deactivated), so a key's cascade would never run, while its check ran for each of about
//! seven terms per person: with both keys, PostgreSQL took 8.2 s to insert 100,000 people's
//! 700,000 terms; without them, 3.2 s.

use super::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000016_search_terms"
    }
}

/// `rungs_domain::search::TERM_CHARS`, as it was when this migration was written.
const TERM_CHARS: u32 = 100;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        let mut term = ColumnDef::new("term");
        match backend {
            DbBackend::Postgres => {
                term.custom(format!("VARCHAR({TERM_CHARS}) COLLATE \"C\""));
            }
            DbBackend::MySql => {
                term.custom(format!(
                    "VARCHAR({TERM_CHARS}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                ));
            }
            _ => {
                term.string_len(TERM_CHARS);
            }
        }
        term.not_null();
        let mut t = Table::create();
        t.table("search_terms");
        t.col(uuid("org_id"))
            .col(term)
            .col(uuid("person_id"))
            .primary_key(
                Index::create()
                    .name("pk_search_terms")
                    .col("org_id")
                    .col("term")
                    .col("person_id"),
            );
        m.create_table(t.take()).await?;
        // A person's terms, replaced when they are renamed.
        m.create_index(index(
            "ix_search_terms_person",
            "search_terms",
            &["person_id"],
            false,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("search_terms").take())
            .await
    }
}
