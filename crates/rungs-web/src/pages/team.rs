//! The manager's pages: "My team" (direct and indirect reports in a sorted, paged table with
//! readiness and its reasons, a heatmap of criteria met per competency, and the team's level
//! distribution as a chart), and a report's page (their growth plan with both ratings side by
//! side and an assessment form, their history, and their promotion case: propose, comment,
//! withdraw).

use crate::State;
use crate::charts;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::pages::explore::{PositionOption, positions};
use crate::pages::growth::{
    ItemView, PlanOf, RateForm, RateInput, ReasonView, mark_saved, percent, plan_matrix, plan_of,
    rated, raters, save_rating, sections,
};
use crate::pages::history::{CareerView, career_of, names};
use crate::session::Signed;
use askama::Template;
use axum::extract::{Form, Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rungs_app::{Proposal, TeamFilter, TeamSort};
use rungs_domain::{CaseId, PersonId};
use serde::{Deserialize, Serialize};

/// People per page of the team.
const PAGE: usize = 25;

pub(crate) struct TeamRow {
    pub id: String,
    pub name: String,
    pub position: String,
    pub months: String,
    pub score: u32,
    pub ready: bool,
    pub reasons: Vec<ReasonView>,
    pub open_case: Option<String>,
    pub direct: bool,
}

pub(crate) struct HeatRow {
    pub name: String,
    /// Share met per competency, as a percentage and its shade (0 to 4).
    pub cells: Vec<(u32, u32)>,
}

pub(crate) struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// A choice of a filter's select (a track, a level): its key, its name, and whether it is
/// the one chosen.
pub(crate) struct SelectOption {
    pub key: String,
    pub name: String,
    pub selected: bool,
}

/// The options of a select from (key, name) pairs, `chosen` marked.
pub(crate) fn select_options<'a>(
    items: impl IntoIterator<Item = (&'a str, &'a str)>,
    chosen: Option<&str>,
) -> Vec<SelectOption> {
    items
        .into_iter()
        .map(|(key, name)| SelectOption {
            key: key.to_owned(),
            name: name.to_owned(),
            selected: chosen == Some(key),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    layout: Layout,
    direct: bool,
    sorts: Vec<Choice>,
    sort: &'static str,
    search: String,
    ready_only: bool,
    tracks: Vec<SelectOption>,
    filtered: bool,
    rows: Vec<TeamRow>,
    total: usize,
    /// The next page's address (the same choices, after this page's last person).
    next: Option<String>,
    competencies: Vec<String>,
    heat: Vec<HeatRow>,
    heat_svg: Option<String>,
    levels_svg: Option<String>,
    levels: Vec<(String, u64)>,
}

#[derive(Deserialize, Serialize, Default)]
pub(crate) struct TeamQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort: Option<String>,
    /// The start of a word of a name or email (`rungs_domain::search`).
    #[serde(skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    /// A track key ("" for every track).
    #[serde(skip_serializing_if = "Option::is_none")]
    track: Option<String>,
    /// "1": the ready only.
    #[serde(skip_serializing_if = "Option::is_none")]
    ready: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

impl TeamQuery {
    fn filter(&self) -> TeamFilter {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        TeamFilter {
            ready_only: self.ready.as_deref() == Some("1"),
            search: given(&self.q),
            track: given(&self.track),
        }
    }

    /// The address of the page after `cursor`, with the same choices.
    fn next(&self, cursor: String) -> String {
        let q = TeamQuery {
            scope: self.scope.clone(),
            sort: self.sort.clone(),
            q: self.q.clone().filter(|v| !v.trim().is_empty()),
            track: self.track.clone().filter(|v| !v.trim().is_empty()),
            ready: self.ready.clone(),
            after: Some(cursor),
        };
        format!(
            "/team?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    }
}

fn sort_of(s: Option<&str>) -> (TeamSort, &'static str) {
    match s {
        Some("name") => (TeamSort::Name, "name"),
        Some("level") => (TeamSort::Level, "level"),
        _ => (TeamSort::Readiness, "readiness"),
    }
}

/// `GET /team`
pub(crate) async fn page(s: Signed, Query(q): Query<TeamQuery>) -> Result<Response, WebError> {
    let direct = q.scope.as_deref() == Some("direct");
    let (sort, sort_name) = sort_of(q.sort.as_deref());
    let filter = q.filter();
    let r = &s.reader;
    let team = r
        .team(&rungs_app::TeamRequest {
            manager: None,
            direct_only: direct,
            sort,
            filter: &filter,
            want_total: true,
            first: Some(PAGE),
            after: q.after.as_deref(),
        })
        .await
        .map_err(WebError::read)?;
    let ids: Vec<PersonId> = team.items.iter().map(|v| v.person.id).collect();
    let matrix = r.matrix().await.ok().map(|(_, m)| m);
    let rows = team
        .items
        .iter()
        .map(|v| {
            let rd = &v.readiness;
            TeamRow {
                id: v.person.id.to_string(),
                name: v.person.display_name.clone(),
                position: v.standing.as_ref().map_or_else(
                    || "no level yet".to_owned(),
                    |st| format!("{} · {}", st.track_name, st.level.name),
                ),
                months: rd
                    .months_in_level
                    .map_or_else(String::new, |m| format!("{m} mo")),
                score: percent(rd.score),
                ready: rd.ready,
                reasons: rd
                    .reasons
                    .iter()
                    .map(|x| ReasonView {
                        ok: x.ok,
                        message: x.message.clone(),
                    })
                    .collect(),
                open_case: rd.open_case.as_ref().map(|c| {
                    let (t, l) = names(matrix.as_ref(), c.to.track.as_str(), c.to.level.as_str());
                    format!("to {t} · {l}")
                }),
                direct: v.direct,
            }
        })
        .collect();
    // The heatmap: the page's people by competency, the share of their plan's criteria met.
    let plans = r.plans(&ids).await.map_err(WebError::read)?;
    let mut competencies: Vec<String> = Vec::new();
    let mut per_person = Vec::new();
    for v in &team.items {
        let Some(Ok(p)) = plans.get(&v.person.id) else {
            continue;
        };
        let Some(m) = matrix.as_ref() else { continue };
        let mut shares: Vec<(String, usize, usize)> = Vec::new();
        for i in &p.plan.items {
            let c = m
                .competency_label(&i.expectation)
                .unwrap_or_else(|| "Other".to_owned());
            if !competencies.contains(&c) {
                competencies.push(c.clone());
            }
            match shares.iter_mut().find(|(k, _, _)| *k == c) {
                Some((_, met, all)) => {
                    *all += 1;
                    *met += usize::from(i.is_met());
                }
                None => shares.push((c, usize::from(i.is_met()), 1)),
            }
        }
        per_person.push((v.person.display_name.clone(), shares));
    }
    let heat: Vec<HeatRow> = per_person
        .into_iter()
        .map(|(name, shares)| HeatRow {
            name,
            cells: competencies
                .iter()
                .map(|c| {
                    shares
                        .iter()
                        .find(|(k, _, _)| k == c)
                        .map_or((0, 0), |(_, met, all)| {
                            #[allow(clippy::cast_precision_loss)]
                            let p = percent(*met as f64 / (*all).max(1) as f64);
                            (p, (p / 25).min(4))
                        })
                })
                .collect(),
        })
        .collect();
    let counts = r.team_levels(None, direct).await.map_err(WebError::read)?;
    let mut levels: Vec<(String, u64, u32)> = counts
        .into_iter()
        .map(|(t, l, n)| match (t, l) {
            (Some(t), Some(l)) => {
                let rank = matrix
                    .as_ref()
                    .and_then(|m| m.level(&l))
                    .map_or(0, |x| x.rank.get());
                let (t, l) = names(matrix.as_ref(), &t, &l);
                (format!("{t} · {l}"), n, rank)
            }
            _ => ("No level yet".to_owned(), n, 0),
        })
        .collect();
    levels.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
    let levels: Vec<(String, u64)> = levels.into_iter().map(|(k, n, _)| (k, n)).collect();
    let heat_svg = charts::heatmap(
        &competencies,
        &heat
            .iter()
            .map(|h| (h.name.clone(), h.cells.iter().map(|(p, _)| *p).collect()))
            .collect::<Vec<_>>(),
    );
    let tracks = matrix
        .as_ref()
        .map(|m| {
            select_options(
                m.tracks().iter().map(|t| (t.key.as_str(), t.name.as_str())),
                filter.track.as_deref(),
            )
        })
        .unwrap_or_default();
    let page = TeamPage {
        layout: Layout::signed("My team", &s, "team"),
        direct,
        search: filter.search.clone().unwrap_or_default(),
        ready_only: filter.ready_only,
        tracks,
        filtered: filter != TeamFilter::default(),
        sorts: [
            ("readiness", "Readiness"),
            ("name", "Name"),
            ("level", "Level"),
        ]
        .into_iter()
        .map(|(value, label)| Choice {
            value,
            label,
            selected: value == sort_name,
        })
        .collect(),
        sort: sort_name,
        rows,
        total: team.total,
        next: team
            .has_next
            .then_some(team.end_cursor)
            .flatten()
            .map(|c| q.next(c)),
        competencies,
        heat,
        heat_svg,
        levels_svg: charts::level_bars(&levels),
        levels,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "person.html")]
pub(crate) struct PersonPage {
    layout: Layout,
    id: String,
    name: String,
    position: String,
    /// Their plan toward the next rung; `None`: not placed yet.
    plan: Option<PlanPart>,
    rate: RateForm,
    career: CareerView,
    open_case: Option<crate::pages::history::CaseRow>,
    csrf: String,
    notice: Option<String>,
    /// Deactivated people are shown as such (to HR admins, who alone see them).
    active: bool,
    /// HR's section: edit, deactivate, place.
    pub manage: Option<crate::pages::manage::ManageView>,
}

/// What a placed person's page adds: readiness, the plan's criteria, promotion targets.
pub(crate) struct PlanPart {
    ready: Option<bool>,
    score: u32,
    reasons: Vec<ReasonView>,
    toward: String,
    met: usize,
    total: usize,
    gaps: Vec<ItemView>,
    held: Vec<ItemView>,
    targets: Vec<PositionOption>,
}

#[derive(Deserialize, Default)]
pub(crate) struct PersonQuery {
    saved: Option<String>,
    done: Option<String>,
}

pub(crate) fn person_id(raw: &str) -> Result<PersonId, WebError> {
    raw.parse::<uuid::Uuid>()
        .map(PersonId)
        .map_err(|_| WebError::NotFound)
}

pub(crate) async fn person_page(
    st: &crate::WebState,
    s: &Signed,
    id: PersonId,
) -> Result<PersonPage, WebError> {
    if id == s.session.person.id {
        // One's own page is "My growth".
        return Err(WebError::NotFound);
    }
    let r = &s.reader;
    let plan = match plan_of(s, id).await? {
        PlanOf::Placed(plan) => plan,
        PlanOf::Unplaced(person) => {
            // Their record, history and HR's section (to place them); no plan.
            let career = career_of(st, s, id).await?;
            let manage = crate::pages::manage::view(s, &person, None).await?;
            return Ok(PersonPage::of(s, &person, career, manage));
        }
    };
    let readiness = r.one(id, async |r, ids| r.readiness(ids).await).await;
    let readiness = readiness.map_err(WebError::read)?;
    let matrix = plan_matrix(s, &plan).await?;
    let names_of = r.named(&raters(&plan.plan)).await.map_err(WebError::read)?;
    let (gaps, held) = sections(&plan.plan, &matrix, &names_of);
    let may_assess = r.may_assess(id).await.map_err(WebError::read)?;
    let career = career_of(st, s, id).await?;
    let p = &plan.plan;
    let rd = &readiness.readiness;
    let next = (!p.top_of_track).then(|| format!("{}/{}", p.target.track, p.target.level.key));
    let current = p
        .current
        .as_ref()
        .map(|c| format!("{}/{}", c.track, c.level.key));
    let manage = crate::pages::manage::view(s, &plan.person, current.as_deref()).await?;
    let mut page = PersonPage::of(s, &plan.person, career, manage);
    page.plan = Some(PlanPart {
        ready: rd.target.as_ref().map(|_| rd.ready),
        score: percent(rd.score),
        reasons: rd
            .reasons
            .iter()
            .map(|x| ReasonView {
                ok: x.ok,
                message: x.message.clone(),
            })
            .collect(),
        toward: format!("{} · {}", p.target.track_name, p.target.level.name),
        met: p.met(),
        total: p.total(),
        gaps,
        held,
        targets: positions(&matrix, next.as_deref(), current.as_deref()),
    });
    if let Some(c) = &p.current {
        page.position = format!("{} · {}", c.track_name, c.level.name);
    }
    page.rate = if may_assess {
        RateForm::manager(&s.csrf, id)
    } else {
        RateForm::none(false)
    };
    Ok(page)
}

impl PersonPage {
    /// The page of `person` without a plan (someone not placed yet): their record, history
    /// and open case, and HR's section when the caller is an HR admin.
    fn of(
        s: &Signed,
        person: &rungs_domain::person::Person,
        career: CareerView,
        manage: Option<crate::pages::manage::ManageView>,
    ) -> Self {
        let open_case =
            career
                .cases
                .iter()
                .find(|c| c.open)
                .map(|c| crate::pages::history::CaseRow {
                    id: c.id.clone(),
                    status: c.status,
                    open: c.open,
                    from: c.from.clone(),
                    to: c.to.clone(),
                    proposer: c.proposer.clone(),
                    proposed_on: c.proposed_on.clone(),
                    justification: c.justification.clone(),
                    events: Vec::new(),
                });
        // HR admins come here from the directory; managers from their team.
        let nav = if manage.is_some() { "people" } else { "team" };
        Self {
            layout: Layout::signed(&person.display_name, s, nav),
            id: person.id.to_string(),
            name: person.display_name.clone(),
            position: "no level yet".to_owned(),
            plan: None,
            rate: RateForm::none(false),
            career,
            open_case,
            csrf: s.csrf.clone(),
            notice: None,
            active: person.active,
            manage,
        }
    }
}

/// `GET /people/{id}`: a report's page (a 404 for anyone the caller may not see).
pub(crate) async fn person(
    st: State,
    s: Signed,
    Path(raw): Path<String>,
    Query(q): Query<PersonQuery>,
) -> Result<Response, WebError> {
    let id = person_id(&raw)?;
    let mut page = person_page(&st, &s, id).await?;
    if let Some(plan) = &mut page.plan {
        mark_saved(&mut plan.gaps, q.saved.as_deref());
        mark_saved(&mut plan.held, q.saved.as_deref());
    }
    page.notice = match q.done.as_deref() {
        Some("proposed") => Some("The promotion is proposed.".to_owned()),
        Some("commented") => Some("Your comment is added.".to_owned()),
        Some("withdrawn") => Some("The case is withdrawn.".to_owned()),
        Some("added") => Some("The person is added.".to_owned()),
        Some("updated") => Some("The changes are saved.".to_owned()),
        Some("placed") => Some("The new position is recorded.".to_owned()),
        _ => None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /people/{id}/assess`: a manager's rating of one criterion.
pub(crate) async fn assess(
    st: State,
    s: Signed,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Form(f): Form<RateInput>,
) -> Result<Response, WebError> {
    let id = person_id(&raw)?;
    let outcome = save_rating(&st, &s, id, &f).await;
    if let Err(
        e @ (WebError::Csrf | WebError::NotFound | WebError::Refused(_) | WebError::Internal),
    ) = outcome
    {
        return Err(e);
    }
    let key = f.expectation_key().to_owned();
    let url = format!("/people/{id}");
    if outcome.is_ok() && !crate::pages::is_htmx(&headers) {
        return Ok(Redirect::to(&format!("{url}?saved={key}#c-{key}")).into_response());
    }
    let mut page = person_page(&st, &s, id).await?;
    let Some(plan) = page.plan.as_mut() else {
        // Not placed: there is nothing to assess yet (the use case has said why).
        return Err(outcome.err().unwrap_or_else(|| {
            WebError::Invalid("They have no level yet: there is no plan to assess.".into())
        }));
    };
    let mut items = (
        std::mem::take(&mut plan.gaps),
        std::mem::take(&mut plan.held),
    );
    let rate = RateForm::manager(&s.csrf, id);
    rated(
        &headers,
        outcome,
        &key,
        &url,
        &mut items,
        |items| {
            if let Some(plan) = page.plan.as_mut() {
                plan.gaps = std::mem::take(&mut items.0);
                plan.held = std::mem::take(&mut items.1);
            }
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        },
        rate,
    )
}

#[derive(Deserialize)]
pub(crate) struct ProposeForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    justification: String,
}

/// `POST /people/{id}/propose`
pub(crate) async fn propose(
    st: State,
    s: Signed,
    Path(raw): Path<String>,
    Form(f): Form<ProposeForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let id = person_id(&raw)?;
    let target = f.target.split_once('/');
    st.app
        .propose_promotion(
            &s.session.actor,
            s.session.org.slug.as_str(),
            Proposal {
                person: id,
                target,
                justification: f.justification.trim(),
            },
        )
        .await
        .map_err(WebError::action)?;
    Ok(Redirect::to(&format!("/people/{id}?done=proposed#cases")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct NoteForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    note: String,
    /// An approval's effective date (`YYYY-MM-DD`; today when empty).
    #[serde(default)]
    effective: String,
}

/// `POST /cases/{id}/comment`, `/cases/{id}/withdraw`, and an HR admin's `/cases/{id}/approve`
/// and `/cases/{id}/reject` (the promotion queue's).
pub(crate) async fn case_action(
    st: State,
    s: Signed,
    Path((raw, action)): Path<(String, String)>,
    Form(f): Form<NoteForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let id = raw
        .parse::<uuid::Uuid>()
        .map(CaseId)
        .map_err(|_| WebError::NotFound)?;
    if let Some(approve) = match action.as_str() {
        "approve" => Some(true),
        "reject" => Some(false),
        _ => None,
    } {
        return crate::pages::promotions::decide(&st, &s, id, approve, f.note, f.effective).await;
    }
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let (view, done) = match action.as_str() {
        "comment" => (
            st.app
                .comment_on_promotion(actor, org, id, f.note.trim())
                .await,
            "commented",
        ),
        "withdraw" => (
            st.app
                .withdraw_promotion(actor, org, id, f.note.trim())
                .await,
            "withdrawn",
        ),
        _ => return Err(WebError::NotFound),
    };
    let view = view.map_err(WebError::action)?;
    let person = view.case.person_id;
    let url = if person == s.session.person.id {
        format!("/history?done={done}#cases")
    } else {
        format!("/people/{person}?done={done}#cases")
    };
    Ok(Redirect::to(&url).into_response())
}

#[cfg(test)]
mod tests {
    use super::TeamQuery;

    #[test]
    fn the_next_page_keeps_every_choice_and_drops_empty_ones() {
        let q = TeamQuery {
            scope: Some("direct".into()),
            sort: Some("name".into()),
            q: Some("Ana & Bo".into()),
            track: Some(String::new()),
            ready: Some("1".into()),
            after: Some("old".into()),
        };
        assert_eq!(
            q.next("abc".into()),
            "/team?scope=direct&sort=name&q=Ana+%26+Bo&ready=1&after=abc"
        );
        let f = q.filter();
        assert!(f.ready_only);
        assert_eq!(f.search.as_deref(), Some("Ana & Bo"));
        assert_eq!(f.track, None);
    }
}
