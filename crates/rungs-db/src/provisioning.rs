//! SCIM provisioning: the organisation's bearer tokens, and provisioned people's SCIM
//! attributes, written with the person in one transaction.

use crate::audit::Audit;
use crate::core::{Db, Tx};
use crate::entities::*;
use crate::error::DbError;
use crate::rows::{org_from_row, person_from_row};
use chrono::{DateTime, Utc};
use rungs_domain::org::Organisation;
use rungs_domain::person::Person;
use rungs_domain::provisioning::{ScimIdentity, ScimToken};
use rungs_domain::{OrgId, PersonId, ScimTokenId};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder,
};
use std::collections::HashMap;

pub(crate) fn token_from_row(r: scim_token::Model) -> ScimToken {
    ScimToken {
        id: ScimTokenId(r.id),
        org_id: OrgId(r.org_id),
        name: r.name,
        created_by: r.created_by.map(PersonId),
        created_at: r.created_at,
        last_used_at: r.last_used_at,
        revoked_at: r.revoked_at,
    }
}

pub(crate) fn identity_from_row(r: scim_identity::Model) -> ScimIdentity {
    ScimIdentity {
        person_id: PersonId(r.id),
        user_name: r.user_name,
        external_id: r.external_id,
        formatted: r.formatted,
        given_name: r.given_name,
        family_name: r.family_name,
        email_type: r.email_type,
        email_primary: r.email_primary,
        updated_at: r.updated_at,
        deleted_at: r.deleted_at,
    }
}

/// The row of a provisioning token as it is (its hash beside it): what creating one writes,
/// and what an organisation's import restores.
pub(crate) fn token_row(t: &ScimToken, token_hash: &str) -> scim_token::ActiveModel {
    scim_token::ActiveModel {
        id: Set(t.id.0),
        org_id: Set(t.org_id.0),
        name: Set(t.name.clone()),
        token_hash: Set(token_hash.to_owned()),
        created_by: Set(t.created_by.map(|p| p.0)),
        created_at: Set(t.created_at),
        last_used_at: Set(t.last_used_at),
        revoked_at: Set(t.revoked_at),
    }
}

/// The row of `person`'s SCIM attributes in `org`: what provisioning writes, and what an
/// organisation's import restores.
pub(crate) fn identity_row(
    org: OrgId,
    person: PersonId,
    identity: &ScimIdentity,
) -> scim_identity::ActiveModel {
    scim_identity::ActiveModel {
        id: Set(person.0),
        org_id: Set(org.0),
        user_name: Set(identity.user_name.clone()),
        external_id: Set(identity.external_id.clone()),
        formatted: Set(identity.formatted.clone()),
        given_name: Set(identity.given_name.clone()),
        family_name: Set(identity.family_name.clone()),
        email_type: Set(identity.email_type.clone()),
        email_primary: Set(identity.email_primary),
        updated_at: Set(identity.updated_at),
        deleted_at: Set(identity.deleted_at),
    }
}

/// Which provisioned people a listing holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScimFilter {
    All,
    /// `userName eq "…"` (lower case): the SCIM user name, or the email of someone who has none.
    UserName(String),
    ExternalId(String),
}

/// The `WHERE` of a SCIM listing, its values bound to `b`.
fn scim_condition(b: &mut crate::paging::Bound, org: OrgId, filter: &ScimFilter) -> String {
    // Those the SCIM client deleted are gone, as far as SCIM can tell.
    let mut cond = format!("p.org_id = {} AND s.deleted_at IS NULL", b.bind(org.0));
    match filter {
        ScimFilter::All => {}
        ScimFilter::UserName(u) => {
            let (x, y) = (b.bind(u.as_str()), b.bind(u.as_str()));
            cond.push_str(&format!(
                " AND (s.user_name = {x} OR (s.user_name IS NULL AND p.email = {y}))"
            ));
        }
        ScimFilter::ExternalId(e) => {
            cond.push_str(&format!(" AND s.external_id = {}", b.bind(e.as_str())));
        }
    }
    cond
}

impl Db {
    /// Stores a new provisioning token's hash, with its audit entry.
    pub async fn insert_scim_token(
        &self,
        t: &ScimToken,
        token_hash: &str,
        audit: &Audit,
    ) -> Result<(), DbError> {
        self.write(t.org_id, audit, async |w| {
            let tx = &w.txn;
            scim_token::Entity::insert(token_row(t, token_hash))
                .exec_without_returning(tx)
                .await?;
            Ok(())
        })
        .await
    }

    /// The organisation's provisioning tokens, newest first (revoked ones too).
    pub async fn scim_tokens(&self, org: OrgId) -> Result<Vec<ScimToken>, DbError> {
        Ok(scim_token::Entity::find()
            .filter(scim_token::Column::OrgId.eq(org.0))
            .order_by_desc(scim_token::Column::CreatedAt)
            .order_by_desc(scim_token::Column::Id)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(token_from_row)
            .collect())
    }

    /// Revokes a provisioning token of `org`, with its audit entry; false when there is no
    /// live one.
    pub async fn revoke_scim_token(
        &self,
        org: OrgId,
        id: ScimTokenId,
        audit: &Audit,
    ) -> Result<bool, DbError> {
        self.transact(async |tx| {
            let done = scim_token::Entity::update_many()
                .col_expr(scim_token::Column::RevokedAt, Expr::value(Some(Utc::now())))
                .filter(scim_token::Column::OrgId.eq(org.0))
                .filter(scim_token::Column::Id.eq(id.0))
                .filter(scim_token::Column::RevokedAt.is_null())
                .exec(tx)
                .await?;
            if done.rows_affected != 1 {
                return Ok(false);
            }
            crate::audit::write_audit(tx, org, audit).await?;
            Ok(true)
        })
        .await
    }

    /// The live token with this hash and its organisation (the one lookup before the tenant
    /// is known, as a sign-in's).
    pub async fn scim_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<(ScimToken, Organisation)>, DbError> {
        let Some(t) = scim_token::Entity::find()
            .filter(scim_token::Column::TokenHash.eq(token_hash))
            .filter(scim_token::Column::RevokedAt.is_null())
            .one(&self.conn)
            .await?
        else {
            return Ok(None);
        };
        let Some(org) = organisation::Entity::find_by_id(t.org_id)
            .one(&self.conn)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((token_from_row(t), org_from_row(org)?)))
    }

    /// Records that a token was used (the caller does it at most once a minute).
    pub async fn touch_scim_token(
        &self,
        id: ScimTokenId,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        scim_token::Entity::update_many()
            .col_expr(scim_token::Column::LastUsedAt, Expr::value(Some(now)))
            .filter(scim_token::Column::Id.eq(id.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// The SCIM attributes of these people of `org`, for those who have them.
    pub async fn scim_identities(
        &self,
        org: OrgId,
        ids: &[PersonId],
    ) -> Result<HashMap<PersonId, ScimIdentity>, DbError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(crate::rows::CHUNK) {
            for r in scim_identity::Entity::find()
                .filter(scim_identity::Column::OrgId.eq(org.0))
                .filter(scim_identity::Column::Id.is_in(chunk.iter().map(|p| p.0)))
                .all(&self.conn)
                .await?
            {
                let i = identity_from_row(r);
                out.insert(i.person_id, i);
            }
        }
        Ok(out)
    }

    /// A page of the organisation's people as SCIM lists them (deactivated ones too, not
    /// those SCIM deleted), oldest first: `start` people skipped, at most `count` returned, and how many match in all.
    pub async fn scim_people(
        &self,
        org: OrgId,
        filter: &ScimFilter,
        start: u64,
        count: u64,
    ) -> Result<(Vec<Person>, u64), DbError> {
        let from =
            "FROM people p LEFT JOIN scim_identities s ON s.id = p.id AND s.org_id = p.org_id";
        let mut b = crate::paging::Bound::new(self.conn.get_database_backend());
        let cond = scim_condition(&mut b, org, filter);
        let total_sql = format!("SELECT COUNT(*) AS n {from} WHERE {cond}");
        let total = self
            .conn
            .query_one_raw(b.statement(total_sql))
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        let mut b2 = crate::paging::Bound::new(self.conn.get_database_backend());
        let cond = scim_condition(&mut b2, org, filter);
        let page_sql = format!(
            "SELECT p.* {from} WHERE {cond} ORDER BY p.created_at, p.id LIMIT {} OFFSET {}",
            count.min(10_000),
            start
        );
        let rows = self.conn.query_all_raw(b2.statement(page_sql)).await?;
        let people = rows
            .iter()
            .map(|r| person_from_row(person::Model::from_query_result(r, "")?))
            .collect::<Result<Vec<_>, DbError>>()?;
        Ok((people, u64::try_from(total).unwrap_or(0)))
    }
}

/// Provisioning's writes, composed by use cases in one [`Db::write`].
impl Tx {
    /// Writes `person`'s SCIM attributes (inserted or replaced); CONFLICT when another person
    /// of the organisation has the same userName.
    pub async fn save_scim_identity(
        &self,
        person: PersonId,
        identity: &ScimIdentity,
    ) -> Result<(), DbError> {
        use scim_identity::Column as C;
        scim_identity::Entity::insert(identity_row(self.org, person, identity))
            .on_conflict(
                OnConflict::column(C::Id)
                    .update_columns([
                        C::UserName,
                        C::ExternalId,
                        C::Formatted,
                        C::GivenName,
                        C::FamilyName,
                        C::EmailType,
                        C::EmailPrimary,
                        C::UpdatedAt,
                        C::DeletedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.txn)
            .await
            .map_err(|e| DbError::conflict_or_other(e, "a user with this userName"))?;
        Ok(())
    }
}
