//! Small parsed text types shared by the model: keys, names and slugs.

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable machine key (`python-developer`, `basic-syntax`): 1 to 64 characters of lowercase
/// ASCII letters, digits, `-` and `_`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key(String);

impl Key {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        validate_key(s, Self::MAX_LEN).map(|()| Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Turns free text into a key: `"Basic syntax"` becomes `basic-syntax`.
    pub fn slugify(text: &str) -> Result<Self, DomainError> {
        let mut out = String::new();
        for c in text.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let trimmed: String = out
            .trim_end_matches('-')
            .chars()
            .take(Self::MAX_LEN)
            .collect();
        Self::parse(trimmed.trim_end_matches('-'))
    }
}

fn validate_key(s: &str, max: usize) -> Result<(), DomainError> {
    if s.is_empty() {
        return Err(DomainError::invalid("key", "must not be empty"));
    }
    if s.len() > max {
        return Err(DomainError::invalid(
            "key",
            format!("`{s}` is longer than {max} characters"),
        ));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(DomainError::invalid(
            "key",
            format!("`{s}` may only contain lowercase letters a-z, digits, `-` and `_`"),
        ));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(DomainError::invalid(
            "key",
            format!("`{s}` must start with a letter or digit"),
        ));
    }
    Ok(())
}

impl TryFrom<String> for Key {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        validate_key(&s, Self::MAX_LEN).map(|()| Self(s))
    }
}
impl From<Key> for String {
    fn from(k: Key) -> Self {
        k.0
    }
}
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl AsRef<str> for Key {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Human text that must not be blank (a name, a title), trimmed, at most `max` characters.
pub fn required_text(field: &'static str, s: &str, max: usize) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_or_explain() {
        for ok in ["python", "python-developer", "l1", "a_b", "0"] {
            assert!(Key::parse(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("", "must not be empty"),
            ("Python", "lowercase"),
            ("-x", "must start"),
            ("a b", "lowercase"),
        ] {
            let err = Key::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
        assert!(Key::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn slugify_makes_keys_from_names() {
        assert_eq!(
            Key::slugify("Basic syntax").unwrap().as_str(),
            "basic-syntax"
        );
        assert_eq!(
            Key::slugify("Neural networks with TensorFlow or Keras")
                .unwrap()
                .as_str(),
            "neural-networks-with-tensorflow-or-keras"
        );
        assert_eq!(
            Key::slugify("Robotic process automation (RPA) tools integration")
                .unwrap()
                .as_str(),
            "robotic-process-automation-rpa-tools-integration"
        );
        assert!(Key::slugify("!!!").is_err());
    }

    #[test]
    fn required_text_trims_and_rejects_blank() {
        assert_eq!(required_text("name", "  Ada ", 10).unwrap(), "Ada");
        assert!(required_text("name", "   ", 10).is_err());
        assert!(required_text("name", "abcdefghijk", 10).is_err());
    }
}
