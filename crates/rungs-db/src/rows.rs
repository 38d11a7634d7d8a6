//! Row mappers and bulk inserts: functions over any connection (the pool or a transaction),
//! shared by every repository. Nothing here knows the pool.

use crate::entities::*;
use crate::error::DbError;
use rungs_domain::matrix::{VersionInfo, VersionStatus};
use rungs_domain::org::{Organisation, Slug};
use rungs_domain::person::{Email, Person};
use rungs_domain::text::Key;
use rungs_domain::{MatrixId, OrgId, PersonId, VersionId};
use sea_orm::{ConnectionTrait, EntityTrait};
use std::collections::HashMap;

/// Rows per INSERT, well under every backend's bound-parameter limit (a dozen columns at
/// most: 6,000 parameters, against 32,766 on SQLite and 65,535 elsewhere).
pub(crate) const CHUNK: usize = 500;

/// `items` ordered so that every manager in the list comes before their reports (siblings by
/// `key`); anyone no top leads to (a cycle) comes last, in the order given.
pub(crate) fn managers_first<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> PersonId,
    manager: impl Fn(&T) -> Option<PersonId>,
    key: impl Fn(&T) -> String,
) -> Vec<T> {
    let ids: std::collections::HashSet<PersonId> = items.iter().map(&id).collect();
    let mut by_manager: HashMap<Option<PersonId>, Vec<usize>> = HashMap::new();
    for (i, t) in items.iter().enumerate() {
        // A manager outside the list is already stored (or absent): a top here.
        by_manager
            .entry(manager(t).filter(|m| ids.contains(m)))
            .or_default()
            .push(i);
    }
    let mut order = Vec::with_capacity(items.len());
    let mut queue: Vec<Option<PersonId>> = vec![None];
    while let Some(m) = queue.pop() {
        let mut reports = by_manager.remove(&m).unwrap_or_default();
        reports.sort_by_key(|&i| key(&items[i]));
        for &i in reports.iter().rev() {
            queue.push(Some(id(&items[i])));
            order.push(i);
        }
    }
    let mut placed = vec![false; items.len()];
    for &i in &order {
        placed[i] = true;
    }
    order.extend((0..items.len()).filter(|i| !placed[*i]));
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

pub(crate) async fn insert_chunked<E, A, C>(c: &C, rows: Vec<A>) -> Result<(), DbError>
where
    E: EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        E::insert_many(chunk).exec_without_returning(c).await?;
    }
    Ok(())
}

/// Inserts `rows` into `columns` of `table`, as many rows per INSERT as bind 6,000 values: rows
/// of tables without an entity (an index kept beside its records).
pub(crate) async fn insert_values<C: ConnectionTrait, const N: usize>(
    c: &C,
    table: &'static str,
    columns: [&'static str; N],
    rows: impl IntoIterator<Item = [sea_orm::Value; N]>,
) -> Result<(), DbError> {
    let per = 6_000 / N.max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut q = sea_orm::sea_query::Query::insert();
        q.into_table(table).columns(columns);
        for row in rows.by_ref().take(per) {
            q.values_panic(row.map(Into::into));
        }
        c.execute(&q).await?;
    }
    Ok(())
}

pub(crate) fn org_from_row(r: organisation::Model) -> Result<Organisation, DbError> {
    Ok(Organisation {
        id: OrgId(r.id),
        slug: Slug::parse(&r.slug)?,
        name: r.name,
    })
}

pub(crate) fn person_from_row(r: person::Model) -> Result<Person, DbError> {
    Ok(Person {
        id: PersonId(r.id),
        org_id: OrgId(r.org_id),
        email: Email::parse(&r.email)?,
        display_name: r.display_name,
        manager_id: r.manager_id.map(PersonId),
        is_admin: r.is_admin,
        active: r.active,
    })
}

pub(crate) fn version_from_row(
    v: &matrix_version::Model,
    key: &str,
) -> Result<VersionInfo, DbError> {
    Ok(VersionInfo {
        id: VersionId(v.id),
        matrix_id: MatrixId(v.matrix_id),
        matrix_key: Key::parse(key)?,
        number: v.number.and_then(|n| u32::try_from(n).ok()),
        status: VersionStatus::parse(&v.status)?,
        note: v.note.clone(),
        created_by: v.created_by.map(PersonId),
        created_at: v.created_at,
        published_at: v.published_at,
        published_by: v.published_by.map(PersonId),
        revision: u32::try_from(v.revision).unwrap_or_default(),
    })
}
