//! Leveling matrices: levels crossed with tracks. Each track has its own ladder (the levels it
//! uses, possibly branching from another track's ladder at a level and sharing the trunk below
//! it); each cell names the titles held at one rung of a track and the criteria it expects.
//!
//! A criterion ([`Expectation`]) is defined once, by its key, and may be expected by several
//! cells: a later mention of the same key is a reference. How levels are written is the matrix's
//! [`LevelStyle`]: cumulative (holding level N means meeting the criteria of every rung up to N of
//! the track) or restated (each level's cell describes the whole role).
//!
//! [`MatrixDraft`] is unchecked input (its order mirrors the file it came from, so a violation's
//! [`Path`] points back into that file). [`Matrix::new`] checks every rule at once and is the only
//! way to get a [`Matrix`].

use crate::text::{Key, required_text};
use crate::{DomainError, Path, Violation};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
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

/// How a matrix writes its levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LevelStyle {
    /// Each level adds to the ones below it: holding level N of a track means meeting the
    /// criteria of every rung of its ladder up to N.
    #[default]
    Cumulative,
    /// Each level describes the whole role: holding level N means meeting the criteria of that
    /// level's cell.
    Restated,
}

impl LevelStyle {
    pub const ALL: [LevelStyle; 2] = [Self::Cumulative, Self::Restated];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cumulative => "cumulative",
            Self::Restated => "restated",
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "level style",
                    format!("`{s}` is not one of cumulative, restated"),
                )
            })
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
    /// Two levels may share a rank when they are rungs of different branches.
    pub rank: LevelRank,
    pub description: Option<String>,
}

impl Level {
    /// A column or section header: "Level 2: Intermediate", or just "Level 2" when that is the
    /// level's name.
    pub fn header(&self) -> String {
        let plain = format!("Level {}", self.rank);
        if self.name.eq_ignore_ascii_case(&plain) {
            plain
        } else {
            format!("{plain}: {}", self.name)
        }
    }
}

/// A group of competencies (craft, people, impact...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    pub key: Key,
    pub name: String,
    pub description: Option<String>,
}

/// A group of criteria across levels (communication, technical skill...), optionally in a theme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Competency {
    pub key: Key,
    pub name: String,
    pub description: Option<String>,
    pub theme: Option<Key>,
}

/// One criterion, such as "Basic syntax". Its key is stable across versions, and it is defined
/// once in a matrix however many cells expect it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    pub key: Key,
    /// The criterion's text: a short name or up to [`limits::CRITERION_LEN`] characters of
    /// Markdown.
    pub name: String,
    /// An optional short title, shown where the text would be too long.
    pub title: Option<String>,
    pub description: Option<String>,
    pub competency: Option<Key>,
    /// Examples of the criterion in practice.
    pub examples: Vec<String>,
    pub resources: Vec<Resource>,
}

impl Expectation {
    /// What a person reads: the title, or the text when it is short (its first line, cut at 80
    /// characters otherwise).
    pub fn label(&self) -> String {
        if let Some(t) = &self.title {
            return t.clone();
        }
        let first = self.name.lines().next().unwrap_or("").trim();
        let first = first.trim_start_matches(['#', '-', '*']).trim();
        if first.chars().count() <= 80 && self.name.lines().count() <= 1 {
            first.to_owned()
        } else {
            let cut: String = first.chars().take(79).collect();
            format!("{}…", cut.trim_end())
        }
    }
}

/// A track at one level: the titles held there and the criteria expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub level: Key,
    pub titles: Vec<String>,
    /// A short summary of the rung.
    pub summary: Option<String>,
    pub expectations: Vec<Expectation>,
    pub resources: Vec<Resource>,
}

/// Where a track leaves another: it shares that track's rungs up to and including `level`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    pub track: Key,
    pub level: Key,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    pub key: Key,
    pub name: String,
    pub description: Option<String>,
    /// The track's ladder, lowest rung first: the shared trunk (for a branch) then its own
    /// levels. One level per rank.
    pub ladder: Vec<Key>,
    pub branches_from: Option<Branch>,
    /// The cells of the track's own rungs (a branch's trunk cells are its parent's), ordered by
    /// rank; a rung may have no cell.
    pub cells: Vec<Cell>,
}

impl Track {
    /// The track's `levels` as a file writes them: its own levels, or `None` when it is not a
    /// branch and has every level of the matrix (the default).
    pub fn levels_as_written(&self, m: &Matrix) -> Option<Vec<Key>> {
        let own = self.own_levels(m);
        let every =
            own.len() == m.levels.len() && own.iter().zip(&m.levels).all(|(k, l)| *k == l.key);
        (self.branches_from.is_some() || !every).then_some(own)
    }

    /// The levels this track owns (its ladder without the shared trunk).
    pub fn own_levels(&self, m: &Matrix) -> Vec<Key> {
        let trunk = self
            .branches_from
            .as_ref()
            .and_then(|b| m.level(b.level.as_str()))
            .map(|l| l.rank);
        self.ladder
            .iter()
            .filter(|k| trunk.is_none_or(|r| m.level(k.as_str()).is_some_and(|l| l.rank > r)))
            .cloned()
            .collect()
    }
}

/// Unchecked matrix input, as read from a file or built by an editor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatrixDraft {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// `None`: cumulative.
    pub level_style: Option<String>,
    pub levels: Vec<LevelDraft>,
    pub themes: Vec<ThemeDraft>,
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
pub struct ThemeDraft {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompetencyDraft {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub theme: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BranchDraft {
    pub track: String,
    pub level: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackDraft {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// The track's own levels. `None`: every level of the matrix (or, for a branch, the levels
    /// of its cells).
    pub levels: Option<Vec<String>>,
    pub branches_from: Option<BranchDraft>,
    pub cells: Vec<CellDraft>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellDraft {
    pub level: String,
    pub titles: Vec<String>,
    pub summary: Option<String>,
    pub expectations: Vec<ExpectationDraft>,
    pub resources: Vec<ResourceDraft>,
}

/// A criterion's definition, or (with nothing but its key) a reference to one defined elsewhere
/// in the matrix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectationDraft {
    pub key: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub competency: Option<String>,
    pub examples: Vec<String>,
    pub resources: Vec<ResourceDraft>,
}

impl ExpectationDraft {
    /// A reference to a criterion defined elsewhere.
    pub fn reference(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            ..Default::default()
        }
    }
    /// Nothing but the key.
    pub fn is_reference(&self) -> bool {
        self.name.trim().is_empty()
            && self.title.is_none()
            && self.description.is_none()
            && self.competency.is_none()
            && self.examples.is_empty()
            && self.resources.is_empty()
    }
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
    level_style: LevelStyle,
    levels: Vec<Level>,
    themes: Vec<Theme>,
    competencies: Vec<Competency>,
    tracks: Vec<Track>,
}

/// Limits that keep a matrix readable and bounded.
pub mod limits {
    pub const MAX_LEVELS: usize = 40;
    pub const MAX_TRACKS: usize = 200;
    pub const MAX_EXPECTATIONS_PER_CELL: usize = 200;
    pub const MAX_TITLES_PER_CELL: usize = 10;
    pub const MAX_RESOURCES: usize = 100;
    pub const MAX_EXAMPLES: usize = 20;
    pub const NAME_LEN: usize = 200;
    /// A criterion's text, an example, a cell's summary: Markdown.
    pub const CRITERION_LEN: usize = 2_000;
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
    fn text_of(&mut self, path: Path, field: &'static str, s: &str, max: usize) -> String {
        match required_text(field, s, max) {
            Ok(t) => t,
            Err(e) => {
                self.push_err(path, e);
                String::new()
            }
        }
    }
    fn text(&mut self, path: Path, field: &'static str, s: &str) -> String {
        self.text_of(path, field, s, limits::NAME_LEN)
    }
    fn optional(&mut self, path: Path, s: &Option<String>, max: usize) -> Option<String> {
        let t = s.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
        if t.chars().count() > max {
            self.push(path, format!("is longer than {max} characters"));
        }
        Some(t.to_owned())
    }
    fn description(&mut self, path: Path, s: &Option<String>) -> Option<String> {
        self.optional(path, s, limits::DESCRIPTION_LEN)
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
    /// A criterion's definition, checked.
    fn expectation(
        &mut self,
        ep: &Path,
        e: &ExpectationDraft,
        comp_keys: &HashSet<String>,
    ) -> Option<Expectation> {
        let key = self.key(ep.field("key"), &e.key);
        let name = self.text_of(ep.field("name"), "name", &e.name, limits::CRITERION_LEN);
        let title = self.optional(ep.field("title"), &e.title, limits::NAME_LEN);
        let description = self.description(ep.field("description"), &e.description);
        let competency = match e.competency.as_deref() {
            None => None,
            Some(comp) if comp_keys.contains(comp) => Key::parse(comp).ok(),
            Some(comp) => {
                self.push(
                    ep.field("competency"),
                    format!(
                        "unknown competency `{comp}`: add it under `competencies` or remove it"
                    ),
                );
                None
            }
        };
        self.max_len(
            ep.field("examples"),
            &e.examples,
            limits::MAX_EXAMPLES,
            "examples",
        );
        let examples = e
            .examples
            .iter()
            .enumerate()
            .map(|(i, x)| {
                self.text_of(
                    ep.field("examples").index(i),
                    "example",
                    x,
                    limits::CRITERION_LEN,
                )
            })
            .collect();
        let resources = self.resources(ep.field("resources"), &e.resources);
        key.map(|key| Expectation {
            key,
            name,
            title,
            description,
            competency,
            examples,
            resources,
        })
    }
}

/// Works out each track's ladder (level keys, lowest first), following branches to their
/// trunk, and reports what is wrong with it.
struct Ladders<'a> {
    draft: &'a MatrixDraft,
    rank_of: &'a HashMap<&'a str, LevelRank>,
    levels: &'a [Level],
    index: HashMap<&'a str, usize>,
    tp: Path,
    out: Vec<Option<Option<Vec<String>>>>,
    visiting: Vec<usize>,
}

impl Ladders<'_> {
    fn of(&mut self, c: &mut Checker, ti: usize) -> Option<Vec<String>> {
        if let Some(done) = &self.out[ti] {
            return done.clone();
        }
        let t = &self.draft.tracks[ti];
        let p = self.tp.index(ti);
        if self.visiting.contains(&ti) {
            c.push(
                p.field("branches_from").field("track"),
                format!("track `{}` branches from itself through other tracks: a branch needs a trunk that does not lead back to it", t.key),
            );
            return None;
        }
        self.visiting.push(ti);
        // The trunk: the parent's ladder up to and including the branch level.
        let mut trunk: Vec<String> = Vec::new();
        let mut branch_rank = None;
        let mut ok = true;
        if let Some(b) = &t.branches_from {
            let bp = p.field("branches_from");
            match self.index.get(b.track.as_str()) {
                None => {
                    c.push(bp.field("track"), format!("unknown track `{}`", b.track));
                    ok = false;
                }
                Some(&pi) if pi == ti => {
                    c.push(
                        bp.field("track"),
                        format!("track `{}` cannot branch from itself", t.key),
                    );
                    ok = false;
                }
                Some(&pi) => match self.of(c, pi) {
                    None => ok = false,
                    Some(parent) => match parent.iter().position(|k| *k == b.level) {
                        None => {
                            c.push(
                                bp.field("level"),
                                format!(
                                    "track `{}` has no level `{}` to branch from: its ladder is {}",
                                    b.track,
                                    b.level,
                                    parent.join(", ")
                                ),
                            );
                            ok = false;
                        }
                        Some(at) => {
                            trunk = parent[..=at].to_vec();
                            branch_rank = self.rank_of.get(b.level.as_str()).copied();
                        }
                    },
                },
            }
        }
        self.visiting.pop();
        let own: Vec<String> = match &t.levels {
            Some(list) => {
                let mut seen = HashSet::new();
                for (i, k) in list.iter().enumerate() {
                    if !self.rank_of.contains_key(k.as_str()) {
                        c.push(
                            p.field("levels").index(i),
                            format!(
                                "unknown level `{k}`: the matrix defines {}",
                                self.levels
                                    .iter()
                                    .map(|l| l.key.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                        ok = false;
                    } else if !seen.insert(k.as_str()) {
                        c.push(
                            p.field("levels").index(i),
                            format!("level `{k}` is listed twice"),
                        );
                        ok = false;
                    }
                }
                list.clone()
            }
            None if t.branches_from.is_some() => t
                .cells
                .iter()
                .map(|cell| cell.level.clone())
                .filter(|k| self.rank_of.contains_key(k.as_str()) && !trunk.contains(k))
                .collect(),
            None => {
                let mut all: Vec<String> = Vec::new();
                for l in self.levels {
                    if !all.contains(&l.key.to_string()) {
                        all.push(l.key.to_string());
                    }
                }
                all
            }
        };
        if let Some(br) = branch_rank {
            for (i, k) in own.iter().enumerate() {
                if self.rank_of.get(k.as_str()).is_some_and(|r| *r <= br) && !trunk.contains(k) {
                    let at = match &t.levels {
                        Some(_) => p.field("levels").index(i),
                        None => p.field("levels"),
                    };
                    c.push(
                        at,
                        format!(
                            "level `{k}` is not above the branch point `{}` (rank {br}): a branch's own levels rank above the rungs it shares",
                            t.branches_from.as_ref().map_or("", |b| b.level.as_str())
                        ),
                    );
                    ok = false;
                }
            }
        }
        let mut own_sorted: Vec<String> = own.into_iter().filter(|k| !trunk.contains(k)).collect();
        own_sorted.sort_by_key(|k| self.rank_of.get(k.as_str()).copied());
        let mut ladder = trunk;
        ladder.extend(own_sorted);
        let mut at_rank: std::collections::BTreeMap<LevelRank, Vec<&str>> = Default::default();
        for k in &ladder {
            if let Some(r) = self.rank_of.get(k.as_str()) {
                at_rank.entry(*r).or_default().push(k);
            }
        }
        for (r, keys) in at_rank.iter().filter(|(_, k)| k.len() > 1) {
            let hint = if t.levels.is_none() {
                "; list the track's own levels under `levels`"
            } else {
                ""
            };
            c.push(
                p.field("levels"),
                format!(
                    "track `{}` would hold {} levels at rank {r} (`{}`): a ladder has one level per rank{hint}",
                    t.key,
                    keys.len(),
                    keys.join("`, `")
                ),
            );
            ok = false;
        }
        if ladder.is_empty() && ok {
            c.push(p.field("levels"), "a track needs at least one level");
            ok = false;
        }
        let result = ok.then_some(ladder);
        self.out[ti] = Some(result.clone());
        result
    }
}

fn ladders(
    c: &mut Checker,
    draft: &MatrixDraft,
    rank_of: &HashMap<&str, LevelRank>,
    levels: &[Level],
) -> Vec<Option<Vec<String>>> {
    let mut l = Ladders {
        draft,
        rank_of,
        levels,
        index: draft
            .tracks
            .iter()
            .enumerate()
            .rev()
            .map(|(i, t)| (t.key.as_str(), i))
            .collect(),
        tp: Path::root().field("tracks"),
        out: vec![None; draft.tracks.len()],
        visiting: Vec::new(),
    };
    for ti in 0..draft.tracks.len() {
        l.of(c, ti);
    }
    l.out.into_iter().map(Option::flatten).collect()
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
        let level_style = match draft.level_style.as_deref().map(str::trim) {
            None | Some("") => LevelStyle::Cumulative,
            Some(s) => LevelStyle::parse(s)
                .map_err(|e| c.push_err(root.field("level_style"), e))
                .unwrap_or_default(),
        };

        // Levels: unique keys, ranks in range; kept sorted by rank (then file order).
        let lp = root.field("levels");
        if draft.levels.is_empty() {
            c.push(lp.clone(), "a matrix needs at least one level");
        }
        c.max_len(lp.clone(), &draft.levels, limits::MAX_LEVELS, "levels");
        let mut levels = Vec::new();
        let mut level_keys: HashMap<String, usize> = HashMap::new();
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

        // Themes, then competencies (which may name a theme).
        let thp = root.field("themes");
        let mut themes = Vec::new();
        let mut theme_keys = HashSet::new();
        for (i, th) in draft.themes.iter().enumerate() {
            let p = thp.index(i);
            if !theme_keys.insert(th.key.clone()) {
                c.push(p.field("key"), format!("duplicate theme key `{}`", th.key));
            }
            let k = c.key(p.field("key"), &th.key);
            let name = c.text(p.field("name"), "name", &th.name);
            let description = c.description(p.field("description"), &th.description);
            if let Some(key) = k {
                themes.push(Theme {
                    key,
                    name,
                    description,
                });
            }
        }
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
            let theme = match comp.theme.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(t) if theme_keys.contains(t) => Key::parse(t).ok(),
                Some(t) => {
                    c.push(
                        p.field("theme"),
                        format!("unknown theme `{t}`: add it under `themes` or remove it"),
                    );
                    None
                }
            };
            if let Some(key) = k {
                competencies.push(Competency {
                    key,
                    name,
                    description,
                    theme,
                });
            }
        }

        // Criteria: each defined once (a repeated definition must say the same), referred to by
        // key anywhere else.
        let tp = root.field("tracks");
        let mut definitions: HashMap<String, (Path, &ExpectationDraft, Option<Expectation>)> =
            HashMap::new();
        for (ti, t) in draft.tracks.iter().enumerate() {
            for (ci, cell) in t.cells.iter().enumerate() {
                let mut in_cell = HashSet::new();
                for (ei, e) in cell.expectations.iter().enumerate() {
                    if e.is_reference() || !in_cell.insert(e.key.as_str()) {
                        continue;
                    }
                    let ep = tp
                        .index(ti)
                        .field("cells")
                        .index(ci)
                        .field("expectations")
                        .index(ei);
                    match definitions.get(&e.key) {
                        Some((first, d, _)) => {
                            if !same_definition(d, e) {
                                c.push(ep.field("key"), format!("criterion `{}` is defined twice with different content (first at {first}): define it once and refer to it elsewhere by its key alone", e.key));
                            }
                        }
                        None => {
                            let checked = c.expectation(&ep, e, &comp_keys);
                            definitions.insert(e.key.clone(), (ep, e, checked));
                        }
                    }
                }
            }
        }

        // Tracks: ladders, then cells.
        if draft.tracks.is_empty() {
            c.push(tp.clone(), "a matrix needs at least one track");
        }
        c.max_len(tp.clone(), &draft.tracks, limits::MAX_TRACKS, "tracks");
        let ladders = ladders(&mut c, draft, &rank_of, &levels);
        let mut tracks = Vec::new();
        let mut track_keys: HashMap<String, usize> = HashMap::new();
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
            let ladder = ladders[ti].clone();
            let trunk: Vec<String> = match (&t.branches_from, &ladder) {
                (Some(b), Some(l)) => l
                    .iter()
                    .position(|k| *k == b.level)
                    .map(|at| l[..=at].to_vec())
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
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
                } else if trunk.contains(&cell.level) {
                    let parent = t.branches_from.as_ref().map_or("", |b| b.track.as_str());
                    c.push(cp.field("level"), format!("level `{}` is on the trunk that track `{}` shares with `{parent}`: its cell belongs to `{parent}`", cell.level, t.key));
                } else if let Some(l) = &ladder
                    && !l.contains(&cell.level)
                {
                    c.push(
                        cp.field("level"),
                        format!(
                            "track `{}` has no level `{}`: its ladder is {}",
                            t.key,
                            cell.level,
                            l.join(", ")
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
                let summary = c.optional(cp.field("summary"), &cell.summary, limits::CRITERION_LEN);
                c.max_len(
                    cp.field("expectations"),
                    &cell.expectations,
                    limits::MAX_EXPECTATIONS_PER_CELL,
                    "expectations",
                );
                let mut expectations = Vec::new();
                let mut in_cell: HashMap<&str, usize> = HashMap::new();
                for (ei, e) in cell.expectations.iter().enumerate() {
                    let ep = cp.field("expectations").index(ei);
                    if let Some(prev) = in_cell.insert(e.key.as_str(), ei) {
                        c.push(
                            ep.field("key"),
                            format!(
                                "criterion `{}` is listed twice in this cell (first as expectations[{prev}])",
                                e.key
                            ),
                        );
                        continue;
                    }
                    match definitions.get(&e.key) {
                        Some((_, _, Some(def))) => expectations.push(def.clone()),
                        Some((_, _, None)) => {}
                        None => {
                            c.key(ep.field("key"), &e.key);
                            if Key::parse(&e.key).is_ok() {
                                c.push(ep.field("name"), format!("criterion `{}` is not defined anywhere: give it its text here, or define it in another cell", e.key));
                            }
                        }
                    }
                }
                let resources = c.resources(cp.field("resources"), &cell.resources);
                if let (Some(level), Some(_)) = (Key::parse(&cell.level).ok(), rank) {
                    cells.push((
                        rank,
                        Cell {
                            level,
                            titles,
                            summary,
                            expectations,
                            resources,
                        },
                    ));
                }
            }
            cells.sort_by_key(|(rank, _)| *rank);
            let branches_from = t.branches_from.as_ref().and_then(|b| {
                Some(Branch {
                    track: Key::parse(&b.track).ok()?,
                    level: Key::parse(&b.level).ok()?,
                })
            });
            if let (Some(key), Some(ladder)) = (tkey, ladder) {
                tracks.push(Track {
                    key,
                    name: tname,
                    description: tdesc,
                    ladder: ladder.iter().filter_map(|k| Key::parse(k).ok()).collect(),
                    branches_from,
                    cells: cells.into_iter().map(|(_, cell)| cell).collect(),
                });
            }
        }

        match (c.violations.is_empty(), key) {
            (true, Some(key)) => Ok(Self {
                key,
                name,
                description,
                level_style,
                levels,
                themes,
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
    pub fn level_style(&self) -> LevelStyle {
        self.level_style
    }
    /// Levels, lowest rank first.
    pub fn levels(&self) -> &[Level] {
        &self.levels
    }
    pub fn themes(&self) -> &[Theme] {
        &self.themes
    }
    pub fn competencies(&self) -> &[Competency] {
        &self.competencies
    }
    pub fn competency(&self, key: &str) -> Option<&Competency> {
        self.competencies.iter().find(|c| c.key.as_str() == key)
    }
    /// "Theme / Competency" (or the competency alone) of a criterion, when it has one.
    pub fn competency_label(&self, e: &Expectation) -> Option<String> {
        let c = self.competency(e.competency.as_ref()?.as_str())?;
        Some(
            match c.theme.as_ref().and_then(|t| self.theme(t.as_str())) {
                Some(t) => format!("{} / {}", t.name, c.name),
                None => c.name.clone(),
            },
        )
    }
    pub fn theme(&self, key: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.key.as_str() == key)
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
    /// The levels of a track's ladder, lowest first (empty for an unknown track).
    pub fn ladder(&self, track: &str) -> Vec<&Level> {
        self.track(track)
            .map(|t| {
                t.ladder
                    .iter()
                    .filter_map(|k| self.level(k.as_str()))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Is `level` a rung of `track`?
    pub fn has_position(&self, track: &str, level: &str) -> bool {
        self.track(track)
            .is_some_and(|t| t.ladder.iter().any(|k| k.as_str() == level))
    }
    /// Checks that `track` exists and has `level` on its ladder, with an error that names what
    /// there is.
    pub fn check_position(&self, track: &str, level: &str) -> Result<(), DomainError> {
        let Some(t) = self.track(track) else {
            let known: Vec<&str> = self.tracks.iter().map(|t| t.key.as_str()).collect();
            return Err(DomainError::invalid(
                "track",
                format!(
                    "matrix `{}` has no track `{track}`: its tracks are {}",
                    self.key,
                    known.join(", ")
                ),
            ));
        };
        if t.ladder.iter().any(|k| k.as_str() == level) {
            return Ok(());
        }
        let rungs: Vec<String> = self
            .ladder(track)
            .iter()
            .map(|l| format!("{} ({})", l.key, l.name))
            .collect();
        Err(DomainError::invalid(
            "level",
            format!(
                "track `{track}` has no level `{level}`: its levels are {}",
                rungs.join(", ")
            ),
        ))
    }
    /// The next rung of `track`'s ladder above `level`, if any.
    pub fn next_level(&self, track: &str, level: &str) -> Option<&Level> {
        let ladder = self.ladder(track);
        let at = ladder.iter().position(|l| l.key.as_str() == level)?;
        ladder.get(at + 1).copied()
    }
    /// The cell of `track` at `level`: its own, or for a rung of the shared trunk, the cell of
    /// the track it branches from.
    pub fn cell(&self, track: &str, level: &str) -> Option<&Cell> {
        let mut t = self.track(track)?;
        for _ in 0..=self.tracks.len() {
            if let Some(c) = t.cells.iter().find(|c| c.level.as_str() == level) {
                return Some(c);
            }
            let b = t.branches_from.as_ref()?;
            let (br, lr) = (self.level(b.level.as_str())?, self.level(level)?);
            if lr.rank > br.rank {
                return None;
            }
            t = self.track(b.track.as_str())?;
        }
        None
    }
    /// The rungs of `track` up to and including `level`, each with its cell when it has one.
    pub fn rungs_up_to(&self, track: &str, level: &str) -> Vec<(&Level, Option<&Cell>)> {
        let ladder = self.ladder(track);
        let Some(at) = ladder.iter().position(|l| l.key.as_str() == level) else {
            return Vec::new();
        };
        ladder[..=at]
            .iter()
            .map(|l| (*l, self.cell(track, l.key.as_str())))
            .collect()
    }
    /// What holding `level` of `track` requires, each criterion once with the rung that
    /// introduces it, lowest first: the criteria of every rung up to it (cumulative) or of that
    /// rung's cell (restated).
    pub fn expectations_for(
        &self,
        track: &str,
        level: &str,
    ) -> Result<Vec<(&Level, &Expectation)>, DomainError> {
        self.check_position(track, level)?;
        let rungs = self.rungs_up_to(track, level);
        let rungs: Vec<_> = match self.level_style {
            LevelStyle::Cumulative => rungs,
            LevelStyle::Restated => rungs.into_iter().last().into_iter().collect(),
        };
        let mut seen = HashSet::new();
        Ok(rungs
            .into_iter()
            .flat_map(|(l, c)| {
                c.into_iter()
                    .flat_map(move |c| c.expectations.iter().map(move |e| (l, e)))
            })
            .filter(|(_, e)| seen.insert(e.key.as_str()))
            .collect())
    }
    /// Every criterion once, in matrix order (first mention).
    pub fn criteria(&self) -> Vec<&Expectation> {
        let mut seen = HashSet::new();
        self.tracks
            .iter()
            .flat_map(|t| &t.cells)
            .flat_map(|c| &c.expectations)
            .filter(|e| seen.insert(e.key.as_str()))
            .collect()
    }
    pub fn criterion(&self, key: &str) -> Option<&Expectation> {
        self.tracks
            .iter()
            .flat_map(|t| &t.cells)
            .flat_map(|c| &c.expectations)
            .find(|e| e.key.as_str() == key)
    }
    /// Number of criteria in the whole matrix (each counted once).
    pub fn expectation_count(&self) -> usize {
        self.criteria().len()
    }
    /// The cells that expect a criterion, as `(track, level)`.
    pub fn places_of(&self, key: &str) -> Vec<(&Track, &Cell)> {
        self.tracks
            .iter()
            .flat_map(|t| t.cells.iter().map(move |c| (t, c)))
            .filter(|(_, c)| c.expectations.iter().any(|e| e.key.as_str() == key))
            .collect()
    }

    /// The unchecked form of this matrix (for editing, or writing back to a file): each
    /// criterion is written in full where it is first mentioned and by key after that.
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
        let mut written: HashSet<&str> = HashSet::new();
        let mut tracks = Vec::new();
        for t in &self.tracks {
            let levels = t
                .levels_as_written(self)
                .map(|l| l.iter().map(ToString::to_string).collect());
            let mut cells = Vec::new();
            for c in &t.cells {
                let mut expectations = Vec::new();
                for e in &c.expectations {
                    if written.insert(e.key.as_str()) {
                        expectations.push(ExpectationDraft {
                            key: e.key.to_string(),
                            name: e.name.clone(),
                            title: e.title.clone(),
                            description: e.description.clone(),
                            competency: e.competency.as_ref().map(ToString::to_string),
                            examples: e.examples.clone(),
                            resources: res(&e.resources),
                        });
                    } else {
                        expectations.push(ExpectationDraft::reference(e.key.to_string()));
                    }
                }
                cells.push(CellDraft {
                    level: c.level.to_string(),
                    titles: c.titles.clone(),
                    summary: c.summary.clone(),
                    expectations,
                    resources: res(&c.resources),
                });
            }
            tracks.push(TrackDraft {
                key: t.key.to_string(),
                name: t.name.clone(),
                description: t.description.clone(),
                levels,
                branches_from: t.branches_from.as_ref().map(|b| BranchDraft {
                    track: b.track.to_string(),
                    level: b.level.to_string(),
                }),
                cells,
            });
        }
        MatrixDraft {
            key: self.key.to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            level_style: match self.level_style {
                LevelStyle::Cumulative => None,
                s => Some(s.as_str().to_owned()),
            },
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
            themes: self
                .themes
                .iter()
                .map(|t| ThemeDraft {
                    key: t.key.to_string(),
                    name: t.name.clone(),
                    description: t.description.clone(),
                })
                .collect(),
            competencies: self
                .competencies
                .iter()
                .map(|c| CompetencyDraft {
                    key: c.key.to_string(),
                    name: c.name.clone(),
                    description: c.description.clone(),
                    theme: c.theme.as_ref().map(ToString::to_string),
                })
                .collect(),
            tracks,
        }
    }
}

/// Two definitions of one criterion say the same (whitespace around the text aside).
fn same_definition(a: &ExpectationDraft, b: &ExpectationDraft) -> bool {
    let t = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    a.name.trim() == b.name.trim()
        && t(&a.title) == t(&b.title)
        && t(&a.description) == t(&b.description)
        && t(&a.competency) == t(&b.competency)
        && a.examples == b.examples
        && a.resources == b.resources
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
                ..Default::default()
            }],
            tracks: vec![TrackDraft {
                key: "dev".into(),
                name: "Developer".into(),
                cells: vec![
                    CellDraft {
                        level: "l2".into(),
                        titles: vec!["Developer".into()],
                        expectations: vec![exp("apis")],
                        ..Default::default()
                    },
                    CellDraft {
                        level: "l1".into(),
                        titles: vec!["Intern".into(), "Junior".into()],
                        expectations: vec![exp("syntax"), exp("data-structures")],
                        ..Default::default()
                    },
                    CellDraft {
                        level: "l3".into(),
                        titles: vec!["Senior".into()],
                        expectations: vec![exp("threads")],
                        ..Default::default()
                    },
                ],
                ..Default::default()
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
        assert_eq!(m.next_level("dev", "l1").unwrap().key.as_str(), "l2");
        assert!(m.next_level("dev", "l3").is_none());
    }

    #[test]
    fn expectations_are_cumulative() {
        let m = Matrix::new(&small()).unwrap();
        let keys = |lvl| -> Vec<String> {
            m.expectations_for("dev", lvl)
                .unwrap()
                .iter()
                .map(|(_, e)| e.key.to_string())
                .collect()
        };
        assert_eq!(keys("l1"), ["syntax", "data-structures"]);
        assert_eq!(keys("l2"), ["syntax", "data-structures", "apis"]);
        assert_eq!(keys("l3"), ["syntax", "data-structures", "apis", "threads"]);
        assert!(m.expectations_for("nope", "l1").is_err());
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
            "tracks[0].levels: track `dev` would hold 2 levels at rank 2 (`l1`, `l2`): a ladder has one level per rank; list the track's own levels under `levels`",
            "tracks[1].levels: track `dev` would hold 2 levels at rank 2 (`l1`, `l2`): a ladder has one level per rank; list the track's own levels under `levels`",
            "tracks[0].cells[0].level: unknown level `l9`: the matrix defines l1, l2, l3",
            "tracks[0].cells[1].expectations[0].competency: unknown competency `people`: add it under `competencies` or remove it",
            "tracks[0].cells[1].expectations[1].key: criterion `syntax` is listed twice in this cell (first as expectations[0])",
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
