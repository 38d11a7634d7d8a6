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
