//! People read page by page in SQL, never the whole organisation: one person, whether one person
//! manages another (walking up the reporting line from the person), a filtered page of the
//! people a caller may see (keyset-paged by email), and the current positions of a page.

use crate::core::{Db, Tx};
use crate::entities::*;
use crate::error::DbError;
use crate::paging::placeholder;
use crate::records::Scope;
use crate::records::append_assignments;
use crate::rows::CHUNK;
use crate::rows::{managers_first, person_from_row};

use chrono::{NaiveDate, Utc};
use rungs_domain::assignment::{LevelAssignment, current_as_of};
use rungs_domain::person::{Email, Person};
use rungs_domain::{OrgId, PersonId};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Statement,
};
use std::collections::{HashMap, HashSet};

/// Whom a listing may include; the policy decides which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Everyone in the organisation.
    Everyone,
    /// The person and everyone below them in the reporting lines.
    LinesOf(PersonId),
}

/// Which people a page holds (all conditions must hold).
#[derive(Debug, Clone, Default)]
pub struct PeopleQuery {
    /// Part of the name or email, any case.
    pub search: Option<String>,
    /// The track and level keys of the current position (as of `today`).
    pub track: Option<String>,
    pub level: Option<String>,
    /// Direct reports of this person.
    pub manager: Option<PersonId>,
    /// Only people without a position in force (as the kept standings say: the caller
    /// refreshes the due ones first).
    pub unplaced: bool,
    pub include_inactive: bool,
    pub today: Option<NaiveDate>,
    /// The caller does not need the total: skip the `COUNT` (`total` is then 0).
    pub skip_total: bool,
    /// Read each person's position in force on `today` with the page, in its statement.
    pub with_positions: bool,
}

/// One page, ordered by email.
#[derive(Debug, Clone)]
pub struct PeoplePage {
    /// Each with their position in force on `today` when the query asked for positions
    /// (`None` otherwise, or for someone without one).
    pub people: Vec<(Person, Option<LevelAssignment>)>,
    pub has_next: bool,
    /// How many match, over all pages (0 when the query skipped it).
    pub total: usize,
}

impl Db {
    /// The reporting line above `person`, nearest first: their manager, that manager's, and
    /// so on. One statement that walks up from the person, as deep as their line goes.
    pub async fn line_above(&self, org: OrgId, person: PersonId) -> Result<Vec<PersonId>, DbError> {
        let b = self.conn.get_database_backend();
        let ph = |n| placeholder(b, n);
        // The depth bound guards against a cycle that slipped past the domain's checks.
        let sql = format!(
            "WITH RECURSIVE up(id, manager_id, depth) AS (\
             SELECT p.id, p.manager_id, 0 FROM people p WHERE p.org_id = {} AND p.id = {} \
             UNION ALL SELECT m.id, m.manager_id, up.depth + 1 FROM up CROSS JOIN people m \
             WHERE m.id = up.manager_id AND m.org_id = {} AND up.depth < 10000) \
             SELECT up.id AS id FROM up WHERE up.depth > 0 ORDER BY up.depth",
            ph(1),
            ph(2),
            ph(3)
        );
        let rows = self
            .conn
            .query_all_raw(Statement::from_sql_and_values(
                b,
                sql,
                [org.0.into(), person.0.into(), org.0.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| Ok(PersonId(r.try_get::<uuid::Uuid>("", "id")?)))
            .collect()
    }

    /// Whether `manager` is above `person` in the reporting lines: walks up from the person,
    /// never down the manager's subtree.
    pub async fn manages(
        &self,
        org: OrgId,
        manager: PersonId,
        person: PersonId,
    ) -> Result<bool, DbError> {
        Ok(self.line_above(org, person).await?.contains(&manager))
    }

    /// Which of `people` have `manager` above them in the reporting lines: one statement that
    /// walks up from each of them (stopping at `manager`), never down the manager's subtree.
    pub async fn managed_among(
        &self,
        org: OrgId,
        manager: PersonId,
        people: &[PersonId],
    ) -> Result<HashSet<PersonId>, DbError> {
        let mut people: Vec<uuid::Uuid> = people.iter().map(|p| p.0).collect();
        people.sort_unstable();
        people.dedup();
        if people.is_empty() {
            return Ok(HashSet::new());
        }
        let b = self.conn.get_database_backend();
        let ph = |n| placeholder(b, n);
        let n = people.len();
        let list: Vec<String> = (0..n).map(|i| ph(i + 2)).collect();
        // Placeholders in the order they appear (`?` is positional). The depth bound guards
        // against a cycle that slipped past the domain's checks.
        let sql = format!(
            "WITH RECURSIVE up(start, id, depth) AS (\
             SELECT p.id, p.manager_id, 1 FROM people p WHERE p.org_id = {} \
             AND p.manager_id IS NOT NULL AND p.id IN ({}) \
             UNION ALL SELECT up.start, m.manager_id, up.depth + 1 FROM up CROSS JOIN people m \
             WHERE m.id = up.id AND m.org_id = {} AND m.manager_id IS NOT NULL \
             AND up.id <> {} AND up.depth < 10000) \
             SELECT DISTINCT up.start AS id FROM up WHERE up.id = {}",
            ph(1),
            list.join(", "),
            ph(n + 2),
            ph(n + 3),
            ph(n + 4),
        );
        let mut values: Vec<sea_orm::Value> = vec![org.0.into()];
        values.extend(people.into_iter().map(Into::into));
        values.extend([org.0.into(), manager.0.into(), manager.0.into()]);
        let rows = self
            .conn
            .query_all_raw(Statement::from_sql_and_values(b, sql, values))
            .await?;
        rows.iter()
            .map(|r| Ok(PersonId(r.try_get::<uuid::Uuid>("", "id")?)))
            .collect()
    }

    /// The conditions of a people query, without the page's cursor.
    fn people_conditions(&self, org: OrgId, reach: Reach, q: &PeopleQuery) -> Vec<SimpleExpr> {
        let b = self.conn.get_database_backend();
        let ph = |n| placeholder(b, n);
        let column = crate::paging::org_column(
            b,
            "people.org_id",
            crate::terms::narrows(q.search.as_deref()),
        );
        let mut c: Vec<SimpleExpr> = vec![Expr::cust_with_values(
            format!("{column} = {}", ph(1)),
            [org.0],
        )];
        if let Reach::LinesOf(me) = reach {
            let below = Scope::ReportsOf(me)
                .condition(b, org, "people", "id")
                .expect("a subtree has a condition");
            c.push(person::Column::Id.eq(me.0).or(below));
        }
        if !q.include_inactive {
            c.push(person::Column::Active.eq(true));
        }
        if let Some(m) = q.manager {
            c.push(person::Column::ManagerId.eq(m.0));
        }
        if let Some(s) = q.search.as_deref() {
            let mut bound = crate::paging::Bound::new(b);
            if let Some(sql) = crate::terms::matching(&mut bound, org, "people.id", s) {
                c.push(Expr::cust_with_values(sql, bound.into_values()));
            }
        }
        if q.unplaced {
            // `rank_key` is -1 without a level (`ix_standings_org_rank` leads with it): the
            // few found first, whatever the organisation's size.
            c.push(Expr::cust_with_values(
                format!(
                    "people.id IN (SELECT s.id FROM standings s WHERE s.org_id = {} AND s.rank_key = -1)",
                    ph(1)
                ),
                [org.0],
            ));
        }
        if q.track.is_some() || q.level.is_some() {
            let today = q.today.unwrap_or_else(|| chrono::Utc::now().date_naive());
            // The assignment in force today: none later as of today (ties: recorded later,
            // then the larger id, as `current_as_of` decides).
            let mut sql = format!(
                "people.id IN (SELECT a.person_id FROM level_assignments a \
                 WHERE a.org_id = {} AND a.effective <= {} AND NOT EXISTS (\
                 SELECT 1 FROM level_assignments b WHERE b.org_id = a.org_id \
                 AND b.person_id = a.person_id AND b.effective <= {} AND (b.effective > a.effective \
                 OR (b.effective = a.effective AND (b.recorded_at > a.recorded_at \
                 OR (b.recorded_at = a.recorded_at AND b.id > a.id)))))",
                ph(1),
                ph(2),
                ph(3)
            );
            let mut values: Vec<sea_orm::Value> = vec![org.0.into(), today.into(), today.into()];
            let mut n = 4;
            for (table, column, key) in [
                ("tracks", "track_id", &q.track),
                ("levels", "level_id", &q.level),
            ] {
                if let Some(k) = key {
                    sql.push_str(&format!(
                        " AND a.{column} IN (SELECT x.id FROM {table} x WHERE x.org_id = {} AND x.key = {})",
                        ph(n),
                        ph(n + 1)
                    ));
                    values.push(org.0.into());
                    values.push(k.clone().into());
                    n += 2;
                }
            }
            sql.push(')');
            c.push(Expr::cust_with_values(sql, values));
        }
        c
    }

    /// A page of the people `reach` allows that match `q`, ordered by email, after the person
    /// `after` (the previous page's last), with the total over all pages, and each one's
    /// position when `q.with_positions` (joined to the page in its statement). Two statements
    /// (the total and the page), and one for the keys of a version not read before, whatever
    /// the size of the organisation.
    pub async fn people_page(
        &self,
        org: OrgId,
        reach: Reach,
        q: &PeopleQuery,
        after: Option<PersonId>,
        first: usize,
    ) -> Result<PeoplePage, DbError> {
        let total = if q.skip_total {
            0
        } else {
            self.matching(org, reach, q).count(&self.conn).await?
        };
        let (page, values) = self.page_statement(org, reach, q, after, first);
        let backend = self.conn.get_database_backend();
        let mut b = crate::paging::Bound::following(backend, values);
        let sql = if q.with_positions {
            // The page as a derived table, with each one's position joined to it.
            let today = q.today.unwrap_or_else(|| Utc::now().date_naive());
            let (columns, join) = crate::records::position_join(&b.bind(today));
            format!("SELECT p.*{columns} FROM ({page}) p {join} ORDER BY p.email")
        } else {
            page
        };
        let rows = self.conn.query_all_raw(b.statement(sql)).await?;
        let mut people = if q.with_positions {
            self.placed(org, &rows).await?
        } else {
            rows.iter()
                .map(|r| {
                    let p = <person::Model as sea_orm::FromQueryResult>::from_query_result(r, "")?;
                    Ok((person_from_row(p)?, None))
                })
                .collect::<Result<_, DbError>>()?
        };
        let has_next = people.len() > first;
        people.truncate(first);
        Ok(PeoplePage {
            people,
            has_next,
            total: usize::try_from(total).unwrap_or(usize::MAX),
        })
    }

    /// The people `reach` allows that match `q`.
    fn matching(
        &self,
        org: OrgId,
        reach: Reach,
        q: &PeopleQuery,
    ) -> sea_orm::Select<person::Entity> {
        self.people_conditions(org, reach, q)
            .into_iter()
            .fold(person::Entity::find(), |s, c| s.filter(c))
    }

    /// The statement of a page of [`Db::people_page`] (without positions), with its values:
    /// the people matching `q` after `after` by email, `first` of them and one more (to tell
    /// whether there are more). The limit is written into the SQL, not bound: PostgreSQL plans
    /// a bound limit for a tenth of the table, so it would plan this statement afresh each
    /// time it runs (measured: almost half of a page request's time).
    pub(crate) fn page_statement(
        &self,
        org: OrgId,
        reach: Reach,
        q: &PeopleQuery,
        after: Option<PersonId>,
        first: usize,
    ) -> (String, Vec<sea_orm::Value>) {
        use sea_orm::QueryTrait;
        let mut page = self.matching(org, reach, q);
        if let Some(a) = after {
            let b = self.conn.get_database_backend();
            page = page.filter(Expr::cust_with_values(
                format!(
                    "people.email > (SELECT c.email FROM people c WHERE c.org_id = {} AND c.id = {})",
                    placeholder(b, 1),
                    placeholder(b, 2)
                ),
                [org.0, a.0],
            ));
        }
        let backend = self.conn.get_database_backend();
        let limit = first + 1;
        let (sql, values) =
            if crate::paging::planned_apart(backend, crate::terms::narrows(q.search.as_deref())) {
                let built = page.build(backend);
                (
                    format!(
                        "SELECT * FROM {} ORDER BY people.email LIMIT {limit}",
                        crate::paging::apart(&built.sql, "people")
                    ),
                    built.values,
                )
            } else {
                let built = page.order_by_asc(person::Column::Email).build(backend);
                (format!("{} LIMIT {limit}", built.sql), built.values)
            };
        (sql, values.map(|v| v.0).unwrap_or_default())
    }

    /// The position in force on `today` of each of `people` who has one (two statements
    /// besides the version keys, whatever their number).
    pub async fn current_positions(
        &self,
        org: OrgId,
        people: &[PersonId],
        today: NaiveDate,
    ) -> Result<HashMap<PersonId, LevelAssignment>, DbError> {
        let mut by_person: HashMap<PersonId, Vec<LevelAssignment>> = HashMap::new();
        for a in self.assignments_of(org, people).await? {
            by_person.entry(a.person_id).or_default().push(a);
        }
        Ok(by_person
            .into_iter()
            .filter_map(|(p, h)| current_as_of(&h, today).cloned().map(|a| (p, a)))
            .collect())
    }

    /// A few people by id, each with their position in force on `today`, in one statement
    /// (besides the keys of a version not read before); unknown ids are left out.
    pub async fn people_with_positions(
        &self,
        org: OrgId,
        ids: &[PersonId],
        today: NaiveDate,
    ) -> Result<Vec<(Person, Option<LevelAssignment>)>, DbError> {
        use sea_orm::ConnectionTrait;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut b = crate::paging::Bound::new(self.conn.get_database_backend());
        let (columns, join) = crate::records::position_join(&b.bind(today));
        let org_ph = b.bind(org.0);
        let list = b.list(&ids.iter().map(|p| p.0).collect::<Vec<_>>());
        let sql = format!(
            "SELECT p.*{columns} FROM people p {join} WHERE p.org_id = {org_ph} AND p.id IN ({list})"
        );
        let rows = self.conn.query_all_raw(b.statement(sql)).await?;
        self.placed(org, &rows).await
    }

    /// People read with [`crate::records::position_join`]: each with their position, in the
    /// rows' order (the keys of a version not read before cost a statement).
    async fn placed(
        &self,
        org: OrgId,
        rows: &[sea_orm::QueryResult],
    ) -> Result<Vec<(Person, Option<LevelAssignment>)>, DbError> {
        use sea_orm::FromQueryResult;
        let mut people = Vec::with_capacity(rows.len());
        let mut positions = Vec::new();
        for row in rows {
            people.push(person_from_row(person::Model::from_query_result(row, "")?)?);
            positions.extend(crate::records::position_in(row)?);
        }
        let mut positions: HashMap<PersonId, LevelAssignment> =
            crate::records::assignments_from(&self.conn, &self.keys, org, positions)
                .await?
                .into_iter()
                .map(|a| (a.person_id, a))
                .collect();
        Ok(people
            .into_iter()
            .map(|p| {
                let at = positions.remove(&p.id);
                (p, at)
            })
            .collect())
    }

    /// The emails of a few people by id (for managers named on a page).
    pub async fn emails_of(
        &self,
        org: OrgId,
        ids: &[PersonId],
    ) -> Result<HashMap<PersonId, Email>, DbError> {
        Ok(self
            .people_by_ids(org, ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p.email))
            .collect())
    }
}

impl Db {
    pub async fn list_people(&self, org: OrgId) -> Result<Vec<Person>, DbError> {
        person::Entity::find()
            .filter(person::Column::OrgId.eq(org.0))
            .order_by_asc(person::Column::Email)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(person_from_row)
            .collect()
    }

    /// Writes the search terms of people stored without them (before their migration): one
    /// transaction per organisation, as `Db::fill_missing_standings`.
    pub(crate) async fn fill_missing_terms(&self) -> Result<usize, DbError> {
        let rows = self
            .conn
            .query_all_raw(sea_orm::Statement::from_string(
                self.conn.get_database_backend(),
                "SELECT p.org_id AS org_id, p.id AS id, p.email AS email, \
                 p.display_name AS display_name FROM people p \
                 WHERE NOT EXISTS (SELECT 1 FROM search_terms t WHERE t.person_id = p.id)",
            ))
            .await?;
        let mut by_org: HashMap<uuid::Uuid, Vec<(PersonId, String, String)>> = HashMap::new();
        for r in &rows {
            by_org.entry(r.try_get("", "org_id")?).or_default().push((
                PersonId(r.try_get("", "id")?),
                r.try_get("", "email")?,
                r.try_get("", "display_name")?,
            ));
        }
        for (org, people) in by_org {
            self.transact(async |tx| {
                crate::terms::write(
                    tx,
                    OrgId(org),
                    people
                        .iter()
                        .map(|(id, e, n)| (*id, e.as_str(), n.as_str())),
                    false,
                )
                .await
            })
            .await?;
        }
        Ok(rows.len())
    }

    pub async fn person_by_email(
        &self,
        org: OrgId,
        email: &Email,
    ) -> Result<Option<Person>, DbError> {
        person::Entity::find()
            .filter(person::Column::OrgId.eq(org.0))
            .filter(person::Column::Email.eq(email.as_str()))
            .one(&self.conn)
            .await?
            .map(person_from_row)
            .transpose()
    }
}

/// People's writes, composed by use cases in one [`Db::write`].
impl Tx {
    /// Inserts and updates people (their email, name, manager, admin flag and active state)
    /// and appends level assignments: the reporting paths, the kept standings and the search
    /// terms follow.
    /// People are written before their managers are set, so a file may list reports before
    /// managers.
    pub async fn save_people(
        &self,
        inserts: &[Person],
        updates: &[Person],
        assignments: &[LevelAssignment],
    ) -> Result<(), DbError> {
        let (txn, org) = (&self.txn, self.org);
        let now = Utc::now();
        // Managers first, so that every manager is inserted before their reports.
        let inserts = managers_first(
            inserts.to_vec(),
            |p| p.id,
            |p| p.manager_id,
            |p| p.email.to_string(),
        );
        let inserts = inserts.as_slice();
        // A manager inserted earlier in the list (or already stored) is set directly; one that
        // comes later (only in a cycle, which the use cases refuse) is set by an UPDATE once
        // everyone exists.
        let position: HashMap<PersonId, usize> =
            inserts.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let direct = |i: usize, p: &Person| {
            p.manager_id
                .is_none_or(|m| position.get(&m).is_none_or(|&j| j < i))
        };
        for (c, chunk) in inserts.chunks(CHUNK).enumerate() {
            person::Entity::insert_many(chunk.iter().enumerate().map(|(k, p)| {
                person::ActiveModel {
                    id: Set(p.id.0),
                    org_id: Set(org.0),
                    email: Set(p.email.to_string()),
                    display_name: Set(p.display_name.clone()),
                    manager_id: Set(if direct(c * CHUNK + k, p) {
                        p.manager_id.map(|m| m.0)
                    } else {
                        None
                    }),
                    is_admin: Set(p.is_admin),
                    active: Set(p.active),
                    created_at: Set(now),
                }
            }))
            .exec_without_returning(txn)
            .await
            .map_err(|e| DbError::conflict_or_other(e, "a person with one of these emails"))?;
        }
        for p in inserts
            .iter()
            .enumerate()
            .filter(|(i, p)| !direct(*i, p))
            .map(|(_, p)| p)
            .chain(updates)
        {
            person::Entity::update_many()
                .col_expr(person::Column::Email, Expr::value(p.email.to_string()))
                .col_expr(
                    person::Column::ManagerId,
                    Expr::value(p.manager_id.map(|m| m.0)),
                )
                .col_expr(
                    person::Column::DisplayName,
                    Expr::value(p.display_name.clone()),
                )
                .col_expr(person::Column::IsAdmin, Expr::value(p.is_admin))
                .col_expr(person::Column::Active, Expr::value(p.active))
                .filter(person::Column::OrgId.eq(org.0))
                .filter(person::Column::Id.eq(p.id.0))
                .exec(txn)
                .await
                .map_err(|e| DbError::conflict_or_other(e, "a person with this email"))?;
        }
        fn terms(people: &[Person]) -> impl Iterator<Item = (PersonId, &str, &str)> {
            people
                .iter()
                .map(|p| (p.id, p.email.as_str(), p.display_name.as_str()))
        }
        crate::terms::write(txn, org, terms(inserts), false).await?;
        crate::terms::write(txn, org, terms(updates), true).await?;
        append_assignments(txn, org, assignments).await?;
        // New people, and anyone whose manager may have changed, with everyone below them.
        let planned = crate::paths::plan(
            txn,
            org,
            inserts.iter().chain(updates).map(|p| (p.id, p.manager_id)),
        )
        .await?;
        let touched = inserts.iter().chain(updates).map(|p| p.id);
        crate::standings::refresh_placed(
            txn,
            &self.keys,
            org,
            touched.chain(assignments.iter().map(|a| a.person_id)),
            &planned.new,
        )
        .await?;
        crate::paths::write_changed(txn, org, &planned).await?;
        Ok(())
    }
}
