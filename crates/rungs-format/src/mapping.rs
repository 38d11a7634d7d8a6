//! The mapping file of a move to a new matrix version (YAML or JSON): where renamed, split or
//! merged keys go. Keys not named keep their place.
//!
//! ```yaml
//! tracks:                 # optional: old track key -> new track key
//!   web: frontend
//! levels:                 # optional: old level key -> new level key
//!   leader: principal
//! positions:              # optional: old track/level -> new track/level (a new ladder
//!   ic/senior: manager/m4 # structure: a branch introduced); before tracks and levels
//! expectations:           # old expectation key -> new key (a rename) or keys (a split)
//!   basic-syntax: python-syntax
//!   testing: [unit-testing, integration-testing]
//!   # a merge: several old keys naming the same new key
//! ```

use crate::matrix_file::{json_error, located, yaml_error, yaml_options};
use crate::{At, FileErrors, MatrixFormat};
use rungs_domain::matrix::Matrix;
use rungs_domain::migrate::Mapping;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const MAX_FILE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingDoc {
    #[serde(default)]
    tracks: BTreeMap<String, At<String>>,
    #[serde(default)]
    levels: BTreeMap<String, At<String>>,
    #[serde(default)]
    positions: BTreeMap<String, At<String>>,
    #[serde(default)]
    expectations: BTreeMap<String, At<OneOrMany>>,
}

/// A checked-for-syntax mapping, with where each entry is in the file.
#[derive(Debug, Clone)]
pub struct MappingFile {
    pub file: String,
    pub mapping: Mapping,
    positions: BTreeMap<(&'static str, String), (u64, u64)>,
}

/// Reads a mapping file. Its entries are checked against the versions by [`MappingFile::check`].
pub fn parse_mapping(
    text: &str,
    format: MatrixFormat,
    file: &str,
) -> Result<MappingFile, FileErrors> {
    let text = crate::errors::bounded(text, file, MAX_FILE_BYTES, "mapping files")?;
    let doc: MappingDoc = if text.trim().is_empty() {
        return Err(FileErrors::one(
            file,
            "the mapping file is empty: give `tracks`, `levels`, `positions` or `expectations`",
        ));
    } else {
        match format {
            MatrixFormat::Yaml => serde_saphyr::from_str_with_options(text, yaml_options())
                .map_err(|e| FileErrors(vec![yaml_error(file, &e)]))?,
            MatrixFormat::Json => {
                let plain: MappingDoc = serde_json::from_str(text)
                    .map_err(|e| FileErrors(vec![json_error(file, &e)]))?;
                match serde_saphyr::from_str_with_options::<MappingDoc>(text, yaml_options()) {
                    Ok(spanned) if spanned == plain => spanned,
                    _ => plain,
                }
            }
        }
    };
    let mut positions = BTreeMap::new();
    let mut simple = |section: &'static str, m: BTreeMap<String, At<String>>| {
        m.into_iter()
            .map(|(k, v)| {
                if let Some(p) = v.pos {
                    positions.insert((section, k.clone()), p);
                }
                (k, v.value)
            })
            .collect()
    };
    let tracks = simple("tracks", doc.tracks);
    let levels = simple("levels", doc.levels);
    let positions_map = simple("positions", doc.positions);
    let expectations = doc
        .expectations
        .into_iter()
        .map(|(k, v)| {
            if let Some(p) = v.pos {
                positions.insert(("expectations", k.clone()), p);
            }
            let keys = match v.value {
                OneOrMany::One(s) => vec![s],
                OneOrMany::Many(v) => v,
            };
            (k, keys)
        })
        .collect();
    Ok(MappingFile {
        file: file.to_owned(),
        mapping: Mapping {
            tracks,
            levels,
            positions: positions_map,
            expectations,
        },
        positions,
    })
}

impl MappingFile {
    /// A mapping that came from elsewhere (an API argument): errors name `file`, without lines.
    pub fn given(mapping: Mapping, file: &str) -> Self {
        Self {
            file: file.to_owned(),
            mapping,
            positions: BTreeMap::new(),
        }
    }

    /// Checks every entry against the target version and the versions people move from;
    /// every problem comes back at once, located in the file.
    pub fn check(
        &self,
        target: &Matrix,
        number: u32,
        sources: &[&Matrix],
    ) -> Result<(), FileErrors> {
        let problems = self.mapping.problems(target, number, sources);
        if problems.is_empty() {
            return Ok(());
        }
        Err(FileErrors(
            problems
                .into_iter()
                .map(|p| {
                    let pos = self.positions.get(&(p.section, p.key.clone())).copied();
                    located(
                        &self.file,
                        pos,
                        Some(format!("{}.{}", p.section, p.key)),
                        p.message,
                    )
                })
                .collect(),
        ))
    }
}
