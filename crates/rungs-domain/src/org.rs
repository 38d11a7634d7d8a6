//! Organisations: the tenants. Everything else belongs to exactly one.

use crate::{DomainError, OrgId, text::required_text};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An organisation's URL-safe handle: 2 to 63 characters of lowercase letters, digits and `-`,
/// starting with a letter, not ending with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let err = |m: &str| DomainError::invalid("slug", format!("`{s}` {m}"));
        if !(2..=63).contains(&s.len()) {
            return Err(err("must be 2 to 63 characters long"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(err(
                "may only contain lowercase letters a-z, digits and `-`",
            ));
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) || s.ends_with('-') {
            return Err(err("must start with a letter and not end with `-`"));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Slug> for String {
    fn from(s: Slug) -> Self {
        s.0
    }
}
impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrgId,
    pub slug: Slug,
    pub name: String,
}

impl Organisation {
    pub fn new(slug: Slug, name: &str) -> Result<Self, DomainError> {
        Ok(Self {
            id: OrgId::new(),
            slug,
            name: required_text("organisation name", name, 200)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["acme", "acme-corp", "a1"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "Acme", "1acme", "acme-", "ac me", ""] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn organisation_needs_a_name() {
        let slug = Slug::parse("acme").unwrap();
        assert!(Organisation::new(slug.clone(), " ").is_err());
        assert_eq!(Organisation::new(slug, " Acme ").unwrap().name, "Acme");
    }
}
