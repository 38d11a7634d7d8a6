//! `rungs sso` (an organisation's identity provider for single sign-on) and `rungs scim`
//! (its provisioning tokens).

use crate::Failure;
use crate::output;
use clap::{Args, Subcommand};
use rungs_app::{Actor, App};

#[derive(Subcommand)]
pub enum SsoCommand {
    /// Set (or replace) the organisation's identity provider. The client secret is read from
    /// RUNGS_SSO_CLIENT_SECRET or `--client-secret-file`, never from an argument, and never
    /// printed. The provider's discovery document must answer.
    Set(Box<SetArgs>),
    /// Show the organisation's identity provider (never its secret).
    Show {
        #[arg(long)]
        org: String,
    },
    /// Remove the organisation's identity provider: passwords only again.
    Remove {
        #[arg(long)]
        org: String,
    },
}

#[derive(Args)]
pub struct SetArgs {
    #[arg(long)]
    org: String,
    /// The issuer, such as `https://keycloak.example.com/realms/acme`.
    #[arg(long)]
    issuer: String,
    /// The client id the provider issued. Providers generate ids from any URL-safe
    /// characters, so one may begin with `-`.
    #[arg(long, allow_hyphen_values = true)]
    client_id: String,
    /// A file holding the client secret (its whitespace trimmed). Without it,
    /// RUNGS_SSO_CLIENT_SECRET; without either, the stored secret is kept.
    #[arg(long)]
    client_secret_file: Option<std::path::PathBuf>,
    /// What the sign-in button names: "Sign in with <name>".
    #[arg(long, default_value = "single sign-on")]
    name: String,
    /// Scopes besides `openid` [default: email profile].
    #[arg(long, num_args = 1.., value_delimiter = ' ')]
    scopes: Vec<String>,
    /// The ID token claim that carries the email.
    #[arg(long, default_value = "email")]
    email_claim: String,
    /// Allow only emails of these domains (repeat, or separate by commas).
    #[arg(long = "allowed-domain", value_delimiter = ',')]
    allowed_domains: Vec<String>,
    /// A claim, and the value in it that makes a person an HR admin: `groups=rungs-hr`.
    #[arg(long)]
    admin_group: Option<String>,
    /// Refuse password sign-ins for this organisation (single sign-on only).
    #[arg(long)]
    no_passwords: bool,
    /// Add a person at their first sign-in when their verified email is unknown.
    #[arg(long)]
    create_people: bool,
    /// Accept the provider's access tokens at the API when they carry this audience.
    #[arg(long)]
    api_audience: Option<String>,
}

/// `rungs sso …`
pub async fn run(app: App, sys: &Actor, cmd: SsoCommand) -> Result<(), Failure> {
    match cmd {
        SsoCommand::Set(args) => {
            let SetArgs {
                org,
                issuer,
                client_id,
                client_secret_file,
                name,
                scopes,
                email_claim,
                allowed_domains,
                admin_group,
                no_passwords,
                create_people,
                api_audience,
            } = *args;
            let client_secret = match client_secret_file {
                Some(path) => Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| Failure(format!("{}: {e}", path.display())))?,
                ),
                None => std::env::var("RUNGS_SSO_CLIENT_SECRET").ok(),
            }
            .map(|s| secrecy::SecretString::from(s.trim().to_owned()));
            let (admin_group_claim, admin_group_value) = match admin_group {
                Some(g) => {
                    let (claim, value) = g.split_once('=').ok_or_else(|| {
                        Failure("--admin-group is a claim and a value: `groups=rungs-hr`".into())
                    })?;
                    (Some(claim.to_owned()), Some(value.to_owned()))
                }
                None => (None, None),
            };
            let p = app
                .set_identity_provider(
                    sys,
                    &org,
                    rungs_app::sso::ProviderInput {
                        name,
                        issuer,
                        client_id,
                        client_secret,
                        scopes,
                        email_claim: Some(email_claim),
                        allowed_domains,
                        admin_group_claim,
                        admin_group_value,
                        passwords_allowed: !no_passwords,
                        create_people,
                        api_audience,
                    },
                )
                .await?;
            println!(
                "`{org}` signs in with {} ({}); the provider must send people back to <public_url>/signin/callback",
                p.name, p.issuer
            );
        }
        SsoCommand::Show { org } => match app.identity_provider(sys, &org).await? {
            Some(p) => output::identity_provider(&p),
            None => println!("`{org}` has no identity provider: people sign in with passwords"),
        },
        SsoCommand::Remove { org } => {
            app.remove_identity_provider(sys, &org).await?;
            println!("`{org}` no longer signs in with single sign-on");
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum ScimCommand {
    /// Provisioning tokens: what an identity provider or HR system sends to `/scim/v2`.
    #[command(subcommand)]
    Token(ScimTokenCommand),
}

#[derive(Subcommand)]
pub enum ScimTokenCommand {
    /// Create a token and print it (this once: only its hash is kept).
    Create {
        #[arg(long)]
        org: String,
        /// What it is for, such as `okta` or `workday sync`.
        #[arg(long)]
        name: String,
    },
    /// List the organisation's tokens (never the tokens themselves).
    List {
        #[arg(long)]
        org: String,
    },
    /// Revoke a token by its id: requests carrying it are refused from the next one on.
    Revoke {
        id: uuid::Uuid,
        #[arg(long)]
        org: String,
    },
}

/// `rungs scim …`
pub async fn scim(app: App, sys: &Actor, cmd: ScimCommand) -> Result<(), Failure> {
    let ScimCommand::Token(cmd) = cmd;
    match cmd {
        ScimTokenCommand::Create { org, name } => {
            let (token, t) = app.create_scim_token(sys, &org, &name).await?;
            eprintln!(
                "provisioning token {} (\"{}\") for `{org}`: send it as `Authorization: Bearer …` to <server>/scim/v2; it is not shown again",
                t.id, t.name
            );
            println!("{token}");
        }
        ScimTokenCommand::List { org } => {
            for t in app.scim_tokens(sys, &org).await? {
                let state = match (t.revoked_at, t.last_used_at) {
                    (Some(r), _) => format!("revoked {}", r.to_rfc3339()),
                    (None, Some(u)) => format!("last used {}", u.to_rfc3339()),
                    (None, None) => "never used".to_owned(),
                };
                println!(
                    "{}  {:<24} created {}  {state}",
                    t.id,
                    t.name,
                    t.created_at.to_rfc3339()
                );
            }
        }
        ScimTokenCommand::Revoke { id, org } => {
            app.revoke_scim_token(sys, &org, rungs_domain::ScimTokenId(id))
                .await?;
            println!("provisioning token {id} revoked in `{org}`");
        }
    }
    Ok(())
}
