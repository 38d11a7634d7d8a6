//! People: the caller sees themselves, managers their reports, HR admins everyone; HR admins
//! add, update and place people.

use super::Ctx;
use super::graph::reader;
use super::types::{LevelAssignment, Person};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::NaiveDate;
use rungs_app::{AppError, NewPersonInput, PeopleFilter, PersonChanges, Placement, Reader};
use rungs_domain::PersonId;

fn person_id(c: &Ctx<'_>, id: &ID) -> Result<PersonId> {
    id.parse::<PersonId>().map_err(|_| {
        c.err(AppError::Invalid(format!(
            "`{}` is not a person id",
            id.as_str()
        )))
    })
}

/// Which people to list (all conditions must hold).
#[derive(InputObject, Default)]
pub struct PeopleFilterInput {
    /// The start of a word of the name or email and what follows it, any case or accent (`berg` finds
    /// Mira Bergström and mira.berg5@…; `mira berg` the name; `erg` neither).
    pub search: Option<String>,
    /// Current track key, such as `python-developer`.
    pub track: Option<String>,
    /// Current level key, such as `advanced`.
    pub level: Option<String>,
    /// Direct reports of this person.
    pub manager_id: Option<ID>,
    /// Only people without a level in force today (new hires, people provisioned by single
    /// sign-on or SCIM, or placed from a later day): those HR has yet to place. Not with
    /// `track` or `level` (`INVALID_INPUT`).
    #[graphql(default)]
    pub unplaced: bool,
    /// Include deactivated people.
    #[graphql(default)]
    pub include_inactive: bool,
}

#[derive(SimpleObject)]
pub struct PeopleTotal {
    /// How many people match, over all pages.
    pub total_count: usize,
}

/// What a people import did.
#[derive(SimpleObject)]
pub struct PeopleImportSummary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub levels_assigned: usize,
}

#[derive(InputObject)]
pub struct AddPersonInput {
    pub email: String,
    pub display_name: String,
    pub manager_id: Option<ID>,
    #[graphql(default)]
    pub is_admin: bool,
}

/// Leave a field out to keep it; `managerId: null` removes the manager.
#[derive(InputObject)]
pub struct UpdatePersonInput {
    pub display_name: Option<String>,
    pub manager_id: MaybeUndefined<ID>,
    pub is_admin: Option<bool>,
    /// `false` deactivates: they can no longer sign in and their sessions end.
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct AssignLevelInput {
    pub person_id: ID,
    pub track: String,
    pub level: String,
    /// The matrix key; needed only when the organisation has several.
    pub matrix: Option<String>,
    /// Defaults to today.
    pub effective: Option<NaiveDate>,
    pub reason: String,
}

/// A page of people as a connection (cursors are person ids).
pub(super) fn person_connection(
    page: rungs_app::Page<rungs_app::PersonView>,
    after: bool,
    fields: rungs_app::ViewFields,
) -> Connection<String, Person, PeopleTotal> {
    let mut conn = Connection::with_additional_fields(
        after,
        page.has_next,
        PeopleTotal {
            total_count: page.total,
        },
    );
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|v| Edge::new(v.person.id.to_string(), Person::from_view(v, fields))),
    );
    conn
}

#[derive(Default)]
pub struct PeopleQuery;

#[Object]
impl PeopleQuery {
    /// The people the caller may see, ordered by email: HR admins see everyone, managers
    /// themselves and their direct and indirect reports, employees themselves.
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity + 1")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(minimum = 1, maximum = 100))] first: Option<i32>,
        after: Option<String>,
        filter: Option<PeopleFilterInput>,
    ) -> Result<Connection<String, Person, PeopleTotal>> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let f = filter.unwrap_or_default();
        let filter = PeopleFilter {
            search: f.search,
            track: f.track,
            level: f.level,
            manager: f
                .manager_id
                .as_ref()
                .map(|m| person_id(&c, m))
                .transpose()?,
            unplaced: f.unplaced,
            include_inactive: f.include_inactive,
            // Counting every match costs more than the page: only when it is asked for.
            skip_total: !ctx.look_ahead().field("totalCount").exists(),
            fields: Person::fields(ctx.look_ahead().field("edges").field("node")),
        };
        let first = first.and_then(|f| usize::try_from(f).ok());
        // The page, when authentication read it with the session (not after a write).
        let page = c.ok(reader(ctx)?
            .people_page_with(&filter, first, after.as_deref(), s.read_with.as_ref())
            .await)?;
        Ok(person_connection(page, after.is_some(), filter.fields))
    }

    /// One person, if the caller may see them.
    async fn person(&self, ctx: &Context<'_>, id: ID) -> Result<Person> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let id = person_id(&c, &id)?;
        let fields = Person::fields(ctx.look_ahead());
        // What authentication read with the session, unless the request may write (`http.rs`
        // drops it for a batch holding a mutation): the person, when the request is about them.
        let known = s.read_with.as_ref();
        let view = reader(ctx)?
            .one(id, async |r: &Reader, ids: &[PersonId]| {
                r.people(ids, fields, known).await
            })
            .await;
        Ok(Person::from_view(c.ok(view)?, fields))
    }

    /// A person's level changes, oldest first.
    #[graphql(complexity = "10 * child_complexity")]
    async fn level_history(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
    ) -> Result<Vec<LevelAssignment>> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let id = self::person_id(&c, &person_id)?;
        let h = c.ok(c
            .app
            .level_history_of(&s.actor, s.org.slug.as_str(), id)
            .await)?;
        Ok(h.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct PeopleMutation;

#[Object]
impl PeopleMutation {
    /// Adds a person (HR admins).
    async fn add_person(&self, ctx: &Context<'_>, input: AddPersonInput) -> Result<Person> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let manager = input
            .manager_id
            .as_ref()
            .map(|m| person_id(&c, m))
            .transpose()?;
        let p = c.ok(c
            .app
            .add_person(
                &s.actor,
                s.org.slug.as_str(),
                NewPersonInput {
                    email: input.email,
                    display_name: input.display_name,
                    manager,
                    is_admin: input.is_admin,
                    placement: None,
                },
            )
            .await)?;
        let view = c.ok(c.app.person_view(&s.actor, s.org.slug.as_str(), p.id).await)?;
        Ok(view.into())
    }

    /// Changes a person's name, manager, HR-admin flag or active state (HR admins).
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdatePersonInput,
    ) -> Result<Person> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let id = person_id(&c, &id)?;
        let manager = match input.manager_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(m) => Some(Some(person_id(&c, &m)?)),
        };
        let changes = PersonChanges {
            display_name: input.display_name,
            manager,
            is_admin: input.is_admin,
            active: input.active,
        };
        c.ok(c
            .app
            .update_person(&s.actor, s.org.slug.as_str(), id, changes)
            .await)?;
        let view = c.ok(c.app.person_view(&s.actor, s.org.slug.as_str(), id).await)?;
        Ok(view.into())
    }

    /// Adds or updates everyone in a people CSV (`email,name,manager_email,track,level,admin`),
    /// sets managers and places people (HR admins). Every problem is reported at once, with
    /// its line, in `extensions.problems`; nothing is written unless the whole file is valid.
    async fn import_people(
        &self,
        ctx: &Context<'_>,
        content: String,
        #[graphql(desc = "The matrix key; needed only when the organisation has several.")]
        matrix: Option<String>,
    ) -> Result<PeopleImportSummary> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let r = c.ok(c
            .app
            .import_people(
                &s.actor,
                s.org.slug.as_str(),
                &content,
                "people.csv",
                matrix.as_deref(),
            )
            .await)?;
        Ok(PeopleImportSummary {
            added: r.added,
            updated: r.updated,
            unchanged: r.unchanged,
            levels_assigned: r.levels_assigned,
        })
    }

    /// Places a person at a track and level (HR admins); appended to their history.
    async fn assign_level(
        &self,
        ctx: &Context<'_>,
        input: AssignLevelInput,
    ) -> Result<LevelAssignment> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let id = person_id(&c, &input.person_id)?;
        let a = c.ok(c
            .app
            .assign_level_by_id(
                &s.actor,
                s.org.slug.as_str(),
                id,
                Placement {
                    matrix: input.matrix.as_deref(),
                    track: &input.track,
                    level: &input.level,
                    effective: input.effective,
                    reason: &input.reason,
                },
            )
            .await)?;
        Ok(a.into())
    }
}
