//! Located errors for imported files: file, line, column, field path and a message saying how
//! to fix it. Many errors are reported at once.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The file's name as the user gave it (`-` or a label for text that came from elsewhere).
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// The field, such as `tracks[0].cells[1].level` or the CSV column `manager_email`.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// All the errors found in one file; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FileErrors(pub Vec<FileError>);

impl fmt::Display for FileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "{n} error{} found; nothing was written:",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl FileErrors {
    pub fn one(file: &str, message: impl Into<String>) -> Self {
        Self(vec![FileError {
            file: file.to_owned(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
        }])
    }
}

/// The text of an uploaded file, checked for size and without a UTF-8 byte-order mark.
pub(crate) fn bounded<'a>(
    text: &'a str,
    file: &str,
    max: usize,
    what: &str,
) -> Result<&'a str, FileErrors> {
    if text.len() > max {
        return Err(FileErrors::one(
            file,
            format!(
                "the file is {} bytes; {what} are limited to {max} bytes",
                text.len()
            ),
        ));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(at) = text.find('\0') {
        // No database should decide: PostgreSQL refuses the text, the others would store it.
        let before = &text[..at];
        let line = before.matches('\n').count() as u64 + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
        return Err(FileErrors(vec![FileError {
            file: file.to_owned(),
            line: Some(line),
            column: Some(column),
            field: None,
            message: "the NUL character (U+0000) is not allowed in text".into(),
        }]));
    }
    Ok(text)
}

/// A CSV reader as spreadsheets need it: fields trimmed, rows of any length.
pub(crate) fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_is_refused_at_its_line_and_column() {
        let e = bounded(
            "email,name\nann@a.test,A\0nn\n",
            "people.csv",
            1 << 20,
            "people files",
        )
        .unwrap_err();
        assert_eq!((e.0[0].line, e.0[0].column), (Some(2), Some(13)));
        assert!(e.to_string().contains("NUL"));
        assert!(bounded("fine\n", "f", 100, "files").is_ok());
    }
}
