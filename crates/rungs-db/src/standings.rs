//! Standings: one row per person with what listings sort and filter by (the position in force,
//! since when it is held, and the readiness score under each minimum rating a rule may set).
//!
//! A row is recomputed, by [`refresh`], inside the transaction of every write that changes it:
//! level assignments (people import, `assign`, an approved promotion, a version move, a
//! restore), manager assessments, and people's names. Time changes it too: a row records the
//! day a later assignment takes over (`valid_until`), and readers refresh the organisation's
//! rows that are due before they read ([`Db::refresh_due_standings`], one indexed statement
//! when none is). "Ready" is decided at read time from the stored scores, `in_level_since` and
//! the rule, so a rule change rewrites nothing.

use crate::entities::*;
use crate::error::DbError;
use crate::growth::{Scope, assessments_from, assignments_where};
use crate::paging::placeholder;
use crate::repo::{Db, load_content};
use chrono::{NaiveDate, Utc};
use rungs_domain::assessment::{AssessorRole, Rating};
use rungs_domain::assignment::{LevelAssignment, current_as_of};
use rungs_domain::growth::{
    PlanInput, ReadinessRule, growth_plan, in_level_cutoff, in_level_since, long_enough_on,
    scores_by_min_rating,
};
use rungs_domain::matrix::Matrix;
use rungs_domain::promotion::Position;
use rungs_domain::{OrgId, PersonId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait, Value,
};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// Where people without a level sort by time in level: after everyone.
const FAR: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date");

/// People recomputed per round: a few statements each, whatever the number.
const ROUND: usize = 1000;

/// Recomputes the standings of `people` (ids of `org`; others are ignored) on `c`, which is
/// the transaction of the write that changed them.
pub(crate) async fn refresh<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    people: impl IntoIterator<Item = PersonId>,
) -> Result<(), DbError> {
    refresh_placed(c, org, people, &HashMap::new()).await
}

/// [`refresh`], inserting the rows of people without one with their reporting path from
/// `paths` (`paths::plan`), so that a new row is written once.
pub(crate) async fn refresh_placed<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    people: impl IntoIterator<Item = PersonId>,
    paths: &HashMap<Uuid, String>,
) -> Result<(), DbError> {
    let today = Utc::now().date_naive();
    let ids = sorted_ids(people);
    if ids.len() > ROUND && c.get_database_backend() == DbBackend::Postgres {
        // A bulk write (an import, a seed, a version move): the statistics may still say these
        // tables are (nearly) empty, and PostgreSQL would then scan them whole for every
        // round's `IN (...)` (a second a round at 100,000 people). ANALYZE is transactional
        // there and sees this transaction's rows; it runs on the tables whose statistics count
        // fewer rows than this write touches, so a seed's later batches do not pay for it
        // again. (MariaDB's would commit the transaction: not there.)
        let sql = format!(
            "SELECT relname::text AS name FROM pg_class WHERE oid IN ('people'::regclass, \
             'level_assignments'::regclass, 'assessments'::regclass, 'standings'::regclass) \
             AND reltuples < {}",
            ids.len()
        );
        let stale: Vec<String> = c
            .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await?
            .iter()
            .map(|r| r.try_get::<String>("", "name"))
            .collect::<Result<_, _>>()?;
        if !stale.is_empty() {
            c.execute_unprepared(&format!("ANALYZE {}", stale.join(", ")))
                .await?;
        }
    }
    lock(c, org, ids.iter().map(|i| PersonId(*i))).await?;
    let rule = crate::growth::rule_on(c, org).await?;
    let mut matrices: HashMap<Uuid, Option<Matrix>> = HashMap::new();
    for round in ids.chunks(ROUND) {
        refresh_round(c, org, round, today, &rule, paths, &mut matrices).await?;
    }
    Ok(())
}

async fn refresh_round<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    ids: &[Uuid],
    today: NaiveDate,
    org_rule: &ReadinessRule,
    paths: &HashMap<Uuid, String>,
    matrices: &mut HashMap<Uuid, Option<Matrix>>,
) -> Result<(), DbError> {
    let people = person::Entity::find()
        .filter(person::Column::OrgId.eq(org.0))
        .filter(person::Column::Id.is_in(ids.to_vec()))
        .all(c)
        .await?;
    let mut history: HashMap<Uuid, Vec<LevelAssignment>> = HashMap::new();
    let q = level_assignment::Entity::find()
        .filter(level_assignment::Column::OrgId.eq(org.0))
        .filter(level_assignment::Column::PersonId.is_in(ids.to_vec()));
    for a in assignments_where(c, org, q).await? {
        history.entry(a.person_id.0).or_default().push(a);
    }
    let current: HashMap<Uuid, &LevelAssignment> = history
        .iter()
        .filter_map(|(p, h)| current_as_of(h, today).map(|a| (*p, a)))
        .collect();
    let versions: BTreeSet<Uuid> = current.values().map(|a| a.version_id.0).collect();
    for v in &versions {
        if !matrices.contains_key(v) {
            let row = matrix_version::Entity::find()
                .filter(matrix_version::Column::OrgId.eq(org.0))
                .filter(matrix_version::Column::Id.eq(*v))
                .one(c)
                .await?;
            let m = match row {
                Some(row) => Some(load_content(c, org, &row).await?),
                None => None,
            };
            matrices.insert(*v, m);
        }
    }
    // Only manager ratings count, and only those against the version of the current level.
    let mut rated: HashMap<Uuid, Vec<_>> = HashMap::new();
    if !versions.is_empty() {
        let rows = assessment::Entity::find()
            .filter(assessment::Column::OrgId.eq(org.0))
            .filter(assessment::Column::PersonId.is_in(ids.to_vec()))
            .filter(assessment::Column::VersionId.is_in(versions))
            .filter(assessment::Column::AssessorRole.eq(AssessorRole::Manager.as_str()))
            .all(c)
            .await?;
        for a in assessments_from(c, org, rows).await? {
            if current
                .get(&a.person_id.0)
                .is_some_and(|cur| cur.version_id == a.version_id)
            {
                rated.entry(a.person_id.0).or_default().push(a);
            }
        }
    }
    let rule = ReadinessRule::default();
    let rows = people.iter().map(|p| {
        let h = history.get(&p.id).map_or(&[][..], Vec::as_slice);
        let cur = current.get(&p.id).copied();
        let plan = cur.and_then(|a| {
            let m = matrices.get(&a.version_id.0)?.as_ref()?;
            growth_plan(PlanInput {
                matrix: m,
                version_id: a.version_id,
                current: Some(&Position {
                    track: a.track.clone(),
                    level: a.level.clone(),
                }),
                target: None,
                assessments: rated.get(&p.id).map_or(&[][..], Vec::as_slice),
                rule: &rule,
            })
            .ok()
        });
        let scores = plan.as_ref().map_or([0.0; 3], scores_by_min_rating);
        let has_target = plan.as_ref().is_some_and(|p| !p.top_of_track);
        let since = in_level_since(h, today);
        let (ready, ready_on) = ready_under(org_rule, today, has_target, scores, since);
        standing::ActiveModel {
            id: Set(p.id),
            org_id: Set(org.0),
            sort_name: Set(p.display_name.to_lowercase().chars().take(255).collect()),
            version_id: Set(cur.map(|a| a.version_id.0)),
            track: Set(cur.map(|a| a.track.to_string())),
            level: Set(cur.map(|a| a.level.to_string())),
            rank: Set(plan
                .as_ref()
                .and_then(|p| p.current.as_ref())
                .map(|s| s.level.rank.get() as i32)),
            valid_until: Set(h.iter().map(|a| a.effective).filter(|e| *e > today).min()),
            in_level_since: Set(in_level_since(h, today)),
            has_target: Set(has_target),
            score_developing: Set(scores[0]),
            score_meets: Set(scores[1]),
            score_exceeds: Set(scores[2]),
            // A new row's from `paths` (or set by `paths::repath` in the same transaction);
            // a stored row's changes only there (the upsert below never overwrites it).
            path: Set(paths.get(&p.id).cloned().unwrap_or_default()),
            active: Set(p.active),
            since_key: Set(since.unwrap_or(FAR)),
            rank_key: Set(plan
                .as_ref()
                .and_then(|p| p.current.as_ref())
                .map_or(-1, |s| s.level.rank.get() as i32)),
            ready: Set(ready),
            ready_on: Set(ready_on),
        }
    });
    let rows: Vec<standing::ActiveModel> = rows.collect();
    // Written in place (an upsert): a concurrent writer waits on the row, never finds it gone.
    use sea_orm::sea_query::OnConflict;
    use standing::Column as S;
    let upsert = OnConflict::column(S::Id)
        .update_columns([
            S::SortName,
            S::VersionId,
            S::Track,
            S::Level,
            S::Rank,
            S::ValidUntil,
            S::InLevelSince,
            S::HasTarget,
            S::ScoreDeveloping,
            S::ScoreMeets,
            S::ScoreExceeds,
            S::Active,
            S::SinceKey,
            S::RankKey,
            S::Ready,
            S::ReadyOn,
        ])
        .to_owned();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<standing::ActiveModel> = rows.by_ref().take(ROUND / 2).collect();
        standing::Entity::insert_many(chunk)
            .on_conflict(upsert.clone())
            .exec_without_returning(c)
            .await?;
    }
    Ok(())
}

/// Whether a standing is ready under `rule` today, and else the day time in level makes it
/// ready when only that is missing: as `growth::readiness` decides (the team test compares).
fn ready_under(
    rule: &ReadinessRule,
    today: NaiveDate,
    has_target: bool,
    scores: [f64; 3],
    since: Option<NaiveDate>,
) -> (bool, Option<NaiveDate>) {
    let meets = has_target && scores[score_index(rule)] >= rule.min_score;
    match since {
        Some(s) if meets => {
            if s <= in_level_cutoff(today, rule.min_months_in_level) {
                (true, None)
            } else {
                (false, Some(long_enough_on(s, rule.min_months_in_level)))
            }
        }
        _ => (false, None),
    }
}

/// Decides `ready` and `ready_on` of every standing of `org` under `rule` (a rule change, in
/// its transaction): one UPDATE, then the `ready_on` of those only time keeps from it.
pub(crate) async fn apply_rule<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    rule: &ReadinessRule,
    today: NaiveDate,
) -> Result<(), DbError> {
    let mut b = Bound {
        backend: c.get_database_backend(),
        values: Vec::new(),
    };
    let score = SCORES[score_index(rule)];
    let cutoff = in_level_cutoff(today, rule.min_months_in_level);
    let sql = format!(
        "UPDATE standings SET ready = CASE WHEN has_target = {} AND {score} >= {} \
         AND since_key <= {} THEN {} ELSE {} END, ready_on = NULL WHERE org_id = {}",
        b.bind(true),
        b.bind(rule.min_score),
        b.bind(cutoff),
        b.bind(true),
        b.bind(false),
        b.bind(org.0),
    );
    c.execute_raw(Statement::from_sql_and_values(b.backend, sql, b.values))
        .await?;
    let waiting: Vec<(Uuid, NaiveDate)> = standing::Entity::find()
        .select_only()
        .column(standing::Column::Id)
        .column(standing::Column::SinceKey)
        .filter(standing::Column::OrgId.eq(org.0))
        .filter(standing::Column::HasTarget.eq(true))
        .filter({
            use sea_orm::sea_query::ExprTrait;
            sea_orm::sea_query::Expr::col(sea_orm::sea_query::Alias::new(score)).gte(rule.min_score)
        })
        .filter(standing::Column::SinceKey.gt(cutoff))
        .filter(standing::Column::SinceKey.lt(FAR))
        .into_tuple()
        .all(c)
        .await?;
    let on: Vec<(Uuid, Value)> = waiting
        .into_iter()
        .map(|(id, since)| (id, long_enough_on(since, rule.min_months_in_level).into()))
        .collect();
    crate::paging::set_each(c, org, "standings", "ready_on", &on).await
}

/// The distinct ids of `people`, in order.
fn sorted_ids(people: impl IntoIterator<Item = PersonId>) -> Vec<Uuid> {
    people
        .into_iter()
        .map(|p| p.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Locks the standing rows of `people` (in id order) for the rest of the transaction `c`:
/// writers that recompute the same person's standing then take turns, and the second reads
/// what the first committed. Called first in a writing transaction, before it reads anything
/// (MariaDB's repeatable reads take their snapshot at the first read). SQLite's writers
/// already take turns ([`Db::serialised`]).
pub(crate) async fn lock<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    people: impl IntoIterator<Item = PersonId>,
) -> Result<(), DbError> {
    if c.get_database_backend() == DbBackend::Sqlite {
        return Ok(());
    }
    let ids = sorted_ids(people);
    for round in ids.chunks(ROUND) {
        standing::Entity::find()
            .select_only()
            .column(standing::Column::Id)
            .filter(standing::Column::OrgId.eq(org.0))
            .filter(standing::Column::Id.is_in(round.to_vec()))
            .order_by_asc(standing::Column::Id)
            .lock_exclusive()
            .into_tuple::<Uuid>()
            .all(c)
            .await?;
    }
    Ok(())
}

/// What a team row shows without the person's readiness computed in full: the kept
/// standing (score under the rule's minimum rating, ready under the rule, since when the
/// level is held).
#[derive(Debug, Clone, PartialEq)]
pub struct StandingSummary {
    pub person: PersonId,
    pub ready: bool,
    pub score: f64,
    pub in_level_since: Option<NaiveDate>,
}

/// How a team listing is ordered; every order ends with the name (lower case), then the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StandingOrder {
    /// Ready first, then the higher score, then the longer in level (the earlier
    /// `in_level_since`), then by name.
    #[default]
    Readiness,
    Name,
    /// The higher level first (no level last), then by name.
    Level,
}

/// Which people of a scope a listing keeps (all conditions hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StandingsFilter {
    /// Only those the rule calls ready.
    pub ready_only: bool,
    /// Part of the name or email, any case.
    pub search: Option<String>,
    /// The track (key) of the position in force.
    pub track: Option<String>,
}

/// Which people a standings listing holds: active people of the organisation, or of a
/// manager's subtree (`Scope::ReportsOf`), kept by `filter`.
#[derive(Debug, Clone, Copy)]
pub struct StandingsQuery<'a> {
    pub scope: Scope,
    pub order: StandingOrder,
    pub filter: &'a StandingsFilter,
    /// Decides "ready" for [`StandingOrder::Readiness`].
    pub rule: &'a ReadinessRule,
    pub today: NaiveDate,
}

/// The score columns, in the order of [`scores_by_min_rating`].
const SCORES: [&str; 3] = ["score_developing", "score_meets", "score_exceeds"];

/// Which of the kept scores `rule` reads (its minimum rating; `not_yet` is refused by the rule).
fn score_index(rule: &ReadinessRule) -> usize {
    match rule.min_rating {
        Rating::NotYet | Rating::Developing => 0,
        Rating::Meets => 1,
        Rating::Exceeds => 2,
    }
}

/// Custom SQL with its values bound in the order they appear.
struct Bound {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Bound {
    fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        placeholder(self.backend, self.values.len())
    }
}

/// A row comes after the cursor whose keys are `cursor`, in the order `keys` (column,
/// descending?): a keyset condition on `s`, with the cursor's values bound. It opens with a
/// bound on the first key alone, so that an index on the order starts at the cursor.
fn after_values(
    keys: &[(&str, bool)],
    cursor: &HashMap<&'static str, Value>,
    b: &mut Bound,
) -> String {
    fn rest(keys: &[(&str, bool)], cursor: &HashMap<&'static str, Value>, b: &mut Bound) -> String {
        match keys {
            [] => "1 = 0".into(),
            [(k, desc), tail @ ..] => {
                let op = if *desc { "<" } else { ">" };
                let v = cursor.get(k).cloned().unwrap_or(Value::Bool(None));
                let first = format!("s.{k} {op} {}", b.bind(v.clone()));
                if tail.is_empty() {
                    first
                } else {
                    let eq = format!("s.{k} = {}", b.bind(v));
                    format!("({first} OR ({eq} AND {}))", rest(tail, cursor, b))
                }
            }
        }
    }
    match keys.first() {
        Some((k, desc)) => {
            let v = cursor.get(k).cloned().unwrap_or(Value::Bool(None));
            let op = if *desc { "<=" } else { ">=" };
            let lead = format!("s.{k} {op} {}", b.bind(v));
            format!("{lead} AND {}", rest(keys, cursor, b))
        }
        None => "1 = 0".into(),
    }
}

/// The active people of `q.scope` that `q.filter`'s search and track keep: `FROM ... WHERE
/// ...` over the standings `s` (and `people p` for a search by email). A subtree is the range
/// of paths below its manager's (`below`, from [`Db::path_of`]; `None`: nobody).
fn listing(org: OrgId, q: &StandingsQuery<'_>, below: Option<&str>, b: &mut Bound) -> String {
    let search = q
        .filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let mut sql = if search.is_some() {
        "FROM standings s CROSS JOIN people p WHERE p.id = s.id AND ".to_owned()
    } else {
        "FROM standings s WHERE ".to_owned()
    };
    sql.push_str(&format!(
        "s.org_id = {} AND s.active = {}",
        b.bind(org.0),
        b.bind(true)
    ));
    match q.scope {
        Scope::Org => {}
        Scope::ReportsOf(_) => match below.map(crate::paths::below) {
            Some((lower, upper)) => sql.push_str(&format!(
                " AND s.path > {} AND s.path < {}",
                b.bind(lower),
                b.bind(upper)
            )),
            None => sql.push_str(" AND 1 = 0"),
        },
        Scope::DirectReportsOf(m) => sql.push_str(&format!(
            " AND s.id IN (SELECT r.id FROM people r WHERE r.org_id = {} AND r.manager_id = {})",
            b.bind(org.0),
            b.bind(m.0)
        )),
        Scope::Person(me) => sql.push_str(&format!(" AND s.id = {}", b.bind(me.0))),
    }
    if let Some(s) = search {
        let pattern = crate::people::contains_pattern(s);
        sql.push_str(&format!(
            " AND (p.email LIKE {} ESCAPE '!' OR s.sort_name LIKE {} ESCAPE '!')",
            b.bind(pattern.clone()),
            b.bind(pattern)
        ));
    }
    if let Some(t) = &q.filter.track {
        sql.push_str(&format!(" AND s.track = {}", b.bind(t.clone())));
    }
    sql
}

/// "Ready" under the organisation's rule, as kept on the standing `s`.
const READY: &str = "s.ready = TRUE";

/// The keys of an order (column of `s`, descending?), the last one unique.
fn order_keys(q: &StandingsQuery<'_>) -> Vec<(&'static str, bool)> {
    match q.order {
        StandingOrder::Readiness => vec![
            ("ready", true),
            (SCORES[score_index(q.rule)], true),
            ("since_key", false),
            ("sort_name", false),
            ("id", false),
        ],
        StandingOrder::Name => vec![("sort_name", false), ("id", false)],
        StandingOrder::Level => vec![("rank_key", true), ("sort_name", false), ("id", false)],
    }
}

fn order_by(keys: &[(&str, bool)], table: &str) -> String {
    keys.iter()
        .map(|(k, desc)| format!("{table}{k} {}", if *desc { "DESC" } else { "ASC" }))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Db {
    /// Brings the organisation's standings up to `today` (one indexed statement when nothing
    /// is due): rows a later assignment has taken over are recomputed, and those that time in
    /// level has made ready become ready.
    pub async fn refresh_due_standings(
        &self,
        org: OrgId,
        today: NaiveDate,
    ) -> Result<usize, DbError> {
        use sea_orm::Condition;
        let due: Vec<(Uuid, Option<NaiveDate>)> = standing::Entity::find()
            .select_only()
            .column(standing::Column::Id)
            .column(standing::Column::ValidUntil)
            .filter(standing::Column::OrgId.eq(org.0))
            .filter(
                Condition::any()
                    .add(standing::Column::ValidUntil.lte(today))
                    .add(standing::Column::ReadyOn.lte(today)),
            )
            .into_tuple()
            .all(&self.conn)
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let (stale, waited): (Vec<_>, Vec<_>) = due
            .iter()
            .partition(|(_, until)| until.is_some_and(|u| u <= today));
        let _turn = self.serialised().await;
        let txn = self.conn.begin().await?;
        refresh(&txn, org, stale.iter().map(|(id, _)| PersonId(*id))).await?;
        for round in waited.chunks(ROUND) {
            standing::Entity::update_many()
                .col_expr(
                    standing::Column::Ready,
                    sea_orm::sea_query::Expr::value(true),
                )
                .col_expr(
                    standing::Column::ReadyOn,
                    sea_orm::sea_query::Expr::value(Option::<NaiveDate>::None),
                )
                .filter(standing::Column::OrgId.eq(org.0))
                .filter(standing::Column::ReadyOn.lte(today))
                .filter(standing::Column::Id.is_in(round.iter().map(|(id, _)| *id)))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(due.len())
    }

    /// Gives every person without a standing one (after a migration, for people stored
    /// before standings existed). Returns how many were filled.
    pub(crate) async fn fill_missing_standings(&self) -> Result<usize, DbError> {
        let missing: Vec<(Uuid, Uuid)> = self
            .conn
            .query_all_raw(Statement::from_string(
                self.conn.get_database_backend(),
                "SELECT p.org_id AS org_id, p.id AS id FROM people p \
                 LEFT JOIN standings s ON s.id = p.id WHERE s.id IS NULL",
            ))
            .await?
            .iter()
            .map(|r| Ok((r.try_get("", "org_id")?, r.try_get("", "id")?)))
            .collect::<Result<_, DbError>>()?;
        let mut by_org: HashMap<Uuid, Vec<PersonId>> = HashMap::new();
        for (org, id) in &missing {
            by_org.entry(*org).or_default().push(PersonId(*id));
        }
        for (org, ids) in by_org {
            let _turn = self.serialised().await;
            let txn = self.conn.begin().await?;
            refresh(&txn, OrgId(org), ids).await?;
            txn.commit().await?;
        }
        // Rows older than the reporting path (and the kept readiness that came with it).
        let unplaced: Vec<Uuid> = standing::Entity::find()
            .select_only()
            .column(standing::Column::OrgId)
            .distinct()
            .filter(standing::Column::Path.eq(""))
            .into_tuple()
            .all(&self.conn)
            .await?;
        for org in unplaced {
            let _turn = self.serialised().await;
            let txn = self.conn.begin().await?;
            crate::paths::repath_all(&txn, OrgId(org)).await?;
            let rule = crate::growth::rule_on(&txn, OrgId(org)).await?;
            apply_rule(&txn, OrgId(org), &rule, Utc::now().date_naive()).await?;
            txn.commit().await?;
        }
        Ok(missing.len())
    }

    /// The reporting path of `person` (see `paths`), if they have a standing.
    pub(crate) async fn path_of(
        &self,
        org: OrgId,
        person: PersonId,
    ) -> Result<Option<String>, DbError> {
        let path: Option<String> = standing::Entity::find()
            .select_only()
            .column(standing::Column::Path)
            .filter(standing::Column::OrgId.eq(org.0))
            .filter(standing::Column::Id.eq(person.0))
            .into_tuple()
            .one(&self.conn)
            .await?;
        // An empty path (never the case once `migrate` has run) would hold everyone.
        Ok(path.filter(|p| !p.is_empty()))
    }

    /// The path below which `q.scope`'s people lie, when it is a subtree.
    async fn scope_path(
        &self,
        org: OrgId,
        q: &StandingsQuery<'_>,
    ) -> Result<Option<String>, DbError> {
        match q.scope {
            Scope::ReportsOf(m) => self.path_of(org, m).await,
            _ => Ok(None),
        }
    }

    /// One page of active people in `q.scope`, in `q.order`, after the person `after` (the
    /// previous page's last; every one when `first` is `None`): their kept standings, and
    /// whether more follow. A subtree is a range of reporting paths, and each order has its index, so a
    /// page walks that index from the cursor and stops after its rows, whatever the scope's
    /// size (readiness is kept on the row under the organisation's rule, so it leads its
    /// index). One statement, one by primary key for a subtree's path and one for the cursor's
    /// sort keys.
    pub async fn standings_page(
        &self,
        org: OrgId,
        q: &StandingsQuery<'_>,
        after: Option<PersonId>,
        first: Option<usize>,
    ) -> Result<(Vec<StandingSummary>, bool), DbError> {
        let mut b = Bound {
            backend: self.conn.get_database_backend(),
            values: Vec::new(),
        };
        let below = self.scope_path(org, q).await?;
        let cursor = match after {
            Some(a) => Some(self.cursor_keys(org, a).await?),
            None => None,
        };
        let keys = order_keys(q);
        let limit = first.map_or(String::new(), |n| format!(" LIMIT {}", n + 1));
        // The text is built in the order its values are bound (`?` placeholders are
        // positional): the listing, then the cursor.
        let listing = listing(org, q, below.as_deref(), &mut b);
        let ready = if q.filter.ready_only {
            format!(" AND {READY}")
        } else {
            String::new()
        };
        let after = match &cursor {
            Some(keys_of) => format!(" AND {}", after_values(&keys, keys_of, &mut b)),
            None => String::new(),
        };
        let score = SCORES[score_index(q.rule)];
        let sql = format!(
            "SELECT s.id AS id, s.ready AS ready, s.{score} AS score, \
             s.in_level_since AS in_level_since {listing}{ready}{after} ORDER BY {}{limit}",
            order_by(&keys, "s.")
        );
        let rows = self
            .conn
            .query_all_raw(Statement::from_sql_and_values(b.backend, sql, b.values))
            .await?;
        let mut ids: Vec<StandingSummary> = rows
            .iter()
            .map(|r| {
                Ok(StandingSummary {
                    person: PersonId(r.try_get::<Uuid>("", "id")?),
                    ready: r.try_get("", "ready")?,
                    score: r.try_get("", "score")?,
                    in_level_since: r.try_get("", "in_level_since")?,
                })
            })
            .collect::<Result<_, DbError>>()?;
        let more = first.is_some_and(|n| ids.len() > n);
        if let Some(n) = first {
            ids.truncate(n);
        }
        Ok((ids, more))
    }

    /// The sort keys of the person a page starts after, as the page query reads them (one
    /// statement by primary key; a bad cursor is "not found").
    async fn cursor_keys(
        &self,
        org: OrgId,
        after: PersonId,
    ) -> Result<HashMap<&'static str, Value>, DbError> {
        let s = standing::Entity::find()
            .filter(standing::Column::OrgId.eq(org.0))
            .filter(standing::Column::Id.eq(after.0))
            .one(&self.conn)
            .await?
            .ok_or_else(|| DbError::not_found("the person a page starts after"))?;
        Ok(HashMap::from([
            ("ready", Value::from(s.ready)),
            ("score_developing", Value::from(s.score_developing)),
            ("score_meets", Value::from(s.score_meets)),
            ("score_exceeds", Value::from(s.score_exceeds)),
            ("since_key", Value::from(s.since_key)),
            ("sort_name", Value::from(s.sort_name)),
            ("id", Value::from(s.id)),
            ("rank_key", Value::from(s.rank_key)),
        ]))
    }

    /// How many people the listing `q` holds over all its pages (the total of a team
    /// listing). One statement, and one by primary key for a subtree's path.
    pub async fn standings_count(
        &self,
        org: OrgId,
        q: &StandingsQuery<'_>,
    ) -> Result<usize, DbError> {
        let mut b = Bound {
            backend: self.conn.get_database_backend(),
            values: Vec::new(),
        };
        let below = self.scope_path(org, q).await?;
        let mut sql = format!(
            "SELECT COUNT(*) AS n {}",
            listing(org, q, below.as_deref(), &mut b)
        );
        if q.filter.ready_only {
            sql.push_str(&format!(" AND {READY}"));
        }
        let n: i64 = self
            .conn
            .query_one_raw(Statement::from_sql_and_values(b.backend, sql, b.values))
            .await?
            .map_or(Ok(0), |r| r.try_get("", "n"))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

impl Db {
    /// How many active people of `scope` hold each position (track and level keys; `None`
    /// for people without one), from the kept standings: one statement, whatever the size.
    pub async fn level_counts(
        &self,
        org: OrgId,
        scope: Scope,
    ) -> Result<Vec<(Option<String>, Option<String>, u64)>, DbError> {
        use sea_orm::sea_query::{Expr, ExprTrait, Query};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
        let active = Query::select()
            .column(crate::entities::person::Column::Id)
            .from(crate::entities::person::Entity)
            .and_where(crate::entities::person::Column::OrgId.eq(org.0))
            .and_where(crate::entities::person::Column::Active.eq(true))
            .to_owned();
        let mut q = standing::Entity::find()
            .select_only()
            .column(standing::Column::Track)
            .column(standing::Column::Level)
            .column_as(Expr::col(standing::Column::Id).count(), "n")
            .filter(standing::Column::OrgId.eq(org.0))
            .filter(standing::Column::Id.in_subquery(active));
        if let Some(c) = scope.condition(self.conn.get_database_backend(), org, "standings", "id") {
            q = q.filter(c);
        }
        let rows: Vec<(Option<String>, Option<String>, i64)> = q
            .group_by(standing::Column::Track)
            .group_by(standing::Column::Level)
            .into_tuple()
            .all(&self.conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(t, l, n)| (t, l, u64::try_from(n).unwrap_or(0)))
            .collect())
    }
}
