//! Credentials and refresh tokens. Sign-in is the one place that looks a person up before the
//! tenant is verified (by organisation slug and email, or by a refresh token's hash);
//! everything after it is scoped by the organisation those lookups return.

use crate::audit::Audit;
use crate::core::Db;
use crate::entities::*;
use crate::error::DbError;
use crate::rows::{org_from_row, person_from_row};
use crate::statements::{Param, Params, Shape, Template};
use chrono::{DateTime, NaiveDate, Utc};
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::auth::{Credential, IssuedToken, RefreshToken, Rotation};
use rungs_domain::growth::ReadinessRule;
use rungs_domain::org::Organisation;
use rungs_domain::person::{Email, Person};
use rungs_domain::{IssuedTokenId, OrgId, PersonId, TokenFamilyId, TokenId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

/// The caller of an access token as [`Db::session_of`] reads them.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub person: Person,
    pub org: Organisation,
    /// Whether the token's session is still live.
    pub live: bool,
    /// Their position in force on the day asked for (none: not placed yet).
    pub position: Option<LevelAssignment>,
    /// The organisation's readiness rule (the default when it has not set one).
    pub rule: ReadinessRule,
    /// What the request is about, when it was asked for with the session.
    pub lead: Option<LeadRead>,
}

/// What a request is about, when the API can tell it from the request's document before it
/// runs: read in the statement that checks the caller's session, so that asking for one
/// person, or for one's own growth plan, costs one statement. It is read for the caller's
/// organisation only, and a use case takes it only when it is exactly what it would have read
/// itself; whether the caller may see it is the policy's to say, as for any other read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lead {
    /// A person by id, with their position in force (as [`Db::people_with_positions`]).
    Person(PersonId),
    /// The caller's own assessments, oldest first (as [`Db::assessments_of`]).
    OwnAssessments,
    /// The directory's first page as an HR admin reads it: everyone active by email, `first`
    /// of them, each with their position when `with_positions`, no total (as
    /// [`Db::people_page`] with [`Reach::Everyone`](crate::Reach) and the default query). Read
    /// only if the caller is an HR admin.
    People { first: usize, with_positions: bool },
}

/// A [`Lead`] as read with the session.
#[derive(Debug, Clone)]
pub enum LeadRead {
    /// The person asked for, with their position; none if they are not of the organisation.
    Person(PersonId, Option<Box<(Person, Option<LevelAssignment>)>>),
    /// The caller's assessments, oldest first.
    OwnAssessments(Vec<rungs_domain::assessment::Assessment>),
    /// The page asked for; none if the caller is not an HR admin.
    People(Lead, Option<crate::PeoplePage>),
}

/// The shape of the session's statement with this lead.
fn shape_of(lead: Option<Lead>) -> Shape {
    match lead {
        None => Shape::Alone,
        Some(Lead::Person(_)) => Shape::Person,
        Some(Lead::OwnAssessments) => Shape::OwnAssessments,
        Some(Lead::People {
            first,
            with_positions,
        }) => Shape::People {
            first,
            with_positions,
        },
    }
}

/// A lead's part of the session's statement (`p` is the caller). A lead of one row (a
/// person) is joined to the session's row; a lead of many rows (a page, assessments) is read
/// as rows of its own after the session's (`UNION ALL`), so that the session's columns are
/// not repeated on each of them.
#[derive(Default)]
struct LeadSql {
    /// Columns of the session's row: a one-row lead's, or NULL for each of a many-row lead's.
    columns: String,
    /// Joins of the session's row.
    joins: String,
    /// The order of a many-row lead's rows, by the statement's column names.
    order: &'static str,
}

/// `, NULL AS {prefix}{column}` for each column of a table: a row of a `UNION ALL` that does
/// not read it.
fn nulls<C: sea_orm::Iterable + sea_orm::IdenStatic>(prefix: &str) -> String {
    C::iter()
        .map(|c| format!(", NULL AS {prefix}{}", c.as_str()))
        .collect()
}

/// Where each part of the session statement's row starts ([`Db::session_of`] selects them in
/// this order): `lead_row`, the caller, their organisation, `live`, the readiness rule, the
/// caller's position, then the lead's columns (a person or an assessment), then its second
/// part (that person's position). A page's rows put each person in the caller's columns and
/// their position in the caller's position's.
const AT_PERSON: usize = 1;
const AT_ORG: usize = AT_PERSON + person::COLUMNS;
const AT_LIVE: usize = AT_ORG + organisation::COLUMNS;
const AT_RULE: usize = AT_LIVE + 1;
const AT_POSITION: usize = AT_RULE + readiness_rule::COLUMNS;
const AT_LEAD: usize = AT_POSITION + level_assignment::COLUMNS;
const AT_LEAD_SECOND: usize = AT_LEAD + person::COLUMNS;

/// That the statement's columns are where `AT_*` say (every test runs with this check).
#[cfg(debug_assertions)]
fn check_layout(row: &sea_orm::QueryResult, shape: Shape) {
    let names = row.column_names();
    let mut expected = vec![
        (0, "lead_row"),
        (AT_PERSON, "id"),
        (AT_ORG, "o_id"),
        (AT_LIVE, "live"),
        (AT_RULE, "rr_id"),
        (AT_POSITION, "a_id"),
    ];
    match shape {
        Shape::Alone => expected.push((AT_LEAD, "")),
        Shape::Person => expected.extend([(AT_LEAD, "t_id"), (AT_LEAD_SECOND, "ta_id")]),
        Shape::OwnAssessments => expected.push((AT_LEAD, "x_id")),
        // A page's people are read in the caller's columns.
        Shape::People { .. } => expected.push((AT_LEAD, "")),
    }
    for (at, name) in expected {
        assert_eq!(
            names
                .get(at)
                .map_or("", |n| n.as_str())
                .to_ascii_lowercase(),
            name,
            "column {at} of the session's row in {names:?}"
        );
    }
}

impl Shape {
    /// Its part of the session's row (binding its values now: call it where they fall among
    /// the statement's other placeholders).
    fn sql(self, b: &mut Params) -> LeadSql {
        use crate::records::{position_join_of, prefixed};
        match self {
            Shape::Alone => LeadSql::default(),
            Shape::Person => {
                let person = format!(
                    "LEFT JOIN people t ON t.org_id = p.org_id AND t.id = {}",
                    b.bind(Param::Asked)
                );
                let (position_columns, position) =
                    position_join_of(&b.bind(Param::Today), "t", "ta");
                LeadSql {
                    columns: prefixed::<person::Column>("t", "t_") + &position_columns,
                    joins: format!("{person} {position}"),
                    ..LeadSql::default()
                }
            }
            Shape::OwnAssessments => LeadSql {
                columns: nulls::<assessment::Column>("x_"),
                order: ", x_assessed_at, x_id",
                ..LeadSql::default()
            },
            // A page's people take the caller's columns (and their positions the caller's
            // position's): its rows are as narrow as the session's.
            Shape::People { .. } => LeadSql {
                order: ", email",
                ..LeadSql::default()
            },
        }
    }

    /// A many-row lead's own rows: what they select after `lead_row`, and where they are read
    /// from (binding its values now, after the session's row's).
    fn rows(self, b: &mut Params) -> Option<(String, String)> {
        use crate::records::{position_join_of, prefixed};
        match self {
            Shape::Alone | Shape::Person => None,
            Shape::OwnAssessments => Some((
                // NULL in the session's columns, then the assessment's.
                format!(
                    "{}{}, NULL AS live{}{}{}",
                    nulls::<person::Column>(""),
                    nulls::<organisation::Column>("o_"),
                    nulls::<readiness_rule::Column>("rr_"),
                    nulls::<level_assignment::Column>("a_"),
                    prefixed::<assessment::Column>("x", "x_"),
                ),
                format!(
                    "FROM assessments x WHERE x.org_id = {} AND x.person_id = {}",
                    b.bind(Param::Org),
                    b.bind(Param::Caller)
                ),
            )),
            // The page itself is the statement's `WITH l AS (...)` ([`Db::session_template`]):
            // each person in the caller's columns, their position in the caller's position's,
            // NULL in the organisation's and the rule's.
            Shape::People { with_positions, .. } => {
                let (position_columns, position) = if with_positions {
                    position_join_of(&b.bind(Param::Today), "l", "la")
                } else {
                    (nulls::<level_assignment::Column>("a_"), String::new())
                };
                let admin = format!(
                    "SELECT 1 FROM people q WHERE q.org_id = {} AND q.id = {} AND q.is_admin = {}",
                    b.bind(Param::Org),
                    b.bind(Param::Caller),
                    b.bind(Param::Yes)
                );
                Some((
                    format!(
                        "{}{}, NULL AS live{}{position_columns}",
                        prefixed::<person::Column>("l", ""),
                        nulls::<organisation::Column>("o_"),
                        nulls::<readiness_rule::Column>("rr_"),
                    ),
                    format!("FROM l {position} WHERE EXISTS ({admin})"),
                ))
            }
        }
    }
}

/// Someone who might be signing in: their organisation, record and password credential.
#[derive(Debug, Clone)]
pub struct LoginCandidate {
    pub org: Organisation,
    pub person: Person,
    pub credential: Option<Credential>,
}

fn credential_from_row(r: credential::Model) -> Credential {
    Credential {
        person_id: PersonId(r.id),
        org_id: OrgId(r.org_id),
        password_hash: r.password_hash,
        failed_attempts: u32::try_from(r.failed_attempts).unwrap_or(0),
        locked_until: r.locked_until,
    }
}

impl Db {
    /// The person with this email in the organisation with this slug (sign-in only). Never
    /// looks at another organisation: who exists elsewhere cannot change the answer.
    pub async fn login_candidate(
        &self,
        slug: &str,
        email: &Email,
    ) -> Result<Option<LoginCandidate>, DbError> {
        // One statement, whether the email is known or not (a sign-in's timing says nothing).
        use sea_orm::{ConnectionTrait, FromQueryResult};
        let mut b = crate::paging::Bound::new(self.conn.get_database_backend());
        let sql = format!(
            "SELECT p.*, o.id AS o_id, o.slug AS o_slug, o.name AS o_name, \
             o.created_at AS o_created_at, c.id AS c_id, c.org_id AS c_org_id, \
             c.password_hash AS c_password_hash, c.failed_attempts AS c_failed_attempts, \
             c.locked_until AS c_locked_until, c.updated_at AS c_updated_at \
             FROM people p JOIN organisations o ON o.id = p.org_id \
             LEFT JOIN credentials c ON c.id = p.id AND c.org_id = p.org_id \
             WHERE o.slug = {} AND p.email = {}",
            b.bind(slug),
            b.bind(email.as_str())
        );
        let Some(row) = self.conn.query_one_raw(b.statement(sql)).await? else {
            return Ok(None);
        };
        let credential = match row.try_get::<Option<uuid::Uuid>>("", "c_id")? {
            Some(_) => Some(credential_from_row(credential::Model::from_query_result(
                &row, "c_",
            )?)),
            None => None,
        };
        Ok(Some(LoginCandidate {
            org: org_from_row(organisation::Model::from_query_result(&row, "o_")?)?,
            person: person_from_row(person::Model::from_query_result(&row, "")?)?,
            credential,
        }))
    }

    /// A person of `org` by id.
    pub async fn person(&self, org: OrgId, id: PersonId) -> Result<Option<Person>, DbError> {
        person::Entity::find_by_id(id.0)
            .filter(person::Column::OrgId.eq(org.0))
            .one(&self.conn)
            .await?
            .map(person_from_row)
            .transpose()
    }

    /// The caller of an access token, in one statement: the person (active or not) with their
    /// organisation, whether the token's session `sid` is still live (not a refresh-token
    /// family that was revoked: signed out, password changed, a used token presented again;
    /// not an issued token that was revoked), and what most reads about the caller need: their
    /// position in force on `today` and the organisation's readiness rule; and the request's
    /// `lead`, if it has one.
    pub async fn session_of(
        &self,
        org: OrgId,
        id: PersonId,
        sid: uuid::Uuid,
        today: NaiveDate,
        lead: Option<Lead>,
    ) -> Result<Option<SessionRow>, DbError> {
        use sea_orm::ConnectionTrait;
        let shape = shape_of(lead);
        let template = self
            .statements
            .get(shape, || self.session_template(shape))?;
        let values = template
            .params
            .iter()
            .map(|p| match p {
                Param::Org => Ok(org.0.into()),
                Param::Caller => Ok(id.0.into()),
                Param::Session => Ok(sid.into()),
                Param::Today => Ok(today.into()),
                Param::Yes => Ok(true.into()),
                Param::Asked => match lead {
                    Some(Lead::Person(asked)) => Ok(asked.0.into()),
                    _ => Err(DbError::Other(sea_orm::DbErr::Custom(
                        "the session's statement asks for a person its lead does not name".into(),
                    ))),
                },
            })
            .collect::<Result<Vec<sea_orm::Value>, DbError>>()?;
        let statement = sea_orm::Statement::from_sql_and_values(
            self.conn.get_database_backend(),
            template.sql.as_str(),
            values,
        );
        // The session's row, then the rows of a many-row lead.
        let rows = self.conn.query_all_raw(statement).await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        #[cfg(debug_assertions)]
        check_layout(row, shape);
        let int = |r: &sea_orm::QueryResult, at: usize| -> Result<i64, DbError> {
            // An integer of the backend's own width (BIGINT on MariaDB, INT on PostgreSQL).
            Ok(r.try_get_by_index::<i64>(at)
                .or_else(|_| r.try_get_by_index::<i32>(at).map(i64::from))?)
        };
        if int(row, 0)? != 0 {
            return Ok(None);
        }
        let live = int(row, AT_LIVE)?;
        // Read by position (the statement's columns are laid out as `AT_*` say): looking each
        // column of a many-row lead up by name cost more than decoding it. Its rows follow
        // the session's (`ORDER BY lead_row`).
        let missing = || {
            DbError::Other(sea_orm::DbErr::Custom(
                "the session's row lacks the caller or their organisation".into(),
            ))
        };
        let session = person::Model::at(row, AT_PERSON)?.ok_or_else(missing)?;
        let o = organisation::Model::at(row, AT_ORG)?.ok_or_else(missing)?;
        let rule = match readiness_rule::Model::at(row, AT_RULE)? {
            // A LEFT JOIN's absent row is told by its id.
            None => ReadinessRule::default(),
            Some(r) => crate::records::rule_from_row(r)?,
        };
        // The caller's position and those of the people the lead read, their keys read
        // together.
        let mine = level_assignment::Model::at(row, AT_POSITION)?;
        let mut theirs = None;
        let mut page = Vec::new();
        match lead {
            Some(Lead::Person(_)) => theirs = level_assignment::Model::at(row, AT_LEAD_SECOND)?,
            Some(Lead::People { with_positions, .. }) => {
                for r in &rows[1..] {
                    if let Some(p) = person::Model::at(r, AT_PERSON)? {
                        let at = match with_positions {
                            true => level_assignment::Model::at(r, AT_POSITION)?,
                            false => None,
                        };
                        page.push((p, at));
                    }
                }
            }
            _ => {}
        }
        let wanted: Vec<_> = mine
            .iter()
            .chain(theirs.iter())
            .chain(page.iter().filter_map(|(_, at)| at.as_ref()))
            .cloned()
            .collect();
        let positions: std::collections::HashMap<_, _> =
            crate::records::assignments_from(&self.conn, &self.keys, org, wanted)
                .await?
                .into_iter()
                .map(|a| (a.id, a))
                .collect();
        // (The same assignment when the lead is the caller.)
        let take = |m: Option<level_assignment::Model>| {
            m.and_then(|m| positions.get(&rungs_domain::AssignmentId(m.id)).cloned())
        };
        let position = take(mine);
        let lead = match lead {
            None => None,
            Some(Lead::Person(asked)) => {
                let found = match person::Model::at(row, AT_LEAD)? {
                    None => None,
                    Some(p) => Some(Box::new((person_from_row(p)?, take(theirs)))),
                };
                Some(LeadRead::Person(asked, found))
            }
            Some(Lead::OwnAssessments) => {
                let mut assessed = Vec::new();
                for r in &rows[1..] {
                    if let Some(a) = assessment::Model::at(r, AT_LEAD)? {
                        assessed.push(a);
                    }
                }
                let assessed =
                    crate::records::assessments_from(&self.conn, &self.keys, org, assessed).await?;
                Some(LeadRead::OwnAssessments(assessed))
            }
            Some(l @ Lead::People { first, .. }) => {
                let read = match session.is_admin {
                    false => None,
                    true => {
                        let mut people = page
                            .into_iter()
                            .map(|(p, at)| Ok((person_from_row(p)?, take(at))))
                            .collect::<Result<Vec<_>, DbError>>()?;
                        let has_next = people.len() > first;
                        people.truncate(first);
                        Some(crate::PeoplePage {
                            people,
                            has_next,
                            total: 0,
                        })
                    }
                };
                Some(LeadRead::People(l, read))
            }
        };
        Ok(Some(SessionRow {
            person: person_from_row(session)?,
            org: org_from_row(o)?,
            live: live == 1,
            position,
            rule,
            lead,
        }))
    }

    /// The text of the session's statement for a lead of this shape ([`Db::session_of`]
    /// binds its values).
    fn session_template(&self, shape: Shape) -> Result<Template, DbError> {
        let backend = self.conn.get_database_backend();
        // A page's `WITH` opens the statement, so its values come first. It is the
        // directory's own page statement, written for a marker organisation whose every
        // appearance becomes the token's organisation.
        let (with, mut b) = match shape {
            Shape::People { first, .. } => {
                let marker = uuid::Uuid::max();
                let q = crate::PeopleQuery::default();
                let (page, values) =
                    self.page_statement(OrgId(marker), crate::Reach::Everyone, &q, None, first);
                let taken = values
                    .into_iter()
                    .map(|v| {
                        if v == sea_orm::Value::from(marker) {
                            Ok(Param::Org)
                        } else if v == sea_orm::Value::from(true) {
                            Ok(Param::Yes)
                        } else {
                            Err(DbError::Other(sea_orm::DbErr::Custom(format!(
                                "the directory's page binds {v:?}, which a session's lead cannot"
                            ))))
                        }
                    })
                    .collect::<Result<_, DbError>>()?;
                (format!("WITH l AS ({page}) "), Params { backend, taken })
            }
            _ => (
                String::new(),
                Params {
                    backend,
                    taken: Vec::new(),
                },
            ),
        };
        let refresh = format!(
            "SELECT 1 FROM refresh_tokens r WHERE r.org_id = {} AND r.family_id = {} \
             AND r.revoked_at IS NOT NULL",
            b.bind(Param::Org),
            b.bind(Param::Session)
        );
        let issued = format!(
            "SELECT 1 FROM issued_tokens t WHERE t.id = {} AND t.org_id = {} \
             AND t.revoked_at IS NOT NULL",
            b.bind(Param::Session),
            b.bind(Param::Org)
        );
        let (assignment, position) = crate::records::position_join(&b.bind(Param::Today));
        let LeadSql {
            columns: lead_columns,
            joins: lead_joins,
            order,
        } = shape.sql(&mut b);
        use crate::records::prefixed;
        let session_columns = format!(
            "{person}{org}, CASE WHEN EXISTS ({refresh}) OR EXISTS ({issued}) THEN 0 ELSE 1 END \
             AS live{rule}{assignment}",
            person = prefixed::<person::Column>("p", ""),
            org = prefixed::<organisation::Column>("o", "o_"),
            rule = prefixed::<readiness_rule::Column>("rr", "rr_"),
        );
        let mut sql = format!(
            "{with}SELECT 0 AS lead_row{session_columns}{lead_columns} \
             FROM people p JOIN organisations o ON o.id = p.org_id \
             LEFT JOIN readiness_rules rr ON rr.id = p.org_id AND rr.org_id = p.org_id \
             {position} {lead_joins} \
             WHERE p.org_id = {} AND p.id = {}",
            b.bind(Param::Org),
            b.bind(Param::Caller)
        );
        if let Some((columns, from)) = shape.rows(&mut b) {
            // The lead's rows after the session's.
            sql.push_str(&format!(
                " UNION ALL SELECT 1 AS lead_row{columns} {from} ORDER BY lead_row{order}"
            ));
        }
        Ok(Template {
            sql,
            params: b.taken,
        })
    }

    /// Stores an issued token's row, with its audit entry.
    pub async fn insert_issued_token(&self, t: &IssuedToken, audit: &Audit) -> Result<(), DbError> {
        self.write(t.org_id, audit, async |w| {
            let tx = &w.txn;
            issued_token::Entity::insert(issued_token::ActiveModel {
                id: Set(t.id.0),
                org_id: Set(t.org_id.0),
                person_id: Set(t.person_id.0),
                issued_by: Set(t.issued_by.map(|p| p.0)),
                issued_at: Set(t.issued_at),
                expires_at: Set(t.expires_at),
                revoked_at: Set(t.revoked_at),
            })
            .exec_without_returning(tx)
            .await?;
            Ok(())
        })
        .await
    }

    /// The organisation's issued tokens, newest first; those that ended (expired or revoked)
    /// only with `ended`.
    pub async fn issued_tokens(
        &self,
        org: OrgId,
        ended: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<IssuedToken>, DbError> {
        use sea_orm::QueryOrder;
        let mut q = issued_token::Entity::find().filter(issued_token::Column::OrgId.eq(org.0));
        if !ended {
            q = q
                .filter(issued_token::Column::RevokedAt.is_null())
                .filter(issued_token::Column::ExpiresAt.gt(now));
        }
        Ok(q.order_by_desc(issued_token::Column::IssuedAt)
            .order_by_desc(issued_token::Column::Id)
            .all(&self.conn)
            .await?
            .into_iter()
            .map(|r| IssuedToken {
                id: IssuedTokenId(r.id),
                org_id: OrgId(r.org_id),
                person_id: PersonId(r.person_id),
                issued_by: r.issued_by.map(PersonId),
                issued_at: r.issued_at,
                expires_at: r.expires_at,
                revoked_at: r.revoked_at,
            })
            .collect())
    }

    /// Revokes an issued token of `org`, with its audit entry; false when there is no such token
    /// (or it was revoked already).
    pub async fn revoke_issued_token(
        &self,
        org: OrgId,
        id: IssuedTokenId,
        audit: &Audit,
    ) -> Result<bool, DbError> {
        self.transact(async |tx| {
            let done = issued_token::Entity::update_many()
                .col_expr(
                    issued_token::Column::RevokedAt,
                    Expr::value(Some(Utc::now())),
                )
                .filter(issued_token::Column::OrgId.eq(org.0))
                .filter(issued_token::Column::Id.eq(id.0))
                .filter(issued_token::Column::RevokedAt.is_null())
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

    /// An organisation by id.
    pub async fn org(&self, id: OrgId) -> Result<Option<Organisation>, DbError> {
        organisation::Entity::find_by_id(id.0)
            .one(&self.conn)
            .await?
            .map(org_from_row)
            .transpose()
    }

    /// Sets (or replaces) a person's password hash and clears their failures. Signing in again
    /// is required: every refresh token of theirs is revoked in the same transaction.
    pub async fn set_password(
        &self,
        org: OrgId,
        person: PersonId,
        password_hash: &str,
        audit: &Audit,
    ) -> Result<(), DbError> {
        let now = Utc::now();
        self.write(org, audit, async |w| {
            let txn = &w.txn;
            credential::Entity::delete_many()
                .filter(credential::Column::OrgId.eq(org.0))
                .filter(credential::Column::Id.eq(person.0))
                .exec(txn)
                .await?;
            credential::Entity::insert(credential::ActiveModel {
                id: Set(person.0),
                org_id: Set(org.0),
                password_hash: Set(password_hash.to_owned()),
                failed_attempts: Set(0),
                locked_until: Set(None),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
            revoke_where(txn, org, refresh_token::Column::PersonId.eq(person.0), now).await?;
            crate::sessions::end_person_web_sessions(txn, org, person).await?;
            Ok(())
        })
        .await
    }

    /// Gives many new people (no credential yet) the same password hash, in one transaction:
    /// for generated demo organisations.
    pub async fn insert_credentials(
        &self,
        org: OrgId,
        people: &[PersonId],
        password_hash: &str,
        audit: &Audit,
    ) -> Result<(), DbError> {
        let now = Utc::now();
        let rows = || {
            people
                .iter()
                .map(|p| credential::ActiveModel {
                    id: Set(p.0),
                    org_id: Set(org.0),
                    password_hash: Set(password_hash.to_owned()),
                    failed_attempts: Set(0),
                    locked_until: Set(None),
                    updated_at: Set(now),
                })
                .collect()
        };
        self.write(org, audit, async |w| {
            crate::rows::insert_chunked::<credential::Entity, _, _>(&w.txn, rows()).await?;
            Ok(())
        })
        .await
    }

    /// A person's credential, if they have one.
    pub async fn credential(
        &self,
        org: OrgId,
        person: PersonId,
    ) -> Result<Option<Credential>, DbError> {
        Ok(credential::Entity::find_by_id(person.0)
            .filter(credential::Column::OrgId.eq(org.0))
            .one(&self.conn)
            .await?
            .map(credential_from_row))
    }

    /// Claims one sign-in attempt before the password is checked: the failure count goes from
    /// `seen` (as the caller read it) to `failures`, with `locked_until`, in one conditional
    /// UPDATE that succeeds only if nobody else changed the count meanwhile and the account is
    /// not locked at `now`. Concurrent attempts thus each take their own place in the count;
    /// `false` means "read the credential again" (or that it is locked now).
    pub async fn claim_login_attempt(
        &self,
        org: OrgId,
        person: PersonId,
        seen: u32,
        failures: u32,
        locked_until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let n = |x: u32| i32::try_from(x).unwrap_or(i32::MAX);
        let _turn = self.serialised().await;
        let r = credential::Entity::update_many()
            .col_expr(credential::Column::FailedAttempts, Expr::value(n(failures)))
            .col_expr(credential::Column::LockedUntil, Expr::value(locked_until))
            .col_expr(credential::Column::UpdatedAt, Expr::value(now))
            .filter(credential::Column::OrgId.eq(org.0))
            .filter(credential::Column::Id.eq(person.0))
            .filter(credential::Column::FailedAttempts.eq(n(seen)))
            .filter(
                credential::Column::LockedUntil
                    .is_null()
                    .or(credential::Column::LockedUntil.lte(now)),
            )
            .exec(&self.conn)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Records the outcome of a password check: the new failure count and lock.
    pub async fn record_login_attempt(
        &self,
        org: OrgId,
        person: PersonId,
        failed_attempts: u32,
        locked_until: Option<DateTime<Utc>>,
    ) -> Result<(), DbError> {
        let _turn = self.serialised().await;
        credential::Entity::update_many()
            .col_expr(
                credential::Column::FailedAttempts,
                Expr::value(i32::try_from(failed_attempts).unwrap_or(i32::MAX)),
            )
            .col_expr(credential::Column::LockedUntil, Expr::value(locked_until))
            .col_expr(credential::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(credential::Column::OrgId.eq(org.0))
            .filter(credential::Column::Id.eq(person.0))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Stores a new refresh token under its hash.
    pub async fn insert_refresh_token(
        &self,
        t: &RefreshToken,
        token_hash: &str,
        audit: &Audit,
    ) -> Result<(), DbError> {
        self.write(t.org_id, audit, async |w| {
            let txn = &w.txn;
            refresh_token::Entity::insert(refresh_row(t, token_hash))
                .exec_without_returning(txn)
                .await?;
            Ok(())
        })
        .await
    }

    /// Presents a refresh token: a live one is used up and replaced by `next` (same family);
    /// one presented a second time revokes its whole family. One transaction.
    pub async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        next_hash: &str,
        next_id: TokenId,
        expires_at: DateTime<Utc>,
    ) -> Result<Rotation, DbError> {
        let now = Utc::now();
        self.transact(async |txn| {
            let Some(row) = refresh_token::Entity::find()
                .filter(refresh_token::Column::TokenHash.eq(token_hash))
                .one(txn)
                .await?
            else {
                return Ok(Rotation::Invalid);
            };
            let org = OrgId(row.org_id);
            if row.revoked_at.is_some() || row.expires_at <= now {
                return Ok(Rotation::Invalid);
            }
            // Only one presenter can use a token up; anyone else is replaying it.
            let used = refresh_token::Entity::update_many()
                .col_expr(refresh_token::Column::UsedAt, Expr::value(Some(now)))
                .filter(refresh_token::Column::OrgId.eq(org.0))
                .filter(refresh_token::Column::Id.eq(row.id))
                .filter(refresh_token::Column::UsedAt.is_null())
                .exec(txn)
                .await?;
            if used.rows_affected != 1 {
                revoke_where(
                    txn,
                    org,
                    refresh_token::Column::FamilyId.eq(row.family_id),
                    now,
                )
                .await?;
                let audit = Audit::new(
                    Some(PersonId(row.person_id)),
                    "session.reuse_revoked",
                    [row.person_id, row.family_id],
                    "a used refresh token was presented again: every token of that sign-in is revoked",
                );
                crate::audit::write_audit(txn, org, &audit).await?;
                return Ok(Rotation::Reused);
            }
            let next = RefreshToken {
                id: next_id,
                org_id: org,
                person_id: PersonId(row.person_id),
                family: TokenFamilyId(row.family_id),
                issued_at: now,
                expires_at,
            };
            refresh_token::Entity::insert(refresh_row(&next, next_hash))
                .exec_without_returning(txn)
                .await?;
            let audit = Audit::new(
                Some(next.person_id),
                "session.refresh",
                [next.person_id.0, row.family_id],
                "refresh token exchanged",
            );
            crate::audit::write_audit(txn, org, &audit).await?;
            Ok(Rotation::Rotated { next })
        })
        .await
    }

    /// Revokes the family of the token with this hash; false when there is no such token.
    pub async fn revoke_refresh_family(&self, token_hash: &str) -> Result<bool, DbError> {
        self.transact(async |txn| {
            let Some(row) = refresh_token::Entity::find()
                .filter(refresh_token::Column::TokenHash.eq(token_hash))
                .one(txn)
                .await?
            else {
                return Ok(false);
            };
            let org = OrgId(row.org_id);
            revoke_where(
                txn,
                org,
                refresh_token::Column::FamilyId.eq(row.family_id),
                Utc::now(),
            )
            .await?;
            let audit = Audit::new(
                Some(PersonId(row.person_id)),
                "session.sign_out",
                [row.person_id, row.family_id],
                "signed out: the sign-in's refresh tokens are revoked",
            );
            crate::audit::write_audit(txn, org, &audit).await?;
            Ok(true)
        })
        .await
    }
}

impl crate::core::Tx {
    /// Revokes every refresh token and ends every web session of `person` (a deactivation).
    pub async fn end_sessions_of(&self, person: PersonId) -> Result<(), DbError> {
        revoke_person_tokens_in(&self.txn, self.org, person).await
    }
}

/// Revokes a person's refresh tokens and ends their web sessions, in the caller's transaction.
pub(crate) async fn revoke_person_tokens_in<C: sea_orm::ConnectionTrait>(
    c: &C,
    org: OrgId,
    person: PersonId,
) -> Result<(), DbError> {
    revoke_where(
        c,
        org,
        refresh_token::Column::PersonId.eq(person.0),
        Utc::now(),
    )
    .await?;
    crate::sessions::end_person_web_sessions(c, org, person).await
}

fn refresh_row(t: &RefreshToken, token_hash: &str) -> refresh_token::ActiveModel {
    refresh_token::ActiveModel {
        id: Set(t.id.0),
        org_id: Set(t.org_id.0),
        person_id: Set(t.person_id.0),
        family_id: Set(t.family.0),
        token_hash: Set(token_hash.to_owned()),
        issued_at: Set(t.issued_at),
        expires_at: Set(t.expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
    }
}

async fn revoke_where<C: sea_orm::ConnectionTrait>(
    c: &C,
    org: OrgId,
    which: sea_orm::sea_query::SimpleExpr,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Some(now)))
        .filter(refresh_token::Column::OrgId.eq(org.0))
        .filter(which)
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(c)
        .await?;
    Ok(())
}
