//! Assessments: a rating of one person against one expectation, by themselves or by a manager,
//! with evidence. Appended, never overwritten; the latest manager rating is the one that counts.

use crate::text::Key;
use crate::{AssessmentId, DomainError, PersonId, VersionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The closed rating scale, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    NotYet,
    Developing,
    Meets,
    Exceeds,
}

impl Rating {
    pub const ALL: [Rating; 4] = [Self::NotYet, Self::Developing, Self::Meets, Self::Exceeds];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotYet => "not_yet",
            Self::Developing => "developing",
            Self::Meets => "meets",
            Self::Exceeds => "exceeds",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let norm = s.trim().to_lowercase().replace([' ', '-'], "_");
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == norm)
            .ok_or_else(|| {
                DomainError::invalid(
                    "rating",
                    format!("`{s}` is not one of not_yet, developing, meets, exceeds"),
                )
            })
    }
    /// Does this rating satisfy the expectation?
    pub fn is_met(self) -> bool {
        self >= Self::Meets
    }
}

/// Who gave a rating, relative to the person rated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessorRole {
    /// The person rated themselves.
    Myself,
    /// A direct or indirect manager.
    Manager,
}

impl AssessorRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Myself => "self",
            Self::Manager => "manager",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "self" => Ok(Self::Myself),
            "manager" => Ok(Self::Manager),
            _ => Err(DomainError::invalid(
                "assessor role",
                format!("`{s}` is not self or manager"),
            )),
        }
    }
}

/// What supports a rating: free text and links.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub text: String,
    pub links: Vec<String>,
}

impl Evidence {
    pub fn new(text: &str, links: Vec<String>) -> Result<Self, DomainError> {
        if text.chars().count() > 10_000 {
            return Err(DomainError::invalid(
                "evidence",
                "is longer than 10000 characters",
            ));
        }
        if links.len() > 20 {
            return Err(DomainError::invalid("evidence links", "at most 20 links"));
        }
        for l in &links {
            if !(l.starts_with("https://") || l.starts_with("http://"))
                || l.contains(char::is_whitespace)
            {
                return Err(DomainError::invalid(
                    "evidence link",
                    format!("`{l}` is not an http(s) link"),
                ));
            }
        }
        Ok(Self {
            text: text.trim().to_owned(),
            links,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub id: AssessmentId,
    pub person_id: PersonId,
    pub version_id: VersionId,
    pub expectation: Key,
    pub rating: Rating,
    pub assessor_id: PersonId,
    pub role: AssessorRole,
    pub evidence: Evidence,
    pub at: DateTime<Utc>,
    /// Set on a copy carried over to a newer matrix version: the assessment it was made as.
    /// `at`, the assessor and the evidence are the original's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_from: Option<AssessmentId>,
}

impl Assessment {
    /// The role follows from who assesses whom: oneself, or someone above in the lines.
    pub fn role_for(
        person: PersonId,
        assessor: PersonId,
        assessor_manages_person: bool,
    ) -> Result<AssessorRole, DomainError> {
        if person == assessor {
            Ok(AssessorRole::Myself)
        } else if assessor_manages_person {
            Ok(AssessorRole::Manager)
        } else {
            Err(DomainError::Rule(
                "only the person or one of their managers may assess them".into(),
            ))
        }
    }
}

/// The latest rating by role for one expectation, from an unordered history.
pub fn latest_by<'a>(
    history: &'a [Assessment],
    expectation: &str,
    role: AssessorRole,
) -> Option<&'a Assessment> {
    history
        .iter()
        .filter(|a| a.role == role && a.expectation.as_str() == expectation)
        .max_by_key(|a| (a.at, a.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_scale_is_ordered_and_parses_loosely() {
        assert!(
            Rating::NotYet < Rating::Developing
                && Rating::Developing < Rating::Meets
                && Rating::Meets < Rating::Exceeds
        );
        assert_eq!(Rating::parse("Not yet").unwrap(), Rating::NotYet);
        assert_eq!(Rating::parse("meets").unwrap(), Rating::Meets);
        assert!(Rating::parse("great").is_err());
        assert!(!Rating::Developing.is_met() && Rating::Meets.is_met() && Rating::Exceeds.is_met());
    }

    #[test]
    fn roles_follow_reporting_lines() {
        let (a, b) = (PersonId::new(), PersonId::new());
        assert_eq!(
            Assessment::role_for(a, a, false).unwrap(),
            AssessorRole::Myself
        );
        assert_eq!(
            Assessment::role_for(a, b, true).unwrap(),
            AssessorRole::Manager
        );
        assert!(Assessment::role_for(a, b, false).is_err());
    }

    #[test]
    fn evidence_links_must_be_web_links() {
        assert!(Evidence::new("did it", vec!["https://example.com/pr/1".into()]).is_ok());
        assert!(Evidence::new("did it", vec!["javascript:alert(1)".into()]).is_err());
    }
}
