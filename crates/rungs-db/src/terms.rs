//! People search's index (`search_terms`, see its migration): each person's terms, written in
//! the transaction that writes their name or email, and the condition a search adds to a
//! listing. What a search matches is `rungs_domain::search`'s; here it becomes a range of the
//! index `(org_id, term, person_id)`.

use crate::error::DbError;
use crate::paging::Bound;
use rungs_domain::search::{Sought, after_prefix, search_terms, sought};
use rungs_domain::{OrgId, PersonId};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use uuid::Uuid;

/// Writes the terms of `people` (id, email, name) in `org`. With `replace`, they may have terms
/// stored already: those whose stored terms differ (someone renamed, or whose email changed)
/// have them replaced, the others are left alone (a new manager, say, changes no term).
pub(crate) async fn write<'a, C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    people: impl IntoIterator<Item = (PersonId, &'a str, &'a str)>,
    replace: bool,
) -> Result<(), DbError> {
    let backend = c.get_database_backend();
    let mut wanted: Vec<(Uuid, Vec<String>)> = people
        .into_iter()
        .map(|(id, email, name)| (id.0, search_terms(email, name)))
        .collect();
    if replace {
        let ids: Vec<Uuid> = wanted.iter().map(|(id, _)| *id).collect();
        let stored = stored(c, org, &ids).await?;
        wanted.retain(|(id, terms)| stored.get(id) != Some(terms));
        let changed: Vec<Uuid> = wanted.iter().map(|(id, _)| *id).collect();
        for round in changed.chunks(crate::rows::CHUNK) {
            let mut b = Bound::new(backend);
            let sql = format!(
                "DELETE FROM search_terms WHERE org_id = {} AND person_id IN ({})",
                b.bind(org.0),
                b.list(round)
            );
            c.execute_raw(b.statement(sql)).await?;
        }
    }
    // (Rows gathered first: an iterator of closures here made callers' futures not `Send`.)
    let mut rows: Vec<[sea_orm::Value; 3]> = Vec::new();
    for (id, terms) in wanted {
        rows.extend(
            terms
                .into_iter()
                .map(|term| [org.0.into(), term.into(), id.into()]),
        );
    }
    crate::rows::insert_values(c, "search_terms", ["org_id", "term", "person_id"], rows).await?;
    Ok(())
}

/// The stored terms of `ids` in `org`, each person's sorted as [`search_terms`] gives them.
/// Read after the people's own rows are updated (`Tx::save_people` writes them first), so a
/// concurrent writer of the same person has committed by now, and on MariaDB, whose repeatable
/// reads take their snapshot at the transaction's first read, this read sees its terms.
async fn stored<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<String>>, DbError> {
    let mut stored: HashMap<Uuid, Vec<String>> = HashMap::new();
    for round in ids.chunks(crate::rows::CHUNK) {
        let mut b = Bound::new(c.get_database_backend());
        let sql = format!(
            "SELECT person_id, term FROM search_terms WHERE org_id = {} AND person_id IN ({})",
            b.bind(org.0),
            b.list(round)
        );
        for row in c.query_all_raw(b.statement(sql)).await? {
            let id: Uuid = row.try_get_by_index(0)?;
            let term: String = row.try_get_by_index(1)?;
            stored.entry(id).or_default().push(term);
        }
    }
    // Sorted as Rust orders strings (the database's collation may order them otherwise).
    stored.values_mut().for_each(|terms| terms.sort());
    Ok(stored)
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
