//! `rungs`: the admin command line. Every command calls the same rungs-app use cases as the
//! server, acting as the operator (`Actor::system()`).

/// mimalloc, not glibc's malloc: each password check allocates Argon2id's 19 MiB on a blocking
/// thread, and glibc kept those in per-thread arenas after a sign-in flood (the server stayed
/// at 370 to 600 MiB; with mimalloc it returns to its baseline within seconds). See
/// docs/operations.md, "Measured under attack".
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod config;
mod growth;
mod matrices;
mod output;
mod serve;
mod sso;
mod telemetry;

use clap::{Args, Parser, Subcommand};
use output::{Out, print_matrix_grid};
use rungs_app::demo::{DEMO_ORG, DEMO_PASSWORD};
use rungs_app::{Actor, App, AppError};
use rungs_db::{Db, redact_url};
use std::process::ExitCode;

/// Rungs: job-leveling matrices, growth plans and promotions.
///
/// The database is chosen by URL: a SQLite file (the default, `rungs.db` in the working
/// directory), PostgreSQL (`postgres://...`) or MariaDB/MySQL (`mysql://...`).
#[derive(Parser)]
#[command(name = "rungs", version, propagate_version = true)]
struct Cli {
    /// Database URL [default: sqlite://rungs.db, or `database_url` in the config file, or
    /// RUNGS_DATABASE_URL].
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Configuration file (read if it exists; RUNGS_* environment variables override it).
    #[arg(
        long,
        global = true,
        env = "RUNGS_CONFIG",
        default_value = "rungs.toml"
    )]
    config: std::path::PathBuf,
    /// Log format [default: pretty, or `log_format` in the config file, or RUNGS_LOG_FORMAT].
    /// The level comes from RUNGS_LOG (such as `info` or `rungs=debug`).
    #[arg(long, global = true, value_enum)]
    log_format: Option<config::LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Database schema.
    #[command(subcommand)]
    Db(DbCommand),
    /// Organisations (tenants).
    #[command(subcommand)]
    Org(OrgCommand),
    /// People: import from CSV, list.
    #[command(subcommand)]
    People(PeopleCommand),
    /// Leveling matrices: import, list, show, export.
    #[command(subcommand)]
    Matrix(matrices::MatrixCommand),
    /// Place a person at a track and level (appended to their history).
    Assign(AssignArgs),
    /// A person's level history.
    History {
        email: String,
        #[arg(long)]
        org: String,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Try Rungs: migrate the database, create the `demo` organisation (the `python`
    /// template, 30 people, assessments, an open promotion case) if missing, and show the
    /// matrix and the demo logins. `demo seed` generates a larger organisation.
    Demo {
        #[command(subcommand)]
        seed: Option<growth::DemoCommand>,
    },
    /// A person's growth plan: where they stand, what the target level expects, which
    /// expectations are met and which are gaps, and what to learn.
    GrowthPlan(growth::GrowthPlanArgs),
    /// Readiness for the next level, for everyone or a manager's reports, most ready first.
    Readiness(growth::ReadinessArgs),
    /// Show or change the organisation's readiness rule.
    ReadinessRule(growth::ReadinessRuleArgs),
    /// The organisation's audit log: every change, who made it and when, newest first.
    Audit {
        #[arg(long)]
        org: String,
        /// Only this action, such as `person.update` or `promotion.approve`.
        #[arg(long)]
        action: Option<String>,
        /// How many entries (followed page by page up to this).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Promotion cases: list, approve, reject.
    #[command(subcommand)]
    Promotions(growth::PromotionsCommand),
    /// Run the GraphQL API server (until Ctrl-C or SIGTERM).
    Serve(ServeArgs),
    /// Check a running server: GET a probe (default `/readyz`) and exit 0 on HTTP 200. For
    /// container health checks, where the image has no curl.
    Probe {
        /// The server's address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        #[arg(long, default_value = "/readyz")]
        path: String,
    },
    /// Sign-in credentials.
    #[command(subcommand)]
    User(UserCommand),
    /// Access tokens for automation.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Single sign-on: an organisation's OpenID Connect identity provider.
    #[command(subcommand)]
    Sso(sso::SsoCommand),
    /// SCIM provisioning: the organisation's tokens for `/scim/v2`.
    #[command(subcommand)]
    Scim(sso::ScimCommand),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080, or `addr` in the config file, or
    /// RUNGS_ADDR]. Port 0 picks a free port (printed).
    #[arg(long)]
    addr: Option<std::net::SocketAddr>,
    /// Try it out: migrate, seed the `demo` organisation if missing, print its logins, and
    /// enable GraphiQL. Without RUNGS_JWT_SECRET, tokens are signed with a per-run secret.
    #[arg(long)]
    demo: bool,
    /// Apply pending migrations before serving (otherwise the server refuses to start).
    #[arg(long)]
    migrate: bool,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Set a person's password, read from a prompt (or from standard input when piped), never
    /// from an argument. Signs them out everywhere.
    SetPassword {
        email: String,
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print an access token for a person (for scripts and integrations). Needs the server's
    /// signing secret (RUNGS_JWT_SECRET).
    Issue {
        email: String,
        #[arg(long)]
        org: String,
        /// Lifetime, such as `15m`, `12h` or `30d` (at most `issued_token_max_days`, 90 by
        /// default).
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        ttl: std::time::Duration,
    },
    /// List the organisation's issued tokens that are still live (newest first).
    List {
        #[arg(long)]
        org: String,
        /// Also those that expired or were revoked.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Revoke an issued token by its id (as `token issue` and `token list` print it): requests
    /// carrying it are refused from the next one on.
    Revoke {
        id: uuid::Uuid,
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Apply pending schema migrations (safe to run again).
    Migrate,
    /// Show migrations not yet applied.
    Status,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organisation.
    Create {
        /// URL-safe handle: lowercase letters, digits and `-`, such as `acme`.
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// List organisations.
    List {
        #[command(flatten)]
        out: OutArgs,
    },
    /// Write everything an organisation holds as JSON: people, credentials (password hashes:
    /// keep the file as safe as the database), matrices with every version, level history,
    /// assessments, promotion cases and their events, the readiness rule.
    Export {
        slug: String,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<String>,
    },
    /// Restore an exported organisation into this database (any backend), with the same ids,
    /// in one transaction. The whole file is checked first.
    Import {
        /// The export (`-` reads standard input).
        file: String,
    },
}

#[derive(Subcommand)]
enum PeopleCommand {
    /// Import people from a CSV file with columns email, name, manager_email, track, level,
    /// admin (only email and name are required; any order). Every row is checked before
    /// anything is written; people already known (by email) are updated.
    Import {
        file: String,
        #[arg(long)]
        org: String,
        /// The matrix whose tracks and levels the file names (default: the only one).
        #[arg(long)]
        matrix: Option<String>,
    },
    /// List people with their manager and current level.
    List {
        #[arg(long)]
        org: String,
        #[command(flatten)]
        out: OutArgs,
    },
}

#[derive(Args)]
struct AssignArgs {
    /// The person's email.
    email: String,
    #[arg(long)]
    org: String,
    #[arg(long)]
    track: String,
    #[arg(long)]
    level: String,
    /// The matrix (default: the organisation's only one).
    #[arg(long)]
    matrix: Option<String>,
    /// When the level takes effect (YYYY-MM-DD; default today).
    #[arg(long)]
    effective: Option<chrono::NaiveDate>,
    /// Why, for the history.
    #[arg(long, default_value = "assigned")]
    reason: String,
    #[command(flatten)]
    out: OutArgs,
}

#[derive(Args, Clone, Copy)]
pub(crate) struct OutArgs {
    /// How to print the result.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Out,
}

/// A failure: a message for the user and the exit status.
pub(crate) struct Failure(pub(crate) String);

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Internal(source) => {
                tracing::error!(error = %source, cause = ?source.source(), "internal error");
                Self(format!("internal error: {}", source_text(source.as_ref())))
            }
            other => Self(other.to_string()),
        }
    }
}

fn read_input(file: &str) -> Result<String, Failure> {
    if file == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| Failure(format!("cannot read standard input: {e}")))?;
        return Ok(s);
    }
    std::fs::read_to_string(file).map_err(|e| Failure(format!("cannot read {file}: {e}")))
}

async fn connect(url: &str) -> Result<Db, Failure> {
    connect_with(url, rungs_db::PoolOptions::default()).await
}

async fn connect_with(url: &str, pool: rungs_db::PoolOptions) -> Result<Db, Failure> {
    Db::connect_with(url, pool).await.map_err(|e| {
        Failure(format!(
            "cannot open the database at {}: {}",
            redact_url(url),
            source_text(&e)
        ))
    })
}

pub(crate) async fn open(url: &str, migrate: bool) -> Result<App, Failure> {
    open_with(url, migrate, rungs_db::PoolOptions::default()).await
}

pub(crate) async fn open_with(
    url: &str,
    migrate: bool,
    pool: rungs_db::PoolOptions,
) -> Result<App, Failure> {
    let db = connect_with(url, pool).await?;
    if migrate {
        db.migrate()
            .await
            .map_err(|e| Failure(format!("migration failed: {}", source_text(&e))))?;
    } else {
        let pending = db
            .pending_migrations()
            .await
            .map_err(|e| Failure(source_text(&e)))?;
        if !pending.is_empty() {
            return Err(Failure(format!(
                "the database at {} has {} pending migration(s): run `rungs db migrate` first",
                redact_url(url),
                pending.len()
            )));
        }
    }
    Ok(App::new(db))
}

pub(crate) fn source_text(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(&format!(": {c}"));
        cur = c.source();
    }
    s
}

async fn run(cli: Cli, settings: config::Settings) -> Result<(), Failure> {
    let url = cli
        .database_url
        .clone()
        .unwrap_or_else(|| settings.database_url.clone());
    let url = url.as_str();
    let sys = Actor::system();
    match cli.command {
        Command::Serve(a) => {
            serve::serve(
                &settings,
                url,
                serve::ServeOptions {
                    addr: a.addr,
                    demo: a.demo,
                    migrate: a.migrate,
                },
            )
            .await?;
        }
        Command::User(UserCommand::SetPassword { email, org }) => {
            let app = open(url, false).await?;
            let password = read_password()?;
            let p = app.set_password(&sys, &org, &email, password).await?;
            println!(
                "password set for {} in `{org}`; their sessions are signed out",
                p.email
            );
        }
        Command::Token(TokenCommand::Issue { email, org, ttl }) => {
            let auth = serve::auth_from(&settings, false)?;
            let app = open(url, false).await?.with_auth(auth);
            let ttl = chrono::Duration::from_std(ttl)
                .map_err(|_| Failure("the lifetime is too long".into()))?;
            let (token, issued) = app.issue_token(&sys, &org, &email, ttl).await?;
            eprintln!(
                "token {} expires {} (revoke it with `rungs token revoke {} --org {org}`)",
                issued.id,
                issued.expires_at.to_rfc3339(),
                issued.id
            );
            println!("{token}");
        }
        Command::Token(TokenCommand::List { org, all, out }) => {
            let app = open(url, false).await?;
            let list = app.issued_tokens(&sys, &org, all).await?;
            output::issued_tokens(out.format, &list);
        }
        Command::Token(TokenCommand::Revoke { id, org }) => {
            let app = open(url, false).await?;
            app.revoke_issued_token(&sys, &org, rungs_domain::IssuedTokenId(id))
                .await?;
            println!("token {id} revoked in `{org}`");
        }
        Command::Sso(cmd) => sso::run(open(url, false).await?, &sys, cmd).await?,
        Command::Scim(cmd) => sso::scim(open(url, false).await?, &sys, cmd).await?,
        Command::Db(DbCommand::Migrate) => {
            let db = connect(url).await?;
            let n = db
                .migrate()
                .await
                .map_err(|e| Failure(format!("migration failed: {}", source_text(&e))))?;
            println!(
                "{n} migration(s) applied; the database at {} is up to date",
                redact_url(url)
            );
        }
        Command::Db(DbCommand::Status) => {
            let db = connect(url).await?;
            let pending = db
                .pending_migrations()
                .await
                .map_err(|e| Failure(source_text(&e)))?;
            if pending.is_empty() {
                println!("up to date");
            } else {
                for p in pending {
                    println!("pending: {p}");
                }
            }
        }
        Command::Org(OrgCommand::Create { slug, name }) => {
            let app = open(url, false).await?;
            let org = app.create_org(&sys, &slug, &name).await?;
            println!("created organisation `{}` ({})", org.slug, org.name);
        }
        Command::Org(OrgCommand::Export { slug, output }) => {
            let app = open(url, false).await?;
            let json = app.export_org(&sys, &slug).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, json)
                        .map_err(|e| Failure(format!("cannot write {path}: {e}")))?;
                    eprintln!("wrote {path}");
                }
                None => println!("{json}"),
            }
        }
        Command::Org(OrgCommand::Import { file }) => {
            let app = open(url, false).await?;
            let text = read_input(&file)?;
            let (org, s) = app.import_org(&sys, &text, &file).await?;
            println!(
                "imported organisation `{}` ({}) into {}: {} people, {} matrix version(s), {} level assignment(s), {} assessment(s), {} promotion case(s)",
                org.slug,
                org.name,
                redact_url(url),
                s.people,
                s.matrix_versions,
                s.assignments,
                s.assessments,
                s.cases
            );
        }
        Command::Org(OrgCommand::List { out }) => {
            let app = open(url, false).await?;
            let orgs = app.list_orgs(&sys).await?;
            output::orgs(out.format, &orgs);
        }
        Command::People(PeopleCommand::Import { file, org, matrix }) => {
            let app = open(url, false).await?;
            let text = read_input(&file)?;
            let s = app
                .import_people(&sys, &org, &text, &file, matrix.as_deref())
                .await?;
            println!(
                "imported {file} into `{org}`: {} added, {} updated, {} unchanged, {} level(s) assigned",
                s.added, s.updated, s.unchanged, s.levels_assigned
            );
        }
        Command::People(PeopleCommand::List { org, out }) => {
            let app = open(url, false).await?;
            let people = app.list_people(&sys, &org).await?;
            output::people(out.format, &people);
        }
        Command::Matrix(cmd) => matrices::run(url, cmd).await?,
        Command::Assign(a) => {
            let app = open(url, false).await?;
            let done = app
                .assign_level(
                    &sys,
                    &a.org,
                    &a.email,
                    rungs_app::Placement {
                        matrix: a.matrix.as_deref(),
                        track: &a.track,
                        level: &a.level,
                        effective: a.effective,
                        reason: &a.reason,
                    },
                )
                .await?;
            match a.out.format {
                Out::Json => output::json(&done),
                Out::Table => println!(
                    "{} is now {} / {} from {}",
                    a.email, done.track, done.level, done.effective
                ),
            }
        }
        Command::History { email, org, out } => {
            let app = open(url, false).await?;
            output::history(out.format, &app.level_history(&sys, &org, &email).await?);
        }
        Command::Probe { addr, path } => probe(&addr, &path).await?,
        Command::Audit {
            org,
            action,
            limit,
            out,
        } => {
            let app = open(url, false).await?;
            let entries = all_pages(limit, async |first, after| {
                app.audit_log(&sys, &org, action.as_deref(), Some(first), after)
                    .await
            })
            .await?;
            output::audit(out.format, &entries);
        }
        Command::GrowthPlan(a) => growth::growth_plan(url, a).await?,
        Command::Readiness(a) => growth::readiness(url, a).await?,
        Command::ReadinessRule(a) => growth::readiness_rule(url, a).await?,
        Command::Promotions(cmd) => growth::promotions(url, cmd).await?,
        Command::Demo { seed: Some(cmd) } => growth::seed(url, cmd).await?,
        Command::Demo { seed: None } => {
            let app = open(url, true).await?;
            let summary = app.seed_demo(&sys, 30).await?;
            let (info, m) = app.show_matrix(&sys, DEMO_ORG, "python").await?;
            print_matrix_grid(&info, &m);
            println!(
                "\nThe `{DEMO_ORG}` organisation in {} holds this matrix, {} people, {} assessments and {} open promotion case(s).",
                redact_url(url),
                summary.people,
                summary.assessments,
                summary.open_cases
            );
            println!(
                "Next: `rungs people list --org {DEMO_ORG}`, or `rungs serve --demo` and sign in (password `{DEMO_PASSWORD}`) as:"
            );
            for (role, email) in &summary.logins {
                println!("  {role:<9} {email}");
            }
        }
    }
    Ok(())
}

/// Up to `limit` items of a paginated use case, following its pages (100 at a time).
pub(crate) async fn all_pages<T>(
    limit: usize,
    fetch: impl AsyncFn(usize, Option<&str>) -> Result<rungs_app::Page<T>, AppError>,
) -> Result<Vec<T>, Failure> {
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    while items.len() < limit {
        let page = fetch((limit - items.len()).min(100), after.as_deref()).await?;
        after = page.end_cursor;
        items.extend(page.items);
        if !page.has_next {
            break;
        }
    }
    Ok(items)
}

/// GET `path` from `addr` over plain HTTP/1.0 and succeed on status 200 (within 5 s).
async fn probe(addr: &str, path: &str) -> Result<(), Failure> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fail = |e: std::io::Error| Failure(format!("{addr}{path}: {e}"));
    let check = async {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.map_err(fail)?;
        tcp.write_all(format!("GET {path} HTTP/1.0\r\nhost: {addr}\r\n\r\n").as_bytes())
            .await
            .map_err(fail)?;
        let mut head = vec![0u8; 64];
        let n = tcp.read(&mut head).await.map_err(fail)?;
        let status_line = String::from_utf8_lossy(&head[..n]);
        let status = status_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("none")
            .to_owned();
        if status == "200" {
            println!("{addr}{path}: ok");
            Ok(())
        } else {
            Err(Failure(format!("{addr}{path}: HTTP status {status}")))
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), check)
        .await
        .map_err(|_| Failure(format!("{addr}{path}: no answer within 5 s")))?
}

/// A new password from the terminal (asked twice) or, when piped, the first line of stdin.
fn read_password() -> Result<secrecy::SecretString, Failure> {
    use std::io::{BufRead, IsTerminal};
    let fail = |e: std::io::Error| Failure(format!("cannot read the password: {e}"));
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ").map_err(fail)?;
        let again = rpassword::prompt_password("Again: ").map_err(fail)?;
        if first != again {
            return Err(Failure(
                "the two passwords differ; nothing was changed".into(),
            ));
        }
        Ok(first.into())
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(fail)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned().into())
    }
}

/// `rungs … | head` closes the pipe early: stop quietly, as other command-line tools do,
/// instead of reporting a panic from `println!`.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    let settings = match config::Settings::load(&cli.config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUNGS_LOG").unwrap_or_else(|_| {
        // The server reports its requests; the admin commands stay quiet.
        let default = if matches!(cli.command, Command::Serve(_)) {
            "info"
        } else {
            "warn"
        };
        tracing_subscriber::EnvFilter::new(default)
    });
    let _telemetry = telemetry::init(
        filter,
        cli.log_format.unwrap_or(settings.log_format),
        &settings,
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            eprintln!("error: {}", msg.trim_end());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    /// clap checks every command's arguments (unique names, valid defaults) when asked.
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }

    /// An identity provider's generated client id may begin with `-` (a random URL-safe id
    /// does one time in 64); it is a value, not an option.
    #[test]
    fn a_client_id_may_begin_with_a_hyphen() {
        use clap::Parser;
        let cli = super::Cli::try_parse_from([
            "rungs",
            "sso",
            "set",
            "--org",
            "demo",
            "--issuer",
            "http://127.0.0.1:1",
            "--client-id",
            "-04zGMvCWC0S0AAv",
            "--name",
            "Test IdP",
        ]);
        assert!(cli.is_ok(), "{:?}", cli.err().map(|e| e.to_string()));
    }
}
