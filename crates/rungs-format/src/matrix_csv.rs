//! The matrix as a spreadsheet: one row per expectation.
//!
//! Columns (matched by name, in any order, any case): `matrix` (the matrix's key, the same on
//! every row), `track`, `track_name`, `level`,
//! `level_name`, `level_rank`, `titles`, `expectation_key`, `name`, `description`, `competency`,
//! `resources`, `cell_resources`. Only `track` and `level` are required. A row without an
//! `expectation_key` describes a cell that has titles or resources but no expectation of its
//! own. `titles` are separated by `;`; `resources` and `cell_resources` hold one resource per
//! line, as `title | url | kind | description` (everything after the title optional). A UTF-8
//! BOM, Windows line endings and blank lines are accepted.
//!
//! A spreadsheet has no room for the matrix's own name and description, the descriptions of
//! levels, tracks and competencies, or competency names: those come from `base` (the matrix
//! being updated, if any), so editing a matrix in a spreadsheet keeps them.

use crate::errors::{bounded, csv_reader};
use crate::people::{line_at, message_of};
use crate::{FileError, FileErrors};
use rungs_domain::matrix::{
    CellDraft, CompetencyDraft, ExpectationDraft, LevelDraft, Matrix, MatrixDraft, Resource,
    ResourceDraft, TrackDraft,
};
use rungs_domain::{DomainError, Seg};
use std::collections::HashMap;

pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
pub const COLUMNS: [&str; 13] = [
    "matrix",
    "track",
    "track_name",
    "level",
    "level_name",
    "level_rank",
    "titles",
    "expectation_key",
    "name",
    "description",
    "competency",
    "resources",
    "cell_resources",
];
const REQUIRED: [&str; 2] = ["track", "level"];

/// What the spreadsheet cannot carry: the matrix's name, its key when there is no `matrix`
/// column, and the matrix it updates.
#[derive(Debug, Clone, Copy)]
pub struct CsvBase<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub existing: Option<&'a Matrix>,
}

fn resource_line(r: &Resource) -> String {
    let mut parts = vec![
        r.title.clone(),
        r.url.clone().unwrap_or_default(),
        r.kind.as_str().to_owned(),
        r.description.clone().unwrap_or_default(),
    ];
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts.join(" | ")
}

fn resources_cell(rs: &[Resource]) -> String {
    rs.iter().map(resource_line).collect::<Vec<_>>().join("\n")
}

fn parse_resources(cell: &str) -> Vec<ResourceDraft> {
    cell.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.splitn(4, '|').map(|p| p.trim().to_owned());
            let mut next = || parts.next().filter(|p| !p.is_empty());
            ResourceDraft {
                title: next().unwrap_or_default(),
                url: next(),
                kind: next(),
                description: next(),
            }
        })
        .collect()
}

/// Writes a matrix as CSV that [`parse_matrix_csv`] reads back (with the matrix as `base`) to
/// the same matrix.
pub fn export_matrix_csv(m: &Matrix) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(COLUMNS);
    for t in m.tracks() {
        for c in &t.cells {
            let Some(level) = m.level(c.level.as_str()) else {
                continue;
            };
            let row = |e: Option<&rungs_domain::matrix::Expectation>, first: bool| {
                [
                    m.key().to_string(),
                    t.key.to_string(),
                    t.name.clone(),
                    level.key.to_string(),
                    level.name.clone(),
                    level.rank.to_string(),
                    c.titles.join("; "),
                    e.map(|e| e.key.to_string()).unwrap_or_default(),
                    e.map(|e| e.name.clone()).unwrap_or_default(),
                    e.and_then(|e| e.description.clone()).unwrap_or_default(),
                    e.and_then(|e| e.competency.as_ref().map(ToString::to_string))
                        .unwrap_or_default(),
                    e.map(|e| resources_cell(&e.resources)).unwrap_or_default(),
                    if first {
                        resources_cell(&c.resources)
                    } else {
                        String::new()
                    },
                ]
            };
            if c.expectations.is_empty() {
                let _ = w.write_record(row(None, true));
            }
            for (i, e) in c.expectations.iter().enumerate() {
                let _ = w.write_record(row(Some(e), i == 0));
            }
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The matrix key named by the `matrix` column (its first non-empty value), if the file has
/// one: the importer needs it to find the matrix being updated before reading the rest.
pub fn csv_matrix_key(text: &str) -> Option<String> {
    let mut reader = csv_reader(text.strip_prefix('\u{feff}').unwrap_or(text));
    let col = reader
        .headers()
        .ok()?
        .iter()
        .position(|h| h.eq_ignore_ascii_case("matrix"))?;
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| r.get(col).map(str::to_owned))
        .find(|k| !k.is_empty())
}

/// Where each part of the draft came from, to point violations back at rows.
#[derive(Default)]
struct Lines {
    levels: Vec<u64>,
    tracks: Vec<u64>,
    cells: Vec<Vec<u64>>,
    expectations: Vec<Vec<Vec<u64>>>,
}

impl Lines {
    /// The row and column a violation's path points at.
    fn locate(&self, path: &[Seg]) -> (Option<u64>, Option<&'static str>) {
        use Seg::{Field, Index};
        match path {
            [Field("levels"), Index(i), rest @ ..] => (
                self.levels.get(*i).copied(),
                Some(match rest.first() {
                    Some(Field("name")) => "level_name",
                    Some(Field("rank")) => "level_rank",
                    _ => "level",
                }),
            ),
            [
                Field("tracks"),
                Index(t),
                Field("cells"),
                Index(c),
                Field("expectations"),
                Index(e),
                rest @ ..,
            ] => (
                self.expectations
                    .get(*t)
                    .and_then(|x| x.get(*c))
                    .and_then(|x| x.get(*e))
                    .copied(),
                Some(match rest.first() {
                    Some(Field("name")) => "name",
                    Some(Field("description")) => "description",
                    Some(Field("competency")) => "competency",
                    Some(Field("resources")) => "resources",
                    _ => "expectation_key",
                }),
            ),
            [
                Field("tracks"),
                Index(t),
                Field("cells"),
                Index(c),
                rest @ ..,
            ] => (
                self.cells.get(*t).and_then(|x| x.get(*c)).copied(),
                Some(match rest.first() {
                    Some(Field("titles")) => "titles",
                    Some(Field("resources")) => "cell_resources",
                    _ => "level",
                }),
            ),
            [Field("tracks"), Index(t), rest @ ..] => (
                self.tracks.get(*t).copied(),
                Some(match rest.first() {
                    Some(Field("name")) => "track_name",
                    _ => "track",
                }),
            ),
            _ => (None, None),
        }
    }
}

/// Reads a matrix spreadsheet, checking every row and then the whole matrix; every problem
/// comes back at once with its line and column.
pub fn parse_matrix_csv(text: &str, file: &str, base: CsvBase<'_>) -> Result<Matrix, FileErrors> {
    let text = bounded(text, file, MAX_FILE_BYTES, "matrix files")?;
    let mut reader = csv_reader(text);
    let headers = reader
        .headers()
        .map_err(|e| FileErrors::one(file, format!("cannot read the header row: {e}")))?
        .clone();
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    let mut errors = Vec::new();
    let err =
        |line: Option<u64>, col: Option<&str>, index: &HashMap<&str, usize>, m: String| FileError {
            file: file.to_owned(),
            line,
            column: col.and_then(|c| index.get(c)).map(|i| *i as u64 + 1),
            field: col.map(str::to_owned),
            message: m,
        };
    for (i, h) in headers.iter().enumerate() {
        let h = h.to_lowercase().replace(' ', "_");
        match COLUMNS.iter().find(|c| **c == h) {
            Some(c) => {
                if index.insert(c, i).is_some() {
                    errors.push(err(
                        Some(1),
                        Some(c),
                        &index,
                        "this column appears twice".into(),
                    ));
                }
            }
            None if h.is_empty() => {}
            None => errors.push(FileError {
                file: file.to_owned(),
                line: Some(1),
                column: Some(i as u64 + 1),
                field: None,
                message: format!(
                    "unknown column `{h}`: the columns are {}",
                    COLUMNS.join(", ")
                ),
            }),
        }
    }
    for r in REQUIRED {
        if !index.contains_key(r) {
            errors.push(FileError {
                file: file.to_owned(),
                line: Some(1),
                column: None,
                field: Some(r.into()),
                message: format!("the required column `{r}` is missing"),
            });
        }
    }
    if !errors.is_empty() {
        return Err(FileErrors(errors));
    }

    let existing = base.existing;
    let mut draft = MatrixDraft {
        key: base.key.to_owned(),
        name: existing.map_or(base.name, |m| m.name()).to_owned(),
        description: existing.and_then(|m| m.description().map(str::to_owned)),
        competencies: existing
            .map(|m| {
                m.competencies()
                    .iter()
                    .map(|c| CompetencyDraft {
                        key: c.key.to_string(),
                        name: c.name.clone(),
                        description: c.description.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        ..Default::default()
    };
    let mut lines = Lines::default();
    let mut level_at: HashMap<String, usize> = HashMap::new();
    let mut track_at: HashMap<String, usize> = HashMap::new();
    let mut cell_at: HashMap<(usize, String), usize> = HashMap::new();
    let mut rows = 0usize;
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| line_at(text, p.byte()));
                errors.push(err(line, None, &index, format!("unreadable row: {e}")));
                continue;
            }
        };
        let line = record.position().map(|p| line_at(text, p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        rows += 1;
        let get = |c: &str| {
            index
                .get(c)
                .and_then(|&i| record.get(i))
                .unwrap_or("")
                .to_owned()
        };
        let matrix = get("matrix");
        if !matrix.is_empty() && matrix != draft.key {
            errors.push(err(
                line,
                Some("matrix"),
                &index,
                format!(
                    "this row is for matrix `{matrix}`, but the file imports `{}`: one matrix per file",
                    draft.key
                ),
            ));
        }
        let (track, level) = (get("track"), get("level"));
        let mut bad = false;
        for (col, v) in [("track", &track), ("level", &level)] {
            if v.is_empty() {
                errors.push(err(
                    line,
                    Some(col),
                    &index,
                    format!("every row needs a {col} key"),
                ));
                bad = true;
            }
        }
        // The same value must not differ between rows (a track's name, a cell's titles...).
        let agree =
            |col: &str, current: &mut String, given: String, errors: &mut Vec<FileError>| {
                if given.is_empty() {
                    return;
                }
                if current.is_empty() {
                    *current = given;
                } else if *current != given {
                    errors.push(err(
                    line,
                    Some(col),
                    &index,
                    format!(
                        "`{given}` differs from `{current}` given on an earlier row: use one value"
                    ),
                ));
                }
            };
        if bad {
            continue;
        }
        let li = *level_at.entry(level.clone()).or_insert_with(|| {
            let old = existing.and_then(|m| m.level(&level));
            draft.levels.push(LevelDraft {
                key: level.clone(),
                name: String::new(),
                rank: None,
                description: old.and_then(|l| l.description.clone()),
            });
            lines.levels.push(line.unwrap_or(0));
            draft.levels.len() - 1
        });
        agree(
            "level_name",
            &mut draft.levels[li].name,
            get("level_name"),
            &mut errors,
        );
        let rank = get("level_rank");
        if !rank.is_empty() {
            match rank.parse::<u32>() {
                Ok(r) if draft.levels[li].rank.is_some_and(|x| x != r) => errors.push(err(
                    line,
                    Some("level_rank"),
                    &index,
                    format!(
                        "rank {r} differs from the rank given on an earlier row of level `{level}`"
                    ),
                )),
                Ok(r) => draft.levels[li].rank = Some(r),
                Err(_) => errors.push(err(
                    line,
                    Some("level_rank"),
                    &index,
                    format!("`{rank}` is not a whole number: ranks go from 1 (lowest) up"),
                )),
            }
        }
        let ti = *track_at.entry(track.clone()).or_insert_with(|| {
            let old = existing.and_then(|m| m.track(&track));
            draft.tracks.push(TrackDraft {
                key: track.clone(),
                name: String::new(),
                description: old.and_then(|t| t.description.clone()),
                cells: Vec::new(),
            });
            lines.tracks.push(line.unwrap_or(0));
            lines.cells.push(Vec::new());
            lines.expectations.push(Vec::new());
            draft.tracks.len() - 1
        });
        agree(
            "track_name",
            &mut draft.tracks[ti].name,
            get("track_name"),
            &mut errors,
        );
        let ci = *cell_at.entry((ti, level.clone())).or_insert_with(|| {
            draft.tracks[ti].cells.push(CellDraft {
                level: level.clone(),
                ..Default::default()
            });
            lines.cells[ti].push(line.unwrap_or(0));
            lines.expectations[ti].push(Vec::new());
            draft.tracks[ti].cells.len() - 1
        });
        let cell = &mut draft.tracks[ti].cells[ci];
        let titles: Vec<String> = get("titles")
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        let mut joined = cell.titles.join("; ");
        agree("titles", &mut joined, titles.join("; "), &mut errors);
        if cell.titles.is_empty() {
            cell.titles = titles;
        }
        cell.resources
            .extend(parse_resources(&get("cell_resources")));
        let key = get("expectation_key");
        let name = get("name");
        if key.is_empty() {
            for col in ["name", "description", "competency", "resources"] {
                if !get(col).is_empty() {
                    errors.push(err(
                        line,
                        Some(col),
                        &index,
                        format!("`{col}` is given without an expectation_key: give the expectation a key, or leave the row to titles and cell_resources"),
                    ));
                }
            }
            continue;
        }
        let competency = Some(get("competency")).filter(|c| !c.is_empty());
        if let Some(c) = &competency
            && !draft.competencies.iter().any(|x| x.key == *c)
        {
            draft.competencies.push(CompetencyDraft {
                key: c.clone(),
                name: c.clone(),
                description: None,
            });
        }
        let cell = &mut draft.tracks[ti].cells[ci];
        cell.expectations.push(ExpectationDraft {
            key,
            name,
            description: Some(get("description")).filter(|d| !d.is_empty()),
            competency,
            resources: parse_resources(&get("resources")),
        });
        lines.expectations[ti][ci].push(line.unwrap_or(0));
    }
    if rows == 0 && errors.is_empty() {
        return Err(FileErrors::one(
            file,
            "the file has a header but no rows: add one row per expectation",
        ));
    }
    // Names left out fall back to the matrix being updated, then to the key.
    for l in &mut draft.levels {
        if l.name.is_empty() {
            l.name = existing
                .and_then(|m| m.level(&l.key))
                .map_or_else(|| l.key.clone(), |x| x.name.clone());
        }
    }
    for t in &mut draft.tracks {
        if t.name.is_empty() {
            t.name = existing
                .and_then(|m| m.track(&t.key))
                .map_or_else(|| t.key.clone(), |x| x.name.clone());
        }
    }
    if !errors.is_empty() {
        return Err(FileErrors(errors));
    }
    Matrix::new(&draft).map_err(|e| match e {
        DomainError::Violations(vs) => FileErrors(
            vs.into_iter()
                .map(|v| {
                    let (line, col) = lines.locate(&v.path.0);
                    err(line, col, &index, v.message)
                })
                .collect(),
        ),
        other => FileErrors::one(file, message_of(other)),
    })
}
