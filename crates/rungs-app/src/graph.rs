//! Reads by the batch, for a graph of fields: the API's per-request DataLoaders call these. A
//! [`Reader`] is one actor in one organisation (the session's, resolved once per request); each
//! method takes many ids and answers for each one, every id checked against the policy with
//! the actor's relation to it (found for all of them in one statement, and only when the
//! answer depends on it). A page of fifty people with their growth plans costs the statements
//! of one.
//!
//! People reached as names (a case's proposer, an assessor, a manager) are named to anyone of
//! the organisation, as the lists have always named them; what is *about* a person (their
//! position, history, growth, readiness, cases) answers only what the policy lets the actor
//! read.

use crate::auth::{LeadRead, ReadWithSession};
use crate::growth::plan_against;
use crate::people::Page;
use crate::policy::{Action, Actor, Relation, authorize};
use crate::{
    App, AppError, AssessmentFilter, AssessmentView, CaseView, EventView, PeopleFilter, PersonView,
    PlanView, ReadinessView,
};
use chrono::Utc;
use rungs_domain::assessment::Assessment;
use rungs_domain::assignment::{LevelAssignment, current_as_of};
use rungs_domain::org::Organisation;
use rungs_domain::person::Person;
use rungs_domain::{CaseId, OrgId, PersonId, VersionId};
use std::collections::HashMap;
use std::sync::Arc;

/// An answer per id: the value, or why the actor may not have it.
pub type Each<K, T> = HashMap<K, Result<T, AppError>>;

/// One actor reading one organisation.
#[derive(Clone, Debug)]
pub struct Reader {
    app: App,
    actor: Actor,
    org: Organisation,
    /// The acting person as the session read them, so that reading oneself needs no lookup.
    me: Option<Person>,
}

impl App {
    /// A reader for `actor` in `org`, an organisation already read for them (a session's): no
    /// statement.
    pub fn reader(&self, actor: &Actor, org: &Organisation) -> Result<Reader, AppError> {
        authorize(actor, Action::ReadOrganisation(org.id))?;
        Ok(Reader {
            app: self.clone(),
            actor: actor.clone(),
            org: org.clone(),
            me: None,
        })
    }

    /// A reader for a signed-in session (its person and organisation already read).
    pub fn session_reader(&self, session: &crate::auth::Session) -> Result<Reader, AppError> {
        let mut r = self.reader(&session.actor, &session.org)?;
        r.me = Some(session.person.clone());
        Ok(r)
    }
}

/// Groups rows by the person they belong to.
fn by_person<T>(rows: Vec<T>, person: impl Fn(&T) -> PersonId) -> HashMap<PersonId, Vec<T>> {
    let mut out: HashMap<PersonId, Vec<T>> = HashMap::new();
    for r in rows {
        out.entry(person(&r)).or_default().push(r);
    }
    out
}

impl Reader {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn org(&self) -> &Organisation {
        &self.org
    }

    /// Refuses (`Forbidden`) unless the caller manages the organisation's people (its HR
    /// admins, by the policy): what the people directory and HR's other pages check first.
    pub fn may_manage_people(&self) -> Result<(), AppError> {
        self.may(Action::ManagePeople)
    }

    /// Refuses (`Forbidden`) unless the policy lets the caller do `action` in this
    /// organisation (`Action::DecidePromotion`, `Action::ConfigureReadiness`, ...): what an
    /// organisation-wide page checks before it reads anything.
    pub fn may(&self, action: fn(OrgId) -> Action) -> Result<(), AppError> {
        authorize(&self.actor, action(self.org.id))
    }

    /// Whether the actor may do `action` about each of `ids`. The relations are read (one
    /// statement, walking up from the people) only when the policy's answer depends on them.
    async fn allowed(
        &self,
        ids: &[PersonId],
        action: fn(OrgId, Relation) -> Action,
    ) -> Result<Each<PersonId, ()>, AppError> {
        let org = self.org.id;
        if authorize(&self.actor, action(org, Relation::Unrelated)).is_ok() {
            return Ok(ids.iter().map(|id| (*id, Ok(()))).collect());
        }
        let me = self.actor.person_id();
        let others: Vec<PersonId> = ids.iter().filter(|id| Some(**id) != me).copied().collect();
        let managed = match me {
            Some(me) if !others.is_empty() => self.app.db.managed_among(org, me, &others).await?,
            _ => Default::default(),
        };
        Ok(ids
            .iter()
            .map(|id| {
                let relation = if Some(*id) == me {
                    Relation::Myself
                } else if managed.contains(id) {
                    Relation::Manager
                } else {
                    Relation::Unrelated
                };
                (*id, authorize(&self.actor, action(org, relation)))
            })
            .collect())
    }

    /// The people of `ids` the actor may do `action` about (one statement, and one more for
    /// the relations when they matter), and the answers for the others: "not found" for an id
    /// that is not of the organisation, whatever the actor's standing, as the use cases answer.
    async fn split<T>(
        &self,
        ids: &[PersonId],
        action: fn(OrgId, Relation) -> Action,
    ) -> Result<(HashMap<PersonId, Person>, Each<PersonId, T>), AppError> {
        let found = self.named(ids).await?;
        self.sift(found, ids, action).await
    }

    /// Of `found` (the people of `ids` that exist, with what was read with them), those the
    /// actor may `action`, and an answer for each of the others: not found, or refused.
    async fn sift<V, T>(
        &self,
        mut found: HashMap<PersonId, V>,
        ids: &[PersonId],
        action: fn(OrgId, Relation) -> Action,
    ) -> Result<(HashMap<PersonId, V>, Each<PersonId, T>), AppError> {
        let mut refused = Each::new();
        for id in ids {
            if !found.contains_key(id) {
                refused.insert(*id, Err(AppError::NotFound(format!("person `{id}`"))));
            }
        }
        let present: Vec<PersonId> = found.keys().copied().collect();
        for (id, r) in self.allowed(&present, action).await? {
            if let Err(e) = r {
                found.remove(&id);
                refused.insert(id, Err(e));
            }
        }
        Ok((found, refused))
    }

    /// People of the organisation by id, as names (one statement); unknown ids are left out.
    pub async fn named(&self, ids: &[PersonId]) -> Result<HashMap<PersonId, Person>, AppError> {
        let me = self.me.as_ref().filter(|me| ids.contains(&me.id));
        let others: Vec<PersonId> = ids
            .iter()
            .filter(|id| me.is_none_or(|me| me.id != **id))
            .copied()
            .collect();
        let mut out = if others.is_empty() {
            HashMap::new()
        } else {
            self.app.people_named(&self.org, &others).await?
        };
        if let Some(me) = me {
            out.insert(me.id, me.clone());
        }
        Ok(out)
    }

    /// Each person's record as listed, with what `fields` asks for (position in force,
    /// manager's email). The person the request is about, read with the session
    /// ([`LeadRead::Person`] in `known`), is not read again; `known` must be as current as the
    /// request's reads: not after a write.
    pub async fn people(
        &self,
        ids: &[PersonId],
        fields: crate::ViewFields,
        known: Option<&ReadWithSession>,
    ) -> Result<Each<PersonId, PersonView>, AppError> {
        let lead = known.and_then(|k| match &k.lead {
            Some(LeadRead::Person(id, found)) if ids == [*id] => Some(found),
            _ => None,
        });
        let (found, mut out) = if let Some(found) = lead {
            // Read with the session, with their position (kept only when asked for).
            let found: HashMap<PersonId, (Person, Option<LevelAssignment>)> = found
                .iter()
                .map(|found| {
                    let (p, at) = found.as_ref();
                    (p.id, (p.clone(), at.clone().filter(|_| fields.current)))
                })
                .collect();
            self.sift(found, ids, Action::ReadPerson).await?
        } else if fields.current {
            // With their positions, in one statement; what the policy refuses is dropped.
            let today = Utc::now().date_naive();
            let found: HashMap<PersonId, (Person, Option<LevelAssignment>)> = self
                .app
                .db
                .people_with_positions(self.org.id, ids, today)
                .await?
                .into_iter()
                .map(|(p, at)| (p.id, (p, at)))
                .collect();
            self.sift(found, ids, Action::ReadPerson).await?
        } else {
            let (ok, out) = self.split(ids, Action::ReadPerson).await?;
            let unplaced = ok.into_iter().map(|(id, p)| (id, (p, None))).collect();
            (unplaced, out)
        };
        for v in self
            .app
            .views_placed(&self.org, found.into_values().collect(), fields)
            .await?
        {
            out.insert(v.person.id, Ok(v));
        }
        Ok(out)
    }

    /// Each person's level history, oldest first.
    pub async fn histories(
        &self,
        ids: &[PersonId],
    ) -> Result<Each<PersonId, Vec<LevelAssignment>>, AppError> {
        let (ok, mut out) = self.split(ids, Action::ReadPerson).await?;
        let ok: Vec<PersonId> = ok.into_keys().collect();
        let mut all = by_person(self.app.db.assignments_of(self.org.id, &ok).await?, |a| {
            a.person_id
        });
        for id in ok {
            out.insert(id, Ok(all.remove(&id).unwrap_or_default()));
        }
        Ok(out)
    }

    /// Each person's position in force today.
    pub async fn current(
        &self,
        ids: &[PersonId],
    ) -> Result<Each<PersonId, Option<LevelAssignment>>, AppError> {
        let today = Utc::now().date_naive();
        Ok(self
            .histories(ids)
            .await?
            .into_iter()
            .map(|(id, h)| (id, h.map(|h| current_as_of(&h, today).cloned())))
            .collect())
    }

    /// Each person's readiness for the next rung of their ladder, with its reasons.
    pub async fn readiness(
        &self,
        ids: &[PersonId],
    ) -> Result<Each<PersonId, ReadinessView>, AppError> {
        let (ok, mut out) = self.split(ids, Action::ReadGrowth).await?;
        if ok.is_empty() {
            return Ok(out);
        }
        let rule = self.app.db.readiness_rule(self.org.id).await?;
        let ids: Vec<PersonId> = ok.keys().copied().collect();
        for v in self
            .app
            .readiness_of_people(&self.org, &ids, ok, None, &rule)
            .await?
        {
            out.insert(v.person.id, Ok(v));
        }
        Ok(out)
    }

    /// Each person's growth plan toward the next rung of their ladder, against the version of
    /// their position (or, unplaced, the organisation's matrix).
    pub async fn plans(&self, ids: &[PersonId]) -> Result<Each<PersonId, PlanView>, AppError> {
        self.plans_with(ids, None).await
    }

    /// [`Reader::plans`], with what authentication read about the caller (their position in
    /// force and the rule): when the batch is the caller alone, only their assessments are
    /// read. `known` must be as current as the request's reads: not after a write.
    pub async fn plans_with(
        &self,
        ids: &[PersonId],
        known: Option<&ReadWithSession>,
    ) -> Result<Each<PersonId, PlanView>, AppError> {
        let (people, mut out) = self.split(ids, Action::ReadGrowth).await?;
        if people.is_empty() {
            return Ok(out);
        }
        let (org, db, today) = (&self.org, &self.app.db, Utc::now().date_naive());
        let ok: Vec<PersonId> = people.keys().copied().collect();
        let me = self.actor.person_id();
        let known = known.filter(|_| ok.len() == 1 && Some(ok[0]) == me);
        let current: HashMap<PersonId, LevelAssignment> = match known {
            Some(k) => k
                .position
                .iter()
                .map(|a| (a.person_id, a.clone()))
                .collect(),
            None => by_person(db.assignments_of(org.id, &ok).await?, |a| a.person_id)
                .iter()
                .filter_map(|(p, h)| current_as_of(h, today).map(|c| (*p, c.clone())))
                .collect(),
        };
        let versions = self
            .app
            .versions(org, current.values().map(|c| c.version_id).collect())
            .await?;
        let placement = if people.keys().any(|p| !current.contains_key(p)) {
            Some(self.app.placement_matrix(org, None).await)
        } else {
            None
        };
        let assessed = match known.and_then(|k| match &k.lead {
            Some(LeadRead::OwnAssessments(mine)) => Some(mine.clone()),
            _ => None,
        }) {
            // The caller's own, read with the session.
            Some(mine) => mine,
            None => db.assessments_of(org.id, &ok).await?,
        };
        let assessed: HashMap<PersonId, Vec<Assessment>> = by_person(assessed, |a| a.person_id);
        let rule = match known {
            Some(k) => k.rule,
            None => db.readiness_rule(org.id).await?,
        };
        for (id, person) in people {
            let cur = current.get(&id);
            let version = match cur {
                Some(c) => versions.get(&c.version_id).map(|v| Ok((&v.0, &v.1))),
                None => placement
                    .as_ref()
                    .map(|r| r.as_ref().map(|(i, m)| (i, m)).map_err(clone_error)),
            };
            let plan = match version {
                Some(Ok((info, m))) => {
                    let mine = assessed.get(&id).map_or(&[][..], Vec::as_slice);
                    plan_against(m, info.id, cur, None, mine, &rule).map(|plan| PlanView {
                        person,
                        version: info.clone(),
                        plan,
                    })
                }
                Some(Err(e)) => Err(e),
                None => Err(AppError::NotFound("matrix version".into())),
            };
            out.insert(id, plan);
        }
        Ok(out)
    }

    /// Each person's open promotion case, if any, with the people it names.
    pub async fn open_cases(
        &self,
        ids: &[PersonId],
    ) -> Result<Each<PersonId, Option<CaseView>>, AppError> {
        let (ok, mut out) = self.split(ids, Action::ReadCase).await?;
        let ok: Vec<PersonId> = ok.into_keys().collect();
        let cases = self.app.db.open_cases_of(self.org.id, &ok).await?;
        let views = self
            .app
            .case_views(
                &self.org,
                cases.into_iter().map(|c| (c, Vec::new())).collect(),
            )
            .await?;
        let mut open: HashMap<PersonId, CaseView> =
            views.into_iter().map(|v| (v.case.person_id, v)).collect();
        for id in ok {
            out.insert(id, Ok(open.remove(&id)));
        }
        Ok(out)
    }

    /// The events of each case (oldest first), with the people who acted.
    pub async fn case_events(
        &self,
        ids: &[CaseId],
    ) -> Result<Each<CaseId, Vec<EventView>>, AppError> {
        let cases = self.app.db.cases_by_ids(self.org.id, ids).await?;
        let subjects: Vec<PersonId> = cases.iter().map(|c| c.person_id).collect();
        let allowed = self.allowed(&subjects, Action::ReadCase).await?;
        let readable: Vec<CaseId> = cases
            .iter()
            .filter(|c| matches!(allowed.get(&c.person_id), Some(Ok(()))))
            .map(|c| c.id)
            .collect();
        let events = self.app.db.events_of(self.org.id, &readable).await?;
        let actors: Vec<PersonId> = events.iter().map(|e| e.actor_id).collect();
        let names = self.named(&actors).await?;
        let mut out: Each<CaseId, Vec<EventView>> = cases
            .iter()
            .map(|c| {
                let answer = match allowed.get(&c.person_id) {
                    Some(Ok(())) => Ok(Vec::new()),
                    Some(Err(e)) => Err(clone_error(e)),
                    None => Err(AppError::NotFound("promotion case".into())),
                };
                (c.id, answer)
            })
            .collect();
        for e in events {
            if let Some(Ok(list)) = out.get_mut(&e.case_id) {
                list.push(EventView {
                    actor: names.get(&e.actor_id).cloned(),
                    event: e,
                });
            }
        }
        Ok(out)
    }

    /// One person's answer from a batch read (the API's root fields).
    pub async fn one<T>(
        &self,
        id: PersonId,
        each: impl AsyncFnOnce(&Self, &[PersonId]) -> Result<Each<PersonId, T>, AppError>,
    ) -> Result<T, AppError> {
        each(self, &[id])
            .await?
            .remove(&id)
            .unwrap_or_else(|| Err(AppError::NotFound(format!("person `{id}`"))))
    }

    /// The people the actor may see, filtered and paged as [`App::people_page`] does.
    pub async fn people_page(
        &self,
        filter: &PeopleFilter,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<Page<PersonView>, AppError> {
        self.people_page_with(filter, first, after, None).await
    }

    /// [`Reader::people_page`], with what authentication read with the session: the page, when
    /// the request is about it ([`LeadRead::People`]). `known` must be as current as the
    /// request's reads: not after a write.
    pub async fn people_page_with(
        &self,
        filter: &PeopleFilter,
        first: Option<usize>,
        after: Option<&str>,
        known: Option<&ReadWithSession>,
    ) -> Result<Page<PersonView>, AppError> {
        self.app
            .people_page_in(&self.actor, &self.org, filter, first, after, known)
            .await
    }

    /// A manager's team, as [`App::team`] gives it (or only their direct reports).
    pub async fn team(
        &self,
        req: &crate::TeamRequest<'_>,
    ) -> Result<Page<ReadinessView>, AppError> {
        self.app.team_in(&self.actor, &self.org, req).await
    }

    /// [`Reader::team`] as the kept standings tell it ([`crate::TeamRow`]): for listings
    /// that show no reasons, criteria, position or open case.
    pub async fn team_rows(
        &self,
        req: &crate::TeamRequest<'_>,
    ) -> Result<Page<crate::TeamRow>, AppError> {
        self.app.team_rows_in(&self.actor, &self.org, req).await
    }

    /// How many of a manager's team (or direct reports) hold each position: (track key,
    /// level key, people), `None` keys for people without a level. `manager` defaults to the
    /// actor; checked as [`Reader::team`] is.
    pub async fn team_levels(
        &self,
        manager: Option<PersonId>,
        direct_only: bool,
    ) -> Result<Vec<(Option<String>, Option<String>, u64)>, AppError> {
        let manager = manager
            .or(self.actor.person_id())
            .ok_or_else(|| AppError::Invalid("say whose team: a manager is needed".into()))?;
        self.app.person_by_id(&self.org, manager).await?;
        let relation = self
            .app
            .relation_to(&self.actor, &self.org, manager)
            .await?;
        authorize(&self.actor, Action::ReadTeam(self.org.id, relation))?;
        self.app
            .db
            .refresh_due_standings(self.org.id, Utc::now().date_naive())
            .await?;
        let scope = if direct_only {
            rungs_db::Scope::DirectReportsOf(manager)
        } else {
            rungs_db::Scope::ReportsOf(manager)
        };
        Ok(self.app.db.level_counts(self.org.id, scope).await?)
    }

    /// Whether anyone active reports to the acting person (one statement).
    pub async fn has_reports(&self) -> Result<bool, AppError> {
        match self.actor.person_id() {
            Some(me) => Ok(self.app.db.has_reports(self.org.id, me).await?),
            None => Ok(false),
        }
    }

    /// Whether the actor may assess `person` (their manager, above them in the lines).
    pub async fn may_assess(&self, person: PersonId) -> Result<bool, AppError> {
        Ok(matches!(
            self.allowed(&[person], Action::Assess).await?.get(&person),
            Some(Ok(()))
        ) && self.actor.person_id() != Some(person))
    }

    /// The organisation's published matrix that people are placed on (its newest version).
    pub async fn matrix(
        &self,
    ) -> Result<
        (
            rungs_domain::matrix::VersionInfo,
            rungs_domain::matrix::Matrix,
        ),
        AppError,
    > {
        authorize(&self.actor, Action::ReadMatrices(self.org.id))?;
        self.app.placement_matrix(&self.org, None).await
    }

    /// A page of a person's direct reports the actor may see, by email.
    pub async fn reports(
        &self,
        manager: PersonId,
        want_total: bool,
        fields: crate::ViewFields,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<Page<PersonView>, AppError> {
        let filter = PeopleFilter {
            manager: Some(manager),
            skip_total: !want_total,
            fields,
            ..PeopleFilter::default()
        };
        self.app
            .people_page_in(&self.actor, &self.org, &filter, first, after, None)
            .await
    }

    /// A page of a person's assessments, newest first.
    pub async fn assessments(
        &self,
        person: PersonId,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<Page<AssessmentView>, AppError> {
        self.app
            .assessments_in(
                &self.actor,
                &self.org,
                person,
                &AssessmentFilter::default(),
                first,
                after,
            )
            .await
    }

    /// Each version's tracks and criteria: published versions (and a draft, to those who may
    /// edit it).
    pub async fn versions(
        &self,
        ids: &[VersionId],
    ) -> Result<Each<VersionId, rungs_domain::matrix::Matrix>, AppError> {
        let mut out = Each::new();
        let loaded = self.app.versions(&self.org, ids.to_vec()).await;
        let loaded = match loaded {
            Ok(v) => v,
            Err(AppError::NotFound(what)) => {
                for id in ids {
                    out.insert(*id, Err(AppError::NotFound(what.clone())));
                }
                return Ok(out);
            }
            Err(e) => return Err(e),
        };
        for (id, v) in loaded {
            let (info, m) = Arc::unwrap_or_clone(v);
            let answer = match info.status {
                rungs_domain::matrix::VersionStatus::Published => {
                    authorize(&self.actor, Action::ReadMatrices(self.org.id)).map(|()| m)
                }
                rungs_domain::matrix::VersionStatus::Draft => {
                    authorize(&self.actor, Action::EditMatrix(self.org.id)).map(|()| m)
                }
            };
            out.insert(id, answer);
        }
        Ok(out)
    }
}

/// An error given for several ids (the internal cause stays with the first).
fn clone_error(e: &AppError) -> AppError {
    match e {
        AppError::NotFound(m) => AppError::NotFound(m.clone()),
        AppError::Forbidden(m) => AppError::Forbidden(m.clone()),
        AppError::Invalid(m) => AppError::Invalid(m.clone()),
        AppError::Conflict(m) => AppError::Conflict(m.clone()),
        AppError::StateConflict(m) => AppError::StateConflict(m.clone()),
        AppError::Unauthenticated(m) => AppError::Unauthenticated(m.clone()),
        AppError::Unavailable => AppError::Unavailable,
        AppError::StorageFull => AppError::StorageFull,
        AppError::TimedOut => AppError::TimedOut,
        AppError::RateLimited {
            message,
            retry_after,
        } => AppError::RateLimited {
            message: message.clone(),
            retry_after: *retry_after,
        },
        AppError::InvalidFile(_) | AppError::Internal(_) => {
            AppError::Internal(e.to_string().into())
        }
    }
}
