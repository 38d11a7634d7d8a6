//! People search's index (`search_terms`, see its migration): each person's terms, written in
//! the transaction that writes their name or email, and the condition a search adds to a
//! listing. What a search matches is `rungs_domain::search`'s; here it becomes a range of the
//! index `(org_id, term, person_id)`.

use crate::error::DbError;
use crate::paging::Bound;
use rungs_domain::search::{Sought, after_prefix, search_terms, sought};
use rungs_domain::{OrgId, PersonId};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Writes the terms of `people` (id, email, name) in `org`. With `replace`, their stored terms
/// go first (someone renamed, or whose email changed); without, they have none yet.
pub(crate) async fn write<'a, C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    people: impl IntoIterator<Item = (PersonId, &'a str, &'a str)>,
    replace: bool,
) -> Result<(), DbError> {
    let backend = c.get_database_backend();
    let mut ids: Vec<Uuid> = Vec::new();
    let mut rows: Vec<(Uuid, String)> = Vec::new();
    for (id, email, name) in people {
        ids.push(id.0);
        rows.extend(search_terms(email, name).into_iter().map(|t| (id.0, t)));
    }
    if replace {
        for round in ids.chunks(crate::rows::CHUNK) {
            let mut b = Bound::new(backend);
            let sql = format!(
                "DELETE FROM search_terms WHERE org_id = {} AND person_id IN ({})",
                b.bind(org.0),
                b.list(round)
            );
            c.execute_raw(b.statement(sql)).await?;
        }
    }
    crate::rows::insert_values(
        c,
        "search_terms",
        ["org_id", "term", "person_id"],
        rows.into_iter()
            .map(|(id, term)| [org.0.into(), term.into(), id.into()]),
    )
    .await?;
    Ok(())
}

/// The condition that `id` (a person's id column) is someone in `org` whom a search for `q`
/// matches: one range of the terms' index. `None` when `q` is blank (no search).
pub(crate) fn matching(b: &mut Bound, org: OrgId, id: &str, q: &str) -> Option<String> {
    let prefix = match sought(q) {
        Sought::Anyone => return None,
        Sought::NoOne => return Some("1 = 0".into()),
        Sought::Prefix(p) => p,
    };
    let upper = after_prefix(&prefix);
    let mut sql = format!(
        "{id} IN (SELECT t.person_id FROM search_terms t WHERE t.org_id = {} AND t.term >= {}",
        b.bind(org.0),
        b.bind(prefix)
    );
    if let Some(upper) = upper {
        sql.push_str(&format!(" AND t.term < {}", b.bind(upper)));
    }
    sql.push(')');
    Some(sql)
}

/// Does `q` narrow a listing (a search that is not blank)?
pub(crate) fn narrows(q: Option<&str>) -> bool {
    q.is_some_and(|q| sought(q) != Sought::Anyone)
}
