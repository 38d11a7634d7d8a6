//! HR's people import: a people CSV (uploaded, or pasted and edited in place) is checked in full
//! and previewed row by row (who is added, updated or unchanged, who gets a new position), with
//! every problem at its line and column; nothing is written until the preview is clean and the
//! HR admin confirms, and then everything is written in one transaction (the same use case as
//! `rungs people import`). HR admins only: anyone else gets the plain 404.

use crate::State;
use crate::error::{WebError, render};
use crate::pages::Layout;
use crate::pages::history::names;
use crate::pages::moves::{Problem, one_problem, problems};
use crate::session::Signed;
use askama::Template;
use axum::extract::{Multipart, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rungs_app::{AppError, PeopleImportPreview, PeopleImportSummary, RowOutcome};
use rungs_domain::matrix::Matrix;
use serde::{Deserialize, Serialize};

/// Rows of a preview shown on the page (the summary counts them all).
const SHOWN: usize = 200;

pub(crate) struct PreviewRow {
    pub line: u64,
    pub email: String,
    pub name: String,
    pub manager: String,
    pub position: String,
    pub outcome: &'static str,
    pub placed: bool,
    pub admin: bool,
}

pub(crate) struct PreviewView {
    pub summary: PeopleImportSummary,
    pub rows: Vec<PreviewRow>,
    /// Rows not shown.
    pub more: usize,
}

#[derive(Template)]
#[template(path = "people_import.html")]
struct ImportPage {
    layout: Layout,
    csrf: String,
    /// The CSV as the check read it.
    text: String,
    /// The file's name (as uploaded, or "pasted.csv").
    name: String,
    problems: Vec<Problem>,
    preview: Option<PreviewView>,
    notice: Option<String>,
}

impl ImportPage {
    fn new(s: &Signed) -> Self {
        Self {
            layout: Layout::signed("Import people", s, "people"),
            csrf: s.csrf.clone(),
            text: String::new(),
            name: String::new(),
            problems: Vec::new(),
            preview: None,
            notice: None,
        }
    }
}

/// What an import wrote, carried by the redirect after it.
#[derive(Deserialize, Serialize, Default)]
pub(crate) struct Imported {
    added: Option<usize>,
    updated: Option<usize>,
    unchanged: Option<usize>,
    levels: Option<usize>,
}

/// `GET /people/import`
pub(crate) async fn form(s: Signed, Query(done): Query<Imported>) -> Result<Response, WebError> {
    s.reader.may_manage_people().map_err(WebError::read)?;
    let mut page = ImportPage::new(&s);
    if let (Some(a), Some(u), Some(n), Some(l)) =
        (done.added, done.updated, done.unchanged, done.levels)
    {
        page.notice = Some(format!(
            "Imported: {a} added, {u} updated, {n} unchanged, {l} level{} assigned.",
            if l == 1 { "" } else { "s" }
        ));
    }
    Ok(render(StatusCode::OK, &page))
}

/// The fields of the import form.
#[derive(Default)]
struct Sent {
    csrf: String,
    text: String,
    name: String,
    file: Option<(String, Vec<u8>)>,
    intent: String,
}

async fn read_form(mut m: Multipart) -> Result<Sent, WebError> {
    let too_big = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            WebError::Invalid(
                "The file is larger than this server accepts: split it, or ask your administrator to raise `body_limit_bytes`.".into(),
            )
        } else {
            WebError::Invalid("The form could not be read: please send it again.".into())
        }
    };
    let mut sent = Sent::default();
    while let Some(field) = m.next_field().await.map_err(too_big)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(too_big)?;
                if !bytes.is_empty() {
                    sent.file = Some((file_name, bytes.to_vec()));
                }
            }
            "_csrf" | "text" | "name" | "intent" => {
                let value = field.text().await.map_err(too_big)?;
                match name.as_str() {
                    "_csrf" => sent.csrf = value,
                    "text" => sent.text = value,
                    "name" => sent.name = value,
                    _ => sent.intent = value,
                }
            }
            _ => {}
        }
    }
    Ok(sent)
}

fn preview_view(p: PeopleImportPreview, m: Option<&Matrix>) -> PreviewView {
    let more = p.rows.len().saturating_sub(SHOWN);
    let rows = p
        .rows
        .into_iter()
        .take(SHOWN)
        .map(|r| PreviewRow {
            line: r.line,
            email: r.email,
            name: r.name,
            manager: r.manager_email.unwrap_or_default(),
            position: r.placement.map_or_else(String::new, |(t, l)| {
                let (t, l) = names(m, &t, &l);
                format!("{t} · {l}")
            }),
            outcome: match r.outcome {
                RowOutcome::Added => "added",
                RowOutcome::Updated => "updated",
                RowOutcome::Unchanged => "unchanged",
            },
            placed: r.placed,
            admin: r.admin,
        })
        .collect();
    PreviewView {
        summary: p.summary,
        rows,
        more,
    }
}

/// `POST /people/import` (multipart): `intent=preview` checks and previews; `intent=import`
/// checks again and writes.
pub(crate) async fn submit(st: State, s: Signed, m: Multipart) -> Result<Response, WebError> {
    let sent = read_form(m).await?;
    s.check_csrf(&sent.csrf)?;
    s.reader.may_manage_people().map_err(WebError::read)?;
    let mut page = ImportPage::new(&s);
    let (text, name) = match sent.file {
        Some((file_name, bytes)) => match String::from_utf8(bytes) {
            Ok(text) => (
                text,
                if file_name.is_empty() {
                    "upload.csv".to_owned()
                } else {
                    file_name
                },
            ),
            Err(_) => {
                page.problems = one_problem(format!(
                    "`{file_name}` is not UTF-8 text: save it from your spreadsheet as \"CSV UTF-8\""
                ));
                return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
            }
        },
        None => {
            // A browser sends a textarea's line breaks as CRLF; keep the text as typed.
            let text = sent.text.replace("\r\n", "\n");
            let name = match sent.name.trim() {
                "" => "pasted.csv".to_owned(),
                n => n.to_owned(),
            };
            (text, name)
        }
    };
    page.text = text;
    page.name = name;
    if page.text.trim().is_empty() {
        page.problems = one_problem("Choose a CSV file or paste its text.".into());
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let (actor, org) = (&s.session.actor, s.session.org.slug.as_str());
    let result = if sent.intent == "import" {
        st.app
            .import_people(actor, org, &page.text, &page.name, None)
            .await
            .map(Ok)
    } else {
        st.app
            .preview_people_import(actor, org, &page.text, &page.name, None)
            .await
            .map(Err)
    };
    match result {
        Ok(Ok(done)) => {
            let q = Imported {
                added: Some(done.added),
                updated: Some(done.updated),
                unchanged: Some(done.unchanged),
                levels: Some(done.levels_assigned),
            };
            let url = format!(
                "/people/import?{}",
                serde_urlencoded::to_string(&q).unwrap_or_default()
            );
            Ok(Redirect::to(&url).into_response())
        }
        Ok(Err(preview)) => {
            let matrix = s.reader.matrix().await.ok().map(|(_, m)| m);
            page.preview = Some(preview_view(preview, matrix.as_ref()));
            Ok(render(StatusCode::OK, &page))
        }
        Err(AppError::InvalidFile(errs)) => {
            page.problems = problems(&errs);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(WebError::action(e)),
    }
}
