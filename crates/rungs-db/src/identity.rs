//! Identity providers for single sign-on: one per organisation at most.

use crate::audit::Audit;
use crate::core::Db;
use crate::entities::*;
use crate::error::DbError;
use rungs_domain::OrgId;
use rungs_domain::sso::{AdminGroup, IdentityProvider};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn provider_from_row(r: identity_provider::Model) -> IdentityProvider {
    IdentityProvider {
        org_id: OrgId(r.org_id),
        name: r.name,
        issuer: r.issuer,
        client_id: r.client_id,
        client_secret: r.client_secret,
        scopes: words(&r.scopes),
        email_claim: r.email_claim,
        allowed_domains: words(&r.allowed_domains),
        admin_group: match (r.admin_group_claim, r.admin_group_value) {
            (Some(claim), Some(value)) => Some(AdminGroup { claim, value }),
            _ => None,
        },
        passwords_allowed: r.passwords_allowed,
        create_people: r.create_people,
        api_audience: r.api_audience,
        updated_at: r.updated_at,
    }
}

/// The stored row of an organisation's provider (one per organisation: its id is the
/// organisation's).
pub(crate) fn provider_row(p: &IdentityProvider) -> identity_provider::ActiveModel {
    let (claim, value) = match &p.admin_group {
        Some(g) => (Some(g.claim.clone()), Some(g.value.clone())),
        None => (None, None),
    };
    identity_provider::ActiveModel {
        id: Set(p.org_id.0),
        org_id: Set(p.org_id.0),
        name: Set(p.name.clone()),
        issuer: Set(p.issuer.clone()),
        client_id: Set(p.client_id.clone()),
        client_secret: Set(p.client_secret.clone()),
        scopes: Set(p.scopes.join(" ")),
        email_claim: Set(p.email_claim.clone()),
        allowed_domains: Set(p.allowed_domains.join(" ")),
        admin_group_claim: Set(claim),
        admin_group_value: Set(value),
        passwords_allowed: Set(p.passwords_allowed),
        create_people: Set(p.create_people),
        api_audience: Set(p.api_audience.clone()),
        updated_at: Set(p.updated_at),
    }
}

impl Db {
    /// The organisation's identity provider, if it has one.
    pub async fn identity_provider(&self, org: OrgId) -> Result<Option<IdentityProvider>, DbError> {
        Ok(identity_provider::Entity::find()
            .filter(identity_provider::Column::OrgId.eq(org.0))
            .one(&self.conn)
            .await?
            .map(provider_from_row))
    }

    /// Whether the organisation with this slug still takes passwords: `Some((organisation's
    /// name, provider's name))` when it signs in only through its identity provider. One
    /// statement, whether the organisation exists or not (a sign-in's cost says nothing).
    pub async fn passwords_refused(&self, slug: &str) -> Result<Option<(String, String)>, DbError> {
        use sea_orm::ConnectionTrait;
        let mut b = crate::paging::Bound::new(self.conn.get_database_backend());
        let sql = format!(
            "SELECT o.name AS org_name, ip.name AS provider_name, ip.passwords_allowed \
             FROM organisations o LEFT JOIN identity_providers ip ON ip.org_id = o.id \
             WHERE o.slug = {}",
            b.bind(slug)
        );
        let Some(row) = self.conn.query_one_raw(b.statement(sql)).await? else {
            return Ok(None);
        };
        let allowed: Option<bool> = row.try_get("", "passwords_allowed")?;
        if allowed != Some(false) {
            return Ok(None);
        }
        Ok(Some((
            row.try_get("", "org_name")?,
            row.try_get("", "provider_name")?,
        )))
    }

    /// Every organisation's provider with this issuer (access tokens name only their issuer;
    /// several organisations may share one, such as Google's).
    pub async fn identity_providers_by_issuer(
        &self,
        issuer: &str,
    ) -> Result<Vec<IdentityProvider>, DbError> {
        Ok(identity_provider::Entity::find()
            .filter(identity_provider::Column::Issuer.eq(issuer))
            .all(&self.conn)
            .await?
            .into_iter()
            .map(provider_from_row)
            .collect())
    }

    /// Sets the organisation's identity provider (replacing any), with its audit entry.
    pub async fn set_identity_provider(
        &self,
        p: &IdentityProvider,
        audit: &Audit,
    ) -> Result<(), DbError> {
        self.write(p.org_id, audit, async |w| {
            let tx = &w.txn;
            use identity_provider::Column as C;
            identity_provider::Entity::insert(provider_row(p))
                .on_conflict(
                    OnConflict::column(C::Id)
                        .update_columns([
                            C::Name,
                            C::Issuer,
                            C::ClientId,
                            C::ClientSecret,
                            C::Scopes,
                            C::EmailClaim,
                            C::AllowedDomains,
                            C::AdminGroupClaim,
                            C::AdminGroupValue,
                            C::PasswordsAllowed,
                            C::CreatePeople,
                            C::ApiAudience,
                            C::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(tx)
                .await?;
            Ok(())
        })
        .await
    }

    /// Removes the organisation's identity provider, with its audit entry; false when it had
    /// none.
    pub async fn remove_identity_provider(
        &self,
        org: OrgId,
        audit: &Audit,
    ) -> Result<bool, DbError> {
        self.transact(async |tx| {
            let done = identity_provider::Entity::delete_many()
                .filter(identity_provider::Column::OrgId.eq(org.0))
                .exec(tx)
                .await?;
            if done.rows_affected == 0 {
                return Ok(false);
            }
            crate::audit::write_audit(tx, org, audit).await?;
            Ok(true)
        })
        .await
    }
}
