//! Moving people to a newer version of their matrix. Level assignments follow the track and
//! level keys (or the mapping); assessments are carried over, as copies that point back at the
//! assessment they were made as, for expectations whose key is unchanged or that the mapping
//! sends somewhere (a rename is one target, a split several; a merge is several sources with
//! the same target). The plan is computed in full, with who is affected, before anything is
//! written.

use crate::assessment::Assessment;
use crate::assignment::LevelAssignment;
use crate::growth::{PlanInput, ReadinessRule, growth_plan};
use crate::matrix::Matrix;
use crate::promotion::Position;
use crate::text::Key;
use crate::{AssessmentId, AssignmentId, DomainError, Path, PersonId, VersionId, Violation};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Where renamed, split or merged keys go in the target version. Keys not named map to
/// themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    pub tracks: BTreeMap<String, String>,
    pub levels: BTreeMap<String, String>,
    /// Whole positions, `track/level` -> `track/level`: for a new ladder structure (a branch
    /// introduced, levels added), where a person's new place depends on both. They take
    /// precedence over `tracks` and `levels`.
    pub positions: BTreeMap<String, String>,
    pub expectations: BTreeMap<String, Vec<String>>,
}

/// `track/level` as a pair.
fn split_position(s: &str) -> Option<(&str, &str)> {
    s.split_once('/').map(|(t, l)| (t.trim(), l.trim()))
}

/// A mapping entry that does not fit the versions: its section (`tracks`, `levels`,
/// `expectations`), its source key, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingProblem {
    pub section: &'static str,
    pub key: String,
    pub message: String,
}

fn expectation_keys(ms: &[&Matrix]) -> BTreeSet<String> {
    ms.iter()
        .flat_map(|m| m.tracks().iter())
        .flat_map(|tr| tr.cells.iter())
        .flat_map(|c| c.expectations.iter())
        .map(|e| e.key.to_string())
        .collect()
}

impl Mapping {
    /// Checks every entry against the target version (targets must exist there) and the
    /// versions people move from (sources must exist in one of them, when there are any).
    pub fn problems(
        &self,
        target: &Matrix,
        number: u32,
        sources: &[&Matrix],
    ) -> Vec<MappingProblem> {
        let v = format!("version {number}");
        let mut out = Vec::new();
        let mut push = |section, key: &str, message: String| {
            out.push(MappingProblem {
                section,
                key: key.to_owned(),
                message,
            })
        };
        type Has = fn(&Matrix, &str) -> bool;
        let simple: [(&'static str, &str, &BTreeMap<String, String>, Has); 2] = [
            ("tracks", "track", &self.tracks, |m, k| m.track(k).is_some()),
            ("levels", "level", &self.levels, |m, k| m.level(k).is_some()),
        ];
        for (section, what, entries, has) in simple {
            for (from, to) in entries {
                if !has(target, to) {
                    push(
                        section,
                        from,
                        format!("`{from}` maps to {what} `{to}`, which {v} does not have"),
                    );
                }
                if !sources.is_empty() && !sources.iter().any(|m| has(m, from)) {
                    push(
                        section,
                        from,
                        format!("`{from}` is not a {what} of any version the people move from"),
                    );
                }
            }
        }
        let has_position =
            |m: &Matrix, p: &str| split_position(p).is_some_and(|(t, l)| m.has_position(t, l));
        for (from, to) in &self.positions {
            if !has_position(target, to) {
                push(
                    "positions",
                    from,
                    format!("`{from}` maps to `{to}`, which is not a track/level on {v}'s ladders"),
                );
            }
            if !sources.is_empty() && !sources.iter().any(|m| has_position(m, from)) {
                push(
                    "positions",
                    from,
                    format!("`{from}` is not a track/level of any version the people move from"),
                );
            }
        }
        let target_keys = expectation_keys(&[target]);
        let source_keys = expectation_keys(sources);
        for (from, tos) in &self.expectations {
            if !sources.is_empty() && !source_keys.contains(from) {
                push(
                    "expectations",
                    from,
                    format!("`{from}` is not an expectation of any version the people move from"),
                );
            }
            if tos.is_empty() {
                push(
                    "expectations",
                    from,
                    format!("`{from}` maps to nothing: name at least one expectation of {v}"),
                );
            }
            for to in tos {
                if !target_keys.contains(to) {
                    push(
                        "expectations",
                        from,
                        format!("`{from}` maps to expectation `{to}`, which {v} does not have"),
                    );
                }
            }
        }
        out
    }

    fn expectation(&self, key: &str) -> Vec<String> {
        self.expectations
            .get(key)
            .cloned()
            .unwrap_or_else(|| vec![key.to_owned()])
    }
}

/// A person to move: their current assignment, its version's content, and their assessments
/// against that version.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub current: &'a LevelAssignment,
    pub from: &'a Matrix,
    pub assessments: &'a [Assessment],
}

/// A criterion as reports name it: its key, and what a person reads (title or text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub key: String,
    pub label: String,
}

impl Named {
    fn of(m: &Matrix, key: &str) -> Self {
        Self {
            key: key.to_owned(),
            label: m
                .criterion(key)
                .map_or_else(|| key.to_owned(), |e| e.label()),
        }
    }
}

/// What the move does to one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonMove {
    pub person: PersonId,
    pub from_version: VersionId,
    pub from: Position,
    pub to: Position,
    /// Assessments carried over (copies written against the new version).
    pub carried: usize,
    /// Expectations with assessments that the new version no longer has and the mapping does
    /// not send anywhere: their ratings stay in history only.
    pub dropped: Vec<Named>,
    /// Gaps toward the next level that the person did not have before the move.
    pub new_gaps: Vec<Named>,
    pub gaps_before: usize,
    pub gaps_after: usize,
}

/// The whole move: per-person outcomes, and the rows to append.
#[derive(Debug, Clone, Default)]
pub struct MovePlan {
    pub moves: Vec<PersonMove>,
    pub assignments: Vec<LevelAssignment>,
    pub assessments: Vec<Assessment>,
}

/// The target version and the context of the move.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub version_id: VersionId,
    pub number: u32,
    pub matrix: &'a Matrix,
    pub rule: &'a ReadinessRule,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
    pub by: Option<PersonId>,
}

fn gap_keys(
    m: &Matrix,
    version: VersionId,
    pos: &Position,
    a: &[Assessment],
    r: &ReadinessRule,
) -> Vec<String> {
    growth_plan(PlanInput {
        matrix: m,
        version_id: version,
        current: Some(pos),
        target: None,
        assessments: a,
        rule: r,
    })
    .map(|p| p.gaps().map(|g| g.expectation.key.to_string()).collect())
    .unwrap_or_default()
}

/// Plans the move of `members` to `target`, checking the mapping and every person first: all
/// problems come back at once and nothing is planned when there is any.
pub fn plan_move(
    target: Target<'_>,
    members: &[Member<'_>],
    mapping: &Mapping,
) -> Result<MovePlan, DomainError> {
    let t = target.matrix;
    let sources: Vec<&Matrix> = members.iter().map(|m| m.from).collect();
    let mut problems: Vec<Violation> = mapping
        .problems(t, target.number, &sources)
        .into_iter()
        .map(|p| Violation::new(Path::root().field(p.section), p.message))
        .collect();
    let mut problem = |path: Path, msg: String| problems.push(Violation::new(path, msg));
    let v = format!("version {}", target.number);
    let target_keys = expectation_keys(&[t]);
    let mut plan = MovePlan::default();
    for m in members {
        let cur = m.current;
        let mut track = mapping
            .tracks
            .get(cur.track.as_str())
            .cloned()
            .unwrap_or_else(|| cur.track.to_string());
        let mut level = mapping
            .levels
            .get(cur.level.as_str())
            .cloned()
            .unwrap_or_else(|| cur.level.to_string());
        if let Some((pt, pl)) = mapping
            .positions
            .get(&format!("{}/{}", cur.track, cur.level))
            .and_then(|p| split_position(p))
        {
            (track, level) = (pt.to_owned(), pl.to_owned());
        }
        if t.track(&track).is_some() && t.level(&level).is_some() && !t.has_position(&track, &level)
        {
            problem(
                Path::root(),
                format!(
                    "a person at `{}/{}` would move to `{track}/{level}`, which is not on track `{track}`'s ladder in {v}: map them under `positions:` (`{}/{}: {track}/LEVEL`)",
                    cur.track, cur.level, cur.track, cur.level
                ),
            );
            continue;
        }
        let (Some(tk), Some(lk)) = (t.track(&track), t.level(&level)) else {
            problem(
                Path::root(),
                format!(
                    "a person is at track `{}`, level `{}`, which {v} does not have as `{track}`/`{level}`: map them in the mapping file (`tracks:` or `levels:`)",
                    cur.track, cur.level
                ),
            );
            continue;
        };
        let from = Position {
            track: cur.track.clone(),
            level: cur.level.clone(),
        };
        let to = Position {
            track: tk.key.clone(),
            level: lk.key.clone(),
        };
        let mut carried = Vec::new();
        let mut dropped = BTreeSet::new();
        for a in m.assessments {
            let mut any = false;
            for k in mapping.expectation(a.expectation.as_str()) {
                if !target_keys.contains(&k) {
                    continue;
                }
                let Ok(key) = Key::parse(&k) else { continue };
                any = true;
                carried.push(Assessment {
                    id: AssessmentId::new(),
                    version_id: target.version_id,
                    expectation: key,
                    carried_from: Some(a.carried_from.unwrap_or(a.id)),
                    ..a.clone()
                });
            }
            if !any {
                dropped.insert(a.expectation.to_string());
            }
        }
        let before = gap_keys(m.from, cur.version_id, &from, m.assessments, target.rule);
        let after = gap_keys(t, target.version_id, &to, &carried, target.rule);
        let had: BTreeSet<String> = before.iter().flat_map(|g| mapping.expectation(g)).collect();
        plan.moves.push(PersonMove {
            person: cur.person_id,
            from_version: cur.version_id,
            from,
            to: to.clone(),
            carried: carried.len(),
            dropped: dropped.iter().map(|k| Named::of(m.from, k)).collect(),
            new_gaps: after
                .iter()
                .filter(|g| !had.contains(*g))
                .map(|k| Named::of(t, k))
                .collect(),
            gaps_before: before.len(),
            gaps_after: after.len(),
        });
        plan.assignments.push(LevelAssignment {
            id: AssignmentId::new(),
            person_id: cur.person_id,
            version_id: target.version_id,
            track: to.track,
            level: to.level,
            effective: target.today.max(cur.effective),
            reason: format!("moved to version {}", target.number),
            set_by: target.by,
            recorded_at: target.now,
            case_id: None,
            moved_from: Some(cur.id),
        });
        plan.assessments.extend(carried);
    }
    if problems.is_empty() {
        Ok(plan)
    } else {
        Err(DomainError::Violations(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::{AssessorRole, Evidence, Rating};
    use crate::matrix::tests::small;

    fn assignment(track: &str, level: &str, v: VersionId) -> LevelAssignment {
        LevelAssignment {
            id: AssignmentId::new(),
            person_id: PersonId::new(),
            version_id: v,
            track: Key::parse(track).unwrap(),
            level: Key::parse(level).unwrap(),
            effective: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            reason: "hired".into(),
            set_by: None,
            recorded_at: Utc::now(),
            case_id: None,
            moved_from: None,
        }
    }

    fn rated(p: &LevelAssignment, key: &str) -> Assessment {
        Assessment {
            id: AssessmentId::new(),
            person_id: p.person_id,
            version_id: p.version_id,
            expectation: Key::parse(key).unwrap(),
            rating: Rating::Meets,
            assessor_id: PersonId::new(),
            role: AssessorRole::Manager,
            evidence: Evidence::default(),
            at: Utc::now(),
            carried_from: None,
        }
    }

    #[test]
    fn a_branch_introduced_is_a_mapping_of_positions() {
        let v1 = Matrix::new(&small()).unwrap();
        // v2: a `lead` track branches from `dev` after l2, with its own rung at rank 3.
        let mut d = small();
        d.levels.push(crate::matrix::LevelDraft {
            key: "lead3".into(),
            name: "Team lead".into(),
            rank: Some(3),
            ..Default::default()
        });
        d.tracks[0].levels = Some(vec!["l1".into(), "l2".into(), "l3".into()]);
        d.tracks.push(crate::matrix::TrackDraft {
            key: "lead".into(),
            name: "Lead".into(),
            branches_from: Some(crate::matrix::BranchDraft {
                track: "dev".into(),
                level: "l2".into(),
            }),
            levels: Some(vec!["lead3".into()]),
            cells: vec![crate::matrix::CellDraft {
                level: "lead3".into(),
                expectations: vec![crate::matrix::ExpectationDraft {
                    key: "leads".into(),
                    name: "Leads".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        });
        let v2 = Matrix::new(&d).unwrap();
        let (id1, id2) = (VersionId::new(), VersionId::new());
        let (senior, junior) = (assignment("dev", "l3", id1), assignment("dev", "l1", id1));
        let ratings = vec![rated(&senior, "syntax")];
        let rule = ReadinessRule::default();
        let target = Target {
            version_id: id2,
            number: 2,
            matrix: &v2,
            rule: &rule,
            today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            now: Utc::now(),
            by: None,
        };
        let members = [
            Member {
                current: &senior,
                from: &v1,
                assessments: &ratings,
            },
            Member {
                current: &junior,
                from: &v1,
                assessments: &[],
            },
        ];
        let mapping = Mapping {
            positions: [("dev/l3".to_owned(), "lead/lead3".to_owned())].into(),
            ..Default::default()
        };
        let plan = plan_move(target, &members, &mapping).unwrap();
        let to: Vec<String> = plan
            .moves
            .iter()
            .map(|m| format!("{}/{}", m.to.track, m.to.level))
            .collect();
        assert_eq!(to, ["lead/lead3", "dev/l1"]);
        assert_eq!(plan.moves[0].carried, 1, "ratings carry by key");
        // A level mapping that lands off the track's ladder is refused, naming the fix.
        let wrong = Mapping {
            levels: [("l3".to_owned(), "lead3".to_owned())].into(),
            ..Default::default()
        };
        let err = plan_move(target, &members, &wrong).unwrap_err().to_string();
        assert!(
            err.contains(
                "which is not on track `dev`'s ladder in version 2: map them under `positions:`"
            ),
            "{err}"
        );
        // Positions must exist on both sides.
        let bad = Mapping {
            positions: [("dev/l3".to_owned(), "dev/lead3".to_owned())].into(),
            ..Default::default()
        };
        let err = plan_move(target, &members, &bad).unwrap_err().to_string();
        assert!(
            err.contains(
                "`dev/l3` maps to `dev/lead3`, which is not a track/level on version 2's ladders"
            ),
            "{err}"
        );
    }

    #[test]
    fn renamed_and_split_expectations_follow_the_mapping() {
        let v1 = Matrix::new(&small()).unwrap();
        // v2: `apis` (l2) is renamed `web-apis`; `threads` (l3) is split in two.
        let mut d = small();
        d.tracks[0].cells[0].expectations[0].key = "web-apis".into();
        d.tracks[0].cells[2].expectations[0].key = "threads-basics".into();
        d.tracks[0].cells[2]
            .expectations
            .push(crate::matrix::ExpectationDraft {
                key: "async".into(),
                name: "Async".into(),
                ..Default::default()
            });
        let v2 = Matrix::new(&d).unwrap();
        let (id1, id2) = (VersionId::new(), VersionId::new());
        let p = assignment("dev", "l2", id1);
        let ratings = vec![rated(&p, "apis"), rated(&p, "threads"), rated(&p, "syntax")];
        let rule = ReadinessRule::default();
        let target = Target {
            version_id: id2,
            number: 2,
            matrix: &v2,
            rule: &rule,
            today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            now: Utc::now(),
            by: None,
        };
        let member = Member {
            current: &p,
            from: &v1,
            assessments: &ratings,
        };
        // Without a mapping the renamed and split ratings are dropped and new gaps appear.
        let plain = plan_move(target, &[member], &Mapping::default()).unwrap();
        let named = |n: &[Named]| -> Vec<(String, String)> {
            n.iter().map(|x| (x.key.clone(), x.label.clone())).collect()
        };
        let pair = |k: &str, l: &str| (k.to_owned(), l.to_owned());
        // Reports name each criterion by what it says, beside its key.
        assert_eq!(
            named(&plain.moves[0].dropped),
            [pair("apis", "apis"), pair("threads", "threads")]
        );
        assert_eq!(plain.moves[0].carried, 1);
        assert_eq!(
            named(&plain.moves[0].new_gaps),
            [pair("threads-basics", "threads"), pair("async", "Async")]
        );

        let mapping = Mapping {
            positions: Default::default(),
            expectations: BTreeMap::from([
                ("apis".into(), vec!["web-apis".into()]),
                (
                    "threads".into(),
                    vec!["threads-basics".into(), "async".into()],
                ),
            ]),
            ..Default::default()
        };
        let plan = plan_move(target, &[member], &mapping).unwrap();
        let mv = &plan.moves[0];
        assert_eq!(mv.carried, 4);
        assert!(mv.dropped.is_empty());
        assert!(mv.new_gaps.is_empty(), "{mv:?}");
        assert_eq!(mv.gaps_before, 0);
        assert_eq!(mv.gaps_after, 0);
        let keys: BTreeSet<_> = plan
            .assessments
            .iter()
            .map(|a| a.expectation.to_string())
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["web-apis", "threads-basics", "async", "syntax"].map(String::from))
        );
        assert!(plan.assessments.iter().all(|a| {
            a.version_id == id2
                && ratings
                    .iter()
                    .any(|r| Some(r.id) == a.carried_from && r.at == a.at)
        }));
        assert_eq!(plan.assignments[0].reason, "moved to version 2");
        assert_eq!(plan.assignments[0].version_id, id2);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let v1 = Matrix::new(&small()).unwrap();
        let mut d = small();
        d.levels[2].key = "lead".into();
        d.tracks[0].cells[2].level = "lead".into();
        let v2 = Matrix::new(&d).unwrap();
        let p = assignment("dev", "l3", VersionId::new());
        let rule = ReadinessRule::default();
        let target = Target {
            version_id: VersionId::new(),
            number: 2,
            matrix: &v2,
            rule: &rule,
            today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            now: Utc::now(),
            by: None,
        };
        let mapping = Mapping {
            positions: Default::default(),
            levels: BTreeMap::from([("l9".into(), "l10".into())]),
            expectations: BTreeMap::from([("nope".into(), vec!["apis".into(), "gone".into()])]),
            ..Default::default()
        };
        let member = Member {
            current: &p,
            from: &v1,
            assessments: &[],
        };
        let err = plan_move(target, &[member], &mapping)
            .unwrap_err()
            .to_string();
        for want in [
            "`l9` maps to level `l10`, which version 2 does not have",
            "`nope` is not an expectation of any version",
            "`nope` maps to expectation `gone`",
            "level `l3`",
        ] {
            assert!(err.contains(want), "missing {want:?} in {err}");
        }
        // With the level mapped, the person moves to `lead`.
        let mapping = Mapping {
            positions: Default::default(),
            levels: BTreeMap::from([("l3".into(), "lead".into())]),
            ..Default::default()
        };
        let plan = plan_move(target, &[member], &mapping).unwrap();
        assert_eq!(plan.assignments[0].level.as_str(), "lead");
        assert_eq!(
            plan.assignments[0].moved_from,
            Some(p.id),
            "time in level runs on"
        );
    }
}
