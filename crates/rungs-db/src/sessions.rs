//! Web app sessions. Like a refresh token, a session is looked up by the hash of what the
//! browser presents before the tenant is known; the same statement reads its person and
//! organisation, so a page's authentication is one statement.

use crate::audit::Audit;
use crate::core::Db;
use crate::entities::*;
use crate::error::DbError;
use crate::rows::{org_from_row, person_from_row};
use chrono::{DateTime, Utc};
use rungs_domain::auth::WebSession;
use rungs_domain::org::Organisation;
use rungs_domain::person::Person;
use rungs_domain::{OrgId, PersonId, WebSessionId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    Statement,
};

fn session_from_row(r: web_session::Model) -> WebSession {
    WebSession {
        id: WebSessionId(r.id),
        org_id: OrgId(r.org_id),
        person_id: PersonId(r.person_id),
        csrf_token: r.csrf_token,
        created_at: r.created_at,
        last_seen_at: r.last_seen_at,
        expires_at: r.expires_at,
    }
}

impl Db {
    /// Stores a new session under its token's hash, with its audit entry. Sessions of the
    /// organisation that ended before `now` are removed in the same transaction.
    pub async fn insert_web_session(
        &self,
        s: &WebSession,
        token_hash: &str,
        ended_before: DateTime<Utc>,
        audit: &Audit,
    ) -> Result<(), DbError> {
        self.write(s.org_id, audit, async |w| {
            let tx = &w.txn;
            web_session::Entity::insert(web_session::ActiveModel {
                id: Set(s.id.0),
                org_id: Set(s.org_id.0),
                person_id: Set(s.person_id.0),
                token_hash: Set(token_hash.to_owned()),
                csrf_token: Set(s.csrf_token.clone()),
                created_at: Set(s.created_at),
                last_seen_at: Set(s.last_seen_at),
                expires_at: Set(s.expires_at),
            })
            .exec_without_returning(tx)
            .await?;
            Ok(())
        })
        .await?;
        // Housekeeping, after the sign-in is stored and in its own statement: ended sessions are
        // refused when read anyway. Inside the sign-in's transaction, two sign-ins at once
        // deadlocked on MariaDB (each DELETE's gap lock blocked the other's INSERT).
        let swept = web_session::Entity::delete_many()
            .filter(web_session::Column::OrgId.eq(s.org_id.0))
            .filter(
                web_session::Column::ExpiresAt
                    .lte(ended_before)
                    .or(web_session::Column::LastSeenAt.lte(ended_before)),
            )
            .exec(&self.conn)
            .await;
        if let Err(e) = swept {
            tracing::warn!(error = %e, "ended web sessions were not swept; the next sign-in will");
        }
        Ok(())
    }

    /// The session with this token hash, with its person and organisation (one statement).
    pub async fn web_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(WebSession, Person, Organisation)>, DbError> {
        let b = self.conn.get_database_backend();
        let ph = crate::paging::placeholder(b, 1);
        let sql = format!(
            "SELECT s.id AS s_id, s.org_id AS s_org_id, s.person_id AS s_person_id, \
             s.token_hash AS s_token_hash, s.csrf_token AS s_csrf_token, \
             s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at, \
             s.expires_at AS s_expires_at, p.*, o.id AS o_id, o.slug AS o_slug, \
             o.name AS o_name, o.created_at AS o_created_at FROM web_sessions s \
             JOIN people p ON p.id = s.person_id AND p.org_id = s.org_id \
             JOIN organisations o ON o.id = s.org_id WHERE s.token_hash = {ph}"
        );
        let row = self
            .conn
            .query_one_raw(Statement::from_sql_and_values(b, sql, [token_hash.into()]))
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let s = web_session::Model::from_query_result(&row, "s_")?;
        let p = person::Model::from_query_result(&row, "")?;
        let o = organisation::Model::from_query_result(&row, "o_")?;
        Ok(Some((
            session_from_row(s),
            person_from_row(p)?,
            org_from_row(o)?,
        )))
    }

    /// Whether anyone active reports to `person` (for the web app's navigation).
    pub async fn has_reports(&self, org: OrgId, person: PersonId) -> Result<bool, DbError> {
        use sea_orm::QuerySelect;
        Ok(person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .filter(person::Column::OrgId.eq(org.0))
            .filter(person::Column::ManagerId.eq(person.0))
            .filter(person::Column::Active.eq(true))
            .limit(1)
            .into_tuple::<uuid::Uuid>()
            .one(&self.conn)
            .await?
            .is_some())
    }

    /// Records a request of the session at `at`.
    pub async fn touch_web_session(
        &self,
        org: OrgId,
        id: WebSessionId,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let _turn = self.serialised().await;
        web_session::Entity::update_many()
            .col_expr(web_session::Column::LastSeenAt, Expr::value(at))
            .filter(web_session::Column::OrgId.eq(org.0))
            .filter(web_session::Column::Id.eq(id.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Ends the session with this token hash (signing out), with an audit entry; false when
    /// there was none.
    pub async fn end_web_session(&self, token_hash: &str) -> Result<bool, DbError> {
        self.transact(async |txn| {
            let Some(row) = web_session::Entity::find()
                .filter(web_session::Column::TokenHash.eq(token_hash))
                .one(txn)
                .await?
            else {
                return Ok(false);
            };
            let org = OrgId(row.org_id);
            web_session::Entity::delete_many()
                .filter(web_session::Column::OrgId.eq(org.0))
                .filter(web_session::Column::Id.eq(row.id))
                .exec(txn)
                .await?;
            let audit = Audit::new(
                Some(PersonId(row.person_id)),
                "session.web_sign_out",
                [row.person_id, row.id],
                "signed out of the web app",
            );
            crate::audit::write_audit(txn, org, &audit).await?;
            Ok(true)
        })
        .await
    }
}

/// Ends every web session of a person (password change, deactivation).
pub(crate) async fn end_person_web_sessions<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    person: PersonId,
) -> Result<(), DbError> {
    web_session::Entity::delete_many()
        .filter(web_session::Column::OrgId.eq(org.0))
        .filter(web_session::Column::PersonId.eq(person.0))
        .exec(c)
        .await?;
    Ok(())
}
