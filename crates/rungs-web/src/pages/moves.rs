//! HR's two file-driven matrix actions. **Moving people** to a newer version: the mapping of
//! renamed, split or merged keys (YAML, typed or uploaded; optional), a dry run that shows who
//! moves where, whose ratings are carried, who gains gaps and who waits for an open case, then
//! the move in one transaction. **Importing** a matrix file (YAML, JSON or CSV): a new matrix
//! becomes version 1, a changed one updates the draft; every problem is shown at its line and
//! column and nothing is written. The use cases are the CLI's. HR admins only (404 otherwise).

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::pages::history::names;
use crate::session::Signed;
use askama::Template;
use axum::extract::{Form, Multipart, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rungs_app::{Action, AppError, ImportOutcome, MatrixSource, VersionRef};
use rungs_domain::matrix::VersionStatus;
use rungs_format::MatrixFormat;
use rungs_format::mapping::parse_mapping;
use serde::Deserialize;

pub(crate) struct Problem {
    pub line: String,
    pub column: String,
    pub field: String,
    pub message: String,
}

pub(crate) fn problems(errs: &rungs_format::FileErrors) -> Vec<Problem> {
    errs.0
        .iter()
        .map(|e| Problem {
            line: e.line.map_or_else(String::new, |l| l.to_string()),
            column: e.column.map_or_else(String::new, |c| c.to_string()),
            field: e.field.clone().unwrap_or_default(),
            message: e.message.clone(),
        })
        .collect()
}

pub(crate) fn one_problem(message: String) -> Vec<Problem> {
    vec![Problem {
        line: String::new(),
        column: String::new(),
        field: String::new(),
        message,
    }]
}

pub(crate) struct MoveRow {
    pub name: String,
    pub email: String,
    pub from: String,
    pub to: String,
    pub carried: usize,
    pub dropped: String,
    pub new_gaps: String,
}

pub(crate) struct Report {
    pub target: String,
    pub rows: Vec<MoveRow>,
    pub already_there: usize,
    pub carried: usize,
    pub blocked: Vec<String>,
    pub gaining: usize,
}

#[derive(Template)]
#[template(path = "matrix_move.html")]
struct MovePage {
    layout: Layout,
    key: String,
    name: String,
    csrf: String,
    /// Published versions, newest first: (number, selected).
    versions: Vec<(u32, bool)>,
    mapping: String,
    problems: Vec<Problem>,
    report: Option<Report>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct MoveQuery {
    to: Option<u32>,
    moved: Option<usize>,
}

async fn move_page(
    st: &crate::WebState,
    s: &Signed,
    key: &str,
    to: Option<u32>,
) -> Result<MovePage, WebError> {
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let (_, m) = st
        .app
        .matrix_version(actor, org, key, VersionRef::Latest)
        .await
        .map_err(WebError::read)?;
    let all = st
        .app
        .matrix_versions(actor, org, key)
        .await
        .map_err(WebError::read)?;
    let mut numbers: Vec<u32> = all
        .iter()
        .filter(|v| v.info.status == VersionStatus::Published)
        .filter_map(|v| v.info.number)
        .collect();
    numbers.sort_unstable_by(|a, b| b.cmp(a));
    let chosen = to.or_else(|| numbers.first().copied());
    Ok(MovePage {
        layout: Layout::signed("Move people", s, "matrices"),
        key: key.to_owned(),
        name: m.name().to_owned(),
        csrf: s.csrf.clone(),
        versions: numbers.iter().map(|n| (*n, Some(*n) == chosen)).collect(),
        mapping: String::new(),
        problems: Vec::new(),
        report: None,
        notice: None,
    })
}

/// `GET /matrices/{key}/move?to=`
pub(crate) async fn form(
    st: State,
    s: Signed,
    Path(key): Path<String>,
    Query(q): Query<MoveQuery>,
) -> Result<Response, WebError> {
    s.reader.may(Action::MovePeople).map_err(WebError::read)?;
    let mut page = move_page(&st, &s, &key, q.to).await?;
    if let Some(n) = q.moved {
        page.notice = Some(format!(
            "Moved {n} {} to version {}.",
            if n == 1 { "person" } else { "people" },
            q.to.unwrap_or_default()
        ));
    }
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub(crate) struct MoveForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    to: u32,
    #[serde(default)]
    mapping: String,
    /// `preview` (a dry run) or `move`.
    #[serde(default)]
    intent: String,
}

/// `POST /matrices/{key}/move`: a dry run, or the move.
pub(crate) async fn submit(
    st: State,
    s: Signed,
    Path(key): Path<String>,
    Form(f): Form<MoveForm>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    s.reader.may(Action::MovePeople).map_err(WebError::read)?;
    let mut page = move_page(&st, &s, &key, Some(f.to)).await?;
    let text = f.mapping.replace("\r\n", "\n");
    page.mapping.clone_from(&text);
    let mapping = if text.trim().is_empty() {
        None
    } else {
        match parse_mapping(&text, MatrixFormat::Yaml, "mapping") {
            Ok(m) => Some(m),
            Err(errs) => {
                page.problems = problems(&errs);
                return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
            }
        }
    };
    let dry_run = f.intent != "move";
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let report = match st
        .app
        .move_people(actor, org, &key, f.to, mapping.as_ref(), dry_run)
        .await
    {
        Ok(r) => r,
        Err(AppError::InvalidFile(errs)) => {
            page.problems = problems(&errs);
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
        Err(e) => {
            page.problems = one_problem(WebError::refusal(e)?);
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    if !dry_run {
        return Ok(Redirect::to(&format!(
            "/matrices/{key}/move?to={}&moved={}",
            f.to,
            report.moves.len()
        ))
        .into_response());
    }
    let target = st
        .app
        .matrix_version(actor, org, &key, VersionRef::Number(f.to))
        .await
        .map(|(_, m)| m)
        .ok();
    let position = |p: &rungs_domain::promotion::Position| {
        let (t, l) = names(target.as_ref(), p.track.as_str(), p.level.as_str());
        format!("{t} · {l}")
    };
    let list = |v: &[rungs_domain::migrate::Named]| {
        v.iter()
            .map(|n| n.label.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let rows: Vec<MoveRow> = report
        .moves
        .iter()
        .map(|m| MoveRow {
            name: m.name.clone(),
            email: m.email.clone(),
            from: format!(
                "{} (v{})",
                position(&m.change.from),
                m.from_version.unwrap_or_default()
            ),
            to: position(&m.change.to),
            carried: m.change.carried,
            dropped: list(&m.change.dropped),
            new_gaps: list(&m.change.new_gaps),
        })
        .collect();
    page.report = Some(Report {
        target: format!("version {}", report.target.number.unwrap_or_default()),
        gaining: rows.iter().filter(|r| !r.new_gaps.is_empty()).count(),
        rows,
        already_there: report.already_there,
        carried: report.assessments_carried,
        blocked: report.blocked_by_open_cases.clone(),
    });
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "matrix_import.html")]
struct ImportPage {
    layout: Layout,
    csrf: String,
    key: String,
    problems: Vec<Problem>,
}

/// `GET /matrices/import`
pub(crate) async fn import_form(s: Signed) -> Result<Response, WebError> {
    s.reader.may(Action::ImportMatrix).map_err(WebError::read)?;
    let page = ImportPage {
        layout: Layout::signed("Import a matrix", &s, "matrices"),
        csrf: s.csrf.clone(),
        key: String::new(),
        problems: Vec::new(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /matrices/import` (multipart: `file`, and `key` for a CSV without a `matrix` column).
pub(crate) async fn import(st: State, s: Signed, mut m: Multipart) -> Result<Response, WebError> {
    let unreadable = |_| {
        WebError::Invalid("The form could not be read: please send it again (files up to the server's body limit).".into())
    };
    let (mut csrf, mut key, mut file) = (String::new(), String::new(), None);
    while let Some(field) = m.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "_csrf" => csrf = field.text().await.map_err(unreadable)?,
            "key" => key = field.text().await.map_err(unreadable)?,
            "file" => {
                let name = field.file_name().unwrap_or("matrix.yaml").to_owned();
                file = Some((name, field.bytes().await.map_err(unreadable)?));
            }
            _ => {}
        }
    }
    s.check_csrf(&csrf)?;
    s.reader.may(Action::ImportMatrix).map_err(WebError::read)?;
    let mut page = ImportPage {
        layout: Layout::signed("Import a matrix", &s, "matrices"),
        csrf: s.csrf.clone(),
        key: key.trim().to_owned(),
        problems: Vec::new(),
    };
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        page.problems = one_problem("Choose a YAML, JSON or CSV file.".into());
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let Ok(text) = String::from_utf8(bytes.to_vec()) else {
        page.problems = one_problem(format!("`{name}` is not UTF-8 text."));
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let lower = name.to_lowercase();
    let source = if lower.ends_with(".csv") {
        MatrixSource::Csv {
            text: &text,
            name: &name,
            key: Some(page.key.as_str()).filter(|k| !k.is_empty()),
            matrix_name: None,
        }
    } else {
        MatrixSource::File {
            text: &text,
            format: MatrixFormat::from_path(&lower).unwrap_or(MatrixFormat::Yaml),
            name: &name,
        }
    };
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    match st.app.import_matrix(actor, org, source, false).await {
        Ok(outcome) => {
            let v = outcome.version();
            let url = match &outcome {
                ImportOutcome::DraftUpdated { .. } => {
                    format!("/matrices/{}/draft?done=saved", v.matrix_key)
                }
                ImportOutcome::Unchanged { .. } => {
                    format!("/matrices/{}?done=unchanged", v.matrix_key)
                }
                ImportOutcome::Created { .. } => {
                    format!("/matrices/{}?done=imported", v.matrix_key)
                }
            };
            Ok(Redirect::to(&url).into_response())
        }
        Err(AppError::InvalidFile(errs)) => {
            page.problems = problems(&errs);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => {
            page.problems = one_problem(WebError::refusal(e)?);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}
