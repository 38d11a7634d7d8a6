//! "My history": the levels held, with dates and time in each, and the promotion cases with
//! their events. The same career is shown on a report's page.

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::session::Signed;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use rungs_app::{Career, CaseView};
use rungs_domain::PersonId;
use rungs_domain::matrix::Matrix;

pub(crate) struct PeriodView {
    pub track: String,
    pub level: String,
    pub from: String,
    pub until: String,
    pub time: String,
    pub reason: String,
    pub current: bool,
}

pub(crate) struct EventRow {
    pub kind: &'static str,
    pub by: String,
    pub on: String,
    pub note: String,
}

pub(crate) struct CaseRow {
    pub id: String,
    pub status: &'static str,
    pub open: bool,
    pub from: String,
    pub to: String,
    pub proposer: String,
    pub proposed_on: String,
    pub justification: String,
    pub events: Vec<EventRow>,
}

/// A position's names in `m`, or its keys when the matrix no longer has it.
pub(crate) fn names(m: Option<&Matrix>, track: &str, level: &str) -> (String, String) {
    let t = m.and_then(|m| m.track(track)).map(|t| t.name.clone());
    let l = m.and_then(|m| m.level(level)).map(|l| l.name.clone());
    (
        t.unwrap_or_else(|| track.to_owned()),
        l.unwrap_or_else(|| level.to_owned()),
    )
}

fn duration(days: i64) -> String {
    match days {
        d if d < 60 => format!("{d} day{}", if d == 1 { "" } else { "s" }),
        d if d < 730 => format!("{} months", d / 30),
        d => format!("{:.1} years", d as f64 / 365.25),
    }
}

pub(crate) fn case_row(c: &CaseView, m: Option<&Matrix>) -> CaseRow {
    let (ft, fl) = names(m, c.case.from.track.as_str(), c.case.from.level.as_str());
    let (tt, tl) = names(m, c.case.to.track.as_str(), c.case.to.level.as_str());
    CaseRow {
        id: c.case.id.to_string(),
        status: c.case.status.as_str(),
        open: c.case.status == rungs_domain::promotion::PromotionStatus::Proposed,
        from: format!("{ft} · {fl}"),
        to: format!("{tt} · {tl}"),
        proposer: c
            .proposer
            .as_ref()
            .map_or_else(String::new, |p| p.display_name.clone()),
        proposed_on: c.case.proposed_at.date_naive().to_string(),
        justification: c.case.justification.clone(),
        events: c
            .events
            .iter()
            .map(|e| EventRow {
                kind: e.event.kind.as_str(),
                by: e
                    .actor
                    .as_ref()
                    .map_or_else(String::new, |p| p.display_name.clone()),
                on: e.event.at.date_naive().to_string(),
                note: e.event.note.clone(),
            })
            .collect(),
    }
}

pub(crate) struct CareerView {
    pub periods: Vec<PeriodView>,
    pub cases: Vec<CaseRow>,
}

pub(crate) fn career_view(c: &Career, m: Option<&Matrix>) -> CareerView {
    let n = c.periods.len();
    CareerView {
        periods: c
            .periods
            .iter()
            .enumerate()
            .rev()
            .map(|(i, p)| {
                let (track, level) =
                    names(m, p.assignment.track.as_str(), p.assignment.level.as_str());
                PeriodView {
                    track,
                    level,
                    from: p.assignment.effective.to_string(),
                    until: p.until.map_or_else(|| "now".to_owned(), |d| d.to_string()),
                    time: duration(p.days),
                    reason: p.assignment.reason.clone(),
                    current: i + 1 == n && p.until.is_none(),
                }
            })
            .collect(),
        cases: c.cases.iter().rev().map(|v| case_row(v, m)).collect(),
    }
}

/// A person's career with its cases' events, for the pages that show it.
pub(crate) async fn career_of(
    st: &crate::WebState,
    s: &Signed,
    person: PersonId,
) -> Result<CareerView, WebError> {
    let career = st
        .app
        .career(&s.session.actor, s.session.org.slug.as_str(), person)
        .await
        .map_err(WebError::read)?;
    let matrix = s.reader.matrix().await.ok().map(|(_, m)| m);
    let mut cases = career.cases.clone();
    let ids: Vec<rungs_domain::CaseId> = cases.iter().map(|c| c.case.id).collect();
    let mut events = s.reader.case_events(&ids).await.map_err(WebError::read)?;
    for c in &mut cases {
        if let Some(Ok(ev)) = events.remove(&c.case.id) {
            c.events = ev;
        }
    }
    let career = Career { cases, ..career };
    Ok(career_view(&career, matrix.as_ref()))
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    layout: Layout,
    career: CareerView,
}

/// `GET /history`
pub(crate) async fn page(st: State, s: Signed) -> Result<Response, WebError> {
    let career = career_of(&st, &s, s.session.person.id).await?;
    let page = HistoryPage {
        layout: Layout::signed("My history", &s, "history"),
        career,
    };
    Ok(render(StatusCode::OK, &page))
}
