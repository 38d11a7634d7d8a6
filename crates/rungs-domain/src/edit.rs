//! Field-by-field edits of a matrix draft: add, rename, reorder and remove levels, tracks,
//! titles, expectations and resources. An edit applies to the unchecked [`MatrixDraft`]; the
//! caller then checks the whole result with [`Matrix::new`](crate::matrix::Matrix::new), so an
//! edit can never leave an invalid draft behind.

use crate::DomainError;
use crate::matrix::{
    CellDraft, ExpectationDraft, LevelDraft, MatrixDraft, ResourceDraft, TrackDraft,
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

/// One edit. Positions count from 0; `None` means at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatrixEdit {
    /// The matrix's name and description (its key never changes).
    SetMatrix(Patch),
    AddLevel {
        level: LevelDraft,
        position: Option<usize>,
    },
    UpdateLevel {
        key: String,
        patch: Patch,
    },
    /// Moves a level on the ladder; ranks follow the order of the list.
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
    /// Renames (`patch.key`), or changes the name, description or competency (`competency`:
    /// `Some("")` clears it).
    UpdateExpectation {
        key: String,
        patch: Patch,
        competency: Option<String>,
    },
    /// Moves an expectation to another cell and/or position.
    MoveExpectation {
        key: String,
        track: String,
        level: String,
        position: Option<usize>,
    },
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
        *description = (!d.trim().is_empty()).then(|| d.clone());
    }
}

/// Puts the levels in ladder order, so positions mean rungs.
fn sort_by_rank(levels: &mut [LevelDraft]) {
    levels.sort_by_key(|l| l.rank.unwrap_or(u32::MAX));
}

/// Ranks follow the list's order after a level is added or moved.
fn set_ranks(levels: &mut [LevelDraft]) {
    for (i, l) in levels.iter_mut().enumerate() {
        l.rank = Some(i as u32 + 1);
    }
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

/// Where an expectation is: (track index, cell index, expectation index).
fn find_expectation(d: &MatrixDraft, key: &str) -> Result<(usize, usize, usize), DomainError> {
    for (ti, t) in d.tracks.iter().enumerate() {
        for (ci, c) in t.cells.iter().enumerate() {
            if let Some(ei) = c.expectations.iter().position(|e| e.key == key) {
                return Ok((ti, ci, ei));
            }
        }
    }
    Err(missing("expectation", key))
}

/// Every mention of a criterion.
fn mentions_mut<'a>(
    d: &'a mut MatrixDraft,
    key: &'a str,
) -> impl Iterator<Item = &'a mut ExpectationDraft> + 'a {
    d.tracks
        .iter_mut()
        .flat_map(|t| t.cells.iter_mut())
        .flat_map(|c| c.expectations.iter_mut())
        .filter(move |e| e.key == key)
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
            Self::AddLevel { level, position } => {
                sort_by_rank(&mut d.levels);
                insert_at(&mut d.levels, level.clone(), *position);
                set_ranks(&mut d.levels);
            }
            Self::UpdateLevel { key, patch } => {
                let l = d
                    .levels
                    .iter_mut()
                    .find(|l| l.key == *key)
                    .ok_or_else(|| missing("level", key))?;
                apply_patch(&mut l.key, &mut l.name, &mut l.description, patch);
                if let Some(new) = &patch.key {
                    for c in d.tracks.iter_mut().flat_map(|t| t.cells.iter_mut()) {
                        if c.level == *key {
                            c.level = new.clone();
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
                set_ranks(&mut d.levels);
            }
            Self::RemoveLevel { key } => {
                let before = d.levels.len();
                d.levels.retain(|l| l.key != *key);
                if d.levels.len() == before {
                    return Err(missing("level", key));
                }
                for t in &mut d.tracks {
                    t.cells.retain(|c| c.level != *key);
                }
            }
            Self::AddTrack { track, position } => {
                insert_at(&mut d.tracks, track.clone(), *position);
            }
            Self::UpdateTrack { key, patch } => {
                let t = track_mut(d, key)?;
                apply_patch(&mut t.key, &mut t.name, &mut t.description, patch);
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
            Self::SetTitles {
                track,
                level,
                titles,
            } => {
                let c = cell_mut(d, track, level)?;
                c.titles = titles.clone();
                if c.titles.is_empty() && c.expectations.is_empty() && c.resources.is_empty() {
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
            Self::UpdateExpectation {
                key,
                patch,
                competency,
            } => {
                let (ti, ci, ei) = find_expectation(d, key)?;
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
                if let Some(c) = competency {
                    e.competency = (!c.trim().is_empty()).then(|| c.clone());
                }
                // A rename follows the criterion into every cell that refers to it.
                if let Some(new) = &patch.key {
                    for m in mentions_mut(d, key) {
                        m.key = new.clone();
                    }
                }
            }
            Self::MoveExpectation {
                key,
                track,
                level,
                position,
            } => {
                let (ti, ci, ei) = find_expectation(d, key)?;
                let e = d.tracks[ti].cells[ci].expectations.remove(ei);
                let c = cell_mut(d, track, level)?;
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
mod tests {
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
                track: "dev".into(),
                level: "l1".into(),
                position: Some(0),
            },
            MatrixEdit::UpdateExpectation {
                key: "syntax".into(),
                patch: patch(Some("python-syntax"), Some("Python syntax")),
                competency: Some("tech".into()),
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
            patch: patch(Some("apis"), None),
            competency: None,
        }])
        .unwrap_err();
        assert!(err.to_string().contains("apis"), "{err}");
        let err = edited(&[MatrixEdit::SetMatrix(patch(Some("other"), None))]).unwrap_err();
        assert!(err.to_string().contains("never changes"), "{err}");
    }
}
