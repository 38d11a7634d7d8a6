//! `rungs matrix …`: import (YAML, JSON, CSV, templates), list, show, export any version,
//! versions, diff, publish, discard the draft, and move people to a newer version.

use crate::output::{self, Out, print_matrix_grid};
use crate::{Failure, OutArgs, open, read_input};
use clap::{Subcommand, ValueEnum};
use rungs_app::{Actor, ImportOutcome, MatrixSource, MoveReport, VersionRef};
use rungs_format::MatrixFormat;
use rungs_format::mapping::parse_mapping;

#[derive(Subcommand)]
pub(crate) enum MatrixCommand {
    /// Import a matrix from a YAML, JSON or CSV file, or a built-in template. A new matrix
    /// becomes version 1 (or a draft with --draft); a changed file updates the matrix's draft and
    /// shows what changed; the same file again changes nothing.
    Import {
        /// A .yaml, .yml, .json or .csv file (`-` reads standard input; then give --input-format).
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
        /// CSV only: the matrix's key, for a file without a `matrix` column.
        #[arg(long)]
        key: Option<String>,
        /// CSV only: the name of a new matrix (default: its key).
        #[arg(long)]
        name: Option<String>,
        /// Keep a new matrix as an unpublished draft.
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
    #[command(disable_version_flag = true)]
    Show {
        key: String,
        #[arg(long)]
        org: String,
        /// A version number, `draft` or `latest`.
        #[arg(long, default_value = "latest")]
        version: String,
        /// Track by track: each rung's summary and each criterion's full text, competency and
        /// examples (instead of the tracks-by-levels grid).
        #[arg(long)]
        details: bool,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Write a matrix version as a file: yaml, json and csv import back; markdown and html are
    /// for reading and printing.
    #[command(disable_version_flag = true)]
    Export {
        key: String,
        #[arg(long)]
        org: String,
        #[arg(long, value_enum, default_value = "yaml")]
        format: ExportArg,
        /// A version number, `draft` or `latest`.
        #[arg(long, default_value = "latest")]
        version: String,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<String>,
    },
    /// List a matrix's versions: who published what, when, and why.
    Versions {
        key: String,
        #[arg(long)]
        org: String,
        #[command(flatten)]
        out: OutArgs,
    },
    /// What changed between two versions (or a version and the draft).
    Diff {
        key: String,
        #[arg(long)]
        org: String,
        /// A version number, `draft` or `latest`.
        #[arg(long)]
        from: String,
        /// A version number, `draft` or `latest`.
        #[arg(long, default_value = "draft")]
        to: String,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Publish the draft as the next version; a published version never changes.
    Publish {
        key: String,
        #[arg(long)]
        org: String,
        /// What changed and why, for the version list.
        #[arg(long)]
        note: String,
    },
    /// Throw the draft away.
    Discard {
        key: String,
        #[arg(long)]
        org: String,
    },
    /// Move everyone on an older version of the matrix to version --to: levels follow their
    /// keys, assessments carry over for unchanged keys, and the mapping file says where renamed,
    /// split or merged ones go.
    MovePeople {
        key: String,
        #[arg(long)]
        org: String,
        /// The version to move to.
        #[arg(long)]
        to: u32,
        /// A YAML or JSON file: `tracks:`, `levels:` and `expectations:` from old key to new.
        #[arg(long)]
        mapping: Option<String>,
        /// Report who would be affected, and write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        out: OutArgs,
    },
    /// List the built-in templates.
    Templates,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ExportArg {
    Yaml,
    Json,
    Csv,
    Markdown,
    Html,
}

impl From<ExportArg> for rungs_format::ExportFormat {
    fn from(f: ExportArg) -> Self {
        match f {
            ExportArg::Yaml => Self::Yaml,
            ExportArg::Json => Self::Json,
            ExportArg::Csv => Self::Csv,
            ExportArg::Markdown => Self::Markdown,
            ExportArg::Html => Self::Html,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FileFormat {
    Yaml,
    Json,
    Csv,
}

impl FileFormat {
    fn from_path(path: &str) -> Option<Self> {
        if path.to_lowercase().ends_with(".csv") {
            return Some(Self::Csv);
        }
        match MatrixFormat::from_path(path)? {
            MatrixFormat::Yaml => Some(Self::Yaml),
            MatrixFormat::Json => Some(Self::Json),
        }
    }
}

fn version(s: &str) -> Result<VersionRef, Failure> {
    Ok(VersionRef::parse(s)?)
}

pub(crate) async fn run(url: &str, cmd: MatrixCommand) -> Result<(), Failure> {
    let sys = Actor::system();
    match cmd {
        MatrixCommand::Import {
            file,
            template,
            org,
            input_format,
            key,
            name,
            draft,
        } => {
            let app = open(url, false).await?;
            let outcome = match (&file, &template) {
                (_, Some(t)) => {
                    app.import_matrix(&sys, &org, MatrixSource::Template(t), draft)
                        .await?
                }
                (Some(f), None) => {
                    let format = input_format
                        .or_else(|| FileFormat::from_path(f))
                        .ok_or_else(|| Failure(format!("cannot tell the format of {f}: name it .yaml/.yml/.json/.csv or pass --input-format")))?;
                    let text = read_input(f)?;
                    let source = match format {
                        FileFormat::Csv => MatrixSource::Csv {
                            text: &text,
                            name: f,
                            key: key.as_deref(),
                            matrix_name: name.as_deref(),
                        },
                        FileFormat::Yaml => MatrixSource::File {
                            text: &text,
                            format: MatrixFormat::Yaml,
                            name: f,
                        },
                        FileFormat::Json => MatrixSource::File {
                            text: &text,
                            format: MatrixFormat::Json,
                            name: f,
                        },
                    };
                    app.import_matrix(&sys, &org, source, draft).await?
                }
                (None, None) => return Err(Failure("give a file or --template".into())),
            };
            print_import(&org, &outcome);
        }
        MatrixCommand::List { org, out } => {
            let app = open(url, false).await?;
            output::matrices(out.format, &app.list_matrices(&sys, &org).await?);
        }
        MatrixCommand::Show {
            key,
            org,
            version: v,
            details,
            out,
        } => {
            let app = open(url, false).await?;
            let (info, m) = app.matrix_version(&sys, &org, &key, version(&v)?).await?;
            match out.format {
                Out::Json => output::json(&serde_json::json!({ "version": info, "matrix": m })),
                Out::Table if details => output::print_matrix_details(&info, &m),
                Out::Table => print_matrix_grid(&info, &m),
            }
        }
        MatrixCommand::Export {
            key,
            org,
            format,
            version: v,
            output,
        } => {
            let app = open(url, false).await?;
            let text = app
                .export_matrix(&sys, &org, &key, format.into(), version(&v)?)
                .await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, text)
                        .map_err(|e| Failure(format!("cannot write {path}: {e}")))?;
                    eprintln!("wrote {path}");
                }
                None => print!("{text}"),
            }
        }
        MatrixCommand::Versions { key, org, out } => {
            let app = open(url, false).await?;
            output::versions(out.format, &app.matrix_versions(&sys, &org, &key).await?);
        }
        MatrixCommand::Diff {
            key,
            org,
            from,
            to,
            out,
        } => {
            let app = open(url, false).await?;
            let d = app
                .diff_versions(&sys, &org, &key, version(&from)?, version(&to)?)
                .await?;
            match out.format {
                Out::Json => output::json(&d),
                Out::Table => {
                    println!("matrix `{key}`: {} -> {}", d.from.label(), d.to.label());
                    print!("{}", d.diff.render_text());
                }
            }
        }
        MatrixCommand::Publish { key, org, note } => {
            let app = open(url, false).await?;
            let info = app.publish_matrix(&sys, &org, &key, &note, None).await?;
            println!(
                "published matrix `{key}` in `{org}` as version {}",
                info.number.unwrap_or_default()
            );
            println!(
                "people stay on their version until moved: rungs matrix move-people {key} --org {org} --to {} --dry-run",
                info.number.unwrap_or_default()
            );
        }
        MatrixCommand::Discard { key, org } => {
            let app = open(url, false).await?;
            app.discard_draft(&sys, &org, &key, None).await?;
            println!("discarded the draft of matrix `{key}` in `{org}`");
        }
        MatrixCommand::MovePeople {
            key,
            org,
            to,
            mapping,
            dry_run,
            out,
        } => {
            let app = open(url, false).await?;
            let mapping = match &mapping {
                Some(path) => {
                    let format = MatrixFormat::from_path(path).unwrap_or(MatrixFormat::Yaml);
                    Some(
                        parse_mapping(&read_input(path)?, format, path).map_err(|e| {
                            Failure(rungs_app::AppError::InvalidFile(e).to_string())
                        })?,
                    )
                }
                None => None,
            };
            let report = app
                .move_people(&sys, &org, &key, to, mapping.as_ref(), dry_run)
                .await?;
            match out.format {
                Out::Json => output::json(&report),
                Out::Table => print_move(&report),
            }
        }
        MatrixCommand::Templates => {
            for t in rungs_format::templates::TEMPLATES {
                println!("{:<10} {}", t.name, t.summary);
            }
        }
    }
    Ok(())
}

fn print_import(org: &str, outcome: &ImportOutcome) {
    match outcome {
        ImportOutcome::Created { version } => match version.number {
            Some(n) => println!(
                "imported matrix `{}` into `{org}` as version {n}",
                version.matrix_key
            ),
            None => println!(
                "imported matrix `{}` into `{org}` as a draft",
                version.matrix_key
            ),
        },
        ImportOutcome::Unchanged { version } => println!(
            "matrix `{}` is unchanged: the file matches its {}; nothing was written",
            version.matrix_key,
            match version.number {
                Some(n) => format!("version {n}"),
                None => "draft".into(),
            }
        ),
        ImportOutcome::DraftUpdated {
            draft,
            against,
            diff,
        } => {
            let key = &draft.matrix_key;
            println!(
                "updated the draft of matrix `{key}` in `{org}` (revision {})",
                draft.revision
            );
            if let Some(a) = against {
                println!("changes since version {}:", a.number.unwrap_or_default());
                print!("{}", diff.render_text());
            }
            println!("publish it with: rungs matrix publish {key} --org {org} --note \"...\"");
        }
    }
}

/// Criteria as people read them.
fn labels(list: &[rungs_domain::migrate::Named]) -> String {
    list.iter()
        .map(|n| n.label.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

fn print_move(r: &MoveReport) {
    let mut t = output::table(&[
        "person", "from", "to", "carried", "dropped", "new gaps", "gaps",
    ]);
    for m in &r.moves {
        t.add_row(vec![
            format!("{} <{}>", m.name, m.email),
            format!(
                "v{} {}/{}",
                m.from_version.unwrap_or_default(),
                m.change.from.track,
                m.change.from.level
            ),
            format!("{}/{}", m.change.to.track, m.change.to.level),
            m.change.carried.to_string(),
            labels(&m.change.dropped),
            labels(&m.change.new_gaps),
            format!("{} -> {}", m.change.gaps_before, m.change.gaps_after),
        ]);
    }
    if !r.moves.is_empty() {
        println!("{t}");
    }
    let n = r.target.number.unwrap_or_default();
    if !r.blocked_by_open_cases.is_empty() {
        println!(
            "blocked: {} have an open promotion case; decide or withdraw those cases before moving",
            r.blocked_by_open_cases.join(", ")
        );
    }
    let gaining = r
        .moves
        .iter()
        .filter(|m| !m.change.new_gaps.is_empty())
        .count();
    if r.dry_run {
        println!(
            "dry run: {} people would move to version {n} ({} assessments carried over; {gaining} gain new gaps); {} already there; nothing was written",
            r.moves.len(),
            r.assessments_carried,
            r.already_there
        );
    } else {
        println!(
            "moved {} people to version {n} ({} assessments carried over; {gaining} gain new gaps); {} already there",
            r.moves.len(),
            r.assessments_carried,
            r.already_there
        );
    }
}
