//! Single sign-on with OpenID Connect, one identity provider per organisation.
//!
//! - The web app's sign-in runs the authorization code flow with PKCE, `state` and `nonce`
//!   ([`App::sso_begin`], [`App::sso_finish`]); the `openidconnect` crate builds the request,
//!   exchanges the code and checks the ID token (issuer, audience, expiry, nonce, signature).
//!   Only asymmetric algorithms the provider announces are accepted: never `none`, never HS*
//!   (which would be keyed by the client secret).
//! - API clients may present an access token of the organisation's provider instead of a Rungs
//!   token ([`App::verify_bearer`] sends every non-HS256 token here): a JWT checked with
//!   `jsonwebtoken` against the provider's published keys, its issuer and the organisation's
//!   configured API audience.
//! - Discovery documents and key sets are cached per issuer (an hour); a token signed with a
//!   key the cache does not hold fetches the key set again (at most once per
//!   `AuthConfig::sso_key_refresh`), so a provider's rotation is honoured both ways: new keys
//!   are learnt, and keys it stopped publishing stop verifying.

use crate::auth::Session;
use crate::policy::{Action, Actor, authorize};
use crate::{App, AppError, NewPersonInput, PersonChanges};
use chrono::Utc;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreGrantType, CoreIdToken, CoreJsonWebKey, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, JwsSigningAlgorithm, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    ProviderMetadata, RedirectUrl, Scope, SignatureVerificationError,
};
use rungs_db::Audit;
use rungs_domain::org::{Organisation, Slug};
use rungs_domain::person::{Email, Person};
use rungs_domain::sso::{AdminGroup, IdentityProvider};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a discovery document is trusted before it is fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// How long a request to a provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// The provider metadata Rungs reads, with RP-initiated logout's `end_session_endpoint`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct LogoutMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_session_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for LogoutMetadata {}

type Metadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// One issuer's discovery document and keys, as last fetched.
struct Discovered {
    metadata: Metadata,
    /// The same keys, for `jsonwebtoken` (access tokens).
    keys: jsonwebtoken::jwk::JwkSet,
    fetched: Instant,
    keys_fetched: Instant,
}

/// Discovery documents and key sets by issuer, and the HTTP client that fetches them.
pub(crate) struct Providers {
    /// Built once; `Err` (the TLS roots could not be loaded) refuses single sign-on only.
    http: Result<openidconnect::reqwest::Client, String>,
    cache: Mutex<HashMap<String, Arc<Discovered>>>,
    /// The shortest time between two key-set fetches for one issuer.
    key_refresh: Duration,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("key_refresh", &self.key_refresh)
            .finish_non_exhaustive()
    }
}

fn unavailable(issuer: &str, e: impl std::fmt::Display) -> AppError {
    tracing::warn!(issuer, error = %e, "identity provider unreachable or invalid");
    AppError::Unauthenticated(format!(
        "the identity provider at {issuer} could not be reached or answered something invalid: try again, or ask HR to check the single sign-on settings"
    ))
}

fn jwt_keys(set: &CoreJsonWebKeySet) -> jsonwebtoken::jwk::JwkSet {
    // Keys `jsonwebtoken` cannot use (another key type) are left out, not fatal.
    let keys = serde_json::to_value(set)
        .ok()
        .and_then(|v| v.get("keys").cloned())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|k| serde_json::from_value(k).ok())
        .collect();
    jsonwebtoken::jwk::JwkSet { keys }
}

impl Providers {
    pub(crate) fn new(key_refresh: Duration) -> Self {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send Rungs anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map_err(|e| e.to_string());
        Self {
            http,
            cache: Mutex::new(HashMap::new()),
            key_refresh,
        }
    }

    fn http(&self) -> Result<&openidconnect::reqwest::Client, AppError> {
        self.http.as_ref().map_err(|e| {
            AppError::Internal(format!("no HTTP client for single sign-on: {e}").into())
        })
    }

    fn cached(&self, issuer: &str) -> Option<Arc<Discovered>> {
        self.cache
            .lock()
            .ok()?
            .get(issuer)
            .filter(|d| d.fetched.elapsed() < DISCOVERY_TTL)
            .cloned()
    }

    fn keep(&self, issuer: &str, d: Discovered) -> Arc<Discovered> {
        let d = Arc::new(d);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(issuer.to_owned(), d.clone());
        }
        d
    }

    /// The issuer's discovery document and keys: cached, or fetched now.
    async fn discover(&self, issuer: &str) -> Result<Arc<Discovered>, AppError> {
        if let Some(d) = self.cached(issuer) {
            return Ok(d);
        }
        let url = IssuerUrl::new(issuer.to_owned()).map_err(|e| unavailable(issuer, e))?;
        let metadata = Metadata::discover_async(url, self.http()?)
            .await
            .map_err(|e| unavailable(issuer, e))?;
        let keys = jwt_keys(metadata.jwks());
        let now = Instant::now();
        Ok(self.keep(
            issuer,
            Discovered {
                metadata,
                keys,
                fetched: now,
                keys_fetched: now,
            },
        ))
    }

    /// Fetches the issuer's keys again, unless they were fetched less than `key_refresh` ago:
    /// `None` then (the keys in hand are the newest allowed).
    async fn refresh_keys(
        &self,
        issuer: &str,
        d: &Discovered,
    ) -> Result<Option<Arc<Discovered>>, AppError> {
        if d.keys_fetched.elapsed() < self.key_refresh {
            return Ok(None);
        }
        let set = CoreJsonWebKeySet::fetch_async(d.metadata.jwks_uri(), self.http()?)
            .await
            .map_err(|e| unavailable(issuer, e))?;
        let keys = jwt_keys(&set);
        let metadata = d.metadata.clone().set_jwks(set);
        Ok(Some(self.keep(
            issuer,
            Discovered {
                metadata,
                keys,
                fetched: d.fetched,
                keys_fetched: Instant::now(),
            },
        )))
    }
}

/// The asymmetric algorithms a provider announces for ID tokens (RS256 when it names none).
fn signing_algorithms(m: &Metadata) -> Vec<CoreJwsSigningAlgorithm> {
    let algs: Vec<_> = m
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|a| !a.uses_shared_secret() && **a != CoreJwsSigningAlgorithm::None)
        .cloned()
        .collect();
    if algs.is_empty() {
        vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
    } else {
        algs
    }
}

/// What the sign-in page offers for an organisation.
#[derive(Debug, Clone)]
pub struct SignInOptions {
    /// "Sign in with {provider}".
    pub provider: String,
    pub passwords_allowed: bool,
}

/// A sign-in under way: what the browser keeps (in a short-lived cookie) between leaving for
/// the provider and coming back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub org: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
}

/// Where to send the browser, and what to remember meanwhile.
#[derive(Debug, Clone)]
pub struct SsoStart {
    pub url: String,
    pub pending: PendingSignIn,
}

/// An organisation's identity provider as shown to HR: everything but the secret.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub has_client_secret: bool,
    pub scopes: Vec<String>,
    pub email_claim: String,
    pub allowed_domains: Vec<String>,
    pub admin_group: Option<AdminGroup>,
    pub passwords_allowed: bool,
    pub create_people: bool,
    pub api_audience: Option<String>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<IdentityProvider> for ProviderSettings {
    fn from(p: IdentityProvider) -> Self {
        Self {
            has_client_secret: !p.client_secret.is_empty(),
            name: p.name,
            issuer: p.issuer,
            client_id: p.client_id,
            scopes: p.scopes,
            email_claim: p.email_claim,
            allowed_domains: p.allowed_domains,
            admin_group: p.admin_group,
            passwords_allowed: p.passwords_allowed,
            create_people: p.create_people,
            api_audience: p.api_audience,
            updated_at: p.updated_at,
        }
    }
}

/// New settings for an organisation's identity provider.
#[derive(Clone, Default)]
pub struct ProviderInput {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    /// `None` keeps the secret already stored.
    pub client_secret: Option<secrecy::SecretString>,
    /// Besides `openid`; empty: `email profile`.
    pub scopes: Vec<String>,
    /// `None`: `email`.
    pub email_claim: Option<String>,
    pub allowed_domains: Vec<String>,
    /// The claim, and the value in it, that makes an HR admin: both or neither.
    pub admin_group_claim: Option<String>,
    pub admin_group_value: Option<String>,
    pub passwords_allowed: bool,
    pub create_people: bool,
    pub api_audience: Option<String>,
}

impl std::fmt::Debug for ProviderInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderInput")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

/// Why an ID token was refused, in words for the person signing in (and for tests).
fn id_token_refused(e: &ClaimsVerificationError) -> AppError {
    use ClaimsVerificationError as E;
    let why = match e {
        E::Expired(_) => "the identity provider's answer has expired",
        E::InvalidIssuer(_) => "the identity provider's answer names another issuer",
        E::InvalidAudience(_) => "the identity provider's answer is meant for another application",
        E::InvalidNonce(_) => "the identity provider's answer does not belong to this sign-in",
        E::SignatureVerification(SignatureVerificationError::NoSignature) => {
            "the identity provider's answer is not signed"
        }
        E::SignatureVerification(SignatureVerificationError::DisallowedAlg(_))
        | E::SignatureVerification(SignatureVerificationError::UnsupportedAlg(_)) => {
            "the identity provider's answer is signed with an algorithm Rungs refuses"
        }
        E::SignatureVerification(SignatureVerificationError::NoMatchingKey) => {
            "the identity provider's answer is signed with a key it does not publish"
        }
        E::SignatureVerification(_) => "the identity provider's answer has an invalid signature",
        _ => "the identity provider's answer is invalid",
    };
    tracing::info!(error = %e, "ID token refused");
    AppError::Unauthenticated(format!("{why}: sign in again"))
}

fn no_such(slug: &str) -> AppError {
    AppError::Unauthenticated(format!(
        "`{slug}` does not sign in with single sign-on: use your email and password"
    ))
}

impl App {
    fn providers(&self) -> Result<&Providers, AppError> {
        Ok(&self.providers)
    }

    /// The organisation with this slug and its identity provider, if both exist.
    async fn provider_of(
        &self,
        slug: &str,
    ) -> Result<Option<(Organisation, IdentityProvider)>, AppError> {
        let Ok(slug) = Slug::parse(&slug.trim().to_lowercase()) else {
            return Ok(None);
        };
        let Some(org) = self.db.org_by_slug(&slug).await? else {
            return Ok(None);
        };
        Ok(self.db.identity_provider(org.id).await?.map(|p| (org, p)))
    }

    /// What the sign-in page offers for an organisation (anyone may ask: it says no more than
    /// the organisation's sign-in page would).
    pub async fn sign_in_options(&self, slug: &str) -> Result<Option<SignInOptions>, AppError> {
        Ok(self.provider_of(slug).await?.map(|(_, p)| SignInOptions {
            provider: p.name,
            passwords_allowed: p.passwords_allowed,
        }))
    }

    /// Refuses a password sign-in to an organisation whose people sign in only through its
    /// identity provider, before any password is checked (none can be guessed there). One
    /// statement for every sign-in, whatever the organisation.
    pub(crate) async fn refuse_password_if_sso_only(&self, slug: &str) -> Result<(), AppError> {
        match self
            .db
            .passwords_refused(&slug.trim().to_lowercase())
            .await?
        {
            Some((org, provider)) => Err(AppError::Unauthenticated(format!(
                "{org} signs in with {provider}, not with a password"
            ))),
            None => Ok(()),
        }
    }

    /// Starts a sign-in through the organisation's identity provider: the URL to send the
    /// browser to, and what to keep until it comes back to `redirect_url`.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn sso_begin(
        &self,
        slug: &str,
        redirect_url: &str,
        next: &str,
    ) -> Result<SsoStart, AppError> {
        let (org, p) = self.provider_of(slug).await?.ok_or_else(|| no_such(slug))?;
        let d = self.providers()?.discover(&p.issuer).await?;
        let client = CoreClient::from_provider_metadata(
            d.metadata.clone(),
            ClientId::new(p.client_id.clone()),
            None,
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect_url.to_owned())
                .map_err(|e| AppError::Internal(e.to_string().into()))?,
        );
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        // `openid` is always asked for by the crate; these come besides it.
        for s in &p.scopes {
            request = request.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(SsoStart {
            url: url.to_string(),
            pending: PendingSignIn {
                org: org.slug.to_string(),
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                next: next.to_owned(),
            },
        })
    }

    /// Finishes a sign-in when the browser comes back with `code`: exchanges it (with the
    /// PKCE verifier), checks the ID token, finds the person by their verified email (or
    /// creates them, when the organisation allows it) and starts a web session.
    #[tracing::instrument(skip_all, fields(org = %pending.org), err(level = "debug", Display))]
    pub async fn sso_finish(
        &self,
        pending: &PendingSignIn,
        code: &str,
        redirect_url: &str,
    ) -> Result<(String, rungs_domain::auth::WebSession), AppError> {
        let (org, p) = self
            .provider_of(&pending.org)
            .await?
            .ok_or_else(|| no_such(&pending.org))?;
        let providers = self.providers()?;
        let d = providers.discover(&p.issuer).await?;
        let client = CoreClient::from_provider_metadata(
            d.metadata.clone(),
            ClientId::new(p.client_id.clone()),
            Some(ClientSecret::new(p.client_secret.clone())),
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect_url.to_owned())
                .map_err(|e| AppError::Internal(e.to_string().into()))?,
        );
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| unavailable(&p.issuer, e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(providers.http()?)
            .await
            .map_err(|e| {
                tracing::info!(error = %e, "the provider refused the code");
                AppError::Unauthenticated(
                    "the identity provider did not accept this sign-in: sign in again".into(),
                )
            })?;
        use openidconnect::TokenResponse;
        let id_token = response.id_token().ok_or_else(|| {
            AppError::Unauthenticated("the identity provider sent no ID token".into())
        })?;
        let claims = self
            .verify_id_token(&p, &id_token.to_string(), &pending.nonce)
            .await?;
        let (person, how) = self.person_signing_in(&org, &p, &claims).await?;
        self.start_web_session(
            &person,
            &org,
            "session.sso_sign_in",
            format!("signed in to the web app with {}{how}", p.name),
        )
        .await
    }

    /// Checks an ID token from the organisation's provider (issuer, audience = the client id,
    /// expiry, nonce, and a signature by one of its published asymmetric keys) and returns its
    /// claims. Public for the token tests.
    pub async fn verify_id_token(
        &self,
        p: &IdentityProvider,
        raw: &str,
        nonce: &str,
    ) -> Result<serde_json::Value, AppError> {
        let providers = self.providers()?;
        let token: CoreIdToken = raw.parse().map_err(|_| {
            AppError::Unauthenticated("the identity provider's answer is malformed".into())
        })?;
        let nonce = Nonce::new(nonce.to_owned());
        let mut d = providers.discover(&p.issuer).await?;
        let verify = |d: &Discovered| {
            let client = CoreClient::from_provider_metadata(
                d.metadata.clone(),
                ClientId::new(p.client_id.clone()),
                // HS* is refused below, so the secret never becomes a verification key.
                None,
            );
            let verifier = client
                .id_token_verifier()
                .set_allowed_algs(signing_algorithms(&d.metadata));
            token.claims(&verifier, &nonce).map(|_| ())
        };
        let mut outcome = verify(&d);
        if matches!(
            outcome,
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey
            ))
        ) && let Some(fresh) = providers.refresh_keys(&p.issuer, &d).await?
        {
            d = fresh;
            outcome = verify(&d);
        }
        outcome.map_err(|e| id_token_refused(&e))?;
        jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(raw)
            .map(|t| t.claims)
            .map_err(|_| AppError::Unauthenticated("the ID token's claims are invalid".into()))
    }

    /// The person verified claims speak for: found by email (created when the organisation
    /// allows it), active, of an allowed domain; their HR admin flag follows the admin group
    /// when one is set. Also says how, for the audit entry.
    async fn person_signing_in(
        &self,
        org: &Organisation,
        p: &IdentityProvider,
        claims: &serde_json::Value,
    ) -> Result<(Person, String), AppError> {
        let refused = |m: String| AppError::Unauthenticated(m);
        let raw = claims
            .get(&p.email_claim)
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                refused(format!(
                    "{} sent no `{}` claim: ask HR to check the single sign-on settings",
                    p.name, p.email_claim
                ))
            })?;
        if claims.get("email_verified").and_then(|v| v.as_bool()) == Some(false) {
            return Err(refused(format!(
                "{} has not verified the email {raw}",
                p.name
            )));
        }
        let email = Email::parse(raw)
            .map_err(|_| refused(format!("{} sent `{raw}`, which is not an email", p.name)))?;
        if !p.allows(&email) {
            return Err(refused(format!(
                "{email} may not sign in to {} with {}: its domain is not allowed",
                org.name, p.name
            )));
        }
        let admin = p.is_admin(claim_values(claims, p.admin_group.as_ref()));
        let system = Actor::system();
        let existing = self.db.person_by_email(org.id, &email).await?;
        let (mut person, mut how) = match existing {
            Some(person) => (person, String::new()),
            None if p.create_people => {
                let name = claims
                    .get("name")
                    .and_then(|v| v.as_str())
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or(email.as_str())
                    .to_owned();
                let person = self
                    .add_person(
                        &system,
                        org.slug.as_str(),
                        NewPersonInput {
                            email: email.to_string(),
                            display_name: name,
                            manager: None,
                            is_admin: admin.unwrap_or(false),
                            placement: None,
                        },
                    )
                    .await?;
                (person, " (added at their first sign-in)".to_owned())
            }
            None => {
                return Err(refused(format!(
                    "no one in {} has the email {email}: ask HR to add you",
                    org.name
                )));
            }
        };
        if !person.active {
            return Err(refused(format!(
                "{email} is deactivated in {}: ask HR",
                org.name
            )));
        }
        if let Some(admin) = admin
            && admin != person.is_admin
        {
            person = self
                .update_person(
                    &system,
                    org.slug.as_str(),
                    person.id,
                    PersonChanges {
                        is_admin: Some(admin),
                        ..Default::default()
                    },
                )
                .await?;
            how = format!(
                "{how} (HR admin {} by the `{}` claim)",
                if admin { "granted" } else { "removed" },
                p.admin_group.as_ref().map_or("", |g| g.claim.as_str())
            );
        }
        Ok((person, how))
    }

    /// Where to offer signing out of the organisation's provider too, if it has an end-session
    /// endpoint: its URL, coming back to `post_logout_url`.
    pub async fn sso_end_session_url(
        &self,
        slug: &str,
        post_logout_url: &str,
    ) -> Result<Option<(String, String)>, AppError> {
        let Some((_, p)) = self.provider_of(slug).await? else {
            return Ok(None);
        };
        let Ok(d) = self.providers()?.discover(&p.issuer).await else {
            return Ok(None);
        };
        let Some(end) = d
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .as_deref()
        else {
            return Ok(None);
        };
        let Ok(mut url) = url::Url::parse(end) else {
            return Ok(None);
        };
        url.query_pairs_mut()
            .append_pair("client_id", &p.client_id)
            .append_pair("post_logout_redirect_uri", post_logout_url);
        Ok(Some((p.name, url.to_string())))
    }

    /// Authenticates an access token issued by an organisation's identity provider: its
    /// issuer names the candidates, its key must be one the provider publishes, its algorithm
    /// asymmetric, its audience the organisation's configured API audience; its email claim
    /// names an active person of that organisation.
    pub(crate) async fn authenticate_external(&self, token: &str) -> Result<Session, AppError> {
        let bad = |m: &str| AppError::Unauthenticated(m.to_owned());
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| bad("the access token is malformed"))?;
        let issuer = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(token)
            .ok()
            .and_then(|t| t.claims.get("iss")?.as_str().map(str::to_owned))
            .ok_or_else(|| bad("the access token names no issuer"))?;
        use jsonwebtoken::Algorithm as A;
        if matches!(header.alg, A::HS256 | A::HS384 | A::HS512) {
            return Err(bad(
                "the access token uses an algorithm this server refuses",
            ));
        }
        let candidates: Vec<IdentityProvider> = self
            .db
            .identity_providers_by_issuer(&issuer)
            .await?
            .into_iter()
            .filter(|p| p.api_audience.is_some())
            .collect();
        if candidates.is_empty() {
            return Err(bad("the access token is not for this server"));
        }
        let providers = self.providers()?;
        let kid = header
            .kid
            .clone()
            .ok_or_else(|| bad("the access token names no key"))?;
        let mut d = providers.discover(&issuer).await?;
        if d.keys.find(&kid).is_none()
            && let Some(fresh) = providers.refresh_keys(&issuer, &d).await?
        {
            d = fresh;
        }
        let jwk = d.keys.find(&kid).ok_or_else(|| {
            bad("the access token is signed with a key its provider does not publish")
        })?;
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk)
            .map_err(|_| bad("the access token's key is unusable"))?;
        for p in &candidates {
            let mut v = jsonwebtoken::Validation::new(header.alg);
            v.set_issuer(&[&issuer]);
            v.set_audience(&[p.api_audience.as_deref().unwrap_or_default()]);
            v.set_required_spec_claims(&["iss", "aud", "exp"]);
            v.leeway = 5;
            let claims = match jsonwebtoken::decode::<serde_json::Value>(token, &key, &v) {
                Ok(t) => t.claims,
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind as K;
                    match e.kind() {
                        K::InvalidAudience => continue,
                        K::ExpiredSignature => return Err(bad("the access token has expired")),
                        K::InvalidSignature | K::InvalidAlgorithm => {
                            return Err(bad("the access token's signature is invalid"));
                        }
                        _ => return Err(bad("the access token's claims are invalid")),
                    }
                }
            };
            let email = claims
                .get(&p.email_claim)
                .and_then(|v| v.as_str())
                .and_then(|e| Email::parse(e).ok())
                .ok_or_else(|| bad("the access token carries no email this organisation knows"))?;
            let person = self
                .db
                .person_by_email(p.org_id, &email)
                .await?
                .filter(|x| x.active && p.allows(&email))
                .ok_or_else(|| bad("this account no longer exists or is deactivated"))?;
            let org = self
                .db
                .org(p.org_id)
                .await?
                .ok_or_else(|| bad("this account no longer exists or is deactivated"))?;
            return Ok(Session::of(person, org));
        }
        Err(bad("the access token is not for this server"))
    }

    /// The organisation's identity provider, without its secret (HR admins).
    pub async fn identity_provider(
        &self,
        actor: &Actor,
        slug: &str,
    ) -> Result<Option<ProviderSettings>, AppError> {
        let org = self.organisation(actor, slug).await?;
        authorize(actor, Action::ConfigureSignIn(org.id))?;
        Ok(self.db.identity_provider(org.id).await?.map(Into::into))
    }

    /// Sets the organisation's identity provider (HR admins, or the operator). The issuer's
    /// discovery document is fetched first: a provider that cannot be reached is not saved.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn set_identity_provider(
        &self,
        actor: &Actor,
        slug: &str,
        input: ProviderInput,
    ) -> Result<ProviderSettings, AppError> {
        use secrecy::ExposeSecret;
        let org = self.organisation(actor, slug).await?;
        authorize(actor, Action::ConfigureSignIn(org.id))?;
        let before = self.db.identity_provider(org.id).await?;
        let client_secret = match (&input.client_secret, &before) {
            (Some(s), _) => s.expose_secret().trim().to_owned(),
            (None, Some(b)) if b.client_id == input.client_id.trim() => b.client_secret.clone(),
            (None, _) => String::new(),
        };
        if client_secret.is_empty() {
            return Err(AppError::Invalid(
                "clientSecret: the client secret the provider gave Rungs is required".into(),
            ));
        }
        let trimmed = |v: Vec<String>| -> Vec<String> {
            v.iter()
                .flat_map(|s| s.split([' ', ',']))
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let mut scopes: Vec<String> = input
            .scopes
            .iter()
            .flat_map(|s| s.split_whitespace())
            .filter(|s| *s != "openid")
            .map(str::to_owned)
            .collect();
        if scopes.is_empty() {
            scopes = vec!["email".into(), "profile".into()];
        }
        let p = IdentityProvider {
            org_id: org.id,
            name: input.name.trim().to_owned(),
            issuer: input.issuer.trim().trim_end_matches('/').to_owned(),
            client_id: input.client_id.trim().to_owned(),
            client_secret,
            scopes,
            email_claim: input
                .email_claim
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .unwrap_or("email")
                .to_owned(),
            allowed_domains: trimmed(input.allowed_domains),
            admin_group: match (
                input
                    .admin_group_claim
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty()),
                input
                    .admin_group_value
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty()),
            ) {
                (Some(claim), Some(value)) => Some(AdminGroup {
                    claim: claim.to_owned(),
                    value: value.to_owned(),
                }),
                (None, None) => None,
                _ => {
                    return Err(AppError::Invalid(
                        "adminGroup: give both the claim and the value that makes an HR admin, or neither".into(),
                    ));
                }
            },
            passwords_allowed: input.passwords_allowed,
            create_people: input.create_people,
            api_audience: input
                .api_audience
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty()),
            updated_at: Utc::now(),
        };
        p.check()?;
        // Discovery must work now, not at someone's first sign-in; and the issuer it names must
        // be the one configured (the discovery crate checks that too).
        self.providers()?.discover(&p.issuer).await.map_err(|_| {
            AppError::Invalid(format!(
                "issuer: no OpenID Provider answered at {}/.well-known/openid-configuration",
                p.issuer
            ))
        })?;
        let audit = Audit::new(
            actor.person_id(),
            "sso.configure",
            [org.id.0],
            format!(
                "single sign-on with {} ({}, client {}){}{}",
                p.name,
                p.issuer,
                p.client_id,
                if p.passwords_allowed {
                    ""
                } else {
                    "; passwords turned off"
                },
                if p.create_people {
                    "; people created at first sign-in"
                } else {
                    ""
                }
            ),
        );
        self.db.set_identity_provider(&p, &audit).await?;
        Ok(p.into())
    }

    /// Removes the organisation's identity provider: people sign in with passwords again.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn remove_identity_provider(
        &self,
        actor: &Actor,
        slug: &str,
    ) -> Result<(), AppError> {
        let org = self.organisation(actor, slug).await?;
        authorize(actor, Action::ConfigureSignIn(org.id))?;
        let audit = Audit::new(
            actor.person_id(),
            "sso.remove",
            [org.id.0],
            "single sign-on removed",
        );
        if self.db.remove_identity_provider(org.id, &audit).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!(
                "an identity provider for `{slug}`"
            )))
        }
    }

    /// The organisation's identity provider with its secret (for the ID token tests only:
    /// built with the `testing` feature, never in the server).
    #[cfg(feature = "testing")]
    pub async fn identity_provider_record(
        &self,
        org: rungs_domain::OrgId,
    ) -> Result<Option<IdentityProvider>, AppError> {
        Ok(self.db.identity_provider(org).await?)
    }
}

/// The values of the admin group's claim: a string, or a list of strings.
fn claim_values<'a>(claims: &'a serde_json::Value, group: Option<&AdminGroup>) -> Vec<&'a str> {
    match group.and_then(|g| claims.get(&g.claim)) {
        Some(serde_json::Value::String(s)) => vec![s.as_str()],
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|i| i.as_str()).collect(),
        _ => Vec::new(),
    }
}
