//! Level assignments: a person's place in a matrix version (track and level), appended over
//! time and never overwritten. The current level is the latest one already in effect.

use crate::text::Key;
use crate::{AssignmentId, CaseId, DomainError, PersonId, VersionId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelAssignment {
    pub id: AssignmentId,
    pub person_id: PersonId,
    pub version_id: VersionId,
    pub track: Key,
    pub level: Key,
    /// From when the level holds.
    pub effective: NaiveDate,
    pub reason: String,
    /// Who set it; `None` for the system (imports, the CLI run as the system).
    pub set_by: Option<PersonId>,
    pub recorded_at: DateTime<Utc>,
    /// The approved promotion case that made this assignment, if one did.
    pub case_id: Option<CaseId>,
    /// Set when moving to a newer matrix version made this assignment: the one it continues
    /// (time in level runs on, even where the mapping renamed the track or level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<AssignmentId>,
}

/// Why a level changes, bounded so history stays readable.
pub fn parse_reason(reason: &str) -> Result<String, DomainError> {
    let r = reason.trim();
    if r.chars().count() > 2_000 {
        return Err(DomainError::invalid(
            "reason",
            "is longer than 2000 characters",
        ));
    }
    Ok(if r.is_empty() {
        "assigned".to_owned()
    } else {
        r.to_owned()
    })
}

/// The assignment in effect on `today`: the latest effective date not after `today`, ties
/// broken by the later record.
pub fn current_as_of(history: &[LevelAssignment], today: NaiveDate) -> Option<&LevelAssignment> {
    history
        .iter()
        .filter(|a| a.effective <= today)
        .max_by_key(|a| (a.effective, a.recorded_at, a.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn a(level: &str, effective: (i32, u32, u32), recorded_secs: i64) -> LevelAssignment {
        LevelAssignment {
            id: AssignmentId::new(),
            person_id: PersonId(uuid::Uuid::nil()),
            version_id: VersionId(uuid::Uuid::nil()),
            track: Key::parse("dev").unwrap(),
            level: Key::parse(level).unwrap(),
            effective: NaiveDate::from_ymd_opt(effective.0, effective.1, effective.2).unwrap(),
            reason: "r".into(),
            set_by: None,
            recorded_at: Utc.timestamp_opt(recorded_secs, 0).unwrap(),
            case_id: None,
            moved_from: None,
        }
    }

    #[test]
    fn current_level_is_latest_in_effect() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 6, d).unwrap();
        let history = vec![
            a("l1", (2026, 6, 1), 10),
            a("l2", (2026, 6, 10), 20),
            a("l3", (2026, 6, 20), 5), // recorded earlier but effective later
            a("l2b", (2026, 6, 10), 30), // same day, recorded later: a correction
        ];
        assert!(current_as_of(&history, NaiveDate::from_ymd_opt(2026, 5, 31).unwrap()).is_none());
        assert_eq!(
            current_as_of(&history, day(5)).unwrap().level.as_str(),
            "l1"
        );
        assert_eq!(
            current_as_of(&history, day(15)).unwrap().level.as_str(),
            "l2b"
        );
        assert_eq!(
            current_as_of(&history, day(25)).unwrap().level.as_str(),
            "l3"
        );
    }

    #[test]
    fn reasons_default_and_are_bounded() {
        assert_eq!(parse_reason("  ").unwrap(), "assigned");
        assert_eq!(parse_reason(" promoted ").unwrap(), "promoted");
        assert!(parse_reason(&"x".repeat(2001)).is_err());
    }
}
