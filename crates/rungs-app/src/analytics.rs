//! The organisation's analytics for HR admins: the level distribution, time in level (median
//! and quartiles per level), promotions approved per month and readiness per position, for
//! the organisation or a manager's subtree. Every figure is aggregated in SQL
//! (`rungs_db::analytics`); nothing here reads a row per person.

use crate::policy::Actor;
use crate::{App, AppError};
use chrono::{Datelike, NaiveDate, Utc};
pub use rungs_db::analytics::MONTHS;
use rungs_db::analytics::PositionStats;
use rungs_domain::PersonId;

/// Months of promotions shown, this one included.
pub const PROMOTION_MONTHS: usize = 12;

/// Time in one level, in whole months, over every track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeInLevel {
    pub level: String,
    pub people: u64,
    /// The quartiles and the median; `None` when it is [`MONTHS`] or more.
    pub p25: Option<u32>,
    pub median: Option<u32>,
    pub p75: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Analytics {
    /// Per position (track, level); people without a level have `None` for both.
    pub positions: Vec<PositionStats>,
    /// Per level key (in no particular order: the caller orders by the matrix).
    pub time_in_level: Vec<TimeInLevel>,
    /// The first day of each of the last [`PROMOTION_MONTHS`] months, oldest first, with the
    /// promotions approved in it.
    pub promotions: Vec<(NaiveDate, u64)>,
}

/// The `q` quantile (0 to 1) of time in level from the counts of people in the level for
/// fewer than k months (`shorter[k - 1]`), out of `n`: the fewest whole months that at least
/// that share of people have not yet passed, or `None` past [`MONTHS`].
pub fn quantile(shorter: &[u64], n: u64, q: f64) -> Option<u32> {
    if n == 0 {
        return None;
    }
    // The rank (1-based) of the person at the quantile.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((q * n as f64).ceil() as u64).max(1);
    // The person of that rank has m months when fewer than `rank` have fewer than m months
    // and at least `rank` have fewer than m + 1.
    let m = shorter.iter().position(|&c| c >= rank)?;
    u32::try_from(m).ok()
}

/// The first days of the `n` months up to the one holding `today`, oldest first, and the first
/// day of the month after.
pub fn month_starts(today: NaiveDate, n: usize) -> (Vec<NaiveDate>, NaiveDate) {
    let this = today.with_day(1).unwrap_or(today);
    let mut out: Vec<NaiveDate> = (0..n)
        .filter_map(|i| this.checked_sub_months(chrono::Months::new(u32::try_from(i).ok()?)))
        .collect();
    out.reverse();
    let end = this
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(this);
    (out, end)
}

impl App {
    /// The analytics of the organisation, or of `manager`'s subtree (HR admins and operators).
    /// A handful of statements, whatever the size.
    #[tracing::instrument(skip(self), err(level = "debug", Display))]
    pub async fn analytics(
        &self,
        actor: &Actor,
        org_slug: &str,
        manager: Option<PersonId>,
    ) -> Result<Analytics, AppError> {
        let (org, scope) = self.calibration_scope(actor, org_slug, manager).await?;
        let today = Utc::now().date_naive();
        self.db.refresh_due_standings(org.id, today).await?;
        let positions = self.db.position_stats(org.id, scope, today).await?;
        let (months, end) = month_starts(today, PROMOTION_MONTHS);
        let counts = self
            .db
            .promotions_by_month(org.id, scope, &months, end)
            .await?;
        let mut levels: Vec<(String, u64, Vec<u64>)> = Vec::new();
        for p in &positions {
            let Some(level) = &p.level else { continue };
            match levels.iter_mut().find(|(l, ..)| l == level) {
                Some((_, n, shorter)) => {
                    *n += p.people;
                    for (s, x) in shorter.iter_mut().zip(&p.shorter) {
                        *s += x;
                    }
                }
                None => levels.push((level.clone(), p.people, p.shorter.clone())),
            }
        }
        let time_in_level = levels
            .into_iter()
            .map(|(level, n, shorter)| TimeInLevel {
                p25: quantile(&shorter, n, 0.25),
                median: quantile(&shorter, n, 0.5),
                p75: quantile(&shorter, n, 0.75),
                level,
                people: n,
            })
            .collect();
        Ok(Analytics {
            positions,
            time_in_level,
            promotions: months.into_iter().zip(counts).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_counts_of_shorter_times() {
        // Five people with 0, 2, 2, 5 and 9 months: fewer than k months, for k = 1..=10.
        let months = [0u32, 2, 2, 5, 9];
        let shorter: Vec<u64> = (1..=10)
            .map(|k| months.iter().filter(|&&m| m < k).count() as u64)
            .collect();
        assert_eq!(quantile(&shorter, 5, 0.5), Some(2));
        assert_eq!(quantile(&shorter, 5, 0.25), Some(2)); // rank 2
        assert_eq!(quantile(&shorter, 5, 0.75), Some(5)); // rank 4
        assert_eq!(quantile(&shorter, 5, 1.0), Some(9));
        assert_eq!(quantile(&shorter, 5, 0.01), Some(0));
        // Past the counted months.
        assert_eq!(quantile(&shorter[..5], 5, 1.0), None);
        assert_eq!(quantile(&shorter, 0, 0.5), None);
    }

    #[test]
    fn months_run_up_to_this_one() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let (starts, end) = month_starts(d(2026, 3, 31), 4);
        assert_eq!(
            starts,
            [d(2025, 12, 1), d(2026, 1, 1), d(2026, 2, 1), d(2026, 3, 1)]
        );
        assert_eq!(end, d(2026, 4, 1));
    }
}
