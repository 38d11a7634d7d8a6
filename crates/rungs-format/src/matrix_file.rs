//! The matrix file: one serde model read from YAML or JSON and written back to either, and the
//! JSON Schema that documents it (`schema/matrix.schema.json`).
//!
//! Reading checks everything before anything is used: syntax and shape errors come from the
//! parser with their line and column; the matrix rules come from [`Matrix::new`], all at once,
//! each located back in the file through the positions kept by [`At`].

use crate::{At, FileError, FileErrors};
use rungs_domain::matrix::{
    BranchDraft, CellDraft, CompetencyDraft, ExpectationDraft, LevelDraft, Matrix, MatrixDraft,
    ResourceDraft, ThemeDraft, TrackDraft,
};
use rungs_domain::{DomainError, Path, Seg};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The newest version of the file format this build reads and writes. Version 1 files (no
/// ladders, themes, shared criteria, examples, summaries or restated levels) read unchanged, and a
/// matrix that uses none of those is written as version 1.
pub const FORMAT_VERSION: u32 = 2;
/// Larger files are refused before parsing.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

fn format_version() -> u32 {
    1
}

/// A Rungs leveling matrix: levels crossed with career tracks. Each track has its ladder (by
/// default every level; a track may list its own, or branch from another track's ladder and
/// share the rungs below the branch point) and lists, per rung, the titles held there and the
/// criteria expected. A criterion is defined once (key and text) and referred to elsewhere by its
/// key alone. With `level_style: cumulative` (the default) holding level N means meeting the
/// criteria of rungs 1 to N of the track; with `restated`, those of level N's cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Rungs matrix file")]
pub struct MatrixFile {
    /// The version of this file format: 1 or 2 (2 when the file uses ladders, branches, themes,
    /// shared criteria, examples, summaries or restated levels). Defaults to 1.
    #[serde(default = "format_version")]
    #[schemars(range(min = 1, max = 2))]
    pub format_version: u32,
    /// Stable machine key of the matrix, such as `python`: lowercase letters, digits, `-`, `_`.
    pub key: At<String>,
    /// Display name.
    pub name: At<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How levels are written: `cumulative` (each level adds to the ones below it; the default)
    /// or `restated` (each level's cell describes the whole role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_style: Option<LevelStyleFile>,
    /// The levels, lowest first (or in any order, with explicit ranks). Two levels may share a
    /// rank when they belong to different branches (`senior` and `manager-1`, both rank 4).
    pub levels: Vec<At<LevelFile>>,
    /// Optional groups of competencies (craft, people, impact...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<At<ThemeFile>>,
    /// Optional groups of criteria across levels (communication, technical skill...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub competencies: Vec<At<CompetencyFile>>,
    /// The career tracks.
    pub tracks: Vec<At<TrackFile>>,
}

/// How a matrix writes its levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LevelStyleFile {
    /// Each level adds to the ones below it.
    Cumulative,
    /// Each level describes the whole role.
    Restated,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelFile {
    /// Stable key, such as `beginner`.
    pub key: At<String>,
    pub name: At<String>,
    /// Position on the ladder, 1 (lowest) to 20. Defaults to the level's position in the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 20))]
    pub rank: Option<At<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThemeFile {
    pub key: At<String>,
    pub name: At<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompetencyFile {
    pub key: At<String>,
    pub name: At<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The key of one of the matrix's themes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<At<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackFile {
    /// Stable key, such as `python-developer`.
    pub key: At<String>,
    pub name: At<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The keys of the levels this track has (its own rungs, above the branch point for a
    /// branch). Without it: every level of the matrix, or for a branch the levels of its cells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<At<String>>>,
    /// This track branches from another: it shares that track's rungs up to and including
    /// `level` (the trunk, with its cells), then continues with its own levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branches_from: Option<At<BranchFile>>,
    /// One cell per rung of the track's own that has titles or criteria.
    #[serde(default)]
    pub cells: Vec<At<CellFile>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchFile {
    /// The key of the track this one branches from.
    pub track: At<String>,
    /// The last rung shared with it.
    pub level: At<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CellFile {
    /// The key of one of the track's levels.
    pub level: At<String>,
    /// The job titles held at this level of the track (several when a ladder has more titles
    /// than the matrix has levels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub titles: Vec<At<String>>,
    /// A short summary of the rung (Markdown, up to 2,000 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The criteria this rung expects: what it adds to the rungs below (cumulative), or the
    /// whole role (restated).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<At<ExpectationFile>>,
    /// Learning resources for the level as a whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<At<ResourceFile>>,
}

/// A criterion: defined once with its text, and referred to in other cells by its key alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectationFile {
    /// Stable key, unique in the matrix, kept across versions (assessments follow it).
    pub key: At<String>,
    /// The criterion's text: a short name ("Basic syntax") or up to 2,000 characters of
    /// Markdown. Leave it out (with every other field) to refer to a criterion defined in
    /// another cell.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "text")]
    pub name: Option<At<String>>,
    /// A short title, shown where the text would be too long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<At<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The key of one of the matrix's competencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub competency: Option<At<String>>,
    /// Examples of the criterion in practice (Markdown, up to 2,000 characters each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<At<ResourceFile>>,
}

/// What a learning resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKindFile {
    Course,
    Book,
    Article,
    Video,
    Certification,
    Skill,
    Practice,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceFile {
    pub title: At<String>,
    /// An http:// or https:// link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<At<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ResourceKindFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn kind_str(k: ResourceKindFile) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "other".to_owned())
}

fn style_str(k: LevelStyleFile) -> String {
    match k {
        LevelStyleFile::Cumulative => "cumulative",
        LevelStyleFile::Restated => "restated",
    }
    .to_owned()
}

impl MatrixFile {
    /// The unchecked domain form, in file order (so violation paths point back here).
    pub fn to_draft(&self) -> MatrixDraft {
        let res = |rs: &[At<ResourceFile>]| -> Vec<ResourceDraft> {
            rs.iter()
                .map(|r| ResourceDraft {
                    title: r.value.title.value.clone(),
                    url: r.value.url.as_ref().map(|u| u.value.clone()),
                    kind: r.value.kind.map(kind_str),
                    description: r.value.description.clone(),
                })
                .collect()
        };
        let v = |a: &At<String>| a.value.clone();
        MatrixDraft {
            key: v(&self.key),
            name: v(&self.name),
            description: self.description.clone(),
            level_style: self.level_style.map(style_str),
            levels: self
                .levels
                .iter()
                .map(|l| LevelDraft {
                    key: v(&l.value.key),
                    name: v(&l.value.name),
                    rank: l.value.rank.as_ref().map(|r| r.value),
                    description: l.value.description.clone(),
                })
                .collect(),
            themes: self
                .themes
                .iter()
                .map(|t| ThemeDraft {
                    key: v(&t.value.key),
                    name: v(&t.value.name),
                    description: t.value.description.clone(),
                })
                .collect(),
            competencies: self
                .competencies
                .iter()
                .map(|c| CompetencyDraft {
                    key: v(&c.value.key),
                    name: v(&c.value.name),
                    description: c.value.description.clone(),
                    theme: c.value.theme.as_ref().map(v),
                })
                .collect(),
            tracks: self
                .tracks
                .iter()
                .map(|t| TrackDraft {
                    key: v(&t.value.key),
                    name: v(&t.value.name),
                    description: t.value.description.clone(),
                    levels: t.value.levels.as_ref().map(|l| l.iter().map(v).collect()),
                    branches_from: t.value.branches_from.as_ref().map(|b| BranchDraft {
                        track: v(&b.value.track),
                        level: v(&b.value.level),
                    }),
                    cells: t
                        .value
                        .cells
                        .iter()
                        .map(|c| CellDraft {
                            level: v(&c.value.level),
                            titles: c.value.titles.iter().map(v).collect(),
                            summary: c.value.summary.clone(),
                            expectations: c
                                .value
                                .expectations
                                .iter()
                                .map(|e| ExpectationDraft {
                                    key: v(&e.value.key),
                                    name: e.value.name.as_ref().map(v).unwrap_or_default(),
                                    title: e.value.title.as_ref().map(v),
                                    description: e.value.description.clone(),
                                    competency: e.value.competency.as_ref().map(v),
                                    examples: e.value.examples.clone(),
                                    resources: res(&e.value.resources),
                                })
                                .collect(),
                            resources: res(&c.value.resources),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The file form of a valid matrix.
    pub fn from_matrix(m: &Matrix) -> Self {
        let d = m.to_draft();
        let res = |rs: Vec<ResourceDraft>| -> Vec<At<ResourceFile>> {
            rs.into_iter()
                .map(|r| {
                    At::new(ResourceFile {
                        title: At::new(r.title),
                        url: r.url.map(At::new),
                        kind: r.kind.and_then(|k| {
                            serde_json::from_value(serde_json::Value::String(k)).ok()
                        }),
                        description: r.description,
                    })
                })
                .collect()
        };
        let version = if uses_version_2(&d) { 2 } else { 1 };
        Self {
            format_version: version,
            key: At::new(d.key),
            name: At::new(d.name),
            description: d.description,
            level_style: d.level_style.as_deref().map(|s| match s {
                "restated" => LevelStyleFile::Restated,
                _ => LevelStyleFile::Cumulative,
            }),
            levels: d
                .levels
                .into_iter()
                .map(|l| {
                    At::new(LevelFile {
                        key: At::new(l.key),
                        name: At::new(l.name),
                        rank: l.rank.map(At::new),
                        description: l.description,
                    })
                })
                .collect(),
            themes: d
                .themes
                .into_iter()
                .map(|t| {
                    At::new(ThemeFile {
                        key: At::new(t.key),
                        name: At::new(t.name),
                        description: t.description,
                    })
                })
                .collect(),
            competencies: d
                .competencies
                .into_iter()
                .map(|c| {
                    At::new(CompetencyFile {
                        key: At::new(c.key),
                        name: At::new(c.name),
                        description: c.description,
                        theme: c.theme.map(At::new),
                    })
                })
                .collect(),
            tracks: d
                .tracks
                .into_iter()
                .map(|t| {
                    At::new(TrackFile {
                        key: At::new(t.key),
                        name: At::new(t.name),
                        description: t.description,
                        levels: t.levels.map(|l| l.into_iter().map(At::new).collect()),
                        branches_from: t.branches_from.map(|b| {
                            At::new(BranchFile {
                                track: At::new(b.track),
                                level: At::new(b.level),
                            })
                        }),
                        cells: t
                            .cells
                            .into_iter()
                            .map(|c| {
                                At::new(CellFile {
                                    level: At::new(c.level),
                                    titles: c.titles.into_iter().map(At::new).collect(),
                                    summary: c.summary,
                                    expectations: c
                                        .expectations
                                        .into_iter()
                                        .map(|e| {
                                            At::new(ExpectationFile {
                                                key: At::new(e.key),
                                                name: Some(e.name)
                                                    .filter(|n| !n.is_empty())
                                                    .map(At::new),
                                                title: e.title.map(At::new),
                                                description: e.description,
                                                competency: e.competency.map(At::new),
                                                examples: e.examples,
                                                resources: res(e.resources),
                                            })
                                        })
                                        .collect(),
                                    resources: res(c.resources),
                                })
                            })
                            .collect(),
                    })
                })
                .collect(),
        }
    }

    /// Where a violation's path points in the file: the named field when it carries a
    /// position, otherwise the innermost list item that does.
    pub fn locate(&self, path: &Path) -> Option<(u64, u64)> {
        let segs: Vec<Seg> = path.0.clone();
        let field = |i: usize| match segs.get(i) {
            Some(Seg::Field(f)) => Some(*f),
            _ => None,
        };
        let index = |i: usize| match segs.get(i) {
            Some(Seg::Index(n)) => Some(*n),
            _ => None,
        };
        fn resource_pos(
            rs: &[At<ResourceFile>],
            i: Option<usize>,
            f: Option<&str>,
        ) -> Option<(u64, u64)> {
            let r = rs.get(i?)?;
            let inner = match f {
                Some("url") => r.value.url.as_ref().and_then(|u| u.pos),
                Some("title") => r.value.title.pos,
                _ => None,
            };
            inner.or(r.pos)
        }
        match field(0)? {
            "key" => self.key.pos,
            "name" => self.name.pos,
            "levels" => {
                let Some(l) = index(1).and_then(|i| self.levels.get(i)) else {
                    return self.levels.first().and_then(|l| l.pos);
                };
                let inner = match field(2) {
                    Some("key") => l.value.key.pos,
                    Some("name") => l.value.name.pos,
                    Some("rank") => l.value.rank.as_ref().and_then(|r| r.pos),
                    _ => None,
                };
                inner.or(l.pos)
            }
            "themes" => {
                let t = self.themes.get(index(1)?)?;
                let inner = match field(2) {
                    Some("key") => t.value.key.pos,
                    Some("name") => t.value.name.pos,
                    _ => None,
                };
                inner.or(t.pos)
            }
            "competencies" => {
                let c = self.competencies.get(index(1)?)?;
                let inner = match field(2) {
                    Some("key") => c.value.key.pos,
                    Some("name") => c.value.name.pos,
                    Some("theme") => c.value.theme.as_ref().and_then(|t| t.pos),
                    _ => None,
                };
                inner.or(c.pos)
            }
            "tracks" => {
                let Some(t) = index(1).and_then(|i| self.tracks.get(i)) else {
                    return self.tracks.first().and_then(|t| t.pos);
                };
                match field(2) {
                    Some("key") => t.value.key.pos.or(t.pos),
                    Some("name") => t.value.name.pos.or(t.pos),
                    Some("levels") => {
                        let list = t.value.levels.as_ref();
                        index(3)
                            .and_then(|i| list.and_then(|l| l.get(i)))
                            .and_then(|l| l.pos)
                            .or_else(|| list.and_then(|l| l.first()).and_then(|l| l.pos))
                            .or(t.pos)
                    }
                    Some("branches_from") => {
                        let b = t.value.branches_from.as_ref();
                        let inner = match field(3) {
                            Some("track") => b.and_then(|b| b.value.track.pos),
                            Some("level") => b.and_then(|b| b.value.level.pos),
                            _ => None,
                        };
                        inner.or(b.and_then(|b| b.pos)).or(t.pos)
                    }
                    Some("cells") => {
                        let Some(c) = index(3).and_then(|i| t.value.cells.get(i)) else {
                            return t.pos;
                        };
                        let inner = match field(4) {
                            Some("level") => c.value.level.pos,
                            Some("titles") => index(5)
                                .and_then(|i| c.value.titles.get(i))
                                .and_then(|t| t.pos),
                            Some("resources") => {
                                resource_pos(&c.value.resources, index(5), field(6))
                            }
                            Some("expectations") => index(5)
                                .and_then(|i| c.value.expectations.get(i))
                                .and_then(|e| {
                                    let inner = match field(6) {
                                        Some("key") => e.value.key.pos,
                                        Some("name") => e.value.name.as_ref().and_then(|n| n.pos),
                                        Some("title") => e.value.title.as_ref().and_then(|n| n.pos),
                                        Some("competency") => {
                                            e.value.competency.as_ref().and_then(|c| c.pos)
                                        }
                                        Some("resources") => {
                                            resource_pos(&e.value.resources, index(7), field(8))
                                        }
                                        _ => None,
                                    };
                                    inner.or(e.pos)
                                }),
                            _ => None,
                        };
                        inner.or(c.pos)
                    }
                    _ => t.pos,
                }
            }
            _ => None,
        }
    }
}

/// The formats a matrix file can be read from and written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatrixFormat {
    Yaml,
    Json,
}

impl MatrixFormat {
    /// Guesses from a file name: `.json` is JSON, `.yaml`/`.yml` YAML.
    pub fn from_path(path: &str) -> Option<Self> {
        let lower = path.to_lowercase();
        if lower.ends_with(".json") {
            Some(Self::Json)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(Self::Yaml)
        } else {
            None
        }
    }
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s.to_lowercase().as_str() {
            "yaml" | "yml" => Ok(Self::Yaml),
            "json" => Ok(Self::Json),
            _ => Err(DomainError::invalid(
                "format",
                format!("`{s}` is not yaml or json"),
            )),
        }
    }
}

pub(crate) fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 32;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_nodes = 500_000;
    budget.max_documents = 1;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    options.alias_limits.max_total_replayed_events = 100_000;
    options
}

pub(crate) fn located(
    file: &str,
    pos: Option<(u64, u64)>,
    field: Option<String>,
    message: String,
) -> FileError {
    FileError {
        file: file.to_owned(),
        line: pos.map(|p| p.0),
        column: pos.map(|p| p.1),
        field,
        message,
    }
}

fn read_yaml(text: &str) -> Result<MatrixFile, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, yaml_options())
}

pub(crate) fn yaml_error(file: &str, e: &serde_saphyr::Error) -> FileError {
    let pos = e
        .location()
        .filter(|l| l.line() > 0)
        .map(|l| (l.line(), l.column()));
    let text = e.to_string();
    // The parser appends its own position; ours is in the line/column fields.
    let message = text
        .lines()
        .next()
        .unwrap_or_default()
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or_default()
        .replace("invalid u32", "expected a whole number")
        .trim()
        .to_owned();
    located(file, pos, None, message)
}

pub(crate) fn json_error(file: &str, e: &serde_json::Error) -> FileError {
    let text = e.to_string();
    let message = text.split(" at line ").next().unwrap_or(&text).to_owned();
    let pos = (e.line() > 0).then(|| (e.line() as u64, e.column() as u64));
    located(file, pos, None, message)
}

/// Reads a matrix file, checking everything; `file` names it in errors.
pub fn parse_matrix(text: &str, format: MatrixFormat, file: &str) -> Result<Matrix, FileErrors> {
    let text = crate::errors::bounded(text, file, MAX_FILE_BYTES, "matrix files")?;
    if text.trim().is_empty() {
        return Err(FileErrors::one(
            file,
            "the file is empty: a matrix needs key, name, levels and tracks",
        ));
    }
    let parsed = match format {
        MatrixFormat::Yaml => {
            read_yaml(text).map_err(|e| FileErrors(vec![yaml_error(file, &e)]))?
        }
        MatrixFormat::Json => {
            let plain: MatrixFile =
                serde_json::from_str(text).map_err(|e| FileErrors(vec![json_error(file, &e)]))?;
            // JSON is YAML too: read it again for positions, and use them only if both readers agree.
            match read_yaml(text) {
                Ok(spanned) if spanned == plain => spanned,
                _ => plain,
            }
        }
    };
    if !(1..=FORMAT_VERSION).contains(&parsed.format_version) {
        return Err(FileErrors(vec![located(
            file,
            None,
            Some("format_version".into()),
            format!(
                "format version {} is not supported: this build reads versions 1 to {FORMAT_VERSION}",
                parsed.format_version
            ),
        )]));
    }
    Matrix::new(&parsed.to_draft()).map_err(|e| match e {
        DomainError::Violations(vs) => FileErrors(
            vs.into_iter()
                .map(|v| {
                    located(
                        file,
                        parsed.locate(&v.path),
                        Some(v.path.to_string()),
                        v.message,
                    )
                })
                .collect(),
        ),
        other => FileErrors::one(file, other.to_string()),
    })
}

/// Writes a matrix as a file that [`parse_matrix`] reads back to the same matrix.
pub fn export_matrix(m: &Matrix, format: MatrixFormat) -> String {
    let file = MatrixFile::from_matrix(m);
    match format {
        MatrixFormat::Json => {
            let mut s = serde_json::to_string_pretty(&file).unwrap_or_default();
            s.push('\n');
            s
        }
        MatrixFormat::Yaml => serde_saphyr::to_string(&file).unwrap_or_default(),
    }
}

/// The JSON Schema of the matrix file, as committed in `schema/matrix.schema.json`.
pub fn matrix_json_schema() -> String {
    let schema = schemars::schema_for!(MatrixFile);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// Does a matrix need version 2 of the file format to be written?
fn uses_version_2(d: &MatrixDraft) -> bool {
    d.level_style.is_some()
        || !d.themes.is_empty()
        || d.competencies.iter().any(|c| c.theme.is_some())
        || d.tracks.iter().any(|t| {
            t.levels.is_some()
                || t.branches_from.is_some()
                || t.cells.iter().any(|c| {
                    c.summary.is_some()
                        || c.expectations.iter().any(|e| {
                            e.is_reference()
                                || e.title.is_some()
                                || !e.examples.is_empty()
                                || e.name.chars().count() > 200
                        })
                })
        })
}
