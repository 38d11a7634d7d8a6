//! Team listings read from the standings: a page of a manager's reports (or the organisation)
//! sorted by readiness, name, level or time in level, walked along an index; counts and the
//! level distribution of the same selection.

use crate::core::Db;
use crate::entities::*;
use crate::error::DbError;
use crate::paging::Bound;
use crate::records::Scope;
use crate::standings::{ROUND, SCORES, apply_rule, refresh, score_index};
use chrono::{NaiveDate, Utc};
use rungs_domain::growth::ReadinessRule;
use rungs_domain::{OrgId, PersonId};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use sea_orm::{Statement, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// What a team row shows without the person's readiness computed in full: the kept
/// standing (score under the rule's minimum rating, ready under the rule, since when the
/// level is held).
#[derive(Debug, Clone, PartialEq)]
pub struct StandingSummary {
    pub person: PersonId,
    pub ready: bool,
    pub score: f64,
    pub in_level_since: Option<NaiveDate>,
}

/// How a team listing is ordered; every order ends with the name (lower case), then the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StandingOrder {
    /// Ready first, then the higher score, then the longer in level (the earlier
    /// `in_level_since`), then by name.
    #[default]
    Readiness,
    Name,
    /// The higher level first (no level last), then by name.
    Level,
}

/// Which people of a scope a listing keeps (all conditions hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StandingsFilter {
    /// Only those the rule calls ready.
    pub ready_only: bool,
    /// The start of a word of the name or email, any case or accent (`rungs_domain::search`).
    pub search: Option<String>,
    /// The track (key) of the position in force.
    pub track: Option<String>,
}

/// Which people a standings listing holds: active people of the organisation, or of a
/// manager's subtree (`Scope::ReportsOf`), kept by `filter`.
#[derive(Debug, Clone, Copy)]
pub struct StandingsQuery<'a> {
    pub scope: Scope,
    pub order: StandingOrder,
    pub filter: &'a StandingsFilter,
    /// Decides "ready" for [`StandingOrder::Readiness`].
    pub rule: &'a ReadinessRule,
    pub today: NaiveDate,
}

/// A row comes after the cursor whose keys are `cursor`, in the order `keys` (column,
/// descending?): a keyset condition on `s`, with the cursor's values bound. It opens with a
/// bound on the first key alone, so that an index on the order starts at the cursor.
fn after_values(
    keys: &[(&str, bool)],
    cursor: &HashMap<&'static str, Value>,
    b: &mut Bound,
) -> String {
    fn rest(keys: &[(&str, bool)], cursor: &HashMap<&'static str, Value>, b: &mut Bound) -> String {
        match keys {
            [] => "1 = 0".into(),
            [(k, desc), tail @ ..] => {
                let op = if *desc { "<" } else { ">" };
                let v = cursor.get(k).cloned().unwrap_or(Value::Bool(None));
                let first = format!("s.{k} {op} {}", b.bind(v.clone()));
                if tail.is_empty() {
                    first
                } else {
                    let eq = format!("s.{k} = {}", b.bind(v));
                    format!("({first} OR ({eq} AND {}))", rest(tail, cursor, b))
                }
            }
        }
    }
    match keys.first() {
        Some((k, desc)) => {
            let v = cursor.get(k).cloned().unwrap_or(Value::Bool(None));
            let op = if *desc { "<=" } else { ">=" };
            let lead = format!("s.{k} {op} {}", b.bind(v));
            format!("{lead} AND {}", rest(keys, cursor, b))
        }
        None => "1 = 0".into(),
    }
}

/// The active people of `scope` that `filter`'s search and track keep: `FROM ... WHERE ...`
/// over the standings `s` (a search is a range of the terms' index, `terms::matching`). A
/// subtree is the range of paths below its manager's (`below`, from [`Db::path_of`]; `None`:
/// nobody).
pub(crate) fn listing(
    org: OrgId,
    scope: Scope,
    filter: &StandingsFilter,
    below: Option<&str>,
    b: &mut Bound,
) -> String {
    let mut sql = "FROM standings s WHERE ".to_owned();
    let searching = crate::terms::narrows(filter.search.as_deref());
    sql.push_str(&format!(
        "{} = {} AND s.active = {}",
        crate::paging::org_column(b.backend(), "s.org_id", searching),
        b.bind(org.0),
        b.bind(true)
    ));
    match scope {
        Scope::Org => {}
        Scope::ReportsOf(_) => match below.map(crate::paths::below) {
            Some((lower, upper)) => sql.push_str(&format!(
                " AND s.path > {} AND s.path < {}",
                b.bind(lower),
                b.bind(upper)
            )),
            None => sql.push_str(" AND 1 = 0"),
        },
        Scope::DirectReportsOf(m) => sql.push_str(&format!(
            " AND s.id IN (SELECT r.id FROM people r WHERE r.org_id = {} AND r.manager_id = {})",
            b.bind(org.0),
            b.bind(m.0)
        )),
        Scope::Person(me) => sql.push_str(&format!(" AND s.id = {}", b.bind(me.0))),
    }
    if let Some(sql_search) = filter
        .search
        .as_deref()
        .and_then(|s| crate::terms::matching(b, org, "s.id", s))
    {
        sql.push_str(" AND ");
        sql.push_str(&sql_search);
    }
    if let Some(t) = &filter.track {
        sql.push_str(&format!(" AND s.track = {}", b.bind(t.clone())));
    }
    if crate::paging::planned_apart(b.backend(), searching) {
        // The conditions the caller adds (readiness, the cursor) follow `WHERE TRUE`.
        sql = format!(
            "FROM {} WHERE TRUE",
            crate::paging::apart(&format!("SELECT s.* {sql}"), "s")
        );
    }
    sql
}

/// "Ready" under the organisation's rule, as kept on the standing `s`.
pub(crate) const READY: &str = "s.ready = TRUE";

/// The keys of an order (column of `s`, descending?), the last one unique.
fn order_keys(q: &StandingsQuery<'_>) -> Vec<(&'static str, bool)> {
    match q.order {
        StandingOrder::Readiness => vec![
            ("ready", true),
            (SCORES[score_index(q.rule)], true),
            ("since_key", false),
            ("sort_name", false),
            ("id", false),
        ],
        StandingOrder::Name => vec![("sort_name", false), ("id", false)],
        StandingOrder::Level => vec![("rank_key", true), ("sort_name", false), ("id", false)],
    }
}

fn order_by(keys: &[(&str, bool)], table: &str) -> String {
    keys.iter()
        .map(|(k, desc)| format!("{table}{k} {}", if *desc { "DESC" } else { "ASC" }))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Db {
    /// Brings the organisation's standings up to `today` (one indexed statement when nothing
    /// is due): rows a later assignment has taken over are recomputed, and those that time in
    /// level has made ready become ready.
    pub async fn refresh_due_standings(
        &self,
        org: OrgId,
        today: NaiveDate,
    ) -> Result<usize, DbError> {
        use sea_orm::Condition;
        let due: Vec<(Uuid, Option<NaiveDate>)> = standing::Entity::find()
            .select_only()
            .column(standing::Column::Id)
            .column(standing::Column::ValidUntil)
            .filter(standing::Column::OrgId.eq(org.0))
            .filter(
                Condition::any()
                    .add(standing::Column::ValidUntil.lte(today))
                    .add(standing::Column::ReadyOn.lte(today)),
            )
            .into_tuple()
            .all(&self.conn)
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let (stale, waited): (Vec<_>, Vec<_>) = due
            .iter()
            .partition(|(_, until)| until.is_some_and(|u| u <= today));
        self.transact(async |txn| {
            refresh(
                txn,
                &self.keys,
                org,
                stale.iter().map(|(id, _)| PersonId(*id)),
            )
            .await?;
            for round in waited.chunks(ROUND) {
                standing::Entity::update_many()
                    .col_expr(
                        standing::Column::Ready,
                        sea_orm::sea_query::Expr::value(true),
                    )
                    .col_expr(
                        standing::Column::ReadyOn,
                        sea_orm::sea_query::Expr::value(Option::<NaiveDate>::None),
                    )
                    .filter(standing::Column::OrgId.eq(org.0))
                    .filter(standing::Column::ReadyOn.lte(today))
                    .filter(standing::Column::Id.is_in(round.iter().map(|(id, _)| *id)))
                    .exec(txn)
                    .await?;
            }
            Ok(due.len())
        })
        .await
    }

    /// Gives every person without a standing one (after a migration, for people stored
    /// before standings existed). Returns how many were filled.
    pub(crate) async fn fill_missing_standings(&self) -> Result<usize, DbError> {
        let missing: Vec<(Uuid, Uuid)> = self
            .conn
            .query_all_raw(Statement::from_string(
                self.conn.get_database_backend(),
                "SELECT p.org_id AS org_id, p.id AS id FROM people p \
                 LEFT JOIN standings s ON s.id = p.id WHERE s.id IS NULL",
            ))
            .await?
            .iter()
            .map(|r| Ok((r.try_get("", "org_id")?, r.try_get("", "id")?)))
            .collect::<Result<_, DbError>>()?;
        let mut by_org: HashMap<Uuid, Vec<PersonId>> = HashMap::new();
        for (org, id) in &missing {
            by_org.entry(*org).or_default().push(PersonId(*id));
        }
        for (org, ids) in by_org {
            self.transact(async |tx| refresh(tx, &self.keys, OrgId(org), ids).await)
                .await?;
        }
        // Rows older than the reporting path (and the kept readiness that came with it).
        let unplaced: Vec<Uuid> = standing::Entity::find()
            .select_only()
            .column(standing::Column::OrgId)
            .distinct()
            .filter(standing::Column::Path.eq(""))
            .into_tuple()
            .all(&self.conn)
            .await?;
        for org in unplaced {
            self.transact(async |tx| {
                crate::paths::repath_all(tx, OrgId(org)).await?;
                let rule = crate::records::rule_on(tx, OrgId(org)).await?;
                apply_rule(tx, OrgId(org), &rule, Utc::now().date_naive()).await
            })
            .await?;
        }
        Ok(missing.len())
    }

    /// The reporting path of `person` (see `paths`), if they have a standing.
    pub(crate) async fn path_of(
        &self,
        org: OrgId,
        person: PersonId,
    ) -> Result<Option<String>, DbError> {
        let path: Option<String> = standing::Entity::find()
            .select_only()
            .column(standing::Column::Path)
            .filter(standing::Column::OrgId.eq(org.0))
            .filter(standing::Column::Id.eq(person.0))
            .into_tuple()
            .one(&self.conn)
            .await?;
        // An empty path (never the case once `migrate` has run) would hold everyone.
        Ok(path.filter(|p| !p.is_empty()))
    }

    /// The path below which `scope`'s people lie, when it is a subtree.
    pub(crate) async fn scope_path(
        &self,
        org: OrgId,
        scope: Scope,
    ) -> Result<Option<String>, DbError> {
        match scope {
            Scope::ReportsOf(m) => self.path_of(org, m).await,
            _ => Ok(None),
        }
    }

    /// `FROM ... WHERE ...` of every active person of `scope` ([`listing`] without a filter),
    /// for the scope's counts; its values bound on `b` after those bound before. One
    /// statement by primary key for a subtree's path.
    pub(crate) async fn whole_scope(
        &self,
        org: OrgId,
        scope: Scope,
        b: &mut Bound,
    ) -> Result<String, DbError> {
        let below = self.scope_path(org, scope).await?;
        Ok(listing(
            org,
            scope,
            &StandingsFilter::default(),
            below.as_deref(),
            b,
        ))
    }

    /// One page of active people in `q.scope`, in `q.order`, after the person `after` (the
    /// previous page's last; every one when `first` is `None`): their kept standings, and
    /// whether more follow. A subtree is a range of reporting paths, and each order has its index, so a
    /// page walks that index from the cursor and stops after its rows, whatever the scope's
    /// size (readiness is kept on the row under the organisation's rule, so it leads its
    /// index). One statement, one by primary key for a subtree's path and one for the cursor's
    /// sort keys.
    pub async fn standings_page(
        &self,
        org: OrgId,
        q: &StandingsQuery<'_>,
        after: Option<PersonId>,
        first: Option<usize>,
    ) -> Result<(Vec<StandingSummary>, bool), DbError> {
        let mut b = Bound::new(self.conn.get_database_backend());
        let below = self.scope_path(org, q.scope).await?;
        let cursor = match after {
            Some(a) => Some(self.cursor_keys(org, a).await?),
            None => None,
        };
        let keys = order_keys(q);
        let limit = first.map_or(String::new(), |n| format!(" LIMIT {}", n + 1));
        // The text is built in the order its values are bound (`?` placeholders are
        // positional): the listing, then the cursor.
        let listing = listing(org, q.scope, q.filter, below.as_deref(), &mut b);
        let ready = if q.filter.ready_only {
            format!(" AND {READY}")
        } else {
            String::new()
        };
        let after = match &cursor {
            Some(keys_of) => format!(" AND {}", after_values(&keys, keys_of, &mut b)),
            None => String::new(),
        };
        let score = SCORES[score_index(q.rule)];
        let sql = format!(
            "SELECT s.id AS id, s.ready AS ready, s.{score} AS score, \
             s.in_level_since AS in_level_since {listing}{ready}{after} ORDER BY {}{limit}",
            order_by(&keys, "s.")
        );
        let rows = self.conn.query_all_raw(b.statement(sql)).await?;
        let mut ids: Vec<StandingSummary> = rows
            .iter()
            .map(|r| {
                Ok(StandingSummary {
                    person: PersonId(r.try_get::<Uuid>("", "id")?),
                    ready: r.try_get("", "ready")?,
                    score: r.try_get("", "score")?,
                    in_level_since: r.try_get("", "in_level_since")?,
                })
            })
            .collect::<Result<_, DbError>>()?;
        let more = first.is_some_and(|n| ids.len() > n);
        if let Some(n) = first {
            ids.truncate(n);
        }
        Ok((ids, more))
    }

    /// The sort keys of the person a page starts after, as the page query reads them (one
    /// statement by primary key; a bad cursor is "not found").
    async fn cursor_keys(
        &self,
        org: OrgId,
        after: PersonId,
    ) -> Result<HashMap<&'static str, Value>, DbError> {
        let s = standing::Entity::find()
            .filter(standing::Column::OrgId.eq(org.0))
            .filter(standing::Column::Id.eq(after.0))
            .one(&self.conn)
            .await?
            .ok_or_else(|| DbError::not_found("the person a page starts after"))?;
        Ok(HashMap::from([
            ("ready", Value::from(s.ready)),
            ("score_developing", Value::from(s.score_developing)),
            ("score_meets", Value::from(s.score_meets)),
            ("score_exceeds", Value::from(s.score_exceeds)),
            ("since_key", Value::from(s.since_key)),
            ("sort_name", Value::from(s.sort_name)),
            ("id", Value::from(s.id)),
            ("rank_key", Value::from(s.rank_key)),
        ]))
    }

    /// How many people the listing `q` holds over all its pages (the total of a team
    /// listing). One statement, and one by primary key for a subtree's path.
    pub async fn standings_count(
        &self,
        org: OrgId,
        q: &StandingsQuery<'_>,
    ) -> Result<usize, DbError> {
        let mut b = Bound::new(self.conn.get_database_backend());
        let below = self.scope_path(org, q.scope).await?;
        let mut sql = format!(
            "SELECT COUNT(*) AS n {}",
            listing(org, q.scope, q.filter, below.as_deref(), &mut b)
        );
        if q.filter.ready_only {
            sql.push_str(&format!(" AND {READY}"));
        }
        let n: i64 = self
            .conn
            .query_one_raw(b.statement(sql))
            .await?
            .map_or(Ok(0), |r| r.try_get("", "n"))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

/// One track's line of a readiness rule's preview: of its active people (`track` `None`: those
/// without a level), how many the organisation's rule calls ready and how many `rule` would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePreviewRow {
    pub track: Option<String>,
    pub people: u64,
    pub ready_now: u64,
    pub ready_under: u64,
}

impl Db {
    /// What a readiness rule would change, per track, from the kept standings: one statement,
    /// whatever the size (the rule decides from the stored scores and `since_key`, as
    /// [`crate::standings::apply_rule`] does when it is saved).
    pub async fn readiness_preview(
        &self,
        org: OrgId,
        rule: &ReadinessRule,
        today: NaiveDate,
    ) -> Result<Vec<RulePreviewRow>, DbError> {
        let mut b = Bound::new(self.conn.get_database_backend());
        let score = SCORES[score_index(rule)];
        let cutoff = rungs_domain::growth::in_level_cutoff(today, rule.min_months_in_level);
        let sql = format!(
            "SELECT s.track AS track, COUNT(*) AS people, \
             COUNT(CASE WHEN {READY} THEN 1 END) AS ready_now, \
             COUNT(CASE WHEN s.has_target = {} AND s.{score} >= {} AND s.since_key <= {} \
             THEN 1 END) AS ready_under \
             FROM standings s WHERE s.org_id = {} AND s.active = {} GROUP BY s.track",
            b.bind(true),
            b.bind(rule.min_score),
            b.bind(cutoff),
            b.bind(org.0),
            b.bind(true),
        );
        let count = |r: &sea_orm::QueryResult, c: &str| -> Result<u64, DbError> {
            let n: i64 = r.try_get("", c)?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let mut rows = Vec::new();
        for r in self.conn.query_all_raw(b.statement(sql)).await? {
            rows.push(RulePreviewRow {
                track: r.try_get("", "track")?,
                people: count(&r, "people")?,
                ready_now: count(&r, "ready_now")?,
                ready_under: count(&r, "ready_under")?,
            });
        }
        rows.sort_by(|a, b| a.track.cmp(&b.track));
        Ok(rows)
    }
}

impl Db {
    /// How many active people of `scope` hold each position (track and level keys; `None`
    /// for people without one), grouped in SQL from the kept standings (the caller refreshes
    /// the due ones first): one statement, and one by primary key for a subtree's path.
    pub async fn level_counts(
        &self,
        org: OrgId,
        scope: Scope,
    ) -> Result<Vec<(Option<String>, Option<String>, u64)>, DbError> {
        let mut b = Bound::new(self.conn.get_database_backend());
        let from = self.whole_scope(org, scope, &mut b).await?;
        let sql = format!(
            "SELECT s.track AS track, s.level AS level, COUNT(*) AS n {from} \
             GROUP BY s.track, s.level"
        );
        let mut out = Vec::new();
        for r in self.conn.query_all_raw(b.statement(sql)).await? {
            let n: i64 = r.try_get("", "n")?;
            out.push((
                r.try_get("", "track")?,
                r.try_get("", "level")?,
                u64::try_from(n).unwrap_or(0),
            ));
        }
        Ok(out)
    }
}
