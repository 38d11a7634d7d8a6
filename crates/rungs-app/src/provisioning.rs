//! Provisioning by SCIM 2.0: the organisation's provisioning tokens (HR admins create, list and
//! revoke them; only their hashes are kept), and the people a SCIM client creates, replaces and
//! deactivates. The SCIM protocol itself (JSON, filters, PATCH) is `rungs-api`'s; here are the
//! rules: the policy (`Actor::Provisioner` manages people and nothing else), unique emails and
//! user names, managers of the same organisation and no cycle in the reporting lines, and an
//! audit entry naming the token for every write (`person.add`, `person.update`).

use crate::auth::{random_token, token_hash};
use crate::policy::{Action, Actor, authorize};
use crate::{App, AppError};
use chrono::{Duration, Utc};
use rungs_db::Audit;
pub use rungs_db::ScimFilter;
use rungs_domain::org::Organisation;
use rungs_domain::person::{Email, Person};
use rungs_domain::provisioning::{ScimIdentity, ScimToken};
use rungs_domain::{PersonId, ScimTokenId};

/// Each organisation's turn to write through SCIM. A client's sync sends many writes at once;
/// taken one at a time, each one's checks (unique email and user name, the manager's line
/// without a cycle) hold until it is written, and concurrent reporting-line changes cannot
/// interleave (nor deadlock each other on MariaDB's gap locks).
#[derive(Debug, Default)]
pub(crate) struct Turns(
    std::sync::Mutex<
        std::collections::HashMap<rungs_domain::OrgId, std::sync::Arc<tokio::sync::Mutex<()>>>,
    >,
);

impl Turns {
    async fn take(&self, org: rungs_domain::OrgId) -> tokio::sync::OwnedMutexGuard<()> {
        let turn = {
            let mut map = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.entry(org).or_default().clone()
        };
        turn.lock_owned().await
    }
}

/// What a provisioning token starts with, so that it is recognisable in a leak scanner.
const TOKEN_PREFIX: &str = "rungs_scim_";

/// A person as SCIM shows them: the record and their SCIM attributes, if a SCIM client gave
/// any (otherwise the user name is the email).
#[derive(Debug, Clone)]
pub struct ScimUser {
    pub person: Person,
    pub identity: Option<ScimIdentity>,
}

impl ScimUser {
    pub fn user_name(&self) -> &str {
        self.identity
            .as_ref()
            .map_or(self.person.email.as_str(), |i| i.user_name.as_str())
    }
}

/// A user as a SCIM client sends it (created or replaced whole; PATCH is applied to the
/// current user first).
#[derive(Debug, Clone, Default)]
pub struct ScimUserInput {
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub formatted: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The primary email; without one, the user name must be an email.
    pub email: Option<String>,
    pub email_type: Option<String>,
    pub email_primary: Option<bool>,
    pub active: bool,
    pub manager: Option<PersonId>,
}

fn short(field: &'static str, v: Option<String>, max: usize) -> Result<Option<String>, AppError> {
    match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > max => Err(AppError::Invalid(format!(
            "{field}: at most {max} characters"
        ))),
        other => Ok(other),
    }
}

impl App {
    /// Creates a provisioning token for the organisation (HR admins): the token, shown this
    /// once, and its record.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn create_scim_token(
        &self,
        actor: &Actor,
        slug: &str,
        name: &str,
    ) -> Result<(String, ScimToken), AppError> {
        let org = self.organisation(actor, slug).await?;
        authorize(actor, Action::ConfigureSignIn(org.id))?;
        let name = rungs_domain::text::required_text("name", name, 100)?;
        let token = format!("{TOKEN_PREFIX}{}", random_token()?);
        let t = ScimToken {
            id: ScimTokenId::new(),
            org_id: org.id,
            name,
            created_by: actor.person_id(),
            created_at: Utc::now(),
            last_used_at: None,
            revoked_at: None,
        };
        let audit = Audit::new(
            actor.person_id(),
            "scim.token_create",
            [t.id.0],
            format!("provisioning token \"{}\" {} created", t.name, t.id),
        );
        self.db
            .insert_scim_token(&t, &token_hash(&token), &audit)
            .await?;
        Ok((token, t))
    }

    /// The organisation's provisioning tokens, newest first (HR admins; never the tokens).
    pub async fn scim_tokens(&self, actor: &Actor, slug: &str) -> Result<Vec<ScimToken>, AppError> {
        let org = self.organisation(actor, slug).await?;
        authorize(actor, Action::ConfigureSignIn(org.id))?;
        Ok(self.db.scim_tokens(org.id).await?)
    }

    /// Revokes a provisioning token: requests carrying it are refused from the next one on.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn revoke_scim_token(
        &self,
        actor: &Actor,
        slug: &str,
        id: ScimTokenId,
    ) -> Result<(), AppError> {
        let org = self.organisation(actor, slug).await?;
        authorize(actor, Action::ConfigureSignIn(org.id))?;
        let audit = Audit::new(
            actor.person_id(),
            "scim.token_revoke",
            [id.0],
            format!("provisioning token {id} revoked"),
        );
        if self.db.revoke_scim_token(org.id, id, &audit).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!(
                "a live provisioning token {id} in `{slug}`"
            )))
        }
    }

    /// The SCIM client behind a bearer token, and its organisation.
    pub async fn scim_authenticate(&self, token: &str) -> Result<(Actor, Organisation), AppError> {
        let refused =
            || AppError::Unauthenticated("the provisioning token is unknown or revoked".into());
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(refused());
        }
        let (t, org) = self
            .db
            .scim_token_by_hash(&token_hash(token))
            .await?
            .ok_or_else(refused)?;
        let now = Utc::now();
        if t.last_used_at
            .is_none_or(|u| now - u > Duration::minutes(1))
        {
            self.db.touch_scim_token(t.id, now).await?;
        }
        Ok((
            Actor::Provisioner {
                org: org.id,
                token: t.id,
                name: t.name,
            },
            org,
        ))
    }

    async fn scim_users_of(
        &self,
        org: &Organisation,
        people: Vec<Person>,
    ) -> Result<Vec<ScimUser>, AppError> {
        let ids: Vec<PersonId> = people.iter().map(|p| p.id).collect();
        let mut identities = self.db.scim_identities(org.id, &ids).await?;
        Ok(people
            .into_iter()
            .map(|person| ScimUser {
                identity: identities.remove(&person.id),
                person,
            })
            .collect())
    }

    /// One user of the organisation.
    pub async fn scim_user(
        &self,
        actor: &Actor,
        org: &Organisation,
        id: PersonId,
    ) -> Result<ScimUser, AppError> {
        authorize(actor, Action::ListPeople(org.id))?;
        let person = self.person_by_id(org, id).await?;
        let user = self
            .scim_users_of(org, vec![person])
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound(format!("user {id}")))?;
        if user
            .identity
            .as_ref()
            .is_some_and(|i| i.deleted_at.is_some())
        {
            return Err(AppError::NotFound(format!("user {id}")));
        }
        Ok(user)
    }

    /// Deletes a user as SCIM asks: the person is deactivated (their history stays, their
    /// sessions end) and SCIM answers 404 for them from then on. Creating a user with their
    /// email again brings them back.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn scim_delete(
        &self,
        actor: &Actor,
        org: &Organisation,
        id: PersonId,
    ) -> Result<(), AppError> {
        authorize(actor, Action::ManagePeople(org.id))?;
        let _turn = self.provisioning.take(org.id).await;
        let user = self.scim_user(actor, org, id).await?;
        let mut person = user.person;
        person.active = false;
        let now = Utc::now();
        let identity = ScimIdentity {
            person_id: id,
            // The user name is free for someone else from now on.
            user_name: format!("{id}#deleted"),
            deleted_at: Some(now),
            updated_at: now,
            ..user.identity.unwrap_or_default()
        };
        let audit = Audit::new(
            actor.person_id(),
            "person.update",
            [id.0],
            format!(
                "deleted by SCIM: deactivated {}{}",
                person.email,
                actor.via()
            ),
        );
        self.save_provisioned(org, &person, false, &identity, &audit)
            .await
    }

    /// A page of the organisation's users (deactivated ones too), oldest first: the users, and
    /// how many match in all.
    pub async fn scim_users(
        &self,
        actor: &Actor,
        org: &Organisation,
        filter: &ScimFilter,
        start: u64,
        count: u64,
    ) -> Result<(Vec<ScimUser>, u64), AppError> {
        authorize(actor, Action::ListPeople(org.id))?;
        let (people, total) = self.db.scim_people(org.id, filter, start, count).await?;
        Ok((self.scim_users_of(org, people).await?, total))
    }

    /// Creates a user (a person with their SCIM attributes), or replaces one whole when `id`
    /// is given.
    #[tracing::instrument(skip(self, input), err(level = "debug", Display))]
    pub async fn scim_save(
        &self,
        actor: &Actor,
        org: &Organisation,
        id: Option<PersonId>,
        input: ScimUserInput,
    ) -> Result<ScimUser, AppError> {
        authorize(actor, Action::ManagePeople(org.id))?;
        let _turn = self.provisioning.take(org.id).await;
        let user_name = input.user_name.trim().to_lowercase();
        if user_name.is_empty() || user_name.chars().count() > 255 {
            return Err(AppError::Invalid(
                "userName: 1 to 255 characters, required".into(),
            ));
        }
        let email_text = input.email.clone().unwrap_or_else(|| user_name.clone());
        let email = Email::parse(&email_text).map_err(|_| {
            AppError::Invalid(format!(
                "emails: `{email_text}` is not an email (a user needs one, in emails or as the userName)"
            ))
        })?;
        let given = short("name.givenName", input.given_name, 255)?;
        let family = short("name.familyName", input.family_name, 255)?;
        let formatted = short("name.formatted", input.formatted, 255)?;
        let display = input
            .display_name
            .clone()
            .filter(|d| !d.trim().is_empty())
            .or_else(|| formatted.clone())
            .or_else(|| match (&given, &family) {
                (None, None) => None,
                (g, f) => Some(
                    [g.as_deref(), f.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            })
            .unwrap_or_else(|| email.to_string());
        let display_name = rungs_domain::text::required_text("displayName", &display, 200)?;
        // Another person with this email, or this user name, is a conflict; unless SCIM
        // deleted them: creating them again brings them back.
        let mut id = id;
        if let Some(other) = self.db.person_by_email(org.id, &email).await?
            && Some(other.id) != id
        {
            let deleted = self
                .db
                .scim_identities(org.id, &[other.id])
                .await?
                .get(&other.id)
                .is_some_and(|i| i.deleted_at.is_some());
            if id.is_none() && deleted {
                id = Some(other.id);
            } else {
                return Err(AppError::Conflict(format!("a user with the email {email}")));
            }
        }
        let (taken, _) = self
            .db
            .scim_people(org.id, &ScimFilter::UserName(user_name.clone()), 0, 2)
            .await?;
        if taken.iter().any(|p| Some(p.id) != id) {
            return Err(AppError::Conflict(format!(
                "a user with the userName {user_name}"
            )));
        }
        let (mut person, new) = match id {
            Some(id) => (self.person_by_id(org, id).await?, false),
            None => (
                Person {
                    id: PersonId::new(),
                    org_id: org.id,
                    email: email.clone(),
                    display_name: display_name.clone(),
                    manager_id: None,
                    is_admin: false,
                    active: true,
                },
                true,
            ),
        };
        if let Some(m) = input.manager {
            self.person_by_id(org, m).await.map_err(|_| {
                AppError::Invalid(format!("manager: no user {m} in this organisation"))
            })?;
            if !new {
                self.refuse_cycle(org, person.id, m).await?;
            }
        }
        let was_active = person.active;
        person.email = email;
        person.display_name = display_name;
        person.manager_id = input.manager;
        person.active = input.active;
        let identity = ScimIdentity {
            person_id: person.id,
            user_name,
            external_id: short("externalId", input.external_id, 255)?,
            formatted,
            given_name: given,
            family_name: family,
            email_type: short("emails.type", input.email_type, 50)?,
            email_primary: input.email_primary,
            updated_at: Utc::now(),
            deleted_at: None,
        };
        let (action, what) = if new {
            ("person.add", format!("added {}", person.email))
        } else if was_active && !person.active {
            ("person.update", format!("deactivated {}", person.email))
        } else {
            ("person.update", format!("updated {}", person.email))
        };
        let audit = Audit::new(
            actor.person_id(),
            action,
            [person.id.0],
            format!("{what}{}", actor.via()),
        );
        self.save_provisioned(org, &person, new, &identity, &audit)
            .await?;
        Ok(ScimUser {
            person,
            identity: Some(identity),
        })
    }
}

impl App {
    /// Writes a provisioned person (inserted when `new`, updated otherwise) and their SCIM
    /// attributes in one transaction with its audit entry; a deactivation also ends their
    /// sessions and refresh tokens in it. Concurrent provisioning (an identity provider's
    /// sync) can deadlock on MariaDB's gap locks; the database rolls the chosen transaction
    /// back whole, and it runs again (five times at most).
    async fn save_provisioned(
        &self,
        org: &Organisation,
        person: &Person,
        new: bool,
        identity: &ScimIdentity,
        audit: &Audit,
    ) -> Result<(), AppError> {
        let one = std::slice::from_ref(person);
        let mut attempt = 1;
        loop {
            let outcome = self
                .db
                .write(org.id, audit, async |tx| {
                    if new {
                        tx.save_people(one, &[], &[]).await?;
                    } else {
                        tx.save_people(&[], one, &[]).await?;
                    }
                    tx.save_scim_identity(person.id, identity).await?;
                    if !person.active {
                        tx.end_sessions_of(person.id).await?;
                    }
                    Ok(())
                })
                .await;
            match outcome {
                Err(e) if e.is_deadlock() && attempt < 5 => {
                    tracing::debug!(attempt, "provisioning chosen to break a deadlock: again");
                    tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
                    attempt += 1;
                }
                outcome => return Ok(outcome?),
            }
        }
    }
}
