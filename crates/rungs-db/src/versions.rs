//! Matrix versions: the draft (at most one per matrix, edited under a revision number), publishing
//! (the database freezes a published version: see migration 000006), version listings, and
//! moving people to a newer version in one transaction.

use crate::audit::{Audit, write_audit};
use crate::content::{
    NewVersion, delete_content, insert_version, publish_row, stale, write_content,
};
use crate::core::{Db, Tx};
use crate::entities::*;
use crate::error::DbError;
use crate::records::append_assignments;
use crate::rows::version_from_row;
use chrono::Utc;
use rungs_domain::assessment::Assessment;
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::matrix::{Matrix, VersionInfo, VersionStatus};
use rungs_domain::{MatrixId, OrgId, PersonId, VersionId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

impl Db {
    async fn matrix_row(&self, org: OrgId, key: &str) -> Result<matrix::Model, DbError> {
        matrix::Entity::find()
            .filter(matrix::Column::OrgId.eq(org.0))
            .filter(matrix::Column::Key.eq(key))
            .one(&self.conn)
            .await?
            .ok_or_else(|| DbError::not_found(format!("matrix `{key}`")))
    }

    /// Every version of the matrix `key`: published ones by number, then the draft.
    pub async fn matrix_versions(
        &self,
        org: OrgId,
        key: &str,
    ) -> Result<Vec<VersionInfo>, DbError> {
        let m = self.matrix_row(org, key).await?;
        let rows = matrix_version::Entity::find()
            .filter(matrix_version::Column::OrgId.eq(org.0))
            .filter(matrix_version::Column::MatrixId.eq(m.id))
            .order_by_asc(matrix_version::Column::CreatedAt)
            .all(&self.conn)
            .await?;
        let mut out = rows
            .iter()
            .map(|v| version_from_row(v, &m.key))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|v| (v.number.is_none(), v.number));
        Ok(out)
    }

    /// One version of the matrix `key`: a number, or the draft for `None`.
    pub async fn matrix_version(
        &self,
        org: OrgId,
        key: &str,
        number: Option<u32>,
    ) -> Result<Option<(VersionInfo, Matrix)>, DbError> {
        let m = self.matrix_row(org, key).await?;
        let q = matrix_version::Entity::find()
            .filter(matrix_version::Column::OrgId.eq(org.0))
            .filter(matrix_version::Column::MatrixId.eq(m.id));
        let q = match number {
            Some(n) => q.filter(matrix_version::Column::Number.eq(n as i32)),
            None => q.filter(matrix_version::Column::Status.eq(VersionStatus::Draft.as_str())),
        };
        let Some(v) = q.one(&self.conn).await? else {
            return Ok(None);
        };
        Ok(Some(self.versioned(org, v, &m.key).await?))
    }

    /// Starts the draft of matrix `matrix` with `content`; CONFLICT when it already has one.
    pub async fn start_draft(
        &self,
        org: OrgId,
        matrix: MatrixId,
        content: &Matrix,
        by: Option<PersonId>,
        audit: &Audit,
    ) -> Result<VersionId, DbError> {
        self.transact(async |txn| {
            let id = Uuid::now_v7();
            insert_version(
                txn,
                org,
                NewVersion {
                    id,
                    matrix_id: matrix.0,
                    content,
                    note: None,
                    created_by: by,
                    created_at: Utc::now(),
                    published: None,
                },
            )
            .await?;
            let mut audit = audit.clone();
            audit.subjects.extend([matrix.0, id]);
            write_audit(txn, org, &audit).await?;
            Ok(VersionId(id))
        })
        .await
    }

    /// Replaces the draft's content, if its revision is still `expected` (`None`: any), and
    /// returns the new revision. A concurrent edit makes one of the two fail with `Stale`.
    pub async fn save_draft(
        &self,
        org: OrgId,
        draft: VersionId,
        expected: Option<u32>,
        content: &Matrix,
        audit: &Audit,
    ) -> Result<u32, DbError> {
        self.transact(async |txn| {
            // The conditional UPDATE comes first: it takes the row's lock, so a second writer
            // waits, then finds the revision moved on.
            let mut q = matrix_version::Entity::update_many()
                .col_expr(
                    matrix_version::Column::Revision,
                    Expr::col(matrix_version::Column::Revision).add(1),
                )
                .col_expr(
                    matrix_version::Column::Name,
                    Expr::value(content.name().to_owned()),
                )
                .col_expr(
                    matrix_version::Column::Description,
                    Expr::value(content.description().map(str::to_owned)),
                )
                .col_expr(
                    matrix_version::Column::LevelStyle,
                    Expr::value(content.level_style().as_str()),
                )
                .filter(matrix_version::Column::OrgId.eq(org.0))
                .filter(matrix_version::Column::Id.eq(draft.0))
                .filter(matrix_version::Column::Status.eq(VersionStatus::Draft.as_str()));
            if let Some(r) = expected {
                q = q.filter(matrix_version::Column::Revision.eq(r as i32));
            }
            if q.exec(txn).await?.rows_affected != 1 {
                return Err(stale());
            }
            delete_content(txn, org, draft.0).await?;
            write_content(txn, org, draft.0, content).await?;
            let revision = matrix_version::Entity::find()
                .filter(matrix_version::Column::OrgId.eq(org.0))
                .filter(matrix_version::Column::Id.eq(draft.0))
                .one(txn)
                .await?
                .map(|v| v.revision)
                .unwrap_or_default();
            let mut audit = audit.clone();
            audit.subjects.push(draft.0);
            write_audit(txn, org, &audit).await?;
            Ok(u32::try_from(revision).unwrap_or_default())
        })
        .await
    }

    /// Publishes the draft as the next version number.
    pub async fn publish_draft(
        &self,
        org: OrgId,
        draft: VersionId,
        expected: Option<u32>,
        note: &str,
        by: Option<PersonId>,
        audit: &Audit,
    ) -> Result<u32, DbError> {
        self.transact(async |txn| {
            let row = matrix_version::Entity::find()
                .filter(matrix_version::Column::OrgId.eq(org.0))
                .filter(matrix_version::Column::Id.eq(draft.0))
                .one(txn)
                .await?
                .ok_or_else(stale)?;
            let latest = matrix_version::Entity::find()
                .filter(matrix_version::Column::OrgId.eq(org.0))
                .filter(matrix_version::Column::MatrixId.eq(row.matrix_id))
                .filter(matrix_version::Column::Number.is_not_null())
                .order_by_desc(matrix_version::Column::Number)
                .one(txn)
                .await?
                .and_then(|v| v.number)
                .unwrap_or(0);
            let number = u32::try_from(latest).unwrap_or_default() + 1;
            publish_row(
                txn,
                org,
                draft.0,
                expected,
                number,
                Some(note),
                by,
                Utc::now(),
            )
            .await?;
            let mut audit = audit.clone();
            audit.subjects.extend([row.matrix_id, draft.0]);
            write_audit(txn, org, &audit).await?;
            Ok(number)
        })
        .await
    }

    /// Deletes the draft and its content.
    pub async fn discard_draft(
        &self,
        org: OrgId,
        draft: VersionId,
        expected: Option<u32>,
        audit: &Audit,
    ) -> Result<(), DbError> {
        self.transact(async |txn| {
            delete_content(txn, org, draft.0).await?;
            let mut q = matrix_version::Entity::delete_many()
                .filter(matrix_version::Column::OrgId.eq(org.0))
                .filter(matrix_version::Column::Id.eq(draft.0))
                .filter(matrix_version::Column::Status.eq(VersionStatus::Draft.as_str()));
            if let Some(r) = expected {
                q = q.filter(matrix_version::Column::Revision.eq(r as i32));
            }
            if q.exec(txn).await?.rows_affected != 1 {
                return Err(stale());
            }
            let mut audit = audit.clone();
            audit.subjects.push(draft.0);
            write_audit(txn, org, &audit).await?;
            Ok(())
        })
        .await
    }
}

/// A version move's write, composed by use cases in one [`Db::write`].
impl Tx {
    /// Moves people to another version: appends their new level assignments and the
    /// assessments carried over, with their standings.
    pub async fn move_people(
        &self,
        assignments: &[LevelAssignment],
        assessments: &[Assessment],
    ) -> Result<(), DbError> {
        let (txn, org, keys) = (&self.txn, self.org, &self.keys);
        let moved = || assignments.iter().map(|a| a.person_id);
        crate::standings::lock(txn, org, moved()).await?;
        append_assignments(txn, org, assignments).await?;
        crate::records::insert_assessments(txn, keys, org, assessments).await?;
        crate::standings::refresh(txn, keys, org, moved()).await
    }
}
