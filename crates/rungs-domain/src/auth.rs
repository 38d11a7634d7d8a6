//! Sign-in rules that need no I/O: when repeated password failures lock an account, and the
//! shape of stored credentials and refresh tokens.

use crate::{IssuedTokenId, OrgId, PersonId, TokenFamilyId, TokenId, WebSessionId};
use chrono::{DateTime, Duration, Utc};

/// A person's stored password credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub person_id: PersonId,
    pub org_id: OrgId,
    /// An Argon2id PHC string; never the password.
    pub password_hash: String,
    /// Consecutive failures since the last success.
    pub failed_attempts: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// How repeated failures throttle an account: after `free_attempts` consecutive failures, each
/// further failure locks the account for `base_lock`, doubling up to `max_lock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    pub free_attempts: u32,
    pub base_lock: Duration,
    pub max_lock: Duration,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            free_attempts: 5,
            base_lock: Duration::seconds(30),
            max_lock: Duration::minutes(15),
        }
    }
}

impl Throttle {
    /// Whether the account refuses attempts at `now`.
    pub fn is_locked(&self, c: &Credential, now: DateTime<Utc>) -> bool {
        c.locked_until.is_some_and(|until| until > now)
    }

    /// The counter and lock after one more failure at `now`.
    pub fn after_failure(
        &self,
        c: &Credential,
        now: DateTime<Utc>,
    ) -> (u32, Option<DateTime<Utc>>) {
        let failures = c.failed_attempts.saturating_add(1);
        if failures < self.free_attempts {
            return (failures, None);
        }
        let doublings = (failures - self.free_attempts).min(16);
        let lock = self
            .base_lock
            .checked_mul(1 << doublings)
            .unwrap_or(self.max_lock)
            .min(self.max_lock);
        (failures, Some(now + lock))
    }
}

/// A refresh token as stored (its secret is only ever held as a hash). Tokens issued from one
/// login form a family: rotating one issues the next; presenting a rotated one again revokes all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub id: TokenId,
    pub org_id: OrgId,
    pub person_id: PersonId,
    pub family: TokenFamilyId,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A browser's sign-in to the web app, kept on the server (the cookie holds only a random
/// token, stored as its hash). It ends when its person signs out, changes password or is
/// deactivated, after `idle` without a request, and at `expires_at` whatever happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub id: WebSessionId,
    pub org_id: OrgId,
    pub person_id: PersonId,
    /// The token every state-changing request of this session must carry (CSRF).
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end of the session.
    pub expires_at: DateTime<Utc>,
}

/// How long web sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetime {
    /// Ended after this long without a request.
    pub idle: Duration,
    /// Ended this long after sign-in, however active.
    pub absolute: Duration,
    /// `last_seen_at` is written at most this often (a page view is not a write each time).
    pub touch_every: Duration,
}

impl Default for SessionLifetime {
    fn default() -> Self {
        Self {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
            touch_every: Duration::minutes(1),
        }
    }
}

impl SessionLifetime {
    /// Whether the session is still live at `now`.
    pub fn is_live(&self, s: &WebSession, now: DateTime<Utc>) -> bool {
        now < s.expires_at && now < s.last_seen_at + self.idle
    }

    /// Whether a request at `now` should record itself as the session's latest.
    pub fn needs_touch(&self, s: &WebSession, now: DateTime<Utc>) -> bool {
        now >= s.last_seen_at + self.touch_every
    }
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is now used up and `next` replaces it.
    Rotated { next: RefreshToken },
    /// The token had already been rotated: its whole family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cred(failed: u32) -> Credential {
        Credential {
            person_id: PersonId::new(),
            org_id: OrgId::new(),
            password_hash: String::new(),
            failed_attempts: failed,
            locked_until: None,
        }
    }

    #[test]
    fn failures_lock_after_the_free_attempts_and_the_lock_grows_to_a_cap() {
        let t = Throttle::default();
        let now = Utc::now();
        assert_eq!(t.after_failure(&cred(0), now), (1, None));
        assert_eq!(t.after_failure(&cred(3), now), (4, None));
        assert_eq!(
            t.after_failure(&cred(4), now),
            (5, Some(now + Duration::seconds(30)))
        );
        assert_eq!(
            t.after_failure(&cred(5), now),
            (6, Some(now + Duration::seconds(60)))
        );
        assert_eq!(
            t.after_failure(&cred(40), now),
            (41, Some(now + Duration::minutes(15)))
        );
        assert_eq!(t.after_failure(&cred(u32::MAX), now).0, u32::MAX);
        let mut locked = cred(5);
        locked.locked_until = Some(now + Duration::seconds(1));
        assert!(t.is_locked(&locked, now));
        assert!(!t.is_locked(&locked, now + Duration::seconds(2)));
    }

    #[test]
    fn a_web_session_ends_when_idle_or_at_its_absolute_end_whichever_comes_first() {
        let life = SessionLifetime::default();
        let start = Utc::now();
        let s = WebSession {
            id: WebSessionId::new(),
            org_id: OrgId::new(),
            person_id: PersonId::new(),
            csrf_token: String::new(),
            created_at: start,
            last_seen_at: start,
            expires_at: start + life.absolute,
        };
        assert!(life.is_live(&s, start + Duration::minutes(29)));
        assert!(!life.is_live(&s, start + Duration::minutes(30)));
        let busy = WebSession {
            last_seen_at: start + life.absolute - Duration::minutes(1),
            ..s.clone()
        };
        assert!(life.is_live(&busy, start + life.absolute - Duration::seconds(1)));
        assert!(!life.is_live(&busy, start + life.absolute));
        assert!(!life.needs_touch(&s, start + Duration::seconds(59)));
        assert!(life.needs_touch(&s, start + Duration::seconds(60)));
    }
}

/// An access token issued for automation (`rungs token issue`): listed and revoked by its id,
/// which the token carries as its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub id: IssuedTokenId,
    pub org_id: OrgId,
    pub person_id: PersonId,
    /// `None`: an operator at the command line.
    pub issued_by: Option<PersonId>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}
