//! Promotion cases: a manager proposes, people comment, the proposer may withdraw, an HR admin
//! approves or rejects. Approval appends the level assignment and closes the case in one
//! transaction. Also each person's career: level periods with the cases behind them.

use crate::growth::position_of;
use crate::people::Page;
use crate::policy::{Action, Actor, Relation, authorize};
use crate::{App, AppError};
use chrono::{NaiveDate, Utc};
use rungs_db::{Audit, CaseFilter, Scope};
use rungs_domain::assignment::{LevelAssignment, current_as_of, parse_reason};
use rungs_domain::growth::{LevelPeriod, level_periods};
use rungs_domain::org::Organisation;
use rungs_domain::person::Person;
use rungs_domain::promotion::{
    CaseActor, CaseEvent, EventKind, Position, PromotionCase, PromotionStatus, check_note,
};
use rungs_domain::{AssignmentId, CaseId, PersonId};
use serde::Serialize;

/// A case with the people it names.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: PromotionCase,
    pub person: Option<Person>,
    pub proposer: Option<Person>,
    pub decided_by: Option<Person>,
    /// Oldest first; empty in listings.
    pub events: Vec<EventView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    #[serde(flatten)]
    pub event: CaseEvent,
    pub actor: Option<Person>,
}

/// A person's career: each level held and for how long, and every promotion case about them.
#[derive(Debug, Clone, Serialize)]
pub struct Career {
    pub person: Person,
    pub periods: Vec<LevelPeriod>,
    pub cases: Vec<CaseView>,
}

/// What a proposal says.
#[derive(Debug, Clone)]
pub struct Proposal<'a> {
    pub person: PersonId,
    /// (track, level); `None` for the next level of the person's track.
    pub target: Option<(&'a str, &'a str)>,
    pub justification: &'a str,
}

/// An HR admin's decision.
#[derive(Debug, Clone, Copy)]
pub enum Verdict<'a> {
    /// With the date the new level takes effect (today unless given).
    Approve {
        note: &'a str,
        effective: Option<NaiveDate>,
    },
    Reject {
        note: &'a str,
    },
}

impl App {
    /// Names the people a set of cases refers to (one statement).
    pub(crate) async fn case_views(
        &self,
        org: &Organisation,
        cases: Vec<(PromotionCase, Vec<CaseEvent>)>,
    ) -> Result<Vec<CaseView>, AppError> {
        let mut ids = Vec::new();
        for (c, events) in &cases {
            ids.push(c.person_id);
            ids.push(c.proposer_id);
            ids.extend(c.decision.as_ref().map(|d| d.by));
            ids.extend(events.iter().map(|e| e.actor_id));
        }
        let people = self.people_named(org, &ids).await?;
        let get = |id: PersonId| people.get(&id).cloned();
        Ok(cases
            .into_iter()
            .map(|(case, events)| CaseView {
                person: get(case.person_id),
                proposer: get(case.proposer_id),
                decided_by: case.decision.as_ref().and_then(|d| get(d.by)),
                events: events
                    .into_iter()
                    .map(|e| EventView {
                        actor: get(e.actor_id),
                        event: e,
                    })
                    .collect(),
                case,
            })
            .collect())
    }

    /// A case the actor may read, with the actor's relation to its subject.
    async fn readable_case(
        &self,
        actor: &Actor,
        org: &Organisation,
        id: CaseId,
    ) -> Result<(PromotionCase, Vec<CaseEvent>, Relation), AppError> {
        let not_found = || AppError::NotFound(format!("promotion case `{id}`"));
        let (case, events) = self.db.case(org.id, id).await?.ok_or_else(not_found)?;
        let relation = self.relation_to(actor, org, case.person_id).await?;
        authorize(actor, Action::ReadCase(org.id, relation))?;
        Ok((case, events, relation))
    }

    /// The acting person, for rules that need one.
    fn case_actor(actor: &Actor) -> Result<CaseActor, AppError> {
        match actor {
            Actor::Person { id, is_admin, .. } => Ok(CaseActor {
                id: *id,
                is_hr_admin: *is_admin,
            }),
            Actor::System | Actor::Provisioner { .. } => Err(AppError::Invalid(
                "promotion cases are acted on by a person: act as one (`--as EMAIL`)".into(),
            )),
        }
    }

    /// Proposes a promotion of one of the actor's reports, to the next level of their track by
    /// default, or to another track and level of the same matrix version. One open case per
    /// person at a time.
    #[tracing::instrument(skip(self, p), fields(person = %p.person), err(level = "debug", Display))]
    pub async fn propose_promotion(
        &self,
        actor: &Actor,
        org_slug: &str,
        p: Proposal<'_>,
    ) -> Result<CaseView, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let person = self.person_by_id(&org, p.person).await?;
        let relation = self.relation_to(actor, &org, person.id).await?;
        authorize(actor, Action::ProposePromotion(org.id, relation))?;
        let me = Self::case_actor(actor)?;
        if !person.active {
            return Err(AppError::Invalid(format!(
                "{} is deactivated",
                person.email
            )));
        }
        let history = self.db.assignments(org.id, Some(person.id)).await?;
        let current = current_as_of(&history, Utc::now().date_naive()).ok_or_else(|| {
            AppError::Invalid(format!(
                "{} has no level yet: an HR admin assigns the first one",
                person.email
            ))
        })?;
        let (info, m) = self.db.load_version(org.id, current.version_id).await?;
        let to = match p.target {
            Some((t, l)) => {
                let (track, level) = crate::usecases::placement_keys(&m, t, l)
                    .map_err(|(_, msg)| AppError::Invalid(msg))?;
                Position { track, level }
            }
            None => {
                let next = m
                    .next_level(current.track.as_str(), current.level.as_str())
                    .ok_or_else(|| {
                        AppError::Invalid(format!(
                            "{} holds the top level of `{}`: propose another track and level",
                            person.email, current.track
                        ))
                    })?;
                Position {
                    track: current.track.clone(),
                    level: next.key.clone(),
                }
            }
        };
        let case = PromotionCase::propose(
            person.id,
            info.id,
            position_of(current),
            to,
            me.id,
            p.justification,
            Utc::now(),
        )?;
        let audit = Audit::new(
            Some(me.id),
            "promotion.propose",
            [case.id.0, person.id.0],
            format!("{} to {} / {}", person.email, case.to.track, case.to.level),
        );
        self.db
            .write(org.id, &audit, async |tx| tx.open_case(&case).await)
            .await
            .map_err(|e| match e {
                rungs_db::DbError::Conflict { .. } => AppError::StateConflict(format!(
                    "{} already has an open promotion case: comment on it, or withdraw it first",
                    person.email
                )),
                other => other.into(),
            })?;
        self.promotion_case(actor, org_slug, case.id).await
    }

    /// Adds a comment to an open case (anyone who may read it).
    #[tracing::instrument(skip(self, text), err(level = "debug", Display))]
    pub async fn comment_on_promotion(
        &self,
        actor: &Actor,
        org_slug: &str,
        id: CaseId,
        text: &str,
    ) -> Result<CaseView, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let (case, _, relation) = self.readable_case(actor, &org, id).await?;
        authorize(actor, Action::CommentOnCase(org.id, relation))?;
        let me = Self::case_actor(actor)?;
        let event = CaseEvent::comment(&case, me.id, text, Utc::now())?;
        let audit = Audit::new(
            Some(me.id),
            "promotion.comment",
            [case.id.0, event.id],
            "commented",
        );
        self.db
            .write(org.id, &audit, async |tx| tx.add_case_event(&event).await)
            .await?;
        self.promotion_case(actor, org_slug, id).await
    }

    /// The proposer withdraws an open case.
    #[tracing::instrument(skip(self, note), err(level = "debug", Display))]
    pub async fn withdraw_promotion(
        &self,
        actor: &Actor,
        org_slug: &str,
        id: CaseId,
        note: &str,
    ) -> Result<CaseView, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let (mut case, _, relation) = self.readable_case(actor, &org, id).await?;
        authorize(actor, Action::CommentOnCase(org.id, relation))?;
        let me = Self::case_actor(actor)?;
        check_note("note", note, false)?;
        let now = Utc::now();
        case.withdraw(me, note, now)?;
        let event = CaseEvent::new(case.id, EventKind::Withdrawn, me.id, note, now);
        self.close(&org, &case, &event, None).await?;
        self.promotion_case(actor, org_slug, id).await
    }

    /// An HR admin approves (appending the new level, effective today unless given) or rejects
    /// (with a note) an open case. Never their own promotion, never their own proposal.
    #[tracing::instrument(skip(self, verdict), err(level = "debug", Display))]
    pub async fn decide_promotion(
        &self,
        actor: &Actor,
        org_slug: &str,
        id: CaseId,
        verdict: Verdict<'_>,
    ) -> Result<CaseView, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::DecidePromotion(org.id))?;
        let (mut case, _, _) = self.readable_case(actor, &org, id).await?;
        let me = Self::case_actor(actor)?;
        let now = Utc::now();
        let (event, assignment) = match verdict {
            Verdict::Approve { note, effective } => {
                check_note("note", note, false)?;
                let effective = effective.unwrap_or_else(|| now.date_naive());
                case.approve(me, note, effective, now)?;
                let reason = if note.trim().is_empty() {
                    "promotion approved".to_owned()
                } else {
                    format!("promotion approved: {}", note.trim())
                };
                let a = LevelAssignment {
                    id: AssignmentId::new(),
                    person_id: case.person_id,
                    version_id: case.version_id,
                    track: case.to.track.clone(),
                    level: case.to.level.clone(),
                    effective,
                    reason: parse_reason(&reason)?,
                    set_by: Some(me.id),
                    recorded_at: now,
                    case_id: Some(case.id),
                    moved_from: None,
                };
                let e = CaseEvent::new(case.id, EventKind::Approved, me.id, note, now);
                (e, Some(a))
            }
            Verdict::Reject { note } => {
                check_note("note", note, true)?;
                case.reject(me, note, now)?;
                (
                    CaseEvent::new(case.id, EventKind::Rejected, me.id, note, now),
                    None,
                )
            }
        };
        self.close(&org, &case, &event, assignment.as_ref()).await?;
        self.promotion_case(actor, org_slug, id).await
    }

    async fn close(
        &self,
        org: &Organisation,
        case: &PromotionCase,
        event: &CaseEvent,
        assignment: Option<&LevelAssignment>,
    ) -> Result<(), AppError> {
        let action = match event.kind {
            EventKind::Approved => "promotion.approve",
            EventKind::Rejected => "promotion.reject",
            _ => "promotion.withdraw",
        };
        let mut subjects = vec![case.id.0, case.person_id.0];
        subjects.extend(assignment.map(|a| a.id.0));
        let audit = Audit::new(
            Some(event.actor_id),
            action,
            subjects,
            format!("{} / {}: {}", case.to.track, case.to.level, event.note),
        );
        // The decision and, for an approval, the new level: one transaction, all or nothing.
        // The new level first: it locks the person's standing before the case is updated, as
        // every write of standings does.
        self.db
            .write(org.id, &audit, async |tx| {
                if let Some(a) = assignment {
                    tx.append_assignment(a).await?;
                }
                tx.close_case(case, event).await
            })
            .await
            .map_err(|e| match e {
                rungs_db::DbError::Conflict { .. } => AppError::StateConflict(
                    "this case was decided or withdrawn meanwhile: reload it".into(),
                ),
                other => other.into(),
            })
    }

    /// One case with its events.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn promotion_case(
        &self,
        actor: &Actor,
        org_slug: &str,
        id: CaseId,
    ) -> Result<CaseView, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let (case, events, _) = self.readable_case(actor, &org, id).await?;
        let mut views = self.case_views(&org, vec![(case, events)]).await?;
        views
            .pop()
            .ok_or_else(|| AppError::NotFound("promotion case".into()))
    }

    /// The cases the actor may see (HR admins: all; managers: their reports' and their own;
    /// everyone: their own), newest first, optionally of one status.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn promotion_cases(
        &self,
        actor: &Actor,
        org_slug: &str,
        status: Option<PromotionStatus>,
        want_total: bool,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<Page<CaseView>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        // Everyone reads their own cases and their reports' (the policy's reporting-line
        // rules); HR admins and the operator read every case.
        let reach = match authorize(actor, Action::ReadCase(org.id, Relation::Unrelated)) {
            Ok(()) => rungs_db::Reach::Everyone,
            Err(e) => match actor.person_id() {
                Some(me) => {
                    authorize(actor, Action::ReadCase(org.id, Relation::Myself))?;
                    rungs_db::Reach::LinesOf(me)
                }
                None => return Err(e),
            },
        };
        let (first, after) = crate::people::page_args::<uuid::Uuid>(first, after)?;
        let (cases, has_next, total) = self
            .db
            .cases_page(org.id, reach, status, after.map(CaseId), first, want_total)
            .await?;
        let end_cursor = cases.last().map(|c| c.id.to_string());
        let items = self
            .case_views(&org, cases.into_iter().map(|c| (c, Vec::new())).collect())
            .await?;
        Ok(Page {
            items,
            has_next,
            total,
            end_cursor,
        })
    }

    /// A person's career: the levels held with time in each, and the promotion cases about them.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn career(
        &self,
        actor: &Actor,
        org_slug: &str,
        person: PersonId,
    ) -> Result<Career, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let person = self.person_by_id(&org, person).await?;
        let relation = self.relation_to(actor, &org, person.id).await?;
        authorize(actor, Action::ReadGrowth(org.id, relation))?;
        let history = self.db.assignments(org.id, Some(person.id)).await?;
        let cases = self
            .db
            .cases(
                org.id,
                CaseFilter {
                    scope: Scope::Person(person.id),
                    status: None,
                },
            )
            .await?;
        let cases = self
            .case_views(&org, cases.into_iter().map(|c| (c, Vec::new())).collect())
            .await?;
        Ok(Career {
            periods: level_periods(&history, Utc::now().date_naive()),
            cases,
            person,
        })
    }
}
