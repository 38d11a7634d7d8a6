//! An organisation's identity provider for single sign-on (OpenID Connect): who it is, how
//! Rungs is registered with it, and what its answers mean for people.

use crate::error::DomainError;
use crate::ids::OrgId;
use crate::person::Email;
use chrono::{DateTime, Utc};

/// One organisation's OpenID Provider. The client secret is held apart
/// ([`IdentityProvider::client_secret`] is never shown, printed or returned by any API). It is
/// serialized only into an organisation export (operators), which holds it as it holds the
/// password hashes.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdentityProvider {
    pub org_id: OrgId,
    /// What the sign-in button says: "Sign in with {name}".
    pub name: String,
    /// The issuer identifier (`https://…`; plain `http` only on a loopback address).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The ID token claim that carries the person's email (`email` for most providers,
    /// `preferred_username` or `upn` for some Entra ID set-ups).
    pub email_claim: String,
    /// Emails allowed to sign in this way, by domain (lower case); empty: any domain.
    pub allowed_domains: Vec<String>,
    /// A claim (a string or a list of strings) and the value in it that makes a person an HR
    /// admin. When set, every sign-in sets the person's HR admin flag from it.
    pub admin_group: Option<AdminGroup>,
    /// Whether people of this organisation may still sign in with a password.
    pub passwords_allowed: bool,
    /// Whether a verified email with no person yet creates one (just-in-time).
    pub create_people: bool,
    /// The audience access tokens for the API must carry; `None`: the provider's access tokens
    /// are not accepted by the API.
    pub api_audience: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("org_id", &self.org_id)
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scopes", &self.scopes)
            .field("email_claim", &self.email_claim)
            .field("allowed_domains", &self.allowed_domains)
            .field("admin_group", &self.admin_group)
            .field("passwords_allowed", &self.passwords_allowed)
            .field("create_people", &self.create_people)
            .field("api_audience", &self.api_audience)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AdminGroup {
    pub claim: String,
    pub value: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::invalid(field, message.into())
}

/// Checks an issuer: an absolute `https` URL, or `http` on a loopback address (a provider on
/// the same machine, as in tests), with no query or fragment.
pub fn check_issuer(issuer: &str) -> Result<(), DomainError> {
    let bad = |m: &str| invalid("issuer", format!("`{issuer}` {m}"));
    let url = url::Url::parse(issuer).map_err(|_| bad("is not a URL (it starts with https://)"))?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad("must not have a query, a fragment or a user name"));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => return Err(bad("has no host")),
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(bad(
            "must use https (plain http only for a provider on this machine)",
        )),
    }
}

impl IdentityProvider {
    /// Checks every field; the first problem is the error.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.name.trim().is_empty() || self.name.chars().count() > 60 {
            return Err(invalid("name", "needs 1 to 60 characters"));
        }
        check_issuer(&self.issuer)?;
        if self.client_id.trim().is_empty() {
            return Err(invalid("clientId", "is required"));
        }
        if self.email_claim.trim().is_empty() {
            return Err(invalid("emailClaim", "is required"));
        }
        for s in &self.scopes {
            if s.is_empty()
                || s.chars()
                    .any(|c| c.is_whitespace() || c == '"' || c == '\\')
            {
                return Err(invalid("scopes", format!("`{s}` is not a scope")));
            }
        }
        for d in &self.allowed_domains {
            Email::parse(&format!("someone@{d}"))
                .map_err(|_| invalid("allowedDomains", format!("`{d}` is not a domain")))?;
        }
        if let Some(g) = &self.admin_group
            && (g.claim.trim().is_empty() || g.value.trim().is_empty())
        {
            return Err(invalid(
                "adminGroup",
                "needs both the claim and the value that makes an HR admin",
            ));
        }
        if self
            .api_audience
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            return Err(invalid("apiAudience", "must not be empty"));
        }
        Ok(())
    }

    /// Whether an email's domain may sign in through this provider.
    pub fn allows(&self, email: &Email) -> bool {
        let domain = email.as_str().rsplit('@').next().unwrap_or("");
        self.allowed_domains.is_empty() || self.allowed_domains.iter().any(|d| d == domain)
    }

    /// Whether the values of the admin group's claim make their person an HR admin: `None`
    /// when no group is set.
    pub fn is_admin<'a>(&self, values: impl IntoIterator<Item = &'a str>) -> Option<bool> {
        let g = self.admin_group.as_ref()?;
        Some(values.into_iter().any(|v| v == g.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_must_be_https_except_on_this_machine() {
        for ok in [
            "https://id.example.com",
            "https://login.microsoftonline.com/abc/v2.0",
            "http://127.0.0.1:4000",
            "http://localhost:8080/realms/acme",
        ] {
            assert!(check_issuer(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://id.example.com",
            "id.example.com",
            "https://",
            "https://id.example.com/?x=1",
            "ftp://127.0.0.1",
            "http://localhost.evil.test",
        ] {
            assert!(check_issuer(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_admin_group_and_the_allowed_domains() {
        let mut p = IdentityProvider {
            org_id: OrgId(uuid::Uuid::nil()),
            name: "Keycloak".into(),
            issuer: "https://id.example.com".into(),
            client_id: "rungs".into(),
            client_secret: "s".into(),
            scopes: vec!["email".into()],
            email_claim: "email".into(),
            allowed_domains: vec!["acme.test".into()],
            admin_group: None,
            passwords_allowed: true,
            create_people: false,
            api_audience: None,
            updated_at: Utc::now(),
        };
        assert_eq!(p.is_admin(["staff", "rungs-hr"]), None);
        p.admin_group = Some(AdminGroup {
            claim: "groups".into(),
            value: "rungs-hr".into(),
        });
        assert_eq!(p.is_admin(["staff", "rungs-hr"]), Some(true));
        assert_eq!(p.is_admin(["staff"]), Some(false));
        assert_eq!(p.is_admin([]), Some(false));
        assert!(p.allows(&Email::parse("a@acme.test").unwrap()));
        assert!(!p.allows(&Email::parse("a@evil.test").unwrap()));
        assert!(p.check().is_ok());
        assert!(format!("{p:?}").contains("[redacted]"));
        assert!(!format!("{p:?}").contains("\"s\""));
    }
}
