//! Assessments, level assignments and promotion cases: appended rows whose matrix references
//! (expectation, track and level ids) are resolved by key inside the version each was made
//! against, read and written on the caller's connection. Readers take a [`Scope`] so that a
//! manager's whole subtree is read with a constant number of statements, never one per report.

use crate::cache::KeysCache;
use crate::entities::*;
use crate::error::DbError;
use crate::rows::insert_chunked;
use rungs_domain::assessment::{Assessment, AssessorRole, Evidence, Rating};
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::growth::ReadinessRule;
use rungs_domain::matrix::VersionStatus;
use rungs_domain::promotion::{
    CaseEvent, Decision, EventKind, Position, PromotionCase, PromotionStatus,
};
use rungs_domain::text::Key;
use rungs_domain::{AssessmentId, AssignmentId, CaseId, OrgId, PersonId, VersionId};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use uuid::Uuid;

/// Whose rows a reader returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everyone in the organisation.
    Org,
    /// One person.
    Person(PersonId),
    /// Everyone who reports to this person, directly or indirectly (not the person).
    ReportsOf(PersonId),
    /// Those who report to this person directly.
    DirectReportsOf(PersonId),
}

impl Scope {
    /// The condition on `table.column` (a person id) that selects this scope, if any.
    pub(crate) fn condition(
        self,
        backend: DbBackend,
        org: OrgId,
        table: &str,
        column: &str,
    ) -> Option<SimpleExpr> {
        // Custom SQL takes `$n` placeholders on PostgreSQL and `?` elsewhere.
        let ph = |n: usize| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        };
        match self {
            Self::Org => None,
            Self::Person(p) => Some(Expr::cust_with_values(
                format!("{table}.{column} = {}", ph(1)),
                [p.0],
            )),
            // The range of reporting paths below the manager's (`paths`): one index range,
            // whatever the subtree's size. `m` is read by primary key first (a constant to
            // MariaDB's planner), and an empty path (never stored once `migrate` ran) holds
            // nobody.
            Self::ReportsOf(m) => {
                let upper = match backend {
                    DbBackend::MySql => "CONCAT(m.path, 'g')",
                    _ => "m.path || 'g'",
                };
                Some(Expr::cust_with_values(
                    format!(
                        "{table}.{column} IN (SELECT d.id FROM standings m CROSS JOIN standings d \
                         WHERE m.id = {} AND m.org_id = {} AND m.path <> '' \
                         AND d.org_id = m.org_id AND d.path > m.path AND d.path < {upper})",
                        ph(1),
                        ph(2),
                    ),
                    [m.0, org.0],
                ))
            }
            Self::DirectReportsOf(m) => Some(Expr::cust_with_values(
                format!(
                    "{table}.{column} IN (SELECT r.id FROM people r WHERE r.org_id = {} AND r.manager_id = {})",
                    ph(1),
                    ph(2)
                ),
                [org.0, m.0],
            )),
        }
    }
}

pub(crate) fn distinct(ids: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
    ids.into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

pub(crate) fn corrupt(what: &str, id: Uuid) -> DbError {
    DbError::not_found(format!("{what} {id}"))
}

/// Keys of tracks, levels and expectations, by row id, for a few versions (one statement per
/// table, whatever the number of rows that refer to them).
#[derive(Default)]
struct Keys {
    /// Each version's keys (kept ones shared with the cache, not copied).
    versions: HashMap<Uuid, Arc<crate::cache::VersionKeys>>,
}

/// Which of a version's keys a lookup reads.
type Table = fn(&crate::cache::VersionKeys) -> &HashMap<Uuid, String>;
const TRACKS: Table = |k| &k.tracks;
const LEVELS: Table = |k| &k.levels;
const EXPECTATIONS: Table = |k| &k.expectations;

#[derive(Clone, Copy)]
struct Want {
    tracks: bool,
    levels: bool,
    expectations: bool,
}

impl Want {
    /// Tracks and levels: for assignments and cases.
    const POSITIONS: Self = Self {
        tracks: true,
        levels: true,
        expectations: false,
    };
    /// Expectations: for assessments.
    const EXPECTATIONS: Self = Self {
        tracks: false,
        levels: false,
        expectations: true,
    };
    /// Everything: for a version read to be kept.
    const ALL: Self = Self {
        tracks: true,
        levels: true,
        expectations: true,
    };
}

impl Keys {
    /// The keys of `versions`' rows. Published versions' keys are read once per process
    /// (kept in the pool's [`KeysCache`]); the first read of a version costs a statement more
    /// (its status) and reads all three tables so that it can be kept.
    async fn load<C: ConnectionTrait>(
        c: &C,
        cache: &KeysCache,
        org: OrgId,
        versions: &[Uuid],
        want: Want,
    ) -> Result<Self, DbError> {
        let mut k = Self::default();
        let mut missing = Vec::new();
        for v in versions {
            let kept = cache.get(org, VersionId(*v));
            match kept {
                Some(kept) => k.add(*v, kept),
                None => missing.push(*v),
            }
        }
        if missing.is_empty() {
            return Ok(k);
        }
        let published: BTreeSet<Uuid> = matrix_version::Entity::find()
            .filter(matrix_version::Column::OrgId.eq(org.0))
            .filter(matrix_version::Column::Id.is_in(missing.clone()))
            .filter(matrix_version::Column::Status.eq(VersionStatus::Published.as_str()))
            .all(c)
            .await?
            .into_iter()
            .map(|v| v.id)
            .collect();
        let want = if published.is_empty() {
            want
        } else {
            Want::ALL
        };
        let o = org.0;
        let mut read: HashMap<Uuid, crate::cache::VersionKeys> = HashMap::new();
        macro_rules! rows {
            ($e:ident, $field:ident) => {
                if want.$field {
                    for r in $e::Entity::find()
                        .filter($e::Column::OrgId.eq(o))
                        .filter($e::Column::VersionId.is_in(missing.clone()))
                        .all(c)
                        .await?
                    {
                        read.entry(r.version_id)
                            .or_default()
                            .$field
                            .insert(r.id, r.key);
                    }
                }
            };
        }
        rows!(track, tracks);
        rows!(level, levels);
        rows!(expectation, expectations);
        for v in missing {
            let keys = Arc::new(read.remove(&v).unwrap_or_default());
            if published.contains(&v) {
                cache.keep(org, VersionId(v), keys.clone());
            }
            k.add(v, keys);
        }
        Ok(k)
    }

    fn add(&mut self, version: Uuid, keys: Arc<crate::cache::VersionKeys>) {
        self.versions.insert(version, keys);
    }

    /// The key of row `id` of `table`, in whichever of the versions holds it.
    fn key(&self, table: Table, what: &str, id: Uuid) -> Result<Key, DbError> {
        let k = self
            .versions
            .values()
            .find_map(|v| table(v).get(&id))
            .ok_or_else(|| corrupt(what, id))?;
        Ok(Key::parse(k)?)
    }

    /// The row id of `key` in `version`.
    fn id(&self, table: Table, what: &str, version: Uuid, key: &str) -> Result<Uuid, DbError> {
        self.versions
            .get(&version)
            .and_then(|v| table(v).iter().find(|(_, k)| *k == key))
            .map(|(id, _)| *id)
            .ok_or_else(|| DbError::not_found(format!("{what} `{key}`")))
    }
}

/// Appends assignments, resolving track and level keys inside each assignment's version.
pub(crate) async fn append_assignments<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    list: &[LevelAssignment],
) -> Result<(), DbError> {
    if list.is_empty() {
        return Ok(());
    }
    let mut versions: Vec<Uuid> = list.iter().map(|a| a.version_id.0).collect();
    versions.sort();
    versions.dedup();
    let tracks: HashMap<(Uuid, String), Uuid> = track::Entity::find()
        .filter(track::Column::OrgId.eq(org.0))
        .filter(track::Column::VersionId.is_in(versions.clone()))
        .all(c)
        .await?
        .into_iter()
        .map(|t| ((t.version_id, t.key), t.id))
        .collect();
    let levels: HashMap<(Uuid, String), Uuid> = level::Entity::find()
        .filter(level::Column::OrgId.eq(org.0))
        .filter(level::Column::VersionId.is_in(versions))
        .all(c)
        .await?
        .into_iter()
        .map(|l| ((l.version_id, l.key), l.id))
        .collect();
    let mut rows = Vec::with_capacity(list.len());
    for a in list {
        let v = a.version_id.0;
        let track_id = *tracks
            .get(&(v, a.track.to_string()))
            .ok_or_else(|| DbError::not_found(format!("track `{}`", a.track)))?;
        let level_id = *levels
            .get(&(v, a.level.to_string()))
            .ok_or_else(|| DbError::not_found(format!("level `{}`", a.level)))?;
        rows.push(level_assignment::ActiveModel {
            id: Set(a.id.0),
            org_id: Set(org.0),
            person_id: Set(a.person_id.0),
            version_id: Set(v),
            track_id: Set(track_id),
            level_id: Set(level_id),
            effective: Set(a.effective),
            reason: Set(a.reason.clone()),
            set_by: Set(a.set_by.map(|p| p.0)),
            recorded_at: Set(a.recorded_at),
            case_id: Set(a.case_id.map(|c| c.0)),
            moved_from: Set(a.moved_from.map(|m| m.0)),
        });
    }
    insert_chunked::<level_assignment::Entity, _, _>(c, rows).await
}

/// The organisation's readiness rule (the default until one is set), read on `c`.
pub(crate) async fn rule_on<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
) -> Result<ReadinessRule, DbError> {
    match readiness_rule::Entity::find_by_id(org.0)
        .filter(readiness_rule::Column::OrgId.eq(org.0))
        .one(c)
        .await?
    {
        Some(r) => rule_from_row(r),
        None => Ok(ReadinessRule::default()),
    }
}

/// A stored readiness rule as the domain's.
pub(crate) fn rule_from_row(r: readiness_rule::Model) -> Result<ReadinessRule, DbError> {
    Ok(ReadinessRule::new(
        Rating::parse(&r.min_rating)?,
        u32::try_from(r.min_months_in_level).unwrap_or(0),
        f64::from(r.min_score_permille) / 1000.0,
    )?)
}

/// Inserts assessments, resolving each expectation key in the assessment's version.
pub(crate) async fn insert_assessments<C: ConnectionTrait>(
    txn: &C,
    keys: &KeysCache,
    org: OrgId,
    list: &[Assessment],
) -> Result<(), DbError> {
    if list.is_empty() {
        return Ok(());
    }
    let versions = distinct(list.iter().map(|a| a.version_id.0));
    let keys = Keys::load(txn, keys, org, &versions, Want::EXPECTATIONS).await?;
    let by_key: HashMap<(Uuid, &str), Uuid> = keys
        .versions
        .iter()
        .flat_map(|(v, k)| {
            k.expectations
                .iter()
                .map(|(id, key)| ((*v, key.as_str()), *id))
        })
        .collect();
    let mut rows = Vec::with_capacity(list.len());
    for a in list {
        let expectation_id = *by_key
            .get(&(a.version_id.0, a.expectation.as_str()))
            .ok_or_else(|| DbError::not_found(format!("expectation `{}`", a.expectation)))?;
        rows.push(assessment::ActiveModel {
            id: Set(a.id.0),
            org_id: Set(org.0),
            person_id: Set(a.person_id.0),
            version_id: Set(a.version_id.0),
            expectation_id: Set(expectation_id),
            rating: Set(a.rating.as_str().to_owned()),
            assessor_id: Set(a.assessor_id.0),
            assessor_role: Set(a.role.as_str().to_owned()),
            evidence_text: Set(a.evidence.text.clone()),
            evidence_links: Set(serde_json::to_string(&a.evidence.links)
                .map_err(|e| DbError::Other(sea_orm::DbErr::Custom(e.to_string())))?),
            assessed_at: Set(a.at),
            carried_from: Set(a.carried_from.map(|c| c.0)),
        });
    }
    insert_chunked::<assessment::Entity, _, _>(txn, rows).await
}

/// Inserts one case row as it is (any status), resolving its positions in its version.
pub(crate) async fn insert_case_row<C: ConnectionTrait>(
    txn: &C,
    keys: &KeysCache,
    org: OrgId,
    case: &PromotionCase,
) -> Result<(), DbError> {
    let v = case.version_id.0;
    let keys = Keys::load(txn, keys, org, &[v], Want::POSITIONS).await?;
    let t = |k: &Key| keys.id(TRACKS, "track", v, k.as_str());
    let l = |k: &Key| keys.id(LEVELS, "level", v, k.as_str());
    promotion_case::Entity::insert(promotion_case::ActiveModel {
        id: Set(case.id.0),
        org_id: Set(org.0),
        person_id: Set(case.person_id.0),
        version_id: Set(v),
        from_track_id: Set(t(&case.from.track)?),
        from_level_id: Set(l(&case.from.level)?),
        to_track_id: Set(t(&case.to.track)?),
        to_level_id: Set(l(&case.to.level)?),
        proposer_id: Set(case.proposer_id.0),
        justification: Set(case.justification.clone()),
        status: Set(case.status.as_str().to_owned()),
        proposed_at: Set(case.proposed_at),
        decided_by: Set(case.decision.as_ref().map(|d| d.by.0)),
        decided_at: Set(case.decision.as_ref().map(|d| d.at)),
        decision_note: Set(case.decision.as_ref().map(|d| d.note.clone())),
        effective: Set(case.effective),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

pub(crate) fn event_from_row(e: promotion_event::Model) -> Result<CaseEvent, DbError> {
    Ok(CaseEvent {
        id: e.id,
        case_id: CaseId(e.case_id),
        kind: EventKind::parse(&e.kind)?,
        actor_id: PersonId(e.actor_id),
        note: e.note,
        at: e.at,
    })
}

pub(crate) async fn insert_event<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    e: &CaseEvent,
) -> Result<(), DbError> {
    promotion_event::Entity::insert(promotion_event::ActiveModel {
        id: Set(e.id),
        org_id: Set(org.0),
        case_id: Set(e.case_id.0),
        kind: Set(e.kind.as_str().to_owned()),
        actor_id: Set(e.actor_id.0),
        note: Set(e.note.clone()),
        at: Set(e.at),
    })
    .exec_without_returning(c)
    .await?;
    Ok(())
}

pub(crate) async fn cases_from_rows<C: ConnectionTrait>(
    c: &C,
    keys: &KeysCache,
    org: OrgId,
    rows: Vec<promotion_case::Model>,
) -> Result<Vec<PromotionCase>, DbError> {
    let versions = distinct(rows.iter().map(|r| r.version_id));
    let keys = Keys::load(c, keys, org, &versions, Want::POSITIONS).await?;
    let pos = |t: Uuid, l: Uuid| -> Result<Position, DbError> {
        Ok(Position {
            track: keys.key(TRACKS, "track", t)?,
            level: keys.key(LEVELS, "level", l)?,
        })
    };
    rows.into_iter()
        .map(|r| {
            let decision = match (r.decided_by, r.decided_at) {
                (Some(by), Some(at)) => Some(Decision {
                    by: PersonId(by),
                    at,
                    note: r.decision_note.clone().unwrap_or_default(),
                }),
                _ => None,
            };
            Ok(PromotionCase {
                id: CaseId(r.id),
                person_id: PersonId(r.person_id),
                version_id: VersionId(r.version_id),
                from: pos(r.from_track_id, r.from_level_id)?,
                to: pos(r.to_track_id, r.to_level_id)?,
                proposer_id: PersonId(r.proposer_id),
                justification: r.justification,
                status: PromotionStatus::parse(&r.status)?,
                proposed_at: r.proposed_at,
                decision,
                effective: r.effective,
            })
        })
        .collect()
}

/// The assignments `q` selects, oldest first, with their track and level keys.
pub(crate) async fn assignments_where<C: ConnectionTrait>(
    c: &C,
    keys: &KeysCache,
    org: OrgId,
    q: sea_orm::Select<level_assignment::Entity>,
) -> Result<Vec<LevelAssignment>, DbError> {
    let rows = q
        .order_by_asc(level_assignment::Column::Effective)
        .order_by_asc(level_assignment::Column::RecordedAt)
        .all(c)
        .await?;
    assignments_from(c, keys, org, rows).await
}

/// The columns of a table, each selected from `alias` as `{prefix}{column}`: what a statement
/// that reads two tables with the same column names selects of the second, so that
/// `FromQueryResult::from_query_result(row, prefix)` reads it back.
pub(crate) fn prefixed<C: sea_orm::Iterable + sea_orm::IdenStatic>(
    alias: &str,
    prefix: &str,
) -> String {
    C::iter()
        .map(|c| format!(", {alias}.{col} AS {prefix}{col}", col = c.as_str()))
        .collect()
}

/// The position in force on a day of the person a statement reads as `p`, read in the same
/// statement: the columns to select (prefixed `a_`) and a LEFT JOIN to put after `FROM people
/// p`, `today` being the day's placeholder (bind it where the join's placeholder falls among
/// the others). The assignment is the latest effective by that day, as `current_as_of` picks
/// it.
pub(crate) fn position_join(today: &str) -> (String, String) {
    position_join_of(today, "p", "a")
}

/// [`position_join`] for the person a statement reads as `person`, the assignment joined as
/// `alias` and its columns prefixed `{alias}_`.
pub(crate) fn position_join_of(today: &str, person: &str, alias: &str) -> (String, String) {
    let current = format!(
        "SELECT c.id FROM level_assignments c WHERE c.org_id = {person}.org_id \
         AND c.person_id = {person}.id AND c.effective <= {today} \
         ORDER BY c.effective DESC, c.recorded_at DESC, c.id DESC LIMIT 1"
    );
    let columns = prefixed::<level_assignment::Column>(alias, &format!("{alias}_"));
    let join = format!(
        "LEFT JOIN level_assignments {alias} ON {alias}.org_id = {person}.org_id \
         AND {alias}.id = ({current})"
    );
    (columns, join)
}

/// The assignment [`position_join`] read into `row` (by name: `SELECT p.*` puts the person's
/// columns in the table's physical order), if the person has one.
pub(crate) fn position_in(
    row: &sea_orm::QueryResult,
) -> Result<Option<level_assignment::Model>, DbError> {
    // A LEFT JOIN's absent row is told by its id.
    if row.try_get::<Option<Uuid>>("", "a_id")?.is_none() {
        return Ok(None);
    }
    Ok(Some(
        <level_assignment::Model as sea_orm::FromQueryResult>::from_query_result(row, "a_")?,
    ))
}

/// Assignment rows as domain values, with their track and level keys.
pub(crate) async fn assignments_from<C: ConnectionTrait>(
    c: &C,
    keys: &KeysCache,
    org: OrgId,
    rows: Vec<level_assignment::Model>,
) -> Result<Vec<LevelAssignment>, DbError> {
    let versions = distinct(rows.iter().map(|r| r.version_id));
    let keys = Keys::load(c, keys, org, &versions, Want::POSITIONS).await?;
    rows.into_iter()
        .map(|r| {
            Ok(LevelAssignment {
                id: AssignmentId(r.id),
                person_id: PersonId(r.person_id),
                version_id: VersionId(r.version_id),
                track: keys.key(TRACKS, "track", r.track_id)?,
                level: keys.key(LEVELS, "level", r.level_id)?,
                effective: r.effective,
                reason: r.reason,
                set_by: r.set_by.map(PersonId),
                recorded_at: r.recorded_at,
                case_id: r.case_id.map(CaseId),
                moved_from: r.moved_from.map(AssignmentId),
            })
        })
        .collect()
}

/// Assessment rows as domain values, with their criteria's keys.
pub(crate) async fn assessments_from<C: ConnectionTrait>(
    c: &C,
    keys: &KeysCache,
    org: OrgId,
    rows: Vec<assessment::Model>,
) -> Result<Vec<Assessment>, DbError> {
    let versions = distinct(rows.iter().map(|r| r.version_id));
    let keys = Keys::load(c, keys, org, &versions, Want::EXPECTATIONS).await?;
    rows.into_iter()
        .map(|r| {
            Ok(Assessment {
                id: AssessmentId(r.id),
                person_id: PersonId(r.person_id),
                version_id: VersionId(r.version_id),
                expectation: keys.key(EXPECTATIONS, "expectation", r.expectation_id)?,
                rating: Rating::parse(&r.rating)?,
                assessor_id: PersonId(r.assessor_id),
                role: AssessorRole::parse(&r.assessor_role)?,
                evidence: Evidence {
                    text: r.evidence_text,
                    links: serde_json::from_str(&r.evidence_links).unwrap_or_default(),
                },
                at: r.assessed_at,
                carried_from: r.carried_from.map(AssessmentId),
            })
        })
        .collect()
}
