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

/// The rating form of each criterion (and the headings around the two ratings): rating
/// oneself, rating a report, or none.
pub(crate) struct RateForm {
    /// Empty: no form.
    pub action: String,
    pub csrf: String,
    pub choices: Vec<RatingChoice>,
    pub summary: &'static str,
    pub legend: &'static str,
    pub button: &'static str,
    pub saved: &'static str,
    pub manager_heading: &'static str,
    pub self_heading: &'static str,
}

impl RateForm {
    /// A person rating themselves.
    pub fn myself(csrf: &str) -> Self {
        Self {
            action: "/growth/rate".into(),
            csrf: csrf.to_owned(),
            choices: rating_choices(),
            summary: "Rate myself",
            legend: "My rating of",
            button: "Save my rating",
            saved: "Your rating is saved.",
            manager_heading: "Manager's rating",
            self_heading: "My rating",
        }
    }

    /// A manager rating a report.
    pub fn manager(csrf: &str, person: rungs_domain::PersonId) -> Self {
        Self {
            action: format!("/people/{person}/assess"),
            csrf: csrf.to_owned(),
            choices: rating_choices(),
            summary: "Assess",
            legend: "Your rating of",
            button: "Save the assessment",
            saved: "The assessment is saved.",
            manager_heading: "Manager's rating",
            self_heading: "Their own rating",
        }
    }

    /// Read only (a plan toward another position).
    pub fn none(viewer_is_subject: bool) -> Self {
        Self {
            action: String::new(),
            csrf: String::new(),
            choices: Vec::new(),
            summary: "",
            legend: "",
            button: "",
            saved: "",
            manager_heading: "Manager's rating",
            self_heading: if viewer_is_subject {
                "My rating"
            } else {
                "Their own rating"
            },
        }
    }
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
    rate: RateForm,
}

/// The criterion fragment htmx swaps in after rating.
#[derive(Template)]
#[template(path = "growth_item.html")]
pub(crate) struct ItemFragment {
    pub item: ItemView,
    pub rate: RateForm,
}

/// A plan's criteria as the page lists them: the gaps, then what is met, each in matrix order.
pub(crate) fn sections(
    p: &rungs_domain::growth::GrowthPlan,
    m: &Matrix,
    names: &HashMap<rungs_domain::PersonId, Person>,
) -> (Vec<ItemView>, Vec<ItemView>) {
    let items: Vec<ItemView> = p.items.iter().map(|i| ItemView::of(i, m, names)).collect();
    let (met, gaps): (Vec<ItemView>, Vec<ItemView>) = items.into_iter().partition(|i| i.met);
    (gaps, met)
}

/// The people who rated the plan's criteria.
pub(crate) fn raters(p: &rungs_domain::growth::GrowthPlan) -> Vec<rungs_domain::PersonId> {
    p.items
        .iter()
        .flat_map(|i| [&i.manager, &i.myself])
        .flatten()
        .map(|a| a.assessor_id)
        .collect()
}

/// What the page is built from: my plan, my readiness, the matrix behind them, and the names
/// of those who rated me.
struct Mine {
    plan: PlanView,
    readiness: ReadinessView,
    matrix: Matrix,
    names: HashMap<rungs_domain::PersonId, Person>,
}

/// Someone's growth plan, or who they are while they have no level yet.
pub(crate) enum PlanOf {
    Placed(Box<PlanView>),
    /// People created at their first single sign-on, by SCIM, or added without a position,
    /// until HR places them: without a position there is no next rung to plan toward.
    Unplaced(Person),
}

/// The growth plan of `id` toward the next rung of their ladder, or, when they have no level
/// yet, their record. Read as [`rungs_app::Reader::plans`] authorizes it, so a refusal stays
/// an error; the record (with the position in force) is read only when a plan the caller may
/// read could not be made.
pub(crate) async fn plan_of(s: &Signed, id: rungs_domain::PersonId) -> Result<PlanOf, WebError> {
    let r = &s.reader;
    match r.one(id, async |r, ids| r.plans(ids).await).await {
        Ok(plan) => Ok(PlanOf::Placed(Box::new(plan))),
        Err(e @ rungs_app::AppError::Invalid(_)) => {
            let fields = rungs_app::ViewFields {
                current: true,
                manager_email: false,
            };
            match r
                .one(id, async |r, ids| r.people(ids, fields, None).await)
                .await
            {
                Ok(v) if v.current.is_none() => Ok(PlanOf::Unplaced(v.person)),
                _ => Err(WebError::read(e)),
            }
        }
        Err(e) => Err(WebError::read(e)),
    }
}

/// My plan ([`plan_of`] the signed-in person), or `None` while I have no level yet.
pub(crate) async fn my_plan(s: &Signed) -> Result<Option<PlanView>, WebError> {
    Ok(match plan_of(s, s.session.person.id).await? {
        PlanOf::Placed(plan) => Some(*plan),
        PlanOf::Unplaced(_) => None,
    })
}

/// The matrix people are placed on (its newest published version), for those who have no
/// level yet: its name and version, or `None` when none is published.
pub(crate) async fn placement_matrix(
    s: &Signed,
) -> Result<Option<(rungs_domain::matrix::VersionInfo, Matrix)>, WebError> {
    match s.reader.matrix().await {
        Ok(m) => Ok(Some(m)),
        Err(rungs_app::AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(WebError::read(e)),
    }
}

/// "My growth" for someone HR has not placed yet: what happens next, and where to look
/// meanwhile (the matrix, and any position's plan on "Explore a path").
#[derive(Template)]
#[template(path = "unplaced.html")]
struct UnplacedPage {
    layout: Layout,
    name: String,
    /// The published matrix's name and version, if there is one.
    matrix: Option<String>,
}

/// "Name, version N" (or "draft").
pub(crate) fn version_label(name: &str, v: &rungs_domain::matrix::VersionInfo) -> String {
    format!(
        "{name}, {}",
        v.number
            .map_or_else(|| "draft".to_owned(), |n| format!("version {n}"))
    )
}

/// The matrix of a plan's version (the matrix behind its criteria).
pub(crate) async fn plan_matrix(s: &Signed, plan: &PlanView) -> Result<Matrix, WebError> {
    let version = plan.version.id;
    s.reader
        .versions(&[version])
        .await
        .map_err(WebError::read)?
        .remove(&version)
        .unwrap_or_else(|| Err(rungs_app::AppError::NotFound("matrix version".into())))
        .map_err(WebError::read)
}

async fn unplaced(s: &Signed) -> Result<Response, WebError> {
    let matrix = placement_matrix(s).await?;
    let page = UnplacedPage {
        layout: Layout::signed("My growth", s, "growth"),
        name: s.session.person.display_name.clone(),
        matrix: matrix.map(|(v, m)| version_label(m.name(), &v)),
    };
    Ok(render(StatusCode::OK, &page))
}

/// Everything the page shows, or `None` when I have no level yet.
async fn mine(s: &Signed) -> Result<Option<Mine>, WebError> {
    let me = s.session.person.id;
    let r = &s.reader;
    let Some(plan) = my_plan(s).await? else {
        return Ok(None);
    };
    let readiness = r.one(me, async |r, ids| r.readiness(ids).await).await;
    let readiness = readiness.map_err(WebError::read)?;
    let matrix = plan_matrix(s, &plan).await?;
    let names = r.named(&raters(&plan.plan)).await.map_err(WebError::read)?;
    Ok(Some(Mine {
        plan,
        readiness,
        matrix,
        names,
    }))
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
    let (gaps, met) = sections(p, &m.matrix, &m.names);
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
        rate: RateForm::myself(&s.csrf),
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
    let Some(m) = mine(&s).await? else {
        return unplaced(&s).await;
    };
    let mut page = page_of(&s, &m);
    mark_saved(&mut page.gaps, q.saved.as_deref());
    mark_saved(&mut page.met, q.saved.as_deref());
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub(crate) struct RateInput {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    expectation: String,
    rating: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    links: String,
}

impl RateInput {
    pub fn expectation_key(&self) -> &str {
        self.expectation.trim()
    }
}

/// Saves a rating of `person` by the signed-in person (a self-rating or a manager's, as the
/// use case decides from who rates whom). `Err(Invalid)` says what to fix.
pub(crate) async fn save_rating(
    st: &crate::WebState,
    s: &Signed,
    person: rungs_domain::PersonId,
    f: &RateInput,
) -> Result<(), WebError> {
    s.check_csrf(&f.csrf)?;
    let Ok(rating) = Rating::parse(&f.rating) else {
        return Err(WebError::Invalid("Choose a rating.".into()));
    };
    let links: Vec<String> = f
        .links
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let input = AssessInput {
        person,
        expectation: f.expectation.trim(),
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

/// What a rating form gets back: with htmx the criterion alone (saved, or why not), without
/// it the page again at the criterion (by redirect after a save, rendered with the error).
pub(crate) fn rated(
    headers: &HeaderMap,
    outcome: Result<(), WebError>,
    key: &str,
    page_url: &str,
    items: &mut (Vec<ItemView>, Vec<ItemView>),
    render_page: impl FnOnce(&mut (Vec<ItemView>, Vec<ItemView>)) -> Response,
    rate: RateForm,
) -> Result<Response, WebError> {
    let error = match outcome {
        Ok(()) if !is_htmx(headers) => {
            let sep = if page_url.contains('?') { '&' } else { '?' };
            return Ok(Redirect::to(&format!("{page_url}{sep}saved={key}#c-{key}")).into_response());
        }
        Ok(()) => None,
        Err(WebError::Invalid(why)) => Some(why),
        Err(e) => return Err(e),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let key_of = |i: &ItemView| i.key == key;
    let Some(item) = items
        .0
        .iter_mut()
        .chain(items.1.iter_mut())
        .find(|i| key_of(i))
    else {
        return Err(WebError::Invalid(error.unwrap_or_else(|| {
            format!("`{key}` is not a criterion of this plan")
        })));
    };
    item.saved = error.is_none();
    item.error = error;
    if !is_htmx(headers) {
        return Ok(render_page(items));
    }
    let item = if let Some(at) = items.0.iter().position(key_of) {
        items.0.swap_remove(at)
    } else if let Some(at) = items.1.iter().position(key_of) {
        items.1.swap_remove(at)
    } else {
        return Err(WebError::NotFound);
    };
    Ok(render(status, &ItemFragment { item, rate }))
}

/// Marks the criterion just rated (after a form sent without JavaScript).
pub(crate) fn mark_saved(items: &mut [ItemView], saved: Option<&str>) {
    if let Some(key) = saved {
        for i in items {
            i.saved = i.key == key;
        }
    }
}

/// `POST /growth/rate`: a self-rating of one criterion.
pub(crate) async fn rate(
    st: State,
    s: Signed,
    headers: HeaderMap,
    Form(f): Form<RateInput>,
) -> Result<Response, WebError> {
    let outcome = save_rating(&st, &s, s.session.person.id, &f).await;
    if let Err(
        e @ (WebError::Csrf | WebError::NotFound | WebError::Refused(_) | WebError::Internal),
    ) = outcome
    {
        return Err(e);
    }
    let key = f.expectation.trim().to_owned();
    if outcome.is_ok() && !is_htmx(&headers) {
        return rated(
            &headers,
            outcome,
            &key,
            "/growth",
            &mut (Vec::new(), Vec::new()),
            |_| StatusCode::OK.into_response(),
            RateForm::myself(&s.csrf),
        );
    }
    let Some(m) = mine(&s).await? else {
        // Not placed: there is nothing to rate yet (the use case has said why).
        return Err(outcome.err().unwrap_or_else(|| {
            WebError::Invalid("You have no level yet: there is no plan to rate.".into())
        }));
    };
    let mut page = page_of(&s, &m);
    let mut items = (
        std::mem::take(&mut page.gaps),
        std::mem::take(&mut page.met),
    );
    let rate = RateForm::myself(&s.csrf);
    rated(
        &headers,
        outcome,
        &key,
        "/growth",
        &mut items,
        |items| {
            page.gaps = std::mem::take(&mut items.0);
            page.met = std::mem::take(&mut items.1);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        },
        rate,
    )
}
