//! Matrices: listing, creation with a first version, and reading any version's content (published
//! versions kept per process).

use crate::audit::Audit;
use crate::content::load_content;
use crate::core::Db;
use crate::entities::*;
use crate::error::DbError;
use crate::rows::version_from_row;
use chrono::Utc;
use rungs_domain::matrix::{Matrix, MatrixSummary, VersionInfo, VersionStatus};
use rungs_domain::text::Key;
use rungs_domain::{MatrixId, OrgId, PersonId, VersionId};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

impl Db {
    /// Every matrix of the organisation, by key.
    pub async fn list_matrices(&self, org: OrgId) -> Result<Vec<MatrixSummary>, DbError> {
        Ok(self.matrices_page(org, None, None).await?.0)
    }

    /// The organisation's matrices by key after the key `after` (`first` of them, or all),
    /// each with its latest version's size, and whether more follow: four statements, however
    /// many matrices there are.
    pub async fn matrices_page(
        &self,
        org: OrgId,
        after: Option<&str>,
        first: Option<usize>,
    ) -> Result<(Vec<MatrixSummary>, bool), DbError> {
        use sea_orm::QuerySelect;
        let mut q = matrix::Entity::find()
            .filter(matrix::Column::OrgId.eq(org.0))
            .order_by_asc(matrix::Column::Key);
        if let Some(a) = after {
            q = q.filter(matrix::Column::Key.gt(a));
        }
        if let Some(n) = first {
            q = q.limit(n as u64 + 1);
        }
        let mut matrices = q.all(&self.conn).await?;
        let has_next = first.is_some_and(|n| matrices.len() > n);
        if let Some(n) = first {
            matrices.truncate(n);
        }
        if matrices.is_empty() {
            return Ok((Vec::new(), has_next));
        }
        let versions = matrix_version::Entity::find()
            .filter(matrix_version::Column::OrgId.eq(org.0))
            .filter(matrix_version::Column::MatrixId.is_in(matrices.iter().map(|m| m.id)))
            .all(&self.conn)
            .await?;
        let latest: HashMap<Uuid, &matrix_version::Model> = matrices
            .iter()
            .filter_map(|m| {
                versions
                    .iter()
                    .filter(|v| v.matrix_id == m.id && v.number.is_some())
                    .max_by_key(|v| v.number)
                    .map(|v| (m.id, v))
            })
            .collect();
        let counts = self
            .version_counts(org, latest.values().map(|v| v.id).collect())
            .await?;
        let mut out = Vec::new();
        for m in matrices {
            let latest = latest.get(&m.id).copied();
            let has_draft = versions
                .iter()
                .any(|v| v.matrix_id == m.id && v.status == VersionStatus::Draft.as_str());
            let (tracks, levels, expectations) = latest
                .and_then(|v| counts.get(&v.id).copied())
                .unwrap_or_default();
            out.push(MatrixSummary {
                id: MatrixId(m.id),
                key: Key::parse(&m.key)?,
                name: latest.map(|v| v.name.clone()).unwrap_or(m.name),
                latest_version: latest.and_then(|v| v.number).map(|n| n as u32),
                has_draft,
                tracks,
                levels,
                expectations,
            });
        }
        Ok((out, has_next))
    }

    /// How many tracks, levels and criteria each of `versions` has (a statement per table).
    async fn version_counts(
        &self,
        org: OrgId,
        versions: Vec<Uuid>,
    ) -> Result<HashMap<Uuid, (usize, usize, usize)>, DbError> {
        use sea_orm::QuerySelect;
        let mut out: HashMap<Uuid, (usize, usize, usize)> = HashMap::new();
        if versions.is_empty() {
            return Ok(out);
        }
        let n = |x: i64| usize::try_from(x).unwrap_or(usize::MAX);
        macro_rules! count {
            ($e:ident, $slot:tt) => {
                let rows: Vec<(Uuid, i64)> = $e::Entity::find()
                    .select_only()
                    .column($e::Column::VersionId)
                    .column_as($e::Column::Id.count(), "n")
                    .filter($e::Column::OrgId.eq(org.0))
                    .filter($e::Column::VersionId.is_in(versions.clone()))
                    .group_by($e::Column::VersionId)
                    .into_tuple()
                    .all(&self.conn)
                    .await?;
                for (v, c) in rows {
                    out.entry(v).or_default().$slot = n(c);
                }
            };
        }
        count!(track, 0);
        count!(level, 1);
        count!(expectation, 2);
        Ok(out)
    }

    /// Creates a matrix with its first version (published as version 1, or a draft).
    pub async fn create_matrix(
        &self,
        org: OrgId,
        m: &Matrix,
        status: VersionStatus,
        note: Option<&str>,
        by: Option<PersonId>,
        audit: &Audit,
    ) -> Result<VersionInfo, DbError> {
        self.transact(async |txn| {
            let now = Utc::now();
            let matrix_id = Uuid::now_v7();
            matrix::Entity::insert(matrix::ActiveModel {
                id: Set(matrix_id),
                org_id: Set(org.0),
                key: Set(m.key().to_string()),
                name: Set(m.name().to_owned()),
                created_at: Set(now),
            })
            .exec_without_returning(txn)
            .await
            .map_err(|e| DbError::conflict_or_other(e, format!("matrix `{}`", m.key())))?;
            let published = status == VersionStatus::Published;
            let info = VersionInfo {
                id: VersionId::new(),
                matrix_id: MatrixId(matrix_id),
                matrix_key: m.key().clone(),
                number: published.then_some(1),
                status,
                note: note.map(str::to_owned),
                created_by: by,
                created_at: now,
                published_at: published.then_some(now),
                published_by: if published { by } else { None },
                revision: 0,
            };
            crate::content::insert_version(
                txn,
                org,
                crate::content::NewVersion {
                    id: info.id.0,
                    matrix_id,
                    content: m,
                    note: info.note.clone(),
                    created_by: by,
                    created_at: now,
                    published: published.then_some((1, by, now)),
                },
            )
            .await?;
            let mut audit = audit.clone();
            audit.subjects.extend([matrix_id, info.id.0]);
            crate::audit::write_audit(txn, org, &audit).await?;
            Ok(info)
        })
        .await
    }

    /// The newest published version of the matrix `key` and its content.
    pub async fn latest_published(
        &self,
        org: OrgId,
        key: &str,
    ) -> Result<Option<(VersionInfo, Matrix)>, DbError> {
        let Some(m) = matrix::Entity::find()
            .filter(matrix::Column::OrgId.eq(org.0))
            .filter(matrix::Column::Key.eq(key))
            .one(&self.conn)
            .await?
        else {
            return Ok(None);
        };
        let Some(v) = matrix_version::Entity::find()
            .filter(matrix_version::Column::OrgId.eq(org.0))
            .filter(matrix_version::Column::MatrixId.eq(m.id))
            .filter(matrix_version::Column::Status.eq(VersionStatus::Published.as_str()))
            .order_by_desc(matrix_version::Column::Number)
            .one(&self.conn)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.versioned(org, v, &m.key).await?))
    }

    /// The content of one version, by id (no statement for a published version read before).
    pub async fn load_version(
        &self,
        org: OrgId,
        version: VersionId,
    ) -> Result<(VersionInfo, Matrix), DbError> {
        Ok(Arc::unwrap_or_clone(
            self.shared_version(org, version).await?,
        ))
    }

    /// [`Db::load_version`] without copying a published version out of the cache.
    pub async fn shared_version(
        &self,
        org: OrgId,
        version: VersionId,
    ) -> Result<Arc<(VersionInfo, Matrix)>, DbError> {
        if let Some(v) = self.versions.get(org, version) {
            return Ok(v);
        }
        let v = matrix_version::Entity::find()
            .filter(matrix_version::Column::OrgId.eq(org.0))
            .filter(matrix_version::Column::Id.eq(version.0))
            .one(&self.conn)
            .await?
            .ok_or_else(|| DbError::not_found("matrix version"))?;
        let m = matrix::Entity::find()
            .filter(matrix::Column::OrgId.eq(org.0))
            .filter(matrix::Column::Id.eq(v.matrix_id))
            .one(&self.conn)
            .await?
            .ok_or_else(|| DbError::not_found("matrix"))?;
        Ok(Arc::new(self.versioned(org, v, &m.key).await?))
    }

    /// A version row with its content, read consistently: a draft can be replaced while its
    /// rows are being read (several statements), so the revision is read again afterwards and
    /// the whole read repeated if an edit committed in between.
    pub(crate) async fn versioned(
        &self,
        org: OrgId,
        mut v: matrix_version::Model,
        key: &str,
    ) -> Result<(VersionInfo, Matrix), DbError> {
        let id = VersionId(v.id);
        if let Some(kept) = self.versions.get(org, id) {
            return Ok((*kept).clone());
        }
        for _ in 0..10 {
            let content = self.load_content(org, &v).await;
            if v.status != VersionStatus::Draft.as_str() {
                let read = std::sync::Arc::new((version_from_row(&v, key)?, content?));
                self.versions.keep(org, &read);
                return Ok((*read).clone());
            }
            let now = matrix_version::Entity::find()
                .filter(matrix_version::Column::OrgId.eq(org.0))
                .filter(matrix_version::Column::Id.eq(v.id))
                .one(&self.conn)
                .await?
                .ok_or_else(|| DbError::not_found("matrix draft"))?;
            if now.revision == v.revision && now.status == v.status {
                return Ok((version_from_row(&v, key)?, content?));
            }
            v = now;
        }
        Err(DbError::Stale {
            what: "the draft keeps changing while being read: try again".into(),
        })
    }

    pub(crate) async fn load_content(
        &self,
        org: OrgId,
        v: &matrix_version::Model,
    ) -> Result<Matrix, DbError> {
        load_content(&self.conn, org, v).await
    }
}
