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

use crate::cache::KeysCache;
use crate::content::load_content;
use crate::entities::*;
use crate::error::DbError;
use crate::paging::Bound;
use crate::records::{assessments_from, assignments_where, rule_on};
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
    QueryOrder, QuerySelect, Statement, Value,
};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// Where people without a level sort by time in level: after everyone.
const FAR: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date");

/// People recomputed per round: a few statements each, whatever the number.
pub(crate) const ROUND: usize = 1000;

/// Recomputes the standings of `people` (ids of `org`; others are ignored) on `c`, which is
/// the transaction of the write that changed them.
pub(crate) async fn refresh<C: ConnectionTrait>(
    c: &C,
    keys: &KeysCache,
    org: OrgId,
    people: impl IntoIterator<Item = PersonId>,
) -> Result<(), DbError> {
    refresh_placed(c, keys, org, people, &HashMap::new()).await
}

/// [`refresh`], inserting the rows of people without one with their reporting path from
/// `paths` (`paths::plan`), so that a new row is written once.
pub(crate) async fn refresh_placed<C: ConnectionTrait>(
    c: &C,
    keys: &KeysCache,
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
    let rule = rule_on(c, org).await?;
    let mut matrices: HashMap<Uuid, Option<Matrix>> = HashMap::new();
    for round in ids.chunks(ROUND) {
        let pass = Pass {
            keys,
            org,
            today,
            rule: &rule,
            paths,
        };
        refresh_round(c, pass, round, &mut matrices).await?;
    }
    Ok(())
}

/// What every round of one refresh shares.
#[derive(Clone, Copy)]
struct Pass<'a> {
    keys: &'a KeysCache,
    org: OrgId,
    today: NaiveDate,
    rule: &'a ReadinessRule,
    paths: &'a HashMap<Uuid, String>,
}

async fn refresh_round<C: ConnectionTrait>(
    c: &C,
    pass: Pass<'_>,
    ids: &[Uuid],
    matrices: &mut HashMap<Uuid, Option<Matrix>>,
) -> Result<(), DbError> {
    let Pass {
        keys,
        org,
        today,
        rule: org_rule,
        paths,
    } = pass;
    let people = person::Entity::find()
        .filter(person::Column::OrgId.eq(org.0))
        .filter(person::Column::Id.is_in(ids.to_vec()))
        .all(c)
        .await?;
    let mut history: HashMap<Uuid, Vec<LevelAssignment>> = HashMap::new();
    let q = level_assignment::Entity::find()
        .filter(level_assignment::Column::OrgId.eq(org.0))
        .filter(level_assignment::Column::PersonId.is_in(ids.to_vec()));
    for a in assignments_where(c, keys, org, q).await? {
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
        for a in assessments_from(c, keys, org, rows).await? {
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
    let mut b = Bound::new(c.get_database_backend());
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
    c.execute_raw(b.statement(sql)).await?;
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

/// The score columns, in the order of [`scores_by_min_rating`].
pub(crate) const SCORES: [&str; 3] = ["score_developing", "score_meets", "score_exceeds"];

/// Which of the kept scores `rule` reads (its minimum rating; `not_yet` is refused by the rule).
pub(crate) fn score_index(rule: &ReadinessRule) -> usize {
    match rule.min_rating {
        Rating::NotYet | Rating::Developing => 0,
        Rating::Meets => 1,
        Rating::Exceeds => 2,
    }
}
