//! Matrix versions: list them, compare two, edit the draft field by field (with the revision
//! read, so a concurrent edit is a CONFLICT), publish, discard, and move people to a newer
//! version (with a dry run).

use super::Ctx;
use super::types::{Matrix, MatrixVersion};
use async_graphql::{Context, Enum, InputObject, Object, OneofObject, Result, SimpleObject};
use rungs_app::{AppError, MoveReport, VersionDiff, VersionRef, VersionView};
use rungs_domain::diff as dd;
use rungs_domain::edit::{CellRef, ExpectationPatch, MatrixEdit, Patch, ResourceOwner};
use rungs_domain::matrix::{
    BranchDraft, CompetencyDraft, ExpectationDraft, LevelDraft, ResourceDraft, ThemeDraft,
    TrackDraft,
};
use rungs_domain::migrate::Mapping;
use rungs_format::mapping::MappingFile;

pub(crate) fn version_ref(c: &Ctx<'_>, s: &str) -> Result<VersionRef> {
    c.ok(VersionRef::parse(s))
}

/// A version as listed, with who created and published it.
#[derive(SimpleObject)]
pub struct MatrixVersionEntry {
    pub version: MatrixVersion,
    /// `Name <email>`; null for the command line.
    pub created_by: Option<String>,
    pub published_by: Option<String>,
}

impl From<VersionView> for MatrixVersionEntry {
    fn from(v: VersionView) -> Self {
        Self {
            created_by: v.created_by_name,
            published_by: v.published_by_name,
            version: v.info.into(),
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ChangeEntity {
    Matrix,
    Level,
    Theme,
    Competency,
    Track,
    Cell,
    Expectation,
    Resource,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ChangeKind {
    Added,
    Removed,
    Renamed,
    Changed,
    Moved,
}

/// One difference, by stable key (`track/level` for a cell, `owner: title` for a resource).
#[derive(SimpleObject)]
pub struct MatrixChange {
    pub entity: ChangeEntity,
    pub kind: ChangeKind,
    pub key: String,
    /// What a person reads for a criterion: its title, or its text; null for other entities.
    pub label: Option<String>,
    /// For `CHANGED`: which field.
    pub field: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl From<dd::Change> for MatrixChange {
    fn from(c: dd::Change) -> Self {
        Self {
            entity: match c.entity {
                dd::Entity::Matrix => ChangeEntity::Matrix,
                dd::Entity::Level => ChangeEntity::Level,
                dd::Entity::Theme => ChangeEntity::Theme,
                dd::Entity::Competency => ChangeEntity::Competency,
                dd::Entity::Track => ChangeEntity::Track,
                dd::Entity::Cell => ChangeEntity::Cell,
                dd::Entity::Expectation => ChangeEntity::Expectation,
                dd::Entity::Resource => ChangeEntity::Resource,
            },
            kind: match c.kind {
                dd::ChangeKind::Added => ChangeKind::Added,
                dd::ChangeKind::Removed => ChangeKind::Removed,
                dd::ChangeKind::Renamed => ChangeKind::Renamed,
                dd::ChangeKind::Changed => ChangeKind::Changed,
                dd::ChangeKind::Moved => ChangeKind::Moved,
            },
            key: c.key,
            label: c.label,
            field: c.field,
            before: c.before,
            after: c.after,
        }
    }
}

/// What changed between two versions.
#[derive(SimpleObject)]
pub struct MatrixDiff {
    pub from: Option<MatrixVersion>,
    pub to: MatrixVersion,
    /// Such as `2 added, 1 renamed`, or `no changes`.
    pub summary: String,
    pub changes: Vec<MatrixChange>,
}

impl MatrixDiff {
    pub fn new(from: Option<MatrixVersion>, to: MatrixVersion, d: dd::MatrixDiff) -> Self {
        Self {
            from,
            to,
            summary: d.summary(),
            changes: d.changes.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<VersionDiff> for MatrixDiff {
    fn from(d: VersionDiff) -> Self {
        Self::new(Some(d.from.into()), d.to.into(), d.diff)
    }
}

/// One person's move to the new version.
#[derive(SimpleObject)]
pub struct PersonMove {
    pub email: String,
    pub name: String,
    pub from_version: Option<u32>,
    pub from_track: String,
    pub from_level: String,
    pub to_track: String,
    pub to_level: String,
    /// Assessments carried over to the new version.
    pub carried: usize,
    /// Keys of assessed criteria the new version drops (their ratings stay in history).
    pub dropped: Vec<String>,
    /// The same, with what each says.
    pub dropped_criteria: Vec<CriterionName>,
    /// Keys of gaps toward the next level the person did not have before.
    pub new_gaps: Vec<String>,
    /// The same, with what each says.
    pub new_gap_criteria: Vec<CriterionName>,
    pub gaps_before: usize,
    pub gaps_after: usize,
}

/// A criterion as a report names it.
#[derive(SimpleObject)]
pub struct CriterionName {
    pub key: String,
    /// Its title, or its text.
    pub label: String,
}

fn names(list: &[rungs_domain::migrate::Named]) -> Vec<CriterionName> {
    list.iter()
        .map(|n| CriterionName {
            key: n.key.clone(),
            label: n.label.clone(),
        })
        .collect()
}

fn keys(list: &[rungs_domain::migrate::Named]) -> Vec<String> {
    list.iter().map(|n| n.key.clone()).collect()
}

#[derive(SimpleObject)]
pub struct MovePeopleResult {
    pub target: MatrixVersion,
    pub dry_run: bool,
    pub moves: Vec<PersonMove>,
    pub already_there: usize,
    pub assessments_carried: usize,
    /// Emails of people with an open promotion case: the move waits until those are decided.
    pub blocked_by_open_cases: Vec<String>,
}

impl From<MoveReport> for MovePeopleResult {
    fn from(r: MoveReport) -> Self {
        Self {
            target: r.target.into(),
            dry_run: r.dry_run,
            already_there: r.already_there,
            assessments_carried: r.assessments_carried,
            blocked_by_open_cases: r.blocked_by_open_cases,
            moves: r
                .moves
                .into_iter()
                .map(|m| PersonMove {
                    email: m.email,
                    name: m.name,
                    from_version: m.from_version,
                    from_track: m.change.from.track.to_string(),
                    from_level: m.change.from.level.to_string(),
                    to_track: m.change.to.track.to_string(),
                    to_level: m.change.to.level.to_string(),
                    carried: m.change.carried,
                    dropped: keys(&m.change.dropped),
                    dropped_criteria: names(&m.change.dropped),
                    new_gaps: keys(&m.change.new_gaps),
                    new_gap_criteria: names(&m.change.new_gaps),
                    gaps_before: m.change.gaps_before,
                    gaps_after: m.change.gaps_after,
                })
                .collect(),
        }
    }
}

// ---- edits -------------------------------------------------------------------------------

/// Fields to change; absent fields stay, an empty description clears it.
#[derive(InputObject)]
pub struct UpdateInput {
    /// The current key.
    pub key: String,
    /// A new key (a rename of the key itself).
    pub new_key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
}

impl UpdateInput {
    fn patch(&self) -> Patch {
        patch(&self.new_key, &self.name, &self.description)
    }
}

fn patch(key: &Option<String>, name: &Option<String>, description: &Option<String>) -> Patch {
    Patch {
        key: key.clone(),
        name: name.clone(),
        description: description.clone(),
    }
}

/// A level's fields; `rank` puts it at a rank (two levels of different branches may share one).
#[derive(InputObject)]
pub struct UpdateLevelInput {
    pub key: String,
    pub new_key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[graphql(validator(minimum = 1, maximum = 1000))]
    pub rank: Option<i32>,
}

/// A competency's fields; `theme` is a theme key, empty to clear it.
#[derive(InputObject)]
pub struct UpdateCompetencyInput {
    pub key: String,
    pub new_key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub theme: Option<String>,
}

/// A track's ladder.
#[derive(InputObject)]
pub struct SetLadderInput {
    pub track: String,
    /// The track's own levels; absent: every level of the matrix (for a branch, the levels of
    /// its cells).
    #[graphql(validator(max_items = 40))]
    pub levels: Option<Vec<String>>,
    /// The track and level it branches from, sharing that track's rungs up to that level.
    pub branches_from: Option<CellInput>,
}

#[derive(InputObject)]
pub struct AddCompetencyInput {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// A theme key.
    pub theme: Option<String>,
    #[graphql(validator(minimum = 0))]
    pub position: Option<i32>,
}

#[derive(InputObject)]
pub struct SetSummaryInput {
    pub track: String,
    pub level: String,
    /// Markdown; empty clears it.
    pub summary: String,
}

/// A criterion expected in one more cell, or in one cell less.
#[derive(InputObject)]
pub struct ExpectationCellInput {
    pub key: String,
    pub track: String,
    pub level: String,
    /// From 0 (for a link); default: the end.
    #[graphql(validator(minimum = 0))]
    pub position: Option<i32>,
}

#[derive(InputObject)]
pub struct MatrixFieldsInput {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct KeyInput {
    pub key: String,
}

#[derive(InputObject)]
pub struct MoveInput {
    pub key: String,
    /// From 0.
    #[graphql(validator(minimum = 0))]
    pub position: i32,
}

#[derive(InputObject)]
pub struct AddLevelInput {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// From 0 (the lowest rung); default: the top.
    #[graphql(validator(minimum = 0))]
    pub position: Option<i32>,
}

/// A new track or theme.
#[derive(InputObject)]
pub struct NewItemInput {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    #[graphql(validator(minimum = 0))]
    pub position: Option<i32>,
}

#[derive(InputObject)]
pub struct SetTitlesInput {
    pub track: String,
    pub level: String,
    #[graphql(validator(max_items = 10))]
    pub titles: Vec<String>,
}

#[derive(InputObject)]
pub struct ResourceInput {
    pub title: String,
    pub url: Option<String>,
    /// course, book, article, video, certification, skill, practice or other.
    pub kind: Option<String>,
    pub description: Option<String>,
}

impl From<&ResourceInput> for ResourceDraft {
    fn from(r: &ResourceInput) -> Self {
        Self {
            title: r.title.clone(),
            url: r.url.clone(),
            kind: r.kind.clone(),
            description: r.description.clone(),
        }
    }
}

#[derive(InputObject)]
pub struct AddExpectationInput {
    pub track: String,
    pub level: String,
    pub key: String,
    /// The criterion's text: up to 2,000 characters of Markdown.
    pub name: String,
    /// A short title, shown where the text is long.
    pub title: Option<String>,
    pub description: Option<String>,
    pub competency: Option<String>,
    #[graphql(default, validator(max_items = 20))]
    pub examples: Vec<String>,
    #[graphql(default, validator(max_items = 100))]
    pub resources: Vec<ResourceInput>,
    #[graphql(validator(minimum = 0))]
    pub position: Option<i32>,
}

/// A criterion's fields, wherever it is expected; absent fields stay.
#[derive(InputObject)]
pub struct UpdateExpectationInput {
    pub key: String,
    pub new_key: Option<String>,
    pub name: Option<String>,
    /// Empty clears it.
    pub title: Option<String>,
    pub description: Option<String>,
    /// A competency key; empty clears it.
    pub competency: Option<String>,
    /// The whole list of examples.
    #[graphql(validator(max_items = 20))]
    pub examples: Option<Vec<String>>,
}

#[derive(InputObject)]
pub struct MoveExpectationInput {
    pub key: String,
    /// The cell to move it from, when the criterion is expected in several.
    pub from: Option<CellInput>,
    pub track: String,
    pub level: String,
    #[graphql(validator(minimum = 0))]
    pub position: Option<i32>,
}

#[derive(InputObject)]
pub struct CellInput {
    pub track: String,
    pub level: String,
}

/// What a resource hangs off.
#[derive(OneofObject)]
pub enum ResourceOwnerInput {
    /// An expectation, by key.
    Expectation(String),
    /// A cell: a track at a level.
    Cell(CellInput),
}

impl From<&ResourceOwnerInput> for ResourceOwner {
    fn from(o: &ResourceOwnerInput) -> Self {
        match o {
            ResourceOwnerInput::Expectation(k) => Self::Expectation(k.clone()),
            ResourceOwnerInput::Cell(c) => Self::Cell {
                track: c.track.clone(),
                level: c.level.clone(),
            },
        }
    }
}

#[derive(InputObject)]
pub struct AddResourceInput {
    pub owner: ResourceOwnerInput,
    pub resource: ResourceInput,
    #[graphql(validator(minimum = 0))]
    pub position: Option<i32>,
}

#[derive(InputObject)]
pub struct UpdateResourceInput {
    pub owner: ResourceOwnerInput,
    /// From 0, in the owner's list.
    #[graphql(validator(minimum = 0))]
    pub index: i32,
    pub resource: ResourceInput,
}

#[derive(InputObject)]
pub struct RemoveResourceInput {
    pub owner: ResourceOwnerInput,
    #[graphql(validator(minimum = 0))]
    pub index: i32,
}

/// One edit of the draft: exactly one field is set.
#[derive(OneofObject)]
pub enum MatrixEditInput {
    SetMatrix(MatrixFieldsInput),
    /// `cumulative` (each level adds to the ones below) or `restated` (each level describes the
    /// whole role).
    SetLevelStyle(String),
    AddLevel(AddLevelInput),
    UpdateLevel(UpdateLevelInput),
    /// Levels that share a rank keep sharing it.
    MoveLevel(MoveInput),
    /// Also removes every track's cell at that level.
    RemoveLevel(KeyInput),
    AddTrack(NewItemInput),
    UpdateTrack(UpdateInput),
    MoveTrack(MoveInput),
    RemoveTrack(KeyInput),
    SetLadder(SetLadderInput),
    AddTheme(NewItemInput),
    UpdateTheme(UpdateInput),
    MoveTheme(MoveInput),
    /// Its competencies stay, without a theme.
    RemoveTheme(KeyInput),
    AddCompetency(AddCompetencyInput),
    UpdateCompetency(UpdateCompetencyInput),
    MoveCompetency(MoveInput),
    /// Its criteria stay, without a competency.
    RemoveCompetency(KeyInput),
    SetTitles(SetTitlesInput),
    SetSummary(SetSummaryInput),
    AddExpectation(AddExpectationInput),
    UpdateExpectation(UpdateExpectationInput),
    /// Expects a criterion defined elsewhere in one more cell.
    LinkExpectation(ExpectationCellInput),
    /// No longer expects a criterion in one cell; it stays in the others.
    UnlinkExpectation(ExpectationCellInput),
    MoveExpectation(MoveExpectationInput),
    /// Removes a criterion from every cell that expects it.
    RemoveExpectation(KeyInput),
    AddResource(AddResourceInput),
    UpdateResource(UpdateResourceInput),
    RemoveResource(RemoveResourceInput),
}

fn pos(p: Option<i32>) -> Option<usize> {
    p.and_then(|p| usize::try_from(p).ok())
}

fn idx(p: i32) -> usize {
    usize::try_from(p).unwrap_or_default()
}

impl From<&MatrixEditInput> for MatrixEdit {
    fn from(e: &MatrixEditInput) -> Self {
        use MatrixEditInput as I;
        match e {
            I::SetMatrix(m) => Self::SetMatrix(Patch {
                key: None,
                name: m.name.clone(),
                description: m.description.clone(),
            }),
            I::AddLevel(l) => Self::AddLevel {
                level: LevelDraft {
                    key: l.key.clone(),
                    name: l.name.clone(),
                    rank: None,
                    description: l.description.clone(),
                },
                position: pos(l.position),
            },
            I::SetLevelStyle(style) => Self::SetLevelStyle(style.clone()),
            I::UpdateLevel(u) => Self::UpdateLevel {
                key: u.key.clone(),
                patch: patch(&u.new_key, &u.name, &u.description),
                rank: u.rank.and_then(|r| u32::try_from(r).ok()),
            },
            I::MoveLevel(m) => Self::MoveLevel {
                key: m.key.clone(),
                position: idx(m.position),
            },
            I::RemoveLevel(k) => Self::RemoveLevel { key: k.key.clone() },
            I::AddTrack(t) => Self::AddTrack {
                track: TrackDraft {
                    key: t.key.clone(),
                    name: t.name.clone(),
                    description: t.description.clone(),
                    ..Default::default()
                },
                position: pos(t.position),
            },
            I::UpdateTrack(u) => Self::UpdateTrack {
                key: u.key.clone(),
                patch: u.patch(),
            },
            I::MoveTrack(m) => Self::MoveTrack {
                key: m.key.clone(),
                position: idx(m.position),
            },
            I::RemoveTrack(k) => Self::RemoveTrack { key: k.key.clone() },
            I::SetLadder(l) => Self::SetLadder {
                track: l.track.clone(),
                levels: l.levels.clone(),
                branches_from: l.branches_from.as_ref().map(|b| BranchDraft {
                    track: b.track.clone(),
                    level: b.level.clone(),
                }),
            },
            I::AddTheme(t) => Self::AddTheme {
                theme: ThemeDraft {
                    key: t.key.clone(),
                    name: t.name.clone(),
                    description: t.description.clone(),
                },
                position: pos(t.position),
            },
            I::UpdateTheme(u) => Self::UpdateTheme {
                key: u.key.clone(),
                patch: u.patch(),
            },
            I::MoveTheme(m) => Self::MoveTheme {
                key: m.key.clone(),
                position: idx(m.position),
            },
            I::RemoveTheme(k) => Self::RemoveTheme { key: k.key.clone() },
            I::AddCompetency(c) => Self::AddCompetency {
                competency: CompetencyDraft {
                    key: c.key.clone(),
                    name: c.name.clone(),
                    description: c.description.clone(),
                    theme: c.theme.clone(),
                },
                position: pos(c.position),
            },
            I::UpdateCompetency(u) => Self::UpdateCompetency {
                key: u.key.clone(),
                patch: patch(&u.new_key, &u.name, &u.description),
                theme: u.theme.clone(),
            },
            I::MoveCompetency(m) => Self::MoveCompetency {
                key: m.key.clone(),
                position: idx(m.position),
            },
            I::RemoveCompetency(k) => Self::RemoveCompetency { key: k.key.clone() },
            I::SetSummary(c) => Self::SetSummary {
                track: c.track.clone(),
                level: c.level.clone(),
                summary: c.summary.clone(),
            },
            I::LinkExpectation(l) => Self::LinkExpectation {
                key: l.key.clone(),
                track: l.track.clone(),
                level: l.level.clone(),
                position: pos(l.position),
            },
            I::UnlinkExpectation(l) => Self::UnlinkExpectation {
                key: l.key.clone(),
                track: l.track.clone(),
                level: l.level.clone(),
            },
            I::SetTitles(t) => Self::SetTitles {
                track: t.track.clone(),
                level: t.level.clone(),
                titles: t.titles.clone(),
            },
            I::AddExpectation(a) => Self::AddExpectation {
                track: a.track.clone(),
                level: a.level.clone(),
                expectation: ExpectationDraft {
                    key: a.key.clone(),
                    name: a.name.clone(),
                    title: a.title.clone(),
                    description: a.description.clone(),
                    competency: a.competency.clone(),
                    examples: a.examples.clone(),
                    resources: a.resources.iter().map(Into::into).collect(),
                },
                position: pos(a.position),
            },
            I::UpdateExpectation(u) => Self::UpdateExpectation {
                key: u.key.clone(),
                change: ExpectationPatch {
                    patch: patch(&u.new_key, &u.name, &u.description),
                    title: u.title.clone(),
                    competency: u.competency.clone(),
                    examples: u.examples.clone(),
                },
            },
            I::MoveExpectation(m) => Self::MoveExpectation {
                key: m.key.clone(),
                from: m.from.as_ref().map(|c| CellRef {
                    track: c.track.clone(),
                    level: c.level.clone(),
                }),
                track: m.track.clone(),
                level: m.level.clone(),
                position: pos(m.position),
            },
            I::RemoveExpectation(k) => Self::RemoveExpectation { key: k.key.clone() },
            I::AddResource(r) => Self::AddResource {
                owner: (&r.owner).into(),
                resource: (&r.resource).into(),
                position: pos(r.position),
            },
            I::UpdateResource(r) => Self::UpdateResource {
                owner: (&r.owner).into(),
                index: idx(r.index),
                resource: (&r.resource).into(),
            },
            I::RemoveResource(r) => Self::RemoveResource {
                owner: (&r.owner).into(),
                index: idx(r.index),
            },
        }
    }
}

#[derive(InputObject)]
pub struct KeyMappingInput {
    pub from: String,
    pub to: String,
}

#[derive(InputObject)]
pub struct ExpectationMappingInput {
    pub from: String,
    /// One key for a rename, several for a split; several sources with one target merge.
    #[graphql(validator(min_items = 1, max_items = 50))]
    pub to: Vec<String>,
}

/// Where renamed, split or merged keys go in the target version.
#[derive(InputObject, Default)]
pub struct MappingInput {
    #[graphql(default, validator(max_items = 500))]
    pub tracks: Vec<KeyMappingInput>,
    #[graphql(default, validator(max_items = 500))]
    pub levels: Vec<KeyMappingInput>,
    /// Whole positions, `track/level` to `track/level` (a new ladder structure); they take
    /// precedence over `tracks` and `levels`.
    #[graphql(default, validator(max_items = 2000))]
    pub positions: Vec<KeyMappingInput>,
    #[graphql(default, validator(max_items = 5000))]
    pub expectations: Vec<ExpectationMappingInput>,
}

impl From<MappingInput> for Mapping {
    fn from(m: MappingInput) -> Self {
        Self {
            tracks: m.tracks.into_iter().map(|k| (k.from, k.to)).collect(),
            levels: m.levels.into_iter().map(|k| (k.from, k.to)).collect(),
            positions: m.positions.into_iter().map(|k| (k.from, k.to)).collect(),
            expectations: m.expectations.into_iter().map(|e| (e.from, e.to)).collect(),
        }
    }
}

#[derive(Default)]
pub struct VersionsQuery;

#[Object]
impl VersionsQuery {
    /// Every version of a matrix, published ones by number; the draft too for HR admins.
    async fn matrix_versions(
        &self,
        ctx: &Context<'_>,
        key: String,
    ) -> Result<Vec<MatrixVersionEntry>> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let list = c.ok(c
            .app
            .matrix_versions(&s.actor, s.org.slug.as_str(), &key)
            .await)?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// What changed from one version to another: numbers, `latest` or `draft` (HR admins).
    #[graphql(complexity = 20)]
    async fn matrix_diff(
        &self,
        ctx: &Context<'_>,
        key: String,
        from: String,
        #[graphql(default = "draft")] to: String,
    ) -> Result<MatrixDiff> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let (from, to) = (version_ref(&c, &from)?, version_ref(&c, &to)?);
        let d = c.ok(c
            .app
            .diff_versions(&s.actor, s.org.slug.as_str(), &key, from, to)
            .await)?;
        Ok(d.into())
    }
}

#[derive(Default)]
pub struct VersionsMutation;

#[Object]
impl VersionsMutation {
    /// Starts the draft of a matrix from its newest version (HR admins); CONFLICT if it has one.
    async fn start_matrix_draft(&self, ctx: &Context<'_>, key: String) -> Result<Matrix> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let (v, m) = c.ok(c.app.start_draft(&s.actor, s.org.slug.as_str(), &key).await)?;
        Ok(Matrix::new(v, &m))
    }

    /// Applies edits to the draft, all or none (HR admins). `revision` is the draft's revision
    /// as read (`matrix(key, version: "draft") { version { revision } }`); if someone changed the
    /// draft since, nothing is applied and the error's code is CONFLICT.
    async fn edit_matrix_draft(
        &self,
        ctx: &Context<'_>,
        key: String,
        #[graphql(validator(minimum = 0))] revision: i32,
        #[graphql(validator(min_items = 1, max_items = 100))] edits: Vec<MatrixEditInput>,
    ) -> Result<Matrix> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let edits: Vec<MatrixEdit> = edits.iter().map(Into::into).collect();
        let revision = u32::try_from(revision).unwrap_or_default();
        let (v, m) = c.ok(c
            .app
            .edit_draft(&s.actor, s.org.slug.as_str(), &key, revision, &edits)
            .await)?;
        Ok(Matrix::new(v, &m))
    }

    /// Throws the draft away (HR admins).
    async fn discard_matrix_draft(
        &self,
        ctx: &Context<'_>,
        key: String,
        #[graphql(validator(minimum = 0))] revision: Option<i32>,
    ) -> Result<bool> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let revision = revision.and_then(|r| u32::try_from(r).ok());
        c.ok(c
            .app
            .discard_draft(&s.actor, s.org.slug.as_str(), &key, revision)
            .await)?;
        Ok(true)
    }

    /// Publishes the draft as the next version (HR admins). A published version never
    /// changes: the database refuses.
    async fn publish_matrix(
        &self,
        ctx: &Context<'_>,
        key: String,
        note: String,
        #[graphql(validator(minimum = 0))] revision: Option<i32>,
    ) -> Result<MatrixVersion> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let revision = revision.and_then(|r| u32::try_from(r).ok());
        let v = c.ok(c
            .app
            .publish_matrix(&s.actor, s.org.slug.as_str(), &key, &note, revision)
            .await)?;
        Ok(v.into())
    }

    /// Moves everyone on an older version of the matrix to version `to` (HR admins): levels by
    /// key or mapping, assessments carried over. `dryRun` reports who is affected and writes
    /// nothing.
    async fn move_people(
        &self,
        ctx: &Context<'_>,
        key: String,
        #[graphql(validator(minimum = 1))] to: i32,
        mapping: Option<MappingInput>,
        #[graphql(default)] dry_run: bool,
    ) -> Result<MovePeopleResult> {
        let c = Ctx::of(ctx);
        let s = c.session()?;
        let to = u32::try_from(to).map_err(|_| c.err(AppError::Invalid("bad version".into())))?;
        let mapping = mapping.map(|m| MappingFile::given(m.into(), "mapping"));
        let r = c.ok(c
            .app
            .move_people(
                &s.actor,
                s.org.slug.as_str(),
                &key,
                to,
                mapping.as_ref(),
                dry_run,
            )
            .await)?;
        Ok(r.into())
    }
}
