//! Field-by-field edits of a matrix draft: add, rename, reorder and remove levels, tracks,
//! titles, expectations and resources. An edit applies to the unchecked [`MatrixDraft`]; the
//! caller then checks the whole result with [`Matrix::new`](crate::matrix::Matrix::new), so an
//! edit can never leave an invalid draft behind.

use crate::DomainError;
use crate::matrix::{
    BranchDraft, CellDraft, CompetencyDraft, ExpectationDraft, LevelDraft, MatrixDraft,
    ResourceDraft, ThemeDraft, TrackDraft,
};

/// What a resource hangs off: an expectation, or a cell (a track at a level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceOwner {
    Expectation(String),
    Cell { track: String, level: String },
}

/// Fields to change; `None` leaves a field as it is, and an empty description clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    pub key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
}

/// What to change in a criterion; `None` leaves a field as it is. `patch.key` renames it
/// everywhere it is expected; an empty `title` or `competency` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectationPatch {
    pub patch: Patch,
    pub title: Option<String>,
    pub competency: Option<String>,
    pub examples: Option<Vec<String>>,
}

/// A cell: a track at a level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellRef {
    pub track: String,
    pub level: String,
}

/// One edit. Positions count from 0; `None` means at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatrixEdit {
    /// The matrix's name and description (its key never changes).
    SetMatrix(Patch),
    /// `cumulative` or `restated`.
    SetLevelStyle(String),
    AddLevel {
        level: LevelDraft,
        position: Option<usize>,
    },
    /// Renames, describes, or (with `rank`) puts a level at a rank; two levels of different
    /// branches may share one.
    UpdateLevel {
        key: String,
        patch: Patch,
        rank: Option<u32>,
    },
    /// Moves a level on the ladder; ranks follow the order of the list, and levels that shared
    /// a rank (rungs of different branches) keep sharing it.
    MoveLevel {
        key: String,
        position: usize,
    },
    /// Removes a level and every track's cell at that level.
    RemoveLevel {
        key: String,
    },
    AddTrack {
        track: TrackDraft,
        position: Option<usize>,
    },
    UpdateTrack {
        key: String,
        patch: Patch,
    },
    MoveTrack {
        key: String,
        position: usize,
    },
    RemoveTrack {
        key: String,
    },
    /// Sets a track's ladder: its own levels (`None`: every level of the matrix, or for a
    /// branch the levels of its cells) and the track and level it branches from.
    SetLadder {
        track: String,
        levels: Option<Vec<String>>,
        branches_from: Option<BranchDraft>,
    },
    AddTheme {
        theme: ThemeDraft,
        position: Option<usize>,
    },
    /// A new key follows into every competency of the theme.
    UpdateTheme {
        key: String,
        patch: Patch,
    },
    MoveTheme {
        key: String,
        position: usize,
    },
    /// Its competencies stay, without a theme.
    RemoveTheme {
        key: String,
    },
    AddCompetency {
        competency: CompetencyDraft,
        position: Option<usize>,
    },
    /// A new key follows into every criterion of the competency; `theme`: a theme key, or
    /// empty to clear it.
    UpdateCompetency {
        key: String,
        patch: Patch,
        theme: Option<String>,
    },
    MoveCompetency {
        key: String,
        position: usize,
    },
    /// Its criteria stay, without a competency.
    RemoveCompetency {
        key: String,
    },
    /// Sets or (with an empty text) clears the summary of a track at a level.
    SetSummary {
        track: String,
        level: String,
        summary: String,
    },
    /// Sets the titles of a track at a level (creating the cell if the track skipped the level;
    /// an empty list on a cell without expectations or resources removes the cell).
    SetTitles {
        track: String,
        level: String,
        titles: Vec<String>,
    },
    AddExpectation {
        track: String,
        level: String,
        expectation: ExpectationDraft,
        position: Option<usize>,
    },
    /// Renames a criterion, or changes its text, title, description, competency or examples,
    /// wherever it is expected.
    UpdateExpectation {
        key: String,
        change: ExpectationPatch,
    },
    /// Expects a criterion defined elsewhere in the matrix in one more cell as well.
    LinkExpectation {
        key: String,
        track: String,
        level: String,
        position: Option<usize>,
    },
    /// No longer expects a criterion in one cell; it stays wherever else it is expected (and
    /// leaves the matrix when this was its only cell).
    UnlinkExpectation {
        key: String,
        track: String,
        level: String,
    },
    /// Moves an expectation to another cell and/or position: from the cell `from` when the
    /// criterion is expected in several, from its only cell otherwise.
    MoveExpectation {
        key: String,
        from: Option<CellRef>,
        track: String,
        level: String,
        position: Option<usize>,
    },
    /// Removes a criterion from every cell that expects it.
    RemoveExpectation {
        key: String,
    },
    AddResource {
        owner: ResourceOwner,
        resource: ResourceDraft,
        position: Option<usize>,
    },
    /// Replaces the resource at `index` of its owner.
    UpdateResource {
        owner: ResourceOwner,
        index: usize,
        resource: ResourceDraft,
    },
    RemoveResource {
        owner: ResourceOwner,
        index: usize,
    },
}

fn missing(what: &'static str, key: &str) -> DomainError {
    DomainError::invalid(what, format!("the draft has no {what} `{key}`"))
}

fn insert_at<T>(list: &mut Vec<T>, item: T, position: Option<usize>) {
    let at = position.unwrap_or(list.len()).min(list.len());
    list.insert(at, item);
}

/// An edited optional text: blank clears it.
fn non_blank(v: &str) -> Option<String> {
    (!v.trim().is_empty()).then(|| v.to_owned())
}

fn apply_patch(
    key: &mut String,
    name: &mut String,
    description: &mut Option<String>,
    patch: &Patch,
) {
    if let Some(k) = &patch.key {
        *key = k.clone();
    }
    if let Some(n) = &patch.name {
        *name = n.clone();
    }
    if let Some(d) = &patch.description {
        *description = non_blank(d);
    }
}

/// Puts the levels in ladder order, so positions mean rungs.
fn sort_by_rank(levels: &mut [LevelDraft]) {
    levels.sort_by_key(|l| l.rank.unwrap_or(u32::MAX));
}

/// Ranks follow the list's order after a level is added or moved. Neighbours that shared a rank
/// (rungs of different branches) keep sharing it, unless one of them is the level just placed.
fn set_ranks(levels: &mut [LevelDraft], placed: &str) {
    let mut rank = 0;
    let mut before: Option<(Option<u32>, bool)> = None;
    for l in levels.iter_mut() {
        let is_placed = l.key == placed;
        let tie = !is_placed && matches!(before, Some((Some(r), false)) if l.rank == Some(r));
        if !tie {
            rank += 1;
        }
        before = Some((l.rank, is_placed));
        l.rank = Some(rank);
    }
}

/// Points every reference to `old` (a theme, a competency) at `new`, or clears it.
fn repoint<'a>(
    refs: impl Iterator<Item = &'a mut Option<String>>,
    old: &str,
    new: Option<&String>,
) {
    for r in refs.filter(|r| r.as_deref() == Some(old)) {
        *r = new.cloned();
    }
}

/// The index of the item with `key` in a keyed list.
fn index_of<T>(
    list: &[T],
    what: &'static str,
    key: &str,
    k: impl Fn(&T) -> &str,
) -> Result<usize, DomainError> {
    list.iter()
        .position(|x| k(x) == key)
        .ok_or_else(|| missing(what, key))
}

fn track_mut<'a>(d: &'a mut MatrixDraft, key: &str) -> Result<&'a mut TrackDraft, DomainError> {
    d.tracks
        .iter_mut()
        .find(|t| t.key == key)
        .ok_or_else(|| missing("track", key))
}

/// The cell of `track` at `level`, created (in rank order) when the track skipped it.
fn cell_mut<'a>(
    d: &'a mut MatrixDraft,
    track: &str,
    level: &str,
) -> Result<&'a mut CellDraft, DomainError> {
    let rank_of: Vec<(String, u32)> = d
        .levels
        .iter()
        .map(|l| (l.key.clone(), l.rank.unwrap_or(u32::MAX)))
        .collect();
    let rank = |k: &str| rank_of.iter().find(|(key, _)| key == k).map(|(_, r)| *r);
    let Some(r) = rank(level) else {
        return Err(missing("level", level));
    };
    let t = track_mut(d, track)?;
    let i = match t.cells.iter().position(|c| c.level == level) {
        Some(i) => i,
        None => {
            let at = t
                .cells
                .iter()
                .position(|c| rank(&c.level).is_some_and(|cr| cr > r))
                .unwrap_or(t.cells.len());
            t.cells.insert(
                at,
                CellDraft {
                    level: level.to_owned(),
                    ..Default::default()
                },
            );
            at
        }
    };
    Ok(&mut t.cells[i])
}

/// Every place a criterion is mentioned: (track index, cell index, expectation index).
fn places(d: &MatrixDraft, key: &str) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    for (ti, t) in d.tracks.iter().enumerate() {
        for (ci, c) in t.cells.iter().enumerate() {
            if let Some(ei) = c.expectations.iter().position(|e| e.key == key) {
                out.push((ti, ci, ei));
            }
        }
    }
    out
}

/// Where a criterion is defined: the first mention that is more than a reference (the first
/// mention when all are references, which the matrix's rules then refuse).
fn find_expectation(d: &MatrixDraft, key: &str) -> Result<(usize, usize, usize), DomainError> {
    let all = places(d, key);
    all.iter()
        .copied()
        .find(|&(ti, ci, ei)| !d.tracks[ti].cells[ci].expectations[ei].is_reference())
        .or_else(|| all.first().copied())
        .ok_or_else(|| missing("expectation", key))
}

fn place_name(d: &MatrixDraft, (ti, ci, _): (usize, usize, usize)) -> String {
    format!("{}/{}", d.tracks[ti].key, d.tracks[ti].cells[ci].level)
}

/// Takes a criterion out of one cell. When that mention held the definition and the criterion
/// is expected elsewhere, the definition moves to the next mention, so nothing is lost; the
/// mention returned is then a reference.
fn detach(
    d: &mut MatrixDraft,
    key: &str,
    track: &str,
    level: &str,
) -> Result<ExpectationDraft, DomainError> {
    let all = places(d, key);
    if all.is_empty() {
        return Err(missing("expectation", key));
    }
    let Some(&at) = all
        .iter()
        .find(|&&(ti, ci, _)| d.tracks[ti].key == track && d.tracks[ti].cells[ci].level == level)
    else {
        return Err(DomainError::invalid(
            "expectation",
            format!(
                "`{track}/{level}` does not expect `{key}`: it is expected at {}",
                all.iter()
                    .map(|p| place_name(d, *p))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let (ti, ci, ei) = at;
    let removed = d.tracks[ti].cells[ci].expectations.remove(ei);
    if removed.is_reference() {
        return Ok(removed);
    }
    match all.iter().find(|p| **p != at) {
        None => Ok(removed),
        Some(&(tj, cj, ej)) => {
            // Indexes of other cells are unchanged by the removal.
            let reference = ExpectationDraft::reference(key);
            let heir = &mut d.tracks[tj].cells[cj].expectations[ej];
            if heir.is_reference() {
                *heir = removed;
            }
            Ok(reference)
        }
    }
}

/// Every mention of every criterion.
fn all_mentions_mut(d: &mut MatrixDraft) -> impl Iterator<Item = &mut ExpectationDraft> {
    d.tracks
        .iter_mut()
        .flat_map(|t| t.cells.iter_mut())
        .flat_map(|c| c.expectations.iter_mut())
}

/// Every mention of a criterion.
fn mentions_mut<'a>(
    d: &'a mut MatrixDraft,
    key: &'a str,
) -> impl Iterator<Item = &'a mut ExpectationDraft> + 'a {
    all_mentions_mut(d).filter(move |e| e.key == key)
}

fn resources_mut<'a>(
    d: &'a mut MatrixDraft,
    owner: &ResourceOwner,
) -> Result<&'a mut Vec<ResourceDraft>, DomainError> {
    match owner {
        ResourceOwner::Expectation(k) => {
            let (ti, ci, ei) = find_expectation(d, k)?;
            Ok(&mut d.tracks[ti].cells[ci].expectations[ei].resources)
        }
        ResourceOwner::Cell { track, level } => Ok(&mut cell_mut(d, track, level)?.resources),
    }
}

fn resource_index(list: &[ResourceDraft], index: usize) -> Result<usize, DomainError> {
    if index < list.len() {
        Ok(index)
    } else {
        Err(DomainError::invalid(
            "resource",
            format!(
                "there is no resource at index {index}: this owner has {} (counting from 0)",
                list.len()
            ),
        ))
    }
}

fn move_to<T>(list: &mut Vec<T>, from: usize, position: usize) {
    let item = list.remove(from);
    insert_at(list, item, Some(position));
}

impl MatrixEdit {
    /// Applies the edit to `d`. Errors name what is missing; rules on the result (unique keys,
    /// valid names...) are checked afterwards by `Matrix::new`.
    pub fn apply(&self, d: &mut MatrixDraft) -> Result<(), DomainError> {
        match self {
            Self::SetMatrix(p) => {
                if let Some(k) = &p.key
                    && *k != d.key
                {
                    return Err(DomainError::invalid(
                        "key",
                        "a matrix's key never changes: create a new matrix instead",
                    ));
                }
                let mut key = d.key.clone();
                apply_patch(&mut key, &mut d.name, &mut d.description, p);
            }
            Self::SetLevelStyle(style) => {
                d.level_style = Some(style.clone());
            }
            Self::AddLevel { level, position } => {
                sort_by_rank(&mut d.levels);
                let mut level = level.clone();
                level.rank = None;
                insert_at(&mut d.levels, level.clone(), *position);
                set_ranks(&mut d.levels, &level.key);
            }
            Self::UpdateLevel { key, patch, rank } => {
                let l = d
                    .levels
                    .iter_mut()
                    .find(|l| l.key == *key)
                    .ok_or_else(|| missing("level", key))?;
                apply_patch(&mut l.key, &mut l.name, &mut l.description, patch);
                if rank.is_some() {
                    l.rank = *rank;
                    sort_by_rank(&mut d.levels);
                }
                if let Some(new) = &patch.key {
                    for t in &mut d.tracks {
                        for c in &mut t.cells {
                            if c.level == *key {
                                c.level = new.clone();
                            }
                        }
                        for l in t.levels.iter_mut().flatten() {
                            if l == key {
                                *l = new.clone();
                            }
                        }
                        if let Some(b) = &mut t.branches_from
                            && b.level == *key
                        {
                            b.level = new.clone();
                        }
                    }
                }
            }
            Self::MoveLevel { key, position } => {
                sort_by_rank(&mut d.levels);
                let i = d
                    .levels
                    .iter()
                    .position(|l| l.key == *key)
                    .ok_or_else(|| missing("level", key))?;
                move_to(&mut d.levels, i, *position);
                set_ranks(&mut d.levels, key);
            }
            Self::RemoveLevel { key } => {
                let before = d.levels.len();
                d.levels.retain(|l| l.key != *key);
                if d.levels.len() == before {
                    return Err(missing("level", key));
                }
                for t in &mut d.tracks {
                    t.cells.retain(|c| c.level != *key);
                    if let Some(list) = &mut t.levels {
                        list.retain(|l| l != key);
                    }
                }
            }
            Self::AddTrack { track, position } => {
                insert_at(&mut d.tracks, track.clone(), *position);
            }
            Self::UpdateTrack { key, patch } => {
                let t = track_mut(d, key)?;
                apply_patch(&mut t.key, &mut t.name, &mut t.description, patch);
                if let Some(new) = &patch.key {
                    for b in d.tracks.iter_mut().filter_map(|t| t.branches_from.as_mut()) {
                        if b.track == *key {
                            b.track = new.clone();
                        }
                    }
                }
            }
            Self::MoveTrack { key, position } => {
                let i = d
                    .tracks
                    .iter()
                    .position(|t| t.key == *key)
                    .ok_or_else(|| missing("track", key))?;
                move_to(&mut d.tracks, i, *position);
            }
            Self::RemoveTrack { key } => {
                let before = d.tracks.len();
                d.tracks.retain(|t| t.key != *key);
                if d.tracks.len() == before {
                    return Err(missing("track", key));
                }
            }
            Self::SetLadder {
                track,
                levels,
                branches_from,
            } => {
                let t = track_mut(d, track)?;
                t.levels = levels.clone();
                t.branches_from = branches_from.clone();
            }
            Self::AddTheme { theme, position } => {
                insert_at(&mut d.themes, theme.clone(), *position);
            }
            Self::UpdateTheme { key, patch } => {
                let i = index_of(&d.themes, "theme", key, |t| &t.key)?;
                let t = &mut d.themes[i];
                apply_patch(&mut t.key, &mut t.name, &mut t.description, patch);
                if let Some(new) = &patch.key {
                    repoint(
                        d.competencies.iter_mut().map(|c| &mut c.theme),
                        key,
                        Some(new),
                    );
                }
            }
            Self::MoveTheme { key, position } => {
                let i = index_of(&d.themes, "theme", key, |t| &t.key)?;
                move_to(&mut d.themes, i, *position);
            }
            Self::RemoveTheme { key } => {
                let i = index_of(&d.themes, "theme", key, |t| &t.key)?;
                d.themes.remove(i);
                repoint(d.competencies.iter_mut().map(|c| &mut c.theme), key, None);
            }
            Self::AddCompetency {
                competency,
                position,
            } => {
                insert_at(&mut d.competencies, competency.clone(), *position);
            }
            Self::UpdateCompetency { key, patch, theme } => {
                let i = index_of(&d.competencies, "competency", key, |c| &c.key)?;
                let c = &mut d.competencies[i];
                apply_patch(&mut c.key, &mut c.name, &mut c.description, patch);
                if let Some(t) = theme {
                    c.theme = non_blank(t);
                }
                if let Some(new) = &patch.key {
                    repoint(
                        all_mentions_mut(d).map(|e| &mut e.competency),
                        key,
                        Some(new),
                    );
                }
            }
            Self::MoveCompetency { key, position } => {
                let i = index_of(&d.competencies, "competency", key, |c| &c.key)?;
                move_to(&mut d.competencies, i, *position);
            }
            Self::RemoveCompetency { key } => {
                let i = index_of(&d.competencies, "competency", key, |c| &c.key)?;
                d.competencies.remove(i);
                repoint(all_mentions_mut(d).map(|e| &mut e.competency), key, None);
            }
            Self::SetSummary {
                track,
                level,
                summary,
            } => {
                let c = cell_mut(d, track, level)?;
                c.summary = non_blank(summary);
            }
            Self::SetTitles {
                track,
                level,
                titles,
            } => {
                let c = cell_mut(d, track, level)?;
                c.titles = titles.clone();
                if c.titles.is_empty()
                    && c.summary.is_none()
                    && c.expectations.is_empty()
                    && c.resources.is_empty()
                {
                    let t = track_mut(d, track)?;
                    t.cells.retain(|c| c.level != *level);
                }
            }
            Self::AddExpectation {
                track,
                level,
                expectation,
                position,
            } => {
                let c = cell_mut(d, track, level)?;
                insert_at(&mut c.expectations, expectation.clone(), *position);
            }
            Self::UpdateExpectation { key, change } => {
                let (ti, ci, ei) = find_expectation(d, key)?;
                let patch = &change.patch;
                if let Some(new) = patch.key.as_deref().filter(|k| *k != key)
                    && find_expectation(d, new).is_ok()
                {
                    return Err(DomainError::invalid(
                        "key",
                        format!(
                            "duplicate expectation key `{new}`: another criterion has it; criterion keys are unique in a matrix"
                        ),
                    ));
                }
                let e = &mut d.tracks[ti].cells[ci].expectations[ei];
                apply_patch(&mut e.key, &mut e.name, &mut e.description, patch);
                if let Some(t) = &change.title {
                    e.title = non_blank(t);
                }
                if let Some(c) = &change.competency {
                    e.competency = non_blank(c);
                }
                if let Some(x) = &change.examples {
                    e.examples = x.clone();
                }
                // A rename follows the criterion into every cell that refers to it.
                if let Some(new) = &patch.key {
                    for m in mentions_mut(d, key) {
                        m.key = new.clone();
                    }
                }
            }
            Self::LinkExpectation {
                key,
                track,
                level,
                position,
            } => {
                find_expectation(d, key)?;
                let c = cell_mut(d, track, level)?;
                if c.expectations.iter().any(|e| e.key == *key) {
                    return Err(DomainError::invalid(
                        "expectation",
                        format!("`{track}/{level}` already expects `{key}`"),
                    ));
                }
                insert_at(
                    &mut c.expectations,
                    ExpectationDraft::reference(key.clone()),
                    *position,
                );
            }
            Self::UnlinkExpectation { key, track, level } => {
                detach(d, key, track, level)?;
            }
            Self::MoveExpectation {
                key,
                from,
                track,
                level,
                position,
            } => {
                let from = match from {
                    Some(c) => c.clone(),
                    None => {
                        let all = places(d, key);
                        match all.as_slice() {
                            [] => return Err(missing("expectation", key)),
                            [one] => CellRef {
                                track: d.tracks[one.0].key.clone(),
                                level: d.tracks[one.0].cells[one.1].level.clone(),
                            },
                            many => {
                                return Err(DomainError::invalid(
                                    "expectation",
                                    format!(
                                        "`{key}` is expected in {} cells ({}): say which one to move it from",
                                        many.len(),
                                        many.iter()
                                            .map(|p| place_name(d, *p))
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ),
                                ));
                            }
                        }
                    }
                };
                let e = detach(d, key, &from.track, &from.level)?;
                let c = cell_mut(d, track, level)?;
                if c.expectations.iter().any(|x| x.key == *key) {
                    return Err(DomainError::invalid(
                        "expectation",
                        format!("`{track}/{level}` already expects `{key}`"),
                    ));
                }
                insert_at(&mut c.expectations, e, *position);
            }
            Self::RemoveExpectation { key } => {
                find_expectation(d, key)?;
                // The criterion leaves the matrix: every cell that expected it.
                for c in d.tracks.iter_mut().flat_map(|t| t.cells.iter_mut()) {
                    c.expectations.retain(|e| e.key != *key);
                }
            }
            Self::AddResource {
                owner,
                resource,
                position,
            } => {
                insert_at(resources_mut(d, owner)?, resource.clone(), *position);
            }
            Self::UpdateResource {
                owner,
                index,
                resource,
            } => {
                let list = resources_mut(d, owner)?;
                let i = resource_index(list, *index)?;
                list[i] = resource.clone();
            }
            Self::RemoveResource { owner, index } => {
                let list = resources_mut(d, owner)?;
                let i = resource_index(list, *index)?;
                list.remove(i);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::matrix::Matrix;
    use crate::matrix::tests::small;

    fn edited(edits: &[MatrixEdit]) -> Result<Matrix, DomainError> {
        let mut d = Matrix::new(&small()).unwrap().to_draft();
        for e in edits {
            e.apply(&mut d)?;
        }
        Matrix::new(&d)
    }

    fn patch(key: Option<&str>, name: Option<&str>) -> Patch {
        Patch {
            key: key.map(Into::into),
            name: name.map(Into::into),
            description: None,
        }
    }

    #[test]
    fn levels_are_added_moved_renamed_and_removed_with_their_cells() {
        let m = edited(&[
            MatrixEdit::AddLevel {
                level: LevelDraft {
                    key: "l0".into(),
                    name: "Zero".into(),
                    ..Default::default()
                },
                position: Some(0),
            },
            MatrixEdit::UpdateLevel {
                key: "l3".into(),
                patch: patch(Some("lead"), Some("Lead")),
                rank: None,
            },
            MatrixEdit::MoveLevel {
                key: "l0".into(),
                position: 3,
            },
        ])
        .unwrap();
        let keys: Vec<_> = m.levels().iter().map(|l| l.key.as_str()).collect();
        assert_eq!(keys, ["l1", "l2", "lead", "l0"]);
        assert_eq!(m.level("l0").unwrap().rank.get(), 4);
        assert!(
            m.cell("dev", "lead").is_some(),
            "the cell follows the rename"
        );
        let m = edited(&[MatrixEdit::RemoveLevel { key: "l1".into() }]).unwrap();
        assert!(m.cell("dev", "l1").is_none());
        assert!(m.level("l1").is_none());
    }

    #[test]
    fn expectations_move_between_cells_and_keep_their_key() {
        let m = edited(&[
            MatrixEdit::MoveExpectation {
                key: "threads".into(),
                from: None,
                track: "dev".into(),
                level: "l1".into(),
                position: Some(0),
            },
            MatrixEdit::UpdateExpectation {
                key: "syntax".into(),
                change: ExpectationPatch {
                    patch: patch(Some("python-syntax"), Some("Python syntax")),
                    competency: Some("tech".into()),
                    ..Default::default()
                },
            },
        ])
        .unwrap();
        let keys: Vec<_> = m
            .cell("dev", "l1")
            .unwrap()
            .expectations
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(keys, ["threads", "python-syntax", "data-structures"]);
    }

    #[test]
    fn resources_and_titles_are_edited_in_place() {
        let owner = ResourceOwner::Expectation("apis".into());
        let r = |t: &str| ResourceDraft {
            title: t.into(),
            ..Default::default()
        };
        let m = edited(&[
            MatrixEdit::AddResource {
                owner: owner.clone(),
                resource: r("A"),
                position: None,
            },
            MatrixEdit::AddResource {
                owner: owner.clone(),
                resource: r("B"),
                position: Some(0),
            },
            MatrixEdit::UpdateResource {
                owner: owner.clone(),
                index: 1,
                resource: r("A2"),
            },
            MatrixEdit::SetTitles {
                track: "dev".into(),
                level: "l3".into(),
                titles: vec!["Staff".into()],
            },
        ])
        .unwrap();
        let e = &m.cell("dev", "l2").unwrap().expectations[0];
        let titles: Vec<_> = e.resources.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, ["B", "A2"]);
        assert_eq!(m.cell("dev", "l3").unwrap().titles, ["Staff"]);
    }

    #[test]
    fn missing_targets_and_broken_results_are_refused() {
        let err = edited(&[MatrixEdit::RemoveExpectation { key: "nope".into() }]).unwrap_err();
        assert!(err.to_string().contains("no expectation `nope`"), "{err}");
        let err = edited(&[MatrixEdit::RemoveResource {
            owner: ResourceOwner::Expectation("apis".into()),
            index: 0,
        }])
        .unwrap_err();
        assert!(err.to_string().contains("has 0"), "{err}");
        // A rename onto an existing key passes the edit but not the matrix's rules.
        let err = edited(&[MatrixEdit::UpdateExpectation {
            key: "syntax".into(),
            change: ExpectationPatch {
                patch: patch(Some("apis"), None),
                ..Default::default()
            },
        }])
        .unwrap_err();
        assert!(err.to_string().contains("apis"), "{err}");
        let err = edited(&[MatrixEdit::SetMatrix(patch(Some("other"), None))]).unwrap_err();
        assert!(err.to_string().contains("never changes"), "{err}");
    }

    /// `small()` with a manager track that branches from `dev` at `l2` and holds `m3`, a level
    /// of the same rank as `l3`.
    pub(crate) fn branching() -> Result<Matrix, DomainError> {
        edited(&[
            MatrixEdit::AddLevel {
                level: LevelDraft {
                    key: "m3".into(),
                    name: "Manager".into(),
                    ..Default::default()
                },
                position: None,
            },
            MatrixEdit::UpdateLevel {
                key: "m3".into(),
                patch: Patch::default(),
                rank: Some(3),
            },
            MatrixEdit::SetLadder {
                track: "dev".into(),
                levels: Some(vec!["l1".into(), "l2".into(), "l3".into()]),
                branches_from: None,
            },
            MatrixEdit::AddTrack {
                track: TrackDraft {
                    key: "mgr".into(),
                    name: "Manager".into(),
                    ..Default::default()
                },
                position: None,
            },
            MatrixEdit::SetLadder {
                track: "mgr".into(),
                levels: Some(vec!["m3".into()]),
                branches_from: Some(BranchDraft {
                    track: "dev".into(),
                    level: "l2".into(),
                }),
            },
            MatrixEdit::SetTitles {
                track: "mgr".into(),
                level: "m3".into(),
                titles: vec!["Engineering manager".into()],
            },
        ])
    }

    #[test]
    fn ladders_and_branches_are_edited_and_moving_a_level_keeps_shared_ranks() {
        let m = branching().unwrap();
        let ladder = |m: &Matrix, t: &str| -> Vec<String> {
            m.ladder(t).iter().map(|l| l.key.to_string()).collect()
        };
        assert_eq!(ladder(&m, "mgr"), ["l1", "l2", "m3"]);
        assert_eq!(ladder(&m, "dev"), ["l1", "l2", "l3"]);
        assert_eq!(m.next_level("dev", "l2").unwrap().key.as_str(), "l3");
        assert_eq!(m.next_level("mgr", "l2").unwrap().key.as_str(), "m3");

        // A new lowest level: l3 and m3 move up together and still share a rank.
        let mut d = m.to_draft();
        MatrixEdit::AddLevel {
            level: LevelDraft {
                key: "l0".into(),
                name: "Zero".into(),
                ..Default::default()
            },
            position: Some(0),
        }
        .apply(&mut d)
        .unwrap();
        MatrixEdit::SetLadder {
            track: "dev".into(),
            levels: Some(vec!["l0".into(), "l1".into(), "l2".into(), "l3".into()]),
            branches_from: None,
        }
        .apply(&mut d)
        .unwrap();
        let m2 = Matrix::new(&d).unwrap();
        assert_eq!(m2.level("l3").unwrap().rank, m2.level("m3").unwrap().rank);
        assert_eq!(m2.level("m3").unwrap().rank.get(), 4);
        assert_eq!(ladder(&m2, "mgr"), ["l0", "l1", "l2", "m3"]);

        // Renaming a level and a track follows into ladders and branch points.
        let mut d = m.to_draft();
        for e in [
            MatrixEdit::UpdateLevel {
                key: "l2".into(),
                patch: patch(Some("mid"), None),
                rank: None,
            },
            MatrixEdit::UpdateTrack {
                key: "dev".into(),
                patch: patch(Some("ic"), None),
            },
        ] {
            e.apply(&mut d).unwrap();
        }
        let m3 = Matrix::new(&d).unwrap();
        assert_eq!(ladder(&m3, "mgr"), ["l1", "mid", "m3"]);
        let b = m3.track("mgr").unwrap().branches_from.clone().unwrap();
        assert_eq!((b.track.as_str(), b.level.as_str()), ("ic", "mid"));

        // A ladder that would hold two levels of one rank is refused by the matrix's rules.
        let mut d = m.to_draft();
        MatrixEdit::SetLadder {
            track: "dev".into(),
            levels: None,
            branches_from: None,
        }
        .apply(&mut d)
        .unwrap();
        let err = Matrix::new(&d).unwrap_err().to_string();
        assert!(err.contains("one level per rank"), "{err}");
    }

    #[test]
    fn a_shared_criterion_is_linked_unlinked_and_moved_without_losing_its_definition() {
        let m = branching().unwrap();
        let mut d = m.to_draft();
        let link = MatrixEdit::LinkExpectation {
            key: "threads".into(),
            track: "mgr".into(),
            level: "m3".into(),
            position: None,
        };
        link.apply(&mut d).unwrap();
        // Linking twice into one cell is refused.
        assert!(
            link.apply(&mut d)
                .unwrap_err()
                .to_string()
                .contains("already expects")
        );
        MatrixEdit::UpdateExpectation {
            key: "threads".into(),
            change: ExpectationPatch {
                title: Some("Concurrency".into()),
                examples: Some(vec!["Found a race in review".into()]),
                ..Default::default()
            },
        }
        .apply(&mut d)
        .unwrap();
        let m = Matrix::new(&d).unwrap();
        let places: Vec<String> = m
            .places_of("threads")
            .iter()
            .map(|(t, c)| format!("{}/{}", t.key, c.level))
            .collect();
        assert_eq!(places, ["dev/l3", "mgr/m3"]);
        let e = m.criterion("threads").unwrap();
        assert_eq!(e.label(), "Concurrency");
        assert_eq!(e.examples, ["Found a race in review"]);

        // Unlinking the cell that held the definition keeps the criterion, whole, in the other.
        let mut d = m.to_draft();
        let moving = MatrixEdit::MoveExpectation {
            key: "threads".into(),
            from: None,
            track: "dev".into(),
            level: "l2".into(),
            position: None,
        };
        let err = moving.apply(&mut d).unwrap_err().to_string();
        assert!(
            err.contains("dev/l3, mgr/m3") && err.contains("say which"),
            "{err}"
        );
        MatrixEdit::UnlinkExpectation {
            key: "threads".into(),
            track: "dev".into(),
            level: "l3".into(),
        }
        .apply(&mut d)
        .unwrap();
        let m = Matrix::new(&d).unwrap();
        assert_eq!(m.places_of("threads").len(), 1);
        let e = m.criterion("threads").unwrap();
        assert_eq!(e.title.as_deref(), Some("Concurrency"));
        assert_eq!(e.name, "threads");
        let err = MatrixEdit::UnlinkExpectation {
            key: "threads".into(),
            track: "dev".into(),
            level: "l3".into(),
        }
        .apply(&mut m.to_draft())
        .unwrap_err()
        .to_string();
        assert!(err.contains("is expected at mgr/m3"), "{err}");

        // With a source named, a shared criterion moves from that cell only.
        let mut d = m.to_draft();
        MatrixEdit::LinkExpectation {
            key: "threads".into(),
            track: "dev".into(),
            level: "l1".into(),
            position: Some(0),
        }
        .apply(&mut d)
        .unwrap();
        MatrixEdit::MoveExpectation {
            key: "threads".into(),
            from: Some(CellRef {
                track: "mgr".into(),
                level: "m3".into(),
            }),
            track: "dev".into(),
            level: "l3".into(),
            position: None,
        }
        .apply(&mut d)
        .unwrap();
        let m = Matrix::new(&d).unwrap();
        let places: Vec<String> = m
            .places_of("threads")
            .iter()
            .map(|(t, c)| format!("{}/{}", t.key, c.level))
            .collect();
        assert_eq!(places, ["dev/l1", "dev/l3"]);
        assert_eq!(m.criterion("threads").unwrap().label(), "Concurrency");
    }

    #[test]
    fn themes_competencies_summaries_and_the_level_style_are_edited() {
        let m = edited(&[
            MatrixEdit::SetLevelStyle("restated".into()),
            MatrixEdit::AddTheme {
                theme: ThemeDraft {
                    key: "craft".into(),
                    name: "Craft".into(),
                    ..Default::default()
                },
                position: None,
            },
            MatrixEdit::AddCompetency {
                competency: CompetencyDraft {
                    key: "comms".into(),
                    name: "Communication".into(),
                    ..Default::default()
                },
                position: Some(0),
            },
            MatrixEdit::UpdateCompetency {
                key: "tech".into(),
                patch: patch(Some("technical"), None),
                theme: Some("craft".into()),
            },
            MatrixEdit::UpdateTheme {
                key: "craft".into(),
                patch: patch(Some("the-craft"), Some("The craft")),
            },
            MatrixEdit::UpdateExpectation {
                key: "apis".into(),
                change: ExpectationPatch {
                    competency: Some("technical".into()),
                    ..Default::default()
                },
            },
            MatrixEdit::SetSummary {
                track: "dev".into(),
                level: "l2".into(),
                summary: "Ships features on their own.".into(),
            },
        ])
        .unwrap();
        assert_eq!(m.level_style().as_str(), "restated");
        let comps: Vec<_> = m.competencies().iter().map(|c| c.key.as_str()).collect();
        assert_eq!(comps, ["comms", "technical"]);
        assert_eq!(
            m.competency("technical")
                .unwrap()
                .theme
                .as_ref()
                .unwrap()
                .as_str(),
            "the-craft"
        );
        assert_eq!(m.theme("the-craft").unwrap().name, "The craft");
        let apis = m.criterion("apis").unwrap();
        assert_eq!(apis.competency.as_ref().unwrap().as_str(), "technical");
        assert_eq!(
            m.cell("dev", "l2").unwrap().summary.as_deref(),
            Some("Ships features on their own.")
        );

        // Removing a theme or a competency keeps what was in it.
        let mut d = m.to_draft();
        MatrixEdit::RemoveTheme {
            key: "the-craft".into(),
        }
        .apply(&mut d)
        .unwrap();
        MatrixEdit::RemoveCompetency {
            key: "technical".into(),
        }
        .apply(&mut d)
        .unwrap();
        let m = Matrix::new(&d).unwrap();
        assert!(m.themes().is_empty());
        assert_eq!(m.competencies().len(), 1);
        assert_eq!(m.criterion("apis").unwrap().competency, None);
        assert!(m.criterion("apis").is_some());

        // An unknown level style is refused by the matrix's rules.
        let err = edited(&[MatrixEdit::SetLevelStyle("sideways".into())]).unwrap_err();
        assert!(err.to_string().contains("sideways"), "{err}");
    }
}
