//! People as the API sees them: one record, a filtered page, one's own, adding and updating
//! people, and level history by id. Visibility follows the policy's reporting-line rules.

use crate::policy::{Action, Actor, authorize, people_reach};
use crate::{App, AppError, PersonView};
use chrono::Utc;
use rungs_db::{Audit, PeopleQuery, Reach};
use rungs_domain::PersonId;
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::org::Organisation;
use rungs_domain::person::{Email, Person};
use rungs_domain::search::{Sought, sought};
use rungs_domain::text::required_text;

/// The largest page a list returns.
pub const MAX_PAGE: usize = 100;
/// The page size when none is asked for.
pub const DEFAULT_PAGE: usize = 20;

/// Which people a listing returns (all conditions must hold).
#[derive(Debug, Clone, Default)]
pub struct PeopleFilter {
    /// Part of the name or email, any case.
    pub search: Option<String>,
    /// Current track key.
    pub track: Option<String>,
    /// Current level key.
    pub level: Option<String>,
    /// Direct reports of this person.
    pub manager: Option<PersonId>,
    /// Only people without a level in force today (new, or placed from a later day): those
    /// HR has yet to place. Not with `track` or `level`.
    pub unplaced: bool,
    /// Deactivated people are left out unless asked for.
    pub include_inactive: bool,
    /// The caller does not need `Page::total` (it is then 0): the count is skipped.
    pub skip_total: bool,
    /// What each person's view holds besides the record.
    pub fields: ViewFields,
}

/// What a person's view reads besides their record; what is left out stays empty.
#[derive(Debug, Clone, Copy)]
pub struct ViewFields {
    /// The position in force.
    pub current: bool,
    /// The manager's email.
    pub manager_email: bool,
}

impl Default for ViewFields {
    fn default() -> Self {
        Self {
            current: true,
            manager_email: true,
        }
    }
}

/// One page of a list ordered by email; `after` is the last email of the previous page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
    /// How many match the filter (and are visible to the caller), over all pages.
    pub total: usize,
    /// What to pass as `after` for the next page: opaque, and never personal data.
    pub end_cursor: Option<String>,
}

/// A page's arguments, checked: its size (by default [`DEFAULT_PAGE`], at most [`MAX_PAGE`]),
/// and the cursor read as what the list pages by (a position, or the key of the last item).
pub(crate) fn page_args<K: std::str::FromStr>(
    first: Option<usize>,
    after: Option<&str>,
) -> Result<(usize, Option<K>), AppError> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if first > MAX_PAGE {
        return Err(AppError::Invalid(format!("`first` is at most {MAX_PAGE}")));
    }
    let after = after
        .map(|c| {
            c.parse::<K>()
                .map_err(|_| AppError::Invalid(format!("`{c}` is not a cursor from this list")))
        })
        .transpose()?;
    Ok((first, after))
}

/// The page authentication read with the session ([`Lead::People`](rungs_db::Lead::People)),
/// if it is the one `q` asks for: the whole directory's first page of `first`, no filter, no
/// total, positions read if asked for (dropped if not).
fn lead_page(
    known: &crate::auth::ReadWithSession,
    reach: Reach,
    q: &PeopleQuery,
    after: Option<PersonId>,
    first: usize,
) -> Option<rungs_db::PeoplePage> {
    let Some(rungs_db::LeadRead::People(
        rungs_db::Lead::People {
            first: read_first,
            with_positions,
        },
        Some(page),
    )) = &known.lead
    else {
        return None;
    };
    let whole = q
        .search
        .as_deref()
        .is_none_or(|s| sought(s) == Sought::Anyone)
        && q.track.is_none()
        && q.level.is_none()
        && q.manager.is_none()
        && !q.unplaced
        && !q.include_inactive
        && q.skip_total;
    if !(whole
        && reach == Reach::Everyone
        && after.is_none()
        && *read_first == first
        && (*with_positions || !q.with_positions))
    {
        return None;
    }
    let mut page = page.clone();
    if !q.with_positions {
        page.people.iter_mut().for_each(|(_, at)| *at = None);
    }
    Some(page)
}

/// A new person, from the API or the web app.
#[derive(Debug, Clone)]
pub struct NewPersonInput {
    pub email: String,
    pub display_name: String,
    pub manager: Option<PersonId>,
    pub is_admin: bool,
    /// Where they start, written in the same transaction as the person.
    pub placement: Option<NewPlacement>,
}

/// A first position on the organisation's matrix (its newest published version).
#[derive(Debug, Clone)]
pub struct NewPlacement {
    pub track: String,
    pub level: String,
    /// Today unless given.
    pub effective: Option<chrono::NaiveDate>,
    pub reason: String,
}

/// Changes to a person; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PersonChanges {
    pub display_name: Option<String>,
    /// `Some(None)` removes the manager.
    pub manager: Option<Option<PersonId>>,
    pub is_admin: Option<bool>,
    pub active: Option<bool>,
}

impl App {
    /// One person, if the actor may see them: the person, whether the actor manages them
    /// (walking up the person's reporting line), their position and their manager's email, a
    /// handful of statements whatever the size of the organisation.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn person_view(
        &self,
        actor: &Actor,
        org_slug: &str,
        id: PersonId,
    ) -> Result<PersonView, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let p = self.person_by_id(&org, id).await?;
        let relation = self.relation_to(actor, &org, id).await?;
        authorize(actor, Action::ReadPerson(org.id, relation))?;
        Ok(self
            .views(&org, vec![p], ViewFields::default())
            .await?
            .remove(0))
    }

    /// People as views: each one's current position and manager's email (those of `fields`;
    /// the others are left empty), a statement each for the whole list.
    pub(crate) async fn views(
        &self,
        org: &Organisation,
        people: Vec<Person>,
        fields: ViewFields,
    ) -> Result<Vec<PersonView>, AppError> {
        let today = Utc::now().date_naive();
        let ids: Vec<PersonId> = people.iter().map(|p| p.id).collect();
        let mut current = if fields.current {
            self.db.current_positions(org.id, &ids, today).await?
        } else {
            Default::default()
        };
        let people = people
            .into_iter()
            .map(|p| {
                let at = current.remove(&p.id);
                (p, at)
            })
            .collect();
        self.views_placed(org, people, fields).await
    }

    /// [`App::views`] of people whose positions were read with them.
    pub(crate) async fn views_placed(
        &self,
        org: &Organisation,
        people: Vec<(Person, Option<LevelAssignment>)>,
        fields: ViewFields,
    ) -> Result<Vec<PersonView>, AppError> {
        let managers: Vec<PersonId> = people.iter().filter_map(|(p, _)| p.manager_id).collect();
        let emails = if fields.manager_email {
            self.db.emails_of(org.id, &managers).await?
        } else {
            Default::default()
        };
        Ok(people
            .into_iter()
            .map(|(p, current)| PersonView {
                manager_email: p.manager_id.and_then(|m| emails.get(&m).cloned()),
                current,
                person: p,
            })
            .collect())
    }

    /// The people the actor may see (HR admins: everyone; managers: themselves and their
    /// reports; employees: themselves), filtered, ordered by email, one page at a time: the
    /// filter, the order and the page are SQL's, and the cursor is the last person's id.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn people_page(
        &self,
        actor: &Actor,
        org_slug: &str,
        filter: &PeopleFilter,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<Page<PersonView>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        self.people_page_in(actor, &org, filter, first, after, None)
            .await
    }

    /// [`App::people_page`] in an organisation already resolved for the actor; the page is
    /// not read again when it is what authentication read with the session (`known`'s
    /// [`Lead::People`](rungs_db::Lead::People)).
    pub(crate) async fn people_page_in(
        &self,
        actor: &Actor,
        org: &Organisation,
        filter: &PeopleFilter,
        first: Option<usize>,
        after: Option<&str>,
        known: Option<&crate::auth::ReadWithSession>,
    ) -> Result<Page<PersonView>, AppError> {
        let (first, after) = page_args::<PersonId>(first, after)?;
        let reach = people_reach(actor, org.id)?;
        let today = Utc::now().date_naive();
        if filter.unplaced {
            if filter.track.is_some() || filter.level.is_some() {
                return Err(AppError::Invalid(
                    "people without a level have no track or level to filter by: ask for one or the other".into(),
                ));
            }
            // Who has no level is read from the kept standings: those due first.
            self.db.refresh_due_standings(org.id, today).await?;
        }
        let q = PeopleQuery {
            search: filter.search.clone(),
            track: filter.track.clone(),
            level: filter.level.clone(),
            manager: filter.manager,
            unplaced: filter.unplaced,
            include_inactive: filter.include_inactive,
            today: Some(today),
            skip_total: filter.skip_total,
            // Positions are read with the page, in its statement.
            with_positions: filter.fields.current,
        };
        let page = match known.and_then(|k| lead_page(k, reach, &q, after, first)) {
            Some(page) => page,
            None => self.db.people_page(org.id, reach, &q, after, first).await?,
        };
        let end_cursor = page.people.last().map(|(p, _)| p.id.to_string());
        Ok(Page {
            items: self.views_placed(org, page.people, filter.fields).await?,
            has_next: page.has_next,
            total: page.total,
            end_cursor,
        })
    }

    /// A person's level history by id, oldest first.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn level_history_of(
        &self,
        actor: &Actor,
        org_slug: &str,
        id: PersonId,
    ) -> Result<Vec<LevelAssignment>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        self.person_by_id(&org, id).await?;
        let relation = self.relation_to(actor, &org, id).await?;
        authorize(actor, Action::ReadPerson(org.id, relation))?;
        Ok(self.db.assignments(org.id, Some(id)).await?)
    }

    /// Refuses `manager` as `person`'s manager when it would close a loop in the reporting
    /// lines, naming the loop by email. Walks up from the new manager only.
    pub(crate) async fn refuse_cycle(
        &self,
        org: &Organisation,
        person: PersonId,
        manager: PersonId,
    ) -> Result<(), AppError> {
        let mut chain = vec![person, manager];
        if manager != person {
            let above = self.db.line_above(org.id, manager).await?;
            let Some(at) = above.iter().position(|p| *p == person) else {
                return Ok(());
            };
            chain.extend_from_slice(&above[..=at]);
        }
        let emails = self.db.emails_of(org.id, &chain).await?;
        let names: Vec<String> = chain
            .iter()
            .map(|id| {
                emails
                    .get(id)
                    .map_or_else(|| id.to_string(), ToString::to_string)
            })
            .collect();
        Err(AppError::Invalid(format!(
            "this manager would make the reporting lines a cycle: {}",
            names.join(" -> ")
        )))
    }

    /// Adds one person.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn add_person(
        &self,
        actor: &Actor,
        org_slug: &str,
        input: NewPersonInput,
    ) -> Result<Person, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ManagePeople(org.id))?;
        let email = Email::parse(&input.email)?;
        if self.db.person_by_email(org.id, &email).await?.is_some() {
            return Err(AppError::Conflict(format!("person `{email}`")));
        }
        if let Some(m) = input.manager {
            self.person_by_id(&org, m).await?;
        }
        let person = Person {
            id: PersonId::new(),
            org_id: org.id,
            email,
            display_name: required_text("displayName", &input.display_name, 200)?,
            manager_id: input.manager,
            is_admin: input.is_admin,
            active: true,
        };
        let placed = match &input.placement {
            Some(p) => {
                authorize(actor, Action::AssignLevel(org.id))?;
                let placement = crate::Placement {
                    matrix: None,
                    track: &p.track,
                    level: &p.level,
                    effective: p.effective,
                    reason: &p.reason,
                };
                Some(self.placement_of(actor, &org, person.id, placement).await?)
            }
            None => None,
        };
        let mut subjects = vec![person.id.0];
        subjects.extend(placed.as_ref().map(|a| a.id.0));
        let audit = Audit::new(
            actor.person_id(),
            "person.add",
            subjects,
            match &placed {
                Some(a) => format!(
                    "added {} as {} / {} from {}: {}",
                    person.email, a.track, a.level, a.effective, a.reason
                ),
                None => format!("added {}", person.email),
            } + &actor.via(),
        );
        self.db
            .write(org.id, &audit, async |tx| {
                tx.save_people(std::slice::from_ref(&person), &[], placed.as_slice())
                    .await
            })
            .await?;
        Ok(person)
    }

    /// Changes a person's name, manager, admin flag or active state. Deactivating someone
    /// signs them out everywhere. HR admins cannot lock themselves out.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn update_person(
        &self,
        actor: &Actor,
        org_slug: &str,
        id: PersonId,
        changes: PersonChanges,
    ) -> Result<Person, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ManagePeople(org.id))?;
        let mut p = self.person_by_id(&org, id).await?;
        let myself = actor.person_id() == Some(id);
        if let Some(name) = &changes.display_name {
            p.display_name = required_text("displayName", name, 200)?;
        }
        if let Some(manager) = changes.manager {
            if let Some(m) = manager {
                self.person_by_id(&org, m).await?;
                self.refuse_cycle(&org, id, m).await?;
            }
            p.manager_id = manager;
        }
        if let Some(admin) = changes.is_admin {
            if myself && !admin {
                return Err(AppError::Invalid(
                    "you cannot remove your own HR-admin rights: ask another HR admin".into(),
                ));
            }
            p.is_admin = admin;
        }
        if let Some(active) = changes.active {
            if myself && !active {
                return Err(AppError::Invalid(
                    "you cannot deactivate yourself: ask another HR admin".into(),
                ));
            }
            p.active = active;
        }
        let audit = Audit::new(
            actor.person_id(),
            "person.update",
            [p.id.0],
            format!("updated {}: {changes:?}{}", p.email, actor.via()),
        );
        // A deactivation ends the person's sessions in the same transaction.
        self.db
            .write(org.id, &audit, async |tx| {
                tx.save_people(&[], std::slice::from_ref(&p), &[]).await?;
                if !p.active {
                    tx.end_sessions_of(p.id).await?;
                }
                Ok(())
            })
            .await?;
        Ok(p)
    }
}
