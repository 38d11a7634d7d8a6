//! Provisioning by SCIM 2.0: the bearer tokens an identity provider or HR system uses, and what
//! SCIM says about a person beyond Rungs' own record.

use crate::ids::{OrgId, PersonId, ScimTokenId};
use chrono::{DateTime, Utc};

/// A provisioning token of one organisation. Only its SHA-256 hash is stored; the token itself
/// is shown once, when it is created.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScimToken {
    pub id: ScimTokenId,
    pub org_id: OrgId,
    /// What it is for ("Okta", "Workday sync").
    pub name: String,
    pub created_by: Option<PersonId>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The SCIM attributes of a provisioned person that Rungs' own record has no place for: the
/// client's `userName` and `externalId`, and the parts of the name. The email, display name,
/// manager and active state are the person's own.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ScimIdentity {
    pub person_id: PersonId,
    /// Unique in the organisation (case-insensitively, as SCIM asks).
    pub user_name: String,
    pub external_id: Option<String>,
    pub formatted: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The email's `type` (`work`, …).
    pub email_type: Option<String>,
    /// The email's `primary` flag as the client last sent it.
    pub email_primary: Option<bool>,
    pub updated_at: DateTime<Utc>,
    /// Deleted by the SCIM client: the person is deactivated and SCIM no longer shows them.
    pub deleted_at: Option<DateTime<Utc>>,
}
