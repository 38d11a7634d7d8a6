//! The organisation's analytics, aggregated in SQL whatever its size: per position (track and
//! level) of the active people of a scope, how many hold it, how many are ready, and how many
//! have held it for fewer than k whole months for each k up to [`MONTHS`] (from which the
//! median and quartiles of time in level follow without reading a row per person); and the
//! promotions approved per calendar month; and per placement (matrix version, track and level)
//! how many hold it and how many of those have an open promotion case, for calibration. One
//! statement each, over the kept standings and the promotion cases; a manager's subtree is the
//! range of reporting paths below theirs.

use crate::core::Db;
use crate::error::DbError;
use crate::paging::Bound;
use crate::records::Scope;
use crate::team::READY;
use chrono::{DateTime, NaiveDate, Utc};
use rungs_domain::growth::in_level_cutoff;
use rungs_domain::promotion::PromotionStatus;
use rungs_domain::{OrgId, VersionId};
use sea_orm::ConnectionTrait;

/// The longest time in level counted month by month; longer is counted as "more".
pub const MONTHS: u32 = 72;

/// One position's figures (`track` and `level` `None`: people without a level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionStats {
    pub track: Option<String>,
    pub level: Option<String>,
    pub people: u64,
    /// Ready under the organisation's rule.
    pub ready: u64,
    /// `shorter[k - 1]`: of `people`, those in the level for fewer than `k` whole months, for
    /// `k` from 1 to [`MONTHS`] (non-decreasing).
    pub shorter: Vec<u64>,
}

/// One placement's figures, for calibration (`version`, `track` and `level` `None`: people
/// without a level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementCount {
    pub version: Option<VersionId>,
    pub track: Option<String>,
    pub level: Option<String>,
    pub people: u64,
    /// Of `people`, those with an open (proposed) promotion case.
    pub open_cases: u64,
}

fn count(r: &sea_orm::QueryResult, c: &str) -> Result<u64, DbError> {
    let n: i64 = r.try_get("", c)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The range of reporting paths of `scope`'s subtree, as a condition on `s.path` (`None`
/// when the scope is the organisation); a manager without a path has an empty subtree.
fn subtree(below: Option<&str>, b: &mut Bound) -> String {
    match below.map(crate::paths::below) {
        Some((lower, upper)) => {
            format!("s.path > {} AND s.path < {}", b.bind(lower), b.bind(upper))
        }
        None => "1 = 0".into(),
    }
}

impl Db {
    /// Per position of the active people of `scope` (the organisation, or a manager's
    /// subtree): people, ready (as kept on the standings under the organisation's rule), and
    /// time in level month by month. One statement (and one by
    /// primary key for a subtree's path).
    pub async fn position_stats(
        &self,
        org: OrgId,
        scope: Scope,
        today: NaiveDate,
    ) -> Result<Vec<PositionStats>, DbError> {
        let mut b = Bound::new(self.conn.get_database_backend());
        let mut cols = String::new();
        for k in 1..=MONTHS {
            let cutoff = in_level_cutoff(today, k);
            cols.push_str(&format!(
                ", COUNT(CASE WHEN s.since_key > {} THEN 1 END) AS m{k}",
                b.bind(cutoff)
            ));
        }
        let from = self.whole_scope(org, scope, &mut b).await?;
        let sql = format!(
            "SELECT s.track AS track, s.level AS level, COUNT(*) AS people, \
             COUNT(CASE WHEN {READY} THEN 1 END) AS ready{cols} {from} \
             GROUP BY s.track, s.level"
        );
        let mut out = Vec::new();
        for r in self.conn.query_all_raw(b.statement(sql)).await? {
            let mut shorter = Vec::with_capacity(MONTHS as usize);
            for k in 1..=MONTHS {
                shorter.push(count(&r, &format!("m{k}"))?);
            }
            out.push(PositionStats {
                track: r.try_get("", "track")?,
                level: r.try_get("", "level")?,
                people: count(&r, "people")?,
                ready: count(&r, "ready")?,
                shorter,
            });
        }
        out.sort_by(|a, b| (&a.track, &a.level).cmp(&(&b.track, &b.level)));
        Ok(out)
    }

    /// Per placement (matrix version, track and level) of the active people of `scope` (the
    /// organisation, or a manager's subtree): how many hold it, and how many of those have an
    /// open promotion case. One statement (and one by primary key for a subtree's path), read
    /// from the kept standings: the caller refreshes the due ones first.
    pub async fn placement_counts(
        &self,
        org: OrgId,
        scope: Scope,
    ) -> Result<Vec<PlacementCount>, DbError> {
        let mut b = Bound::new(self.conn.get_database_backend());
        // The open cases' people are few: a set each row is looked up in.
        let open = format!(
            "SELECT c.person_id FROM promotion_cases c WHERE c.org_id = {} AND c.status = {}",
            b.bind(org.0),
            b.bind(PromotionStatus::Proposed.as_str())
        );
        let from = self.whole_scope(org, scope, &mut b).await?;
        let sql = format!(
            "SELECT s.version_id AS version_id, s.track AS track, s.level AS level, \
             COUNT(*) AS people, COUNT(CASE WHEN s.id IN ({open}) THEN 1 END) AS open_cases \
             {from} GROUP BY s.version_id, s.track, s.level"
        );
        let mut out = Vec::new();
        for r in self.conn.query_all_raw(b.statement(sql)).await? {
            let version: Option<uuid::Uuid> = r.try_get("", "version_id")?;
            out.push(PlacementCount {
                version: version.map(VersionId),
                track: r.try_get("", "track")?,
                level: r.try_get("", "level")?,
                people: count(&r, "people")?,
                open_cases: count(&r, "open_cases")?,
            });
        }
        out.sort_by(|a, b| {
            (a.version.map(|v| v.0), &a.track, &a.level).cmp(&(
                b.version.map(|v| v.0),
                &b.track,
                &b.level,
            ))
        });
        Ok(out)
    }

    /// How many promotions were approved in each month that starts at `months[i]` (ascending
    /// first days of months; the last month ends at `end`), for the people of `scope` (a
    /// subtree counts those in it now). One statement.
    pub async fn promotions_by_month(
        &self,
        org: OrgId,
        scope: Scope,
        months: &[NaiveDate],
        end: NaiveDate,
    ) -> Result<Vec<u64>, DbError> {
        let Some(first) = months.first() else {
            return Ok(Vec::new());
        };
        let below = match scope {
            Scope::ReportsOf(m) => Some(self.path_of(org, m).await?),
            _ => None,
        };
        let at = |d: &NaiveDate| -> DateTime<Utc> { d.and_time(chrono::NaiveTime::MIN).and_utc() };
        let mut b = Bound::new(self.conn.get_database_backend());
        let mut cols = Vec::new();
        for (i, start) in months.iter().enumerate() {
            let stop = months.get(i + 1).unwrap_or(&end);
            cols.push(format!(
                "COUNT(CASE WHEN c.decided_at >= {} AND c.decided_at < {} THEN 1 END) AS n{i}",
                b.bind(at(start)),
                b.bind(at(stop))
            ));
        }
        let mut sql = format!(
            "SELECT {} FROM promotion_cases c WHERE c.org_id = {} AND c.status = {} \
             AND c.decided_at >= {} AND c.decided_at < {}",
            cols.join(", "),
            b.bind(org.0),
            b.bind("approved"),
            b.bind(at(first)),
            b.bind(at(&end)),
        );
        if let Some(below) = below {
            // Placeholders are numbered in the order they are bound: the organisation first.
            let org_id = b.bind(org.0);
            let within = subtree(below.as_deref(), &mut b);
            sql.push_str(&format!(
                " AND c.person_id IN (SELECT s.id FROM standings s WHERE s.org_id = {org_id} AND {within})"
            ));
        }
        let row = self.conn.query_one_raw(b.statement(sql)).await?;
        let mut out = Vec::with_capacity(months.len());
        for i in 0..months.len() {
            out.push(match &row {
                Some(r) => count(r, &format!("n{i}"))?,
                None => 0,
            });
        }
        Ok(out)
    }
}
