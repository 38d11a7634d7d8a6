//! Growth records as the app uses them: assessments, level assignments, promotion cases and the
//! readiness rule, read by [`Scope`] and written with the standings they change.

use crate::core::{Db, Tx};
use crate::entities::*;
use crate::error::DbError;
use crate::records::*;
use crate::rows::person_from_row;
use chrono::Utc;
use rungs_domain::assessment::{Assessment, AssessorRole};
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::growth::ReadinessRule;
use rungs_domain::person::Person;
use rungs_domain::promotion::{CaseEvent, EventKind, PromotionCase, PromotionStatus};
use rungs_domain::{AssessmentId, CaseId, OrgId, PersonId, VersionId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

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
        assignments_where(&self.conn, &self.keys, org, q).await
    }

    // ---- assessments -----------------------------------------------------------------------

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
        assessments_from(&self.conn, &self.keys, org, rows).await
    }

    // ---- promotion cases ---------------------------------------------------------------------

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
        cases_from_rows(&self.conn, &self.keys, org, rows).await
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
            cases_from_rows(&self.conn, &self.keys, org, rows).await?,
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
        cases_from_rows(&self.conn, &self.keys, org, rows).await
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
        cases_from_rows(&self.conn, &self.keys, org, rows).await
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
        let case = cases_from_rows(&self.conn, &self.keys, org, vec![row])
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
}

impl Db {
    // ---- level assignments ---------------------------------------------------------------

    /// Every assignment of the organisation (or of one person), oldest first.
    pub async fn assignments(
        &self,
        org: OrgId,
        person: Option<PersonId>,
    ) -> Result<Vec<LevelAssignment>, DbError> {
        let scope = person.map_or(crate::Scope::Org, crate::Scope::Person);
        self.assignments_in(org, scope).await
    }
}

/// The growth records' writes, composed by use cases in one [`Db::write`]: each locks and
/// recomputes the standings it changes in the same transaction.
impl Tx {
    /// Appends assessments; manager ratings change their people's standings.
    pub async fn append_assessments(&self, list: &[Assessment]) -> Result<(), DbError> {
        if list.is_empty() {
            return Ok(());
        }
        // Self-ratings do not count toward readiness.
        let rated: Vec<PersonId> = list
            .iter()
            .filter(|a| a.role == AssessorRole::Manager)
            .map(|a| a.person_id)
            .collect();
        crate::standings::lock(&self.txn, self.org, rated.iter().copied()).await?;
        insert_assessments(&self.txn, &self.keys, self.org, list).await?;
        crate::standings::refresh(&self.txn, &self.keys, self.org, rated).await
    }

    /// Appends a level assignment (in force from its effective date).
    pub async fn append_assignment(&self, a: &LevelAssignment) -> Result<(), DbError> {
        crate::standings::lock(&self.txn, self.org, [a.person_id]).await?;
        append_assignments(&self.txn, self.org, std::slice::from_ref(a)).await?;
        crate::standings::refresh(&self.txn, &self.keys, self.org, [a.person_id]).await
    }

    /// Opens a promotion case with its first event ("proposed"). Refuses (Conflict) when the
    /// person already has an open case.
    pub async fn open_case(&self, case: &PromotionCase) -> Result<(), DbError> {
        let org = self.org;
        let open = promotion_case::Entity::find()
            .filter(promotion_case::Column::OrgId.eq(org.0))
            .filter(promotion_case::Column::PersonId.eq(case.person_id.0))
            .filter(promotion_case::Column::Status.eq(PromotionStatus::Proposed.as_str()))
            .one(&self.txn)
            .await?;
        if open.is_some() {
            return Err(DbError::Conflict {
                what: "an open promotion case for this person".into(),
            });
        }
        insert_case_row(&self.txn, &self.keys, org, case).await?;
        let event = CaseEvent::new(
            case.id,
            EventKind::Proposed,
            case.proposer_id,
            &case.justification,
            case.proposed_at,
        );
        insert_event(&self.txn, org, &event).await
    }

    /// Appends an event to a case: a comment, or any event that does not change its status.
    pub async fn add_case_event(&self, event: &CaseEvent) -> Result<(), DbError> {
        insert_event(&self.txn, self.org, event).await
    }

    /// Closes an open case (approved, rejected or withdrawn) with its event. The update is
    /// conditional on the case still being open, so of two concurrent decisions one wins and
    /// the other gets `Conflict` (and its transaction, an approval's new level with it, is
    /// rolled back).
    pub async fn close_case(&self, case: &PromotionCase, event: &CaseEvent) -> Result<(), DbError> {
        let org = self.org;
        let decision = case
            .decision
            .as_ref()
            .ok_or_else(|| DbError::not_found("a decision on the case"))?;
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
            .exec(&self.txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(DbError::Conflict {
                what: "a decision on this case".into(),
            });
        }
        insert_event(&self.txn, org, event).await
    }

    /// Replaces the organisation's readiness rule (set by `by`); who is ready follows.
    pub async fn set_readiness_rule(
        &self,
        rule: &ReadinessRule,
        by: Option<PersonId>,
    ) -> Result<(), DbError> {
        let org = self.org;
        let row = readiness_rule::ActiveModel {
            id: Set(org.0),
            org_id: Set(org.0),
            min_rating: Set(rule.min_rating.as_str().to_owned()),
            min_months_in_level: Set(rule.min_months_in_level as i32),
            min_score_permille: Set((rule.min_score * 1000.0).round() as i32),
            updated_by: Set(by.map(|p| p.0)),
            updated_at: Set(Utc::now()),
        };
        readiness_rule::Entity::delete_many()
            .filter(readiness_rule::Column::OrgId.eq(org.0))
            .exec(&self.txn)
            .await?;
        readiness_rule::Entity::insert(row)
            .exec_without_returning(&self.txn)
            .await?;
        // Who is ready changes with the rule: every standing of the organisation, here.
        // As stored (the score in thousandths), as every reader will read it.
        let stored = rule_on(&self.txn, org).await?;
        crate::standings::apply_rule(&self.txn, org, &stored, Utc::now().date_naive()).await
    }
}
