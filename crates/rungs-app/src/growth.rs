//! Growth use cases: assessing, growth plans, readiness, a manager's team, calibration and the
//! readiness rule. Reads go through [`rungs_db::Scope`], so a team of any size costs the same
//! number of statements; the computing is rungs-domain's.

use crate::people::Page;
use crate::policy::{Action, Actor, Relation, authorize};
use crate::{App, AppError};
use chrono::{NaiveDate, Utc};
use rungs_db::{Audit, Scope, StandingsQuery};
use rungs_domain::assessment::{Assessment, AssessorRole, Evidence, Rating};
use rungs_domain::assignment::{LevelAssignment, current_as_of};
use rungs_domain::growth::{
    GrowthPlan, PlanInput, Readiness, ReadinessRule, Standing, growth_plan, in_level_since,
    readiness,
};
use rungs_domain::matrix::{Matrix, VersionInfo};
use rungs_domain::org::Organisation;
use rungs_domain::person::Person;
use rungs_domain::promotion::{Position, PromotionCase};
use rungs_domain::text::Key;
use rungs_domain::{AssessmentId, PersonId, VersionId};
use serde::Serialize;
use std::collections::HashMap;

/// Matrix versions by id, each loaded once per use case.
pub(crate) type Versions = HashMap<VersionId, std::sync::Arc<(VersionInfo, Matrix)>>;

/// A growth plan with the person it is for and the version it was computed against.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub person: Person,
    pub version: VersionInfo,
    pub plan: GrowthPlan,
}

/// An assessment with the names behind it.
#[derive(Debug, Clone, Serialize)]
pub struct AssessmentView {
    #[serde(flatten)]
    pub assessment: Assessment,
    pub assessor: Option<Person>,
}

/// Which assessments a history lists.
#[derive(Debug, Clone, Default)]
pub struct AssessmentFilter {
    pub expectation: Option<String>,
    pub role: Option<AssessorRole>,
}

/// A person's readiness for their next level.
#[derive(Debug, Clone, Serialize)]
pub struct ReadinessView {
    pub person: Person,
    pub current: Option<LevelAssignment>,
    /// The current track and level as the matrix describes them (names, rank, titles).
    pub standing: Option<Standing>,
    /// Reports directly to the manager the team was asked for.
    pub direct: bool,
    pub readiness: Readiness,
}

/// No filter: everyone of a team.
static EVERYONE: TeamFilter = TeamFilter {
    ready_only: false,
    search: None,
    track: None,
};

/// Which page of whose team a listing asks for.
#[derive(Debug, Clone, Copy)]
pub struct TeamRequest<'a> {
    /// Whose team: the actor's by default.
    pub manager: Option<PersonId>,
    /// Only the people who report to the manager directly.
    pub direct_only: bool,
    pub sort: TeamSort,
    pub filter: &'a TeamFilter,
    /// Count the matches over all pages (else `Page::total` is 0).
    pub want_total: bool,
    pub first: Option<usize>,
    pub after: Option<&'a str>,
}

impl Default for TeamRequest<'_> {
    fn default() -> Self {
        Self {
            manager: None,
            direct_only: false,
            sort: TeamSort::default(),
            filter: &EVERYONE,
            want_total: false,
            first: None,
            after: None,
        }
    }
}

/// A team member as the kept standings tell it: enough for a listing of names, scores and
/// readiness (the same values as [`ReadinessView`]'s, without its reasons, criteria, position
/// or open case).
#[derive(Debug, Clone)]
pub struct TeamRow {
    pub person: Person,
    /// Reports directly to the manager the team was asked for.
    pub direct: bool,
    pub score: f64,
    pub ready: bool,
    pub in_level_since: Option<chrono::NaiveDate>,
    pub months_in_level: Option<u32>,
}

/// People per chunk of the readiness report.
pub const REPORT_CHUNK: usize = 100;

/// How a team is sorted: the order the kept standings are paged in (ready first, then the
/// higher score, then the longer in level, then by name; by name; or the highest level first).
pub use rungs_db::StandingOrder as TeamSort;
/// Which of a team a listing keeps: the ready only, a part of the name or email, a track.
pub use rungs_db::StandingsFilter as TeamFilter;

/// One page of ids in a listing's order (see `App::ranked`).
struct Ranked {
    ids: Vec<PersonId>,
    /// The page's kept standings, in order.
    kept: Vec<rungs_db::StandingSummary>,
    more: bool,
    total: usize,
    rule: ReadinessRule,
}

/// How many people hold one level of one track.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationCell {
    pub track: Key,
    pub track_name: String,
    pub level: Key,
    pub level_name: String,
    pub rank: u32,
    pub titles: Vec<String>,
    pub count: usize,
    /// Of those, how many have an open promotion case.
    pub open_cases: usize,
}

/// The level distribution of one matrix version.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationMatrix {
    pub version: VersionInfo,
    pub name: String,
    pub people: usize,
    pub cells: Vec<CalibrationCell>,
}

/// The level distribution across an organisation or a manager's subtree (active people).
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub people: usize,
    /// Active people without a level.
    pub unplaced: usize,
    pub matrices: Vec<CalibrationMatrix>,
}

/// What a new assessment says.
#[derive(Debug, Clone)]
pub struct AssessInput<'a> {
    pub person: PersonId,
    pub expectation: &'a str,
    pub rating: Rating,
    pub evidence: &'a str,
    pub links: Vec<String>,
}

pub(crate) fn position_of(a: &LevelAssignment) -> Position {
    Position {
        track: a.track.clone(),
        level: a.level.clone(),
    }
}

impl App {
    /// How the actor stands to `person` (one statement at most).
    pub(crate) async fn relation_to(
        &self,
        actor: &Actor,
        org: &Organisation,
        person: PersonId,
    ) -> Result<Relation, AppError> {
        Ok(match actor.person_id() {
            Some(me) if me == person => Relation::Myself,
            Some(me) if self.db.manages(org.id, me, person).await? => Relation::Manager,
            _ => Relation::Unrelated,
        })
    }

    /// A person of `org` by id, or "not found".
    pub(crate) async fn person_by_id(
        &self,
        org: &Organisation,
        id: PersonId,
    ) -> Result<Person, AppError> {
        self.db
            .person(org.id, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("person `{id}`")))
    }

    /// The people with these ids, by id (one statement; for naming who did what).
    pub(crate) async fn people_named(
        &self,
        org: &Organisation,
        ids: &[PersonId],
    ) -> Result<HashMap<PersonId, Person>, AppError> {
        Ok(self
            .db
            .people_by_ids(org.id, ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect())
    }

    /// Loads each version once.
    pub(crate) async fn versions(
        &self,
        org: &Organisation,
        ids: Vec<VersionId>,
    ) -> Result<Versions, AppError> {
        let mut out = Versions::new();
        for id in ids {
            if let std::collections::hash_map::Entry::Vacant(slot) = out.entry(id) {
                slot.insert(self.db.shared_version(org.id, id).await?);
            }
        }
        Ok(out)
    }

    /// Rates a person against an expectation of their track: a self-rating when they rate
    /// themselves, a manager rating when a manager does. Appended, never overwritten.
    #[tracing::instrument(skip(self, input), fields(person = %input.person), err(level = "debug", Display))]
    pub async fn assess(
        &self,
        actor: &Actor,
        org_slug: &str,
        input: AssessInput<'_>,
    ) -> Result<Assessment, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let person = self.person_by_id(&org, input.person).await?;
        let relation = self.relation_to(actor, &org, person.id).await?;
        authorize(actor, Action::Assess(org.id, relation))?;
        let assessor = actor.person_id().ok_or_else(|| {
            AppError::Invalid("an assessment needs a person as assessor: act as one".into())
        })?;
        let role = Assessment::role_for(person.id, assessor, relation == Relation::Manager)?;
        let evidence = Evidence::new(input.evidence, input.links)?;
        let history = self.db.assignments(org.id, Some(person.id)).await?;
        let today = Utc::now().date_naive();
        let current = current_as_of(&history, today).ok_or_else(|| {
            AppError::Invalid(format!(
                "{} has no level yet: assign one before assessing",
                person.email
            ))
        })?;
        let (info, m) = self.db.load_version(org.id, current.version_id).await?;
        let track = m
            .track(current.track.as_str())
            .ok_or_else(|| AppError::NotFound(format!("track `{}`", current.track)))?;
        let expectation = track
            .cells
            .iter()
            .flat_map(|c| &c.expectations)
            .find(|e| e.key.as_str() == input.expectation.trim())
            .ok_or_else(|| {
                AppError::Invalid(format!(
                    "`{}` is not an expectation of track `{}` in matrix `{}`: assess one of the person's track",
                    input.expectation, track.key, info.matrix_key
                ))
            })?;
        let a = Assessment {
            id: AssessmentId::new(),
            person_id: person.id,
            version_id: info.id,
            expectation: expectation.key.clone(),
            rating: input.rating,
            assessor_id: assessor,
            role,
            evidence,
            at: Utc::now(),
            carried_from: None,
        };
        let audit = Audit::new(
            Some(assessor),
            "assessment.add",
            [a.id.0, person.id.0],
            format!(
                "{} rated {} on `{}` ({} rating)",
                person.email,
                a.rating.as_str(),
                a.expectation,
                a.role.as_str()
            ),
        );
        self.db
            .write(org.id, &audit, async |tx| {
                tx.append_assessments(std::slice::from_ref(&a)).await
            })
            .await?;
        Ok(a)
    }

    /// A person's assessment history, newest first, one page at a time.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn assessments(
        &self,
        actor: &Actor,
        org_slug: &str,
        person: PersonId,
        filter: &AssessmentFilter,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<Page<AssessmentView>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        self.assessments_in(actor, &org, person, filter, first, after)
            .await
    }

    /// [`App::assessments`] in an organisation already resolved for the actor.
    pub(crate) async fn assessments_in(
        &self,
        actor: &Actor,
        org: &Organisation,
        person: PersonId,
        filter: &AssessmentFilter,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<Page<AssessmentView>, AppError> {
        let person = self.person_by_id(org, person).await?;
        let relation = self.relation_to(actor, org, person.id).await?;
        authorize(actor, Action::ReadGrowth(org.id, relation))?;
        let (first, after) = crate::people::page_args::<uuid::Uuid>(first, after)?;
        let after = after.map(AssessmentId);
        let (items, has_next, total) = self
            .db
            .assessments_page(
                org.id,
                person.id,
                filter.expectation.as_deref(),
                filter.role,
                after,
                first,
            )
            .await?;
        let ids: Vec<PersonId> = items.iter().map(|a| a.assessor_id).collect();
        let names = self.people_named(org, &ids).await?;
        let end_cursor = items.last().map(|a| a.id.0.to_string());
        Ok(Page {
            items: items
                .into_iter()
                .map(|a| AssessmentView {
                    assessor: names.get(&a.assessor_id).cloned(),
                    assessment: a,
                })
                .collect(),
            has_next,
            total,
            end_cursor,
        })
    }

    /// The growth plan toward `target` (track, level), by default the next level of the
    /// person's track, computed against the version of their current level (or, with no level
    /// yet, the newest published version of the organisation's matrix).
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn growth_plan(
        &self,
        actor: &Actor,
        org_slug: &str,
        person: PersonId,
        target: Option<(&str, &str)>,
    ) -> Result<PlanView, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let person = self.person_by_id(&org, person).await?;
        let relation = self.relation_to(actor, &org, person.id).await?;
        authorize(actor, Action::ReadGrowth(org.id, relation))?;
        let today = Utc::now().date_naive();
        let history = self.db.assignments(org.id, Some(person.id)).await?;
        let current = current_as_of(&history, today);
        let (version, matrix) = match current {
            Some(c) => self.db.load_version(org.id, c.version_id).await?,
            None => self.placement_matrix(&org, None).await?,
        };
        let assessments = self
            .db
            .assessments_in(org.id, Scope::Person(person.id), Some(version.id))
            .await?;
        let rule = self.db.readiness_rule(org.id).await?;
        let plan = plan_against(&matrix, version.id, current, target, &assessments, &rule)?;
        Ok(PlanView {
            person,
            version,
            plan,
        })
    }

    /// One person's readiness for their next level, with its reasons.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn readiness_of(
        &self,
        actor: &Actor,
        org_slug: &str,
        person: PersonId,
    ) -> Result<ReadinessView, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let person = self.person_by_id(&org, person).await?;
        let relation = self.relation_to(actor, &org, person.id).await?;
        authorize(actor, Action::ReadGrowth(org.id, relation))?;
        let rule = self.db.readiness_rule(org.id).await?;
        let mut views = self.readiness_for(&org, &[person.id], None, &rule).await?;
        views
            .pop()
            .ok_or_else(|| AppError::NotFound("person".into()))
    }

    /// Readiness for each of `ids` (a page), in that order, from a constant number of reads.
    pub(crate) async fn readiness_for(
        &self,
        org: &Organisation,
        ids: &[PersonId],
        manager: Option<PersonId>,
        rule: &ReadinessRule,
    ) -> Result<Vec<ReadinessView>, AppError> {
        let people = self.people_named(org, ids).await?;
        self.readiness_of_people(org, ids, people, manager, rule)
            .await
    }

    /// [`App::readiness_for`] of people already read (by id), in the order of `ids`.
    pub(crate) async fn readiness_of_people(
        &self,
        org: &Organisation,
        ids: &[PersonId],
        mut people: HashMap<PersonId, Person>,
        manager: Option<PersonId>,
        rule: &ReadinessRule,
    ) -> Result<Vec<ReadinessView>, AppError> {
        let today = Utc::now().date_naive();
        let mut history: HashMap<PersonId, Vec<LevelAssignment>> = HashMap::new();
        for a in self.db.assignments_of(org.id, ids).await? {
            history.entry(a.person_id).or_default().push(a);
        }
        let mut assessed: HashMap<PersonId, Vec<Assessment>> = HashMap::new();
        for a in self.db.assessments_of(org.id, ids).await? {
            assessed.entry(a.person_id).or_default().push(a);
        }
        let open: HashMap<PersonId, PromotionCase> = self
            .db
            .open_cases_of(org.id, ids)
            .await?
            .into_iter()
            .map(|c| (c.person_id, c))
            .collect();
        let current: HashMap<PersonId, LevelAssignment> = history
            .iter()
            .filter_map(|(p, h)| current_as_of(h, today).map(|c| (*p, c.clone())))
            .collect();
        let version_ids: Vec<VersionId> = current.values().map(|c| c.version_id).collect();
        let versions = self.versions(org, version_ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| people.remove(id))
            .map(|p| {
                let cur = current.get(&p.id);
                let h = history.get(&p.id).map_or(&[][..], Vec::as_slice);
                let (r, standing) = person_readiness(
                    cur,
                    h,
                    &versions,
                    assessed.get(&p.id).map_or(&[][..], Vec::as_slice),
                    open.get(&p.id),
                    rule,
                    today,
                );
                ReadinessView {
                    direct: manager.is_some() && p.manager_id == manager,
                    current: cur.cloned(),
                    standing,
                    readiness: r,
                    person: p,
                }
            })
            .collect())
    }

    /// The ids of the active people in `scope` that `filter` keeps, in `sort`, after the
    /// person `after` (all of them when `first` is `None`), sorted in SQL from their kept
    /// standings (due rows refreshed first); with whether more follow, how many there are
    /// over all pages (counted only when `want_total`, else 0), and the rule "ready" was
    /// decided by.
    #[allow(clippy::too_many_arguments)]
    async fn ranked(
        &self,
        org: &Organisation,
        scope: Scope,
        sort: TeamSort,
        filter: &TeamFilter,
        after: Option<PersonId>,
        first: Option<usize>,
        want_total: bool,
    ) -> Result<Ranked, AppError> {
        let today = Utc::now().date_naive();
        let rule = self.db.readiness_rule(org.id).await?;
        self.db.refresh_due_standings(org.id, today).await?;
        let q = StandingsQuery {
            scope,
            order: sort,
            filter,
            rule: &rule,
            today,
        };
        let (kept, more) = self.db.standings_page(org.id, &q, after, first).await?;
        let ids = kept.iter().map(|s| s.person).collect();
        let total = if want_total {
            self.db.standings_count(org.id, &q).await?
        } else {
            0
        };
        Ok(Ranked {
            ids,
            kept,
            more,
            total,
            rule,
        })
    }

    /// The page `req` asks for of the people in `scope` (its cursor checked), ranked.
    async fn ranked_page(
        &self,
        org: &Organisation,
        scope: Scope,
        req: &TeamRequest<'_>,
    ) -> Result<Ranked, AppError> {
        let (first, after) = crate::people::page_args::<uuid::Uuid>(req.first, req.after)?;
        self.ranked(
            org,
            scope,
            req.sort,
            req.filter,
            after.map(PersonId),
            Some(first),
            req.want_total,
        )
        .await
    }

    /// A page of the active people in `scope`, each with their readiness computed in full (a
    /// page's worth, whatever the scope's size).
    async fn standings_page(
        &self,
        org: &Organisation,
        scope: Scope,
        req: &TeamRequest<'_>,
    ) -> Result<Page<ReadinessView>, AppError> {
        let Ranked {
            ids,
            more: has_next,
            total,
            rule,
            ..
        } = self.ranked_page(org, scope, req).await?;
        let items = self
            .readiness_for(org, &ids, scope_manager(scope), &rule)
            .await?;
        Ok(Page {
            end_cursor: ids.last().map(|p| p.0.to_string()),
            items,
            has_next,
            total,
        })
    }

    /// A manager's direct and indirect reports (active ones) with their level, readiness and
    /// open cases, sorted and paged in SQL (cursors are person ids). Managers see their own
    /// team and their reports'; HR admins any. `manager` defaults to the actor. The total is
    /// counted only when `want_total`.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    #[allow(clippy::too_many_arguments)]
    pub async fn team(
        &self,
        actor: &Actor,
        org_slug: &str,
        manager: Option<PersonId>,
        sort: TeamSort,
        want_total: bool,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<Page<ReadinessView>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let req = TeamRequest {
            manager,
            sort,
            want_total,
            first,
            after,
            ..TeamRequest::default()
        };
        self.team_in(actor, &org, &req).await
    }

    /// [`App::team`] as the kept standings tell it ([`TeamRow`]).
    pub async fn team_rows(
        &self,
        actor: &Actor,
        org_slug: &str,
        req: &TeamRequest<'_>,
    ) -> Result<Page<TeamRow>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        self.team_rows_in(actor, &org, req).await
    }

    /// [`App::team`] in an organisation already resolved for the actor.
    pub(crate) async fn team_in(
        &self,
        actor: &Actor,
        org: &Organisation,
        req: &TeamRequest<'_>,
    ) -> Result<Page<ReadinessView>, AppError> {
        let scope = self
            .team_scope(actor, org, req.manager, req.direct_only)
            .await?;
        self.standings_page(org, scope, req).await
    }

    /// The team of `manager` (default: the actor) the actor may read, as a scope.
    async fn team_scope(
        &self,
        actor: &Actor,
        org: &Organisation,
        manager: Option<PersonId>,
        direct_only: bool,
    ) -> Result<Scope, AppError> {
        let manager = manager
            .or(actor.person_id())
            .ok_or_else(|| AppError::Invalid("say whose team: a manager is needed".into()))?;
        self.person_by_id(org, manager).await?;
        let relation = self.relation_to(actor, org, manager).await?;
        authorize(actor, Action::ReadTeam(org.id, relation))?;
        Ok(if direct_only {
            Scope::DirectReportsOf(manager)
        } else {
            Scope::ReportsOf(manager)
        })
    }

    /// [`App::team_in`] as the kept standings tell it (names, score, ready, time in level),
    /// without computing each member's readiness in full: the same people in the same order,
    /// checked the same way, in a constant handful of statements.
    pub(crate) async fn team_rows_in(
        &self,
        actor: &Actor,
        org: &Organisation,
        req: &TeamRequest<'_>,
    ) -> Result<Page<TeamRow>, AppError> {
        let scope = self
            .team_scope(actor, org, req.manager, req.direct_only)
            .await?;
        let Ranked {
            ids,
            kept,
            more: has_next,
            total,
            ..
        } = self.ranked_page(org, scope, req).await?;
        let mut people = self.people_named(org, &ids).await?;
        let kept: HashMap<PersonId, rungs_db::StandingSummary> =
            kept.into_iter().map(|s| (s.person, s)).collect();
        let today = Utc::now().date_naive();
        let manager = scope_manager(scope);
        let items = ids
            .iter()
            .filter_map(|id| {
                let person = people.remove(id)?;
                let s = kept.get(id)?;
                Some(TeamRow {
                    direct: manager.is_some() && person.manager_id == manager,
                    score: s.score,
                    ready: s.ready,
                    in_level_since: s.in_level_since,
                    months_in_level: s
                        .in_level_since
                        .map(|d| rungs_domain::growth::whole_months(d, today)),
                    person,
                })
            })
            .collect();
        Ok(Page {
            end_cursor: ids.last().map(|p| p.0.to_string()),
            items,
            has_next,
            total,
        })
    }

    /// The readiness report: everyone active in the organisation, or in a manager's subtree,
    /// most ready first (HR admins and operators). The order is read in one statement (ids
    /// only); then `each` gets the report [`REPORT_CHUNK`] people at a time, so a report of any
    /// size holds one chunk of readiness in memory.
    #[tracing::instrument(skip(self, each), err(level = "debug", Display))]
    pub async fn readiness_report(
        &self,
        actor: &Actor,
        org_slug: &str,
        manager: Option<PersonId>,
        mut each: impl FnMut(Vec<ReadinessView>) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        let (org, scope) = self.calibration_scope(actor, org_slug, manager).await?;
        let Ranked { ids, rule, .. } = self
            .ranked(
                &org,
                scope,
                TeamSort::Readiness,
                &TeamFilter::default(),
                None,
                None,
                false,
            )
            .await?;
        for chunk in ids.chunks(REPORT_CHUNK) {
            each(
                self.readiness_for(&org, chunk, scope_manager(scope), &rule)
                    .await?,
            )?;
        }
        Ok(())
    }

    /// A person by email, for the command line (operators and HR admins).
    pub async fn person_by_email(
        &self,
        actor: &Actor,
        org_slug: &str,
        email: &str,
    ) -> Result<Person, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ListPeople(org.id))?;
        self.person(&org, &rungs_domain::person::Email::parse(email)?)
            .await
    }

    /// The level distribution per track and level, across the organisation or a manager's
    /// subtree (HR admins).
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn calibration(
        &self,
        actor: &Actor,
        org_slug: &str,
        manager: Option<PersonId>,
    ) -> Result<Calibration, AppError> {
        let (org, scope) = self.calibration_scope(actor, org_slug, manager).await?;
        let today = Utc::now().date_naive();
        // Counted in SQL over the kept standings (due ones refreshed first), per placement:
        // a few rows, whatever the number of people.
        self.db.refresh_due_standings(org.id, today).await?;
        let counts = self.db.placement_counts(org.id, scope).await?;
        let people: u64 = counts.iter().map(|c| c.people).sum();
        let unplaced: u64 = counts
            .iter()
            .filter(|c| c.version.is_none())
            .map(|c| c.people)
            .sum();
        let mut version_ids: Vec<VersionId> = counts.iter().filter_map(|c| c.version).collect();
        version_ids.sort_by_key(|v| v.0);
        version_ids.dedup();
        let versions = self.versions(&org, version_ids.clone()).await?;
        let as_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let mut matrices = Vec::new();
        for vid in version_ids {
            let Some((info, m)) = versions.get(&vid).map(|v| &**v) else {
                continue;
            };
            let here: Vec<&rungs_db::analytics::PlacementCount> =
                counts.iter().filter(|c| c.version == Some(vid)).collect();
            let mut cells = Vec::new();
            for t in m.tracks() {
                for c in &t.cells {
                    let Some(l) = m.level(c.level.as_str()) else {
                        continue;
                    };
                    let held = here.iter().find(|p| {
                        p.track.as_deref() == Some(t.key.as_str())
                            && p.level.as_deref() == Some(l.key.as_str())
                    });
                    cells.push(CalibrationCell {
                        track: t.key.clone(),
                        track_name: t.name.clone(),
                        level: l.key.clone(),
                        level_name: l.name.clone(),
                        rank: l.rank.get(),
                        titles: c.titles.clone(),
                        count: held.map_or(0, |p| as_usize(p.people)),
                        open_cases: held.map_or(0, |p| as_usize(p.open_cases)),
                    });
                }
            }
            matrices.push(CalibrationMatrix {
                version: info.clone(),
                name: m.name().to_owned(),
                people: as_usize(here.iter().map(|p| p.people).sum()),
                cells,
            });
        }
        Ok(Calibration {
            people: as_usize(people),
            unplaced: as_usize(unplaced),
            matrices,
        })
    }

    /// The organisation's readiness rule.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn readiness_rule(
        &self,
        actor: &Actor,
        org_slug: &str,
    ) -> Result<ReadinessRule, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        Ok(self.db.readiness_rule(org.id).await?)
    }

    /// Replaces the organisation's readiness rule (HR admins).
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn set_readiness_rule(
        &self,
        actor: &Actor,
        org_slug: &str,
        rule: ReadinessRule,
    ) -> Result<ReadinessRule, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ConfigureReadiness(org.id))?;
        let rule = ReadinessRule::new(rule.min_rating, rule.min_months_in_level, rule.min_score)?;
        let audit = Audit::new(
            actor.person_id(),
            "readiness_rule.set",
            [org.id.0],
            format!(
                "min rating {}, {} months in level, min score {}",
                rule.min_rating.as_str(),
                rule.min_months_in_level,
                rule.min_score
            ),
        );
        self.db
            .write(org.id, &audit, async |tx| {
                tx.set_readiness_rule(&rule, actor.person_id()).await
            })
            .await?;
        Ok(rule)
    }
}

impl App {
    /// What replacing the readiness rule by `rule` would do, per track: of the active people,
    /// how many are ready now and how many would be (HR admins, who may change the rule).
    /// Nothing is written; one statement over the kept standings, whatever the size.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn preview_readiness_rule(
        &self,
        actor: &Actor,
        org_slug: &str,
        rule: ReadinessRule,
    ) -> Result<RulePreview, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ConfigureReadiness(org.id))?;
        let rule = ReadinessRule::new(rule.min_rating, rule.min_months_in_level, rule.min_score)?;
        let today = Utc::now().date_naive();
        self.db.refresh_due_standings(org.id, today).await?;
        let current = self.db.readiness_rule(org.id).await?;
        let tracks = self.db.readiness_preview(org.id, &rule, today).await?;
        Ok(RulePreview {
            current,
            rule,
            people: tracks.iter().map(|t| t.people).sum(),
            ready_now: tracks.iter().map(|t| t.ready_now).sum(),
            ready_under: tracks.iter().map(|t| t.ready_under).sum(),
            tracks,
        })
    }
}

impl App {
    /// The organisation and what an organisation-wide read of HR's covers: everyone, or a
    /// manager's subtree (the manager checked to be of the organisation), once the policy
    /// allows calibration (HR admins and operators).
    pub(crate) async fn calibration_scope(
        &self,
        actor: &Actor,
        org_slug: &str,
        manager: Option<PersonId>,
    ) -> Result<(Organisation, Scope), AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::Calibrate(org.id))?;
        let scope = match manager {
            Some(m) => {
                self.person_by_id(&org, m).await?;
                Scope::ReportsOf(m)
            }
            None => Scope::Org,
        };
        Ok((org, scope))
    }
}

/// What a readiness rule would change ([`App::preview_readiness_rule`]).
#[derive(Debug, Clone)]
pub struct RulePreview {
    /// The organisation's rule in force.
    pub current: ReadinessRule,
    /// The rule previewed (checked).
    pub rule: ReadinessRule,
    /// Active people, those ready under `current`, and those `rule` would make ready.
    pub people: u64,
    pub ready_now: u64,
    pub ready_under: u64,
    /// The same per track (track key; `None`: people without a level), by track key.
    pub tracks: Vec<rungs_db::RulePreviewRow>,
}

/// The manager whose team `scope` is, if it is one (for the `direct` flag).
fn scope_manager(scope: Scope) -> Option<PersonId> {
    match scope {
        Scope::ReportsOf(m) | Scope::DirectReportsOf(m) => Some(m),
        _ => None,
    }
}

/// One person's readiness from data already loaded, and where they stand.
fn person_readiness(
    current: Option<&LevelAssignment>,
    history: &[LevelAssignment],
    versions: &Versions,
    assessments: &[Assessment],
    open: Option<&PromotionCase>,
    rule: &ReadinessRule,
    today: NaiveDate,
) -> (Readiness, Option<Standing>) {
    let plan = current.and_then(|c| {
        let (_, m) = &**versions.get(&c.version_id)?;
        plan_against(m, c.version_id, Some(c), None, assessments, rule).ok()
    });
    let standing = plan.as_ref().and_then(|p| p.current.clone());
    (
        readiness(
            plan.as_ref(),
            in_level_since(history, today),
            today,
            open,
            rule,
        ),
        standing,
    )
}

/// The growth plan toward `target` (track, level; by default the next rung of the person's
/// ladder) against one version, from the person's position in force and their assessments
/// (those against other versions are left out here).
pub(crate) fn plan_against(
    matrix: &Matrix,
    version: VersionId,
    current: Option<&LevelAssignment>,
    target: Option<(&str, &str)>,
    assessments: &[Assessment],
    rule: &ReadinessRule,
) -> Result<GrowthPlan, AppError> {
    let target = target
        .map(|(t, l)| {
            crate::usecases::placement_keys(matrix, t, l)
                .map(|(track, level)| Position { track, level })
                .map_err(|(_, m)| AppError::Invalid(m))
        })
        .transpose()?;
    let mine: Vec<Assessment> = assessments
        .iter()
        .filter(|a| a.version_id == version)
        .cloned()
        .collect();
    let cur = current.map(position_of);
    Ok(growth_plan(PlanInput {
        matrix,
        version_id: version,
        current: cur.as_ref(),
        target: target.as_ref(),
        assessments: &mine,
        rule,
    })?)
}
