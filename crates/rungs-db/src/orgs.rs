//! Organisations: the tenants every other row belongs to.

use crate::audit::Audit;
use crate::core::Db;
use crate::entities::*;
use crate::error::DbError;
use crate::rows::org_from_row;
use chrono::Utc;
use rungs_domain::org::{Organisation, Slug};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

impl Db {
    pub async fn create_org(&self, org: &Organisation, audit: &Audit) -> Result<(), DbError> {
        self.write(org.id, audit, async |w| {
            let tx = &w.txn;
            organisation::Entity::insert(organisation::ActiveModel {
                id: Set(org.id.0),
                slug: Set(org.slug.to_string()),
                name: Set(org.name.clone()),
                created_at: Set(Utc::now()),
            })
            .exec_without_returning(tx)
            .await
            .map_err(|e| DbError::conflict_or_other(e, format!("organisation `{}`", org.slug)))?;
            Ok(())
        })
        .await
    }

    pub async fn org_by_slug(&self, slug: &Slug) -> Result<Option<Organisation>, DbError> {
        organisation::Entity::find()
            .filter(organisation::Column::Slug.eq(slug.as_str()))
            .one(&self.conn)
            .await?
            .map(org_from_row)
            .transpose()
    }

    pub async fn list_orgs(&self) -> Result<Vec<Organisation>, DbError> {
        organisation::Entity::find()
            .order_by_asc(organisation::Column::Slug)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(org_from_row)
            .collect()
    }
}
