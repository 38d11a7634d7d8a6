//! HR's analytics: the level distribution (tracks × levels), time in level (median and middle
//! half per level), promotions approved per month and readiness per track and level, for the
//! organisation or a manager's subtree. Each chart has a text alternative and a table with the
//! same numbers; every figure is aggregated in SQL. HR admins only (anyone else: 404).

use crate::State;
use crate::charts;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::session::Signed;
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use rungs_app::analytics::MONTHS;
use rungs_app::{Action, AppError};
use serde::Deserialize;

pub(crate) struct GridRow {
    pub track: String,
    /// One count per level column, then the row's total.
    pub cells: Vec<u64>,
    pub total: u64,
}

pub(crate) struct ReadyRow {
    pub track: String,
    /// (ready, people) per level column.
    pub cells: Vec<(u64, u64)>,
    pub ready: u64,
    pub people: u64,
}

pub(crate) struct TimeRow {
    pub level: String,
    pub people: u64,
    pub median: String,
    pub middle: String,
}

pub(crate) struct MonthRow {
    pub month: String,
    pub approved: u64,
}

#[derive(Template)]
#[template(path = "analytics.html")]
struct AnalyticsPage {
    layout: Layout,
    manager: String,
    problem: Option<String>,
    scope: String,
    people: u64,
    ready: u64,
    unplaced: u64,
    levels: Vec<String>,
    grid: Vec<GridRow>,
    grid_svg: Option<String>,
    times: Vec<TimeRow>,
    times_svg: Option<String>,
    months: Vec<MonthRow>,
    months_svg: Option<String>,
    readiness: Vec<ReadyRow>,
    readiness_svg: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct AnalyticsQuery {
    /// A manager's email: their whole subtree.
    manager: Option<String>,
}

fn months_text(m: Option<u32>) -> String {
    match m {
        Some(1) => "1 month".into(),
        Some(m) => format!("{m} months"),
        None => format!("{MONTHS}+ months"),
    }
}

/// `GET /analytics`
pub(crate) async fn page(
    st: State,
    s: Signed,
    Query(q): Query<AnalyticsQuery>,
) -> Result<Response, WebError> {
    s.reader.may(Action::Calibrate).map_err(WebError::read)?;
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let manager_email = q
        .manager
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    let mut problem = None;
    let mut manager = None;
    if let Some(email) = &manager_email {
        match crate::pages::person_by_email(&st, &s, email).await {
            Ok(p) => manager = Some(p),
            Err(AppError::Invalid(why)) => {
                problem = Some(format!("{why}: showing the whole organisation."));
            }
            Err(e) => return Err(WebError::read(e)),
        }
    }
    let a = st
        .app
        .analytics(actor, org, manager.as_ref().map(|m| m.id))
        .await
        .map_err(WebError::read)?;
    let matrix = s.reader.matrix().await.ok().map(|(_, m)| m);

    // Columns: the matrix's levels in order, then any level key people hold that it lacks.
    let mut level_keys: Vec<String> = matrix
        .as_ref()
        .map(|m| m.levels().iter().map(|l| l.key.to_string()).collect())
        .unwrap_or_default();
    let mut track_keys: Vec<String> = matrix
        .as_ref()
        .map(|m| m.tracks().iter().map(|t| t.key.to_string()).collect())
        .unwrap_or_default();
    for p in &a.positions {
        if let Some(l) = &p.level
            && !level_keys.contains(l)
        {
            level_keys.push(l.clone());
        }
        if let Some(t) = &p.track
            && !track_keys.contains(t)
        {
            track_keys.push(t.clone());
        }
    }
    let level_name = |k: &str| {
        matrix
            .as_ref()
            .and_then(|m| m.level(k))
            .map_or_else(|| k.to_owned(), |l| l.name.clone())
    };
    let track_name = |k: &str| {
        matrix
            .as_ref()
            .and_then(|m| m.track(k))
            .map_or_else(|| k.to_owned(), |t| t.name.clone())
    };
    let at = |t: &str, l: &str| {
        a.positions
            .iter()
            .find(|p| p.track.as_deref() == Some(t) && p.level.as_deref() == Some(l))
    };
    // Tracks nobody holds are left out.
    let held: Vec<&String> = track_keys
        .iter()
        .filter(|t| a.positions.iter().any(|p| p.track.as_ref() == Some(*t)))
        .collect();
    let grid: Vec<GridRow> = held
        .iter()
        .map(|t| {
            let cells: Vec<u64> = level_keys
                .iter()
                .map(|l| at(t, l).map_or(0, |p| p.people))
                .collect();
            GridRow {
                track: track_name(t),
                total: cells.iter().sum(),
                cells,
            }
        })
        .collect();
    let readiness: Vec<ReadyRow> = held
        .iter()
        .map(|t| {
            let cells: Vec<(u64, u64)> = level_keys
                .iter()
                .map(|l| at(t, l).map_or((0, 0), |p| (p.ready, p.people)))
                .collect();
            ReadyRow {
                track: track_name(t),
                ready: cells.iter().map(|c| c.0).sum(),
                people: cells.iter().map(|c| c.1).sum(),
                cells,
            }
        })
        .collect();
    let levels: Vec<String> = level_keys.iter().map(|k| level_name(k)).collect();
    #[allow(clippy::cast_precision_loss)]
    let as_f = |n: u64| n as f32;
    let grid_svg = charts::grouped_bars(
        &levels,
        &grid
            .iter()
            .map(|r| (r.track.clone(), r.cells.iter().map(|n| as_f(*n)).collect()))
            .collect::<Vec<_>>(),
        "Bar chart of people per level, one bar per track; the table below gives the same numbers.",
    );
    let mut times: Vec<(usize, TimeRow, f32)> = a
        .time_in_level
        .iter()
        .filter(|t| t.people > 0)
        .map(|t| {
            let order = level_keys
                .iter()
                .position(|k| *k == t.level)
                .unwrap_or(usize::MAX);
            let median = t.median.unwrap_or(MONTHS);
            #[allow(clippy::cast_precision_loss)]
            let value = median as f32;
            (
                order,
                TimeRow {
                    level: level_name(&t.level),
                    people: t.people,
                    median: months_text(t.median),
                    middle: format!("{} to {}", months_text(t.p25), months_text(t.p75)),
                },
                value,
            )
        })
        .collect();
    times.sort_by_key(|(o, ..)| *o);
    let times_svg = charts::bars(
        &times
            .iter()
            .map(|(_, r, v)| (r.level.clone(), *v))
            .collect::<Vec<_>>(),
        "Median months in level",
        "Bar chart of the median months people have held each level; the table below gives the \
         median and the middle half.",
    );
    let months: Vec<MonthRow> = a
        .promotions
        .iter()
        .map(|(d, n)| MonthRow {
            month: d.format("%Y-%m").to_string(),
            approved: *n,
        })
        .collect();
    let months_svg = charts::grouped_bars(
        &months.iter().map(|m| m.month.clone()).collect::<Vec<_>>(),
        &[(
            "Promotions approved".to_owned(),
            months.iter().map(|m| as_f(m.approved)).collect(),
        )],
        "Bar chart of promotions approved per month over the last twelve months; the table \
         below gives the same numbers.",
    );
    let readiness_svg = charts::grouped_bars(
        &readiness
            .iter()
            .map(|r| r.track.clone())
            .collect::<Vec<_>>(),
        &[
            (
                "People".to_owned(),
                readiness.iter().map(|r| as_f(r.people)).collect(),
            ),
            (
                "Ready".to_owned(),
                readiness.iter().map(|r| as_f(r.ready)).collect(),
            ),
        ],
        "Bar chart of people and of those ready for promotion per track; the table below gives \
         the same numbers per level.",
    );
    let page = AnalyticsPage {
        layout: Layout::signed("Analytics", &s, "analytics"),
        manager: manager_email.unwrap_or_default(),
        problem,
        scope: match &manager {
            Some(m) => format!("everyone below {} ({})", m.display_name, m.email.as_str()),
            None => "the whole organisation".to_owned(),
        },
        people: a.positions.iter().map(|p| p.people).sum(),
        ready: a.positions.iter().map(|p| p.ready).sum(),
        unplaced: a
            .positions
            .iter()
            .filter(|p| p.track.is_none())
            .map(|p| p.people)
            .sum(),
        levels,
        grid,
        grid_svg,
        times: times.into_iter().map(|(_, r, _)| r).collect(),
        times_svg,
        months,
        months_svg,
        readiness,
        readiness_svg,
    };
    Ok(render(StatusCode::OK, &page))
}
