//! People and reporting lines. Reporting lines form a forest inside one organisation: no cycles,
//! no manager from another organisation. Managerial rights follow the lines, direct and indirect.

use crate::{DomainError, OrgId, PersonId, text::required_text};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// An email address, trimmed and lower-cased; unique per organisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let e = s.trim().to_lowercase();
        let err = |m: &str| DomainError::invalid("email", format!("`{}` {m}", s.trim()));
        if e.len() > 254 {
            return Err(err("is longer than 254 characters"));
        }
        let Some((local, domain)) = e.split_once('@') else {
            return Err(err("has no `@`"));
        };
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(err("must look like name@example.com"));
        }
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(err("needs a domain such as example.com after the `@`"));
        }
        if e.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("must not contain spaces"));
        }
        Ok(Self(e))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> Self {
        e.0
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person in an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub org_id: OrgId,
    pub email: Email,
    pub display_name: String,
    pub manager_id: Option<PersonId>,
    pub is_admin: bool,
    pub active: bool,
}

/// What is needed to create a person; the manager is checked against the [`ReportingTree`].
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub email: Email,
    pub display_name: String,
    pub is_admin: bool,
}

impl NewPerson {
    pub fn new(email: Email, display_name: &str, is_admin: bool) -> Result<Self, DomainError> {
        Ok(Self {
            email,
            display_name: required_text("name", display_name, 200)?,
            is_admin,
        })
    }
}

/// The reporting lines of one organisation, for the questions the rules ask of them.
#[derive(Debug, Clone, Default)]
pub struct ReportingTree {
    manager_of: HashMap<PersonId, PersonId>,
    reports_of: HashMap<PersonId, Vec<PersonId>>,
}

impl ReportingTree {
    /// Builds the tree from `(person, manager)` pairs and rejects a cycle, naming it.
    pub fn new(
        edges: impl IntoIterator<Item = (PersonId, Option<PersonId>)>,
    ) -> Result<Self, DomainError> {
        let mut tree = Self::default();
        for (person, manager) in edges {
            if let Some(m) = manager {
                tree.manager_of.insert(person, m);
                tree.reports_of.entry(m).or_default().push(person);
            }
        }
        // Each walk up stops at someone already known to lead to the top, so the whole check
        // is linear in the number of people, however deep the lines.
        let mut safe: HashSet<PersonId> = HashSet::new();
        for &start in tree.manager_of.keys() {
            let mut path: Vec<PersonId> = Vec::new();
            let mut on_path: HashSet<PersonId> = HashSet::new();
            let mut cur = start;
            loop {
                if safe.contains(&cur) {
                    break;
                }
                if on_path.contains(&cur) {
                    let from = path.iter().position(|p| *p == cur).unwrap_or(0);
                    let mut chain = path[from..].to_vec();
                    chain.push(cur);
                    return Err(DomainError::ReportingCycle {
                        chain: chain.iter().map(ToString::to_string).collect(),
                    });
                }
                path.push(cur);
                on_path.insert(cur);
                match tree.manager_of.get(&cur) {
                    Some(&m) => cur = m,
                    None => break,
                }
            }
            safe.extend(path);
        }
        Ok(tree)
    }

    pub fn manager_of(&self, person: PersonId) -> Option<PersonId> {
        self.manager_of.get(&person).copied()
    }

    /// Everyone below `manager`, direct and indirect, breadth first.
    pub fn reports(&self, manager: PersonId) -> Vec<PersonId> {
        let mut out = Vec::new();
        let mut queue = std::collections::VecDeque::from([manager]);
        let mut seen = HashSet::from([manager]);
        while let Some(m) = queue.pop_front() {
            for &r in self
                .reports_of
                .get(&m)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if seen.insert(r) {
                    out.push(r);
                    queue.push_back(r);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a da@example.com",
            "a@b@c.d",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    fn ids(n: usize) -> Vec<PersonId> {
        (0..n).map(|_| PersonId::new()).collect()
    }

    #[test]
    fn tree_answers_who_manages_whom() {
        let p = ids(5);
        // 0 <- 1 <- 2, 0 <- 3, 4 alone
        let tree = ReportingTree::new([
            (p[0], None),
            (p[1], Some(p[0])),
            (p[2], Some(p[1])),
            (p[3], Some(p[0])),
            (p[4], None),
        ])
        .unwrap();
        assert_eq!(tree.manager_of(p[2]), Some(p[1]));
        assert_eq!(tree.manager_of(p[4]), None);
        let mut below = tree.reports(p[0]);
        below.sort();
        let mut expected = vec![p[1], p[2], p[3]];
        expected.sort();
        assert_eq!(below, expected);
        assert!(tree.reports(p[2]).is_empty());
    }

    #[test]
    fn cycles_are_rejected_at_build() {
        let p = ids(3);
        let err = ReportingTree::new([(p[0], Some(p[2])), (p[1], Some(p[0])), (p[2], Some(p[1]))])
            .unwrap_err();
        assert!(matches!(err, DomainError::ReportingCycle { ref chain } if chain.len() == 4));
    }

    /// One line 100,000 deep is checked once (every walk stops where an earlier one reached the
    /// top), and a cycle at the end of a long line is named by its members only.
    #[test]
    fn deep_lines_are_checked_in_one_pass() {
        let p = ids(100_000);
        let line = || (1..p.len()).map(|i| (p[i], Some(p[i - 1])));
        assert!(ReportingTree::new(line()).is_ok());
        // The top three now manage each other; everyone below leads into that cycle.
        let looped = line().chain([(p[0], Some(p[2]))]);
        let err = ReportingTree::new(looped).unwrap_err();
        let DomainError::ReportingCycle { chain } = err else {
            panic!("{err}");
        };
        assert_eq!(chain.len(), 4, "{chain:?}");
        assert_eq!(chain.first(), chain.last());
        let top: Vec<String> = p[..3].iter().map(ToString::to_string).collect();
        assert!(chain.iter().all(|c| top.contains(c)), "{chain:?}");
    }
}
