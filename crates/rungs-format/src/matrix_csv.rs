//! The matrix as a spreadsheet: one row per criterion of a cell.
//!
//! Columns (matched by name, in any order, any case): `matrix` (the matrix's key, the same on
//! every row), `track`, `track_name`, `level`, `level_name`, `level_rank`, `titles`,
//! `expectation_key`, `name`, `description`, `competency`, `resources`, `cell_resources`, and
//! (format 2) `matrix_name`, `matrix_description`, `level_style`, `level_description`,
//! `track_description`, `track_levels`, `branches_from`, `cell_summary`, `title`, `examples`,
//! `competency_name`, `competency_description`, `theme`, `theme_name`, `theme_description`.
//! Only `track` and `level` are required. A row without an `expectation_key` describes a cell
//! (or only a level) without a criterion of its own; a row with a key and no text refers to a
//! criterion defined on another row. `titles` and `track_levels` are separated by `;`;
//! `branches_from` is `track/level`; `examples` hold one example per line; `resources` and
//! `cell_resources` hold one resource per line, as `title | url | kind | description`
//! (everything after the title optional). A value that describes a matrix, level, track, cell,
//! competency or theme may be given on any of its rows, and must not differ between them. A
//! UTF-8 BOM, Windows line endings and blank lines are accepted.
//!
//! What a spreadsheet leaves out (names, descriptions) comes from `base` (the matrix being
//! updated, if any), so editing an older spreadsheet keeps them.

use crate::errors::{bounded, csv_reader};
use crate::people::{LineIndex, message_of};
use crate::{FileError, FileErrors};
use rungs_domain::matrix::{
    BranchDraft, CellDraft, CompetencyDraft, ExpectationDraft, LevelDraft, Matrix, MatrixDraft,
    ResourceDraft, ThemeDraft, TrackDraft,
};
use rungs_domain::{DomainError, Seg};
use std::collections::HashMap;

pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
pub const COLUMNS: [&str; 28] = [
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
    "matrix_name",
    "matrix_description",
    "level_style",
    "level_description",
    "track_description",
    "track_levels",
    "branches_from",
    "cell_summary",
    "title",
    "examples",
    "competency_name",
    "competency_description",
    "theme",
    "theme_name",
    "theme_description",
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
    let d = m.to_draft();
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    let mut first_row = true;
    let mut levels_written = std::collections::HashSet::new();
    let mut comps_written = std::collections::HashSet::new();
    let mut themes_written = std::collections::HashSet::new();
    for t in &d.tracks {
        let mut track_first = true;
        // Every level of the track's own ladder gets a row, with a cell or without.
        let track = m.track(&t.key);
        let own: Vec<String> = track
            .map(|tr| tr.own_levels(m).iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        let mut rows: Vec<(String, Option<&CellDraft>)> = own
            .iter()
            .map(|l| (l.clone(), t.cells.iter().find(|c| c.level == *l)))
            .collect();
        for c in &t.cells {
            if !own.contains(&c.level) {
                rows.push((c.level.clone(), Some(c)));
            }
        }
        for (level_key, cell) in rows {
            let Some(level) = m.level(&level_key) else {
                continue;
            };
            let level_first = levels_written.insert(level_key.clone());
            let exps: Vec<Option<&ExpectationDraft>> = match cell {
                Some(c) if !c.expectations.is_empty() => c.expectations.iter().map(Some).collect(),
                _ => vec![None],
            };
            for (i, e) in exps.into_iter().enumerate() {
                let cell_first = i == 0;
                let comp = e
                    .and_then(|e| e.competency.as_deref())
                    .and_then(|k| m.competency(k))
                    .filter(|c| comps_written.insert(c.key.to_string()));
                let theme = comp
                    .and_then(|c| c.theme.as_ref())
                    .and_then(|k| m.theme(k.as_str()))
                    .filter(|t| themes_written.insert(t.key.to_string()));
                let mut record = vec![
                    m.key().to_string(),
                    t.key.clone(),
                    t.name.clone(),
                    level.key.to_string(),
                    level.name.clone(),
                    level.rank.to_string(),
                    cell.map(|c| c.titles.join("; ")).unwrap_or_default(),
                    e.map(|e| e.key.clone()).unwrap_or_default(),
                    e.map(|e| e.name.clone()).unwrap_or_default(),
                    e.map(|e| opt(&e.description)).unwrap_or_default(),
                    e.map(|e| opt(&e.competency)).unwrap_or_default(),
                    e.map(|e| resources_draft_cell(&e.resources))
                        .unwrap_or_default(),
                    match cell {
                        Some(c) if cell_first => resources_draft_cell(&c.resources),
                        _ => String::new(),
                    },
                ];
                record.extend([
                    if first_row {
                        m.name().to_owned()
                    } else {
                        String::new()
                    },
                    if first_row {
                        m.description().unwrap_or_default().to_owned()
                    } else {
                        String::new()
                    },
                    if first_row {
                        opt(&d.level_style)
                    } else {
                        String::new()
                    },
                    if level_first {
                        opt(&level.description)
                    } else {
                        String::new()
                    },
                    if track_first {
                        opt(&t.description)
                    } else {
                        String::new()
                    },
                    if track_first {
                        t.levels.as_ref().map(|l| l.join("; ")).unwrap_or_default()
                    } else {
                        String::new()
                    },
                    if track_first {
                        t.branches_from
                            .as_ref()
                            .map(|b| format!("{}/{}", b.track, b.level))
                            .unwrap_or_default()
                    } else {
                        String::new()
                    },
                    match cell {
                        Some(c) if cell_first => opt(&c.summary),
                        _ => String::new(),
                    },
                    e.map(|e| opt(&e.title)).unwrap_or_default(),
                    e.map(|e| e.examples.join("\n")).unwrap_or_default(),
                    comp.map(|c| c.name.clone()).unwrap_or_default(),
                    comp.map(|c| opt(&c.description)).unwrap_or_default(),
                    comp.and_then(|c| c.theme.as_ref().map(ToString::to_string))
                        .unwrap_or_default(),
                    theme.map(|t| t.name.clone()).unwrap_or_default(),
                    theme.map(|t| opt(&t.description)).unwrap_or_default(),
                ]);
                let _ = w.write_record(&record);
                first_row = false;
                track_first = false;
            }
        }
    }
    // Competencies and themes no criterion uses get a row each, on the first track and level,
    // without a criterion.
    let anchor = d
        .tracks
        .first()
        .and_then(|t| Some((t, m.track(&t.key)?.ladder.first()?.to_string())));
    if let Some((t, level_key)) = anchor {
        let level = m.level(&level_key);
        let mut extra = |comp: Option<&rungs_domain::matrix::Competency>,
                         theme: Option<&rungs_domain::matrix::Theme>| {
            let mut record = vec![String::new(); COLUMNS.len()];
            record[0] = m.key().to_string();
            record[1] = t.key.clone();
            record[3] = level_key.clone();
            record[5] = level.map(|l| l.rank.to_string()).unwrap_or_default();
            if let Some(c) = comp {
                record[10] = c.key.to_string();
                record[23] = c.name.clone();
                record[24] = opt(&c.description);
            }
            let theme_key = comp.and_then(|c| c.theme.as_ref().map(ToString::to_string));
            if let Some(k) = theme_key.or(theme.map(|t| t.key.to_string())) {
                record[25] = k;
            }
            if let Some(th) = theme {
                record[26] = th.name.clone();
                record[27] = opt(&th.description);
            }
            let _ = w.write_record(&record);
        };
        for c in m.competencies() {
            if comps_written.insert(c.key.to_string()) {
                let theme = c
                    .theme
                    .as_ref()
                    .and_then(|k| m.theme(k.as_str()))
                    .filter(|t| themes_written.insert(t.key.to_string()));
                extra(Some(c), theme);
            }
        }
        for th in m.themes() {
            if themes_written.insert(th.key.to_string()) {
                extra(None, Some(th));
            }
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn resources_draft_cell(rs: &[ResourceDraft]) -> String {
    rs.iter()
        .map(|r| {
            let mut parts = vec![
                r.title.clone(),
                r.url.clone().unwrap_or_default(),
                r.kind.clone().unwrap_or_default(),
                r.description.clone().unwrap_or_default(),
            ];
            while parts.last().is_some_and(String::is_empty) {
                parts.pop();
            }
            parts.join(" | ")
        })
        .collect::<Vec<_>>()
        .join("\n")
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
                    Some(Field("description")) => "level_description",
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
                    Some(Field("title")) => "title",
                    Some(Field("examples")) => "examples",
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
                    Some(Field("summary")) => "cell_summary",
                    Some(Field("resources")) => "cell_resources",
                    _ => "level",
                }),
            ),
            [Field("tracks"), Index(t), rest @ ..] => (
                self.tracks.get(*t).copied(),
                Some(match rest.first() {
                    Some(Field("name")) => "track_name",
                    Some(Field("description")) => "track_description",
                    Some(Field("levels")) => "track_levels",
                    Some(Field("branches_from")) => "branches_from",
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
    let line_index = LineIndex::new(text);
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
        ..Default::default()
    };
    // Values given once for the whole matrix, a competency or a theme.
    let (mut matrix_name, mut matrix_description, mut level_style) =
        (String::new(), String::new(), String::new());
    let mut comps: Vec<(String, [String; 3])> = Vec::new();
    let mut themes: Vec<(String, [String; 2])> = Vec::new();
    let mut track_extra: Vec<[String; 3]> = Vec::new();
    let mut level_desc: Vec<String> = Vec::new();
    let mut cell_summary: Vec<Vec<String>> = Vec::new();
    let mut lines = Lines::default();
    let mut level_at: HashMap<String, usize> = HashMap::new();
    let mut track_at: HashMap<String, usize> = HashMap::new();
    let mut cell_at: HashMap<(usize, String), usize> = HashMap::new();
    let mut rows = 0usize;
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| line_index.line_at(p.byte()));
                errors.push(err(line, None, &index, format!("unreadable row: {e}")));
                continue;
            }
        };
        let line = record.position().map(|p| line_index.line_at(p.byte()));
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
        agree(
            "matrix_name",
            &mut matrix_name,
            get("matrix_name"),
            &mut errors,
        );
        agree(
            "matrix_description",
            &mut matrix_description,
            get("matrix_description"),
            &mut errors,
        );
        agree(
            "level_style",
            &mut level_style,
            get("level_style"),
            &mut errors,
        );
        let li = *level_at.entry(level.clone()).or_insert_with(|| {
            draft.levels.push(LevelDraft {
                key: level.clone(),
                name: String::new(),
                rank: None,
                description: None,
            });
            level_desc.push(String::new());
            lines.levels.push(line.unwrap_or(0));
            draft.levels.len() - 1
        });
        agree(
            "level_description",
            &mut level_desc[li],
            get("level_description"),
            &mut errors,
        );
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
            draft.tracks.push(TrackDraft {
                key: track.clone(),
                ..Default::default()
            });
            track_extra.push(Default::default());
            cell_summary.push(Vec::new());
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
        for (i, col) in ["track_description", "track_levels", "branches_from"]
            .into_iter()
            .enumerate()
        {
            agree(col, &mut track_extra[ti][i], get(col), &mut errors);
        }
        let ci = *cell_at.entry((ti, level.clone())).or_insert_with(|| {
            draft.tracks[ti].cells.push(CellDraft {
                level: level.clone(),
                ..Default::default()
            });
            cell_summary[ti].push(String::new());
            lines.cells[ti].push(line.unwrap_or(0));
            lines.expectations[ti].push(Vec::new());
            draft.tracks[ti].cells.len() - 1
        });
        agree(
            "cell_summary",
            &mut cell_summary[ti][ci],
            get("cell_summary"),
            &mut errors,
        );
        // A competency and its theme, defined on any row that names them.
        let theme_key = get("theme");
        if !theme_key.is_empty() {
            let at = match themes.iter().position(|(k, _)| *k == theme_key) {
                Some(i) => i,
                None => {
                    themes.push((theme_key.clone(), Default::default()));
                    themes.len() - 1
                }
            };
            for (i, col) in ["theme_name", "theme_description"].into_iter().enumerate() {
                agree(col, &mut themes[at].1[i], get(col), &mut errors);
            }
        }
        let comp_key = get("competency");
        if !comp_key.is_empty() {
            let at = match comps.iter().position(|(k, _)| *k == comp_key) {
                Some(i) => i,
                None => {
                    comps.push((comp_key.clone(), Default::default()));
                    comps.len() - 1
                }
            };
            let given = [
                get("competency_name"),
                get("competency_description"),
                theme_key,
            ];
            for (i, (col, v)) in ["competency_name", "competency_description", "theme"]
                .into_iter()
                .zip(given)
                .enumerate()
            {
                agree(col, &mut comps[at].1[i], v, &mut errors);
            }
        } else {
            for col in ["competency_name", "competency_description"] {
                if !get(col).is_empty() {
                    errors.push(err(
                        line,
                        Some(col),
                        &index,
                        format!("`{col}` is given without a competency: name the competency's key in `competency`"),
                    ));
                }
            }
        }
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
            for col in ["name", "description", "resources", "title", "examples"] {
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
        let competency = Some(comp_key).filter(|c| !c.is_empty());
        let cell = &mut draft.tracks[ti].cells[ci];
        let some = |v: String| Some(v).filter(|v| !v.is_empty());
        cell.expectations.push(ExpectationDraft {
            key,
            name,
            title: some(get("title")),
            description: some(get("description")),
            competency,
            examples: get("examples")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
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
    // What a row leaves out falls back to the matrix being updated, then to the key.
    let some = |v: String| Some(v).filter(|v| !v.is_empty());
    draft.name =
        some(matrix_name).unwrap_or_else(|| existing.map_or(base.name, |m| m.name()).to_owned());
    draft.description = some(matrix_description)
        .or_else(|| existing.and_then(|m| m.description().map(str::to_owned)));
    draft.level_style =
        some(level_style).or_else(|| existing.and_then(|m| m.to_draft().level_style));
    for (l, desc) in draft.levels.iter_mut().zip(level_desc) {
        let old = existing.and_then(|m| m.level(&l.key));
        if l.name.is_empty() {
            l.name = old.map_or_else(|| l.key.clone(), |x| x.name.clone());
        }
        l.description = some(desc).or_else(|| old.and_then(|x| x.description.clone()));
    }
    for (ti, ((t, [desc, levels, branch]), summaries)) in draft
        .tracks
        .iter_mut()
        .zip(track_extra)
        .zip(cell_summary)
        .enumerate()
    {
        let old = existing.and_then(|m| m.track(&t.key));
        if t.name.is_empty() {
            t.name = old.map_or_else(|| t.key.clone(), |x| x.name.clone());
        }
        t.description = some(desc).or_else(|| old.and_then(|x| x.description.clone()));
        t.levels = some(levels).map(|l| {
            l.split(';')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect()
        });
        t.branches_from = some(branch).map(|b| {
            let (track, level) = b.split_once('/').unwrap_or((b.as_str(), ""));
            BranchDraft {
                track: track.trim().to_owned(),
                level: level.trim().to_owned(),
            }
        });
        for (c, summary) in t.cells.iter_mut().zip(summaries) {
            c.summary = some(summary);
        }
        // A row that only names a level (no titles, summary, criteria or resources) defines
        // the level without a cell.
        let keep: Vec<bool> = t
            .cells
            .iter()
            .map(|c| {
                !(c.titles.is_empty()
                    && c.summary.is_none()
                    && c.expectations.is_empty()
                    && c.resources.is_empty())
            })
            .collect();
        let mut k = keep.iter();
        t.cells.retain(|_| k.next().copied().unwrap_or(true));
        let mut k = keep.iter();
        lines.cells[ti].retain(|_| k.next().copied().unwrap_or(true));
        let mut k = keep.iter();
        lines.expectations[ti].retain(|_| k.next().copied().unwrap_or(true));
    }
    let old_comps = existing.map(Matrix::competencies).unwrap_or_default();
    for c in old_comps {
        if !comps.iter().any(|(k, _)| *k == c.key.as_str()) {
            comps.push((
                c.key.to_string(),
                [
                    c.name.clone(),
                    c.description.clone().unwrap_or_default(),
                    c.theme
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                ],
            ));
        }
    }
    draft.competencies = comps
        .into_iter()
        .map(|(key, [name, description, theme])| {
            let old = existing.and_then(|m| m.competency(&key));
            CompetencyDraft {
                name: some(name)
                    .or_else(|| old.map(|c| c.name.clone()))
                    .unwrap_or_else(|| key.clone()),
                description: some(description).or_else(|| old.and_then(|c| c.description.clone())),
                theme: some(theme)
                    .or_else(|| old.and_then(|c| c.theme.as_ref().map(ToString::to_string))),
                key,
            }
        })
        .collect();
    for th in existing.map(Matrix::themes).unwrap_or_default() {
        if !themes.iter().any(|(k, _)| *k == th.key.as_str()) {
            themes.push((th.key.to_string(), Default::default()));
        }
    }
    for c in &draft.competencies {
        if let Some(t) = &c.theme
            && !themes.iter().any(|(k, _)| k == t)
        {
            themes.push((t.clone(), Default::default()));
        }
    }
    draft.themes = themes
        .into_iter()
        .map(|(key, [name, description])| {
            let old = existing.and_then(|m| m.theme(&key));
            ThemeDraft {
                name: some(name)
                    .or_else(|| old.map(|t| t.name.clone()))
                    .unwrap_or_else(|| key.clone()),
                description: some(description).or_else(|| old.and_then(|t| t.description.clone())),
                key,
            }
        })
        .collect();
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
