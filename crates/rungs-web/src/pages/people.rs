//! The HR admin's people directory: everyone in the organisation, searched by name or email
//! and filtered by track, level, manager, those without a level yet (to place them) and
//! whether deactivated people are included; paged by
//! keyset cursor (the filter, order and page are SQL, as the API's `people`). Only HR admins
//! see it: anyone else gets the plain 404, as for a page that does not exist.

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::pages::history::names;
use crate::pages::team::{SelectOption, select_options};
use crate::session::Signed;
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use rungs_app::{AppError, PeopleFilter, ViewFields};
use serde::{Deserialize, Serialize};

/// People per page of the directory.
const PAGE: usize = 50;

pub(crate) struct PersonRow {
    pub id: String,
    /// The signed-in person's own row: it links to My growth (their page there).
    pub me: bool,
    pub name: String,
    pub email: String,
    pub position: String,
    pub manager: String,
    pub active: bool,
    pub admin: bool,
}

#[derive(Template)]
#[template(path = "people.html")]
struct DirectoryPage {
    layout: Layout,
    search: String,
    manager: String,
    include_inactive: bool,
    unplaced: bool,
    tracks: Vec<SelectOption>,
    levels: Vec<SelectOption>,
    filtered: bool,
    /// Why nothing can match (a manager's email that is no one's, a level asked of people
    /// without one).
    problem: Option<String>,
    rows: Vec<PersonRow>,
    total: usize,
    next: Option<String>,
}

#[derive(Deserialize, Serialize, Default, Clone)]
pub(crate) struct DirectoryQuery {
    /// The start of a word of a name or email (`rungs_domain::search`).
    #[serde(skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    track: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<String>,
    /// The manager's email: their direct reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    manager: Option<String>,
    /// "1": deactivated people too.
    #[serde(skip_serializing_if = "Option::is_none")]
    inactive: Option<String>,
    /// "1": only people without a level yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    unplaced: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

/// A choice the visitor made (trimmed; empty is no choice).
pub(crate) fn given(v: Option<&String>) -> Option<String> {
    v.map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl DirectoryQuery {
    /// The same choices without empty fields, after `cursor`.
    fn next(&self, cursor: String) -> String {
        let q = Self {
            q: given(self.q.as_ref()),
            track: given(self.track.as_ref()),
            level: given(self.level.as_ref()),
            manager: given(self.manager.as_ref()),
            inactive: given(self.inactive.as_ref()),
            unplaced: given(self.unplaced.as_ref()),
            after: Some(cursor),
        };
        format!(
            "/people?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    }
}

/// `GET /people`
pub(crate) async fn directory(
    st: State,
    s: Signed,
    Query(q): Query<DirectoryQuery>,
) -> Result<Response, WebError> {
    s.reader.may_manage_people().map_err(WebError::read)?;
    let include_inactive = q.inactive.as_deref() == Some("1");
    let unplaced = q.unplaced.as_deref() == Some("1");
    let manager_email = given(q.manager.as_ref());
    let mut filter = PeopleFilter {
        search: given(q.q.as_ref()),
        track: given(q.track.as_ref()),
        level: given(q.level.as_ref()),
        manager: None,
        unplaced,
        include_inactive,
        skip_total: false,
        fields: ViewFields {
            current: true,
            manager_email: true,
        },
    };
    let mut problem = None;
    if unplaced && (filter.track.is_some() || filter.level.is_some()) {
        problem = Some(
            "People without a level have no track or level: choose a track and level, or only people without a level."
                .to_owned(),
        );
    } else if let Some(email) = &manager_email {
        match crate::pages::person_by_email(&st, &s, email).await {
            Ok(p) => filter.manager = Some(p.id),
            Err(AppError::Invalid(why)) => problem = Some(format!("{why}.")),
            Err(e) => return Err(WebError::read(e)),
        }
    }
    let filtered = filter.search.is_some()
        || filter.track.is_some()
        || filter.level.is_some()
        || manager_email.is_some()
        || unplaced
        || include_inactive;
    let matrix = s.reader.matrix().await.ok().map(|(_, m)| m);
    let (rows, total, next) = if problem.is_some() {
        (Vec::new(), 0, None)
    } else {
        let page = s
            .reader
            .people_page(&filter, Some(PAGE), q.after.as_deref())
            .await
            .map_err(WebError::read)?;
        let rows = page
            .items
            .iter()
            .map(|v| PersonRow {
                id: v.person.id.to_string(),
                me: v.person.id == s.session.person.id,
                name: v.person.display_name.clone(),
                email: v.person.email.as_str().to_owned(),
                position: v.current.as_ref().map_or_else(
                    || "no level yet".to_owned(),
                    |a| {
                        let (t, l) = names(matrix.as_ref(), a.track.as_str(), a.level.as_str());
                        format!("{t} · {l}")
                    },
                ),
                manager: v
                    .manager_email
                    .as_ref()
                    .map_or_else(String::new, |e| e.as_str().to_owned()),
                active: v.person.active,
                admin: v.person.is_admin,
            })
            .collect();
        let next = page
            .has_next
            .then_some(page.end_cursor)
            .flatten()
            .map(|c| q.next(c));
        (rows, page.total, next)
    };
    let (tracks, levels) = matrix
        .as_ref()
        .map(|m| {
            (
                select_options(
                    m.tracks().iter().map(|t| (t.key.as_str(), t.name.as_str())),
                    filter.track.as_deref(),
                ),
                select_options(
                    m.levels().iter().map(|l| (l.key.as_str(), l.name.as_str())),
                    filter.level.as_deref(),
                ),
            )
        })
        .unwrap_or_default();
    let page = DirectoryPage {
        layout: Layout::signed("People", &s, "people"),
        search: filter.search.clone().unwrap_or_default(),
        manager: manager_email.unwrap_or_default(),
        include_inactive,
        unplaced,
        tracks,
        levels,
        filtered,
        problem,
        rows,
        total,
        next,
    };
    Ok(render(StatusCode::OK, &page))
}
