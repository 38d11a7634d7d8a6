//! Authentication: Argon2id password hashes (OWASP parameters, computed off the async runtime),
//! short-lived JWT access tokens (HS256 pinned; `sub`, `org`, `sid`, `iss`, `aud`, `iat`,
//! `exp` required; `sid` is the session, checked live on every request) and rotating refresh tokens stored as SHA-256 hashes.

use crate::policy::{Action, Actor, authorize};
use crate::{App, AppError};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use rungs_db::Audit;
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::auth::{
    IssuedToken, RefreshToken, Rotation, SessionLifetime, Throttle, WebSession,
};
use rungs_domain::growth::ReadinessRule;
use rungs_domain::org::Organisation;
use rungs_domain::person::{Email, Person};
use rungs_domain::{IssuedTokenId, OrgId, PersonId, TokenFamilyId, TokenId, WebSessionId};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use tokio::sync::Semaphore;
use uuid::Uuid;

/// The one signing algorithm; tokens claiming any other (or `none`) are refused.
const ALGORITHM: jsonwebtoken::Algorithm = jsonwebtoken::Algorithm::HS256;
/// The shortest signing secret accepted (bytes): HS256 wants at least 256 bits.
pub const MIN_SECRET_LEN: usize = 32;
const LOGIN_FAILED: &str =
    "wrong organisation, email or password (repeated failures lock an account for a while)";

/// Authentication settings. `Debug` never shows the secret.
#[derive(Clone)]
pub struct AuthConfig {
    pub secret: SecretString,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub throttle: Throttle,
    /// The longest lifetime `token issue` gives a token for automation.
    pub max_issued_ttl: Duration,
    /// How long web app sessions live.
    pub web: SessionLifetime,
    /// Password checks run at once (each holds Argon2's 19 MiB and a core for a few tens of
    /// milliseconds); a sign-in flood queues behind them instead of exhausting memory.
    pub max_concurrent_hashes: usize,
    /// How long a sign-in waits for its turn to check a password before it is refused with
    /// `RATE_LIMITED` (HTTP 429, `Retry-After`).
    pub hash_wait: std::time::Duration,
    /// Sign-ins started per minute by one client address, and for one email (whatever the
    /// address), before `RATE_LIMITED` (HTTP 429 with `Retry-After`). Each is a burst that
    /// refills evenly over the minute.
    pub sign_ins_per_address: u32,
    pub sign_ins_per_account: u32,
    /// Proxies whose `X-Forwarded-For` is believed (exact addresses): a request from one of
    /// them counts against the client address it forwards, any other against its own.
    pub trusted_proxies: Vec<IpAddr>,
    /// The shortest time between two fetches of one identity provider's keys, when a token
    /// names a key Rungs has not seen (a rotation).
    pub sso_key_refresh: std::time::Duration,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish()
    }
}

impl AuthConfig {
    /// Defaults (15-minute access tokens, 30-day refresh tokens) around a secret.
    pub fn new(secret: SecretString) -> Self {
        Self {
            secret,
            issuer: "rungs".into(),
            audience: "rungs-api".into(),
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
            throttle: Throttle::default(),
            max_issued_ttl: Duration::days(90),
            web: SessionLifetime::default(),
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, usize::from),
            hash_wait: std::time::Duration::from_secs(2),
            sign_ins_per_address: 30,
            sign_ins_per_account: 10,
            trusted_proxies: Vec::new(),
            sso_key_refresh: std::time::Duration::from_secs(30),
        }
    }

    /// The address a request counts against: its peer's, or, when the peer is a trusted
    /// proxy, the last address in `X-Forwarded-For` that is not a trusted proxy itself (the
    /// client as the outermost trusted proxy saw it). Addresses a client wrote itself, to the
    /// left of that, are never believed.
    pub fn client_address(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let chain: Vec<IpAddr> = forwarded_for
            .unwrap_or("")
            .split(',')
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        chain
            .iter()
            .rev()
            .find(|a| !self.trusted_proxies.contains(a))
            .copied()
            .unwrap_or(peer)
    }
}

/// Sign-ins started per client address and per account, per minute (in memory, per process).
struct SignInLimits {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
    /// Checks since idle keys were last forgotten.
    checks: std::sync::atomic::AtomicU32,
}

impl SignInLimits {
    fn new(cfg: &AuthConfig) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            by_address: RateLimiter::keyed(quota(cfg.sign_ins_per_address)),
            by_account: RateLimiter::keyed(quota(cfg.sign_ins_per_account)),
            checks: Default::default(),
        }
    }

    /// Admits one sign-in from `client` for `email` in `organisation`, or says how long to
    /// wait. The account is the pair: attempts at one organisation never hold up another's.
    fn admit(
        &self,
        client: Option<IpAddr>,
        organisation: &str,
        email: &str,
    ) -> Result<(), AppError> {
        use std::sync::atomic::Ordering;
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            // Keys whose bucket is full again hold nothing worth keeping.
            self.by_address.retain_recent();
            self.by_account.retain_recent();
        }
        let now = DefaultClock::default().now();
        let refused = |wait: std::time::Duration, whose: &str| {
            let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
            AppError::RateLimited {
                message: format!(
                    "too many sign-ins {whose}: try again in {secs} second{}",
                    if secs > 1 { "s" } else { "" }
                ),
                retry_after: secs,
            }
        };
        if let Some(a) = client {
            self.by_address
                .check_key(&a)
                .map_err(|n| refused(n.wait_time_from(now), "from this address"))?;
        }
        let account = format!(
            "{}\u{0}{}",
            organisation.trim().to_lowercase(),
            email.trim().to_lowercase()
        );
        self.by_account
            .check_key(&account)
            .map_err(|n| refused(n.wait_time_from(now), "for this account"))
    }
}

/// Keys and checks derived from an [`AuthConfig`].
pub struct Auth {
    cfg: AuthConfig,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Verified against when there is no real hash, so every failure costs the same.
    dummy_hash: String,
    /// Turns to check a password (`max_concurrent_hashes` of them).
    hashing: Arc<Semaphore>,
    limits: SignInLimits,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("cfg", &self.cfg).finish()
    }
}

/// The access token's claims. Every one is required, with its type.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub org: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The session the token belongs to: its sign-in's refresh-token family, or the issued
    /// token's id. Authentication refuses the token once that session has ended.
    pub sid: Uuid,
}

/// What a successful sign-in or refresh hands out.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub person: Person,
    pub org: Organisation,
}

/// A verified caller: who they are and in which organisation.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub person: Person,
    pub org: Organisation,
    /// What authentication read about the caller in the same statement, when it did (an
    /// access token of Rungs). Current as of the start of the request: the API drops it for a
    /// request that may write (a batch holding a mutation), so no read uses it after a write.
    pub read_with: Option<ReadWithSession>,
}

/// The caller's position in force and their organisation's readiness rule, read with the
/// session, and what the request is about when the API could tell it ([`Lead`]).
#[derive(Debug, Clone)]
pub struct ReadWithSession {
    /// None: not placed yet.
    pub position: Option<LevelAssignment>,
    pub rule: ReadinessRule,
    /// The request's lead, as read with the session; [`crate::Reader`]s take it only when it
    /// is what they would have read.
    pub lead: Option<LeadRead>,
}

pub use rungs_db::{Lead, LeadRead};

/// A bearer token whose signature and claims are verified, its session not checked yet
/// ([`App::verify_bearer`], then [`App::session_for`]).
#[derive(Debug, Clone)]
pub struct Verified(Verification);

#[derive(Debug, Clone)]
enum Verification {
    /// Rungs' own access token: its session is checked by [`App::session_for`].
    Rungs(Claims),
    /// An identity provider's token, checked in full already.
    External(Box<Session>),
}

impl Session {
    /// The session of a verified person of `org`, acting as themselves.
    pub fn of(person: Person, org: Organisation) -> Self {
        Self {
            actor: Actor::Person {
                id: person.id,
                org: org.id,
                is_admin: person.is_admin,
            },
            person,
            org,
            read_with: None,
        }
    }
}

fn hasher() -> Argon2<'static> {
    // OWASP's Argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or(Params::DEFAULT);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string().into())
}

/// Hashes a password (blocking: call through [`hash_password`] from async code).
fn hash_blocking(password: &str) -> Result<String, AppError> {
    let hash: PasswordHash = hasher()
        .hash_password(password.as_bytes())
        .map_err(internal)?;
    Ok(hash.to_string())
}

/// Hashes a password on the blocking pool.
pub async fn hash_password(password: SecretString) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_blocking(password.expose_secret()))
        .await
        .map_err(internal)?
}

/// Checks a new password's length (NIST SP 800-63B: long passphrases, no composition rules).
pub fn check_new_password(password: &SecretString) -> Result<(), AppError> {
    let n = password.expose_secret().chars().count();
    if !(10..=256).contains(&n) {
        return Err(AppError::Invalid(
            "a password needs 10 to 256 characters; a passphrase of a few words is good".into(),
        ));
    }
    Ok(())
}

/// Fills `bytes` from the operating system's secure generator.
pub fn random_bytes(bytes: &mut [u8]) -> Result<(), AppError> {
    getrandom::fill(bytes).map_err(internal)
}

pub(crate) fn random_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    random_bytes(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

pub(crate) fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

impl Auth {
    pub fn new(cfg: AuthConfig) -> Result<Self, AppError> {
        let secret = cfg.secret.expose_secret().as_bytes();
        if secret.len() < MIN_SECRET_LEN {
            return Err(AppError::Invalid(format!(
                "the JWT signing secret needs at least {MIN_SECRET_LEN} bytes (for example: openssl rand -base64 48)"
            )));
        }
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[&cfg.issuer]);
        validation.set_audience(&[&cfg.audience]);
        validation.set_required_spec_claims(&["sub", "iss", "aud", "iat", "exp"]);
        // A token not valid yet (`nbf` ahead) is refused; so is one issued in the future
        // (`iat`, checked in `verify`).
        validation.validate_nbf = true;
        validation.leeway = 5;
        let dummy_hash = hash_blocking(&random_token()?)?;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            dummy_hash,
            hashing: Arc::new(Semaphore::new(cfg.max_concurrent_hashes.max(1))),
            limits: SignInLimits::new(&cfg),
            cfg,
        })
    }

    /// Checks a password against a PHC string once a turn is free (waiting `hash_wait` at
    /// most); the turn is held until the hash is done, even if the request is dropped meanwhile.
    async fn verify_password(
        &self,
        password: SecretString,
        hash: String,
    ) -> Result<bool, AppError> {
        let turn = tokio::time::timeout(self.cfg.hash_wait, self.hashing.clone().acquire_owned())
            .await
            .map_err(|_| AppError::RateLimited {
                message: "too many sign-ins at once: try again in a few seconds".into(),
                retry_after: 5,
            })?
            .map_err(internal)?;
        tokio::task::spawn_blocking(move || {
            let ok = hasher()
                .verify_password(password.expose_secret().as_bytes(), hash.as_str())
                .is_ok();
            drop(turn);
            Ok(ok)
        })
        .await
        .map_err(internal)?
    }

    pub fn config(&self) -> &AuthConfig {
        &self.cfg
    }

    /// Signs an access token for a person, valid for `ttl`.
    pub fn sign(
        &self,
        person: &Person,
        ttl: Duration,
        sid: Uuid,
    ) -> Result<(String, DateTime<Utc>), AppError> {
        let now = Utc::now();
        let exp = now + ttl;
        let claims = Claims {
            sub: person.id.0,
            org: person.org_id.0,
            iss: self.cfg.issuer.clone(),
            aud: self.cfg.audience.clone(),
            iat: now.timestamp(),
            exp: exp.timestamp(),
            sid,
        };
        let token = jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding)
            .map_err(internal)?;
        Ok((token, exp))
    }

    /// Verifies an access token's signature, algorithm and claims.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                let why = match e.kind() {
                    K::ExpiredSignature => "the access token has expired: refresh it",
                    K::InvalidIssuer | K::InvalidAudience => {
                        "the access token is not for this server"
                    }
                    K::InvalidAlgorithm => "the access token uses an algorithm this server refuses",
                    K::InvalidSignature => "the access token's signature is invalid",
                    K::MissingRequiredClaim(_) | K::Json(_) => {
                        "the access token's claims are invalid"
                    }
                    K::ImmatureSignature => "the access token is not valid yet",
                    _ => "the access token is malformed",
                };
                AppError::Unauthenticated(why.into())
            })?;
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
        if claims.iat > Utc::now().timestamp() + leeway {
            return Err(AppError::Unauthenticated(
                "the access token was issued in the future".into(),
            ));
        }
        Ok(claims)
    }
}

impl App {
    /// The address a request counts against for sign-in limits ([`AuthConfig::client_address`]).
    pub fn client_address(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        match &self.auth {
            Some(a) => a.cfg.client_address(peer, forwarded_for),
            None => peer,
        }
    }

    pub(crate) fn auth(&self) -> Result<&Auth, AppError> {
        self.auth
            .as_deref()
            .ok_or_else(|| internal("authentication is not configured"))
    }

    /// The person a session speaks for, with their organisation, in one statement: they must
    /// still exist, be active and belong to the organisation named, and the session `sid` (a
    /// sign-in's refresh-token family, or an issued token) must not have ended. The same
    /// statement reads their position in force today and the organisation's readiness rule.
    async fn live_person(
        &self,
        org_id: OrgId,
        id: PersonId,
        sid: uuid::Uuid,
        lead: Option<Lead>,
    ) -> Result<rungs_db::SessionRow, AppError> {
        let row = self
            .db
            .session_of(org_id, id, sid, Utc::now().date_naive(), lead)
            .await?
            .filter(|r| r.person.active)
            .ok_or_else(|| {
                AppError::Unauthenticated("this account no longer exists or is deactivated".into())
            })?;
        if !row.live {
            return Err(AppError::Unauthenticated(
                "this session has ended (signed out, password changed, or the token revoked): sign in again".into(),
            ));
        }
        Ok(row)
    }

    /// Resolves a bearer token to a session in two halves (the API parses the request between
    /// them): first the token, Rungs' own verified by its signature and claims alone (no
    /// statement), an identity provider's in full ([`App::session_for`] checks the rest).
    #[tracing::instrument(skip_all, err(level = "debug", Display))]
    pub async fn verify_bearer(&self, token: &str) -> Result<Verified, AppError> {
        // Rungs signs with HS256 only; any other algorithm may be an identity provider's
        // access token (which is refused unless it verifies against that provider's keys).
        if jsonwebtoken::decode_header(token).is_ok_and(|h| h.alg != ALGORITHM) {
            let session = self.authenticate_external(token).await?;
            return Ok(Verified(Verification::External(Box::new(session))));
        }
        Ok(Verified(Verification::Rungs(self.auth()?.verify(token)?)))
    }

    /// The second half of authentication ([`App::verify_bearer`] is the first): the verified
    /// token's person must still exist, be active and belong to the organisation it names, and
    /// its session must not have ended; checked in one statement that also reads the request's
    /// `lead` (for Rungs' own tokens; an identity provider's session reads none).
    #[tracing::instrument(skip_all, err(level = "debug", Display))]
    pub async fn session_for(
        &self,
        verified: Verified,
        lead: Option<Lead>,
    ) -> Result<Session, AppError> {
        let claims = match verified.0 {
            Verification::External(session) => return Ok(*session),
            Verification::Rungs(claims) => claims,
        };
        let row = self
            .live_person(OrgId(claims.org), PersonId(claims.sub), claims.sid, lead)
            .await?;
        let mut session = Session::of(row.person, row.org);
        session.read_with = Some(ReadWithSession {
            position: row.position,
            rule: row.rule,
            lead: row.lead,
        });
        Ok(session)
    }

    /// Checks an organisation's slug, an email and a password. Only that organisation's
    /// people are looked at. Unknown organisation, unknown email, wrong password and a locked
    /// account all answer the same, after the same statements and hashing work.
    async fn check_password(
        &self,
        organisation: &str,
        email: &str,
        password: SecretString,
        client: Option<IpAddr>,
    ) -> Result<(Person, Organisation), AppError> {
        let auth = self.auth()?;
        auth.limits.admit(client, organisation, email)?;
        let failed = || AppError::Unauthenticated(LOGIN_FAILED.into());
        let slug = organisation.trim().to_lowercase();
        let candidate = match Email::parse(email) {
            Ok(e) => self.db.login_candidate(&slug, &e).await?,
            Err(_) => None,
        }
        .filter(|c| c.person.active);
        let now = Utc::now();
        let throttle = auth.cfg.throttle;
        let usable = candidate.and_then(|c| {
            let cred = c.credential.clone()?;
            Some((c, cred))
        });
        let claimed = match usable {
            Some((candidate, cred)) => self
                .claim_attempt(&throttle, cred, now)
                .await?
                .map(|claim| (candidate, claim)),
            None => None,
        };
        let Some((candidate, (cred, count, lock))) = claimed else {
            // An unknown email, no password, or a locked account: the same statements and
            // hashing work as a wrong password (a claim that matches no row, then a hash), so
            // neither the answer nor its timing says which.
            let nobody = uuid::Uuid::now_v7();
            self.db
                .claim_login_attempt(OrgId(nobody), PersonId(nobody), 0, 1, None, now)
                .await?;
            auth.verify_password(password, auth.dummy_hash.clone())
                .await?;
            return Err(failed());
        };
        if !auth
            .verify_password(password, cred.password_hash.clone())
            .await?
        {
            if lock.is_some() {
                tracing::warn!(person = %cred.person_id, failures = count, "sign-in locked after repeated failures");
            }
            return Err(failed());
        }
        // The attempt was counted as a failure until now: the right password clears it.
        self.db
            .record_login_attempt(cred.org_id, cred.person_id, 0, None)
            .await?;
        Ok((candidate.person, candidate.org))
    }

    /// Signs in with the organisation's slug, an email and a password: an access token and
    /// a refresh token.
    #[tracing::instrument(skip(self, password), err(level = "debug", Display))]
    pub async fn login(
        &self,
        organisation: &str,
        email: &str,
        password: SecretString,
        client: Option<IpAddr>,
    ) -> Result<Tokens, AppError> {
        self.refuse_password_if_sso_only(organisation).await?;
        let (person, org) = self
            .check_password(organisation, email, password, client)
            .await?;
        let auth = self.auth()?;
        let now = Utc::now();
        let refresh = random_token()?;
        let record = RefreshToken {
            id: TokenId::new(),
            org_id: org.id,
            person_id: person.id,
            family: TokenFamilyId::new(),
            issued_at: now,
            expires_at: now + auth.cfg.refresh_ttl,
        };
        let audit = Audit::new(
            Some(person.id),
            "session.sign_in",
            [person.id.0, record.family.0],
            "signed in with a password",
        );
        self.db
            .insert_refresh_token(&record, &token_hash(&refresh), &audit)
            .await?;
        self.tokens(
            auth,
            person,
            org,
            (refresh, record.expires_at),
            record.family,
        )
    }

    /// Signs in to the web app: a new server-side session, and the token its cookie carries
    /// (the server keeps only its hash). Throttled as [`App::login`] is.
    #[tracing::instrument(skip(self, password), err(level = "debug", Display))]
    pub async fn web_sign_in(
        &self,
        organisation: &str,
        email: &str,
        password: SecretString,
        client: Option<IpAddr>,
    ) -> Result<(String, WebSession), AppError> {
        self.refuse_password_if_sso_only(organisation).await?;
        let (person, org) = self
            .check_password(organisation, email, password, client)
            .await?;
        self.start_web_session(
            &person,
            &org,
            "session.web_sign_in",
            "signed in to the web app with a password".into(),
        )
        .await
    }

    /// A new web session for a person whose identity was just checked, with its audit entry.
    pub(crate) async fn start_web_session(
        &self,
        person: &Person,
        org: &Organisation,
        action: &'static str,
        why: String,
    ) -> Result<(String, WebSession), AppError> {
        let life = self.auth()?.cfg.web;
        let now = Utc::now();
        let token = random_token()?;
        let session = WebSession {
            id: WebSessionId::new(),
            org_id: org.id,
            person_id: person.id,
            csrf_token: random_token()?,
            created_at: now,
            last_seen_at: now,
            expires_at: now + life.absolute,
        };
        let audit = Audit::new(Some(person.id), action, [person.id.0, session.id.0], why);
        self.db
            .insert_web_session(&session, &token_hash(&token), now - life.idle, &audit)
            .await?;
        Ok((token, session))
    }

    /// The signed-in caller behind a web session's cookie token, if the session is live and
    /// its person still active (one statement; one more at most once a minute, to record the
    /// session's latest request).
    #[tracing::instrument(skip_all, err(level = "debug", Display))]
    pub async fn web_session(&self, token: &str) -> Result<(Session, WebSession), AppError> {
        let life = self.auth()?.cfg.web;
        let ended = || AppError::Unauthenticated("your session has ended: sign in again".into());
        let (mut web, person, org) = self
            .db
            .web_session(&token_hash(token))
            .await?
            .ok_or_else(ended)?;
        let now = Utc::now();
        if !life.is_live(&web, now) || !person.active {
            return Err(ended());
        }
        if life.needs_touch(&web, now) {
            self.db.touch_web_session(org.id, web.id, now).await?;
            web.last_seen_at = now;
        }
        let session = Session::of(person, org);
        Ok((session, web))
    }

    /// How long web sessions live (for the cookie's own lifetime).
    pub fn web_session_lifetime(&self) -> SessionLifetime {
        self.auth.as_deref().map(|a| a.cfg.web).unwrap_or_default()
    }

    /// Ends the web session behind a cookie token (idempotent).
    #[tracing::instrument(skip_all, err(level = "debug", Display))]
    pub async fn web_sign_out(&self, token: &str) -> Result<bool, AppError> {
        Ok(self.db.end_web_session(&token_hash(token)).await?)
    }

    /// Counts a sign-in attempt as a failure before its password is checked (the right
    /// password clears it afterwards), so that attempts made at the same moment each take a
    /// place in the count and the lock applies to those beyond it. `None`: locked.
    async fn claim_attempt(
        &self,
        throttle: &rungs_domain::auth::Throttle,
        mut cred: rungs_domain::auth::Credential,
        now: DateTime<Utc>,
    ) -> Result<Option<(rungs_domain::auth::Credential, u32, Option<DateTime<Utc>>)>, AppError>
    {
        // Each round loses only to another attempt that took a place meanwhile.
        for _ in 0..64 {
            if throttle.is_locked(&cred, now) {
                return Ok(None);
            }
            let (count, lock) = throttle.after_failure(&cred, now);
            let (org, person) = (cred.org_id, cred.person_id);
            if self
                .db
                .claim_login_attempt(org, person, cred.failed_attempts, count, lock, now)
                .await?
            {
                return Ok(Some((cred, count, lock)));
            }
            match self.db.credential(org, person).await? {
                Some(c) => cred = c,
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    fn tokens(
        &self,
        auth: &Auth,
        person: Person,
        org: Organisation,
        (refresh_token, refresh_expires_at): (String, DateTime<Utc>),
        family: TokenFamilyId,
    ) -> Result<Tokens, AppError> {
        let (access_token, access_expires_at) =
            auth.sign(&person, auth.cfg.access_ttl, family.0)?;
        Ok(Tokens {
            access_token,
            access_expires_at,
            refresh_token,
            refresh_expires_at,
            person,
            org,
        })
    }

    /// Exchanges a refresh token for new tokens. The presented token stops working; presenting
    /// it again revokes every token descended from the same sign-in.
    #[tracing::instrument(skip_all, err(level = "debug", Display))]
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, AppError> {
        let auth = self.auth()?;
        let next = random_token()?;
        let expires = Utc::now() + auth.cfg.refresh_ttl;
        let rotation = self
            .db
            .rotate_refresh_token(
                &token_hash(refresh_token),
                &token_hash(&next),
                TokenId::new(),
                expires,
            )
            .await?;
        let next_record = match rotation {
            Rotation::Rotated { next } => next,
            Rotation::Reused => {
                tracing::warn!(
                    "a rotated refresh token was presented again; its family is revoked"
                );
                return Err(AppError::Unauthenticated(
                    "this refresh token was already used: every session from that sign-in is now revoked; sign in again".into(),
                ));
            }
            Rotation::Invalid => {
                return Err(AppError::Unauthenticated(
                    "the refresh token is invalid, expired or revoked: sign in again".into(),
                ));
            }
        };
        let row = self
            .live_person(
                next_record.org_id,
                next_record.person_id,
                next_record.family.0,
                None,
            )
            .await?;
        self.tokens(
            auth,
            row.person,
            row.org,
            (next, next_record.expires_at),
            next_record.family,
        )
    }

    /// Revokes the refresh token's whole family. Unknown tokens are not an error (idempotent).
    #[tracing::instrument(skip_all, err(level = "debug", Display))]
    pub async fn logout(&self, refresh_token: &str) -> Result<bool, AppError> {
        Ok(self
            .db
            .revoke_refresh_family(&token_hash(refresh_token))
            .await?)
    }

    /// Sets a person's password (and signs them out everywhere).
    #[tracing::instrument(skip(self, password), err(level = "debug", Display))]
    pub async fn set_password(
        &self,
        actor: &Actor,
        org_slug: &str,
        email: &str,
        password: SecretString,
    ) -> Result<Person, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ManageCredentials(org.id))?;
        check_new_password(&password)?;
        let person = self.person(&org, &Email::parse(email)?).await?;
        let hash = hash_password(password).await?;
        let audit = Audit::new(
            actor.person_id(),
            "password.set",
            [person.id.0],
            format!("password set for {}", person.email),
        );
        self.db
            .set_password(org.id, person.id, &hash, &audit)
            .await?;
        Ok(person)
    }

    /// Signs an access token for automation (no refresh token), valid for `ttl`, and keeps
    /// a row of it so that it can be listed and revoked ([`App::revoke_issued_token`]).
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn issue_token(
        &self,
        actor: &Actor,
        org_slug: &str,
        email: &str,
        ttl: Duration,
    ) -> Result<(String, IssuedToken), AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ManageCredentials(org.id))?;
        let max = self.auth()?.cfg.max_issued_ttl;
        if ttl <= Duration::zero() || ttl > max {
            return Err(AppError::Invalid(format!(
                "a token lives between 1 second and {} days (`issued_token_max_days`)",
                max.num_days()
            )));
        }
        let person = self.person(&org, &Email::parse(email)?).await?;
        if !person.active {
            return Err(AppError::Invalid(format!("`{email}` is deactivated")));
        }
        let id = IssuedTokenId::new();
        let (token, expires_at) = self.auth()?.sign(&person, ttl, id.0)?;
        let issued = IssuedToken {
            id,
            org_id: org.id,
            person_id: person.id,
            issued_by: actor.person_id(),
            issued_at: Utc::now(),
            expires_at,
            revoked_at: None,
        };
        let audit = Audit::new(
            actor.person_id(),
            "token.issue",
            [person.id.0, id.0],
            format!(
                "access token {id} issued for {} until {}",
                person.email,
                expires_at.to_rfc3339()
            ),
        );
        self.db.insert_issued_token(&issued, &audit).await?;
        Ok((token, issued))
    }

    /// The organisation's issued tokens with their people's emails, newest first; expired
    /// and revoked ones only with `ended`.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn issued_tokens(
        &self,
        actor: &Actor,
        org_slug: &str,
        ended: bool,
    ) -> Result<Vec<(IssuedToken, Email)>, AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ManageCredentials(org.id))?;
        let tokens = self.db.issued_tokens(org.id, ended, Utc::now()).await?;
        let ids: Vec<PersonId> = tokens.iter().map(|t| t.person_id).collect();
        let emails = self.db.emails_of(org.id, &ids).await?;
        Ok(tokens
            .into_iter()
            .filter_map(|t| emails.get(&t.person_id).cloned().map(|e| (t, e)))
            .collect())
    }

    /// Revokes an issued token: requests carrying it are refused from the next one on.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn revoke_issued_token(
        &self,
        actor: &Actor,
        org_slug: &str,
        id: IssuedTokenId,
    ) -> Result<(), AppError> {
        let org = self.organisation(actor, org_slug).await?;
        authorize(actor, Action::ManageCredentials(org.id))?;
        let audit = Audit::new(
            actor.person_id(),
            "token.revoke",
            [id.0],
            format!("access token {id} revoked"),
        );
        if self.db.revoke_issued_token(org.id, id, &audit).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!(
                "no live issued token {id} in `{org_slug}`"
            )))
        }
    }
}
