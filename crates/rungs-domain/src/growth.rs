//! Growth plans and promotion readiness, computed from a matrix version, a person's level and
//! their assessments. Pure functions of their inputs: no clock (today is an argument), no I/O.
//!
//! The rules, as the docs state them (`docs/growth.md`):
//! - A target level requires every expectation of its track at that level and below
//!   (expectations are cumulative).
//! - Holding a level means meeting it: on the person's own track, expectations at or below their
//!   current level count as met ("held"), whatever the ratings there say.
//! - Any other expectation is judged by the latest *manager* rating: at or above the
//!   organisation's minimum rating it is met; `developing` (or any rating below the minimum but
//!   above `not_yet`) is in progress; `not_yet` is not yet; no manager rating is not assessed.
//!   The latest self-rating is shown beside it and never counts.
//! - Readiness for the next level: the score is the fraction of the expectations the next level
//!   adds (those not already held) that are met; a person is ready when the score reaches the
//!   organisation's minimum and they have held their level for the minimum number of months.
//!   An open promotion case is reported, not counted.

use crate::assessment::{Assessment, AssessorRole, Rating, latest_by};
use crate::assignment::LevelAssignment;
use crate::matrix::{Cell, Expectation, Level, Matrix, Resource};
use crate::promotion::{Position, PromotionCase};
use crate::text::Key;
use crate::{DomainError, VersionId};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// How an organisation decides readiness. Stored per organisation; [`Default`] is the rule a
/// new organisation starts with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReadinessRule {
    /// The lowest manager rating that counts as meeting an expectation.
    pub min_rating: Rating,
    /// Whole months in the current level before a promotion is due.
    pub min_months_in_level: u32,
    /// The fraction (0 to 1) of the next level's new expectations that must be met.
    pub min_score: f64,
}

impl Default for ReadinessRule {
    fn default() -> Self {
        Self {
            min_rating: Rating::Meets,
            min_months_in_level: 6,
            min_score: 1.0,
        }
    }
}

impl ReadinessRule {
    pub const MAX_MONTHS: u32 = 120;

    pub fn new(
        min_rating: Rating,
        min_months_in_level: u32,
        min_score: f64,
    ) -> Result<Self, DomainError> {
        if min_rating == Rating::NotYet {
            return Err(DomainError::invalid(
                "minRating",
                "`not_yet` cannot count as meeting an expectation: use developing, meets or exceeds",
            ));
        }
        if min_months_in_level > Self::MAX_MONTHS {
            return Err(DomainError::invalid(
                "minMonthsInLevel",
                format!("is at most {} months", Self::MAX_MONTHS),
            ));
        }
        if !(0.0..=1.0).contains(&min_score) || min_score.is_nan() {
            return Err(DomainError::invalid(
                "minScore",
                "is a fraction from 0 to 1 (1 means every expectation)",
            ));
        }
        Ok(Self {
            min_rating,
            min_months_in_level,
            min_score,
        })
    }

    fn status_of(&self, manager: Option<&Assessment>) -> ExpectationStatus {
        match manager.map(|a| a.rating) {
            None => ExpectationStatus::NotAssessed,
            Some(r) if r >= self.min_rating => ExpectationStatus::Met,
            Some(Rating::NotYet) => ExpectationStatus::NotYet,
            Some(_) => ExpectationStatus::InProgress,
        }
    }
}

/// Where one expectation stands for one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectationStatus {
    Met,
    InProgress,
    NotYet,
    NotAssessed,
}

impl ExpectationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::InProgress => "in_progress",
            Self::NotYet => "not_yet",
            Self::NotAssessed => "not_assessed",
        }
    }
}

/// A level of a track, with what the matrix says about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    pub track: Key,
    pub track_name: String,
    pub level: Level,
    /// The titles held at this level of this track (may be empty).
    pub titles: Vec<String>,
}

impl Standing {
    fn of(matrix: &Matrix, pos: &Position) -> Result<Self, DomainError> {
        // The track exists and has the level on its ladder, or the error says what there is.
        matrix.check_position(pos.track.as_str(), pos.level.as_str())?;
        let (Some(track), Some(level)) = (
            matrix.track(pos.track.as_str()),
            matrix.level(pos.level.as_str()),
        ) else {
            return Err(DomainError::invalid("position", "unknown track or level"));
        };
        Ok(Self {
            track: track.key.clone(),
            track_name: track.name.clone(),
            level: level.clone(),
            titles: matrix
                .cell(pos.track.as_str(), pos.level.as_str())
                .map(|c| c.titles.clone())
                .unwrap_or_default(),
        })
    }

    pub fn position(&self) -> Position {
        Position {
            track: self.track.clone(),
            level: self.level.key.clone(),
        }
    }
}

/// One expectation of a growth plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    /// The level that introduces the expectation.
    pub level: Level,
    pub expectation: Expectation,
    pub status: ExpectationStatus,
    /// Met because the person holds this level (or a higher one) of this track.
    pub held: bool,
    /// The latest manager rating, which is the one that counts.
    pub manager: Option<Assessment>,
    /// The latest self-rating, shown beside it.
    pub myself: Option<Assessment>,
}

impl PlanItem {
    pub fn is_met(&self) -> bool {
        self.status == ExpectationStatus::Met
    }
}

/// What it takes to reach a target level from where a person stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthPlan {
    /// The matrix version the plan was computed against.
    pub version_id: VersionId,
    pub current: Option<Standing>,
    pub target: Standing,
    /// The target is on another track than the current one.
    pub lateral: bool,
    /// No target was asked for and the person already holds the top level of their track: the
    /// target is the current level.
    pub top_of_track: bool,
    /// Every expectation the target requires, in matrix order (lowest level first).
    pub items: Vec<PlanItem>,
    /// Learning resources of the target track's levels the person does not hold yet, up to the
    /// target (the expectations' own resources are on each item).
    pub level_resources: Vec<(Key, Resource)>,
}

impl GrowthPlan {
    /// The expectations not met yet, in matrix order.
    pub fn gaps(&self) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(|i| !i.is_met())
    }
    pub fn met(&self) -> usize {
        self.items.iter().filter(|i| i.is_met()).count()
    }
    pub fn total(&self) -> usize {
        self.items.len()
    }
    /// Met over required, from 0 to 1; a target that requires nothing is complete.
    pub fn progress(&self) -> f64 {
        fraction(self.met(), self.total())
    }
    pub fn is_complete(&self) -> bool {
        self.met() == self.total()
    }
}

fn fraction(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// What a growth plan is computed from.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub matrix: &'a Matrix,
    pub version_id: VersionId,
    /// The person's current level in this matrix, if they have one.
    pub current: Option<&'a Position>,
    /// Where to: `None` for the next level of the current track.
    pub target: Option<&'a Position>,
    /// The person's assessments against this version (any order, both roles).
    pub assessments: &'a [Assessment],
    pub rule: &'a ReadinessRule,
}

/// Computes the growth plan toward `target` (by default the next level of the current track).
pub fn growth_plan(input: PlanInput<'_>) -> Result<GrowthPlan, DomainError> {
    let m = input.matrix;
    let current = input.current.map(|p| Standing::of(m, p)).transpose()?;
    let mut top_of_track = false;
    let target = match (input.target, &current) {
        (Some(t), _) => Standing::of(m, t)?,
        (None, Some(cur)) => match m.next_level(cur.track.as_str(), cur.level.key.as_str()) {
            Some(next) => Standing::of(
                m,
                &Position {
                    track: cur.track.clone(),
                    level: next.key.clone(),
                },
            )?,
            None => {
                top_of_track = true;
                cur.clone()
            }
        },
        (None, None) => {
            return Err(DomainError::Rule(
                "this person has no level yet: assign one, or ask for a plan toward a given track and level".into(),
            ));
        }
    };
    // What the current position requires is held: met without an assessment, on any track
    // that shares it (the trunk of a branch, a criterion shared by several tracks).
    let held: HashSet<&str> = match &current {
        Some(c) => m
            .expectations_for(c.track.as_str(), c.level.key.as_str())?
            .into_iter()
            .map(|(_, e)| e.key.as_str())
            .collect(),
        None => HashSet::new(),
    };
    let items = m
        .expectations_for(target.track.as_str(), target.level.key.as_str())?
        .into_iter()
        .map(|(level, e)| {
            let key = e.key.as_str();
            let manager = latest_by(input.assessments, key, AssessorRole::Manager).cloned();
            let myself = latest_by(input.assessments, key, AssessorRole::Myself).cloned();
            let held = held.contains(key);
            let status = if held {
                ExpectationStatus::Met
            } else {
                input.rule.status_of(manager.as_ref())
            };
            PlanItem {
                level: level.clone(),
                expectation: e.clone(),
                status,
                held,
                manager,
                myself,
            }
        })
        .collect();
    // The rungs' own resources, for the rungs on the way that the person does not hold.
    let held_rungs: Vec<&Cell> = match &current {
        Some(c) => m
            .rungs_up_to(c.track.as_str(), c.level.key.as_str())
            .into_iter()
            .filter_map(|(_, cell)| cell)
            .collect(),
        None => Vec::new(),
    };
    let level_resources = m
        .rungs_up_to(target.track.as_str(), target.level.key.as_str())
        .into_iter()
        .filter_map(|(l, c)| c.map(|c| (l, c)))
        .filter(|(_, c)| !held_rungs.iter().any(|h| std::ptr::eq(*h, *c)))
        .flat_map(|(l, c)| c.resources.iter().map(|r| (l.key.clone(), r.clone())))
        .collect();
    Ok(GrowthPlan {
        version_id: input.version_id,
        lateral: current.as_ref().is_some_and(|c| c.track != target.track),
        current,
        target,
        top_of_track,
        items,
        level_resources,
    })
}

/// Why a person is or is not ready; each reason says whether it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub kind: ReasonKind,
    /// Does this reason speak for readiness?
    pub ok: bool,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// The person has no level yet.
    NoLevel,
    /// The person holds the top level of their track.
    TopOfTrack,
    /// How many of the next level's new expectations are met.
    Expectations,
    /// Time in the current level.
    TimeInLevel,
    /// A promotion case is open.
    OpenCase,
}

impl ReasonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoLevel => "no_level",
            Self::TopOfTrack => "top_of_track",
            Self::Expectations => "expectations",
            Self::TimeInLevel => "time_in_level",
            Self::OpenCase => "open_case",
        }
    }
}

/// An explainable readiness for the next level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Readiness {
    /// The next level, when there is one.
    pub target: Option<Standing>,
    /// The fraction (0 to 1) of the next level's new expectations that are met.
    pub score: f64,
    pub ready: bool,
    /// Keys of the new expectations that are met, and of those still missing, in matrix order.
    pub met: Vec<Key>,
    pub missing: Vec<Key>,
    /// Since when the person holds their current level, and for how many whole months.
    pub in_level_since: Option<NaiveDate>,
    pub months_in_level: Option<u32>,
    pub open_case: Option<PromotionCase>,
    pub reasons: Vec<Reason>,
}

/// Readiness from the plan toward the next level (`None` when the person has no level).
pub fn readiness(
    plan: Option<&GrowthPlan>,
    in_level_since: Option<NaiveDate>,
    today: NaiveDate,
    open_case: Option<&PromotionCase>,
    rule: &ReadinessRule,
) -> Readiness {
    let months = in_level_since.map(|d| whole_months(d, today));
    let mut reasons = Vec::new();
    let mut out = Readiness {
        target: None,
        score: 0.0,
        ready: false,
        met: Vec::new(),
        missing: Vec::new(),
        in_level_since,
        months_in_level: months,
        open_case: open_case.cloned(),
        reasons: Vec::new(),
    };
    match plan {
        None => reasons.push(Reason {
            kind: ReasonKind::NoLevel,
            ok: false,
            message: "has no level yet".into(),
        }),
        Some(p) if p.top_of_track => reasons.push(Reason {
            kind: ReasonKind::TopOfTrack,
            ok: false,
            message: format!(
                "holds the top level of {} ({}): a next step is a move to another track",
                p.target.track_name, p.target.level.name
            ),
        }),
        Some(p) => {
            let mut missing_names = Vec::new();
            for item in p.items.iter().filter(|i| !i.held) {
                if item.is_met() {
                    out.met.push(item.expectation.key.clone());
                } else {
                    out.missing.push(item.expectation.key.clone());
                    missing_names.push(item.expectation.label());
                }
            }
            let (met, total) = (out.met.len(), out.met.len() + out.missing.len());
            out.score = fraction(met, total);
            let enough = out.score >= rule.min_score;
            let mut message = format!(
                "{met} of {total} criteria new at {} are met (needs {:.0}%)",
                p.target.level.name,
                rule.min_score * 100.0
            );
            if !missing_names.is_empty() {
                message.push_str(&format!("; missing: {}", missing_names.join("; ")));
            }
            reasons.push(Reason {
                kind: ReasonKind::Expectations,
                ok: enough,
                message,
            });
            let long_enough = months.is_some_and(|m| m >= rule.min_months_in_level);
            reasons.push(Reason {
                kind: ReasonKind::TimeInLevel,
                ok: long_enough,
                message: match (in_level_since, months) {
                    (Some(since), Some(m)) => format!(
                        "{m} month{} in {} since {since} (needs {})",
                        if m == 1 { "" } else { "s" },
                        p.current
                            .as_ref()
                            .map_or("this level", |c| c.level.name.as_str()),
                        rule.min_months_in_level
                    ),
                    _ => "time in level unknown".into(),
                },
            });
            out.ready = enough && long_enough;
            out.target = Some(p.target.clone());
        }
    }
    if let Some(case) = open_case {
        reasons.push(Reason {
            kind: ReasonKind::OpenCase,
            ok: true,
            message: format!(
                "a promotion to {} / {} is proposed since {}",
                case.to.track,
                case.to.level,
                case.proposed_at.date_naive()
            ),
        });
    }
    out.reasons = reasons;
    out
}

/// The readiness scores of a plan toward the next level under each minimum rating a rule may
/// set (`developing`, `meets`, `exceeds`, in that order): what a listing sorts by without
/// computing plans per request. Each equals [`readiness`]'s `score` for a rule with that
/// minimum; 0 with no next level (the top of a track), as [`readiness`] says.
pub fn scores_by_min_rating(plan: &GrowthPlan) -> [f64; 3] {
    if plan.top_of_track {
        return [0.0; 3];
    }
    let new: Vec<Option<Rating>> = plan
        .items
        .iter()
        .filter(|i| !i.held)
        .map(|i| i.manager.as_ref().map(|a| a.rating))
        .collect();
    [Rating::Developing, Rating::Meets, Rating::Exceeds].map(|min| {
        let met = new.iter().filter(|r| r.is_some_and(|r| r >= min)).count();
        fraction(met, new.len())
    })
}

/// The latest date, not after `today`, since which a level has been held for at least `months`
/// whole months on `today` ([`whole_months`] `>= months`): "long enough in level" as a
/// comparison of dates (a level is only ever held since a day up to today).
pub fn in_level_cutoff(today: NaiveDate, months: u32) -> NaiveDate {
    let mut d = today
        .checked_sub_months(chrono::Months::new(months))
        .unwrap_or(NaiveDate::MIN);
    // Month arithmetic clamps at month ends; settle on the exact boundary.
    while d > NaiveDate::MIN && whole_months(d, today) < months {
        d = d.pred_opt().unwrap_or(NaiveDate::MIN);
    }
    while let Some(next) = d
        .succ_opt()
        .filter(|n| *n <= today && whole_months(*n, today) >= months)
    {
        d = next;
    }
    d
}

/// The first day on which a level held since `since` has been held `months` whole months: the
/// day someone who meets the rule in every other way becomes ready by time in level.
pub fn long_enough_on(since: NaiveDate, months: u32) -> NaiveDate {
    let mut d = since
        .checked_add_months(chrono::Months::new(months))
        .unwrap_or(NaiveDate::MAX);
    // Month arithmetic clamps at month ends; settle on the exact boundary.
    while d < NaiveDate::MAX && whole_months(since, d) < months {
        d = d.succ_opt().unwrap_or(NaiveDate::MAX);
    }
    while let Some(prev) = d
        .pred_opt()
        .filter(|p| *p >= since && whole_months(since, *p) >= months)
    {
        d = prev;
    }
    d
}

/// Whole calendar months from `from` to `to` (0 when `to` is earlier).
pub fn whole_months(from: NaiveDate, to: NaiveDate) -> u32 {
    if to <= from {
        return 0;
    }
    let mut months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    if to.day() < from.day() {
        months -= 1;
    }
    months.max(0) as u32
}

/// One stretch of a person's level history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelPeriod {
    pub assignment: LevelAssignment,
    /// When the next assignment took over (`None`: still current, or not yet in effect).
    pub until: Option<NaiveDate>,
    /// Days this level was (or has been, so far) held; 0 for a record corrected the same day
    /// or not yet in effect.
    pub days: i64,
}

/// A history as consecutive periods, oldest first.
pub fn level_periods(history: &[LevelAssignment], today: NaiveDate) -> Vec<LevelPeriod> {
    let mut sorted: Vec<&LevelAssignment> = history.iter().collect();
    sorted.sort_by_key(|a| (a.effective, a.recorded_at, a.id));
    sorted
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let until = sorted.get(i + 1).map(|n| n.effective);
            let end = until.unwrap_or(today).min(today.max(a.effective));
            LevelPeriod {
                assignment: (*a).clone(),
                until,
                days: (end - a.effective).num_days().max(0),
            }
        })
        .collect()
}

/// Since when the level in effect on `today` has been held without a break: re-assignments to
/// the same track and level (a correction, a move to a new matrix version) do not reset it.
pub fn in_level_since(history: &[LevelAssignment], today: NaiveDate) -> Option<NaiveDate> {
    let mut in_effect: Vec<&LevelAssignment> =
        history.iter().filter(|a| a.effective <= today).collect();
    in_effect.sort_by_key(|a| (a.effective, a.recorded_at, a.id));
    let mut head = *in_effect.last()?;
    let mut since = head.effective;
    for a in in_effect.iter().rev().skip(1) {
        // The same track and level, or the assignment a version move continued.
        let continues =
            (a.track == head.track && a.level == head.level) || head.moved_from == Some(a.id);
        if !continues {
            break;
        }
        since = a.effective;
        head = a;
    }
    Some(since)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::Evidence;
    use crate::matrix::{
        CellDraft, ExpectationDraft, LevelDraft, MatrixDraft, ResourceDraft, TrackDraft,
    };
    use crate::{AssessmentId, AssignmentId, PersonId};
    use chrono::{TimeZone, Utc};

    /// `levels` levels; each track has every level with `per_cell` expectations.
    fn matrix(levels: usize, tracks: &[&str], per_cell: usize) -> Matrix {
        let d = MatrixDraft {
            key: "m".into(),
            name: "M".into(),
            levels: (1..=levels)
                .map(|i| LevelDraft {
                    key: format!("l{i}"),
                    name: format!("Level {i}"),
                    ..Default::default()
                })
                .collect(),
            tracks: tracks
                .iter()
                .map(|t| TrackDraft {
                    key: t.to_string(),
                    name: t.to_uppercase(),
                    cells: (1..=levels)
                        .map(|i| CellDraft {
                            level: format!("l{i}"),
                            titles: vec![format!("{t} title {i}")],
                            expectations: (0..per_cell)
                                .map(|e| ExpectationDraft {
                                    key: format!("{t}-l{i}-e{e}"),
                                    name: format!("{t} {i}.{e}"),
                                    ..Default::default()
                                })
                                .collect(),
                            resources: vec![ResourceDraft {
                                title: format!("course {t} {i}"),
                                ..Default::default()
                            }],
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        Matrix::new(&d).unwrap()
    }

    fn pos(t: &str, l: &str) -> Position {
        Position {
            track: Key::parse(t).unwrap(),
            level: Key::parse(l).unwrap(),
        }
    }

    fn rate(key: &str, rating: Rating, role: AssessorRole, secs: i64) -> Assessment {
        Assessment {
            id: AssessmentId::new(),
            person_id: PersonId(uuid::Uuid::nil()),
            version_id: VersionId(uuid::Uuid::nil()),
            expectation: Key::parse(key).unwrap(),
            rating,
            assessor_id: PersonId::new(),
            role,
            evidence: Evidence::default(),
            at: Utc.timestamp_opt(secs, 0).unwrap(),
            carried_from: None,
        }
    }

    fn plan(
        m: &Matrix,
        current: Option<&Position>,
        target: Option<&Position>,
        a: &[Assessment],
        rule: &ReadinessRule,
    ) -> Result<GrowthPlan, DomainError> {
        growth_plan(PlanInput {
            matrix: m,
            version_id: VersionId(uuid::Uuid::nil()),
            current,
            target,
            assessments: a,
            rule,
        })
    }

    use AssessorRole::{Manager as M, Myself as S};
    use ExpectationStatus as St;

    /// Each row: the latest manager rating (or none) and self-rating, the rule's minimum, and
    /// the status that results.
    #[test]
    fn status_table() {
        let rows: &[(Option<Rating>, Option<Rating>, Rating, St)] = &[
            (None, None, Rating::Meets, St::NotAssessed),
            (None, Some(Rating::Exceeds), Rating::Meets, St::NotAssessed),
            (
                Some(Rating::NotYet),
                Some(Rating::Meets),
                Rating::Meets,
                St::NotYet,
            ),
            (
                Some(Rating::Developing),
                None,
                Rating::Meets,
                St::InProgress,
            ),
            (
                Some(Rating::Meets),
                Some(Rating::NotYet),
                Rating::Meets,
                St::Met,
            ),
            (Some(Rating::Exceeds), None, Rating::Meets, St::Met),
            (Some(Rating::Meets), None, Rating::Exceeds, St::InProgress),
            (Some(Rating::Developing), None, Rating::Developing, St::Met),
        ];
        let m = matrix(2, &["dev"], 1);
        let cur = pos("dev", "l1");
        for &(mgr, own, min, expected) in rows {
            let mut a = Vec::new();
            if let Some(r) = mgr {
                a.push(rate("dev-l2-e0", Rating::NotYet, M, 1)); // older, superseded
                a.push(rate("dev-l2-e0", r, M, 2));
            }
            if let Some(r) = own {
                a.push(rate("dev-l2-e0", r, S, 3));
            }
            let rule = ReadinessRule::new(min, 0, 1.0).unwrap();
            let p = plan(&m, Some(&cur), None, &a, &rule).unwrap();
            let item = &p.items[1];
            assert_eq!(item.expectation.key.as_str(), "dev-l2-e0");
            assert_eq!(
                item.status, expected,
                "{mgr:?}/{own:?} with minimum {min:?}"
            );
            assert_eq!(item.myself.as_ref().map(|a| a.rating), own);
        }
    }

    #[test]
    fn default_target_is_the_next_level_and_lower_levels_are_held() {
        let m = matrix(3, &["dev", "data"], 2);
        let cur = pos("dev", "l1");
        let a = [rate("dev-l2-e0", Rating::Meets, M, 1)];
        let p = plan(&m, Some(&cur), None, &a, &ReadinessRule::default()).unwrap();
        assert_eq!(p.target.level.key.as_str(), "l2");
        assert_eq!(p.target.titles, ["dev title 2"]);
        assert!(!p.lateral && !p.top_of_track);
        assert_eq!(p.total(), 4);
        assert_eq!(p.met(), 3); // two held, one rated
        let gaps: Vec<&str> = p.gaps().map(|i| i.expectation.key.as_str()).collect();
        assert_eq!(gaps, ["dev-l2-e1"]);
        assert!((p.progress() - 0.75).abs() < 1e-9);
        // Only the levels not held bring their resources.
        let res: Vec<&str> = p
            .level_resources
            .iter()
            .map(|(_, r)| r.title.as_str())
            .collect();
        assert_eq!(res, ["course dev 2"]);
    }

    #[test]
    fn lateral_targets_and_the_top_of_a_track() {
        let m = matrix(3, &["dev", "data"], 1);
        let cur = pos("dev", "l3");
        let lateral = plan(
            &m,
            Some(&cur),
            Some(&pos("data", "l2")),
            &[],
            &ReadinessRule::default(),
        )
        .unwrap();
        assert!(lateral.lateral);
        assert_eq!(lateral.met(), 0, "holding another track holds nothing here");
        assert_eq!(lateral.total(), 2);
        let top = plan(&m, Some(&cur), None, &[], &ReadinessRule::default()).unwrap();
        assert!(top.top_of_track && top.is_complete());
        assert!(plan(&m, None, None, &[], &ReadinessRule::default()).is_err());
        assert!(
            plan(
                &m,
                Some(&cur),
                Some(&pos("ops", "l1")),
                &[],
                &ReadinessRule::default()
            )
            .is_err()
        );
        // No level yet, but a target: everything is to do.
        let fresh = plan(
            &m,
            None,
            Some(&pos("dev", "l2")),
            &[],
            &ReadinessRule::default(),
        )
        .unwrap();
        assert_eq!((fresh.met(), fresh.total()), (0, 2));
    }

    #[test]
    fn readiness_explains_itself() {
        let m = matrix(3, &["dev"], 2);
        let cur = pos("dev", "l1");
        let day = |y, mo, d| NaiveDate::from_ymd_opt(y, mo, d).unwrap();
        let rule = ReadinessRule::new(Rating::Meets, 6, 1.0).unwrap();
        let half = [
            rate("dev-l2-e0", Rating::Meets, M, 1),
            rate("dev-l2-e1", Rating::Exceeds, S, 1),
        ];
        let p = plan(&m, Some(&cur), None, &half, &rule).unwrap();
        let r = readiness(
            Some(&p),
            Some(day(2026, 1, 15)),
            day(2026, 7, 14),
            None,
            &rule,
        );
        assert_eq!(r.score, 0.5);
        assert!(!r.ready);
        assert_eq!(r.months_in_level, Some(5));
        assert_eq!(
            r.missing.iter().map(Key::as_str).collect::<Vec<_>>(),
            ["dev-l2-e1"]
        );
        assert!(r.reasons.iter().all(|x| !x.ok));
        assert!(
            r.reasons[0].message.contains("missing: dev 2.1"),
            "{}",
            r.reasons[0].message
        );

        let all = [
            rate("dev-l2-e0", Rating::Meets, M, 1),
            rate("dev-l2-e1", Rating::Meets, M, 1),
        ];
        let p = plan(&m, Some(&cur), None, &all, &rule).unwrap();
        let r = readiness(
            Some(&p),
            Some(day(2026, 1, 15)),
            day(2026, 7, 15),
            None,
            &rule,
        );
        assert_eq!((r.score, r.ready, r.months_in_level), (1.0, true, Some(6)));
        // A looser rule: half the expectations and no wait.
        let loose = ReadinessRule::new(Rating::Meets, 0, 0.5).unwrap();
        let p = plan(&m, Some(&cur), None, &half, &loose).unwrap();
        assert!(
            readiness(
                Some(&p),
                Some(day(2026, 7, 1)),
                day(2026, 7, 2),
                None,
                &loose
            )
            .ready
        );
        // No level; the top of the track.
        let none = readiness(None, None, day(2026, 7, 2), None, &rule);
        assert_eq!(none.reasons[0].kind, ReasonKind::NoLevel);
        let top = plan(&m, Some(&pos("dev", "l3")), None, &[], &rule).unwrap();
        let r = readiness(
            Some(&top),
            Some(day(2020, 1, 1)),
            day(2026, 7, 2),
            None,
            &rule,
        );
        assert!(!r.ready && r.target.is_none());
        assert_eq!(r.reasons[0].kind, ReasonKind::TopOfTrack);
    }

    #[test]
    fn rules_are_checked() {
        assert!(ReadinessRule::new(Rating::NotYet, 6, 1.0).is_err());
        assert!(ReadinessRule::new(Rating::Meets, 121, 1.0).is_err());
        assert!(ReadinessRule::new(Rating::Meets, 6, 1.5).is_err());
        assert!(ReadinessRule::new(Rating::Meets, 6, f64::NAN).is_err());
        assert!(ReadinessRule::new(Rating::Developing, 0, 0.0).is_ok());
    }

    #[test]
    fn months_are_calendar_months() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(whole_months(d(2026, 1, 31), d(2026, 2, 28)), 0);
        assert_eq!(whole_months(d(2026, 1, 31), d(2026, 3, 1)), 1);
        assert_eq!(whole_months(d(2025, 6, 10), d(2026, 6, 10)), 12);
        assert_eq!(whole_months(d(2026, 6, 10), d(2025, 6, 10)), 0);
    }

    fn assign(level: &str, track: &str, effective: NaiveDate, secs: i64) -> LevelAssignment {
        LevelAssignment {
            id: AssignmentId::new(),
            person_id: PersonId(uuid::Uuid::nil()),
            version_id: VersionId::new(),
            track: Key::parse(track).unwrap(),
            level: Key::parse(level).unwrap(),
            effective,
            reason: "r".into(),
            set_by: None,
            recorded_at: Utc.timestamp_opt(secs, 0).unwrap(),
            case_id: None,
            moved_from: None,
        }
    }

    #[test]
    fn periods_and_time_in_level() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let h = vec![
            assign("l1", "dev", d(1, 1), 1),
            assign("l2", "dev", d(3, 1), 2),
            assign("l2", "dev", d(5, 1), 3), // moved to a new version, same level
            assign("l3", "dev", d(12, 1), 4), // not in effect yet
        ];
        let p = level_periods(&h, d(6, 1));
        let days: Vec<i64> = p.iter().map(|x| x.days).collect();
        assert_eq!(days, [59, 61, 31, 0]);
        assert_eq!(p[0].until, Some(d(3, 1)));
        assert_eq!(p[3].until, None);
        assert_eq!(in_level_since(&h, d(6, 1)), Some(d(3, 1)));
        assert_eq!(in_level_since(&h, d(12, 2)), Some(d(12, 1)));
        assert_eq!(in_level_since(&h, d(1, 1) - chrono::Days::new(1)), None);
        // Another track at the same level key is a change.
        let h2 = vec![
            assign("l2", "dev", d(1, 1), 1),
            assign("l2", "data", d(2, 1), 2),
        ];
        assert_eq!(in_level_since(&h2, d(6, 1)), Some(d(2, 1)));
        // A version move that renamed the level continues the time in level.
        let before = assign("lead", "dev", d(1, 1), 1);
        let mut moved = assign("principal", "dev", d(4, 1), 2);
        assert_eq!(
            in_level_since(&[before.clone(), moved.clone()], d(6, 1)),
            Some(d(4, 1))
        );
        moved.moved_from = Some(before.id);
        assert_eq!(in_level_since(&[before, moved], d(6, 1)), Some(d(1, 1)));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn any_rating() -> impl Strategy<Value = Rating> {
            prop::sample::select(Rating::ALL.to_vec())
        }

        /// A framework drawn at random: `n` levels (`l1`..), a trunk track on a sparse subset of
        /// them, and a manager branch leaving it at one of its rungs with manager levels (`m..`)
        /// that share ranks with the trunk's. Cells expect their own criteria and sometimes one
        /// of the trunk's (a shared criterion).
        fn framework(
            n: usize,
            trunk: &[bool],
            branch_at: usize,
            above: &[bool],
            per_cell: usize,
            share: bool,
            restated: bool,
        ) -> Option<Matrix> {
            let lkeys: Vec<String> = (1..=n).map(|i| format!("l{i}")).collect();
            let mut levels: Vec<LevelDraft> = lkeys
                .iter()
                .enumerate()
                .map(|(i, k)| LevelDraft {
                    key: k.clone(),
                    name: k.to_uppercase(),
                    rank: Some(i as u32 + 1),
                    ..Default::default()
                })
                .collect();
            let ic: Vec<String> = lkeys
                .iter()
                .zip(trunk)
                .filter(|(_, on)| **on)
                .map(|(k, _)| k.clone())
                .collect();
            if ic.is_empty() {
                return None;
            }
            let branch = &ic[branch_at % ic.len()];
            let branch_rank = lkeys.iter().position(|k| k == branch).unwrap() + 1;
            let mgr: Vec<String> = (branch_rank + 1..=n)
                .filter(|r| above.get(*r - 1).copied().unwrap_or(false))
                .map(|r| format!("m{r}"))
                .collect();
            for k in &mgr {
                levels.push(LevelDraft {
                    key: k.clone(),
                    name: k.to_uppercase(),
                    rank: Some(k[1..].parse().unwrap()),
                    ..Default::default()
                });
            }
            let cells =
                |track: &str, own: &[String]| -> Vec<CellDraft> {
                    own.iter()
                        .map(|l| CellDraft {
                            level: l.clone(),
                            expectations: (0..per_cell)
                                .map(|e| ExpectationDraft {
                                    key: format!("{track}-{l}-e{e}"),
                                    name: format!("{track} {l} {e}"),
                                    ..Default::default()
                                })
                                .chain((share && track == "mgr" && per_cell > 0).then(|| {
                                    ExpectationDraft::reference(format!("ic-{}-e0", ic[0]))
                                }))
                                .collect(),
                            ..Default::default()
                        })
                        .collect()
                };
            let d = MatrixDraft {
                key: "f".into(),
                name: "F".into(),
                level_style: restated.then(|| "restated".into()),
                levels,
                tracks: vec![
                    TrackDraft {
                        key: "ic".into(),
                        name: "IC".into(),
                        levels: Some(ic.clone()),
                        cells: cells("ic", &ic),
                        ..Default::default()
                    },
                    TrackDraft {
                        key: "mgr".into(),
                        name: "Manager".into(),
                        levels: Some(mgr.clone()),
                        branches_from: Some(crate::matrix::BranchDraft {
                            track: "ic".into(),
                            level: branch.clone(),
                        }),
                        cells: cells("mgr", &mgr),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            };
            Some(Matrix::new(&d).expect("a generated framework is valid"))
        }

        proptest! {
            #[test]
            fn the_next_level_is_always_on_the_persons_ladder_and_progress_stays_in_bounds(
                n in 2usize..8,
                trunk in prop::collection::vec(any::<bool>(), 8),
                branch_at in 0usize..8,
                above in prop::collection::vec(any::<bool>(), 8),
                per_cell in 0usize..3,
                share: bool,
                restated: bool,
                ratings in prop::collection::vec((0usize..2, 1usize..9, 0usize..3, any_rating(), any::<bool>()), 0..30),
            ) {
                let Some(m) = framework(n, &trunk[..n], branch_at, &above, per_cell, share, restated) else {
                    return Ok(());
                };
                let rule = ReadinessRule::new(Rating::Meets, 0, 1.0).unwrap();
                let a: Vec<Assessment> = ratings.iter().map(|&(t, l, e, r, mgr)| {
                    let (track, level) = if t == 0 { ("ic", format!("l{l}")) } else { ("mgr", format!("m{l}")) };
                    rate(&format!("{track}-{level}-e{e}"), r, if mgr { M } else { S }, 0)
                }).collect();
                for t in m.tracks() {
                    let ladder: Vec<&str> = t.ladder.iter().map(|k| k.as_str()).collect();
                    for (i, l) in ladder.iter().enumerate() {
                        prop_assert!(m.check_position(t.key.as_str(), l).is_ok());
                        let next = m.next_level(t.key.as_str(), l);
                        match ladder.get(i + 1) {
                            // The next level is the next rung of this track, and it ranks higher.
                            Some(want) => {
                                let got = next.map(|x| x.key.as_str());
                                prop_assert_eq!(got, Some(*want));
                                prop_assert!(next.unwrap().rank > m.level(l).unwrap().rank);
                            }
                            // The top of a track is the top.
                            None => prop_assert!(next.is_none()),
                        }
                        let cur = pos(t.key.as_str(), l);
                        for target in m.tracks().iter().flat_map(|t2| t2.ladder.iter().map(move |k| pos(t2.key.as_str(), k.as_str()))) {
                            let p = plan(&m, Some(&cur), Some(&target), &a, &rule).unwrap();
                            prop_assert!((0.0..=1.0).contains(&p.progress()));
                            prop_assert!(p.met() <= p.total());
                            // Everything the current rung requires counts as held in any plan.
                            let held = m.expectations_for(t.key.as_str(), l).unwrap();
                            prop_assert!(p.items.iter().filter(|it| held.iter().any(|(_, h)| h.key == it.expectation.key)).all(|it| it.status == ExpectationStatus::Met));
                        }
                    }
                    // A level off the ladder is refused, naming the levels the track has.
                    for off in m.levels().iter().filter(|l| !ladder.contains(&l.key.as_str())) {
                        let err = m.check_position(t.key.as_str(), off.key.as_str()).unwrap_err().to_string();
                        prop_assert!(err.contains(ladder[0]), "{}", err);
                    }
                }
            }
        }

        proptest! {
            #[test]
            fn plans_are_consistent(
                levels in 1usize..6,
                per_cell in 0usize..4,
                cur_track in 0usize..2, cur_level in 1usize..6,
                tgt_track in 0usize..2, tgt_level in 1usize..6,
                has_target: bool, has_current: bool,
                ratings in prop::collection::vec((0usize..2, 1usize..6, 0usize..4, any_rating(), any::<bool>(), 0i64..100), 0..40),
                min in prop::sample::select(vec![Rating::Developing, Rating::Meets, Rating::Exceeds]),
            ) {
                let tracks = ["dev", "data"];
                let m = matrix(levels, &tracks, per_cell);
                let cur = pos(tracks[cur_track], &format!("l{}", cur_level.min(levels)));
                let tgt = pos(tracks[tgt_track], &format!("l{}", tgt_level.min(levels)));
                let a: Vec<Assessment> = ratings.iter().map(|&(t, l, e, r, mgr, s)| {
                    rate(&format!("{}-l{}-e{}", tracks[t], l.min(levels), e), r, if mgr { M } else { S }, s)
                }).collect();
                let rule = ReadinessRule::new(min, 0, 1.0).unwrap();
                let current = has_current.then_some(&cur);
                let target = has_target.then_some(&tgt);
                let Ok(p) = plan(&m, current, target, &a, &rule) else {
                    prop_assert!(current.is_none() && target.is_none());
                    return Ok(());
                };
                prop_assert!((0.0..=1.0).contains(&p.progress()));
                prop_assert!(p.met() <= p.total());
                // A met expectation is never a gap, and every unmet one is.
                prop_assert!(p.gaps().all(|g| g.status != ExpectationStatus::Met));
                prop_assert_eq!(p.gaps().count() + p.met(), p.total());
                // Gaps come in matrix order: levels never go down.
                let ranks: Vec<u32> = p.gaps().map(|g| g.level.rank.get()).collect();
                prop_assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
                // A target at or below the current level of the same track is already complete.
                if let (Some(c), Some(t)) = (current, target)
                    && c.track == t.track
                    && m.level(t.level.as_str()).unwrap().rank <= m.level(c.level.as_str()).unwrap().rank
                {
                    prop_assert!(p.is_complete());
                    prop_assert_eq!(p.progress(), 1.0);
                }
                // Readiness never leaves 0..=1, and "ready" needs the score.
                let r = readiness(Some(&p), None, NaiveDate::MIN, None, &rule);
                prop_assert!((0.0..=1.0).contains(&r.score));
                prop_assert!(!r.ready || r.score >= rule.min_score);
                prop_assert!(r.met.iter().all(|k| !r.missing.contains(k)));
                // The kept scores (what team listings sort by) are readiness's, for every
                // minimum rating a rule may set.
                if target.is_none() {
                    let kept = scores_by_min_rating(&p);
                    for (i, min) in [Rating::Developing, Rating::Meets, Rating::Exceeds].into_iter().enumerate() {
                        let rule = ReadinessRule::new(min, 0, 1.0).unwrap();
                        let again = plan(&m, current, None, &a, &rule).unwrap();
                        let r = readiness(Some(&again), None, NaiveDate::MIN, None, &rule);
                        prop_assert_eq!(kept[i].to_bits(), r.score.to_bits(), "minimum {:?}", min);
                    }
                }
            }
        }

        proptest! {
            /// "Held since on or before the cutoff" is exactly "at least `months` whole months".
            #[test]
            fn the_cutoff_is_the_whole_months_boundary(
                days in 0i64..3000, back in 0i64..4000, months in 0u32..121,
            ) {
                let today = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(days);
                let since = today - chrono::Duration::days(back);
                let cutoff = in_level_cutoff(today, months);
                prop_assert!(cutoff <= today);
                prop_assert_eq!(since <= cutoff, whole_months(since, today) >= months);
            }

            /// The day a level becomes long enough is the first day whose cutoff reaches it.
            #[test]
            fn long_enough_on_is_the_first_day_past_the_cutoff(
                days in 0i64..3000, months in 0u32..121,
            ) {
                let since = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(days);
                let on = long_enough_on(since, months);
                prop_assert!(since <= in_level_cutoff(on, months));
                prop_assert!(on == since || since > in_level_cutoff(on.pred_opt().unwrap(), months));
            }
        }
    }
}
