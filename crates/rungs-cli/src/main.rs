//! `rungs`: the admin command line. Every command calls the same rungs-app use cases as the
//! server, acting as the operator (`Actor::system()`).

mod output;

use clap::{Args, Parser, Subcommand, ValueEnum};
use output::{Out, print_matrix_grid};
use rungs_app::{Actor, App, AppError, MatrixSource};
use rungs_db::{Db, redact_url};
use rungs_format::MatrixFormat;
use std::process::ExitCode;

/// Rungs: job-leveling matrices, growth plans and promotions.
///
/// The database is chosen by URL: a SQLite file (the default, `rungs.db` in the working
/// directory), PostgreSQL (`postgres://...`) or MariaDB/MySQL (`mysql://...`).
#[derive(Parser)]
#[command(name = "rungs", version, propagate_version = true)]
struct Cli {
    /// Database URL.
    #[arg(
        long,
        global = true,
        env = "RUNGS_DATABASE_URL",
        default_value = "sqlite://rungs.db",
        hide_env_values = true
    )]
    database_url: String,
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
    Matrix(MatrixCommand),
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
    /// Try Rungs: migrate the database, create the `demo` organisation with the `python`
    /// template (if missing) and show the matrix.
    Demo,
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

#[derive(Subcommand)]
enum MatrixCommand {
    /// Import a matrix from a YAML or JSON file, or a built-in template; it becomes version 1.
    Import {
        /// A .yaml, .yml or .json file (`-` reads standard input; then give --input-format).
        #[arg(required_unless_present = "template", conflicts_with = "template")]
        file: Option<String>,
        /// A built-in template instead of a file (see `rungs matrix templates`).
        #[arg(long)]
        template: Option<String>,
        #[arg(long)]
        org: String,
        /// The file's format when its name does not say.
        #[arg(long, value_enum)]
        input_format: Option<FileFormat>,
        /// Keep it as an unpublished draft.
        #[arg(long)]
        draft: bool,
    },
    /// List an organisation's matrices.
    List {
        #[arg(long)]
        org: String,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Show a matrix as a grid: tracks by levels, with titles and expectations.
    Show {
        key: String,
        #[arg(long)]
        org: String,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Write a matrix as a file that `matrix import` reads back.
    Export {
        key: String,
        #[arg(long)]
        org: String,
        #[arg(long, value_enum, default_value = "yaml")]
        format: FileFormat,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<String>,
    },
    /// List the built-in templates.
    Templates,
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
struct OutArgs {
    /// How to print the result.
    #[arg(long, value_enum, default_value = "table")]
    format: Out,
}

#[derive(Clone, Copy, ValueEnum)]
enum FileFormat {
    Yaml,
    Json,
}

impl From<FileFormat> for MatrixFormat {
    fn from(f: FileFormat) -> Self {
        match f {
            FileFormat::Yaml => Self::Yaml,
            FileFormat::Json => Self::Json,
        }
    }
}

/// A failure: a message for the user and the exit status.
struct Failure(String);

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
    Db::connect(url).await.map_err(|e| {
        Failure(format!(
            "cannot open the database at {}: {}",
            redact_url(url),
            source_text(&e)
        ))
    })
}

async fn open(url: &str, migrate: bool) -> Result<App, Failure> {
    let db = connect(url).await?;
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

fn source_text(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(&format!(": {c}"));
        cur = c.source();
    }
    s
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let url = cli.database_url.as_str();
    let sys = Actor::system();
    match cli.command {
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
        Command::Matrix(MatrixCommand::Import {
            file,
            template,
            org,
            input_format,
            draft,
        }) => {
            let app = open(url, false).await?;
            let info = match (&file, &template) {
                (_, Some(t)) => {
                    app.import_matrix(&sys, &org, MatrixSource::Template(t), draft)
                        .await?
                }
                (Some(f), None) => {
                    let format = input_format
                        .map(MatrixFormat::from)
                        .or_else(|| MatrixFormat::from_path(f))
                        .ok_or_else(|| Failure(format!("cannot tell the format of {f}: name it .yaml/.yml/.json or pass --input-format")))?;
                    let text = read_input(f)?;
                    app.import_matrix(
                        &sys,
                        &org,
                        MatrixSource::File {
                            text: &text,
                            format,
                            name: f,
                        },
                        draft,
                    )
                    .await?
                }
                (None, None) => return Err(Failure("give a file or --template".into())),
            };
            match info.number {
                Some(n) => println!(
                    "imported matrix `{}` into `{org}` as version {n}",
                    info.matrix_key
                ),
                None => println!(
                    "imported matrix `{}` into `{org}` as a draft",
                    info.matrix_key
                ),
            }
        }
        Command::Matrix(MatrixCommand::List { org, out }) => {
            let app = open(url, false).await?;
            output::matrices(out.format, &app.list_matrices(&sys, &org).await?);
        }
        Command::Matrix(MatrixCommand::Show { key, org, out }) => {
            let app = open(url, false).await?;
            let (info, m) = app.show_matrix(&sys, &org, &key).await?;
            match out.format {
                Out::Json => output::json(&serde_json::json!({ "version": info, "matrix": m })),
                Out::Table => print_matrix_grid(&info, &m),
            }
        }
        Command::Matrix(MatrixCommand::Export {
            key,
            org,
            format,
            output,
        }) => {
            let app = open(url, false).await?;
            let text = app.export_matrix(&sys, &org, &key, format.into()).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, text)
                        .map_err(|e| Failure(format!("cannot write {path}: {e}")))?;
                    eprintln!("wrote {path}");
                }
                None => print!("{text}"),
            }
        }
        Command::Matrix(MatrixCommand::Templates) => {
            for t in rungs_format::templates::TEMPLATES {
                println!("{:<10} {}", t.name, t.summary);
            }
        }
        Command::Assign(a) => {
            let app = open(url, false).await?;
            let done = app
                .assign_level(
                    &sys,
                    &a.org,
                    &a.email,
                    a.matrix.as_deref(),
                    &a.track,
                    &a.level,
                    a.effective,
                    &a.reason,
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
        Command::Demo => {
            let app = open(url, true).await?;
            if app.organisation(&sys, "demo").await.is_err() {
                app.create_org(&sys, "demo", "Demo Organisation").await?;
            }
            if app.show_matrix(&sys, "demo", "python").await.is_err() {
                app.import_matrix(&sys, "demo", MatrixSource::Template("python"), false)
                    .await?;
            }
            let (info, m) = app.show_matrix(&sys, "demo", "python").await?;
            print_matrix_grid(&info, &m);
            println!(
                "\nThe `demo` organisation in {} holds this matrix. Next: `rungs people import FILE.csv --org demo`, `rungs matrix export python --org demo`.",
                redact_url(url)
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUNGS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
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
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            eprintln!("error: {}", msg.trim_end());
            ExitCode::FAILURE
        }
    }
}
