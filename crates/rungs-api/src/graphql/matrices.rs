//! Matrices: list and read the published ones; HR admins import and export them.

use super::Ctx;
use super::types::{Matrix, MatrixSummary, MatrixVersion};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, Object, Result};
use rungs_app::{DEFAULT_PAGE, MatrixSource};
use rungs_format::MatrixFormat;

/// A matrix file format.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MatrixFileFormat {
    Yaml,
    Json,
}

/// How `exportMatrix` writes a matrix: YAML and JSON import back; Markdown and HTML (one
/// self-contained, printable page) are for reading.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MatrixExportFormat {
    Yaml,
    Json,
    Markdown,
    Html,
}

impl From<MatrixExportFormat> for rungs_format::ExportFormat {
    fn from(f: MatrixExportFormat) -> Self {
        match f {
            MatrixExportFormat::Yaml => Self::Yaml,
            MatrixExportFormat::Json => Self::Json,
            MatrixExportFormat::Markdown => Self::Markdown,
            MatrixExportFormat::Html => Self::Html,
        }
    }
}

impl From<MatrixFileFormat> for MatrixFormat {
    fn from(f: MatrixFileFormat) -> Self {
        match f {
            MatrixFileFormat::Yaml => MatrixFormat::Yaml,
            MatrixFileFormat::Json => MatrixFormat::Json,
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
        let mut all = c.ok(c.app.list_matrices(&s.actor, s.org.slug.as_str()).await)?;
        all.sort_by(|a, b| a.key.cmp(&b.key));
        let first = first.map_or(DEFAULT_PAGE, |f| usize::try_from(f).unwrap_or(DEFAULT_PAGE));
        let start = after
            .as_deref()
            .map_or(0, |a| all.partition_point(|m| m.key.as_str() <= a));
        let rest = all.len().saturating_sub(start);
        let mut conn = Connection::new(start > 0, rest > first);
        conn.edges.extend(
            all.into_iter()
                .skip(start)
                .take(first)
                .map(|m| Edge::new(m.key.to_string(), MatrixSummary::from(m))),
        );
        Ok(conn)
    }

    /// The newest published version of a matrix.
    #[graphql(complexity = 20)]
    async fn matrix(&self, ctx: &Context<'_>, key: String) -> Result<Matrix> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let (v, m) = c.ok(c.app.show_matrix(&s.actor, s.org.slug.as_str(), &key).await)?;
        Ok(Matrix::new(v, &m))
    }
}

#[derive(Default)]
pub struct MatricesMutation;

#[Object]
impl MatricesMutation {
    /// Imports a matrix file (HR admins). It becomes version 1, or a draft with `draft: true`.
    /// Every problem in the file is reported at once, with line and column, and nothing is
    /// written.
    async fn import_matrix(
        &self,
        ctx: &Context<'_>,
        format: MatrixFileFormat,
        content: String,
        #[graphql(default)] draft: bool,
    ) -> Result<MatrixVersion> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let source = MatrixSource::File {
            text: &content,
            format: format.into(),
            name: "content",
        };
        let v = c.ok(c
            .app
            .import_matrix(&s.actor, s.org.slug.as_str(), source, draft)
            .await)?;
        Ok(v.into())
    }

    /// Exports the newest published version of a matrix as a file (HR admins): YAML or JSON
    /// to import back, Markdown or HTML to read and print.
    async fn export_matrix(
        &self,
        ctx: &Context<'_>,
        key: String,
        format: MatrixExportFormat,
    ) -> Result<String> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        c.ok(c
            .app
            .export_matrix(&s.actor, s.org.slug.as_str(), &key, format.into())
            .await)
    }
}
