//! Printing results: readable tables for people, JSON for scripts.

use chrono::Utc;
use clap::ValueEnum;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL};
use rungs_app::PersonView;
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::matrix::{Level, Matrix, MatrixSummary, VersionInfo};
use rungs_domain::org::Organisation;
use serde::Serialize;

#[derive(Clone, Copy, ValueEnum)]
pub enum Out {
    Table,
    Json,
}

pub fn json<T: Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: cannot print JSON: {e}"),
    }
}

pub(crate) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        t.set_width(160);
    }
    t.set_header(header.to_vec());
    t
}

pub fn orgs(out: Out, orgs: &[Organisation]) {
    match out {
        Out::Json => json(orgs),
        Out::Table => {
            let mut t = table(&["slug", "name"]);
            for o in orgs {
                t.add_row(vec![o.slug.to_string(), o.name.clone()]);
            }
            println!("{t}");
        }
    }
}

pub fn people(out: Out, people: &[PersonView]) {
    match out {
        Out::Json => json(people),
        Out::Table => {
            let mut t = table(&["email", "name", "manager", "track", "level", "admin"]);
            for p in people {
                let (track, level) = p
                    .current
                    .as_ref()
                    .map(|c| (c.track.to_string(), c.level.to_string()))
                    .unwrap_or_default();
                t.add_row(vec![
                    p.person.email.to_string(),
                    p.person.display_name.clone(),
                    p.manager_email
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    track,
                    level,
                    if p.person.is_admin {
                        "yes".into()
                    } else {
                        String::new()
                    },
                ]);
            }
            println!("{t}");
            println!("{} people", people.len());
        }
    }
}

/// A matrix's versions: number, status, note, who and when.
pub fn versions(out: Out, list: &[rungs_app::VersionView]) {
    match out {
        Out::Json => json(list),
        Out::Table => {
            let mut t = table(&["version", "published", "by", "note", "created by"]);
            for v in list {
                let at = |d: Option<chrono::DateTime<chrono::Utc>>| {
                    d.map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default()
                };
                t.add_row(vec![
                    match v.info.number {
                        Some(n) => n.to_string(),
                        None => format!("draft (revision {})", v.info.revision),
                    },
                    at(v.info.published_at),
                    v.published_by_name.clone().unwrap_or_else(|| {
                        if v.info.published_at.is_some() {
                            "operator".into()
                        } else {
                            String::new()
                        }
                    }),
                    v.info.note.clone().unwrap_or_default(),
                    v.created_by_name
                        .clone()
                        .unwrap_or_else(|| "operator".into()),
                ]);
            }
            println!("{t}");
        }
    }
}

pub fn matrices(out: Out, list: &[MatrixSummary]) {
    match out {
        Out::Json => json(list),
        Out::Table => {
            let mut t = table(&[
                "key",
                "name",
                "version",
                "draft",
                "tracks",
                "levels",
                "expectations",
            ]);
            for m in list {
                t.add_row(vec![
                    m.key.to_string(),
                    m.name.clone(),
                    m.latest_version
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "-".into()),
                    if m.has_draft {
                        "yes".into()
                    } else {
                        String::new()
                    },
                    m.tracks.to_string(),
                    m.levels.to_string(),
                    m.expectations.to_string(),
                ]);
            }
            println!("{t}");
        }
    }
}

pub fn history(out: Out, list: &[LevelAssignment]) {
    match out {
        Out::Json => json(list),
        Out::Table => {
            let mut t = table(&["effective", "track", "level", "reason", "recorded"]);
            for a in list {
                t.add_row(vec![
                    a.effective.to_string(),
                    a.track.to_string(),
                    a.level.to_string(),
                    a.reason.clone(),
                    a.recorded_at
                        .with_timezone(&Utc)
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                ]);
            }
            println!("{t}");
        }
    }
}

fn matrix_heading(info: &VersionInfo, m: &Matrix) {
    let version = info
        .number
        .map(|n| format!("version {n}"))
        .unwrap_or_else(|| "draft".into());
    println!("{} ({}, {version})", m.name(), m.key());
}

/// The matrix track by track: the ladder, then each own rung with its titles, summary and
/// criteria (label, competency, full text, examples).
pub fn print_matrix_details(info: &VersionInfo, m: &Matrix) {
    matrix_heading(info, m);
    println!("Levels are {}.", m.level_style().as_str());
    let indent = |s: &str, by: &str| -> String {
        s.lines()
            .map(|l| format!("{by}{l}").trim_end().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    };
    for t in m.tracks() {
        println!();
        println!("{} ({})", t.name, t.key);
        let ladder: Vec<String> = m
            .ladder(t.key.as_str())
            .iter()
            .map(|l| format!("{} ({})", l.name, l.key))
            .collect();
        println!("  ladder: {}", ladder.join(" → "));
        if let Some(b) = &t.branches_from {
            println!("  branches from {} after {}", b.track, b.level);
        }
        for k in t.own_levels(m) {
            let Some(l) = m.level(k.as_str()) else {
                continue;
            };
            let cell = t.cells.iter().find(|c| c.level == l.key);
            let titles = cell
                .filter(|c| !c.titles.is_empty())
                .map(|c| format!(" [{}]", c.titles.join(", ")))
                .unwrap_or_default();
            println!("  {}{titles}", l.header());
            let Some(c) = cell else { continue };
            if let Some(sm) = &c.summary {
                println!("{}", indent(sm, "    "));
            }
            for e in &c.expectations {
                let comp = m
                    .competency_label(e)
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                println!("    • {} [{}]{comp}", e.label(), e.key);
                if e.label() != e.name {
                    println!("{}", indent(&e.name, "      "));
                }
                for x in &e.examples {
                    println!("      example: {}", indent(x, "        ").trim_start());
                }
            }
        }
    }
}

/// The matrix as the seed shows it: one row per track, one column per level; each cell lists
/// its titles, then its criteria as bullets.
pub fn print_matrix_grid(info: &VersionInfo, m: &Matrix) {
    matrix_heading(info, m);
    let mut header = vec!["Career Path".to_owned()];
    header.extend(m.levels().iter().map(Level::header));
    let mut t = table(&header.iter().map(String::as_str).collect::<Vec<_>>());
    for track in m.tracks() {
        let mut row = vec![track.name.clone()];
        for level in m.levels() {
            let text = match track.cells.iter().find(|c| c.level == level.key) {
                None => String::new(),
                Some(c) => {
                    let mut lines: Vec<String> =
                        c.titles.iter().map(|t| format!("[{t}]")).collect();
                    lines.extend(c.expectations.iter().map(|e| format!("• {}", e.label())));
                    lines.join("\n")
                }
            };
            row.push(text);
        }
        t.add_row(row);
    }
    println!("{t}");
}

pub fn audit(out: Out, entries: &[rungs_app::AuditView]) {
    match out {
        Out::Json => json(entries),
        Out::Table => {
            let mut t = table(&["at", "who", "action", "records", "detail"]);
            for e in entries {
                t.add_row(vec![
                    e.entry.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    e.actor
                        .as_ref()
                        .map_or_else(|| "operator".to_owned(), |p| p.email.to_string()),
                    e.entry.action.clone(),
                    e.entry.subject_count.to_string(),
                    e.entry.detail.clone(),
                ]);
            }
            println!("{t}");
            println!(
                "{} entr{}",
                entries.len(),
                if entries.len() == 1 { "y" } else { "ies" }
            );
        }
    }
}

/// Issued tokens: id, person, when issued, until when, and whether revoked.
pub fn issued_tokens(
    out: Out,
    list: &[(rungs_domain::auth::IssuedToken, rungs_domain::person::Email)],
) {
    let now = Utc::now();
    let status = |t: &rungs_domain::auth::IssuedToken| match t.revoked_at {
        Some(_) => "revoked",
        None if t.expires_at <= now => "expired",
        None => "live",
    };
    match out {
        Out::Json => json(
            &list
                .iter()
                .map(|(t, email)| {
                    serde_json::json!({
                        "id": t.id.0,
                        "email": email.as_str(),
                        "issued_at": t.issued_at,
                        "expires_at": t.expires_at,
                        "revoked_at": t.revoked_at,
                        "status": status(t),
                    })
                })
                .collect::<Vec<_>>(),
        ),
        Out::Table => {
            let mut tbl = table(&["id", "person", "issued", "expires", "status"]);
            for (t, email) in list {
                tbl.add_row(vec![
                    t.id.0.to_string(),
                    email.to_string(),
                    t.issued_at.format("%Y-%m-%d %H:%M").to_string(),
                    t.expires_at.format("%Y-%m-%d %H:%M").to_string(),
                    status(t).to_owned(),
                ]);
            }
            println!("{tbl}");
        }
    }
}

/// An organisation's identity provider, one setting a line (never the secret).
pub fn identity_provider(p: &rungs_app::sso::ProviderSettings) {
    let none = || "-".to_owned();
    let lines = [
        ("name", p.name.clone()),
        ("issuer", p.issuer.clone()),
        ("client id", p.client_id.clone()),
        (
            "client secret",
            if p.has_client_secret {
                "set (never shown)"
            } else {
                "missing"
            }
            .to_owned(),
        ),
        ("scopes", format!("openid {}", p.scopes.join(" "))),
        ("email claim", p.email_claim.clone()),
        (
            "allowed domains",
            if p.allowed_domains.is_empty() {
                "any".to_owned()
            } else {
                p.allowed_domains.join(", ")
            },
        ),
        (
            "HR admin group",
            p.admin_group
                .as_ref()
                .map_or_else(none, |g| format!("{}={}", g.claim, g.value)),
        ),
        ("passwords allowed", p.passwords_allowed.to_string()),
        ("create people", p.create_people.to_string()),
        ("API audience", p.api_audience.clone().unwrap_or_else(none)),
        ("updated", p.updated_at.to_rfc3339()),
    ];
    for (k, v) in lines {
        println!("{k:>18}: {v}");
    }
}
