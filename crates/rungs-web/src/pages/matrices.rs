//! HR's matrices: the list with every version (who published what, when, why) and the draft;
//! any version as the grid of tracks × levels with each criterion's text, examples and
//! resources on demand; export in every format; the diff of any two versions grouped by what
//! changed; and the draft editor: start a draft from the newest version, edit it in place
//! (a level's or a track's name, a new track, a cell's titles, its criteria: add, edit,
//! remove, reorder), every edit saved at once against the revision the page was read at, so
//! that an edit made meanwhile by someone else is answered with a conflict and the current
//! content, never overwritten; publish it with a note, or discard it. The use cases are the
//! API's (`edit_draft` checks the whole matrix after each edit). HR admins only (anyone else:
//! 404).

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::session::Signed;
use askama::Template;
use axum::extract::{Form, Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rungs_app::{Action, AppError, VersionRef};
use rungs_domain::edit::{CellRef, ExpectationPatch, MatrixEdit, Patch, ResourceOwner};
use rungs_domain::matrix::{
    BranchDraft, CompetencyDraft, ExpectationDraft, LevelDraft, Matrix, ResourceDraft, ThemeDraft,
    TrackDraft, VersionInfo, VersionStatus,
};
use rungs_format::ExportFormat;
use serde::Deserialize;

pub(crate) struct MatrixRow {
    pub key: String,
    pub name: String,
    pub latest: String,
    pub has_draft: bool,
    pub tracks: usize,
    pub levels: usize,
    pub criteria: usize,
}

#[derive(Template)]
#[template(path = "matrices.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<MatrixRow>,
}

/// Refuses anyone who may not edit the organisation's matrices (HR admins may).
fn editor_only(s: &Signed) -> Result<(), WebError> {
    s.reader.may(Action::EditMatrix).map_err(WebError::read)
}

/// `GET /matrices`
pub(crate) async fn list(st: State, s: Signed) -> Result<Response, WebError> {
    editor_only(&s)?;
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let page = st
        .app
        .matrices_page(actor, org, Some(100), None)
        .await
        .map_err(WebError::read)?;
    let rows = page
        .items
        .into_iter()
        .map(|m| MatrixRow {
            key: m.key.to_string(),
            name: m.name,
            latest: m
                .latest_version
                .map_or_else(|| "none yet".to_owned(), |n| format!("version {n}")),
            has_draft: m.has_draft,
            tracks: m.tracks,
            levels: m.levels,
            criteria: m.expectations,
        })
        .collect();
    let page = ListPage {
        layout: Layout::signed("Matrices", &s, "matrices"),
        rows,
    };
    Ok(render(StatusCode::OK, &page))
}

pub(crate) struct VersionRow {
    pub label: String,
    /// `?v=` for this version.
    pub v: String,
    pub draft: bool,
    pub created: String,
    pub published: String,
    pub note: String,
    /// The version before it, to diff against.
    pub previous: Option<String>,
    pub shown: bool,
}

pub(crate) struct CriterionView {
    pub key: String,
    pub label: String,
    pub name: String,
    pub description: String,
    /// The competency's key (empty: none) and what it reads as.
    pub competency: String,
    pub competency_label: String,
    /// In a grouped cell, the competency this criterion's group starts with.
    pub group: Option<String>,
    pub examples: Vec<String>,
    pub resources: Vec<(String, Option<String>)>,
}

pub(crate) struct CellView {
    pub track: String,
    pub level: String,
    /// `None`: the level is not a rung of this track.
    pub titles: Option<String>,
    pub summary: String,
    pub criteria: Vec<CriterionView>,
    /// The cell's own resources (title, link).
    pub resources: Vec<(String, Option<String>)>,
}

pub(crate) struct LevelRow {
    pub key: String,
    pub name: String,
    pub cells: Vec<CellView>,
}

pub(crate) struct TrackHead {
    pub key: String,
    pub name: String,
    pub selected: bool,
}

/// A matrix as the grid of tracks (across) × levels (down).
/// With `grouped`, each cell's criteria are ordered by competency (in the matrix's order,
/// those without one last), for reading; the editor keeps the cell's own order.
fn grid(m: &Matrix, only_track: Option<&str>, grouped: bool) -> (Vec<TrackHead>, Vec<LevelRow>) {
    let mut levels: Vec<_> = m.levels().iter().collect();
    levels.sort_by_key(|l| l.rank);
    let tracks: Vec<_> = m
        .tracks()
        .iter()
        .filter(|t| only_track.is_none_or(|k| t.key.as_str() == k))
        .collect();
    let rows = levels
        .iter()
        .map(|l| LevelRow {
            key: l.key.to_string(),
            name: l.name.clone(),
            cells: tracks
                .iter()
                .map(|t| {
                    let cell = m.cell(t.key.as_str(), l.key.as_str());
                    CellView {
                        track: t.key.to_string(),
                        level: l.key.to_string(),
                        titles: m
                            .has_position(t.key.as_str(), l.key.as_str())
                            .then(|| cell.map(|c| c.titles.join(", ")).unwrap_or_default()),
                        summary: cell.and_then(|c| c.summary.clone()).unwrap_or_default(),
                        resources: cell
                            .map(|c| {
                                c.resources
                                    .iter()
                                    .map(|r| (r.title.clone(), r.url.clone()))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        criteria: cell
                            .map(|c| {
                                c.expectations
                                    .iter()
                                    .map(|e| CriterionView {
                                        key: e.key.to_string(),
                                        label: e.label(),
                                        name: e.name.clone(),
                                        description: e.description.clone().unwrap_or_default(),
                                        competency: e
                                            .competency
                                            .as_ref()
                                            .map_or_else(String::new, ToString::to_string),
                                        competency_label: m.competency_label(e).unwrap_or_default(),
                                        group: None,
                                        examples: e.examples.clone(),
                                        resources: e
                                            .resources
                                            .iter()
                                            .map(|r| (r.title.clone(), r.url.clone()))
                                            .collect(),
                                    })
                                    .collect::<Vec<_>>()
                            })
                            .map(|mut list| {
                                if grouped {
                                    let order = |c: &str| {
                                        m.competencies()
                                            .iter()
                                            .position(|x| x.key.as_str() == c)
                                            .unwrap_or(usize::MAX)
                                    };
                                    list.sort_by_key(|x| order(&x.competency));
                                    let mut last = String::new();
                                    for x in &mut list {
                                        if x.competency_label != last {
                                            last.clone_from(&x.competency_label);
                                            x.group = Some(last.clone()).filter(|g| !g.is_empty());
                                        }
                                    }
                                }
                                list
                            })
                            .unwrap_or_default(),
                    }
                })
                .collect(),
        })
        .collect();
    let heads = m
        .tracks()
        .iter()
        .map(|t| TrackHead {
            key: t.key.to_string(),
            name: t.name.clone(),
            selected: only_track.is_some_and(|k| t.key.as_str() == k),
        })
        .collect();
    (heads, rows)
}

#[derive(Template)]
#[template(path = "matrix_version.html")]
struct VersionPage {
    layout: Layout,
    key: String,
    name: String,
    label: String,
    v: String,
    has_draft: bool,
    csrf: String,
    versions: Vec<VersionRow>,
    tracks: Vec<TrackHead>,
    rows: Vec<LevelRow>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct VersionQuery {
    v: Option<String>,
    done: Option<String>,
}

fn version_ref(raw: Option<&str>) -> Result<VersionRef, WebError> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(VersionRef::Latest),
        Some(v) => VersionRef::parse(v).map_err(|_| WebError::NotFound),
    }
}

fn v_of(info: &VersionInfo) -> String {
    info.number
        .map_or_else(|| "draft".to_owned(), |n| n.to_string())
}

fn label_of(info: &VersionInfo) -> String {
    info.number
        .map_or_else(|| "the draft".to_owned(), |n| format!("version {n}"))
}

/// `GET /matrices/{key}?v=`: a version (the newest published by default) and every version.
pub(crate) async fn version(
    st: State,
    s: Signed,
    Path(key): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, WebError> {
    editor_only(&s)?;
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let which = version_ref(q.v.as_deref())?;
    let (info, m) = st
        .app
        .matrix_version(actor, org, &key, which)
        .await
        .map_err(WebError::read)?;
    let all = st
        .app
        .matrix_versions(actor, org, &key)
        .await
        .map_err(WebError::read)?;
    let mut versions: Vec<VersionRow> = Vec::new();
    let mut previous: Option<String> = None;
    let who = |n: &Option<String>| n.clone().unwrap_or_else(|| "an operator".to_owned());
    for v in &all {
        let this = v_of(&v.info);
        versions.push(VersionRow {
            label: label_of(&v.info),
            v: this.clone(),
            draft: v.info.status != VersionStatus::Published,
            created: format!(
                "{} by {}",
                v.info.created_at.date_naive(),
                who(&v.created_by_name)
            ),
            published: v.info.published_at.map_or_else(String::new, |at| {
                format!("{} by {}", at.date_naive(), who(&v.published_by_name))
            }),
            note: v.info.note.clone().unwrap_or_default(),
            previous: previous.clone(),
            shown: v.info.id == info.id,
        });
        if v.info.status == VersionStatus::Published {
            previous = Some(this);
        }
    }
    // The draft's "previous" is the newest published version.
    versions.reverse();
    let (tracks, rows) = grid(&m, None, true);
    let page = VersionPage {
        layout: Layout::signed(m.name(), &s, "matrices"),
        key: key.clone(),
        name: m.name().to_owned(),
        label: label_of(&info),
        v: v_of(&info),
        has_draft: all.iter().any(|v| v.info.number.is_none()),
        csrf: s.csrf.clone(),
        versions,
        tracks,
        rows,
        notice: match q.done.as_deref() {
            Some("published") => Some(format!("Published as {}.", label_of(&info))),
            Some("discarded") => Some("The draft is discarded.".into()),
            Some("imported") => Some("The file is imported.".into()),
            Some("unchanged") => {
                Some("The file is the same as the matrix: nothing was changed.".into())
            }
            _ => None,
        },
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize, Default)]
pub(crate) struct ExportQuery {
    v: Option<String>,
    format: Option<String>,
}

/// `GET /matrices/{key}/export?v=&format=yaml|json|csv|markdown|html`: a download.
pub(crate) async fn export(
    st: State,
    s: Signed,
    Path(key): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    editor_only(&s)?;
    let which = version_ref(q.v.as_deref())?;
    let (format, ext, mime) = match q.format.as_deref().unwrap_or("yaml") {
        "yaml" => (ExportFormat::Yaml, "yaml", "application/yaml"),
        "json" => (ExportFormat::Json, "json", "application/json"),
        "csv" => (ExportFormat::Csv, "csv", "text/csv; charset=utf-8"),
        "markdown" => (ExportFormat::Markdown, "md", "text/markdown; charset=utf-8"),
        "html" => (ExportFormat::Html, "html", "text/html; charset=utf-8"),
        _ => return Err(WebError::NotFound),
    };
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let text = st
        .app
        .export_matrix(actor, org, &key, format, which)
        .await
        .map_err(WebError::read)?;
    let v = match which {
        VersionRef::Number(n) => format!("v{n}"),
        VersionRef::Draft => "draft".to_owned(),
        VersionRef::Latest => "latest".to_owned(),
    };
    // The key is a checked slug: safe in a header.
    let disposition = format!("attachment; filename=\"{key}-{v}.{ext}\"");
    let mut res = text.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(d) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    Ok(res)
}

pub(crate) struct ChangeRow {
    pub kind: &'static str,
    pub what: String,
    pub field: String,
    pub before: String,
    pub after: String,
}

pub(crate) struct ChangeGroup {
    pub heading: String,
    pub changes: Vec<ChangeRow>,
}

#[derive(Template)]
#[template(path = "matrix_diff.html")]
struct DiffPage {
    layout: Layout,
    key: String,
    from: String,
    to: String,
    groups: Vec<ChangeGroup>,
    count: usize,
}

#[derive(Deserialize, Default)]
pub(crate) struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /matrices/{key}/diff?from=&to=`: what changed, grouped by the track and level (or the
/// part of the matrix) it is about.
pub(crate) async fn diff(
    st: State,
    s: Signed,
    Path(key): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, WebError> {
    editor_only(&s)?;
    let from = version_ref(q.from.as_deref())?;
    let to = match q.to.as_deref() {
        None | Some("") => VersionRef::Draft,
        Some(v) => version_ref(Some(v))?,
    };
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let d = st
        .app
        .diff_versions(actor, org, &key, from, to)
        .await
        .map_err(WebError::read)?;
    let names = st
        .app
        .matrix_version(actor, org, &key, to)
        .await
        .map(|(_, m)| m)
        .ok();
    let mut groups: Vec<ChangeGroup> = Vec::new();
    for c in &d.diff.changes {
        let entity = c.entity.as_str();
        let heading = match entity {
            "cell" | "expectation" | "resource" => {
                // `track/level` (a cell), or a criterion or resource by key.
                match c.key.split_once('/') {
                    Some((t, l)) if entity == "cell" => {
                        let (t, l) = crate::pages::history::names(names.as_ref(), t, l);
                        format!("{t} · {l}")
                    }
                    _ => "Criteria and resources".to_owned(),
                }
            }
            "level" => "Levels".to_owned(),
            "track" => "Tracks".to_owned(),
            "theme" | "competency" => "Competencies and themes".to_owned(),
            _ => "The matrix".to_owned(),
        };
        let row = ChangeRow {
            kind: c.kind.as_str(),
            what: c.label.clone().map_or_else(
                || format!("{entity} {}", c.key),
                |l| format!("{entity} {} ({l})", c.key),
            ),
            field: c.field.clone().unwrap_or_default(),
            before: c.before.clone().unwrap_or_default(),
            after: c.after.clone().unwrap_or_default(),
        };
        match groups.iter_mut().find(|g| g.heading == heading) {
            Some(g) => g.changes.push(row),
            None => groups.push(ChangeGroup {
                heading,
                changes: vec![row],
            }),
        }
    }
    let page = DiffPage {
        layout: Layout::signed("Changes", &s, "matrices"),
        key,
        from: label_of(&d.from),
        to: label_of(&d.to),
        count: d.diff.changes.len(),
        groups,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "matrix_draft.html")]
pub(crate) struct DraftPage {
    layout: Layout,
    key: String,
    name: String,
    revision: u32,
    csrf: String,
    tracks: Vec<TrackHead>,
    track: String,
    track_name: String,
    rows: Vec<LevelRow>,
    /// Every level in order: key, name, and whether it is on this track's ladder.
    levels: Vec<(String, String, bool)>,
    /// The track this one branches from, if it does (kept when its ladder is set).
    branch: Option<(String, String)>,
    /// (key, name, theme key) of every competency, and (key, name) of every theme.
    competencies: Vec<(String, String, String)>,
    themes: Vec<(String, String)>,
    notice: Option<String>,
    /// An edit that was not saved: why (and, for a conflict, that the page is the new content).
    problem: Option<String>,
    conflict: bool,
}

#[derive(Deserialize, Default)]
pub(crate) struct DraftQuery {
    track: Option<String>,
    done: Option<String>,
}

async fn draft_page(
    st: &crate::WebState,
    s: &Signed,
    key: &str,
    track: Option<&str>,
) -> Result<DraftPage, WebError> {
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let (info, m) = st
        .app
        .matrix_version(actor, org, key, VersionRef::Draft)
        .await
        .map_err(WebError::read)?;
    let track = track
        .and_then(|t| m.track(t))
        .or_else(|| m.tracks().first())
        .map(|t| (t.key.to_string(), t.name.clone()))
        .unwrap_or_default();
    let (tracks, rows) = grid(&m, Some(&track.0), false);
    let mut all_levels: Vec<_> = m.levels().iter().collect();
    all_levels.sort_by_key(|l| l.rank);
    let on_ladder: Vec<String> = m
        .ladder(&track.0)
        .iter()
        .map(|l| l.key.to_string())
        .collect();
    let branch = m
        .track(&track.0)
        .and_then(|t| t.branches_from.as_ref())
        .map(|b| (b.track.to_string(), b.level.to_string()));
    Ok(DraftPage {
        layout: Layout::signed(&format!("Draft of {}", m.name()), s, "matrices"),
        key: key.to_owned(),
        name: m.name().to_owned(),
        revision: info.revision,
        csrf: s.csrf.clone(),
        tracks,
        track: track.0,
        track_name: track.1,
        rows,
        levels: all_levels
            .iter()
            .map(|l| {
                let k = l.key.to_string();
                let on = on_ladder.contains(&k);
                (k, l.name.clone(), on)
            })
            .collect(),
        branch,
        competencies: m
            .competencies()
            .iter()
            .map(|c| {
                (
                    c.key.to_string(),
                    c.name.clone(),
                    c.theme
                        .as_ref()
                        .map_or_else(String::new, ToString::to_string),
                )
            })
            .collect(),
        themes: m
            .themes()
            .iter()
            .map(|t| (t.key.to_string(), t.name.clone()))
            .collect(),
        notice: None,
        problem: None,
        conflict: false,
    })
}

/// `GET /matrices/{key}/draft?track=`: the editor, one track's cells at a time.
pub(crate) async fn draft(
    st: State,
    s: Signed,
    Path(key): Path<String>,
    Query(q): Query<DraftQuery>,
) -> Result<Response, WebError> {
    editor_only(&s)?;
    let mut page = draft_page(&st, &s, &key, q.track.as_deref()).await?;
    page.notice = match q.done.as_deref() {
        Some("saved") => Some("Saved.".into()),
        Some("started") => Some("The draft is started from the newest version.".into()),
        _ => None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /matrices/{key}/draft/start`
pub(crate) async fn start(
    st: State,
    s: Signed,
    Path(key): Path<String>,
    Form(f): Form<crate::session::CsrfForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    editor_only(&s)?;
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    st.app
        .start_draft(actor, org, &key)
        .await
        .map_err(WebError::action)?;
    Ok(Redirect::to(&format!("/matrices/{key}/draft?done=started")).into_response())
}

/// One edit from the editor's forms (`op` says which; the other fields as it needs them).
#[derive(Deserialize, Default)]
pub(crate) struct EditForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    revision: u32,
    #[serde(default)]
    op: String,
    /// The track the editor shows (to come back to).
    #[serde(default)]
    track: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    criterion: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    titles: String,
    /// For a move: `up` or `down`.
    #[serde(default)]
    direction: String,
    /// For a move: the item's index in its list.
    #[serde(default)]
    index: usize,
    #[serde(default)]
    competency: String,
    #[serde(default)]
    theme: String,
    /// A criterion's examples, one per line.
    #[serde(default)]
    examples: String,
    #[serde(default)]
    url: String,
    /// A track's ladder: the level keys ticked (repeated field).
    #[serde(default)]
    ladder: Vec<String>,
    #[serde(default)]
    branch_track: String,
    #[serde(default)]
    branch_level: String,
}

fn field(v: &str, what: &str) -> Result<String, AppError> {
    let v = v.trim();
    if v.is_empty() {
        Err(AppError::Invalid(format!("{what} cannot be empty")))
    } else {
        Ok(v.to_owned())
    }
}

impl EditForm {
    /// A resource's owner: the criterion named, or else the cell (track and level).
    fn resource_owner(&self) -> ResourceOwner {
        if self.criterion.is_empty() {
            ResourceOwner::Cell {
                track: self.track.clone(),
                level: self.level.clone(),
            }
        } else {
            ResourceOwner::Expectation(self.criterion.clone())
        }
    }

    fn edit(&self) -> Result<MatrixEdit, AppError> {
        let patch_name = |name: &str| Patch {
            name: Some(name.to_owned()),
            ..Patch::default()
        };
        Ok(match self.op.as_str() {
            "rename_level" => MatrixEdit::UpdateLevel {
                key: self.level.clone(),
                patch: patch_name(&field(&self.name, "a level's name")?),
                rank: None,
            },
            "rename_track" => MatrixEdit::UpdateTrack {
                key: self.track.clone(),
                patch: patch_name(&field(&self.name, "a track's name")?),
            },
            "add_track" => MatrixEdit::AddTrack {
                track: TrackDraft {
                    key: field(&self.key, "a track's key")?,
                    name: field(&self.name, "a track's name")?,
                    ..TrackDraft::default()
                },
                position: None,
            },
            "titles" => MatrixEdit::SetTitles {
                track: self.track.clone(),
                level: self.level.clone(),
                titles: self
                    .titles
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            },
            "add_criterion" => MatrixEdit::AddExpectation {
                track: self.track.clone(),
                level: self.level.clone(),
                expectation: ExpectationDraft {
                    key: field(&self.key, "a criterion's key")?,
                    name: field(&self.name, "a criterion's text")?,
                    description: Some(self.description.trim().to_owned()).filter(|d| !d.is_empty()),
                    ..ExpectationDraft::default()
                },
                position: None,
            },
            "edit_criterion" => MatrixEdit::UpdateExpectation {
                key: self.criterion.clone(),
                change: ExpectationPatch {
                    patch: Patch {
                        name: Some(field(&self.name, "a criterion's text")?),
                        description: Some(self.description.trim().to_owned()),
                        key: None,
                    },
                    competency: Some(self.competency.trim().to_owned()),
                    examples: Some(
                        self.examples
                            .lines()
                            .map(str::trim)
                            .filter(|e| !e.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    ),
                    title: None,
                },
            },
            "add_resource" => MatrixEdit::AddResource {
                owner: self.resource_owner(),
                resource: ResourceDraft {
                    title: field(&self.name, "a resource's title")?,
                    url: Some(self.url.trim().to_owned()).filter(|u| !u.is_empty()),
                    ..ResourceDraft::default()
                },
                position: None,
            },
            "remove_resource" => MatrixEdit::RemoveResource {
                owner: self.resource_owner(),
                index: self.index,
            },
            "add_level" => MatrixEdit::AddLevel {
                level: LevelDraft {
                    key: field(&self.key, "a level's key")?,
                    name: field(&self.name, "a level's name")?,
                    ..LevelDraft::default()
                },
                position: None,
            },
            "move_level" => MatrixEdit::MoveLevel {
                key: self.level.clone(),
                position: if self.direction == "up" {
                    self.index.saturating_sub(1)
                } else {
                    self.index + 1
                },
            },
            "remove_level" => MatrixEdit::RemoveLevel {
                key: self.level.clone(),
            },
            "ladder" => MatrixEdit::SetLadder {
                track: self.track.clone(),
                levels: Some(self.ladder.clone()),
                branches_from: (!self.branch_track.is_empty()).then(|| BranchDraft {
                    track: self.branch_track.clone(),
                    level: self.branch_level.clone(),
                }),
            },
            "add_competency" => MatrixEdit::AddCompetency {
                competency: CompetencyDraft {
                    key: field(&self.key, "a competency's key")?,
                    name: field(&self.name, "a competency's name")?,
                    theme: Some(self.theme.trim().to_owned()).filter(|t| !t.is_empty()),
                    ..CompetencyDraft::default()
                },
                position: None,
            },
            "edit_competency" => MatrixEdit::UpdateCompetency {
                key: self.competency.clone(),
                patch: patch_name(&field(&self.name, "a competency's name")?),
                theme: Some(self.theme.trim().to_owned()),
            },
            "remove_competency" => MatrixEdit::RemoveCompetency {
                key: self.competency.clone(),
            },
            "add_theme" => MatrixEdit::AddTheme {
                theme: ThemeDraft {
                    key: field(&self.key, "a theme's key")?,
                    name: field(&self.name, "a theme's name")?,
                    ..ThemeDraft::default()
                },
                position: None,
            },
            "rename_theme" => MatrixEdit::UpdateTheme {
                key: self.theme.clone(),
                patch: patch_name(&field(&self.name, "a theme's name")?),
            },
            "remove_theme" => MatrixEdit::RemoveTheme {
                key: self.theme.clone(),
            },
            "remove_criterion" => MatrixEdit::UnlinkExpectation {
                key: self.criterion.clone(),
                track: self.track.clone(),
                level: self.level.clone(),
            },
            "move_criterion" => MatrixEdit::MoveExpectation {
                key: self.criterion.clone(),
                from: Some(CellRef {
                    track: self.track.clone(),
                    level: self.level.clone(),
                }),
                track: self.track.clone(),
                level: self.level.clone(),
                position: Some(if self.direction == "up" {
                    self.index.saturating_sub(1)
                } else {
                    self.index + 1
                }),
            },
            _ => return Err(AppError::Invalid("unknown edit".into())),
        })
    }
}

/// `POST /matrices/{key}/draft/edit`: one edit, saved at once against the revision the page
/// was read at. A conflict (someone else saved meanwhile) shows the current draft with 409.
pub(crate) async fn edit(
    st: State,
    s: Signed,
    Path(key): Path<String>,
    axum_extra::extract::Form(f): axum_extra::extract::Form<EditForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    editor_only(&s)?;
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let result = match f.edit() {
        Ok(e) => st
            .app
            .edit_draft(actor, org, &key, f.revision, &[e])
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    let back = if f.op == "add_track" {
        f.key.trim().to_owned()
    } else {
        f.track.clone()
    };
    let (status, why, conflict) = match result {
        Ok(()) => {
            let url = format!(
                "/matrices/{key}/draft?track={}&done=saved",
                crate::session::urlencode(&back)
            );
            return Ok(Redirect::to(&url).into_response());
        }
        Err(AppError::StateConflict(m)) => (StatusCode::CONFLICT, m, true),
        Err(AppError::Conflict(_)) => (
            StatusCode::CONFLICT,
            "someone else saved the draft at the same moment".to_owned(),
            true,
        ),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            WebError::refusal(e)?,
            false,
        ),
    };
    let mut page = draft_page(&st, &s, &key, Some(&f.track)).await?;
    page.problem = Some(why);
    page.conflict = conflict;
    Ok(render(status, &page))
}

#[derive(Deserialize)]
pub(crate) struct PublishForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    revision: u32,
    #[serde(default)]
    note: String,
}

/// `POST /matrices/{key}/draft/publish`: the draft as read at `revision` becomes the next
/// version, with its note.
pub(crate) async fn publish(
    st: State,
    s: Signed,
    Path(key): Path<String>,
    Form(f): Form<PublishForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    editor_only(&s)?;
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    match st
        .app
        .publish_matrix(actor, org, &key, &f.note, Some(f.revision))
        .await
    {
        Ok(v) => Ok(
            Redirect::to(&format!("/matrices/{key}?v={}&done=published", v_of(&v))).into_response(),
        ),
        Err(e) => {
            let (status, conflict) = match &e {
                AppError::StateConflict(_) | AppError::Conflict(_) => (StatusCode::CONFLICT, true),
                _ => (StatusCode::UNPROCESSABLE_ENTITY, false),
            };
            let why = WebError::refusal(e)?;
            let mut page = draft_page(&st, &s, &key, None).await?;
            page.problem = Some(why);
            page.conflict = conflict;
            Ok(render(status, &page))
        }
    }
}

/// `POST /matrices/{key}/draft/discard`
pub(crate) async fn discard(
    st: State,
    s: Signed,
    Path(key): Path<String>,
    Form(f): Form<PublishForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    editor_only(&s)?;
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    st.app
        .discard_draft(actor, org, &key, Some(f.revision))
        .await
        .map_err(WebError::action)?;
    Ok(Redirect::to(&format!("/matrices/{key}?done=discarded")).into_response())
}
