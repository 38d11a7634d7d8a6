//! The HR admin's promotion queue and readiness rule.
//!
//! The queue lists the organisation's promotion cases by status (open ones first), each with
//! the person's readiness and its reasons, the proposer's justification and the comments; an
//! open case is approved (with a note and the date the level takes effect) or rejected (with
//! the reason the person will read) in place. Nobody decides a case about themselves or one
//! they proposed: the page says so instead of offering the forms, and the use case refuses.
//!
//! The rule page shows the organisation's readiness rule and how many people it makes ready,
//! and previews a change (per track, now and under the new rule) before saving it. Both pages
//! are HR admins' only: anyone else gets the plain 404.

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::pages::growth::{ReasonView, percent, rating_label};
use crate::pages::history::{CaseRow, case_row, names};
use crate::pages::team::Choice;
use crate::session::Signed;
use askama::Template;
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use rungs_app::{Action, AppError, RulePreview, Verdict};
use rungs_domain::assessment::Rating;
use rungs_domain::growth::ReadinessRule;
use rungs_domain::promotion::PromotionStatus;
use rungs_domain::{CaseId, PersonId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Cases per page of the queue.
const PAGE: usize = 20;

/// The statuses the queue shows, as they read in its tabs.
const STATUSES: [(&str, &str, Option<PromotionStatus>); 5] = [
    ("open", "Open", Some(PromotionStatus::Proposed)),
    ("approved", "Approved", Some(PromotionStatus::Approved)),
    ("rejected", "Rejected", Some(PromotionStatus::Rejected)),
    ("withdrawn", "Withdrawn", Some(PromotionStatus::Withdrawn)),
    ("all", "All", None),
];

pub(crate) struct ReadinessSummary {
    pub ready: bool,
    pub score: u32,
    pub reasons: Vec<ReasonView>,
}

pub(crate) struct QueueCase {
    pub row: CaseRow,
    pub person_id: String,
    pub person: String,
    /// The person's readiness now (open cases of people with a level).
    pub readiness: Option<ReadinessSummary>,
    /// Why the caller may not decide this open case, if they may not.
    pub own: Option<&'static str>,
    /// Who decided a closed case, and when.
    pub decided: Option<String>,
    /// A decision that was not saved: why, and what was typed.
    pub problem: Option<String>,
    pub approve_note: String,
    pub reject_note: String,
    pub effective: String,
}

#[derive(Template)]
#[template(path = "promotions.html")]
struct QueuePage {
    layout: Layout,
    csrf: String,
    tabs: Vec<Choice>,
    heading: String,
    rule: String,
    cases: Vec<QueueCase>,
    next: Option<String>,
    notice: Option<String>,
    /// A decision on a case that is not on this page was not saved.
    problem: Option<String>,
}

#[derive(Deserialize, Serialize, Default)]
pub(crate) struct QueueQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    #[serde(skip_serializing)]
    done: Option<String>,
}

/// A readiness rule as a sentence.
fn rule_text(r: &ReadinessRule) -> String {
    format!(
        "ready when at least {}% of the next level's new criteria are rated {} or better by their \
         manager, after {} month{} in their level",
        percent(r.min_score),
        rating_label(r.min_rating).to_lowercase(),
        r.min_months_in_level,
        if r.min_months_in_level == 1 { "" } else { "s" },
    )
}

/// The queue for `q`, as the caller may see it.
async fn queue(st: &crate::WebState, s: &Signed, q: &QueueQuery) -> Result<QueuePage, WebError> {
    s.reader
        .may(Action::DecidePromotion)
        .map_err(WebError::read)?;
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let chosen = q.status.as_deref().unwrap_or("open");
    let (value, label, status) = STATUSES
        .iter()
        .find(|(v, ..)| *v == chosen)
        .copied()
        .ok_or(WebError::NotFound)?;
    let page = st
        .app
        .promotion_cases(actor, org, status, true, Some(PAGE), q.after.as_deref())
        .await
        .map_err(WebError::read)?;
    let rule = st
        .app
        .readiness_rule(actor, org)
        .await
        .map_err(WebError::read)?;

    // Everything the cases name, each in one batch: their versions' names, the people's
    // readiness (open cases only) and the comments.
    let version_ids: Vec<_> = page
        .items
        .iter()
        .map(|c| c.case.version_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let versions = s
        .reader
        .versions(&version_ids)
        .await
        .map_err(WebError::read)?;
    let open: Vec<PersonId> = page
        .items
        .iter()
        .filter(|c| c.case.status == PromotionStatus::Proposed)
        .map(|c| c.case.person_id)
        .collect();
    let readiness = if open.is_empty() {
        HashMap::new()
    } else {
        s.reader.readiness(&open).await.map_err(WebError::read)?
    };
    let ids: Vec<CaseId> = page.items.iter().map(|c| c.case.id).collect();
    let mut events = s.reader.case_events(&ids).await.map_err(WebError::read)?;
    let me = s.session.person.id;
    let today = Utc::now().date_naive().to_string();
    let cases = page
        .items
        .into_iter()
        .map(|mut c| {
            if let Some(Ok(ev)) = events.remove(&c.case.id) {
                c.events = ev;
            }
            let matrix = versions
                .get(&c.case.version_id)
                .and_then(|m| m.as_ref().ok());
            let row = case_row(&c, matrix);
            let open = c.case.status == PromotionStatus::Proposed;
            // Only an open case shows its person's readiness now (a person's closed cases
            // may be on the page too).
            let readiness = open
                .then(|| readiness.get(&c.case.person_id))
                .flatten()
                .and_then(|r| r.as_ref().ok())
                .filter(|r| r.readiness.target.is_some())
                .map(|r| ReadinessSummary {
                    ready: r.readiness.ready,
                    score: percent(r.readiness.score),
                    reasons: r
                        .readiness
                        .reasons
                        .iter()
                        .map(|x| ReasonView {
                            ok: x.ok,
                            message: x.message.clone(),
                        })
                        .collect(),
                });
            let own = if c.case.person_id == me {
                Some("This is your own promotion: another HR admin decides it.")
            } else if c.case.proposer_id == me {
                Some("You proposed this promotion: another HR admin decides it.")
            } else {
                None
            };
            let decided = c.case.decision.as_ref().map(|d| {
                let by = c
                    .decided_by
                    .as_ref()
                    .map_or_else(String::new, |p| p.display_name.clone());
                format!("{} by {by} on {}", row.status, d.at.date_naive())
            });
            QueueCase {
                person_id: c.case.person_id.to_string(),
                person: c
                    .person
                    .as_ref()
                    .map_or_else(String::new, |p| p.display_name.clone()),
                readiness,
                own: own.filter(|_| open),
                decided,
                problem: None,
                approve_note: String::new(),
                reject_note: String::new(),
                effective: today.clone(),
                row,
            }
        })
        .collect();
    let next = page.has_next.then_some(page.end_cursor).flatten().map(|c| {
        let q = QueueQuery {
            status: Some(value.to_owned()),
            after: Some(c),
            done: None,
        };
        format!(
            "/promotions?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    });
    let heading = match (value, page.total) {
        ("open", 1) => "1 open case".to_owned(),
        ("open", n) => format!("{n} open cases"),
        ("all", 1) => "1 case".to_owned(),
        ("all", n) => format!("{n} cases"),
        (_, 1) => format!("1 case {}", label.to_lowercase()),
        (_, n) => format!("{n} cases {}", label.to_lowercase()),
    };
    Ok(QueuePage {
        layout: Layout::signed("Promotions", s, "promotions"),
        csrf: s.csrf.clone(),
        tabs: STATUSES
            .iter()
            .map(|(v, l, _)| Choice {
                value: v,
                label: l,
                selected: *v == value,
            })
            .collect(),
        heading,
        rule: rule_text(&rule),
        cases,
        next,
        notice: match q.done.as_deref() {
            Some("approved") => {
                Some("The promotion is approved: the new level is recorded.".into())
            }
            Some("rejected") => Some("The promotion is rejected.".into()),
            _ => None,
        },
        problem: None,
    })
}

/// `GET /promotions`
pub(crate) async fn page(
    st: State,
    s: Signed,
    Query(q): Query<QueueQuery>,
) -> Result<Response, WebError> {
    let page = queue(&st, &s, &q).await?;
    Ok(render(StatusCode::OK, &page))
}

/// An HR admin's decision on a case (`POST /cases/{id}/approve` and `/cases/{id}/reject`,
/// routed with the other case actions; the CSRF token is checked there). A decision that
/// cannot be saved (a rejection without its reason, a case decided meanwhile) shows the queue
/// again with the reason at the case and what was typed kept.
pub(crate) async fn decide(
    st: &crate::WebState,
    s: &Signed,
    id: CaseId,
    approve: bool,
    note: String,
    effective_raw: String,
) -> Result<Response, WebError> {
    s.reader
        .may(Action::DecidePromotion)
        .map_err(WebError::read)?;
    let effective = crate::pages::date_field(&effective_raw)
        .map_err(|why| AppError::Invalid(format!("the effective date: {why}")));
    let verdict = effective.map(|effective| {
        if approve {
            Verdict::Approve {
                note: note.as_str(),
                effective,
            }
        } else {
            Verdict::Reject {
                note: note.as_str(),
            }
        }
    });
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let result = match verdict {
        Ok(v) => st.app.decide_promotion(actor, org, id, v).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let why = match result {
        Ok(()) => {
            let done = if approve { "approved" } else { "rejected" };
            return Ok(Redirect::to(&format!("/promotions?done={done}")).into_response());
        }
        Err(e) => WebError::refusal(e)?,
    };
    let mut page = queue(st, s, &QueueQuery::default()).await?;
    match page.cases.iter_mut().find(|c| c.row.id == id.to_string()) {
        Some(c) => {
            c.problem = Some(why);
            if approve {
                c.approve_note = note;
                c.effective = effective_raw;
            } else {
                c.reject_note = note;
            }
        }
        None => page.problem = Some(why),
    }
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

pub(crate) struct PreviewRow {
    pub track: String,
    pub people: u64,
    pub ready_now: u64,
    pub ready_under: u64,
}

#[derive(Template)]
#[template(path = "readiness_rule.html")]
struct RulePage {
    layout: Layout,
    csrf: String,
    current: String,
    ratings: Vec<Choice>,
    months: String,
    score: String,
    /// The rule previewed, when it differs from the one in force.
    proposed: Option<String>,
    people: u64,
    ready_now: u64,
    ready_under: u64,
    rows: Vec<PreviewRow>,
    notice: Option<String>,
    problem: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct RuleQuery {
    done: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RuleForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    min_rating: String,
    #[serde(default)]
    months: String,
    /// A percentage, 0 to 100.
    #[serde(default)]
    score: String,
    /// `preview` or `save`.
    #[serde(default)]
    intent: String,
}

impl RuleForm {
    fn rule(&self) -> Result<ReadinessRule, AppError> {
        let rating = Rating::parse(self.min_rating.trim())
            .map_err(|_| AppError::Invalid("choose the lowest rating that counts as met".into()))?;
        let months: u32 = self.months.trim().parse().map_err(|_| {
            AppError::Invalid(format!(
                "the months in level are a whole number from 0 to {}",
                ReadinessRule::MAX_MONTHS
            ))
        })?;
        let score: f64 = self
            .score
            .trim()
            .trim_end_matches('%')
            .parse()
            .ok()
            .filter(|s: &f64| (0.0..=100.0).contains(s))
            .ok_or_else(|| {
                AppError::Invalid("the criteria met are a percentage from 0 to 100".into())
            })?;
        Ok(ReadinessRule::new(rating, months, score / 100.0)?)
    }
}

fn rule_page(
    s: &Signed,
    shown: &ReadinessRule,
    p: &RulePreview,
    matrix: Option<&rungs_domain::matrix::Matrix>,
) -> RulePage {
    let rows = p
        .tracks
        .iter()
        .map(|t| PreviewRow {
            track: t
                .track
                .as_deref()
                .map_or_else(|| "No level yet".to_owned(), |k| names(matrix, k, "").0),
            people: t.people,
            ready_now: t.ready_now,
            ready_under: t.ready_under,
        })
        .collect();
    RulePage {
        layout: Layout::signed("Readiness rule", s, "promotions"),
        csrf: s.csrf.clone(),
        current: rule_text(&p.current),
        ratings: [Rating::Developing, Rating::Meets, Rating::Exceeds]
            .into_iter()
            .map(|r| Choice {
                value: r.as_str(),
                label: rating_label(r),
                selected: r == shown.min_rating,
            })
            .collect(),
        months: shown.min_months_in_level.to_string(),
        score: percent(shown.min_score).to_string(),
        proposed: (p.rule != p.current).then(|| rule_text(&p.rule)),
        people: p.people,
        ready_now: p.ready_now,
        ready_under: p.ready_under,
        rows,
        notice: None,
        problem: None,
    }
}

async fn preview(
    st: &crate::WebState,
    s: &Signed,
    rule: Option<ReadinessRule>,
) -> Result<(ReadinessRule, RulePreview), AppError> {
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let rule = match rule {
        Some(r) => r,
        None => st.app.readiness_rule(actor, org).await?,
    };
    let p = st.app.preview_readiness_rule(actor, org, rule).await?;
    Ok((rule, p))
}

/// `GET /promotions/rule`: the rule in force and how many people it makes ready.
pub(crate) async fn rule(
    st: State,
    s: Signed,
    Query(q): Query<RuleQuery>,
) -> Result<Response, WebError> {
    s.reader
        .may(Action::ConfigureReadiness)
        .map_err(WebError::read)?;
    let (rule, p) = preview(&st, &s, None).await.map_err(WebError::read)?;
    let matrix = s.reader.matrix().await.ok().map(|(_, m)| m);
    let mut page = rule_page(&s, &rule, &p, matrix.as_ref());
    if q.done.as_deref() == Some("saved") {
        page.notice = Some("The rule is saved: readiness everywhere follows it now.".into());
    }
    Ok(render(StatusCode::OK, &page))
}

/// `POST /promotions/rule`: preview a rule (nothing written) or save it.
pub(crate) async fn change_rule(
    st: State,
    s: Signed,
    Form(f): Form<RuleForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    s.reader
        .may(Action::ConfigureReadiness)
        .map_err(WebError::read)?;
    let matrix = s.reader.matrix().await.ok().map(|(_, m)| m);
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let rule = match f.rule() {
        Ok(r) => r,
        Err(e) => {
            let why = WebError::refusal(e)?;
            let (current, p) = preview(&st, &s, None).await.map_err(WebError::read)?;
            let mut page = rule_page(&s, &current, &p, matrix.as_ref());
            page.problem = Some(why);
            page.months = f.months;
            page.score = f.score;
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    if f.intent == "save" {
        st.app
            .set_readiness_rule(actor, org, rule)
            .await
            .map_err(WebError::action)?;
        return Ok(Redirect::to("/promotions/rule?done=saved").into_response());
    }
    let (rule, p) = preview(&st, &s, Some(rule))
        .await
        .map_err(WebError::action)?;
    Ok(render(
        StatusCode::OK,
        &rule_page(&s, &rule, &p, matrix.as_ref()),
    ))
}
