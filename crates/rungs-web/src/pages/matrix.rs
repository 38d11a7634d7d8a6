//! "The matrix": the published matrix of my position as the grid of tracks and levels, each
//! cell with its titles and criteria, my own cell marked (for someone not placed yet, the
//! matrix people are placed on).

use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::pages::growth::{my_plan, placement_matrix, plan_matrix, version_label};
use crate::session::Signed;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

pub(crate) struct GridCell {
    /// `None`: the level is not a rung of this track.
    pub titles: Option<String>,
    pub criteria: Vec<String>,
    pub mine: bool,
}

pub(crate) struct GridRow {
    pub level: String,
    pub cells: Vec<GridCell>,
}

#[derive(Template)]
#[template(path = "matrix.html")]
struct MatrixPage {
    layout: Layout,
    /// The matrix's name and version; `None`: none is published yet.
    about: Option<String>,
    tracks: Vec<String>,
    rows: Vec<GridRow>,
    /// My position; `None`: not placed yet.
    position: Option<String>,
}

/// `GET /matrix`: the matrix of my position; for someone not placed yet, the matrix people
/// are placed on, nothing marked.
pub(crate) async fn page(s: Signed) -> Result<Response, WebError> {
    let (info, m, current) = match my_plan(&s).await? {
        Some(plan) => {
            let m = plan_matrix(&s, &plan).await?;
            (plan.version, m, plan.plan.current)
        }
        None => match placement_matrix(&s).await? {
            Some((info, m)) => (info, m, None),
            None => {
                let page = MatrixPage {
                    layout: Layout::signed("The matrix", &s, "matrix"),
                    about: None,
                    tracks: Vec::new(),
                    rows: Vec::new(),
                    position: None,
                };
                return Ok(render(StatusCode::OK, &page));
            }
        },
    };
    let current = current.as_ref();
    let mut levels: Vec<_> = m.levels().iter().collect();
    levels.sort_by_key(|l| l.rank);
    let rows = levels
        .iter()
        .map(|l| GridRow {
            level: l.name.clone(),
            cells: m
                .tracks()
                .iter()
                .map(|t| {
                    let on_ladder = m.has_position(t.key.as_str(), l.key.as_str());
                    let cell = m.cell(t.key.as_str(), l.key.as_str());
                    GridCell {
                        titles: on_ladder
                            .then(|| cell.map(|c| c.titles.join(" / ")).unwrap_or_default()),
                        criteria: cell
                            .map(|c| c.expectations.iter().map(|e| e.label()).collect())
                            .unwrap_or_default(),
                        mine: current.is_some_and(|c| c.track == t.key && c.level.key == l.key),
                    }
                })
                .collect(),
        })
        .collect();
    let page = MatrixPage {
        layout: Layout::signed("The matrix", &s, "matrix"),
        about: Some(version_label(m.name(), &info)),
        tracks: m.tracks().iter().map(|t| t.name.clone()).collect(),
        rows,
        position: current.map(|c| format!("{} · {}", c.track_name, c.level.name)),
    };
    Ok(render(StatusCode::OK, &page))
}
