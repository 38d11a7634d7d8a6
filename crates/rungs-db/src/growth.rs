//! Assessments and promotion cases: appended rows whose matrix references (expectation, track
//! and level keys) are resolved inside the version they were made against.

use crate::entities::*;
use crate::error::DbError;
use crate::repo::Db;
use rungs_domain::assessment::Assessment;
use rungs_domain::promotion::PromotionCase;
use rungs_domain::{OrgId, VersionId};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use std::collections::HashMap;
use uuid::Uuid;

/// Row ids of one version's tracks, levels and expectations, by key.
struct VersionIds {
    tracks: HashMap<String, Uuid>,
    levels: HashMap<String, Uuid>,
    expectations: HashMap<String, Uuid>,
}

impl VersionIds {
    async fn load<C: sea_orm::ConnectionTrait>(
        c: &C,
        org: OrgId,
        version: VersionId,
    ) -> Result<Self, DbError> {
        let (o, v) = (org.0, version.0);
        Ok(Self {
            tracks: track::Entity::find()
                .filter(track::Column::OrgId.eq(o))
                .filter(track::Column::VersionId.eq(v))
                .all(c)
                .await?
                .into_iter()
                .map(|r| (r.key, r.id))
                .collect(),
            levels: level::Entity::find()
                .filter(level::Column::OrgId.eq(o))
                .filter(level::Column::VersionId.eq(v))
                .all(c)
                .await?
                .into_iter()
                .map(|r| (r.key, r.id))
                .collect(),
            expectations: expectation::Entity::find()
                .filter(expectation::Column::OrgId.eq(o))
                .filter(expectation::Column::VersionId.eq(v))
                .all(c)
                .await?
                .into_iter()
                .map(|r| (r.key, r.id))
                .collect(),
        })
    }

    fn get(map: &HashMap<String, Uuid>, what: &str, key: &str) -> Result<Uuid, DbError> {
        map.get(key)
            .copied()
            .ok_or_else(|| DbError::not_found(format!("{what} `{key}`")))
    }
}

impl Db {
    /// Appends assessments (all of one version) in one transaction.
    pub async fn append_assessments(&self, org: OrgId, list: &[Assessment]) -> Result<(), DbError> {
        let Some(first) = list.first() else {
            return Ok(());
        };
        let txn = self.conn.begin().await?;
        let ids = VersionIds::load(&txn, org, first.version_id).await?;
        let mut rows = Vec::with_capacity(list.len());
        for a in list {
            if a.version_id != first.version_id {
                return Err(DbError::not_found("one version for every assessment"));
            }
            rows.push(assessment::ActiveModel {
                id: Set(a.id.0),
                org_id: Set(org.0),
                person_id: Set(a.person_id.0),
                version_id: Set(a.version_id.0),
                expectation_id: Set(VersionIds::get(
                    &ids.expectations,
                    "expectation",
                    a.expectation.as_str(),
                )?),
                rating: Set(a.rating.as_str().to_owned()),
                assessor_id: Set(a.assessor_id.0),
                assessor_role: Set(a.role.as_str().to_owned()),
                evidence_text: Set(a.evidence.text.clone()),
                evidence_links: Set(serde_json::to_string(&a.evidence.links)
                    .map_err(|e| DbError::Other(sea_orm::DbErr::Custom(e.to_string())))?),
                assessed_at: Set(a.at),
            });
        }
        crate::repo::insert_chunked::<assessment::Entity, _, _>(&txn, rows).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Opens a promotion case with its first event ("proposed"), in one transaction.
    pub async fn insert_case(&self, org: OrgId, case: &PromotionCase) -> Result<(), DbError> {
        let txn = self.conn.begin().await?;
        let ids = VersionIds::load(&txn, org, case.version_id).await?;
        let t = |k: &str| VersionIds::get(&ids.tracks, "track", k);
        let l = |k: &str| VersionIds::get(&ids.levels, "level", k);
        promotion_case::Entity::insert(promotion_case::ActiveModel {
            id: Set(case.id.0),
            org_id: Set(org.0),
            person_id: Set(case.person_id.0),
            version_id: Set(case.version_id.0),
            from_track_id: Set(t(case.from.track.as_str())?),
            from_level_id: Set(l(case.from.level.as_str())?),
            to_track_id: Set(t(case.to.track.as_str())?),
            to_level_id: Set(l(case.to.level.as_str())?),
            proposer_id: Set(case.proposer_id.0),
            justification: Set(case.justification.clone()),
            status: Set(case.status.as_str().to_owned()),
            proposed_at: Set(case.proposed_at),
            decided_by: Set(case.decision.as_ref().map(|d| d.by.0)),
            decided_at: Set(case.decision.as_ref().map(|d| d.at)),
            decision_note: Set(case.decision.as_ref().map(|d| d.note.clone())),
            effective: Set(case.effective),
        })
        .exec_without_returning(&txn)
        .await?;
        promotion_event::Entity::insert(promotion_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(org.0),
            case_id: Set(case.id.0),
            kind: Set("proposed".into()),
            actor_id: Set(case.proposer_id.0),
            note: Set(case.justification.clone()),
            at: Set(case.proposed_at),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// How many assessments and open promotion cases an organisation has.
    pub async fn growth_counts(&self, org: OrgId) -> Result<(u64, u64), DbError> {
        use sea_orm::PaginatorTrait;
        let assessments = assessment::Entity::find()
            .filter(assessment::Column::OrgId.eq(org.0))
            .count(&self.conn)
            .await?;
        let open = promotion_case::Entity::find()
            .filter(promotion_case::Column::OrgId.eq(org.0))
            .filter(promotion_case::Column::Status.eq("proposed"))
            .count(&self.conn)
            .await?;
        Ok((assessments, open))
    }
}
