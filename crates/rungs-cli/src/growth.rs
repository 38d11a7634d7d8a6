//! Growth commands: `growth-plan`, `readiness`, `readiness-rule`, `promotions` and
//! `demo seed`. They call the same use cases as the API; decisions on cases are taken as a
//! named HR admin (`--as EMAIL`), so the rules about who decides still apply.

use crate::output::{self, Out, table};
use crate::{Failure, OutArgs, open};
use clap::{Args, Subcommand, ValueEnum};
use rungs_app::demo::{DEMO_PASSWORD, SeedOptions};
use rungs_app::{Actor, App, CaseView, PlanView, ReadinessView, Verdict};
use rungs_domain::assessment::Rating;
use rungs_domain::growth::ReadinessRule;
use rungs_domain::promotion::PromotionStatus;

#[derive(Args)]
pub struct GrowthPlanArgs {
    /// The person's email.
    email: String,
    #[arg(long)]
    org: String,
    /// A target track (with --level); default: the next level of the person's track.
    #[arg(long, requires = "level")]
    track: Option<String>,
    #[arg(long, requires = "track")]
    level: Option<String>,
    #[command(flatten)]
    out: OutArgs,
}

#[derive(Args)]
pub struct ReadinessArgs {
    #[arg(long)]
    org: String,
    /// Only this manager's direct and indirect reports.
    #[arg(long)]
    manager: Option<String>,
    #[command(flatten)]
    out: OutArgs,
}

#[derive(Args)]
pub struct ReadinessRuleArgs {
    #[arg(long)]
    org: String,
    /// The lowest manager rating that counts as met.
    #[arg(long, value_enum)]
    min_rating: Option<RatingArg>,
    /// Whole months in the current level before a promotion is due.
    #[arg(long)]
    min_months: Option<u32>,
    /// The fraction (0 to 1) of the next level's new expectations that must be met.
    #[arg(long)]
    min_score: Option<f64>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RatingArg {
    Developing,
    Meets,
    Exceeds,
}

#[derive(Subcommand)]
pub enum PromotionsCommand {
    /// List promotion cases, newest first.
    List {
        #[arg(long)]
        org: String,
        /// Only cases in this state.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Approve a case as an HR admin: the new level is appended in the same transaction.
    Approve {
        /// The case id (see `promotions list`).
        id: String,
        #[arg(long)]
        org: String,
        /// The HR admin deciding (never the person promoted, nor the proposer).
        #[arg(long = "as", value_name = "EMAIL")]
        as_email: String,
        #[arg(long, default_value = "")]
        note: String,
        /// When the new level takes effect (YYYY-MM-DD; default today).
        #[arg(long)]
        effective: Option<chrono::NaiveDate>,
    },
    /// Reject a case as an HR admin, saying why.
    Reject {
        id: String,
        #[arg(long)]
        org: String,
        #[arg(long = "as", value_name = "EMAIL")]
        as_email: String,
        #[arg(long)]
        note: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Proposed,
    Approved,
    Rejected,
    Withdrawn,
}

#[derive(Subcommand)]
pub enum DemoCommand {
    /// Generate a realistic organisation of N people for load tests and demos: a management
    /// tree, tracks and levels spread, assessments and open promotion cases. Everyone's
    /// password is the demo password.
    Seed {
        #[arg(long)]
        org: String,
        #[arg(long, default_value_t = 1000)]
        people: usize,
        /// Display name [default: the slug].
        #[arg(long)]
        name: Option<String>,
    },
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

pub async fn growth_plan(url: &str, a: GrowthPlanArgs) -> Result<(), Failure> {
    let app = open(url, false).await?;
    let sys = Actor::system();
    let p = app.person_by_email(&sys, &a.org, &a.email).await?;
    let target = a.track.as_deref().zip(a.level.as_deref());
    let view = app.growth_plan(&sys, &a.org, p.id, target).await?;
    match a.out.format {
        Out::Json => output::json(&view),
        Out::Table => print_plan(&view),
    }
    Ok(())
}

fn print_plan(v: &PlanView) {
    let p = &v.plan;
    let standing = |s: &rungs_domain::growth::Standing| {
        let title = s
            .titles
            .first()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        format!("{} / {}{title}", s.track_name, s.level.name)
    };
    println!(
        "{} <{}>: {} -> {}",
        v.person.display_name,
        v.person.email,
        p.current.as_ref().map_or("no level yet".into(), standing),
        standing(&p.target)
    );
    println!(
        "matrix `{}` version {}: {} of {} expectations met ({}){}",
        v.version.matrix_key,
        v.version.number.map_or("draft".into(), |n| n.to_string()),
        p.met(),
        p.total(),
        pct(p.progress()),
        if p.top_of_track {
            "; already at the top of this track"
        } else {
            ""
        }
    );
    let mut t = table(&["level", "expectation", "status", "manager", "self"]);
    for i in &p.items {
        let rating = |a: &Option<rungs_domain::assessment::Assessment>| {
            a.as_ref()
                .map(|a| format!("{} ({})", a.rating.as_str(), a.at.date_naive()))
                .unwrap_or_default()
        };
        t.add_row(vec![
            i.level.name.clone(),
            i.expectation.name.clone(),
            if i.held {
                "met (held)".into()
            } else {
                i.status.as_str().replace('_', " ")
            },
            rating(&i.manager),
            rating(&i.myself),
        ]);
    }
    println!("{t}");
    let gaps: Vec<_> = p.gaps().collect();
    if gaps.is_empty() {
        println!("No gaps.");
        return;
    }
    println!("Gaps, in order, with what to learn:");
    for g in gaps {
        println!("- {} [{}]", g.expectation.name, g.expectation.key);
        for r in &g.expectation.resources {
            println!("    {}", resource_line(r));
        }
    }
    for (level, r) in &p.level_resources {
        println!("  ({level}) {}", resource_line(r));
    }
}

/// `kind: title <url>`.
fn resource_line(r: &rungs_domain::matrix::Resource) -> String {
    let url = r
        .url
        .as_deref()
        .map(|u| format!(" <{u}>"))
        .unwrap_or_default();
    format!("{}: {}{url}", r.kind.as_str(), r.title)
}

pub async fn readiness(url: &str, a: ReadinessArgs) -> Result<(), Failure> {
    let app = open(url, false).await?;
    let sys = Actor::system();
    let manager = match &a.manager {
        Some(m) => Some(app.person_by_email(&sys, &a.org, m).await?.id),
        None => None,
    };
    // Chunk by chunk, so a report of any size holds one chunk in memory.
    let (mut people, mut ready) = (0usize, 0usize);
    let json = matches!(a.out.format, Out::Json);
    let mut out = std::io::stdout().lock();
    let mut write = |s: &str| {
        use std::io::Write;
        out.write_all(s.as_bytes())
            .map_err(|e| rungs_app::AppError::Invalid(format!("cannot write the report: {e}")))
    };
    if json {
        write("[")?;
    }
    app.readiness_report(&sys, &a.org, manager, |chunk| {
        for v in &chunk {
            if json {
                let item = serde_json::to_string_pretty(v)
                    .map_err(|e| rungs_app::AppError::Invalid(format!("cannot print JSON: {e}")))?;
                write(&format!("{}{item}", if people == 0 { "\n" } else { ",\n" }))?;
            }
            people += 1;
            ready += usize::from(v.readiness.ready);
        }
        if !json && !chunk.is_empty() {
            write(&format!("{}\n", readiness_table(&chunk)))?;
        }
        Ok(())
    })
    .await?;
    if json {
        write("\n]\n")?;
    } else {
        write(&format!(
            "{people} people, {ready} ready for their next level\n"
        ))?;
    }
    Ok(())
}

fn readiness_table(all: &[ReadinessView]) -> comfy_table::Table {
    let mut t = table(&[
        "email", "name", "track", "level", "next", "score", "ready", "months", "case", "missing",
    ]);
    for v in all {
        let r = &v.readiness;
        let (track, level) = v
            .current
            .as_ref()
            .map(|c| (c.track.to_string(), c.level.to_string()))
            .unwrap_or_default();
        t.add_row(vec![
            v.person.email.to_string(),
            v.person.display_name.clone(),
            track,
            level,
            r.target
                .as_ref()
                .map(|s| s.level.key.to_string())
                .unwrap_or_default(),
            pct(r.score),
            if r.ready { "yes".into() } else { String::new() },
            r.months_in_level.map(|m| m.to_string()).unwrap_or_default(),
            r.open_case
                .as_ref()
                .map(|c| format!("-> {}", c.to.level))
                .unwrap_or_default(),
            r.missing
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    t
}

pub async fn readiness_rule(url: &str, a: ReadinessRuleArgs) -> Result<(), Failure> {
    let app = open(url, false).await?;
    let sys = Actor::system();
    let mut rule = app.readiness_rule(&sys, &a.org).await?;
    if a.min_rating.is_some() || a.min_months.is_some() || a.min_score.is_some() {
        if let Some(r) = a.min_rating {
            rule.min_rating = match r {
                RatingArg::Developing => Rating::Developing,
                RatingArg::Meets => Rating::Meets,
                RatingArg::Exceeds => Rating::Exceeds,
            };
        }
        rule.min_months_in_level = a.min_months.unwrap_or(rule.min_months_in_level);
        rule.min_score = a.min_score.unwrap_or(rule.min_score);
        rule = app.set_readiness_rule(&sys, &a.org, rule).await?;
        println!("readiness rule of `{}` updated", a.org);
    }
    print_rule(&rule);
    Ok(())
}

fn print_rule(r: &ReadinessRule) {
    println!(
        "ready when at least {} of the next level's new expectations are rated {} or better by a manager, after {} month(s) in the current level",
        pct(r.min_score),
        r.min_rating.as_str(),
        r.min_months_in_level
    );
}

pub async fn promotions(url: &str, cmd: PromotionsCommand) -> Result<(), Failure> {
    let app = open(url, false).await?;
    let sys = Actor::system();
    match cmd {
        PromotionsCommand::List { org, status, out } => {
            let status = status.map(|s| match s {
                StatusArg::Proposed => PromotionStatus::Proposed,
                StatusArg::Approved => PromotionStatus::Approved,
                StatusArg::Rejected => PromotionStatus::Rejected,
                StatusArg::Withdrawn => PromotionStatus::Withdrawn,
            });
            let all = crate::all_pages(usize::MAX, async |first, after| {
                app.promotion_cases(&sys, &org, status, false, Some(first), after)
                    .await
            })
            .await?;
            match out.format {
                Out::Json => output::json(&all),
                Out::Table => print_cases(&all),
            }
        }
        PromotionsCommand::Approve {
            id,
            org,
            as_email,
            note,
            effective,
        } => {
            let actor = act_as(&app, &org, &as_email).await?;
            let verdict = Verdict::Approve {
                note: &note,
                effective,
            };
            let v = decide(&app, &actor, &org, &id, verdict).await?;
            println!(
                "approved: {} is {} / {} from {}",
                v.person
                    .as_ref()
                    .map_or(String::new(), |p| p.email.to_string()),
                v.case.to.track,
                v.case.to.level,
                v.case.effective.map(|d| d.to_string()).unwrap_or_default()
            );
        }
        PromotionsCommand::Reject {
            id,
            org,
            as_email,
            note,
        } => {
            let actor = act_as(&app, &org, &as_email).await?;
            let v = decide(&app, &actor, &org, &id, Verdict::Reject { note: &note }).await?;
            println!(
                "rejected the promotion of {}",
                v.person
                    .as_ref()
                    .map_or(String::new(), |p| p.email.to_string())
            );
        }
    }
    Ok(())
}

/// The operator acts as a named person of the organisation.
async fn act_as(app: &App, org: &str, email: &str) -> Result<Actor, Failure> {
    let p = app.person_by_email(&Actor::system(), org, email).await?;
    Ok(Actor::Person {
        id: p.id,
        org: p.org_id,
        is_admin: p.is_admin,
    })
}

async fn decide(
    app: &App,
    actor: &Actor,
    org: &str,
    id: &str,
    verdict: Verdict<'_>,
) -> Result<CaseView, Failure> {
    let id = id.parse().map_err(|_| {
        Failure(format!(
            "`{id}` is not a case id (see `rungs promotions list`)"
        ))
    })?;
    Ok(app.decide_promotion(actor, org, id, verdict).await?)
}

fn print_cases(all: &[CaseView]) {
    let mut t = table(&["id", "person", "from", "to", "status", "proposed", "by"]);
    let email = |p: &Option<rungs_domain::person::Person>| {
        p.as_ref().map(|p| p.email.to_string()).unwrap_or_default()
    };
    for v in all {
        let c = &v.case;
        t.add_row(vec![
            c.id.to_string(),
            email(&v.person),
            format!("{} / {}", c.from.track, c.from.level),
            format!("{} / {}", c.to.track, c.to.level),
            c.status.to_string(),
            c.proposed_at.date_naive().to_string(),
            email(&v.proposer),
        ]);
    }
    println!("{t}");
    println!("{} case(s)", all.len());
}

pub async fn seed(url: &str, cmd: DemoCommand) -> Result<(), Failure> {
    let DemoCommand::Seed { org, people, name } = cmd;
    let app = open(url, true).await?;
    let bar = indicatif::ProgressBar::new(people as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} ({elapsed})")
            .map_err(|e| Failure(e.to_string()))?
            .progress_chars("=> "),
    );
    let progress = |stage: &str, done: u64, total: u64| {
        bar.set_message(stage.to_owned());
        bar.set_length(total.max(1));
        bar.set_position(done);
    };
    let started = std::time::Instant::now();
    let opts = SeedOptions {
        slug: &org,
        name: name.as_deref().unwrap_or(&org),
        people,
        password: DEMO_PASSWORD,
    };
    let summary = app.seed_org(&Actor::system(), &opts, &progress).await;
    bar.finish_and_clear();
    let summary = summary?;
    println!(
        "seeded `{}` in {:.1}s: {} people, {} assessments, {} open promotion case(s)",
        summary.org.slug,
        started.elapsed().as_secs_f64(),
        summary.people,
        summary.assessments,
        summary.open_cases
    );
    println!("Sign in (password `{DEMO_PASSWORD}`) as:");
    for (role, email) in &summary.logins {
        println!("  {role:<9} {email}");
    }
    Ok(())
}
