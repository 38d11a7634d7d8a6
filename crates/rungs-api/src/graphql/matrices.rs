//! Matrices: list and read them; HR admins import and export them (any version, any format).

use super::Ctx;
use super::types::{Matrix, MatrixSummary, MatrixVersion};
use super::versions::{MatrixDiff, version_ref};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use rungs_app::{ImportOutcome, MatrixSource};
use rungs_format::MatrixFormat;

/// A matrix file format.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MatrixFileFormat {
    Yaml,
    Json,
    /// A spreadsheet, one row per expectation (see docs/formats.md).
    Csv,
}

/// How `exportMatrix` writes a matrix: YAML and JSON import back; Markdown and HTML (one
/// self-contained, printable page) are for reading.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MatrixExportFormat {
    Yaml,
    Json,
    Csv,
    Markdown,
    Html,
}

impl From<MatrixExportFormat> for rungs_format::ExportFormat {
    fn from(f: MatrixExportFormat) -> Self {
        match f {
            MatrixExportFormat::Yaml => Self::Yaml,
            MatrixExportFormat::Json => Self::Json,
            MatrixExportFormat::Csv => Self::Csv,
            MatrixExportFormat::Markdown => Self::Markdown,
            MatrixExportFormat::Html => Self::Html,
        }
    }
}

#[derive(Default)]
pub struct MatricesQuery;

#[Object]
impl MatricesQuery {
    /// The organisation's matrices, by key.
    #[graphql(complexity = "first.unwrap_or(20) as usize * child_complexity + 1")]
    async fn matrices(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(minimum = 1, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, MatrixSummary>> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let first = first.and_then(|f| usize::try_from(f).ok());
        let page = c.ok(c
            .app
            .matrices_page(&s.actor, s.org.slug.as_str(), first, after.as_deref())
            .await)?;
        let mut conn = Connection::new(after.is_some(), page.has_next);
        conn.edges.extend(
            page.items
                .into_iter()
                .map(|m| Edge::new(m.key.to_string(), MatrixSummary::from(m))),
        );
        Ok(conn)
    }

    /// A version of a matrix: `latest` (the newest published one), a number, or `draft`
    /// (HR admins).
    #[graphql(complexity = 20)]
    async fn matrix(
        &self,
        ctx: &Context<'_>,
        key: String,
        #[graphql(default = "latest")] version: String,
    ) -> Result<Matrix> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let which = version_ref(&c, &version)?;
        let (v, m) = c.ok(c
            .app
            .matrix_version(&s.actor, s.org.slug.as_str(), &key, which)
            .await)?;
        Ok(Matrix::new(v, &m))
    }
}

#[derive(Default)]
pub struct MatricesMutation;

#[Object]
impl MatricesMutation {
    /// Imports a matrix file (HR admins). A new matrix becomes version 1 (or a draft with
    /// `draft: true`); a changed file for an existing matrix updates its draft and returns the
    /// changes since the newest version; the same file again changes nothing. Every problem in
    /// the file is reported at once, with line and column, and nothing is written.
    async fn import_matrix(
        &self,
        ctx: &Context<'_>,
        format: MatrixFileFormat,
        content: String,
        #[graphql(default)] draft: bool,
        #[graphql(desc = "CSV only: the matrix's key, for a file without a `matrix` column.")]
        key: Option<String>,
        #[graphql(desc = "CSV only: a new matrix's name (default: its key).")] name: Option<String>,
    ) -> Result<MatrixImport> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let source = match format {
            MatrixFileFormat::Csv => MatrixSource::Csv {
                text: &content,
                name: "content",
                key: key.as_deref(),
                matrix_name: name.as_deref(),
            },
            MatrixFileFormat::Yaml => MatrixSource::File {
                text: &content,
                format: MatrixFormat::Yaml,
                name: "content",
            },
            MatrixFileFormat::Json => MatrixSource::File {
                text: &content,
                format: MatrixFormat::Json,
                name: "content",
            },
        };
        let outcome = c.ok(c
            .app
            .import_matrix(&s.actor, s.org.slug.as_str(), source, draft)
            .await)?;
        Ok(outcome.into())
    }

    /// Exports a version of a matrix as a file (HR admins): YAML, JSON or CSV to import back,
    /// Markdown or HTML to read and print. `version`: `latest`, a number, or `draft`.
    async fn export_matrix(
        &self,
        ctx: &Context<'_>,
        key: String,
        format: MatrixExportFormat,
        #[graphql(default = "latest")] version: String,
    ) -> Result<String> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let which = version_ref(&c, &version)?;
        c.ok(c
            .app
            .export_matrix(&s.actor, s.org.slug.as_str(), &key, format.into(), which)
            .await)
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ImportOutcomeKind {
    /// A new matrix.
    Created,
    /// The file matches the draft (or the newest version): nothing was written.
    Unchanged,
    /// The draft now holds the file.
    DraftUpdated,
}

/// What `importMatrix` did.
#[derive(SimpleObject)]
pub struct MatrixImport {
    pub outcome: ImportOutcomeKind,
    /// The version created, left alone, or updated (the draft).
    pub version: MatrixVersion,
    /// For `DRAFT_UPDATED`: the changes since the newest published version.
    pub changes: Option<MatrixDiff>,
}

impl From<ImportOutcome> for MatrixImport {
    fn from(o: ImportOutcome) -> Self {
        match o {
            ImportOutcome::Created { version } => Self {
                outcome: ImportOutcomeKind::Created,
                version: version.into(),
                changes: None,
            },
            ImportOutcome::Unchanged { version } => Self {
                outcome: ImportOutcomeKind::Unchanged,
                version: version.into(),
                changes: None,
            },
            ImportOutcome::DraftUpdated {
                draft,
                against,
                diff,
            } => Self {
                outcome: ImportOutcomeKind::DraftUpdated,
                changes: Some(MatrixDiff::new(
                    against.map(Into::into),
                    draft.clone().into(),
                    diff,
                )),
                version: draft.into(),
            },
        }
    }
}
