//! Assessments, level assignments and promotion cases: appended rows whose matrix references
//! (expectation, track and level ids) are resolved by key inside the version each was made
//! against. Readers take a [`Scope`] so that a manager's whole subtree is read with a constant
//! number of statements (a recursive CTE), never one per report.

use crate::audit::Audit;
use crate::entities::*;
use crate::error::DbError;
use crate::repo::{Db, insert_chunked, person_from_row};
use chrono::Utc;
use rungs_domain::assessment::{Assessment, AssessorRole, Evidence, Rating};
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::growth::ReadinessRule;
use rungs_domain::matrix::VersionStatus;
use rungs_domain::person::Person;
use rungs_domain::promotion::{
    CaseEvent, Decision, EventKind, Position, PromotionCase, PromotionStatus,
};
use rungs_domain::text::Key;
use rungs_domain::{AssessmentId, AssignmentId, CaseId, OrgId, PersonId, VersionId};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
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

impl Db {
    fn scoped<E: EntityTrait>(
        &self,
        q: sea_orm::Select<E>,
        org: OrgId,
        scope: Scope,
        table: &str,
        column: &str,
    ) -> sea_orm::Select<E> {
        match scope.condition(self.conn.get_database_backend(), org, table, column) {
            Some(c) => q.filter(c),
            None => q,
        }
    }
}

fn distinct(ids: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
    ids.into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn corrupt(what: &str, id: Uuid) -> DbError {
    DbError::not_found(format!("{what} {id}"))
}

/// Keys of tracks, levels and expectations, by row id, for a few versions (one statement per
/// table, whatever the number of rows that refer to them).
#[derive(Default)]
struct Keys {
    tracks: HashMap<Uuid, (Uuid, String)>,
    levels: HashMap<Uuid, (Uuid, String)>,
    expectations: HashMap<Uuid, (Uuid, String)>,
}

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
    /// ([`crate::cache::published_keys`]); the first read of a version costs a statement more
    /// (its status) and reads all three tables so that it can be kept.
    async fn load<C: ConnectionTrait>(
        c: &C,
        org: OrgId,
        versions: &[Uuid],
        want: Want,
    ) -> Result<Self, DbError> {
        let mut k = Self::default();
        let mut missing = Vec::new();
        for v in versions {
            let kept = crate::cache::published_keys()
                .lock()
                .ok()
                .and_then(|mut c| c.get(&(org, VersionId(*v))).cloned());
            match kept {
                Some(kept) => k.add(*v, &kept),
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
                            .push((r.id, r.key));
                    }
                }
            };
        }
        rows!(track, tracks);
        rows!(level, levels);
        rows!(expectation, expectations);
        for v in missing {
            let keys = Arc::new(read.remove(&v).unwrap_or_default());
            k.add(v, &keys);
            if published.contains(&v)
                && let Ok(mut cache) = crate::cache::published_keys().lock()
            {
                cache.put((org, VersionId(v)), keys);
            }
        }
        Ok(k)
    }

    fn add(&mut self, version: Uuid, keys: &crate::cache::VersionKeys) {
        let pairs = |rows: &[(Uuid, String)]| {
            rows.iter()
                .map(|(id, key)| (*id, (version, key.clone())))
                .collect::<Vec<_>>()
        };
        self.tracks.extend(pairs(&keys.tracks));
        self.levels.extend(pairs(&keys.levels));
        self.expectations.extend(pairs(&keys.expectations));
    }

    fn key(map: &HashMap<Uuid, (Uuid, String)>, what: &str, id: Uuid) -> Result<Key, DbError> {
        let (_, k) = map.get(&id).ok_or_else(|| corrupt(what, id))?;
        Ok(Key::parse(k)?)
    }

    /// The row id of `key` in `version`.
    fn id(
        map: &HashMap<Uuid, (Uuid, String)>,
        what: &str,
        version: Uuid,
        key: &str,
    ) -> Result<Uuid, DbError> {
        map.iter()
            .find(|(_, (v, k))| *v == version && k == key)
            .map(|(id, _)| *id)
            .ok_or_else(|| DbError::not_found(format!("{what} `{key}`")))
    }
}

/// A promotion case filter.
#[derive(Debug, Clone, Copy)]
pub struct CaseFilter {
    pub scope: Scope,
    pub status: Option<PromotionStatus>,
}

impl Db {
    // ---- people and assignments by scope ---------------------------------------------------

    /// The people in `scope`, ordered by email.
    pub async fn people_in(&self, org: OrgId, scope: Scope) -> Result<Vec<Person>, DbError> {
        let q = person::Entity::find().filter(person::Column::OrgId.eq(org.0));
        self.scoped(q, org, scope, "people", "id")
            .order_by_asc(person::Column::Email)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(person_from_row)
            .collect()
    }

    /// The people with these ids (a page's worth), in no particular order.
    pub async fn people_by_ids(
        &self,
        org: OrgId,
        ids: &[PersonId],
    ) -> Result<Vec<Person>, DbError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        person::Entity::find()
            .filter(person::Column::OrgId.eq(org.0))
            .filter(person::Column::Id.is_in(distinct(ids.iter().map(|p| p.0))))
            .all(&self.conn)
            .await?
            .into_iter()
            .map(person_from_row)
            .collect()
    }

    /// The level assignments of everyone in `scope`, oldest first.
    pub async fn assignments_in(
        &self,
        org: OrgId,
        scope: Scope,
    ) -> Result<Vec<LevelAssignment>, DbError> {
        let q = level_assignment::Entity::find().filter(level_assignment::Column::OrgId.eq(org.0));
        let q = self.scoped(q, org, scope, "level_assignments", "person_id");
        self.assignments_where(org, q).await
    }

    /// The level histories of a few people (a page), oldest first.
    pub async fn assignments_of(
        &self,
        org: OrgId,
        people: &[PersonId],
    ) -> Result<Vec<LevelAssignment>, DbError> {
        if people.is_empty() {
            return Ok(Vec::new());
        }
        let q = level_assignment::Entity::find()
            .filter(level_assignment::Column::OrgId.eq(org.0))
            .filter(level_assignment::Column::PersonId.is_in(people.iter().map(|p| p.0)));
        self.assignments_where(org, q).await
    }

    async fn assignments_where(
        &self,
        org: OrgId,
        q: sea_orm::Select<level_assignment::Entity>,
    ) -> Result<Vec<LevelAssignment>, DbError> {
        assignments_where(&self.conn, org, q).await
    }

    // ---- assessments -----------------------------------------------------------------------

    /// Appends assessments in one transaction.
    pub async fn append_assessments(
        &self,
        org: OrgId,
        list: &[Assessment],
        audit: &Audit,
    ) -> Result<(), DbError> {
        if list.is_empty() {
            return Ok(());
        }
        // Self-ratings do not count toward readiness.
        let rated: Vec<PersonId> = list
            .iter()
            .filter(|a| a.role == AssessorRole::Manager)
            .map(|a| a.person_id)
            .collect();
        let _turn = self.serialised().await;
        let txn = self.conn.begin().await?;
        crate::standings::lock(&txn, org, rated.iter().copied()).await?;
        insert_assessments(&txn, org, list).await?;
        crate::standings::refresh(&txn, org, rated).await?;
        crate::audit::write_audit(&txn, org, audit).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The assessments of everyone in `scope`, oldest first; only those against `version` when
    /// one is given.
    pub async fn assessments_in(
        &self,
        org: OrgId,
        scope: Scope,
        version: Option<VersionId>,
    ) -> Result<Vec<Assessment>, DbError> {
        let mut q = assessment::Entity::find().filter(assessment::Column::OrgId.eq(org.0));
        if let Some(v) = version {
            q = q.filter(assessment::Column::VersionId.eq(v.0));
        }
        let rows = self
            .scoped(q, org, scope, "assessments", "person_id")
            .order_by_asc(assessment::Column::AssessedAt)
            .order_by_asc(assessment::Column::Id)
            .all(&self.conn)
            .await?;
        self.assessments_from(org, rows).await
    }

    /// The assessments of a few people (a page), oldest first.
    pub async fn assessments_of(
        &self,
        org: OrgId,
        people: &[PersonId],
    ) -> Result<Vec<Assessment>, DbError> {
        if people.is_empty() {
            return Ok(Vec::new());
        }
        let rows = assessment::Entity::find()
            .filter(assessment::Column::OrgId.eq(org.0))
            .filter(assessment::Column::PersonId.is_in(distinct(people.iter().map(|p| p.0))))
            .order_by_asc(assessment::Column::AssessedAt)
            .order_by_asc(assessment::Column::Id)
            .all(&self.conn)
            .await?;
        self.assessments_from(org, rows).await
    }

    /// One page of a person's assessments, newest first, optionally of one criterion (by key,
    /// in any version) or one assessor role, after the assessment `after`: filter, order and
    /// page in SQL. Returns the page, whether there is more, and the total.
    pub async fn assessments_page(
        &self,
        org: OrgId,
        person: PersonId,
        expectation: Option<&str>,
        role: Option<AssessorRole>,
        after: Option<AssessmentId>,
        first: usize,
    ) -> Result<(Vec<Assessment>, bool, usize), DbError> {
        use sea_orm::PaginatorTrait;
        let b = self.conn.get_database_backend();
        let mut q = assessment::Entity::find()
            .filter(assessment::Column::OrgId.eq(org.0))
            .filter(assessment::Column::PersonId.eq(person.0));
        if let Some(k) = expectation {
            q = q.filter(Expr::cust_with_values(
                format!(
                    "assessments.expectation_id IN (SELECT x.id FROM expectations x WHERE x.org_id = {} AND x.key = {})",
                    crate::paging::placeholder(b, 1),
                    crate::paging::placeholder(b, 2)
                ),
                [sea_orm::Value::from(org.0), k.into()],
            ));
        }
        if let Some(r) = role {
            q = q.filter(assessment::Column::AssessorRole.eq(r.as_str()));
        }
        let total = q.clone().count(&self.conn).await?;
        let (rows, has_next) = crate::paging::newest_first(
            &self.conn,
            q,
            "assessments",
            (assessment::Column::AssessedAt, "assessed_at"),
            assessment::Column::Id,
            org,
            after.map(|a| a.0),
            first,
        )
        .await?;
        Ok((
            self.assessments_from(org, rows).await?,
            has_next,
            usize::try_from(total).unwrap_or(usize::MAX),
        ))
    }

    async fn assessments_from(
        &self,
        org: OrgId,
        rows: Vec<assessment::Model>,
    ) -> Result<Vec<Assessment>, DbError> {
        assessments_from(&self.conn, org, rows).await
    }

    // ---- promotion cases ---------------------------------------------------------------------

    /// Opens a promotion case with its first event ("proposed"), in one transaction. Refuses
    /// (Conflict) when the person already has an open case.
    pub async fn insert_case(
        &self,
        org: OrgId,
        case: &PromotionCase,
        audit: &Audit,
    ) -> Result<(), DbError> {
        let _turn = self.serialised().await;
        let txn = self.conn.begin().await?;
        let open = promotion_case::Entity::find()
            .filter(promotion_case::Column::OrgId.eq(org.0))
            .filter(promotion_case::Column::PersonId.eq(case.person_id.0))
            .filter(promotion_case::Column::Status.eq(PromotionStatus::Proposed.as_str()))
            .one(&txn)
            .await?;
        if open.is_some() {
            return Err(DbError::Conflict {
                what: "an open promotion case for this person".into(),
            });
        }
        insert_case_row(&txn, org, case).await?;
        let event = CaseEvent::new(
            case.id,
            EventKind::Proposed,
            case.proposer_id,
            &case.justification,
            case.proposed_at,
        );
        insert_event(&txn, org, &event).await?;
        crate::audit::write_audit(&txn, org, audit).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The cases matching `filter`, newest first.
    pub async fn cases(
        &self,
        org: OrgId,
        filter: CaseFilter,
    ) -> Result<Vec<PromotionCase>, DbError> {
        let mut q = promotion_case::Entity::find().filter(promotion_case::Column::OrgId.eq(org.0));
        if let Some(s) = filter.status {
            q = q.filter(promotion_case::Column::Status.eq(s.as_str()));
        }
        let rows = self
            .scoped(q, org, filter.scope, "promotion_cases", "person_id")
            .order_by_desc(promotion_case::Column::ProposedAt)
            .order_by_desc(promotion_case::Column::Id)
            .all(&self.conn)
            .await?;
        cases_from_rows(&self.conn, org, rows).await
    }

    /// One page of the cases in `reach` (everyone, or a person and the people below them),
    /// optionally of one status, newest first, after the case `after`: filter, order and page
    /// in SQL. Returns the page, whether there is more, and the total (counted only when
    /// `want_total`; otherwise 0).
    pub async fn cases_page(
        &self,
        org: OrgId,
        reach: crate::Reach,
        status: Option<PromotionStatus>,
        after: Option<CaseId>,
        first: usize,
        want_total: bool,
    ) -> Result<(Vec<PromotionCase>, bool, usize), DbError> {
        use sea_orm::PaginatorTrait;
        let b = self.conn.get_database_backend();
        let mut q = promotion_case::Entity::find().filter(promotion_case::Column::OrgId.eq(org.0));
        if let crate::Reach::LinesOf(me) = reach {
            let below = Scope::ReportsOf(me)
                .condition(b, org, "promotion_cases", "person_id")
                .expect("a subtree has a condition");
            q = q.filter(promotion_case::Column::PersonId.eq(me.0).or(below));
        }
        if let Some(s) = status {
            q = q.filter(promotion_case::Column::Status.eq(s.as_str()));
        }
        let total = if want_total {
            q.clone().count(&self.conn).await?
        } else {
            0
        };
        let (rows, has_next) = crate::paging::newest_first(
            &self.conn,
            q,
            "promotion_cases",
            (promotion_case::Column::ProposedAt, "proposed_at"),
            promotion_case::Column::Id,
            org,
            after.map(|a| a.0),
            first,
        )
        .await?;
        Ok((
            cases_from_rows(&self.conn, org, rows).await?,
            has_next,
            usize::try_from(total).unwrap_or(usize::MAX),
        ))
    }

    /// The open (proposed) cases of a few people (a page).
    pub async fn open_cases_of(
        &self,
        org: OrgId,
        people: &[PersonId],
    ) -> Result<Vec<PromotionCase>, DbError> {
        if people.is_empty() {
            return Ok(Vec::new());
        }
        let rows = promotion_case::Entity::find()
            .filter(promotion_case::Column::OrgId.eq(org.0))
            .filter(promotion_case::Column::Status.eq(PromotionStatus::Proposed.as_str()))
            .filter(promotion_case::Column::PersonId.is_in(distinct(people.iter().map(|p| p.0))))
            .all(&self.conn)
            .await?;
        cases_from_rows(&self.conn, org, rows).await
    }

    /// A few cases by id (a page's); unknown ids are left out.
    pub async fn cases_by_ids(
        &self,
        org: OrgId,
        ids: &[CaseId],
    ) -> Result<Vec<PromotionCase>, DbError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = promotion_case::Entity::find()
            .filter(promotion_case::Column::OrgId.eq(org.0))
            .filter(promotion_case::Column::Id.is_in(distinct(ids.iter().map(|c| c.0))))
            .all(&self.conn)
            .await?;
        cases_from_rows(&self.conn, org, rows).await
    }

    /// The open (proposed) cases of everyone in `scope`.
    pub async fn open_cases(
        &self,
        org: OrgId,
        scope: Scope,
    ) -> Result<Vec<PromotionCase>, DbError> {
        let status = Some(PromotionStatus::Proposed);
        self.cases(org, CaseFilter { scope, status }).await
    }

    /// One case with its events, oldest first.
    pub async fn case(
        &self,
        org: OrgId,
        id: CaseId,
    ) -> Result<Option<(PromotionCase, Vec<CaseEvent>)>, DbError> {
        let Some(row) = promotion_case::Entity::find()
            .filter(promotion_case::Column::OrgId.eq(org.0))
            .filter(promotion_case::Column::Id.eq(id.0))
            .one(&self.conn)
            .await?
        else {
            return Ok(None);
        };
        let case = cases_from_rows(&self.conn, org, vec![row])
            .await?
            .pop()
            .ok_or_else(|| DbError::not_found("promotion case"))?;
        let events = self.events_of(org, &[id]).await?;
        Ok(Some((case, events)))
    }

    /// The events of a few cases (a page), oldest first.
    pub async fn events_of(&self, org: OrgId, cases: &[CaseId]) -> Result<Vec<CaseEvent>, DbError> {
        if cases.is_empty() {
            return Ok(Vec::new());
        }
        promotion_event::Entity::find()
            .filter(promotion_event::Column::OrgId.eq(org.0))
            .filter(promotion_event::Column::CaseId.is_in(distinct(cases.iter().map(|c| c.0))))
            .order_by_asc(promotion_event::Column::At)
            .order_by_asc(promotion_event::Column::Id)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(event_from_row)
            .collect()
    }

    /// Appends a comment (or any event that does not change the case's status).
    pub async fn add_case_event(
        &self,
        org: OrgId,
        event: &CaseEvent,
        audit: &Audit,
    ) -> Result<(), DbError> {
        let _turn = self.serialised().await;
        let txn = self.conn.begin().await?;
        insert_event(&txn, org, event).await?;
        crate::audit::write_audit(&txn, org, audit).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Closes an open case (approved, rejected or withdrawn) with its event and, for an
    /// approval, the new level assignment: one transaction, all or nothing. The update is
    /// conditional on the case still being open, so of two concurrent decisions one wins and
    /// the other gets `Conflict`.
    pub async fn close_case(
        &self,
        org: OrgId,
        case: &PromotionCase,
        event: &CaseEvent,
        assignment: Option<&LevelAssignment>,
        audit: &Audit,
    ) -> Result<(), DbError> {
        let decision = case
            .decision
            .as_ref()
            .ok_or_else(|| DbError::not_found("a decision on the case"))?;
        let _turn = self.serialised().await;
        let txn = self.conn.begin().await?;
        if assignment.is_some() {
            crate::standings::lock(&txn, org, [case.person_id]).await?;
        }
        let updated = promotion_case::Entity::update_many()
            .col_expr(
                promotion_case::Column::Status,
                Expr::value(case.status.as_str()),
            )
            .col_expr(
                promotion_case::Column::DecidedBy,
                Expr::value(decision.by.0),
            )
            .col_expr(promotion_case::Column::DecidedAt, Expr::value(decision.at))
            .col_expr(
                promotion_case::Column::DecisionNote,
                Expr::value(decision.note.clone()),
            )
            .col_expr(
                promotion_case::Column::Effective,
                Expr::value(case.effective),
            )
            .filter(promotion_case::Column::OrgId.eq(org.0))
            .filter(promotion_case::Column::Id.eq(case.id.0))
            .filter(promotion_case::Column::Status.eq(PromotionStatus::Proposed.as_str()))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(DbError::Conflict {
                what: "a decision on this case".into(),
            });
        }
        insert_event(&txn, org, event).await?;
        if let Some(a) = assignment {
            crate::repo::append_assignments(&txn, org, std::slice::from_ref(a)).await?;
            crate::standings::refresh(&txn, org, [a.person_id]).await?;
        }
        crate::audit::write_audit(&txn, org, audit).await?;
        txn.commit().await?;
        Ok(())
    }

    /// How many assessments and open promotion cases an organisation has.
    pub async fn growth_counts(&self, org: OrgId) -> Result<(u64, u64), DbError> {
        use sea_orm::PaginatorTrait;
        let assessments = assessment::Entity::find()
            .filter(assessment::Column::OrgId.eq(org.0))
            .count(&self.conn)
            .await?;
        let open = promotion_case::Entity::find()
            .filter(promotion_case::Column::OrgId.eq(org.0))
            .filter(promotion_case::Column::Status.eq(PromotionStatus::Proposed.as_str()))
            .count(&self.conn)
            .await?;
        Ok((assessments, open))
    }

    // ---- readiness rule ----------------------------------------------------------------------

    /// The organisation's readiness rule (the default until one is set).
    pub async fn readiness_rule(&self, org: OrgId) -> Result<ReadinessRule, DbError> {
        rule_on(&self.conn, org).await
    }

    /// Replaces the organisation's readiness rule.
    pub async fn set_readiness_rule(
        &self,
        org: OrgId,
        rule: &ReadinessRule,
        by: Option<PersonId>,
        audit: &Audit,
    ) -> Result<(), DbError> {
        let row = readiness_rule::ActiveModel {
            id: Set(org.0),
            org_id: Set(org.0),
            min_rating: Set(rule.min_rating.as_str().to_owned()),
            min_months_in_level: Set(rule.min_months_in_level as i32),
            min_score_permille: Set((rule.min_score * 1000.0).round() as i32),
            updated_by: Set(by.map(|p| p.0)),
            updated_at: Set(Utc::now()),
        };
        let _turn = self.serialised().await;
        let txn = self.conn.begin().await?;
        readiness_rule::Entity::delete_many()
            .filter(readiness_rule::Column::OrgId.eq(org.0))
            .exec(&txn)
            .await?;
        readiness_rule::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
        // Who is ready changes with the rule: every standing of the organisation, here.
        // As stored (the score in thousandths), as every reader will read it.
        let stored = rule_on(&txn, org).await?;
        crate::standings::apply_rule(&txn, org, &stored, Utc::now().date_naive()).await?;
        crate::audit::write_audit(&txn, org, audit).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// The organisation's readiness rule (the default until one is set), read on `c`.
pub(crate) async fn rule_on<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
) -> Result<ReadinessRule, DbError> {
    let Some(r) = readiness_rule::Entity::find_by_id(org.0)
        .filter(readiness_rule::Column::OrgId.eq(org.0))
        .one(c)
        .await?
    else {
        return Ok(ReadinessRule::default());
    };
    Ok(ReadinessRule::new(
        Rating::parse(&r.min_rating)?,
        u32::try_from(r.min_months_in_level).unwrap_or(0),
        f64::from(r.min_score_permille) / 1000.0,
    )?)
}

/// Inserts assessments, resolving each expectation key in the assessment's version.
pub(crate) async fn insert_assessments<C: ConnectionTrait>(
    txn: &C,
    org: OrgId,
    list: &[Assessment],
) -> Result<(), DbError> {
    if list.is_empty() {
        return Ok(());
    }
    let versions = distinct(list.iter().map(|a| a.version_id.0));
    let keys = Keys::load(txn, org, &versions, Want::EXPECTATIONS).await?;
    let by_key: HashMap<(Uuid, &str), Uuid> = keys
        .expectations
        .iter()
        .map(|(id, (v, k))| ((*v, k.as_str()), *id))
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
    org: OrgId,
    case: &PromotionCase,
) -> Result<(), DbError> {
    let v = case.version_id.0;
    let keys = Keys::load(txn, org, &[v], Want::POSITIONS).await?;
    let t = |k: &Key| Keys::id(&keys.tracks, "track", v, k.as_str());
    let l = |k: &Key| Keys::id(&keys.levels, "level", v, k.as_str());
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

async fn cases_from_rows<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    rows: Vec<promotion_case::Model>,
) -> Result<Vec<PromotionCase>, DbError> {
    let versions = distinct(rows.iter().map(|r| r.version_id));
    let keys = Keys::load(c, org, &versions, Want::POSITIONS).await?;
    let pos = |t: Uuid, l: Uuid| -> Result<Position, DbError> {
        Ok(Position {
            track: Keys::key(&keys.tracks, "track", t)?,
            level: Keys::key(&keys.levels, "level", l)?,
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
    org: OrgId,
    q: sea_orm::Select<level_assignment::Entity>,
) -> Result<Vec<LevelAssignment>, DbError> {
    let rows = q
        .order_by_asc(level_assignment::Column::Effective)
        .order_by_asc(level_assignment::Column::RecordedAt)
        .all(c)
        .await?;
    let versions = distinct(rows.iter().map(|r| r.version_id));
    let keys = Keys::load(c, org, &versions, Want::POSITIONS).await?;
    rows.into_iter()
        .map(|r| {
            Ok(LevelAssignment {
                id: AssignmentId(r.id),
                person_id: PersonId(r.person_id),
                version_id: VersionId(r.version_id),
                track: Keys::key(&keys.tracks, "track", r.track_id)?,
                level: Keys::key(&keys.levels, "level", r.level_id)?,
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
    org: OrgId,
    rows: Vec<assessment::Model>,
) -> Result<Vec<Assessment>, DbError> {
    let versions = distinct(rows.iter().map(|r| r.version_id));
    let keys = Keys::load(c, org, &versions, Want::EXPECTATIONS).await?;
    rows.into_iter()
        .map(|r| {
            Ok(Assessment {
                id: AssessmentId(r.id),
                person_id: PersonId(r.person_id),
                version_id: VersionId(r.version_id),
                expectation: Keys::key(&keys.expectations, "expectation", r.expectation_id)?,
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
