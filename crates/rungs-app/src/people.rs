//! People as the API sees them: one record, a filtered page, one's own, adding and updating
//! people, and level history by id. Visibility follows the policy's reporting-line rules.

use crate::policy::{Action, Actor, Relation, authorize};
use crate::{App, AppError, PersonView};
use chrono::{NaiveDate, Utc};
use rungs_db::Audit;
use rungs_domain::assignment::{LevelAssignment, current_as_of};
use rungs_domain::org::Organisation;
use rungs_domain::person::{Email, Person, ReportingTree};
use rungs_domain::text::required_text;
use rungs_domain::{DomainError, PersonId};
use std::collections::HashMap;

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
    /// Deactivated people are left out unless asked for.
    pub include_inactive: bool,
}

/// One page of a list ordered by email; `after` is the last email of the previous page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
    /// How many match the filter (and are visible to the caller), over all pages.
    pub total: usize,
    /// The position of the first item in the whole list.
    pub offset: usize,
}

impl<T> Page<T> {
    /// A page of an already ordered list; the cursor is the position after the last item
    /// returned (opaque to clients).
    pub fn by_offset(
        all: Vec<T>,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<Self, AppError> {
        let first = first.unwrap_or(DEFAULT_PAGE);
        if first > MAX_PAGE {
            return Err(AppError::Invalid(format!("`first` is at most {MAX_PAGE}")));
        }
        let start = match after {
            None => 0,
            Some(c) => c
                .parse::<usize>()
                .map_err(|_| AppError::Invalid(format!("`{c}` is not a cursor from this list")))?,
        };
        let total = all.len();
        let mut items: Vec<T> = all.into_iter().skip(start).take(first + 1).collect();
        let has_next = items.len() > first;
        items.truncate(first);
        Ok(Self {
            items,
            has_next,
            total,
            offset: start,
        })
    }
}

/// A new person, from the API.
#[derive(Debug, Clone)]
pub struct NewPersonInput {
    pub email: String,
    pub display_name: String,
    pub manager: Option<PersonId>,
    pub is_admin: bool,
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

/// An organisation's people with their reporting lines and level histories, loaded once.
struct Directory {
    org: Organisation,
    people: HashMap<PersonId, Person>,
    tree: ReportingTree,
    history: HashMap<PersonId, Vec<LevelAssignment>>,
}

impl Directory {
    fn relation(&self, actor: &Actor, person: PersonId) -> Relation {
        match actor.person_id() {
            Some(me) if me == person => Relation::Myself,
            Some(me) if self.tree.manages(me, person) => Relation::Manager,
            _ => Relation::Unrelated,
        }
    }

    fn may_read(&self, actor: &Actor, person: PersonId) -> Result<(), AppError> {
        authorize(
            actor,
            Action::ReadPerson(self.org.id, self.relation(actor, person)),
        )
    }

    fn get(&self, id: PersonId) -> Result<&Person, AppError> {
        self.people
            .get(&id)
            .ok_or_else(|| AppError::NotFound(format!("person `{id}`")))
    }

    fn view(&self, p: &Person, today: NaiveDate) -> PersonView {
        PersonView {
            manager_email: p
                .manager_id
                .and_then(|m| self.people.get(&m))
                .map(|m| m.email.clone()),
            current: self
                .history
                .get(&p.id)
                .and_then(|h| current_as_of(h, today))
                .cloned(),
            person: p.clone(),
        }
    }

    /// Names a reporting cycle by email instead of ids.
    fn name_cycle(&self, e: DomainError) -> AppError {
        match e {
            DomainError::ReportingCycle { chain } => {
                let names: Vec<String> = chain
                    .iter()
                    .map(|id| {
                        self.people
                            .values()
                            .find(|p| p.id.to_string() == *id)
                            .map_or_else(|| id.clone(), |p| p.email.to_string())
                    })
                    .collect();
                AppError::Invalid(format!(
                    "this manager would make the reporting lines a cycle: {}",
                    names.join(" -> ")
                ))
            }
            other => other.into(),
        }
    }
}

impl App {
    async fn directory(&self, actor: &Actor, org_slug: &str) -> Result<Directory, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        let people = self.db.list_people(org.id).await?;
        let tree = ReportingTree::new(people.iter().map(|p| (p.id, p.manager_id)))
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        let mut history: HashMap<PersonId, Vec<LevelAssignment>> = HashMap::new();
        for a in self.db.assignments(org.id, None).await? {
            history.entry(a.person_id).or_default().push(a);
        }
        Ok(Directory {
            org,
            people: people.into_iter().map(|p| (p.id, p)).collect(),
            tree,
            history,
        })
    }

    /// One person, if the actor may see them.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn person_view(
        &self,
        actor: &Actor,
        org_slug: &str,
        id: PersonId,
    ) -> Result<PersonView, AppError> {
        let dir = self.directory(actor, org_slug).await?;
        let p = dir.get(id)?;
        dir.may_read(actor, id)?;
        Ok(dir.view(p, Utc::now().date_naive()))
    }

    /// The people the actor may see (HR admins: everyone; managers: themselves and their
    /// reports; employees: themselves), filtered, ordered by email, one page at a time.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn people_page(
        &self,
        actor: &Actor,
        org_slug: &str,
        filter: &PeopleFilter,
        first: Option<usize>,
        after: Option<&str>,
    ) -> Result<Page<PersonView>, AppError> {
        let first = first.unwrap_or(DEFAULT_PAGE);
        if first > MAX_PAGE {
            return Err(AppError::Invalid(format!("`first` is at most {MAX_PAGE}")));
        }
        let dir = self.directory(actor, org_slug).await?;
        let today = Utc::now().date_naive();
        let search = filter.search.as_deref().map(str::to_lowercase);
        let mut all: Vec<PersonView> = dir
            .people
            .values()
            .filter(|p| dir.may_read(actor, p.id).is_ok())
            .filter(|p| filter.include_inactive || p.active)
            .filter(|p| filter.manager.is_none_or(|m| p.manager_id == Some(m)))
            .filter(|p| {
                search.as_deref().is_none_or(|s| {
                    p.email.as_str().contains(s) || p.display_name.to_lowercase().contains(s)
                })
            })
            .map(|p| dir.view(p, today))
            .filter(|v| {
                let cur = v.current.as_ref();
                filter
                    .track
                    .as_deref()
                    .is_none_or(|t| cur.is_some_and(|c| c.track.as_str() == t))
                    && filter
                        .level
                        .as_deref()
                        .is_none_or(|l| cur.is_some_and(|c| c.level.as_str() == l))
            })
            .collect();
        all.sort_by(|a, b| a.person.email.cmp(&b.person.email));
        let total = all.len();
        let start = after.map_or(0, |after| {
            all.partition_point(|v| v.person.email.as_str() <= after)
        });
        let mut items: Vec<PersonView> = all.into_iter().skip(start).take(first + 1).collect();
        let has_next = items.len() > first;
        items.truncate(first);
        Ok(Page {
            items,
            has_next,
            total,
            offset: start,
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
        let dir = self.directory(actor, org_slug).await?;
        dir.get(id)?;
        dir.may_read(actor, id)?;
        Ok(dir.history.get(&id).cloned().unwrap_or_default())
    }

    /// Adds one person.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn add_person(
        &self,
        actor: &Actor,
        org_slug: &str,
        input: NewPersonInput,
    ) -> Result<Person, AppError> {
        let dir = self.directory(actor, org_slug).await?;
        authorize(actor, Action::ManagePeople(dir.org.id))?;
        let email = Email::parse(&input.email)?;
        if dir.people.values().any(|p| p.email == email) {
            return Err(AppError::Conflict(format!("person `{email}`")));
        }
        if let Some(m) = input.manager {
            dir.get(m)?;
        }
        let person = Person {
            id: PersonId::new(),
            org_id: dir.org.id,
            email,
            display_name: required_text("displayName", &input.display_name, 200)?,
            manager_id: input.manager,
            is_admin: input.is_admin,
            active: true,
        };
        let audit = Audit::new(
            actor.person_id(),
            "person.add",
            [person.id.0],
            format!("added {}", person.email),
        );
        self.db
            .save_people(dir.org.id, std::slice::from_ref(&person), &[], &[], &audit)
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
        let dir = self.directory(actor, org_slug).await?;
        authorize(actor, Action::ManagePeople(dir.org.id))?;
        let mut p = dir.get(id)?.clone();
        let myself = actor.person_id() == Some(id);
        if let Some(name) = &changes.display_name {
            p.display_name = required_text("displayName", name, 200)?;
        }
        if let Some(manager) = changes.manager {
            if let Some(m) = manager {
                dir.get(m)?;
                dir.tree
                    .check_new_manager(id, m)
                    .map_err(|e| dir.name_cycle(e))?;
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
            format!("updated {}: {changes:?}", p.email),
        );
        self.db
            .save_people(dir.org.id, &[], std::slice::from_ref(&p), &[], &audit)
            .await?;
        if !p.active {
            self.db.revoke_person_tokens(dir.org.id, p.id).await?;
        }
        Ok(p)
    }
}
