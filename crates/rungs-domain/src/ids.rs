//! Typed identifiers: an `OrgId` can never be passed where a `PersonId` is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered identifier (UUID v7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| crate::DomainError::invalid(stringify!($name), format!("`{s}` is not an id")))
            }
        }
    )*};
}

id_type! {
    /// An organisation (tenant).
    OrgId;
    /// A person in an organisation.
    PersonId;
    /// A matrix (all of its versions).
    MatrixId;
    /// One version of a matrix.
    VersionId;
    /// A level assignment record.
    AssignmentId;
    /// An assessment record.
    AssessmentId;
    /// A promotion case.
    CaseId;
    /// A refresh token.
    TokenId;
    /// The refresh tokens descending from one sign-in.
    TokenFamilyId;
    /// A web app session (a browser's sign-in).
    WebSessionId;
    /// An access token issued for automation (`rungs token issue`).
    IssuedTokenId;
    /// A bearer token for SCIM provisioning.
    ScimTokenId;
}
