//! "Explore a path": any track and level of my matrix, and what that move would take (the
//! lateral plan, or a higher rung of my own ladder): what I already meet and what I don't.

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::pages::growth::{
    ItemView, RateForm, my_plan, percent, placement_matrix, plan_matrix, raters, sections,
};
use crate::session::Signed;
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use rungs_domain::matrix::Matrix;
use serde::Deserialize;

/// One choice of the position picker.
pub(crate) struct PositionOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
    pub current: bool,
}

/// Every position of the matrix, track by track up each ladder.
pub(crate) fn positions(
    m: &Matrix,
    selected: Option<&str>,
    current: Option<&str>,
) -> Vec<PositionOption> {
    let mut out = Vec::new();
    for t in m.tracks() {
        for l in m.ladder(t.key.as_str()) {
            let value = format!("{}/{}", t.key, l.key);
            let titles = m
                .cell(t.key.as_str(), l.key.as_str())
                .map(|c| c.titles.join(" / "))
                .unwrap_or_default();
            let mut label = format!("{} · {}", t.name, l.name);
            if !titles.is_empty() {
                label.push_str(&format!(" ({titles})"));
            }
            out.push(PositionOption {
                selected: selected == Some(value.as_str()),
                current: current == Some(value.as_str()),
                value,
                label,
            });
        }
    }
    out
}

pub(crate) struct Outcome {
    pub target: String,
    pub lateral: bool,
    pub met: usize,
    pub total: usize,
    pub percent: u32,
    pub gaps: Vec<ItemView>,
    pub held: Vec<ItemView>,
}

#[derive(Template)]
#[template(path = "explore.html")]
struct ExplorePage {
    layout: Layout,
    options: Vec<PositionOption>,
    /// Whether I have a position (not: HR has not placed me yet).
    placed: bool,
    outcome: Option<Outcome>,
    rate: RateForm,
}

#[derive(Deserialize)]
pub(crate) struct ExploreQuery {
    /// `track/level`
    to: Option<String>,
}

/// `GET /explore`
pub(crate) async fn page(
    st: State,
    s: Signed,
    Query(q): Query<ExploreQuery>,
) -> Result<Response, WebError> {
    let me = s.session.person.id;
    let r = &s.reader;
    // My position's matrix; not placed yet, the one people are placed on.
    let (matrix, current) = match my_plan(&s).await? {
        Some(mine) => {
            let matrix = plan_matrix(&s, &mine).await?;
            let current = mine
                .plan
                .current
                .as_ref()
                .map(|c| format!("{}/{}", c.track, c.level.key));
            (matrix, current)
        }
        None => match placement_matrix(&s).await? {
            Some((_, m)) => (m, None),
            None => {
                return Err(WebError::Invalid(
                    "Your organisation has not published a matrix yet.".into(),
                ));
            }
        },
    };
    let to = q.to.as_deref().filter(|t| !t.is_empty());
    let outcome = match to.and_then(|t| t.split_once('/')) {
        None if to.is_some() => return Err(WebError::Invalid("Choose a position.".into())),
        None => None,
        Some((track, level)) => {
            let plan = st
                .app
                .growth_plan(
                    &s.session.actor,
                    s.session.org.slug.as_str(),
                    me,
                    Some((track, level)),
                )
                .await
                .map_err(WebError::action)?;
            let names = r.named(&raters(&plan.plan)).await.map_err(WebError::read)?;
            let p = &plan.plan;
            let (gaps, held) = sections(p, &matrix, &names);
            Some(Outcome {
                target: format!("{} · {}", p.target.track_name, p.target.level.name),
                lateral: p.lateral,
                met: p.met(),
                total: p.total(),
                percent: percent(p.progress()),
                gaps,
                held,
            })
        }
    };
    let page = ExplorePage {
        layout: Layout::signed("Explore a path", &s, "explore"),
        options: positions(&matrix, to, current.as_deref()),
        placed: current.is_some(),
        outcome,
        rate: RateForm::none(true),
    };
    Ok(render(StatusCode::OK, &page))
}
