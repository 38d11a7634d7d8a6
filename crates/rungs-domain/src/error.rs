//! The domain's error type and the structured path that locates a violation inside an input.

use std::fmt;

/// One segment of a [`Path`] into a structured input (a matrix definition, a people file).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Field(&'static str),
    Index(usize),
}

/// Where in a structured input a violation was found, such as `tracks[2].cells[0].level`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Path(pub Vec<Seg>);

impl Path {
    pub fn root() -> Self {
        Self(Vec::new())
    }
    /// This path extended by a field name.
    pub fn field(&self, name: &'static str) -> Self {
        let mut p = self.0.clone();
        p.push(Seg::Field(name));
        Self(p)
    }
    /// This path extended by a list index.
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.0.clone();
        p.push(Seg::Index(i));
        Self(p)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Seg::Field(name) if first => write!(f, "{name}")?,
                Seg::Field(name) => write!(f, ".{name}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// One broken rule, with where it was found and a message that says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: Path,
    pub message: String,
}

impl Violation {
    pub fn new(path: Path, message: impl Into<String>) -> Self {
        Self {
            path,
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.0.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Everything that can go wrong in the domain: always bad input, never I/O.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A single value failed to parse (an email, a key, a rank...).
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A structured input broke one or more rules; all of them are listed.
    #[error("{} problem(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Violations(Vec<Violation>),
    /// Setting this manager would make someone their own (indirect) manager.
    #[error("reporting line cycle: {}", .chain.join(" -> "))]
    ReportingCycle { chain: Vec<String> },
    /// A promotion case cannot make this move from its current state.
    #[error("this promotion case is {from} and cannot be {action}")]
    Transition {
        from: crate::promotion::PromotionStatus,
        action: &'static str,
    },
    /// A rule about who may act was broken (for example approving one's own promotion).
    #[error("{0}")]
    Rule(String),
}

impl DomainError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_display_like_accessors() {
        let p = Path::root()
            .field("tracks")
            .index(2)
            .field("cells")
            .index(0)
            .field("level");
        assert_eq!(p.to_string(), "tracks[2].cells[0].level");
        assert_eq!(Path::root().to_string(), "");
    }
}
