//! What keyset pages share: custom SQL's placeholders, and "after this row" for lists ordered
//! newest first.

use rungs_domain::OrgId;
use sea_orm::DbBackend;
use sea_orm::Value;
use sea_orm::sea_query::{Expr, SimpleExpr};
use uuid::Uuid;

/// `$n` on PostgreSQL, `?` elsewhere: custom SQL's placeholders.
pub(crate) fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// The organisation's column of a listing (`people.org_id`, `s.org_id`, `audit_log.org_id`)
/// as its condition should name it, when `narrowed`: the listing is also kept to the ids an
/// index of few rows gives (a search's terms, a person's audit mentions). SQLite keeps no
/// statistics, so it takes the equality on the organisation's index for the narrower path and
/// checks every row of the organisation against those ids (30 to 40 ms at 100,000 people,
/// however few match); `+column`, SQLite's documented way to keep a term off an index, makes
/// it look the ids up instead (0.1 ms for a hundred). PostgreSQL and MariaDB choose by their
/// statistics.
pub(crate) fn org_column(backend: DbBackend, column: &str, narrowed: bool) -> String {
    if narrowed && backend == DbBackend::Sqlite {
        format!("+{column}")
    } else {
        column.to_owned()
    }
}

/// Whether a listing narrowed by an index of few rows (as for [`org_column`]) is planned apart
/// from its order, inside `(SELECT ... OFFSET 0)`, which PostgreSQL does not flatten: its
/// statistics cannot see that a search's matches cluster in the listing's order (everyone
/// called Sam sorts late by email), so for a page it would walk the order's index and probe the
/// matches row by row until the page fills (358 ms to find 20 of 8,333 Sams at 100,000 people,
/// against 20 ms for all of them and a sort). Apart, the matches are found first (by the index,
/// or by a scan when they are many) and only they are sorted. SQLite looks the matches up by id
/// already ([`org_column`]); MariaDB's plans were measured fine.
pub(crate) fn planned_apart(backend: DbBackend, narrowed: bool) -> bool {
    narrowed && backend == DbBackend::Postgres
}

/// `select` as a derived table named `alias` that PostgreSQL plans apart from the statement
/// around it (`OFFSET 0` keeps it from being flattened): the form [`planned_apart`] asks for.
pub(crate) fn apart(select: &str, alias: &str) -> String {
    format!("({select} OFFSET 0) {alias}")
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
    for round in rows.chunks(500) {
        let mut b = Bound::new(c.get_database_backend());
        let cases: String = round
            .iter()
            .map(|(id, v)| {
                let id = b.bind(*id);
                let v = b.bind(v.clone());
                format!(" WHEN {id} THEN {v}")
            })
            .collect();
        let org_ph = b.bind(org.0);
        let ids: Vec<Uuid> = round.iter().map(|(id, _)| *id).collect();
        let list = b.list(&ids);
        let sql = format!(
            "UPDATE {table} SET {column} = CASE id{cases} END WHERE org_id = {org_ph} AND id IN ({list})"
        );
        c.execute_raw(b.statement(sql)).await?;
    }
    Ok(())
}

/// Custom SQL with its values bound in the order they appear (each value's placeholder is
/// taken as the SQL is written, so a statement's numbering never drifts from its values).
pub(crate) struct Bound {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Bound {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    /// A builder whose first values are `values` (a statement built elsewhere, which this one
    /// wraps): its placeholders follow theirs.
    pub(crate) fn following(backend: DbBackend, values: Vec<Value>) -> Self {
        Self { backend, values }
    }

    /// The backend the statement is written for.
    pub(crate) fn backend(&self) -> DbBackend {
        self.backend
    }

    /// Binds `v`; returns its placeholder.
    pub(crate) fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        placeholder(self.backend, self.values.len())
    }

    /// Binds each id; returns their placeholders, comma-separated (for `IN (...)`).
    pub(crate) fn list(&mut self, ids: &[Uuid]) -> String {
        ids.iter()
            .map(|id| self.bind(*id))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The values bound so far, for a custom expression with this builder's placeholders.
    pub(crate) fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// `sql` with the values bound so far.
    pub(crate) fn statement(self, sql: String) -> sea_orm::Statement {
        sea_orm::Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}
