//! What changed between two versions of a matrix, by stable key: levels, competencies, tracks,
//! cells (their titles), expectations and resources added, removed, renamed, changed or moved.
//! Resources have no key of their own: they are matched by title within their owner (an
//! expectation, or a cell).

use crate::matrix::{Cell, Matrix, Resource};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

/// The kind of thing a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Matrix,
    Level,
    Competency,
    Track,
    Cell,
    Expectation,
    Resource,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Matrix => "matrix",
            Self::Level => "level",
            Self::Competency => "competency",
            Self::Track => "track",
            Self::Cell => "cell",
            Self::Expectation => "expectation",
            Self::Resource => "resource",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    /// The display name changed; the key did not.
    Renamed,
    /// Another field changed (`field` says which).
    Changed,
    /// An expectation went to another cell.
    Moved,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Renamed => "renamed",
            Self::Changed => "changed",
            Self::Moved => "moved",
        }
    }
}

/// One difference. `key` is the stable key (`track/level` for a cell, `owner: title` for a
/// resource); `before`/`after` hold the old and new value where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub entity: Entity,
    pub kind: ChangeKind,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// The changes from one version to another, in matrix order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixDiff {
    pub changes: Vec<Change>,
}

struct Acc(Vec<Change>);

impl Acc {
    fn push(
        &mut self,
        entity: Entity,
        kind: ChangeKind,
        key: impl Into<String>,
        field: Option<&str>,
        before: Option<String>,
        after: Option<String>,
    ) {
        self.0.push(Change {
            entity,
            kind,
            key: key.into(),
            field: field.map(str::to_owned),
            before,
            after,
        });
    }
    fn field<T: PartialEq + ToString>(
        &mut self,
        entity: Entity,
        key: &str,
        field: &str,
        a: Option<T>,
        b: Option<T>,
    ) {
        if a != b {
            let kind = if field == "name" {
                ChangeKind::Renamed
            } else {
                ChangeKind::Changed
            };
            let field = (field != "name").then_some(field);
            self.push(
                entity,
                kind,
                key,
                field,
                a.map(|v| v.to_string()),
                b.map(|v| v.to_string()),
            );
        }
    }
    /// Added and removed items of two keyed lists; returns the pairs present in both.
    fn keyed<'a, T>(
        &mut self,
        entity: Entity,
        from: &'a [T],
        to: &'a [T],
        key: impl Fn(&T) -> String,
        label: impl Fn(&T) -> String,
    ) -> Vec<(&'a T, &'a T)> {
        let old: HashMap<String, &T> = from.iter().map(|x| (key(x), x)).collect();
        let new: HashMap<String, &T> = to.iter().map(|x| (key(x), x)).collect();
        for x in from {
            if !new.contains_key(&key(x)) {
                self.push(
                    entity,
                    ChangeKind::Removed,
                    key(x),
                    None,
                    Some(label(x)),
                    None,
                );
            }
        }
        let mut both = Vec::new();
        for x in to {
            match old.get(&key(x)) {
                None => self.push(
                    entity,
                    ChangeKind::Added,
                    key(x),
                    None,
                    None,
                    Some(label(x)),
                ),
                Some(o) => both.push((*o, x)),
            }
        }
        both
    }
    fn resources(&mut self, owner: &str, from: &[Resource], to: &[Resource]) {
        let key = |r: &Resource| format!("{owner}: {}", r.title);
        for (a, b) in self.keyed(Entity::Resource, from, to, key, |r| r.title.clone()) {
            let k = key(b);
            self.field(Entity::Resource, &k, "url", a.url.clone(), b.url.clone());
            self.field(
                Entity::Resource,
                &k,
                "kind",
                Some(a.kind.as_str()),
                Some(b.kind.as_str()),
            );
            self.field(
                Entity::Resource,
                &k,
                "description",
                a.description.clone(),
                b.description.clone(),
            );
        }
    }
}

/// Where each expectation sits: `track/level`, with the expectation.
fn expectation_places(m: &Matrix) -> Vec<(String, &crate::matrix::Expectation)> {
    m.tracks()
        .iter()
        .flat_map(|t| {
            t.cells.iter().flat_map(move |c| {
                c.expectations
                    .iter()
                    .map(move |e| (format!("{}/{}", t.key, c.level), e))
            })
        })
        .collect()
}

/// Compares two versions of a matrix.
pub fn diff(from: &Matrix, to: &Matrix) -> MatrixDiff {
    let mut acc = Acc(Vec::new());
    let mk = from.key().to_string();
    acc.field(
        Entity::Matrix,
        &mk,
        "name",
        Some(from.name()),
        Some(to.name()),
    );
    acc.field(
        Entity::Matrix,
        &mk,
        "description",
        from.description(),
        to.description(),
    );

    let levels = acc.keyed(
        Entity::Level,
        from.levels(),
        to.levels(),
        |l| l.key.to_string(),
        |l| l.name.clone(),
    );
    for (a, b) in levels {
        let k = b.key.as_str();
        acc.field(Entity::Level, k, "name", Some(&a.name), Some(&b.name));
        acc.field(Entity::Level, k, "rank", Some(a.rank), Some(b.rank));
        acc.field(
            Entity::Level,
            k,
            "description",
            a.description.as_ref(),
            b.description.as_ref(),
        );
    }
    let comps = acc.keyed(
        Entity::Competency,
        from.competencies(),
        to.competencies(),
        |c| c.key.to_string(),
        |c| c.name.clone(),
    );
    for (a, b) in comps {
        let k = b.key.as_str();
        acc.field(Entity::Competency, k, "name", Some(&a.name), Some(&b.name));
        acc.field(
            Entity::Competency,
            k,
            "description",
            a.description.as_ref(),
            b.description.as_ref(),
        );
    }

    let tracks = acc.keyed(
        Entity::Track,
        from.tracks(),
        to.tracks(),
        |t| t.key.to_string(),
        |t| t.name.clone(),
    );
    let order =
        |m: &Matrix| -> Vec<String> { m.tracks().iter().map(|t| t.key.to_string()).collect() };
    let (old_order, new_order): (Vec<String>, Vec<String>) = (order(from), order(to));
    let common = |xs: &[String], other: &[String]| -> Vec<String> {
        xs.iter().filter(|x| other.contains(x)).cloned().collect()
    };
    if common(&old_order, &new_order) != common(&new_order, &old_order) {
        acc.push(
            Entity::Matrix,
            ChangeKind::Changed,
            mk.clone(),
            Some("track order"),
            Some(old_order.join(", ")),
            Some(new_order.join(", ")),
        );
    }
    for (a, b) in tracks {
        let tk = b.key.as_str();
        acc.field(Entity::Track, tk, "name", Some(&a.name), Some(&b.name));
        acc.field(
            Entity::Track,
            tk,
            "description",
            a.description.as_ref(),
            b.description.as_ref(),
        );
        let cell_key = |c: &Cell| format!("{tk}/{}", c.level);
        let cells = acc.keyed(Entity::Cell, &a.cells, &b.cells, cell_key, |c| {
            c.titles.join(" / ")
        });
        for (ca, cb) in cells {
            let ck = cell_key(cb);
            acc.field(
                Entity::Cell,
                &ck,
                "titles",
                Some(ca.titles.join(" / ")),
                Some(cb.titles.join(" / ")),
            );
            let keys = |c: &Cell| -> Vec<String> {
                c.expectations.iter().map(|e| e.key.to_string()).collect()
            };
            let (ka, kb) = (keys(ca), keys(cb));
            if common(&ka, &kb) != common(&kb, &ka) {
                acc.push(
                    Entity::Cell,
                    ChangeKind::Changed,
                    ck.clone(),
                    Some("expectation order"),
                    Some(ka.join(", ")),
                    Some(kb.join(", ")),
                );
            }
            acc.resources(&ck, &ca.resources, &cb.resources);
        }
    }

    // Expectations are keyed across the whole matrix, so a move between cells is one change.
    let old = expectation_places(from);
    let new = expectation_places(to);
    let old_by: BTreeMap<&str, &(String, &crate::matrix::Expectation)> =
        old.iter().map(|p| (p.1.key.as_str(), p)).collect();
    let new_by: BTreeMap<&str, &(String, &crate::matrix::Expectation)> =
        new.iter().map(|p| (p.1.key.as_str(), p)).collect();
    for (place, e) in &old {
        if !new_by.contains_key(e.key.as_str()) {
            acc.push(
                Entity::Expectation,
                ChangeKind::Removed,
                e.key.to_string(),
                None,
                Some(format!("{} ({place})", e.name)),
                None,
            );
        }
    }
    for (place, e) in &new {
        let k = e.key.as_str();
        let Some((old_place, o)) = old_by.get(k).map(|p| (&p.0, p.1)) else {
            acc.push(
                Entity::Expectation,
                ChangeKind::Added,
                k,
                None,
                None,
                Some(format!("{} ({place})", e.name)),
            );
            continue;
        };
        if old_place != place {
            acc.push(
                Entity::Expectation,
                ChangeKind::Moved,
                k,
                None,
                Some(old_place.clone()),
                Some(place.clone()),
            );
        }
        acc.field(Entity::Expectation, k, "name", Some(&o.name), Some(&e.name));
        acc.field(
            Entity::Expectation,
            k,
            "description",
            o.description.as_ref(),
            e.description.as_ref(),
        );
        acc.field(
            Entity::Expectation,
            k,
            "competency",
            o.competency.as_ref().map(|c| c.to_string()),
            e.competency.as_ref().map(|c| c.to_string()),
        );
        acc.resources(k, &o.resources, &e.resources);
    }
    MatrixDiff { changes: acc.0 }
}

impl MatrixDiff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many changes of each kind, such as `3 added, 1 renamed`.
    pub fn summary(&self) -> String {
        if self.changes.is_empty() {
            return "no changes".into();
        }
        let kinds = [
            ChangeKind::Added,
            ChangeKind::Removed,
            ChangeKind::Renamed,
            ChangeKind::Changed,
            ChangeKind::Moved,
        ];
        kinds
            .iter()
            .filter_map(|k| {
                let n = self.changes.iter().filter(|c| c.kind == *k).count();
                (n > 0).then(|| format!("{n} {}", k.as_str()))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One line per change, for a terminal: `+` added, `-` removed, `~` renamed or changed,
    /// `>` moved; then the summary.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for c in &self.changes {
            let what = format!("{} `{}`", c.entity.as_str(), c.key);
            let b = c.before.as_deref().unwrap_or("(none)");
            let a = c.after.as_deref().unwrap_or("(none)");
            let _ = match c.kind {
                ChangeKind::Added => writeln!(out, "+ {what}: {a}"),
                ChangeKind::Removed => writeln!(out, "- {what}: {b}"),
                ChangeKind::Renamed => writeln!(out, "~ {what} renamed: \"{b}\" -> \"{a}\""),
                ChangeKind::Changed => writeln!(
                    out,
                    "~ {what} {}: {b} -> {a}",
                    c.field.as_deref().unwrap_or("changed")
                ),
                ChangeKind::Moved => writeln!(out, "> {what} moved: {b} -> {a}"),
            };
        }
        let _ = writeln!(out, "{}", self.summary());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::tests::small;
    use crate::matrix::{ExpectationDraft, ResourceDraft};

    fn kinds(d: &MatrixDiff) -> Vec<(Entity, ChangeKind, String)> {
        d.changes
            .iter()
            .map(|c| (c.entity, c.kind, c.key.clone()))
            .collect()
    }

    #[test]
    fn identical_versions_have_no_changes() {
        let m = Matrix::new(&small()).unwrap();
        let d = diff(&m, &m);
        assert!(d.is_empty());
        assert_eq!(d.summary(), "no changes");
    }

    #[test]
    fn every_kind_of_change_is_found_by_key() {
        let a = small();
        let mut b = a.clone();
        b.levels[0].name = "Novice".into();
        b.tracks[0].name = "Dev renamed".into();
        // Move the first expectation to the next cell, drop the last one, add one.
        let moved = b.tracks[0].cells[0].expectations.remove(0);
        let moved_key = moved.key.clone();
        b.tracks[0].cells[1].expectations.insert(0, moved);
        let removed = b.tracks[0].cells[1].expectations.pop().unwrap().key;
        b.tracks[0].cells[0].expectations.push(ExpectationDraft {
            key: "brand-new".into(),
            name: "Brand new".into(),
            ..Default::default()
        });
        b.tracks[0].cells[0].titles = vec!["Apprentice".into()];
        b.tracks[0].cells[0].resources.push(ResourceDraft {
            title: "A book".into(),
            ..Default::default()
        });
        let d = diff(&Matrix::new(&a).unwrap(), &Matrix::new(&b).unwrap());
        let k = kinds(&d);
        let level0 = a.levels[0].key.clone();
        let track0 = a.tracks[0].key.clone();
        let cell0 = format!("{track0}/{}", a.tracks[0].cells[0].level);
        for want in [
            (Entity::Level, ChangeKind::Renamed, level0),
            (Entity::Track, ChangeKind::Renamed, track0),
            (Entity::Cell, ChangeKind::Changed, cell0.clone()),
            (
                Entity::Resource,
                ChangeKind::Added,
                format!("{cell0}: A book"),
            ),
            (Entity::Expectation, ChangeKind::Moved, moved_key),
            (Entity::Expectation, ChangeKind::Removed, removed),
            (Entity::Expectation, ChangeKind::Added, "brand-new".into()),
        ] {
            assert!(k.contains(&want), "missing {want:?} in {k:#?}");
        }
        let text = d.render_text();
        assert!(
            text.contains("+ expectation `brand-new`: Brand new"),
            "{text}"
        );
        // The level and the track were renamed; the summary ends the text.
        assert!(d.summary().contains("2 renamed"), "{}", d.summary());
        assert!(text.ends_with(&format!("{}\n", d.summary())), "{text}");
        // And back: every addition is a removal.
        let back = diff(&Matrix::new(&b).unwrap(), &Matrix::new(&a).unwrap());
        assert!(kinds(&back).contains(&(
            Entity::Expectation,
            ChangeKind::Removed,
            "brand-new".into()
        )));
    }
}
