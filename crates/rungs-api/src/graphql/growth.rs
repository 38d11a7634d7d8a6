//! Growth: assessments, growth plans, readiness, teams, calibration, the readiness rule and
//! promotion cases. Who may do what is the policy's; these resolvers only translate.

use super::Ctx;
use super::graph::reader;
use super::types::{Expectation, Level, LevelAssignment, MatrixVersion, Person, Resource};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use rungs_app::{self as app, AppError};
use rungs_domain as d;
use rungs_domain::{CaseId, PersonId};

// ---- enums ---------------------------------------------------------------------------------

/// The closed rating scale, lowest first.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum Rating {
    NotYet,
    Developing,
    Meets,
    Exceeds,
}

impl From<Rating> for d::assessment::Rating {
    fn from(r: Rating) -> Self {
        match r {
            Rating::NotYet => Self::NotYet,
            Rating::Developing => Self::Developing,
            Rating::Meets => Self::Meets,
            Rating::Exceeds => Self::Exceeds,
        }
    }
}

impl From<d::assessment::Rating> for Rating {
    fn from(r: d::assessment::Rating) -> Self {
        match r {
            d::assessment::Rating::NotYet => Self::NotYet,
            d::assessment::Rating::Developing => Self::Developing,
            d::assessment::Rating::Meets => Self::Meets,
            d::assessment::Rating::Exceeds => Self::Exceeds,
        }
    }
}

/// Who gave a rating, relative to the person rated.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum AssessorRole {
    #[graphql(name = "SELF")]
    Myself,
    Manager,
}

impl From<d::assessment::AssessorRole> for AssessorRole {
    fn from(r: d::assessment::AssessorRole) -> Self {
        match r {
            d::assessment::AssessorRole::Myself => Self::Myself,
            d::assessment::AssessorRole::Manager => Self::Manager,
        }
    }
}

impl From<AssessorRole> for d::assessment::AssessorRole {
    fn from(r: AssessorRole) -> Self {
        match r {
            AssessorRole::Myself => Self::Myself,
            AssessorRole::Manager => Self::Manager,
        }
    }
}

/// Where an expectation stands: met, in progress (rated below the organisation's minimum),
/// not yet (rated not yet), or not assessed by a manager.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ExpectationStatus {
    Met,
    InProgress,
    NotYet,
    NotAssessed,
}

impl From<d::growth::ExpectationStatus> for ExpectationStatus {
    fn from(s: d::growth::ExpectationStatus) -> Self {
        use d::growth::ExpectationStatus as S;
        match s {
            S::Met => Self::Met,
            S::InProgress => Self::InProgress,
            S::NotYet => Self::NotYet,
            S::NotAssessed => Self::NotAssessed,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ReasonKind {
    NoLevel,
    TopOfTrack,
    Expectations,
    TimeInLevel,
    OpenCase,
}

impl From<d::growth::ReasonKind> for ReasonKind {
    fn from(k: d::growth::ReasonKind) -> Self {
        use d::growth::ReasonKind as K;
        match k {
            K::NoLevel => Self::NoLevel,
            K::TopOfTrack => Self::TopOfTrack,
            K::Expectations => Self::Expectations,
            K::TimeInLevel => Self::TimeInLevel,
            K::OpenCase => Self::OpenCase,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PromotionStatus {
    Proposed,
    Approved,
    Rejected,
    Withdrawn,
}

impl From<d::promotion::PromotionStatus> for PromotionStatus {
    fn from(s: d::promotion::PromotionStatus) -> Self {
        use d::promotion::PromotionStatus as S;
        match s {
            S::Proposed => Self::Proposed,
            S::Approved => Self::Approved,
            S::Rejected => Self::Rejected,
            S::Withdrawn => Self::Withdrawn,
        }
    }
}

impl From<PromotionStatus> for d::promotion::PromotionStatus {
    fn from(s: PromotionStatus) -> Self {
        match s {
            PromotionStatus::Proposed => Self::Proposed,
            PromotionStatus::Approved => Self::Approved,
            PromotionStatus::Rejected => Self::Rejected,
            PromotionStatus::Withdrawn => Self::Withdrawn,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CaseEventKind {
    Proposed,
    Commented,
    Approved,
    Rejected,
    Withdrawn,
}

impl From<d::promotion::EventKind> for CaseEventKind {
    fn from(k: d::promotion::EventKind) -> Self {
        use d::promotion::EventKind as K;
        match k {
            K::Proposed => Self::Proposed,
            K::Commented => Self::Commented,
            K::Approved => Self::Approved,
            K::Rejected => Self::Rejected,
            K::Withdrawn => Self::Withdrawn,
        }
    }
}

/// How `team` is ordered.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum TeamSort {
    /// Ready first, then by score and time in level.
    #[default]
    Readiness,
    Name,
    /// Highest level first.
    Level,
}

/// Which of a team `team` keeps (all conditions must hold).
#[derive(InputObject, Default)]
pub struct TeamFilterInput {
    /// Only the people the readiness rule calls ready.
    #[graphql(default)]
    pub ready_only: bool,
    /// The start of a word of the name or email and what follows it, any case or accent (`berg` finds
    /// Mira Bergström and mira.berg5@…; `mira berg` the name; `erg` neither).
    pub search: Option<String>,
    /// Current track key, such as `python-developer`.
    pub track: Option<String>,
}

// ---- objects -------------------------------------------------------------------------------

/// A track and level.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "PositionInput")]
pub struct Position {
    pub track: String,
    pub level: String,
}

impl From<&d::promotion::Position> for Position {
    fn from(p: &d::promotion::Position) -> Self {
        Self {
            track: p.track.to_string(),
            level: p.level.to_string(),
        }
    }
}

/// One rating of one expectation, with its evidence.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Assessment {
    pub id: ID,
    pub person_id: ID,
    pub matrix_version_id: ID,
    pub expectation_key: String,
    pub rating: Rating,
    pub role: AssessorRole,
    pub assessor_id: ID,
    #[graphql(skip)]
    pub assessor_key: PersonId,
    /// The assessor, when already read with the assessment.
    #[graphql(skip)]
    pub known_assessor: Option<d::person::Person>,
    pub evidence: String,
    pub links: Vec<String>,
    pub assessed_at: DateTime<Utc>,
    /// On a copy carried over to a newer matrix version: the assessment it was made as (against
    /// the version in that assessment's `matrixVersionId`).
    pub carried_from_id: Option<ID>,
}

impl From<d::assessment::Assessment> for Assessment {
    fn from(a: d::assessment::Assessment) -> Self {
        Self {
            id: ID(a.id.0.to_string()),
            person_id: ID(a.person_id.to_string()),
            matrix_version_id: ID(a.version_id.to_string()),
            expectation_key: a.expectation.to_string(),
            rating: a.rating.into(),
            role: a.role.into(),
            assessor_id: ID(a.assessor_id.to_string()),
            assessor_key: a.assessor_id,
            known_assessor: None,
            evidence: a.evidence.text,
            links: a.evidence.links,
            assessed_at: a.at,
            carried_from_id: a.carried_from.map(|c| ID(c.0.to_string())),
        }
    }
}

impl From<app::AssessmentView> for Assessment {
    fn from(v: app::AssessmentView) -> Self {
        Self {
            known_assessor: v.assessor,
            ..v.assessment.into()
        }
    }
}

/// A level of a track as the matrix describes it.
#[derive(SimpleObject)]
pub struct Standing {
    pub track: String,
    pub track_name: String,
    pub level: Level,
    pub titles: Vec<String>,
}

impl From<&d::growth::Standing> for Standing {
    fn from(s: &d::growth::Standing) -> Self {
        Self {
            track: s.track.to_string(),
            track_name: s.track_name.clone(),
            level: (&s.level).into(),
            titles: s.titles.clone(),
        }
    }
}

/// One expectation of a growth plan.
#[derive(SimpleObject)]
pub struct PlanItem {
    /// The level that introduces it.
    pub level: Level,
    pub expectation: Expectation,
    pub status: ExpectationStatus,
    /// Met by holding this level (or a higher one) of this track.
    pub held: bool,
    /// The latest manager rating: the one that counts.
    pub manager_rating: Option<Assessment>,
    /// The latest self-rating, shown beside it.
    pub self_rating: Option<Assessment>,
}

impl From<&d::growth::PlanItem> for PlanItem {
    fn from(i: &d::growth::PlanItem) -> Self {
        Self {
            level: (&i.level).into(),
            expectation: (&i.expectation).into(),
            status: i.status.into(),
            held: i.held,
            manager_rating: i.manager.clone().map(Into::into),
            self_rating: i.myself.clone().map(Into::into),
        }
    }
}

#[derive(SimpleObject)]
pub struct LevelResource {
    pub level: String,
    pub resource: Resource,
}

/// What it takes to reach a level.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct GrowthPlan {
    pub person: Person,
    pub matrix_key: String,
    /// The version the plan was computed against.
    pub matrix_version: MatrixVersion,
    pub current: Option<Standing>,
    pub target: Standing,
    /// The target is on another track.
    pub lateral: bool,
    /// No target was given and the person holds the top level of their track.
    pub top_of_track: bool,
    pub met: usize,
    pub total: usize,
    /// Met over total, from 0 to 1.
    pub progress: f64,
    pub complete: bool,
    /// The plan itself: its expectations and resources become GraphQL objects only when a
    /// query asks for them (a plan's items, with their texts and ratings, are most of it).
    #[graphql(skip)]
    plan: d::growth::GrowthPlan,
}

#[async_graphql::ComplexObject]
impl GrowthPlan {
    /// Every expectation the target requires (cumulative), in matrix order.
    async fn items(&self) -> Vec<PlanItem> {
        self.plan.items.iter().map(Into::into).collect()
    }

    /// The expectations not met yet, in matrix order, each with its resources.
    async fn gaps(&self) -> Vec<PlanItem> {
        self.plan.gaps().map(Into::into).collect()
    }

    /// Resources of the levels still ahead on the target track.
    async fn level_resources(&self) -> Vec<LevelResource> {
        self.plan
            .level_resources
            .iter()
            .map(|(l, r)| LevelResource {
                level: l.to_string(),
                resource: r.into(),
            })
            .collect()
    }
}

impl From<app::PlanView> for GrowthPlan {
    fn from(v: app::PlanView) -> Self {
        let p = v.plan;
        Self {
            matrix_key: v.version.matrix_key.to_string(),
            current: p.current.as_ref().map(Into::into),
            target: (&p.target).into(),
            lateral: p.lateral,
            top_of_track: p.top_of_track,
            met: p.met(),
            total: p.total(),
            progress: p.progress(),
            complete: p.is_complete(),
            matrix_version: v.version.into(),
            person: v.person.into(),
            plan: p,
        }
    }
}

#[derive(SimpleObject)]
pub struct Reason {
    pub kind: ReasonKind,
    /// Does it speak for readiness?
    pub ok: bool,
    pub message: String,
}

/// A person's readiness for their next level, explained.
#[derive(SimpleObject)]
pub struct Readiness {
    pub person: Person,
    /// A direct report of the manager the team was asked for.
    pub direct: bool,
    pub current: Option<LevelAssignment>,
    pub standing: Option<Standing>,
    /// The next level, when there is one.
    pub target: Option<Standing>,
    /// The fraction (0 to 1) of the next level's new expectations that are met.
    pub score: f64,
    pub ready: bool,
    /// Keys of the next level's new expectations that are met, and of those missing.
    pub met: Vec<String>,
    pub missing: Vec<String>,
    pub in_level_since: Option<NaiveDate>,
    pub months_in_level: Option<u32>,
    pub open_case: Option<PromotionCase>,
    pub reasons: Vec<Reason>,
}

/// The fields of a team member that the kept standings answer ([`app::TeamRow`]).
const FROM_STANDINGS: [&str; 7] = [
    "person",
    "direct",
    "score",
    "ready",
    "inLevelSince",
    "monthsInLevel",
    "__typename",
];

/// Whether this `team` query asks its members only for what the kept standings answer, so
/// that no member's readiness is computed in full.
fn kept_standings_answer(ctx: &Context<'_>) -> bool {
    let light = |node: async_graphql::SelectionField<'_>| {
        node.selection_set()
            .all(|f| FROM_STANDINGS.contains(&f.name()))
    };
    ctx.field().selection_set().all(|f| match f.name() {
        "edges" => f.selection_set().all(|e| e.name() != "node" || light(e)),
        "nodes" => light(f),
        _ => true,
    })
}

impl Readiness {
    /// A team member from the kept standings: only [`FROM_STANDINGS`] is filled, and only
    /// queries that select nothing else get one ([`kept_standings_answer`]).
    fn from_row(r: app::TeamRow) -> Self {
        Self {
            direct: r.direct,
            current: None,
            standing: None,
            target: None,
            score: r.score,
            ready: r.ready,
            met: Vec::new(),
            missing: Vec::new(),
            in_level_since: r.in_level_since,
            months_in_level: r.months_in_level,
            open_case: None,
            reasons: Vec::new(),
            person: r.person.into(),
        }
    }
}

impl From<app::ReadinessView> for Readiness {
    fn from(v: app::ReadinessView) -> Self {
        let r = v.readiness;
        Self {
            direct: v.direct,
            current: v.current.map(Into::into),
            standing: v.standing.as_ref().map(Into::into),
            target: r.target.as_ref().map(Into::into),
            score: r.score,
            ready: r.ready,
            met: r.met.iter().map(ToString::to_string).collect(),
            missing: r.missing.iter().map(ToString::to_string).collect(),
            in_level_since: r.in_level_since,
            months_in_level: r.months_in_level,
            open_case: r.open_case.map(PromotionCase::bare),
            reasons: r
                .reasons
                .into_iter()
                .map(|x| Reason {
                    kind: x.kind.into(),
                    ok: x.ok,
                    message: x.message,
                })
                .collect(),
            person: v.person.into(),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CaseEvent {
    pub id: ID,
    pub kind: CaseEventKind,
    pub actor_id: ID,
    #[graphql(skip)]
    pub actor_key: PersonId,
    #[graphql(skip)]
    pub known_actor: Option<d::person::Person>,
    pub note: String,
    pub at: DateTime<Utc>,
}

impl From<app::EventView> for CaseEvent {
    fn from(e: app::EventView) -> Self {
        Self {
            id: ID(e.event.id.to_string()),
            kind: e.event.kind.into(),
            actor_id: ID(e.event.actor_id.to_string()),
            actor_key: e.event.actor_id,
            known_actor: e.actor,
            note: e.event.note,
            at: e.event.at,
        }
    }
}

/// A proposed promotion and what became of it.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PromotionCase {
    pub id: ID,
    pub person_id: ID,
    pub matrix_version_id: ID,
    pub from: Position,
    pub to: Position,
    pub proposer_id: ID,
    pub justification: String,
    pub status: PromotionStatus,
    pub proposed_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// When the new level takes effect (approved cases).
    pub effective: Option<NaiveDate>,
    #[graphql(skip)]
    pub case: d::promotion::PromotionCase,
    /// The people it names, when already read with it.
    #[graphql(skip)]
    pub known_people: Vec<d::person::Person>,
    #[graphql(skip)]
    pub known_events: Option<Vec<app::EventView>>,
}

impl PromotionCase {
    pub(crate) fn bare(c: d::promotion::PromotionCase) -> Self {
        Self {
            id: ID(c.id.to_string()),
            person_id: ID(c.person_id.to_string()),
            matrix_version_id: ID(c.version_id.to_string()),
            from: (&c.from).into(),
            to: (&c.to).into(),
            proposer_id: ID(c.proposer_id.to_string()),
            justification: c.justification.clone(),
            status: c.status.into(),
            proposed_at: c.proposed_at,
            decided_at: c.decision.as_ref().map(|d| d.at),
            decision_note: c.decision.as_ref().map(|d| d.note.clone()),
            effective: c.effective,
            case: c,
            known_people: Vec::new(),
            known_events: None,
        }
    }
}

impl From<app::CaseView> for PromotionCase {
    fn from(v: app::CaseView) -> Self {
        let known_events = if v.events.is_empty() {
            // Lists leave events out: they are loaded when asked for.
            None
        } else {
            Some(v.events)
        };
        Self {
            known_people: [v.person, v.proposer, v.decided_by]
                .into_iter()
                .flatten()
                .collect(),
            known_events,
            ..Self::bare(v.case)
        }
    }
}

/// A level held, and for how long.
#[derive(SimpleObject)]
pub struct LevelPeriod {
    pub assignment: LevelAssignment,
    /// When the next assignment took over (null: still held, or not in effect yet).
    pub until: Option<NaiveDate>,
    pub days: i64,
}

/// A person's levels over time and the promotion cases about them.
#[derive(SimpleObject)]
pub struct Career {
    pub person: Person,
    /// Oldest first.
    pub periods: Vec<LevelPeriod>,
    /// Newest first.
    pub promotions: Vec<PromotionCase>,
}

#[derive(SimpleObject)]
pub struct CalibrationCell {
    pub track: String,
    pub track_name: String,
    pub level: String,
    pub level_name: String,
    pub rank: u32,
    pub titles: Vec<String>,
    pub count: usize,
    pub open_cases: usize,
}

#[derive(SimpleObject)]
pub struct CalibrationMatrix {
    pub matrix_key: String,
    pub name: String,
    pub version: MatrixVersion,
    pub people: usize,
    pub cells: Vec<CalibrationCell>,
}

/// Level distribution per track and level.
#[derive(SimpleObject)]
pub struct Calibration {
    /// Active people in scope.
    pub people: usize,
    /// Of those, people without a level.
    pub unplaced: usize,
    pub matrices: Vec<CalibrationMatrix>,
}

impl From<app::Calibration> for Calibration {
    fn from(c: app::Calibration) -> Self {
        Self {
            people: c.people,
            unplaced: c.unplaced,
            matrices: c
                .matrices
                .into_iter()
                .map(|m| CalibrationMatrix {
                    matrix_key: m.version.matrix_key.to_string(),
                    name: m.name,
                    people: m.people,
                    version: m.version.into(),
                    cells: m
                        .cells
                        .into_iter()
                        .map(|x| CalibrationCell {
                            track: x.track.to_string(),
                            track_name: x.track_name,
                            level: x.level.to_string(),
                            level_name: x.level_name,
                            rank: x.rank,
                            titles: x.titles,
                            count: x.count,
                            open_cases: x.open_cases,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// How the organisation decides readiness (see docs/growth.md).
#[derive(SimpleObject, InputObject, Clone, Copy)]
#[graphql(input_name = "ReadinessRuleInput")]
pub struct ReadinessRule {
    /// The lowest manager rating that counts as met (DEVELOPING, MEETS or EXCEEDS).
    pub min_rating: Rating,
    /// Whole months in the current level before a promotion is due (0 to 120).
    pub min_months_in_level: u32,
    /// The fraction (0 to 1) of the next level's new expectations that must be met.
    pub min_score: f64,
}

impl From<d::growth::ReadinessRule> for ReadinessRule {
    fn from(r: d::growth::ReadinessRule) -> Self {
        Self {
            min_rating: r.min_rating.into(),
            min_months_in_level: r.min_months_in_level,
            min_score: r.min_score,
        }
    }
}

#[derive(SimpleObject)]
pub struct Total {
    /// How many items there are over all pages.
    pub total_count: usize,
}

/// A connection whose cursors `cursor` makes from each item (and its index in the page).
fn connection_by<T, U>(
    page: app::Page<T>,
    after: bool,
    cursor: impl Fn(usize, &T) -> String,
    f: impl Fn(T) -> U,
) -> Connection<String, U, Total>
where
    U: async_graphql::OutputType,
{
    let mut conn = Connection::with_additional_fields(
        after,
        page.has_next,
        Total {
            total_count: page.total,
        },
    );
    conn.edges.extend(
        page.items
            .into_iter()
            .enumerate()
            .map(|(i, t)| Edge::new(cursor(i, &t), f(t))),
    );
    conn
}

/// A page of assessments as a connection: the cursor is the assessment's id (the history is
/// paged by key).
pub(super) fn assessment_connection(
    page: app::Page<app::AssessmentView>,
    after: bool,
) -> Connection<String, Assessment, Total> {
    let by_id = |_: usize, a: &app::AssessmentView| a.assessment.id.0.to_string();
    connection_by(page, after, by_id, Assessment::from)
}

fn parse_id<T: std::str::FromStr>(c: &Ctx<'_>, what: &str, id: &ID) -> Result<T> {
    id.parse::<T>().map_err(|_| {
        c.err(AppError::Invalid(format!(
            "`{}` is not a {what} id",
            id.as_str()
        )))
    })
}

/// The person asked for, or the caller.
fn person_or_me(c: &Ctx<'_>, id: Option<&ID>) -> Result<PersonId> {
    let s = c.session()?;
    match id {
        Some(id) => parse_id(c, "person", id),
        None => s
            .actor
            .person_id()
            .ok_or_else(|| c.err(AppError::Invalid("say which person: `personId`".into()))),
    }
}

/// A person's growth plan toward a chosen track and level (one use case; a plan toward the
/// next rung goes through the request's reader instead).
pub(super) async fn plan_toward(
    ctx: &Context<'_>,
    id: PersonId,
    t: &Position,
) -> Result<GrowthPlan> {
    let c = Ctx::of(ctx);
    let s = c.session()?;
    let target = Some((t.track.as_str(), t.level.as_str()));
    Ok(c.ok(c
        .app
        .growth_plan(&s.actor, s.org.slug.as_str(), id, target)
        .await)?
        .into())
}

fn first(f: Option<i32>) -> Option<usize> {
    f.and_then(|f| usize::try_from(f).ok())
}

/// Approves or rejects a case for the caller.
async fn decide(
    ctx: &Context<'_>,
    case_id: &ID,
    verdict: app::Verdict<'_>,
) -> Result<PromotionCase> {
    let c = Ctx::of(ctx);
    let s = c.session()?;
    let id = parse_id(&c, "promotion case", case_id)?;
    let v = c.ok(c
        .app
        .decide_promotion(&s.actor, s.org.slug.as_str(), id, verdict)
        .await)?;
    Ok(v.into())
}

// ---- queries -------------------------------------------------------------------------------

#[derive(Default)]
pub struct GrowthQuery;

#[Object]
impl GrowthQuery {
    /// What it takes to reach `target` (by default the next level of the person's track);
    /// `personId` defaults to the caller.
    async fn growth_plan(
        &self,
        ctx: &Context<'_>,
        person_id: Option<ID>,
        target: Option<Position>,
    ) -> Result<GrowthPlan> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let id = person_or_me(&c, person_id.as_ref())?;
        // What authentication read about the caller, unless the request may write
        // (`http.rs` drops it for a batch holding a mutation).
        let known = s.read_with.as_ref();
        match target.as_ref() {
            None => {
                let plan = reader(ctx)?
                    .one(id, async |r: &app::Reader, ids: &[PersonId]| {
                        r.plans_with(ids, known).await
                    })
                    .await;
                Ok(c.ok(plan)?.into())
            }
            Some(t) => plan_toward(ctx, id, t).await,
        }
    }

    /// A person's assessments, newest first (`personId` defaults to the caller).
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity + 1")]
    async fn assessments(
        &self,
        ctx: &Context<'_>,
        person_id: Option<ID>,
        expectation_key: Option<String>,
        role: Option<AssessorRole>,
        #[graphql(validator(minimum = 1, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Assessment, Total>> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let id = person_or_me(&c, person_id.as_ref())?;
        let filter = app::AssessmentFilter {
            expectation: expectation_key,
            role: role.map(Into::into),
        };
        let page = c.ok(c
            .app
            .assessments(
                &s.actor,
                s.org.slug.as_str(),
                id,
                &filter,
                self::first(first),
                after.as_deref(),
            )
            .await)?;
        Ok(assessment_connection(page, after.is_some()))
    }

    /// Readiness for the next level, with its reasons (`personId` defaults to the caller).
    async fn readiness(&self, ctx: &Context<'_>, person_id: Option<ID>) -> Result<Readiness> {
        let c = Ctx::of(ctx);
        c.session()?;
        let id = person_or_me(&c, person_id.as_ref())?;
        let readiness = reader(ctx)?.one(id, app::Reader::readiness).await;
        Ok(c.ok(readiness)?.into())
    }

    /// A manager's direct and indirect reports with level, readiness and open case
    /// (`managerId` defaults to the caller).
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity + 1")]
    #[allow(clippy::too_many_arguments)]
    async fn team(
        &self,
        ctx: &Context<'_>,
        manager_id: Option<ID>,
        #[graphql(default)] sort: TeamSort,
        #[graphql(
            default,
            desc = "Only the people who report to the manager directly (by default the whole subtree)."
        )]
        direct_only: bool,
        #[graphql(default)] filter: TeamFilterInput,
        #[graphql(validator(minimum = 1, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Readiness, Total>> {
        let c = Ctx::of(ctx);
        c.session()?;
        let id = person_or_me(&c, manager_id.as_ref())?;
        let sort = match sort {
            TeamSort::Readiness => app::TeamSort::Readiness,
            TeamSort::Name => app::TeamSort::Name,
            TeamSort::Level => app::TeamSort::Level,
        };
        let filter = app::TeamFilter {
            ready_only: filter.ready_only,
            search: filter.search,
            track: filter.track,
        };
        let req = app::TeamRequest {
            manager: Some(id),
            direct_only,
            sort,
            filter: &filter,
            want_total: ctx.look_ahead().field("totalCount").exists(),
            first: self::first(first),
            after: after.as_deref(),
        };
        if kept_standings_answer(ctx) {
            let page = c.ok(reader(ctx)?.team_rows(&req).await)?;
            return Ok(connection_by(
                page,
                after.is_some(),
                |_, r| r.person.id.0.to_string(),
                Readiness::from_row,
            ));
        }
        let page = c.ok(reader(ctx)?.team(&req).await)?;
        Ok(connection_by(
            page,
            after.is_some(),
            |_, r| r.person.id.0.to_string(),
            Readiness::from,
        ))
    }

    /// Level distribution per track and level across the organisation, or a manager's
    /// subtree (HR admins).
    async fn calibration(&self, ctx: &Context<'_>, manager_id: Option<ID>) -> Result<Calibration> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let m = manager_id
            .as_ref()
            .map(|m| parse_id::<PersonId>(&c, "person", m))
            .transpose()?;
        Ok(
            c.ok(c.app.calibration(&s.actor, s.org.slug.as_str(), m).await)?
                .into(),
        )
    }

    /// The organisation's readiness rule.
    async fn readiness_rule(&self, ctx: &Context<'_>) -> Result<ReadinessRule> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        Ok(
            c.ok(c.app.readiness_rule(&s.actor, s.org.slug.as_str()).await)?
                .into(),
        )
    }

    /// The promotion cases the caller may see, newest first: HR admins all, managers their
    /// reports' and their own, everyone their own.
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity + 1")]
    async fn promotion_cases(
        &self,
        ctx: &Context<'_>,
        status: Option<PromotionStatus>,
        #[graphql(validator(minimum = 1, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, PromotionCase, Total>> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let want_total = ctx.look_ahead().field("totalCount").exists();
        let page = c.ok(c
            .app
            .promotion_cases(
                &s.actor,
                s.org.slug.as_str(),
                status.map(Into::into),
                want_total,
                self::first(first),
                after.as_deref(),
            )
            .await)?;
        // The cursor is the case's id: the list is paged by key.
        let by_id = |_: usize, v: &app::CaseView| v.case.id.to_string();
        Ok(connection_by(page, after.is_some(), by_id, Into::into))
    }

    /// One promotion case with its events.
    async fn promotion_case(&self, ctx: &Context<'_>, id: ID) -> Result<PromotionCase> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let id: CaseId = parse_id(&c, "promotion case", &id)?;
        Ok(c.ok(c
            .app
            .promotion_case(&s.actor, s.org.slug.as_str(), id)
            .await)?
            .into())
    }

    /// A person's levels with time in each, and their promotion cases (`personId` defaults
    /// to the caller).
    async fn career(&self, ctx: &Context<'_>, person_id: Option<ID>) -> Result<Career> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let id = person_or_me(&c, person_id.as_ref())?;
        let career = c.ok(c.app.career(&s.actor, s.org.slug.as_str(), id).await)?;
        Ok(Career {
            person: career.person.into(),
            periods: career
                .periods
                .into_iter()
                .map(|p| LevelPeriod {
                    assignment: p.assignment.into(),
                    until: p.until,
                    days: p.days,
                })
                .collect(),
            promotions: career.cases.into_iter().map(Into::into).collect(),
        })
    }
}

// ---- the audit log ---------------------------------------------------------------------------

/// One change: who (null: an operator at the command line), what, when, which records.
#[derive(SimpleObject)]
pub struct AuditEntry {
    pub id: ID,
    pub at: DateTime<Utc>,
    pub actor: Option<Person>,
    pub actor_id: Option<ID>,
    /// A stable name such as `person.update` or `promotion.approve`.
    pub action: String,
    /// The ids of the records changed (the first 1,000).
    pub subjects: Vec<ID>,
    pub subject_count: u32,
    pub detail: String,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Every change in the organisation, newest first (HR admins).
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity + 1")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        action: Option<String>,
        #[graphql(validator(minimum = 1, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, AuditEntry, Total>> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let page = c.ok(c
            .app
            .audit_log(
                &s.actor,
                s.org.slug.as_str(),
                action.as_deref(),
                self::first(first),
                after.as_deref(),
            )
            .await)?;
        // The cursor is the entry's id: the log is paged by key.
        let by_id = |_: usize, v: &app::AuditView| v.entry.id.to_string();
        Ok(connection_by(
            page,
            after.is_some(),
            by_id,
            |v: app::AuditView| AuditEntry {
                id: ID(v.entry.id.to_string()),
                at: v.entry.at,
                actor_id: v.entry.actor_id.map(|p| ID(p.to_string())),
                actor: v.actor.map(Into::into),
                action: v.entry.action,
                subjects: v.entry.subjects.iter().map(|u| ID(u.to_string())).collect(),
                subject_count: v.entry.subject_count,
                detail: v.entry.detail,
            },
        ))
    }
}

// ---- mutations -----------------------------------------------------------------------------

#[derive(InputObject)]
pub struct AssessInput {
    pub person_id: ID,
    pub expectation_key: String,
    pub rating: Rating,
    /// What supports the rating.
    #[graphql(default)]
    pub evidence: String,
    /// http(s) links: pull requests, documents (at most 20).
    #[graphql(default)]
    pub links: Vec<String>,
}

#[derive(InputObject)]
pub struct ProposePromotionInput {
    pub person_id: ID,
    /// Defaults to the next level of the person's track.
    pub target: Option<Position>,
    pub justification: String,
}

#[derive(Default)]
pub struct GrowthMutation;

#[Object]
impl GrowthMutation {
    /// Rates a person against an expectation of their track: yourself (a self-rating) or
    /// one of your reports (a manager rating). Appended to their history.
    async fn assess(&self, ctx: &Context<'_>, input: AssessInput) -> Result<Assessment> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let person = parse_id(&c, "person", &input.person_id)?;
        let a = c.ok(c
            .app
            .assess(
                &s.actor,
                s.org.slug.as_str(),
                app::AssessInput {
                    person,
                    expectation: &input.expectation_key,
                    rating: input.rating.into(),
                    evidence: &input.evidence,
                    links: input.links,
                },
            )
            .await)?;
        Ok(a.into())
    }

    /// Proposes a promotion of one of your reports, with a justification.
    async fn propose_promotion(
        &self,
        ctx: &Context<'_>,
        input: ProposePromotionInput,
    ) -> Result<PromotionCase> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let person = parse_id(&c, "person", &input.person_id)?;
        let target = input
            .target
            .as_ref()
            .map(|t| (t.track.as_str(), t.level.as_str()));
        let v = c.ok(c
            .app
            .propose_promotion(
                &s.actor,
                s.org.slug.as_str(),
                app::Proposal {
                    person,
                    target,
                    justification: &input.justification,
                },
            )
            .await)?;
        Ok(v.into())
    }

    /// Comments on an open case you may see.
    async fn comment_on_promotion(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        comment: String,
    ) -> Result<PromotionCase> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let id = parse_id(&c, "promotion case", &case_id)?;
        let v = c.ok(c
            .app
            .comment_on_promotion(&s.actor, s.org.slug.as_str(), id, &comment)
            .await)?;
        Ok(v.into())
    }

    /// Withdraws a case you proposed.
    async fn withdraw_promotion(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        #[graphql(default)] note: String,
    ) -> Result<PromotionCase> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let id = parse_id(&c, "promotion case", &case_id)?;
        let v = c.ok(c
            .app
            .withdraw_promotion(&s.actor, s.org.slug.as_str(), id, &note)
            .await)?;
        Ok(v.into())
    }

    /// Approves a case (HR admins; never your own promotion or your own proposal): the new
    /// level is appended, effective today unless `effective` is given, in one transaction.
    async fn approve_promotion(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        #[graphql(default)] note: String,
        effective: Option<NaiveDate>,
    ) -> Result<PromotionCase> {
        let verdict = app::Verdict::Approve {
            note: &note,
            effective,
        };
        decide(ctx, &case_id, verdict).await
    }

    /// Rejects a case, saying why (HR admins).
    async fn reject_promotion(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        note: String,
    ) -> Result<PromotionCase> {
        decide(ctx, &case_id, app::Verdict::Reject { note: &note }).await
    }

    /// Replaces the organisation's readiness rule (HR admins).
    async fn set_readiness_rule(
        &self,
        ctx: &Context<'_>,
        input: ReadinessRule,
    ) -> Result<ReadinessRule> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let rule = d::growth::ReadinessRule {
            min_rating: input.min_rating.into(),
            min_months_in_level: input.min_months_in_level,
            min_score: input.min_score,
        };
        Ok(c.ok(c
            .app
            .set_readiness_rule(&s.actor, s.org.slug.as_str(), rule)
            .await)?
            .into())
    }
}
