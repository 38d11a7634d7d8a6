//! Leveling matrices: ordered levels crossed with tracks; each cell names the titles held at that
//! level and the expectations it adds. Expectations are cumulative: holding level N of a track
//! means meeting the expectations of levels 1..=N of that track.
//!
//! [`MatrixDraft`] is unchecked input (its order mirrors the file it came from, so a violation's
//! [`Path`] points back into that file). [`Matrix::new`] checks every rule at once and is the only
//! way to get a [`Matrix`].

use crate::text::{Key, required_text};
use crate::{DomainError, Path, Violation};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// A level's position on the ladder, 1 (lowest) to [`LevelRank::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct LevelRank(u32);

impl LevelRank {
    pub const MAX: u32 = 20;
    pub fn new(rank: u32) -> Result<Self, DomainError> {
        if (1..=Self::MAX).contains(&rank) {
            Ok(Self(rank))
        } else {
            Err(DomainError::invalid(
                "rank",
                format!("{rank} is out of range: ranks go from 1 to {}", Self::MAX),
            ))
        }
    }
    pub fn get(self) -> u32 {
        self.0
    }
}
impl TryFrom<u32> for LevelRank {
    type Error = DomainError;
    fn try_from(v: u32) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}
impl From<LevelRank> for u32 {
    fn from(r: LevelRank) -> Self {
        r.0
    }
}
impl fmt::Display for LevelRank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a learning resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Course,
    Book,
    Article,
    Video,
    Certification,
    /// A complementary skill worth learning (the seed's "beyond Python" list).
    Skill,
    /// Hands-on practice: projects, open source, mentoring.
    Practice,
    #[default]
    Other,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 8] = [
        Self::Course,
        Self::Book,
        Self::Article,
        Self::Video,
        Self::Certification,
        Self::Skill,
        Self::Practice,
        Self::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Course => "course",
            Self::Book => "book",
            Self::Article => "article",
            Self::Video => "video",
            Self::Certification => "certification",
            Self::Skill => "skill",
            Self::Practice => "practice",
            Self::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "resource kind",
                    format!(
                        "`{s}` is not one of {}",
                        Self::ALL.map(Self::as_str).join(", ")
                    ),
                )
            })
    }
}

/// A learning resource, attached to an expectation or to a cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub title: String,
    pub url: Option<String>,
    pub kind: ResourceKind,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    pub key: Key,
    pub name: String,
    pub rank: LevelRank,
    pub description: Option<String>,
}

/// A group of expectations across levels (communication, impact, technical skill...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Competency {
    pub key: Key,
    pub name: String,
    pub description: Option<String>,
}

/// One thing a level expects, such as "Basic syntax". Its key is stable across versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    pub key: Key,
    pub name: String,
    pub description: Option<String>,
    pub competency: Option<Key>,
    pub resources: Vec<Resource>,
}

/// A track at one level: the titles held there and what the level adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub level: Key,
    pub titles: Vec<String>,
    pub expectations: Vec<Expectation>,
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    pub key: Key,
    pub name: String,
    pub description: Option<String>,
    /// Ordered by level rank; a track may leave levels out.
    pub cells: Vec<Cell>,
}

/// Unchecked matrix input, as read from a file or built by an editor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatrixDraft {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub levels: Vec<LevelDraft>,
    pub competencies: Vec<CompetencyDraft>,
    pub tracks: Vec<TrackDraft>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LevelDraft {
    pub key: String,
    pub name: String,
    /// `None`: the level's position in the list, counting from 1.
    pub rank: Option<u32>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompetencyDraft {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackDraft {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub cells: Vec<CellDraft>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellDraft {
    pub level: String,
    pub titles: Vec<String>,
    pub expectations: Vec<ExpectationDraft>,
    pub resources: Vec<ResourceDraft>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectationDraft {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub competency: Option<String>,
    pub resources: Vec<ResourceDraft>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceDraft {
    pub title: String,
    pub url: Option<String>,
    pub kind: Option<String>,
    pub description: Option<String>,
}

/// A valid matrix definition: the content of one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matrix {
    key: Key,
    name: String,
    description: Option<String>,
    levels: Vec<Level>,
    competencies: Vec<Competency>,
    tracks: Vec<Track>,
}

/// Limits that keep a matrix readable and bounded.
pub mod limits {
    pub const MAX_LEVELS: usize = 20;
    pub const MAX_TRACKS: usize = 200;
    pub const MAX_EXPECTATIONS_PER_CELL: usize = 200;
    pub const MAX_TITLES_PER_CELL: usize = 10;
    pub const MAX_RESOURCES: usize = 100;
    pub const NAME_LEN: usize = 200;
    pub const DESCRIPTION_LEN: usize = 10_000;
    pub const URL_LEN: usize = 2_000;
}

struct Checker {
    violations: Vec<Violation>,
}

impl Checker {
    fn push(&mut self, path: Path, message: impl Into<String>) {
        self.violations.push(Violation::new(path, message));
    }
    fn push_err(&mut self, path: Path, err: DomainError) {
        let message = match err {
            DomainError::Invalid { message, .. } => message,
            other => other.to_string(),
        };
        self.push(path, message);
    }
    fn key(&mut self, path: Path, s: &str) -> Option<Key> {
        Key::parse(s).map_err(|e| self.push_err(path, e)).ok()
    }
    fn text(&mut self, path: Path, field: &'static str, s: &str) -> String {
        match required_text(field, s, limits::NAME_LEN) {
            Ok(t) => t,
            Err(e) => {
                self.push_err(path, e);
                String::new()
            }
        }
    }
    fn description(&mut self, path: Path, s: &Option<String>) -> Option<String> {
        let t = s.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
        if t.chars().count() > limits::DESCRIPTION_LEN {
            self.push(
                path,
                format!("is longer than {} characters", limits::DESCRIPTION_LEN),
            );
        }
        Some(t.to_owned())
    }
    fn max_len<T>(&mut self, path: Path, items: &[T], max: usize, what: &str) {
        if items.len() > max {
            self.push(
                path,
                format!("has {} {what}; at most {max} are allowed", items.len()),
            );
        }
    }
    fn resources(&mut self, path: Path, drafts: &[ResourceDraft]) -> Vec<Resource> {
        self.max_len(path.clone(), drafts, limits::MAX_RESOURCES, "resources");
        drafts
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let p = path.index(i);
                let url = r.url.as_deref().map(str::trim).filter(|u| !u.is_empty());
                if let Some(u) = url {
                    let ok_scheme = u.starts_with("https://") || u.starts_with("http://");
                    if !ok_scheme || u.contains(char::is_whitespace) || u.len() > limits::URL_LEN {
                        self.push(
                            p.field("url"),
                            format!("`{u}` is not a web link: use an http:// or https:// address without spaces"),
                        );
                    }
                }
                let kind = match r.kind.as_deref() {
                    None => ResourceKind::Other,
                    Some(k) => ResourceKind::parse(k)
                        .map_err(|e| self.push_err(p.field("kind"), e))
                        .unwrap_or_default(),
                };
                Resource {
                    title: self.text(p.field("title"), "title", &r.title),
                    url: url.map(str::to_owned),
                    kind,
                    description: self.description(p.field("description"), &r.description),
                }
            })
            .collect()
    }
}

impl Matrix {
    /// Checks every rule and returns all violations at once, each with its path in the draft.
    pub fn new(draft: &MatrixDraft) -> Result<Self, DomainError> {
        let root = Path::root();
        let mut c = Checker {
            violations: Vec::new(),
        };

        let key = c.key(root.field("key"), &draft.key);
        let name = c.text(root.field("name"), "name", &draft.name);
        let description = c.description(root.field("description"), &draft.description);

        // Levels: unique keys, unique ranks in range; kept sorted by rank.
        let lp = root.field("levels");
        if draft.levels.is_empty() {
            c.push(lp.clone(), "a matrix needs at least one level");
        }
        c.max_len(lp.clone(), &draft.levels, limits::MAX_LEVELS, "levels");
        let mut levels = Vec::new();
        let mut level_keys: HashMap<String, usize> = HashMap::new();
        let mut ranks: HashMap<u32, usize> = HashMap::new();
        for (i, l) in draft.levels.iter().enumerate() {
            let p = lp.index(i);
            let k = c.key(p.field("key"), &l.key);
            if let Some(prev) = level_keys.insert(l.key.clone(), i) {
                c.push(
                    p.field("key"),
                    format!(
                        "duplicate level key `{}` (first used by levels[{prev}])",
                        l.key
                    ),
                );
            }
            let raw_rank = l.rank.unwrap_or(i as u32 + 1);
            let rank = LevelRank::new(raw_rank)
                .map_err(|e| c.push_err(p.field("rank"), e))
                .ok();
            if let Some(prev) = ranks.insert(raw_rank, i) {
                c.push(p.field("rank"), format!("duplicate rank {raw_rank} (first used by levels[{prev}]): every level needs its own rank"));
            }
            let name = c.text(p.field("name"), "name", &l.name);
            let description = c.description(p.field("description"), &l.description);
            if let (Some(key), Some(rank)) = (k, rank) {
                levels.push(Level {
                    key,
                    name,
                    rank,
                    description,
                });
            }
        }
        levels.sort_by_key(|l| l.rank);
        let rank_of: HashMap<&str, LevelRank> =
            levels.iter().map(|l| (l.key.as_str(), l.rank)).collect();

        // Competencies.
        let cp = root.field("competencies");
        let mut competencies = Vec::new();
        let mut comp_keys = HashSet::new();
        for (i, comp) in draft.competencies.iter().enumerate() {
            let p = cp.index(i);
            if !comp_keys.insert(comp.key.clone()) {
                c.push(
                    p.field("key"),
                    format!("duplicate competency key `{}`", comp.key),
                );
            }
            let k = c.key(p.field("key"), &comp.key);
            let name = c.text(p.field("name"), "name", &comp.name);
            let description = c.description(p.field("description"), &comp.description);
            if let Some(key) = k {
                competencies.push(Competency {
                    key,
                    name,
                    description,
                });
            }
        }

        // Tracks, cells, expectations.
        let tp = root.field("tracks");
        if draft.tracks.is_empty() {
            c.push(tp.clone(), "a matrix needs at least one track");
        }
        c.max_len(tp.clone(), &draft.tracks, limits::MAX_TRACKS, "tracks");
        let mut tracks = Vec::new();
        let mut track_keys: HashMap<String, usize> = HashMap::new();
        let mut expectation_keys: HashMap<String, Path> = HashMap::new();
        for (ti, t) in draft.tracks.iter().enumerate() {
            let p = tp.index(ti);
            if let Some(prev) = track_keys.insert(t.key.clone(), ti) {
                c.push(
                    p.field("key"),
                    format!(
                        "duplicate track key `{}` (first used by tracks[{prev}])",
                        t.key
                    ),
                );
            }
            let tkey = c.key(p.field("key"), &t.key);
            let tname = c.text(p.field("name"), "name", &t.name);
            let tdesc = c.description(p.field("description"), &t.description);
            let mut cells = Vec::new();
            let mut cell_levels: HashMap<String, usize> = HashMap::new();
            for (ci, cell) in t.cells.iter().enumerate() {
                let cp = p.field("cells").index(ci);
                let rank = rank_of.get(cell.level.as_str()).copied();
                if !level_keys.contains_key(&cell.level) {
                    let mut known: Vec<&str> = Vec::new();
                    for l in &draft.levels {
                        if !known.contains(&l.key.as_str()) {
                            known.push(&l.key);
                        }
                    }
                    c.push(
                        cp.field("level"),
                        format!(
                            "unknown level `{}`: the matrix defines {}",
                            cell.level,
                            known.join(", ")
                        ),
                    );
                }
                if let Some(prev) = cell_levels.insert(cell.level.clone(), ci) {
                    c.push(cp.field("level"), format!("track `{}` has two cells for level `{}` (the first is cells[{prev}]): merge them", t.key, cell.level));
                }
                c.max_len(
                    cp.field("titles"),
                    &cell.titles,
                    limits::MAX_TITLES_PER_CELL,
                    "titles",
                );
                let titles: Vec<String> = cell
                    .titles
                    .iter()
                    .enumerate()
                    .map(|(i, title)| c.text(cp.field("titles").index(i), "title", title))
                    .collect();
                c.max_len(
                    cp.field("expectations"),
                    &cell.expectations,
                    limits::MAX_EXPECTATIONS_PER_CELL,
                    "expectations",
                );
                let mut expectations = Vec::new();
                for (ei, e) in cell.expectations.iter().enumerate() {
                    let ep = cp.field("expectations").index(ei);
                    if let Some(prev) = expectation_keys.insert(e.key.clone(), ep.clone()) {
                        c.push(ep.field("key"), format!("duplicate expectation key `{}` (first used at {prev}): expectation keys are unique in a matrix", e.key));
                    }
                    let ekey = c.key(ep.field("key"), &e.key);
                    let ename = c.text(ep.field("name"), "name", &e.name);
                    let edesc = c.description(ep.field("description"), &e.description);
                    let competency = match e.competency.as_deref() {
                        None => None,
                        Some(comp) if comp_keys.contains(comp) => Key::parse(comp).ok(),
                        Some(comp) => {
                            c.push(ep.field("competency"), format!("unknown competency `{comp}`: add it under `competencies` or remove it"));
                            None
                        }
                    };
                    let resources = c.resources(ep.field("resources"), &e.resources);
                    if let Some(key) = ekey {
                        expectations.push(Expectation {
                            key,
                            name: ename,
                            description: edesc,
                            competency,
                            resources,
                        });
                    }
                }
                let resources = c.resources(cp.field("resources"), &cell.resources);
                if let (Some(level), Some(_)) = (Key::parse(&cell.level).ok(), rank) {
                    cells.push((
                        rank,
                        Cell {
                            level,
                            titles,
                            expectations,
                            resources,
                        },
                    ));
                }
            }
            cells.sort_by_key(|(rank, _)| *rank);
            if let Some(key) = tkey {
                tracks.push(Track {
                    key,
                    name: tname,
                    description: tdesc,
                    cells: cells.into_iter().map(|(_, cell)| cell).collect(),
                });
            }
        }

        match (c.violations.is_empty(), key) {
            (true, Some(key)) => Ok(Self {
                key,
                name,
                description,
                levels,
                competencies,
                tracks,
            }),
            _ => Err(DomainError::Violations(c.violations)),
        }
    }

    pub fn key(&self) -> &Key {
        &self.key
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// Levels, lowest rank first.
    pub fn levels(&self) -> &[Level] {
        &self.levels
    }
    pub fn competencies(&self) -> &[Competency] {
        &self.competencies
    }
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }
    pub fn level(&self, key: &str) -> Option<&Level> {
        self.levels.iter().find(|l| l.key.as_str() == key)
    }
    pub fn track(&self, key: &str) -> Option<&Track> {
        self.tracks.iter().find(|t| t.key.as_str() == key)
    }
    /// The level directly above `key`, if any.
    pub fn next_level(&self, key: &str) -> Option<&Level> {
        let rank = self.level(key)?.rank;
        self.levels.iter().find(|l| l.rank > rank)
    }
    pub fn cell(&self, track: &str, level: &str) -> Option<&Cell> {
        self.track(track)?
            .cells
            .iter()
            .find(|c| c.level.as_str() == level)
    }
    /// The expectations of `track` at `level` and every level below it, lowest first: what
    /// holding that level means (expectations are cumulative).
    pub fn expectations_up_to(
        &self,
        track: &str,
        level: &str,
    ) -> Result<Vec<(&Level, &Expectation)>, DomainError> {
        let t = self
            .track(track)
            .ok_or_else(|| DomainError::invalid("track", format!("unknown track `{track}`")))?;
        let target = self
            .level(level)
            .ok_or_else(|| DomainError::invalid("level", format!("unknown level `{level}`")))?;
        let by_key: BTreeMap<&str, &Level> =
            self.levels.iter().map(|l| (l.key.as_str(), l)).collect();
        Ok(t.cells
            .iter()
            .filter_map(|c| by_key.get(c.level.as_str()).map(|l| (*l, c)))
            .filter(|(l, _)| l.rank <= target.rank)
            .flat_map(|(l, c)| c.expectations.iter().map(move |e| (l, e)))
            .collect())
    }
    /// Number of expectations in the whole matrix.
    pub fn expectation_count(&self) -> usize {
        self.tracks
            .iter()
            .flat_map(|t| &t.cells)
            .map(|c| c.expectations.len())
            .sum()
    }

    /// The unchecked form of this matrix (for editing, or writing back to a file).
    pub fn to_draft(&self) -> MatrixDraft {
        let res = |rs: &[Resource]| {
            rs.iter()
                .map(|r| ResourceDraft {
                    title: r.title.clone(),
                    url: r.url.clone(),
                    kind: Some(r.kind.as_str().to_owned()),
                    description: r.description.clone(),
                })
                .collect()
        };
        MatrixDraft {
            key: self.key.to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            levels: self
                .levels
                .iter()
                .map(|l| LevelDraft {
                    key: l.key.to_string(),
                    name: l.name.clone(),
                    rank: Some(l.rank.get()),
                    description: l.description.clone(),
                })
                .collect(),
            competencies: self
                .competencies
                .iter()
                .map(|c| CompetencyDraft {
                    key: c.key.to_string(),
                    name: c.name.clone(),
                    description: c.description.clone(),
                })
                .collect(),
            tracks: self
                .tracks
                .iter()
                .map(|t| TrackDraft {
                    key: t.key.to_string(),
                    name: t.name.clone(),
                    description: t.description.clone(),
                    cells: t
                        .cells
                        .iter()
                        .map(|c| CellDraft {
                            level: c.level.to_string(),
                            titles: c.titles.clone(),
                            expectations: c
                                .expectations
                                .iter()
                                .map(|e| ExpectationDraft {
                                    key: e.key.to_string(),
                                    name: e.name.clone(),
                                    description: e.description.clone(),
                                    competency: e.competency.as_ref().map(ToString::to_string),
                                    resources: res(&e.resources),
                                })
                                .collect(),
                            resources: res(&c.resources),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Where a matrix version stands. A published version never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Draft,
    Published,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "draft" => Ok(Self::Draft),
            "published" => Ok(Self::Published),
            _ => Err(DomainError::invalid(
                "version status",
                format!("`{s}` is not draft or published"),
            )),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn small() -> MatrixDraft {
        let exp = |k: &str| ExpectationDraft {
            key: k.into(),
            name: k.replace('-', " "),
            ..Default::default()
        };
        MatrixDraft {
            key: "eng".into(),
            name: "Engineering".into(),
            levels: vec![
                LevelDraft {
                    key: "l1".into(),
                    name: "One".into(),
                    rank: Some(1),
                    ..Default::default()
                },
                LevelDraft {
                    key: "l2".into(),
                    name: "Two".into(),
                    rank: Some(2),
                    ..Default::default()
                },
                LevelDraft {
                    key: "l3".into(),
                    name: "Three".into(),
                    rank: Some(3),
                    ..Default::default()
                },
            ],
            competencies: vec![CompetencyDraft {
                key: "tech".into(),
                name: "Technical".into(),
                description: None,
            }],
            tracks: vec![TrackDraft {
                key: "dev".into(),
                name: "Developer".into(),
                description: None,
                cells: vec![
                    CellDraft {
                        level: "l2".into(),
                        titles: vec!["Developer".into()],
                        expectations: vec![exp("apis")],
                        resources: vec![],
                    },
                    CellDraft {
                        level: "l1".into(),
                        titles: vec!["Intern".into(), "Junior".into()],
                        expectations: vec![exp("syntax"), exp("data-structures")],
                        resources: vec![],
                    },
                    CellDraft {
                        level: "l3".into(),
                        titles: vec!["Senior".into()],
                        expectations: vec![exp("threads")],
                        resources: vec![],
                    },
                ],
            }],
            ..Default::default()
        }
    }

    fn violations(d: &MatrixDraft) -> Vec<String> {
        match Matrix::new(d) {
            Err(DomainError::Violations(v)) => v.iter().map(ToString::to_string).collect(),
            other => panic!("expected violations, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_draft_builds_and_cells_are_ordered_by_rank() {
        let m = Matrix::new(&small()).unwrap();
        let levels: Vec<_> = m
            .track("dev")
            .unwrap()
            .cells
            .iter()
            .map(|c| c.level.as_str())
            .collect();
        assert_eq!(levels, ["l1", "l2", "l3"]);
        assert_eq!(m.expectation_count(), 4);
        assert_eq!(m.next_level("l1").unwrap().key.as_str(), "l2");
        assert!(m.next_level("l3").is_none());
    }

    #[test]
    fn expectations_are_cumulative() {
        let m = Matrix::new(&small()).unwrap();
        let keys = |lvl| -> Vec<String> {
            m.expectations_up_to("dev", lvl)
                .unwrap()
                .iter()
                .map(|(_, e)| e.key.to_string())
                .collect()
        };
        assert_eq!(keys("l1"), ["syntax", "data-structures"]);
        assert_eq!(keys("l2"), ["syntax", "data-structures", "apis"]);
        assert_eq!(keys("l3"), ["syntax", "data-structures", "apis", "threads"]);
        assert!(m.expectations_up_to("nope", "l1").is_err());
    }

    #[test]
    fn every_rule_is_reported_at_once_with_its_path() {
        let mut d = small();
        d.levels[2].rank = Some(21);
        d.levels.push(LevelDraft {
            key: "l1".into(),
            name: "Dup".into(),
            rank: Some(2),
            ..Default::default()
        });
        d.tracks[0].cells[0].level = "l9".into();
        d.tracks[0].cells[1].expectations[1].key = "syntax".into();
        d.tracks[0].cells[1].expectations[0].competency = Some("people".into());
        d.tracks.push(TrackDraft {
            key: "dev".into(),
            name: " ".into(),
            ..Default::default()
        });
        let v = violations(&d);
        let expected = [
            "levels[2].rank: 21 is out of range: ranks go from 1 to 20",
            "levels[3].key: duplicate level key `l1` (first used by levels[0])",
            "levels[3].rank: duplicate rank 2 (first used by levels[1]): every level needs its own rank",
            "tracks[0].cells[0].level: unknown level `l9`: the matrix defines l1, l2, l3",
            "tracks[0].cells[1].expectations[0].competency: unknown competency `people`: add it under `competencies` or remove it",
            "tracks[0].cells[1].expectations[1].key: duplicate expectation key `syntax` (first used at tracks[0].cells[1].expectations[0]): expectation keys are unique in a matrix",
            "tracks[1].key: duplicate track key `dev` (first used by tracks[0])",
            "tracks[1].name: must not be empty",
        ];
        for e in expected {
            assert!(v.contains(&e.to_string()), "missing `{e}` in {v:#?}");
        }
        assert_eq!(v.len(), expected.len(), "{v:#?}");
    }

    #[test]
    fn empty_matrix_and_bad_resources_are_rejected() {
        let v = violations(&MatrixDraft {
            key: "Bad Key".into(),
            ..Default::default()
        });
        assert!(
            v.iter()
                .any(|m| m.starts_with("key: `Bad Key` may only contain"))
        );
        assert!(v.contains(&"levels: a matrix needs at least one level".to_string()));
        assert!(v.contains(&"tracks: a matrix needs at least one track".to_string()));

        let mut d = small();
        d.tracks[0].cells[0].resources.push(ResourceDraft {
            title: "x".into(),
            url: Some("ftp://example.com".into()),
            kind: Some("podcast".into()),
            description: None,
        });
        let v = violations(&d);
        assert!(
            v.iter().any(|m| m.starts_with(
                "tracks[0].cells[0].resources[0].url: `ftp://example.com` is not a web link"
            )),
            "{v:?}"
        );
        assert!(
            v.iter().any(|m| m.starts_with(
                "tracks[0].cells[0].resources[0].kind: `podcast` is not one of course"
            )),
            "{v:?}"
        );
    }

    #[test]
    fn draft_round_trip_is_identity() {
        let m = Matrix::new(&small()).unwrap();
        let again = Matrix::new(&m.to_draft()).unwrap();
        assert_eq!(m, again);
    }

    #[test]
    fn ranks_default_to_list_order() {
        let mut d = small();
        for l in &mut d.levels {
            l.rank = None;
        }
        let m = Matrix::new(&d).unwrap();
        let ranks: Vec<u32> = m.levels().iter().map(|l| l.rank.get()).collect();
        assert_eq!(ranks, [1, 2, 3]);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn levels_come_out_strictly_ordered(ranks in proptest::collection::hash_set(1u32..=20, 1..10)) {
                let mut d = small();
                d.tracks[0].cells.clear();
                d.levels = ranks.iter().enumerate().map(|(i, r)| LevelDraft {
                    key: format!("k{i}"), name: format!("L{i}"), rank: Some(*r), description: None,
                }).collect();
                let m = Matrix::new(&d).unwrap();
                prop_assert!(m.levels().windows(2).all(|w| w[0].rank < w[1].rank));
                prop_assert_eq!(m.levels().len(), ranks.len());
            }

            #[test]
            fn any_rank_outside_1_to_20_is_rejected(r in prop_oneof![Just(0u32), 21u32..1000]) {
                prop_assert!(LevelRank::new(r).is_err());
            }
        }
    }
}

/// What is known about one stored version of a matrix, besides its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub id: crate::VersionId,
    pub matrix_id: crate::MatrixId,
    pub matrix_key: Key,
    /// `None` for the draft.
    pub number: Option<u32>,
    pub status: VersionStatus,
    pub note: Option<String>,
    pub created_by: Option<crate::PersonId>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    pub published_by: Option<crate::PersonId>,
    /// How many times the draft was edited; an edit names the revision it read.
    pub revision: u32,
}

impl VersionInfo {
    /// `v3`, or `draft`.
    pub fn label(&self) -> String {
        match self.number {
            Some(n) => format!("v{n}"),
            None => "draft".into(),
        }
    }
}

/// A matrix as listed: its key and name, and its newest published version if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixSummary {
    pub id: crate::MatrixId,
    pub key: Key,
    pub name: String,
    pub latest_version: Option<u32>,
    pub has_draft: bool,
    pub tracks: usize,
    pub levels: usize,
    pub expectations: usize,
}
