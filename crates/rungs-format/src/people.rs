//! The people CSV: `email, name, manager_email, track, level, admin`.
//!
//! Headers are matched by name (any order, any case, surrounding spaces ignored); a UTF-8 BOM,
//! Windows line endings and blank lines are accepted. Every row is checked and every problem
//! reported with its line and column name; cross-row rules (managers that exist, no cycles,
//! known tracks and levels) are checked by the import use case against the database.

use crate::{FileError, FileErrors};
use rungs_domain::person::Email;
use std::collections::HashMap;

pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
pub const COLUMNS: [&str; 6] = ["email", "name", "manager_email", "track", "level", "admin"];
const REQUIRED: [&str; 2] = ["email", "name"];

/// One checked row of the people file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// The line the row starts on (1 is the header).
    pub line: u64,
    pub email: Email,
    pub name: String,
    pub manager_email: Option<Email>,
    /// Track and level keys, both or neither.
    pub placement: Option<(String, String)>,
    pub admin: bool,
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "" | "false" | "no" | "n" | "0" => Some(false),
        "true" | "yes" | "y" | "1" => Some(true),
        _ => None,
    }
}

/// A people file read row by row: the rows without a problem, and every problem.
#[derive(Debug, Clone, Default)]
pub struct PeopleFile {
    pub rows: Vec<PersonRow>,
    /// Every problem, by line; empty when every row is good.
    pub errors: Vec<FileError>,
    /// The emails of rows that have a problem (when the email itself is good), so that checks
    /// across rows do not also call them unknown.
    pub emails_with_problems: Vec<Email>,
}

/// Reads and checks the whole file; returns every row or every error.
pub fn parse_people(text: &str, file: &str) -> Result<Vec<PersonRow>, FileErrors> {
    let read = read_people(text, file)?;
    if read.errors.is_empty() {
        Ok(read.rows)
    } else {
        Err(with_columns(text, FileErrors(read.errors)))
    }
}

/// Reads the whole file and checks every row, keeping the good rows beside the problems of
/// the others. Fails only when the file cannot be read as a people file at all (its size, its
/// header row).
pub fn read_people(text: &str, file: &str) -> Result<PeopleFile, FileErrors> {
    let text = crate::errors::bounded(text, file, MAX_FILE_BYTES, "people files")?;
    let err = |line: u64, field: Option<&str>, message: String| FileError {
        file: file.to_owned(),
        line: Some(line),
        column: None,
        field: field.map(str::to_owned),
        message,
    };
    let mut reader = crate::errors::csv_reader(text);
    let lines = LineIndex::new(text);
    let headers = reader
        .headers()
        .map_err(|e| {
            FileErrors(vec![err(
                1,
                None,
                format!("cannot read the header row: {e}"),
            )])
        })?
        .clone();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut errors = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.to_lowercase();
        match COLUMNS.iter().find(|c| **c == h) {
            Some(c) => {
                if index.insert(c, i).is_some() {
                    errors.push(err(1, Some(c), "this column appears twice".into()));
                }
            }
            None if h.is_empty() => {}
            None => errors.push(FileError {
                column: Some(i as u64 + 1),
                ..err(
                    1,
                    None,
                    format!(
                        "unknown column `{h}`: the columns are {}",
                        COLUMNS.join(", ")
                    ),
                )
            }),
        }
    }
    for r in REQUIRED {
        if !index.contains_key(r) {
            errors.push(err(
                1,
                Some(r),
                format!("the required column `{r}` is missing"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(FileErrors(errors));
    }

    let mut rows = Vec::new();
    let mut emails_with_problems = Vec::new();
    let mut seen: HashMap<Email, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| lines.line_at(p.byte())).unwrap_or(0);
                errors.push(err(line, None, format!("unreadable row: {e}")));
                continue;
            }
        };
        // csv's own line count skips blank lines; count physical lines from the byte offset.
        let line = record
            .position()
            .map(|p| lines.line_at(p.byte()))
            .unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let get = |c: &str| {
            index
                .get(c)
                .and_then(|&i| record.get(i))
                .unwrap_or("")
                .to_owned()
        };
        let before = errors.len();
        let email = match Email::parse(&get("email")) {
            Ok(e) => Some(e),
            Err(e) => {
                errors.push(err(line, Some("email"), message_of(e)));
                None
            }
        };
        let name = get("name");
        if name.is_empty() {
            errors.push(err(line, Some("name"), "a name is required".into()));
        }
        let manager_email = match get("manager_email") {
            m if m.is_empty() => None,
            m => match Email::parse(&m) {
                Ok(e) => Some(e),
                Err(e) => {
                    errors.push(err(line, Some("manager_email"), message_of(e)));
                    None
                }
            },
        };
        let placement = match (get("track"), get("level")) {
            (t, l) if t.is_empty() && l.is_empty() => None,
            (t, l) if t.is_empty() => {
                errors.push(err(
                    line,
                    Some("track"),
                    format!("level `{l}` is given without a track: give both or neither"),
                ));
                None
            }
            (t, l) if l.is_empty() => {
                errors.push(err(
                    line,
                    Some("level"),
                    format!("track `{t}` is given without a level: give both or neither"),
                ));
                None
            }
            (t, l) => Some((t, l)),
        };
        let admin_raw = get("admin");
        let admin = parse_bool(&admin_raw).unwrap_or_else(|| {
            errors.push(err(
                line,
                Some("admin"),
                format!("`{admin_raw}` is not true/false (yes/no, 1/0 also work)"),
            ));
            false
        });
        if let (Some(e), Some(m)) = (&email, &manager_email)
            && e == m
        {
            errors.push(err(
                line,
                Some("manager_email"),
                "a person cannot be their own manager".into(),
            ));
        }
        if let Some(e) = &email
            && let Some(first) = seen.insert(e.clone(), line)
        {
            errors.push(err(
                line,
                Some("email"),
                format!("`{e}` already appears on line {first}"),
            ));
        }
        match email {
            Some(email) if errors.len() == before => rows.push(PersonRow {
                line,
                email,
                name,
                manager_email,
                placement,
                admin,
            }),
            Some(email) => emails_with_problems.push(email),
            None => {}
        }
    }
    Ok(PeopleFile {
        rows,
        errors,
        emails_with_problems,
    })
}

/// Gives each error about a column of the people file (its `field`) that column's number in
/// the file's header (1 is the first), as a spreadsheet numbers them: for the errors found
/// here and for those the import finds against the database.
pub fn with_columns(text: &str, mut errors: FileErrors) -> FileErrors {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Ok(headers) = crate::errors::csv_reader(text).headers().cloned() else {
        return errors;
    };
    let column = |field: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(field))
            .map(|i| i as u64 + 1)
    };
    for e in &mut errors.0 {
        if e.column.is_none()
            && let Some(field) = &e.field
        {
            e.column = column(field);
        }
    }
    errors
}

/// Line numbers of byte offsets in a text, each found by binary search over the text's line
/// breaks (counted once), so that numbering every row of a file stays linear.
pub(crate) struct LineIndex<'a> {
    text: &'a [u8],
    /// The offset of every `\n`.
    breaks: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let text = text.as_bytes();
        let breaks = text
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Self { text, breaks }
    }

    /// The 1-based line of the record that starts at `byte`.
    pub(crate) fn line_at(&self, byte: u64) -> u64 {
        let mut end = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        // A record's offset may stand before the line breaks that precede it.
        while matches!(self.text.get(end), Some(b'\r' | b'\n')) {
            end += 1;
        }
        // Line breaks before `end`.
        self.breaks.partition_point(|&b| b < end) as u64 + 1
    }
}

pub(crate) fn message_of(e: rungs_domain::DomainError) -> String {
    match e {
        rungs_domain::DomainError::Invalid { message, .. } => message,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_by_binary_search_match_counting_line_breaks() {
        let text = "a,b\r\n\r\nc,d\n\ne,f\r\ng";
        let lines = LineIndex::new(text);
        for byte in 0..=text.len() {
            let mut end = byte;
            while matches!(text.as_bytes().get(end), Some(b'\r' | b'\n')) {
                end += 1;
            }
            let counted = text.as_bytes()[..end]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            assert_eq!(lines.line_at(byte as u64), counted as u64, "at byte {byte}");
        }
        assert_eq!(LineIndex::new("").line_at(0), 1);
        assert_eq!(lines.line_at(u64::MAX), 6); // past the end: the last line
    }

    #[test]
    fn spreadsheet_quirks_are_accepted() {
        let text = "\u{feff}Name , EMAIL,admin,manager_email,track,level\r\n\r\nAda,ada@example.com,yes,,python-developer,beginner\r\n\r\nBob,bob@example.com,,ada@example.com,,\r\n";
        let rows = parse_people(text, "p.csv").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].email.as_str(), "ada@example.com");
        assert!(rows[0].admin);
        assert_eq!(
            rows[0].placement,
            Some(("python-developer".into(), "beginner".into()))
        );
        assert_eq!(
            rows[1].manager_email.as_ref().map(Email::as_str),
            Some("ada@example.com")
        );
        assert_eq!(rows[1].line, 5);
    }

    #[test]
    fn every_bad_row_is_reported_with_line_and_column() {
        let text = "email,name,manager_email,track,level,admin\nnot-an-email,A,,,,\nb@example.com,,,dev,,maybe\nb@example.com,B2,b@example.com,,,\n";
        let errs = parse_people(text, "p.csv").unwrap_err();
        let lines: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "p.csv:2:1: email: `not-an-email` has no `@`",
                "p.csv:3:2: name: a name is required",
                "p.csv:3:5: level: track `dev` is given without a level: give both or neither",
                "p.csv:3:6: admin: `maybe` is not true/false (yes/no, 1/0 also work)",
                "p.csv:4:3: manager_email: a person cannot be their own manager",
                "p.csv:4:1: email: `b@example.com` already appears on line 3",
            ]
        );
    }

    #[test]
    fn missing_and_unknown_columns_are_named() {
        let errs = parse_people("mail,name,team\nx,y,z\n", "p.csv").unwrap_err();
        let lines: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "p.csv:1:1: unknown column `mail`: the columns are email, name, manager_email, track, level, admin",
                "p.csv:1:3: unknown column `team`: the columns are email, name, manager_email, track, level, admin",
                "p.csv:1: email: the required column `email` is missing",
            ]
        );
    }
}
