//! Whole-organisation export and import: everything an organisation holds, as one serde value
//! ([`OrgDump`]), read from any backend and written to any backend in one transaction, with
//! the same ids. Timestamps are kept to the microsecond, the precision every backend stores.
//! Sessions (refresh tokens) are not carried: people sign in again. Single sign-on (the
//! identity provider, its secret included) and provisioning (tokens by hash, SCIM attributes)
//! are, since version 2.

use crate::core::Db;
use crate::entities::*;
use crate::error::DbError;
use crate::records::append_assignments;
use crate::records::{Scope, insert_event};
use crate::rows::{insert_chunked, org_from_row, person_from_row};
use chrono::{DateTime, SubsecRound, Utc};
use rungs_domain::assessment::Assessment;
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::growth::ReadinessRule;
use rungs_domain::matrix::{Matrix, VersionStatus};
use rungs_domain::org::Organisation;
use rungs_domain::person::Person;
use rungs_domain::promotion::{CaseEvent, PromotionCase};
use rungs_domain::provisioning::{ScimIdentity, ScimToken};
use rungs_domain::sso::IdentityProvider;
use rungs_domain::{OrgId, PersonId};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What `format` says in an export.
pub const DUMP_FORMAT: &str = "rungs-organisation";
/// The version of the export format this build writes. It reads this one and every earlier
/// one: version 1 had no identity provider and no provisioning (they read as none).
pub const DUMP_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgDump {
    pub format: String,
    pub version: u32,
    pub organisation: Organisation,
    pub created_at: DateTime<Utc>,
    /// Managers before their reports.
    pub people: Vec<PersonRecord>,
    /// Password hashes (Argon2id PHC strings): the export is as sensitive as the database.
    pub credentials: Vec<CredentialRecord>,
    pub matrices: Vec<MatrixRecord>,
    pub assignments: Vec<LevelAssignment>,
    pub assessments: Vec<Assessment>,
    pub cases: Vec<PromotionCase>,
    pub case_events: Vec<CaseEvent>,
    pub readiness_rule: Option<RuleRecord>,
    /// Newest first, as the organisation's audit log reads.
    pub audit_log: Vec<crate::AuditEntry>,
    /// Single sign-on, its client secret included (since version 2).
    #[serde(default)]
    pub identity_provider: Option<IdentityProvider>,
    /// Provisioning tokens, by their hashes as stored (since version 2).
    #[serde(default)]
    pub scim_tokens: Vec<ScimTokenRecord>,
    /// What SCIM said about provisioned people beyond their record (since version 2).
    #[serde(default)]
    pub scim_identities: Vec<ScimIdentity>,
}

/// A provisioning token with its SHA-256 hash, so that an identity provider's token keeps
/// working after a move (the token itself was never stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScimTokenRecord {
    #[serde(flatten)]
    pub token: ScimToken,
    pub token_hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonRecord {
    #[serde(flatten)]
    pub person: Person,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialRecord {
    pub person_id: PersonId,
    pub password_hash: String,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixRecord {
    pub id: Uuid,
    pub key: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Oldest first; the draft (if any) last.
    pub versions: Vec<VersionRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub id: Uuid,
    pub number: Option<u32>,
    pub status: VersionStatus,
    pub note: Option<String>,
    pub created_by: Option<PersonId>,
    pub created_at: DateTime<Utc>,
    pub published_by: Option<PersonId>,
    pub published_at: Option<DateTime<Utc>>,
    pub content: Matrix,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRecord {
    #[serde(flatten)]
    pub rule: ReadinessRule,
    pub updated_by: Option<PersonId>,
    pub updated_at: DateTime<Utc>,
}

fn us(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// People ordered so that every manager comes before their reports (siblings by email).
fn managers_first(people: Vec<PersonRecord>) -> Vec<PersonRecord> {
    crate::rows::managers_first(
        people,
        |p| p.person.id,
        |p| p.person.manager_id,
        |p| p.person.email.to_string(),
    )
}

impl Db {
    /// Everything the organisation holds.
    pub async fn dump_org(&self, org: OrgId) -> Result<OrgDump, DbError> {
        let o = org.0;
        let org_row = organisation::Entity::find_by_id(o)
            .one(&self.conn)
            .await?
            .ok_or_else(|| DbError::not_found("organisation"))?;
        let created_at = us(org_row.created_at);
        let organisation = org_from_row(org_row)?;
        let people = person::Entity::find()
            .filter(person::Column::OrgId.eq(o))
            .all(&self.conn)
            .await?
            .into_iter()
            .map(|r| {
                let created_at = us(r.created_at);
                Ok(PersonRecord {
                    person: person_from_row(r)?,
                    created_at,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        let credentials = credential::Entity::find()
            .filter(credential::Column::OrgId.eq(o))
            .order_by_asc(credential::Column::Id)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(|c| CredentialRecord {
                person_id: PersonId(c.id),
                password_hash: c.password_hash,
                failed_attempts: c.failed_attempts,
                locked_until: c.locked_until.map(us),
                updated_at: us(c.updated_at),
            })
            .collect();
        let mut matrices = Vec::new();
        for m in matrix::Entity::find()
            .filter(matrix::Column::OrgId.eq(o))
            .order_by_asc(matrix::Column::Key)
            .all(&self.conn)
            .await?
        {
            let rows = matrix_version::Entity::find()
                .filter(matrix_version::Column::OrgId.eq(o))
                .filter(matrix_version::Column::MatrixId.eq(m.id))
                .order_by_asc(matrix_version::Column::CreatedAt)
                .order_by_asc(matrix_version::Column::Id)
                .all(&self.conn)
                .await?;
            let mut versions = Vec::new();
            for v in rows {
                versions.push(VersionRecord {
                    id: v.id,
                    number: v.number.and_then(|n| u32::try_from(n).ok()),
                    status: VersionStatus::parse(&v.status)?,
                    note: v.note.clone(),
                    created_by: v.created_by.map(PersonId),
                    created_at: us(v.created_at),
                    published_by: v.published_by.map(PersonId),
                    published_at: v.published_at.map(us),
                    content: self.load_content(org, &v).await?,
                });
            }
            matrices.push(MatrixRecord {
                id: m.id,
                key: m.key,
                name: m.name,
                created_at: us(m.created_at),
                versions,
            });
        }
        let mut assignments = self.assignments_in(org, Scope::Org).await?;
        assignments.sort_by_key(|a| a.id);
        for a in &mut assignments {
            a.recorded_at = us(a.recorded_at);
        }
        let mut assessments = self.assessments_in(org, Scope::Org, None).await?;
        assessments.sort_by_key(|a| a.id);
        for a in &mut assessments {
            a.at = us(a.at);
        }
        let mut cases = self
            .cases(
                org,
                crate::CaseFilter {
                    scope: Scope::Org,
                    status: None,
                },
            )
            .await?;
        cases.sort_by_key(|c| c.id);
        for c in &mut cases {
            c.proposed_at = us(c.proposed_at);
            if let Some(d) = &mut c.decision {
                d.at = us(d.at);
            }
        }
        let case_events = promotion_event::Entity::find()
            .filter(promotion_event::Column::OrgId.eq(o))
            .order_by_asc(promotion_event::Column::Id)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(|e| {
                let mut e = crate::records::event_from_row(e)?;
                e.at = us(e.at);
                Ok(e)
            })
            .collect::<Result<_, DbError>>()?;
        let readiness_rule = match readiness_rule::Entity::find_by_id(o)
            .filter(readiness_rule::Column::OrgId.eq(o))
            .one(&self.conn)
            .await?
        {
            None => None,
            Some(r) => Some(RuleRecord {
                rule: self.readiness_rule(org).await?,
                updated_by: r.updated_by.map(PersonId),
                updated_at: us(r.updated_at),
            }),
        };
        let identity_provider = self
            .identity_provider(org)
            .await?
            .map(|p| IdentityProvider {
                updated_at: us(p.updated_at),
                ..p
            });
        let scim_tokens = scim_token::Entity::find()
            .filter(scim_token::Column::OrgId.eq(o))
            .order_by_asc(scim_token::Column::Id)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(|t| {
                let token_hash = t.token_hash.clone();
                let mut token = crate::provisioning::token_from_row(t);
                token.created_at = us(token.created_at);
                token.last_used_at = token.last_used_at.map(us);
                token.revoked_at = token.revoked_at.map(us);
                ScimTokenRecord { token, token_hash }
            })
            .collect();
        let scim_identities = scim_identity::Entity::find()
            .filter(scim_identity::Column::OrgId.eq(o))
            .order_by_asc(scim_identity::Column::Id)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(|i| {
                let mut i = crate::provisioning::identity_from_row(i);
                i.updated_at = us(i.updated_at);
                i.deleted_at = i.deleted_at.map(us);
                i
            })
            .collect();
        Ok(OrgDump {
            format: DUMP_FORMAT.into(),
            version: DUMP_VERSION,
            organisation,
            created_at,
            people: managers_first(people),
            credentials,
            matrices,
            assignments,
            assessments,
            cases,
            case_events,
            readiness_rule,
            audit_log: self.audit_log(org).await?,
            identity_provider,
            scim_tokens,
            scim_identities,
        })
    }

    /// Writes a whole organisation, with its ids, in one transaction: all of it or nothing.
    /// The caller checks the dump first; the database refuses what is still inconsistent.
    pub async fn restore_org(&self, d: &OrgDump, audit: &crate::Audit) -> Result<(), DbError> {
        let org = d.organisation.id;
        let o = org.0;
        self.write(org, audit, async |w| {
            let txn = &w.txn;
            organisation::Entity::insert(organisation::ActiveModel {
                id: Set(o),
                slug: Set(d.organisation.slug.to_string()),
                name: Set(d.organisation.name.clone()),
                created_at: Set(d.created_at),
            })
            .exec_without_returning(txn)
            .await
            .map_err(|e| {
                DbError::conflict_or_other(e, format!("organisation `{}`", d.organisation.slug))
            })?;
            // Managers first, so each row's manager is already there.
            let people = managers_first(d.people.clone());
            insert_chunked::<person::Entity, _, _>(
                txn,
                people
                    .iter()
                    .map(|p| person::ActiveModel {
                        id: Set(p.person.id.0),
                        org_id: Set(o),
                        email: Set(p.person.email.to_string()),
                        display_name: Set(p.person.display_name.clone()),
                        manager_id: Set(p.person.manager_id.map(|m| m.0)),
                        is_admin: Set(p.person.is_admin),
                        active: Set(p.person.active),
                        created_at: Set(p.created_at),
                    })
                    .collect(),
            )
            .await
            .map_err(|e| match e {
                DbError::Other(err) => {
                    DbError::conflict_or_other(err, "a person with one of these ids")
                }
                other => other,
            })?;
            insert_chunked::<credential::Entity, _, _>(
                txn,
                d.credentials
                    .iter()
                    .map(|c| credential::ActiveModel {
                        id: Set(c.person_id.0),
                        org_id: Set(o),
                        password_hash: Set(c.password_hash.clone()),
                        failed_attempts: Set(c.failed_attempts),
                        locked_until: Set(c.locked_until),
                        updated_at: Set(c.updated_at),
                    })
                    .collect(),
            )
            .await?;
            for m in &d.matrices {
                matrix::Entity::insert(matrix::ActiveModel {
                    id: Set(m.id),
                    org_id: Set(o),
                    key: Set(m.key.clone()),
                    name: Set(m.name.clone()),
                    created_at: Set(m.created_at),
                })
                .exec_without_returning(txn)
                .await?;
                for v in &m.versions {
                    let published = match (v.status, v.number) {
                        (VersionStatus::Published, Some(n)) => {
                            Some((n, v.published_by, v.published_at.unwrap_or(v.created_at)))
                        }
                        _ => None,
                    };
                    crate::content::insert_version(
                        txn,
                        org,
                        crate::content::NewVersion {
                            id: v.id,
                            matrix_id: m.id,
                            content: &v.content,
                            note: v.note.clone(),
                            created_by: v.created_by,
                            created_at: v.created_at,
                            published,
                        },
                    )
                    .await?;
                }
            }
            append_assignments(txn, org, &d.assignments).await?;
            crate::records::insert_assessments(txn, &self.keys, org, &d.assessments).await?;
            crate::standings::refresh(txn, &self.keys, org, d.people.iter().map(|p| p.person.id))
                .await?;
            crate::paths::repath(
                txn,
                org,
                d.people.iter().map(|p| (p.person.id, p.person.manager_id)),
            )
            .await?;
            crate::terms::write(
                txn,
                org,
                d.people.iter().map(|p| {
                    let p = &p.person;
                    (p.id, p.email.as_str(), p.display_name.as_str())
                }),
                false,
            )
            .await?;
            for c in &d.cases {
                crate::records::insert_case_row(txn, &self.keys, org, c).await?;
            }
            for e in &d.case_events {
                insert_event(txn, org, e).await?;
            }
            if let Some(r) = &d.readiness_rule {
                readiness_rule::Entity::insert(readiness_rule::ActiveModel {
                    id: Set(o),
                    org_id: Set(o),
                    min_rating: Set(r.rule.min_rating.as_str().to_owned()),
                    min_months_in_level: Set(r.rule.min_months_in_level as i32),
                    min_score_permille: Set((r.rule.min_score * 1000.0).round() as i32),
                    updated_by: Set(r.updated_by.map(|p| p.0)),
                    updated_at: Set(r.updated_at),
                })
                .exec_without_returning(txn)
                .await?;
                // The standings above were kept under the default rule: decide readiness again
                // under the restored one (as stored, in thousandths).
                let rule = crate::records::rule_on(txn, org).await?;
                crate::standings::apply_rule(txn, org, &rule, Utc::now().date_naive()).await?;
            }
            if let Some(p) = &d.identity_provider {
                let p = IdentityProvider {
                    org_id: org,
                    ..p.clone()
                };
                identity_provider::Entity::insert(crate::identity::provider_row(&p))
                    .exec_without_returning(txn)
                    .await?;
            }
            insert_chunked::<scim_token::Entity, _, _>(
                txn,
                d.scim_tokens
                    .iter()
                    .map(|r| crate::provisioning::token_row(&r.token, &r.token_hash))
                    .collect(),
            )
            .await
            .map_err(|e| match e {
                DbError::Other(err) => {
                    DbError::conflict_or_other(err, "a provisioning token with one of these ids")
                }
                other => other,
            })?;
            insert_chunked::<scim_identity::Entity, _, _>(
                txn,
                d.scim_identities
                    .iter()
                    .map(|i| crate::provisioning::identity_row(org, i.person_id, i))
                    .collect(),
            )
            .await?;
            crate::audit::insert_entries(txn, org, &d.audit_log).await?;
            Ok(())
        })
        .await
    }
}
