//! The graph's edges: how a person reaches their manager, reports, position, history, growth
//! plan, readiness, assessments and open case; a case its people and events; a version its
//! content. Each field is filled however its object was reached: what was read with the
//! object is used, the rest goes through the request's loaders ([`super::graph`]), which
//! batch and check every id against the policy. Expensive fields carry their complexity.

use super::Ctx;
use super::graph::{
    ContentOf, CurrentOf, EventsOf, HistoryOf, OpenCaseOf, PlanOf, ReadinessOf, load, named, reader,
};
use super::growth::{
    Assessment, CaseEvent, GrowthPlan, Position, PromotionCase, Readiness, Total,
    assessment_connection, plan_toward,
};
use super::people::{PeopleTotal, person_connection};
use super::types::{
    Cell, Expectation, Level, LevelAssignment, MatrixVersion, Person, Track, criteria_of, tracks_of,
};
use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Result};
use rungs_domain as d;
use rungs_domain::PersonId;

/// A field's work on the heap. async-graphql resolves every field of an object, `id` and
/// `email` too, through one future as large as the largest of the object's fields (its work
/// and the object it returns), allocated and copied per field: a person's
/// `growthPlan(target:)`, `reports` and `assessments` made each of a page's 60
/// `id`/`email`/`displayName` fields a 5 KB future. Boxed (and a large returned object in a
/// `Box`), the large work is allocated only when its field is asked for.
fn boxed<'a, T>(
    work: impl std::future::Future<Output = T> + Send + 'a,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>> {
    Box::pin(work)
}

fn page_size(first: Option<i32>) -> Option<usize> {
    first.and_then(|f| usize::try_from(f).ok())
}

/// A person named on a record: the one read with it, or loaded.
async fn person_named(
    ctx: &Context<'_>,
    known: &[d::person::Person],
    id: PersonId,
) -> Result<Option<Person>> {
    if let Some(p) = known.iter().find(|p| p.id == id) {
        return Ok(Some(p.clone().into()));
    }
    Ok(named(ctx, id).await?.map(Into::into))
}

#[ComplexObject]
impl Person {
    /// The manager's email (null: no manager).
    async fn manager_email(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        if let Some(known) = &self.known_manager_email {
            return Ok(known.clone());
        }
        let Some(m) = self.manager else {
            return Ok(None);
        };
        Ok(named(ctx, m).await?.map(|p| p.email.to_string()))
    }

    /// Their manager, named (what is about the manager answers as for anyone).
    async fn manager(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        match self.manager {
            Some(m) => person_named(ctx, &[], m).await,
            None => Ok(None),
        }
    }

    /// Where they stand today: the latest effective level assignment.
    async fn current(&self, ctx: &Context<'_>) -> Result<Option<LevelAssignment>> {
        let current = match &self.known_current {
            Some(known) => known.clone(),
            None => load(ctx, CurrentOf(self.key)).await?,
        };
        Ok(current.map(Into::into))
    }

    /// Their level changes, oldest first.
    #[graphql(complexity = "5 * child_complexity")]
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<LevelAssignment>> {
        let h = load(ctx, HistoryOf(self.key)).await?;
        Ok(h.into_iter().map(Into::into).collect())
    }

    /// Their direct reports that the caller may see (active ones), by email.
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity + 1")]
    async fn reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(minimum = 1, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Person, PeopleTotal>> {
        let c = Ctx::of(ctx);
        let want_total = ctx.look_ahead().field("totalCount").exists();
        let fields = Person::fields(ctx.look_ahead().field("edges").field("node"));
        let page = c.ok(boxed(reader(ctx)?.reports(
            self.key,
            want_total,
            fields,
            page_size(first),
            after.as_deref(),
        ))
        .await)?;
        Ok(person_connection(page, after.is_some(), fields))
    }

    /// What it takes to reach `target` (by default the next rung of their ladder).
    #[graphql(complexity = "5 + child_complexity")]
    async fn growth_plan(
        &self,
        ctx: &Context<'_>,
        target: Option<Position>,
    ) -> Result<Box<GrowthPlan>> {
        match target {
            None => Ok(Box::new(load(ctx, PlanOf(self.key)).await?.into())),
            Some(t) => boxed(plan_toward(ctx, self.key, &t)).await.map(Box::new),
        }
    }

    /// Readiness for the next rung of their ladder, with its reasons.
    #[graphql(complexity = "3 + child_complexity")]
    async fn readiness(&self, ctx: &Context<'_>) -> Result<Box<Readiness>> {
        Ok(Box::new(load(ctx, ReadinessOf(self.key)).await?.into()))
    }

    /// Their assessments, newest first.
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity + 1")]
    async fn assessments(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(minimum = 1, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Assessment, Total>> {
        let c = Ctx::of(ctx);
        let page =
            c.ok(
                boxed(reader(ctx)?.assessments(self.key, page_size(first), after.as_deref())).await,
            )?;
        Ok(assessment_connection(page, after.is_some()))
    }

    /// Their open promotion case, if any.
    async fn open_case(&self, ctx: &Context<'_>) -> Result<Option<Box<PromotionCase>>> {
        Ok(load(ctx, OpenCaseOf(self.key))
            .await?
            .map(|c| Box::new(c.into())))
    }
}

#[ComplexObject]
impl PromotionCase {
    /// The person it is about.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        person_named(ctx, &self.known_people, self.case.person_id).await
    }

    /// The manager who proposed it.
    async fn proposer(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        person_named(ctx, &self.known_people, self.case.proposer_id).await
    }

    /// The HR admin who approved or rejected it.
    async fn decided_by(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        match &self.case.decision {
            Some(d) => person_named(ctx, &self.known_people, d.by).await,
            None => Ok(None),
        }
    }

    /// What happened to it, oldest first.
    #[graphql(complexity = "3 * child_complexity")]
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<CaseEvent>> {
        let events = match &self.known_events {
            Some(known) => known.clone(),
            None => load(ctx, EventsOf(self.case.id)).await?,
        };
        Ok(events.into_iter().map(Into::into).collect())
    }
}

#[ComplexObject]
impl CaseEvent {
    /// Who acted.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let known: Vec<d::person::Person> = self.known_actor.iter().cloned().collect();
        person_named(ctx, &known, self.actor_key).await
    }
}

#[ComplexObject]
impl Assessment {
    /// Who gave the rating.
    async fn assessor(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let known: Vec<d::person::Person> = self.known_assessor.iter().cloned().collect();
        person_named(ctx, &known, self.assessor_key).await
    }
}

#[ComplexObject]
impl MatrixVersion {
    /// The levels, from the first rung up.
    #[graphql(complexity = "10 * child_complexity")]
    async fn levels(&self, ctx: &Context<'_>) -> Result<Vec<Level>> {
        let m = load(ctx, ContentOf(self.key)).await?;
        Ok(m.levels().iter().map(Level::from).collect())
    }

    /// The tracks, each with its ladder and cells.
    #[graphql(complexity = "10 * child_complexity")]
    async fn tracks(&self, ctx: &Context<'_>) -> Result<Vec<Track>> {
        Ok(tracks_of(&load(ctx, ContentOf(self.key)).await?))
    }

    /// Every cell (a track at a level), track by track.
    #[graphql(complexity = "50 * child_complexity")]
    async fn cells(&self, ctx: &Context<'_>) -> Result<Vec<Cell>> {
        let tracks = tracks_of(&load(ctx, ContentOf(self.key)).await?);
        Ok(tracks.into_iter().flat_map(|t| t.cells).collect())
    }

    /// Every criterion once, in matrix order.
    #[graphql(complexity = "50 * child_complexity")]
    async fn criteria(&self, ctx: &Context<'_>) -> Result<Vec<Expectation>> {
        Ok(criteria_of(&load(ctx, ContentOf(self.key)).await?))
    }
}
