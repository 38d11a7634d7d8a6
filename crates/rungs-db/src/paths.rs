//! Reporting lines as paths, so that "in m's subtree" is a range of one index.
//!
//! Each standing row keeps its person's `path`: the ids of the reporting line from the top,
//! each as 32 lowercase hex digits, the person last. The people below `m` are then exactly the
//! rows whose path lies strictly between `m.path` and `m.path || 'g'` (hex digits sort before
//! `g` in every collation), which a team page walks in order (`ix_standings_org_path`).
//!
//! [`repath`] runs in the transaction of every write that adds people or may change a
//! manager: it recomputes the paths of those people and, when a manager did change, of
//! everyone below them, top down from the paths of their managers, and writes the ones that
//! changed. Reporting lines deeper than
//! [`MAX_DEPTH`] are refused (64 ids fill an index key on every backend).

use crate::error::DbError;
use crate::paging::Bound;
use rungs_domain::{OrgId, PersonId};
use sea_orm::{ConnectionTrait, Value};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// The deepest reporting line: 64 people from the top down to the person.
pub const MAX_DEPTH: usize = 64;

/// Hex digits per id in a path.
const WIDTH: usize = 32;

/// Seeds walked down per statement, and paths written per statement.
const ROUND: usize = 500;

/// The bounds of the paths strictly below the person whose path is `path`:
/// `path > lower AND path < upper`.
pub(crate) fn below(path: &str) -> (String, String) {
    (path.to_owned(), format!("{path}g"))
}

fn code(id: Uuid) -> String {
    id.simple().to_string()
}

/// A reporting line that cannot be stored as a path.
fn refused(what: &str) -> DbError {
    DbError::Invalid(what.to_owned())
}

/// One person of the walk: their manager, and their stored path (empty when not yet set).
struct Row {
    manager: Option<Uuid>,
    path: String,
}

/// The paths a write gives: those of people without a standing yet (to be inserted with
/// it), and the changed paths of stored rows.
#[derive(Debug, Default)]
pub(crate) struct Planned {
    pub(crate) new: HashMap<Uuid, String>,
    pub(crate) changed: Vec<(Uuid, String)>,
}

/// Recomputes, on `c` (the transaction of the write), the paths of `people` (id, manager now;
/// added, or possibly given a new manager) and, for those whose manager did change (the
/// stored path names the one before), of everyone below them; writes the ones that changed.
/// A few statements per 500 people affected; people added need no walk (whoever is below them
/// was added with them).
pub(crate) async fn repath<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    people: impl IntoIterator<Item = (PersonId, Option<PersonId>)>,
) -> Result<(), DbError> {
    let planned = plan(c, org, people).await?;
    let mut all = planned.changed;
    all.extend(planned.new);
    all.sort();
    write(c, org, &all).await
}

/// [`repath`] without writing: a write that inserts standings passes [`Planned::new`] to
/// `standings::refresh_placed` (each row written once), then writes the rest with
/// [`write_changed`].
pub(crate) async fn plan<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    people: impl IntoIterator<Item = (PersonId, Option<PersonId>)>,
) -> Result<Planned, DbError> {
    let given: HashMap<Uuid, Option<Uuid>> = people
        .into_iter()
        .map(|(p, m)| (p.0, m.map(|m| m.0)))
        .collect();
    if given.is_empty() {
        return Ok(Planned::default());
    }
    let ids: Vec<Uuid> = given
        .keys()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let stored = stored_paths(c, org, &ids).await?;
    let mut affected: HashMap<Uuid, Row> = HashMap::with_capacity(given.len());
    let mut moved = Vec::new();
    for (id, manager) in &given {
        let path = stored.get(id).cloned().unwrap_or_default();
        if !path.is_empty() && manager_in(&path) != *manager {
            moved.push(*id);
        }
        affected.insert(
            *id,
            Row {
                manager: *manager,
                path,
            },
        );
    }
    moved.sort();
    for (id, row) in walk_down(c, org, &moved).await? {
        affected.entry(id).or_insert(row);
    }
    let mut planned = Planned::default();
    for (id, path) in recompute(c, org, &affected).await? {
        if stored.contains_key(&id) || !given.contains_key(&id) {
            planned.changed.push((id, path));
        } else {
            planned.new.insert(id, path);
        }
    }
    Ok(planned)
}

/// Writes the changed paths of stored rows that [`plan`] found.
pub(crate) async fn write_changed<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    planned: &Planned,
) -> Result<(), DbError> {
    write(c, org, &planned.changed).await
}

/// The manager a stored path names (the id before the person's own), if any.
fn manager_in(path: &str) -> Option<Uuid> {
    let n = path.len();
    (n >= 2 * WIDTH)
        .then(|| Uuid::try_parse(&path[n - 2 * WIDTH..n - WIDTH]).ok())
        .flatten()
}

/// Everyone below `seeds` (and the seeds), with their manager and stored path; a seed already
/// reached from another needs no walk of its own.
async fn walk_down<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    seeds: &[Uuid],
) -> Result<HashMap<Uuid, Row>, DbError> {
    let backend = c.get_database_backend();
    let mut found: HashMap<Uuid, Row> = HashMap::new();
    let mut pending: Vec<Uuid> = seeds.to_vec();
    while !pending.is_empty() {
        let round: Vec<Uuid> = pending
            .iter()
            .copied()
            .filter(|s| !found.contains_key(s))
            .take(ROUND)
            .collect();
        if round.is_empty() {
            break;
        }
        let done: BTreeSet<Uuid> = round.iter().copied().collect();
        pending.retain(|s| !done.contains(s));
        let mut b = Bound::new(backend);
        let org_ph = b.bind(org.0);
        let list = b.list(&round);
        let org_again = b.bind(org.0);
        // CROSS JOIN keeps SQLite walking from the queue (see `Scope::condition`); UNION
        // drops repeats, so the walk ends even if the lines were ever to loop.
        let sql = format!(
            "WITH RECURSIVE d(id) AS (\
             SELECT r.id FROM people r WHERE r.org_id = {} AND r.id IN ({list}) \
             UNION SELECT p.id FROM d CROSS JOIN people p \
             WHERE p.manager_id = d.id AND p.org_id = {org_again}) \
             SELECT p.id AS id, p.manager_id AS manager_id, s.path AS path \
             FROM d CROSS JOIN people p LEFT JOIN standings s ON s.id = p.id \
             WHERE p.id = d.id",
            org_ph
        );
        for r in c.query_all_raw(b.statement(sql)).await? {
            let id: Uuid = r.try_get("", "id")?;
            let manager: Option<Uuid> = r.try_get("", "manager_id")?;
            let path: Option<String> = r.try_get("", "path")?;
            found.insert(
                id,
                Row {
                    manager,
                    path: path.unwrap_or_default(),
                },
            );
        }
    }
    Ok(found)
}

/// The new paths of `affected` that differ from their stored ones, by id.
async fn recompute<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    affected: &HashMap<Uuid, Row>,
) -> Result<Vec<(Uuid, String)>, DbError> {
    // The paths of the managers above them, which stay as they are.
    let above: BTreeSet<Uuid> = affected
        .values()
        .filter_map(|r| r.manager)
        .filter(|m| !affected.contains_key(m))
        .collect();
    let fixed = stored_paths(c, org, &above.into_iter().collect::<Vec<_>>()).await?;
    let paths = compute(affected, &fixed)?;
    Ok(paths
        .into_iter()
        .filter(|(id, p)| affected.get(id).is_some_and(|r| &r.path != p))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect())
}

/// Recomputes every path of the organisation (a migration filling the column): a walk down
/// from the people at the top.
pub(crate) async fn repath_all<C: ConnectionTrait>(c: &C, org: OrgId) -> Result<(), DbError> {
    let mut b = Bound::new(c.get_database_backend());
    let sql = format!(
        "SELECT p.id AS id FROM people p WHERE p.org_id = {} AND p.manager_id IS NULL",
        b.bind(org.0)
    );
    let tops: Vec<Uuid> = c
        .query_all_raw(b.statement(sql))
        .await?
        .iter()
        .map(|r| Ok(r.try_get("", "id")?))
        .collect::<Result<_, DbError>>()?;
    let affected = walk_down(c, org, &tops).await?;
    let changed = recompute(c, org, &affected).await?;
    write(c, org, &changed).await
}

/// The stored paths of `ids` (those that have a row).
async fn stored_paths<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, String>, DbError> {
    let backend = c.get_database_backend();
    let mut out = HashMap::new();
    for round in ids.chunks(ROUND) {
        let mut b = Bound::new(backend);
        let org_ph = b.bind(org.0);
        let list = b.list(round);
        let sql =
            format!("SELECT id, path FROM standings WHERE org_id = {org_ph} AND id IN ({list})");
        for r in c.query_all_raw(b.statement(sql)).await? {
            out.insert(r.try_get("", "id")?, r.try_get("", "path")?);
        }
    }
    Ok(out)
}

/// Each affected person's path: their manager's (computed here, or `fixed` above the walk)
/// followed by their own id. A manager outside both (none, or not stored) makes a top.
fn compute(
    affected: &HashMap<Uuid, Row>,
    fixed: &HashMap<Uuid, String>,
) -> Result<HashMap<Uuid, String>, DbError> {
    let mut done: HashMap<Uuid, String> = HashMap::with_capacity(affected.len());
    for start in affected.keys() {
        // Walk up until a known path, then come back down.
        let mut line = vec![*start];
        let base = loop {
            let here = *line.last().expect("the line holds its start");
            if let Some(p) = done.get(&here) {
                line.pop();
                break p.clone();
            }
            match affected.get(&here).and_then(|r| r.manager) {
                Some(m) if affected.contains_key(&m) => {
                    if line.len() > affected.len() {
                        return Err(refused("these reporting lines form a cycle"));
                    }
                    line.push(m);
                }
                Some(m) => break fixed.get(&m).cloned().unwrap_or_default(),
                None => break String::new(),
            }
        };
        let mut path = base;
        for id in line.into_iter().rev() {
            path.push_str(&code(id));
            if path.len() > MAX_DEPTH * WIDTH {
                return Err(refused(&format!(
                    "reporting lines may be at most {MAX_DEPTH} people deep"
                )));
            }
            done.insert(id, path.clone());
        }
    }
    Ok(done)
}

/// Writes `paths` (id, path).
async fn write<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    paths: &[(Uuid, String)],
) -> Result<(), DbError> {
    let rows: Vec<(Uuid, Value)> = paths
        .iter()
        .map(|(id, p)| (*id, p.clone().into()))
        .collect();
    crate::paging::set_each(c, org, "standings", "path", &rows).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(manager: Option<Uuid>) -> Row {
        Row {
            manager,
            path: String::new(),
        }
    }

    #[test]
    fn paths_run_from_the_top_and_nest() {
        let (a, b, c, top) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let affected = HashMap::from([(a, row(Some(top))), (b, row(Some(a))), (c, row(Some(b)))]);
        let fixed = HashMap::from([(top, code(top))]);
        let paths = compute(&affected, &fixed).unwrap();
        assert_eq!(
            paths[&c],
            format!("{}{}{}{}", code(top), code(a), code(b), code(c))
        );
        let (lo, hi) = below(&paths[&a]);
        for (id, p) in &paths {
            let inside = p.as_str() > lo.as_str() && p.as_str() < hi.as_str();
            assert_eq!(inside, *id == b || *id == c, "{id}");
        }
        assert!(
            fixed[&top].as_str() <= lo.as_str(),
            "the manager is not below itself"
        );
    }

    #[test]
    fn a_line_deeper_than_the_limit_or_a_loop_is_refused() {
        let ids: Vec<Uuid> = (0..=MAX_DEPTH).map(|_| Uuid::now_v7()).collect();
        let mut affected: HashMap<Uuid, Row> = HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            affected.insert(*id, row(i.checked_sub(1).map(|j| ids[j])));
        }
        let err = compute(&affected, &HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("64 people deep"), "{err}");
        affected.remove(&ids[MAX_DEPTH]);
        assert_eq!(
            compute(&affected, &HashMap::new()).unwrap().len(),
            MAX_DEPTH
        );
        let (x, y) = (Uuid::now_v7(), Uuid::now_v7());
        let looped = HashMap::from([(x, row(Some(y))), (y, row(Some(x)))]);
        assert!(compute(&looped, &HashMap::new()).is_err());
    }
}
