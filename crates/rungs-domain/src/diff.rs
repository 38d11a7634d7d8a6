//! What changed between two versions of a matrix, by stable key: the level style, levels,
//! themes, competencies, tracks (their ladders and branch points), cells (titles and summaries),
//! criteria (text, title, examples, the cells that expect them) and resources added, removed,
//! renamed, changed or moved. Resources have no key of their own: they are matched by title
//! within their owner (a criterion, or a cell). A criterion's change carries its label, so that
//! people read what it says rather than its key.

use crate::matrix::{Cell, Expectation, Matrix, Resource};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

/// The kind of thing a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Matrix,
    Level,
    Theme,
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
            Self::Theme => "theme",
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
    /// An expectation went from its one cell to another one.
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
/// resource); `label` what a person reads for a criterion (its title or text); `before`/`after`
/// hold the old and new value where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub entity: Entity,
    pub kind: ChangeKind,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
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
            label: None,
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
    /// Labels the changes pushed since `from` that have no label yet.
    fn label_since(&mut self, from: usize, label: &str) {
        for c in &mut self.0[from..] {
            c.label.get_or_insert_with(|| label.to_owned());
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

/// The cells that expect a criterion, as `track/level`.
fn places(m: &Matrix, key: &str) -> Vec<String> {
    m.places_of(key)
        .iter()
        .map(|(t, c)| format!("{}/{}", t.key, c.level))
        .collect()
}

/// The keys of a list that both versions hold, in each version's order: `Some` when the order
/// changed.
fn reordered(a: &[String], b: &[String]) -> Option<(String, String)> {
    let common = |xs: &[String], other: &[String]| -> Vec<String> {
        xs.iter().filter(|x| other.contains(x)).cloned().collect()
    };
    let (ca, cb) = (common(a, b), common(b, a));
    (ca != cb).then(|| (a.join(", "), b.join(", ")))
}

fn joined(keys: &[crate::text::Key]) -> String {
    keys.iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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
    acc.field(
        Entity::Matrix,
        &mk,
        "level style",
        Some(from.level_style().as_str()),
        Some(to.level_style().as_str()),
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
    let themes = acc.keyed(
        Entity::Theme,
        from.themes(),
        to.themes(),
        |t| t.key.to_string(),
        |t| t.name.clone(),
    );
    for (a, b) in themes {
        let k = b.key.as_str();
        acc.field(Entity::Theme, k, "name", Some(&a.name), Some(&b.name));
        acc.field(
            Entity::Theme,
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
        acc.field(
            Entity::Competency,
            k,
            "theme",
            a.theme.as_ref().map(|t| t.to_string()),
            b.theme.as_ref().map(|t| t.to_string()),
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
    if let Some((b, a)) = reordered(&order(from), &order(to)) {
        acc.push(
            Entity::Matrix,
            ChangeKind::Changed,
            mk.clone(),
            Some("track order"),
            Some(b),
            Some(a),
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
        acc.field(
            Entity::Track,
            tk,
            "ladder",
            Some(joined(&a.ladder)),
            Some(joined(&b.ladder)),
        );
        let branch = |t: &crate::matrix::Track| {
            t.branches_from
                .as_ref()
                .map(|br| format!("{}/{}", br.track, br.level))
        };
        acc.field(Entity::Track, tk, "branches from", branch(a), branch(b));
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
            acc.field(
                Entity::Cell,
                &ck,
                "summary",
                ca.summary.as_ref(),
                cb.summary.as_ref(),
            );
            let keys = |c: &Cell| -> Vec<String> {
                c.expectations.iter().map(|e| e.key.to_string()).collect()
            };
            if let Some((b, a)) = reordered(&keys(ca), &keys(cb)) {
                acc.push(
                    Entity::Cell,
                    ChangeKind::Changed,
                    ck.clone(),
                    Some("expectation order"),
                    Some(b),
                    Some(a),
                );
            }
            acc.resources(&ck, &ca.resources, &cb.resources);
        }
    }

    // A criterion is defined once, whichever cells expect it: one set of changes per criterion,
    // and a change of the cells that expect it is one change.
    let (old, new) = (from.criteria(), to.criteria());
    let old_by: BTreeMap<&str, &Expectation> = old.iter().map(|e| (e.key.as_str(), *e)).collect();
    let new_keys: HashSet<&str> = new.iter().map(|e| e.key.as_str()).collect();
    for e in &old {
        if !new_keys.contains(e.key.as_str()) {
            let at = acc.0.len();
            acc.push(
                Entity::Expectation,
                ChangeKind::Removed,
                e.key.to_string(),
                None,
                Some(places(from, e.key.as_str()).join(", ")),
                None,
            );
            acc.label_since(at, &e.label());
        }
    }
    for e in &new {
        let k = e.key.as_str();
        let at = acc.0.len();
        let Some(o) = old_by.get(k) else {
            acc.push(
                Entity::Expectation,
                ChangeKind::Added,
                k,
                None,
                None,
                Some(places(to, k).join(", ")),
            );
            acc.label_since(at, &e.label());
            continue;
        };
        let (was, is) = (places(from, k), places(to, k));
        if was != is {
            let (kind, field) = if was.len() == 1 && is.len() == 1 {
                (ChangeKind::Moved, None)
            } else {
                (ChangeKind::Changed, Some("cells"))
            };
            acc.push(
                Entity::Expectation,
                kind,
                k,
                field,
                Some(was.join(", ")),
                Some(is.join(", ")),
            );
        }
        acc.field(Entity::Expectation, k, "name", Some(&o.name), Some(&e.name));
        acc.field(
            Entity::Expectation,
            k,
            "title",
            o.title.as_ref(),
            e.title.as_ref(),
        );
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
        acc.field(
            Entity::Expectation,
            k,
            "examples",
            Some(o.examples.join("\n")),
            Some(e.examples.join("\n")),
        );
        acc.resources(k, &o.resources, &e.resources);
        acc.label_since(at, &e.label());
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
    /// `>` moved; then the summary. A criterion is named by its label, then its key.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for c in &self.changes {
            let what = match &c.label {
                Some(l) => format!("{} \"{l}\" (`{}`)", c.entity.as_str(), c.key),
                None => format!("{} `{}`", c.entity.as_str(), c.key),
            };
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
            text.contains("+ expectation \"Brand new\" (`brand-new`): dev/l2"),
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

    #[test]
    fn framework_changes_are_found_and_criteria_are_named() {
        use crate::edit::{ExpectationPatch, MatrixEdit};
        use crate::matrix::{BranchDraft, ThemeDraft};
        let a = Matrix::new(&small()).unwrap();
        // A manager track branching from `dev` at `l2`, then more.
        let mut d = crate::edit::tests::branching().unwrap().to_draft();
        for e in [
            MatrixEdit::SetLevelStyle("restated".into()),
            MatrixEdit::AddTheme {
                theme: ThemeDraft {
                    key: "craft".into(),
                    name: "Craft".into(),
                    ..Default::default()
                },
                position: None,
            },
            MatrixEdit::UpdateCompetency {
                key: "tech".into(),
                patch: Default::default(),
                theme: Some("craft".into()),
            },
            MatrixEdit::LinkExpectation {
                key: "threads".into(),
                track: "mgr".into(),
                level: "m3".into(),
                position: None,
            },
            MatrixEdit::UpdateExpectation {
                key: "threads".into(),
                change: ExpectationPatch {
                    title: Some("Concurrency".into()),
                    examples: Some(vec!["Fixed a deadlock".into()]),
                    ..Default::default()
                },
            },
            MatrixEdit::SetSummary {
                track: "dev".into(),
                level: "l2".into(),
                summary: "Works on their own.".into(),
            },
        ] {
            e.apply(&mut d).unwrap();
        }
        let b = Matrix::new(&d).unwrap();
        let dd = diff(&a, &b);
        let fields: Vec<(Entity, &str, Option<&str>)> = dd
            .changes
            .iter()
            .map(|c| (c.entity, c.key.as_str(), c.field.as_deref()))
            .collect();
        for want in [
            (Entity::Matrix, "eng", Some("level style")),
            (Entity::Theme, "craft", None),
            (Entity::Competency, "tech", Some("theme")),
            (Entity::Level, "m3", None),
            (Entity::Track, "mgr", None),
            (Entity::Cell, "dev/l2", Some("summary")),
            (Entity::Expectation, "threads", Some("cells")),
            (Entity::Expectation, "threads", Some("title")),
            (Entity::Expectation, "threads", Some("examples")),
        ] {
            assert!(fields.contains(&want), "missing {want:?} in {fields:#?}");
        }
        // Every change of a criterion is labelled with what it now says.
        assert!(
            dd.changes
                .iter()
                .filter(|c| c.entity == Entity::Expectation)
                .all(|c| c.label.as_deref() == Some("Concurrency"))
        );
        let text = dd.render_text();
        assert!(
            text.contains(
                "~ expectation \"Concurrency\" (`threads`) cells: dev/l3 -> dev/l3, mgr/m3"
            ),
            "{text}"
        );
        // A ladder and a branch point changed the other way round.
        let back = diff(&b, &a);
        let ladder = back
            .changes
            .iter()
            .find(|c| c.key == "mgr")
            .expect("the track is removed");
        assert_eq!(ladder.kind, ChangeKind::Removed);
        let mut d2 = b.to_draft();
        MatrixEdit::SetLadder {
            track: "mgr".into(),
            levels: Some(vec!["m3".into()]),
            branches_from: Some(BranchDraft {
                track: "dev".into(),
                level: "l1".into(),
            }),
        }
        .apply(&mut d2)
        .unwrap();
        let c = diff(&b, &Matrix::new(&d2).unwrap());
        let got: Vec<_> = c
            .changes
            .iter()
            .map(|c| (c.field.as_deref(), c.before.as_deref(), c.after.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Some("ladder"), Some("l1, l2, m3"), Some("l1, m3")),
                (Some("branches from"), Some("dev/l2"), Some("dev/l1")),
            ]
        );
    }
}
