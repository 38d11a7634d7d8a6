//! What keyset pages share: custom SQL's placeholders, and "after this row" for lists ordered
//! newest first.

use rungs_domain::OrgId;
use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, SimpleExpr};
use uuid::Uuid;

/// `$n` on PostgreSQL, `?` elsewhere: custom SQL's placeholders.
pub(crate) fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// The rows of `table` that come after row `id` in the order `at DESC, id DESC` (newest
/// first, ties by id): a page's cursor is the id of the previous page's last row.
pub(crate) fn older_than(
    backend: DbBackend,
    table: &str,
    at: &str,
    org: OrgId,
    id: Uuid,
) -> SimpleExpr {
    let ph = |n| placeholder(backend, n);
    let time = |n| {
        format!(
            "(SELECT c.{at} FROM {table} c WHERE c.org_id = {} AND c.id = {})",
            ph(n),
            ph(n + 1)
        )
    };
    Expr::cust_with_values(
        format!(
            "({table}.{at} < {} OR ({table}.{at} = {} AND {table}.id < {}))",
            time(1),
            time(3),
            ph(5)
        ),
        [org.0, id, org.0, id, id],
    )
}

/// A page of `q`'s rows newest first (by `at`, then by id), after the row `after`: the rows
/// and whether more follow.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn newest_first<E, C>(
    c: &C,
    q: sea_orm::Select<E>,
    table: &str,
    at: (E::Column, &str),
    id: E::Column,
    org: OrgId,
    after: Option<Uuid>,
    first: usize,
) -> Result<(Vec<E::Model>, bool), crate::DbError>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::{QueryFilter, QueryOrder, QuerySelect};
    let q = match after {
        Some(a) => q.filter(older_than(c.get_database_backend(), table, at.1, org, a)),
        None => q,
    };
    let mut rows = q
        .order_by_desc(at.0)
        .order_by_desc(id)
        .limit(first as u64 + 1)
        .all(c)
        .await?;
    let has_next = rows.len() > first;
    rows.truncate(first);
    Ok((rows, has_next))
}

/// Sets `column` of each row of `table` (in `org`) to its own value, 500 rows per statement:
/// `UPDATE table SET column = CASE id WHEN ... END WHERE org_id = ... AND id IN (...)`.
pub(crate) async fn set_each<C: sea_orm::ConnectionTrait>(
    c: &C,
    org: OrgId,
    table: &str,
    column: &str,
    rows: &[(Uuid, sea_orm::Value)],
) -> Result<(), crate::error::DbError> {
    let backend = c.get_database_backend();
    for round in rows.chunks(500) {
        let mut values: Vec<sea_orm::Value> = Vec::new();
        let mut bind = |v: sea_orm::Value| {
            values.push(v);
            placeholder(backend, values.len())
        };
        let cases: String = round
            .iter()
            .map(|(id, v)| {
                let id = bind((*id).into());
                let v = bind(v.clone());
                format!(" WHEN {id} THEN {v}")
            })
            .collect();
        let org_ph = bind(org.0.into());
        let list = round
            .iter()
            .map(|(id, _)| bind((*id).into()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE {table} SET {column} = CASE id{cases} END WHERE org_id = {org_ph} AND id IN ({list})"
        );
        c.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend, sql, values,
        ))
        .await?;
    }
    Ok(())
}
