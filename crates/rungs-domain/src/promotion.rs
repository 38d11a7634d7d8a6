//! Promotion cases and their state machine:
//!
//! ```text
//! proposed --approve (HR admin, not the subject)--> approved
//! proposed --reject  (HR admin, not the subject, with a note)--> rejected
//! proposed --withdraw (the proposer)--> withdrawn
//! ```
//! Approved, rejected and withdrawn are final.

use crate::text::Key;
use crate::{CaseId, DomainError, PersonId, VersionId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionStatus {
    Proposed,
    Approved,
    Rejected,
    Withdrawn,
}

impl PromotionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        [
            Self::Proposed,
            Self::Approved,
            Self::Rejected,
            Self::Withdrawn,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| {
            DomainError::invalid(
                "status",
                format!("`{s}` is not proposed, approved, rejected or withdrawn"),
            )
        })
    }
    pub fn is_open(self) -> bool {
        self == Self::Proposed
    }
}

impl fmt::Display for PromotionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A (track, level) position in a matrix version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Position {
    pub track: Key,
    pub level: Key,
}

/// A decision on a case: who, when, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: PersonId,
    pub at: DateTime<Utc>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionCase {
    pub id: CaseId,
    pub person_id: PersonId,
    pub version_id: VersionId,
    pub from: Position,
    pub to: Position,
    pub proposer_id: PersonId,
    pub justification: String,
    pub status: PromotionStatus,
    pub proposed_at: DateTime<Utc>,
    pub decision: Option<Decision>,
    /// When the new level takes effect (set on approval).
    pub effective: Option<NaiveDate>,
}

/// Who is acting on a case, as far as the domain rules need to know.
#[derive(Debug, Clone, Copy)]
pub struct CaseActor {
    pub id: PersonId,
    pub is_hr_admin: bool,
}

impl PromotionCase {
    /// Opens a case. The proposer cannot propose themselves and the move must change something.
    #[allow(clippy::too_many_arguments)]
    pub fn propose(
        person_id: PersonId,
        version_id: VersionId,
        from: Position,
        to: Position,
        proposer_id: PersonId,
        justification: &str,
        at: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        if proposer_id == person_id {
            return Err(DomainError::Rule(
                "nobody can propose their own promotion".into(),
            ));
        }
        if from == to {
            return Err(DomainError::Rule(
                "the proposed position is the current one".into(),
            ));
        }
        let justification = justification.trim();
        if justification.is_empty() {
            return Err(DomainError::invalid(
                "justification",
                "say why this person is ready",
            ));
        }
        check_note("justification", justification, true)?;
        Ok(Self {
            id: CaseId::new(),
            person_id,
            version_id,
            from,
            to,
            proposer_id,
            justification: justification.to_owned(),
            status: PromotionStatus::Proposed,
            proposed_at: at,
            decision: None,
            effective: None,
        })
    }

    fn decide(
        &mut self,
        actor: CaseActor,
        action: &'static str,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if !self.status.is_open() {
            return Err(DomainError::Transition {
                from: self.status,
                action,
            });
        }
        if !actor.is_hr_admin {
            return Err(DomainError::Rule(format!(
                "only an HR admin can {action} a promotion"
            )));
        }
        if actor.id == self.person_id {
            return Err(DomainError::Rule(format!(
                "nobody can {action} their own promotion"
            )));
        }
        if action == "approved" && actor.id == self.proposer_id {
            return Err(DomainError::Rule(
                "the proposer cannot also approve: another HR admin decides (four eyes)".into(),
            ));
        }
        self.decision = Some(Decision {
            by: actor.id,
            at,
            note: note.trim().to_owned(),
        });
        Ok(())
    }

    pub fn approve(
        &mut self,
        actor: CaseActor,
        note: &str,
        effective: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.decide(actor, "approved", note, at)?;
        self.status = PromotionStatus::Approved;
        self.effective = Some(effective);
        Ok(())
    }

    pub fn reject(
        &mut self,
        actor: CaseActor,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if note.trim().is_empty() {
            return Err(DomainError::invalid(
                "note",
                "a rejection needs a note saying why",
            ));
        }
        self.decide(actor, "rejected", note, at)?;
        self.status = PromotionStatus::Rejected;
        Ok(())
    }

    pub fn withdraw(
        &mut self,
        actor: CaseActor,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if !self.status.is_open() {
            return Err(DomainError::Transition {
                from: self.status,
                action: "withdrawn",
            });
        }
        if actor.id != self.proposer_id {
            return Err(DomainError::Rule(
                "only the proposer can withdraw a promotion".into(),
            ));
        }
        self.status = PromotionStatus::Withdrawn;
        self.decision = Some(Decision {
            by: actor.id,
            at,
            note: note.trim().to_owned(),
        });
        Ok(())
    }
}

/// What happened to a case: proposed, commented on, decided. Appended, never changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Proposed,
    Commented,
    Approved,
    Rejected,
    Withdrawn,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        Self::Proposed,
        Self::Commented,
        Self::Approved,
        Self::Rejected,
        Self::Withdrawn,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Commented => "commented",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::invalid("event", format!("`{s}` is not a case event")))
    }
    /// The event that records a case reaching `status`.
    pub fn closing(status: PromotionStatus) -> Self {
        match status {
            PromotionStatus::Proposed => Self::Proposed,
            PromotionStatus::Approved => Self::Approved,
            PromotionStatus::Rejected => Self::Rejected,
            PromotionStatus::Withdrawn => Self::Withdrawn,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub id: uuid::Uuid,
    pub case_id: CaseId,
    pub kind: EventKind,
    pub actor_id: PersonId,
    pub note: String,
    pub at: DateTime<Utc>,
}

impl CaseEvent {
    pub fn new(
        case_id: CaseId,
        kind: EventKind,
        actor_id: PersonId,
        note: &str,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7(),
            case_id,
            kind,
            actor_id,
            note: note.trim().to_owned(),
            at,
        }
    }

    /// A comment on an open case: not empty, bounded.
    pub fn comment(
        case: &PromotionCase,
        actor_id: PersonId,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        if !case.status.is_open() {
            return Err(DomainError::Transition {
                from: case.status,
                action: "commented on",
            });
        }
        check_note("comment", text, true)?;
        Ok(Self::new(case.id, EventKind::Commented, actor_id, text, at))
    }
}

/// Justifications, notes and comments: at most 5,000 characters, and not blank when required.
pub fn check_note(field: &'static str, text: &str, required: bool) -> Result<(), DomainError> {
    let t = text.trim();
    if required && t.is_empty() {
        return Err(DomainError::invalid(field, "is empty: say something"));
    }
    if t.chars().count() > 5_000 {
        return Err(DomainError::invalid(
            field,
            "is longer than 5000 characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(l: &str) -> Position {
        Position {
            track: Key::parse("dev").unwrap(),
            level: Key::parse(l).unwrap(),
        }
    }

    struct World {
        subject: PersonId,
        manager: PersonId,
        hr: PersonId,
    }

    fn world() -> (World, PromotionCase) {
        let w = World {
            subject: PersonId::new(),
            manager: PersonId::new(),
            hr: PersonId::new(),
        };
        let case = PromotionCase::propose(
            w.subject,
            VersionId::new(),
            pos("l1"),
            pos("l2"),
            w.manager,
            "ready",
            Utc::now(),
        )
        .unwrap();
        (w, case)
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
    }

    #[test]
    fn proposing_has_rules() {
        let (p, v) = (PersonId::new(), VersionId::new());
        assert!(PromotionCase::propose(p, v, pos("l1"), pos("l2"), p, "me", Utc::now()).is_err());
        assert!(
            PromotionCase::propose(
                p,
                v,
                pos("l1"),
                pos("l1"),
                PersonId::new(),
                "same",
                Utc::now()
            )
            .is_err()
        );
        assert!(
            PromotionCase::propose(
                p,
                v,
                pos("l1"),
                pos("l2"),
                PersonId::new(),
                "  ",
                Utc::now()
            )
            .is_err()
        );
    }

    /// Every action from every state, by every kind of actor: the state machine as a table.
    #[test]
    fn transition_table() {
        #[derive(Clone, Copy, Debug)]
        enum Act {
            Approve,
            Reject,
            Withdraw,
        }
        #[derive(Clone, Copy, Debug)]
        enum Who {
            Hr,
            Manager,
            SubjectWhoIsHr,
        }
        use PromotionStatus::*;
        let table: &[(PromotionStatus, Act, Who, Option<PromotionStatus>)] = &[
            (Proposed, Act::Approve, Who::Hr, Some(Approved)),
            (Proposed, Act::Approve, Who::Manager, None),
            (Proposed, Act::Approve, Who::SubjectWhoIsHr, None),
            (Proposed, Act::Reject, Who::Hr, Some(Rejected)),
            (Proposed, Act::Reject, Who::Manager, None),
            (Proposed, Act::Reject, Who::SubjectWhoIsHr, None),
            (Proposed, Act::Withdraw, Who::Manager, Some(Withdrawn)),
            (Proposed, Act::Withdraw, Who::Hr, None),
            (Approved, Act::Approve, Who::Hr, None),
            (Approved, Act::Reject, Who::Hr, None),
            (Approved, Act::Withdraw, Who::Manager, None),
            (Rejected, Act::Approve, Who::Hr, None),
            (Rejected, Act::Withdraw, Who::Manager, None),
            (Withdrawn, Act::Approve, Who::Hr, None),
            (Withdrawn, Act::Reject, Who::Hr, None),
        ];
        for &(start, act, who, expected) in table {
            let (w, mut case) = world();
            let hr = CaseActor {
                id: w.hr,
                is_hr_admin: true,
            };
            let mgr = CaseActor {
                id: w.manager,
                is_hr_admin: false,
            };
            match start {
                Proposed => {}
                Approved => case.approve(hr, "ok", day(), Utc::now()).unwrap(),
                Rejected => case.reject(hr, "not yet", Utc::now()).unwrap(),
                Withdrawn => case.withdraw(mgr, "", Utc::now()).unwrap(),
            }
            let actor = match who {
                Who::Hr => hr,
                Who::Manager => mgr,
                Who::SubjectWhoIsHr => CaseActor {
                    id: w.subject,
                    is_hr_admin: true,
                },
            };
            let before = case.clone();
            let result = match act {
                Act::Approve => case.approve(actor, "note", day(), Utc::now()),
                Act::Reject => case.reject(actor, "note", Utc::now()),
                Act::Withdraw => case.withdraw(actor, "note", Utc::now()),
            };
            match expected {
                Some(end) => {
                    assert!(result.is_ok(), "{start:?} {act:?} by {who:?}: {result:?}");
                    assert_eq!(case.status, end);
                    assert_eq!(case.decision.as_ref().unwrap().by, actor.id);
                }
                None => {
                    assert!(result.is_err(), "{start:?} {act:?} by {who:?} should fail");
                    assert_eq!(case, before, "a refused move changes nothing");
                }
            }
        }
    }

    #[test]
    fn four_eyes_and_comments() {
        let (w, mut case) = world();
        // An HR admin who proposed cannot approve their own proposal, but may withdraw it.
        let proposer_hr = CaseActor {
            id: w.manager,
            is_hr_admin: true,
        };
        assert!(case.approve(proposer_hr, "", day(), Utc::now()).is_err());
        assert!(CaseEvent::comment(&case, w.hr, "  ", Utc::now()).is_err());
        assert!(CaseEvent::comment(&case, w.hr, &"x".repeat(5001), Utc::now()).is_err());
        let c = CaseEvent::comment(&case, w.hr, " looks good ", Utc::now()).unwrap();
        assert_eq!(
            (c.kind, c.note.as_str()),
            (EventKind::Commented, "looks good")
        );
        case.withdraw(proposer_hr, "", Utc::now()).unwrap();
        assert!(CaseEvent::comment(&case, w.hr, "late", Utc::now()).is_err());
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()).unwrap(), k);
        }
    }

    #[test]
    fn approval_sets_effective_date_and_rejection_needs_a_note() {
        let (w, mut case) = world();
        let hr = CaseActor {
            id: w.hr,
            is_hr_admin: true,
        };
        assert!(case.reject(hr, " ", Utc::now()).is_err());
        case.approve(hr, "", day(), Utc::now()).unwrap();
        assert_eq!(case.effective, Some(day()));
        let err = case
            .withdraw(
                CaseActor {
                    id: w.manager,
                    is_hr_admin: false,
                },
                "",
                Utc::now(),
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "this promotion case is approved and cannot be withdrawn"
        );
    }
}
