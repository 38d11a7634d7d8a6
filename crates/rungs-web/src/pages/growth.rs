//! "My growth", the home page: where I stand, my progress to the next rung of my ladder, my
//! ratings per competency group against what it expects (a radar chart, and a table saying the
//! same), the gaps in matrix order with their learning resources, and what is met, with my
//! manager's and my own ratings side by side. Each criterion carries a form to rate myself,
//! which htmx submits in place (and which works as a plain form without JavaScript).

use crate::State;
use crate::charts::{self, RadarGroup};
use crate::error::{WebError, render};
use crate::pages::{Layout, is_htmx};
use crate::session::Signed;
use askama::Template;
use axum::extract::Form;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rungs_app::{AssessInput, PlanView, ReadinessView};
use rungs_domain::assessment::{Assessment, Rating};
use rungs_domain::growth::{ExpectationStatus, PlanItem};
use rungs_domain::matrix::{Matrix, Resource};
use rungs_domain::person::Person;
use serde::Deserialize;
use std::collections::HashMap;

/// A rating as a person reads it.
pub(crate) fn rating_label(r: Rating) -> &'static str {
    match r {
        Rating::NotYet => "Not yet",
        Rating::Developing => "Developing",
        Rating::Meets => "Meets",
        Rating::Exceeds => "Exceeds",
    }
}

fn status_label(s: ExpectationStatus) -> &'static str {
    match s {
        ExpectationStatus::Met => "Met",
        ExpectationStatus::InProgress => "In progress",
        ExpectationStatus::NotYet => "Not yet",
        ExpectationStatus::NotAssessed => "Not assessed",
    }
}

pub(crate) struct ResourceView {
    pub title: String,
    /// Only web and mail links become links.
    pub url: Option<String>,
    pub kind: &'static str,
    pub description: Option<String>,
}

impl ResourceView {
    fn of(r: &Resource) -> Self {
        Self {
            title: r.title.clone(),
            url: r
                .url
                .clone()
                .filter(|u| rungs_format::markdown::safe_url(u)),
            kind: r.kind.as_str(),
            description: r.description.clone(),
        }
    }
}

pub(crate) struct RatingView {
    pub label: &'static str,
    pub value: &'static str,
    pub by: String,
    pub on: String,
    pub evidence: String,
    pub links: Vec<String>,
}

impl RatingView {
    fn of(a: &Assessment, names: &HashMap<rungs_domain::PersonId, Person>) -> Self {
        Self {
            label: rating_label(a.rating),
            value: a.rating.as_str(),
            by: names
                .get(&a.assessor_id)
                .map_or_else(String::new, |p| p.display_name.clone()),
            on: a.at.date_naive().to_string(),
            evidence: a.evidence.text.clone(),
            links: a
                .evidence
                .links
                .iter()
                .filter(|l| rungs_format::markdown::safe_url(l))
                .cloned()
                .collect(),
        }
    }
}

/// One criterion of the plan, as the page shows it.
pub(crate) struct ItemView {
    pub key: String,
    pub label: String,
    /// The criterion's Markdown as safe HTML, when there is more than the label says.
    pub text_html: Option<String>,
    pub level: String,
    pub competency: Option<String>,
    pub met: bool,
    pub status: &'static str,
    pub status_value: &'static str,
    pub manager: Option<RatingView>,
    pub myself: Option<RatingView>,
    pub resources: Vec<ResourceView>,
    pub examples: Vec<String>,
    /// After a rating was saved, or why it was not.
    pub saved: bool,
    pub error: Option<String>,
}

impl ItemView {
    fn of(i: &PlanItem, m: &Matrix, names: &HashMap<rungs_domain::PersonId, Person>) -> Self {
        let e = &i.expectation;
        let label = e.label();
        let text_html = (label != e.name.trim() || e.description.is_some()).then(|| {
            let mut md = e.name.clone();
            if let Some(d) = &e.description {
                md.push_str("\n\n");
                md.push_str(d);
            }
            rungs_format::markdown::to_html(&md)
        });
        Self {
            key: e.key.to_string(),
            label,
            text_html,
            level: i.level.name.clone(),
            competency: m.competency_label(e),
            met: i.is_met(),
            status: status_label(i.status),
            status_value: i.status.as_str(),
            manager: i.manager.as_ref().map(|a| RatingView::of(a, names)),
            myself: i.myself.as_ref().map(|a| RatingView::of(a, names)),
            resources: e.resources.iter().map(ResourceView::of).collect(),
            examples: e.examples.clone(),
            saved: false,
            error: None,
        }
    }
}

/// The choices of the rating form.
pub(crate) struct RatingChoice {
    pub value: &'static str,
    pub label: &'static str,
}

pub(crate) fn rating_choices() -> Vec<RatingChoice> {
    Rating::ALL
        .iter()
        .map(|r| RatingChoice {
            value: r.as_str(),
            label: rating_label(*r),
        })
        .collect()
}

pub(crate) struct Where {
    pub track: String,
    pub level: String,
    pub titles: String,
    pub since: Option<String>,
    pub months: Option<u32>,
}

pub(crate) struct Toward {
    pub track: String,
    pub level: String,
    pub titles: String,
    pub top_of_track: bool,
    pub met: usize,
    pub total: usize,
    pub percent: u32,
}

pub(crate) struct ReasonView {
    pub ok: bool,
    pub message: String,
}

#[derive(Template)]
#[template(path = "growth.html")]
struct GrowthPage {
    layout: Layout,
    name: String,
    matrix: String,
    standing: Option<Where>,
    toward: Toward,
    ready: Option<bool>,
    score: u32,
    reasons: Vec<ReasonView>,
    radar_svg: Option<String>,
    groups: Vec<RadarGroup>,
    gaps: Vec<ItemView>,
    met: Vec<ItemView>,
    level_resources: Vec<(String, ResourceView)>,
    csrf: String,
    ratings: Vec<RatingChoice>,
}

/// The criterion fragment htmx swaps in after rating.
#[derive(Template)]
#[template(path = "growth_item.html")]
struct ItemFragment {
    item: ItemView,
    csrf: String,
    ratings: Vec<RatingChoice>,
}

/// What the page is built from: my plan, my readiness, the matrix behind them, and the names
/// of those who rated me.
struct Mine {
    plan: PlanView,
    readiness: ReadinessView,
    matrix: Matrix,
    names: HashMap<rungs_domain::PersonId, Person>,
}

async fn mine(s: &Signed) -> Result<Mine, WebError> {
    let me = s.session.person.id;
    let r = &s.reader;
    let plan = r.one(me, async |r, ids| r.plans(ids).await).await;
    let plan = plan.map_err(WebError::read)?;
    let readiness = r.one(me, async |r, ids| r.readiness(ids).await).await;
    let readiness = readiness.map_err(WebError::read)?;
    let matrix = r
        .versions(&[plan.version.id])
        .await
        .map_err(WebError::read)?
        .remove(&plan.version.id)
        .unwrap_or_else(|| Err(rungs_app::AppError::NotFound("matrix version".into())))
        .map_err(WebError::read)?;
    let raters: Vec<rungs_domain::PersonId> = plan
        .plan
        .items
        .iter()
        .flat_map(|i| [&i.manager, &i.myself])
        .flatten()
        .map(|a| a.assessor_id)
        .collect();
    let names = r.named(&raters).await.map_err(WebError::read)?;
    Ok(Mine {
        plan,
        readiness,
        matrix,
        names,
    })
}

fn page_of(s: &Signed, m: &Mine) -> GrowthPage {
    let p = &m.plan.plan;
    let standing = p.current.as_ref().map(|c| Where {
        track: c.track_name.clone(),
        level: c.level.name.clone(),
        titles: c.titles.join(" / "),
        since: m.readiness.readiness.in_level_since.map(|d| d.to_string()),
        months: m.readiness.readiness.months_in_level,
    });
    let toward = Toward {
        track: p.target.track_name.clone(),
        level: p.target.level.name.clone(),
        titles: p.target.titles.join(" / "),
        top_of_track: p.top_of_track,
        met: p.met(),
        total: p.total(),
        percent: percent(p.progress()),
    };
    let items: Vec<ItemView> = p
        .items
        .iter()
        .map(|i| ItemView::of(i, &m.matrix, &m.names))
        .collect();
    let (met, gaps): (Vec<ItemView>, Vec<ItemView>) = items.into_iter().partition(|i| i.met);
    let groups = charts::groups(p, &m.matrix);
    let rd = &m.readiness.readiness;
    GrowthPage {
        layout: Layout::signed("My growth", s, "growth"),
        name: s.session.person.display_name.clone(),
        matrix: m.matrix.name().to_owned(),
        standing,
        toward,
        ready: rd.target.as_ref().map(|_| rd.ready),
        score: percent(rd.score),
        reasons: rd
            .reasons
            .iter()
            .map(|r| ReasonView {
                ok: r.ok,
                message: r.message.clone(),
            })
            .collect(),
        radar_svg: charts::radar(&groups),
        groups,
        gaps,
        met,
        level_resources: p
            .level_resources
            .iter()
            .filter_map(|(level, r)| {
                let name = m.matrix.level(level.as_str())?.name.clone();
                Some((name, ResourceView::of(r)))
            })
            .collect(),
        csrf: s.csrf.clone(),
        ratings: rating_choices(),
    }
}

/// A fraction from 0 to 1 as a whole percentage.
pub(crate) fn percent(f: f64) -> u32 {
    // Clamped first, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let p = (f.clamp(0.0, 1.0) * 100.0).round() as u32;
    p
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    /// The criterion just rated (after a form sent without JavaScript).
    saved: Option<String>,
}

/// `GET /growth`
pub(crate) async fn page(
    s: Signed,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Result<Response, WebError> {
    let m = mine(&s).await?;
    let mut page = page_of(&s, &m);
    if let Some(key) = q.saved {
        for i in page.gaps.iter_mut().chain(page.met.iter_mut()) {
            i.saved = i.key == key;
        }
    }
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub(crate) struct RateForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    expectation: String,
    rating: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    links: String,
}

/// `POST /growth/rate`: a self-rating of one criterion. With htmx, the criterion is answered
/// in place; without it, the page again at that criterion.
pub(crate) async fn rate(
    st: State,
    s: Signed,
    headers: HeaderMap,
    Form(f): Form<RateForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let key = f.expectation.trim().to_owned();
    let outcome = match Rating::parse(&f.rating) {
        Ok(rating) => {
            let links: Vec<String> = f
                .links
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            let input = AssessInput {
                person: s.session.person.id,
                expectation: &key,
                rating,
                evidence: f.evidence.trim(),
                links,
            };
            st.app
                .assess(&s.session.actor, s.session.org.slug.as_str(), input)
                .await
                .map(|_| ())
                .map_err(WebError::action)
        }
        Err(_) => Err(WebError::Invalid("Choose a rating.".into())),
    };
    let error = match outcome {
        Ok(()) if !is_htmx(&headers) => {
            return Ok(Redirect::to(&format!("/growth?saved={key}#c-{key}")).into_response());
        }
        Ok(()) => None,
        Err(WebError::Invalid(why)) => Some(why),
        Err(e) => return Err(e),
    };
    let m = mine(&s).await?;
    let mut page = page_of(&s, &m);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let found = page
        .gaps
        .iter_mut()
        .chain(page.met.iter_mut())
        .find(|i| i.key == key);
    let Some(item) = found else {
        return Err(WebError::Invalid(error.unwrap_or_else(|| {
            format!("`{key}` is not a criterion of your plan")
        })));
    };
    item.saved = error.is_none();
    item.error = error;
    if !is_htmx(&headers) {
        return Ok(render(status, &page));
    }
    let key_of = |i: &ItemView| i.key == key;
    let item = if let Some(at) = page.gaps.iter().position(key_of) {
        page.gaps.swap_remove(at)
    } else if let Some(at) = page.met.iter().position(key_of) {
        page.met.swap_remove(at)
    } else {
        return Err(WebError::NotFound);
    };
    let fragment = ItemFragment {
        item,
        csrf: s.csrf.clone(),
        ratings: rating_choices(),
    };
    Ok(render(status, &fragment))
}
