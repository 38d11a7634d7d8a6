//! HR's audit log: every change, newest first, filtered by action, by a person (what they did
//! and what was done about them) and by dates; 50 a page by keyset cursor, with the count. The
//! filter, order, count and page are SQL. HR admins only (anyone else: 404).

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::pages::people::given;
use crate::pages::team::{SelectOption, select_options};
use crate::session::Signed;
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use rungs_app::{Action, AppError, AuditFilter};
use serde::{Deserialize, Serialize};

/// Entries per page.
const PAGE: usize = 50;

pub(crate) struct EntryRow {
    pub at: String,
    pub who: String,
    pub action: String,
    pub detail: String,
    pub subjects: u32,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    actions: Vec<SelectOption>,
    person: String,
    from: String,
    to: String,
    filtered: bool,
    problems: Vec<String>,
    rows: Vec<EntryRow>,
    total: usize,
    next: Option<String>,
}

#[derive(Deserialize, Serialize, Default)]
pub(crate) struct AuditQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<String>,
    /// A person's email: entries by them or about them.
    #[serde(skip_serializing_if = "Option::is_none")]
    person: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

fn day(raw: &str, problems: &mut Vec<String>) -> Option<NaiveDate> {
    crate::pages::date_field(raw)
        .map_err(|why| problems.push(format!("{why}.")))
        .ok()
        .flatten()
}

/// `GET /audit`
pub(crate) async fn page(
    st: State,
    s: Signed,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    s.reader.may(Action::ReadAudit).map_err(WebError::read)?;
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let (action, person, from, to) = (
        given(q.action.as_ref()),
        given(q.person.as_ref()),
        given(q.from.as_ref()),
        given(q.to.as_ref()),
    );
    let mut problems = Vec::new();
    let mut filter = AuditFilter {
        action: action.clone(),
        ..Default::default()
    };
    let mut nobody = false;
    if let Some(email) = &person {
        match crate::pages::person_by_email(&st, &s, email).await {
            Ok(p) => filter.person = Some(p.id),
            Err(AppError::Invalid(why)) => {
                nobody = true;
                problems.push(format!("{why}."));
            }
            Err(e) => return Err(WebError::read(e)),
        }
    }
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
    filter.from = from
        .as_deref()
        .and_then(|f| day(f, &mut problems))
        .map(midnight);
    filter.until = to
        .as_deref()
        .and_then(|t| day(t, &mut problems))
        .and_then(|d| d.succ_opt())
        .map(midnight);
    let (rows, total, next) = if nobody {
        (Vec::new(), 0, None)
    } else {
        let page = st
            .app
            .audit_page(actor, org, &filter, Some(PAGE), q.after.as_deref())
            .await
            .map_err(WebError::read)?;
        let rows = page
            .items
            .iter()
            .map(|v| EntryRow {
                at: v.entry.at.format("%Y-%m-%d %H:%M UTC").to_string(),
                who: v.actor.as_ref().map_or_else(
                    || "an operator (command line)".to_owned(),
                    |p| format!("{} ({})", p.display_name, p.email.as_str()),
                ),
                action: v.entry.action.clone(),
                detail: v.entry.detail.clone(),
                subjects: v.entry.subject_count,
            })
            .collect();
        let next = page.has_next.then_some(page.end_cursor).flatten().map(|c| {
            let next = AuditQuery {
                action: action.clone(),
                person: person.clone(),
                from: from.clone(),
                to: to.clone(),
                after: Some(c),
            };
            format!(
                "/audit?{}",
                serde_urlencoded::to_string(&next).unwrap_or_default()
            )
        });
        (rows, page.total, next)
    };
    let known = st
        .app
        .audit_actions(actor, org)
        .await
        .map_err(WebError::read)?;
    let page = AuditPage {
        layout: Layout::signed("Audit log", &s, "analytics"),
        actions: select_options(
            known.iter().map(|a| (a.as_str(), a.as_str())),
            action.as_deref(),
        ),
        filtered: action.is_some() || person.is_some() || from.is_some() || to.is_some(),
        person: person.unwrap_or_default(),
        from: from.unwrap_or_default(),
        to: to.unwrap_or_default(),
        problems,
        rows,
        total,
        next,
    };
    Ok(render(StatusCode::OK, &page))
}
