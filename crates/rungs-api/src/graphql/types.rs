//! GraphQL objects, each built from a domain value. Entities never reach this crate.

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use rungs_domain as d;
use rungs_domain::{PersonId, VersionId};

#[derive(SimpleObject)]
pub struct Organisation {
    pub id: ID,
    /// The URL-safe handle, such as `acme`.
    pub slug: String,
    pub name: String,
}

impl From<d::org::Organisation> for Organisation {
    fn from(o: d::org::Organisation) -> Self {
        Self {
            id: ID(o.id.to_string()),
            slug: o.slug.to_string(),
            name: o.name,
        }
    }
}

/// A person of the caller's organisation. Anyone of the organisation may see the names on a
/// record (a manager, a proposer, an assessor); the fields about the person (`current`,
/// `history`, `growthPlan`, `readiness`, `assessments`, `openCase`) answer only those the
/// policy lets read them (the person, their managers, HR admins), whichever way the person was
/// reached, and FORBIDDEN to others.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Person {
    pub id: ID,
    pub email: String,
    pub display_name: String,
    /// HR admins manage the organisation's people and matrices.
    pub is_admin: bool,
    /// Deactivated people cannot sign in.
    pub active: bool,
    pub manager_id: Option<ID>,
    #[graphql(skip)]
    pub key: PersonId,
    #[graphql(skip)]
    pub manager: Option<PersonId>,
    /// Already read with the person (a listing), or `None` to load.
    #[graphql(skip)]
    pub known_manager_email: Option<Option<String>>,
    #[graphql(skip)]
    pub known_current: Option<Option<d::assignment::LevelAssignment>>,
}

impl From<rungs_app::PersonView> for Person {
    fn from(v: rungs_app::PersonView) -> Self {
        Self::from_view(v, rungs_app::ViewFields::default())
    }
}

impl Person {
    /// A person from a view that read `fields` (the rest loads on demand).
    pub fn from_view(v: rungs_app::PersonView, fields: rungs_app::ViewFields) -> Self {
        Self {
            known_manager_email: fields
                .manager_email
                .then(|| v.manager_email.map(|e| e.to_string())),
            known_current: fields.current.then_some(v.current),
            ..v.person.into()
        }
    }

    /// What a selection of a person asks for besides the record.
    pub fn fields(selection: async_graphql::Lookahead<'_>) -> rungs_app::ViewFields {
        rungs_app::ViewFields {
            current: selection.field("current").exists(),
            manager_email: selection.field("managerEmail").exists(),
        }
    }
}

impl From<d::person::Person> for Person {
    fn from(p: d::person::Person) -> Self {
        Self {
            id: ID(p.id.to_string()),
            email: p.email.to_string(),
            display_name: p.display_name,
            is_admin: p.is_admin,
            active: p.active,
            manager_id: p.manager_id.map(|m| ID(m.to_string())),
            key: p.id,
            manager: p.manager_id,
            known_manager_email: None,
            known_current: None,
        }
    }
}

/// A person placed at a track and level of a matrix version, from a date.
#[derive(SimpleObject)]
pub struct LevelAssignment {
    pub id: ID,
    pub matrix_version_id: ID,
    pub track: String,
    pub level: String,
    pub effective: NaiveDate,
    pub reason: String,
    /// Who made the change (absent when an operator did, from the command line).
    pub set_by: Option<ID>,
    pub recorded_at: DateTime<Utc>,
    /// The approved promotion case behind this change, if any.
    pub promotion_case_id: Option<ID>,
    /// Set when a move to a newer matrix version made this assignment: the one it continues.
    pub moved_from_id: Option<ID>,
}

impl From<d::assignment::LevelAssignment> for LevelAssignment {
    fn from(a: d::assignment::LevelAssignment) -> Self {
        Self {
            id: ID(a.id.to_string()),
            matrix_version_id: ID(a.version_id.to_string()),
            track: a.track.to_string(),
            level: a.level.to_string(),
            effective: a.effective,
            reason: a.reason,
            set_by: a.set_by.map(|p| ID(p.to_string())),
            recorded_at: a.recorded_at,
            promotion_case_id: a.case_id.map(|c| ID(c.to_string())),
            moved_from_id: a.moved_from.map(|m| ID(m.to_string())),
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum VersionStatus {
    Draft,
    Published,
}

/// A version of a matrix; its content (`levels`, `tracks`, `cells`, `criteria`) is read on
/// demand.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct MatrixVersion {
    pub id: ID,
    #[graphql(skip)]
    pub key: VersionId,
    /// Null for a draft.
    pub number: Option<u32>,
    pub status: VersionStatus,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// `v3`, or `draft`.
    pub label: String,
    /// How many times the draft was edited; `editMatrixDraft` names the revision it read.
    pub revision: u32,
}

impl From<d::matrix::VersionInfo> for MatrixVersion {
    fn from(v: d::matrix::VersionInfo) -> Self {
        Self {
            id: ID(v.id.to_string()),
            key: v.id,
            label: v.label(),
            revision: v.revision,
            number: v.number,
            status: match v.status {
                d::matrix::VersionStatus::Draft => VersionStatus::Draft,
                d::matrix::VersionStatus::Published => VersionStatus::Published,
            },
            note: v.note,
            created_at: v.created_at,
            published_at: v.published_at,
        }
    }
}

/// A matrix at a glance.
#[derive(SimpleObject)]
pub struct MatrixSummary {
    pub key: String,
    pub name: String,
    pub latest_version: Option<u32>,
    pub has_draft: bool,
    pub tracks: usize,
    pub levels: usize,
    pub expectations: usize,
}

impl From<d::matrix::MatrixSummary> for MatrixSummary {
    fn from(m: d::matrix::MatrixSummary) -> Self {
        Self {
            key: m.key.to_string(),
            name: m.name,
            latest_version: m.latest_version,
            has_draft: m.has_draft,
            tracks: m.tracks,
            levels: m.levels,
            expectations: m.expectations,
        }
    }
}

/// A leveling matrix: tracks crossed with ordered levels.
#[derive(SimpleObject)]
pub struct Matrix {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub version: MatrixVersion,
    /// `cumulative` (each level adds to the ones below it) or `restated` (each level describes
    /// the whole role).
    pub level_style: String,
    /// Ordered from the first rung up (two branches may hold the same rank).
    pub levels: Vec<Level>,
    /// Groups of competencies.
    pub themes: Vec<Theme>,
    pub competencies: Vec<Competency>,
    pub tracks: Vec<Track>,
}

impl Matrix {
    pub fn new(v: d::matrix::VersionInfo, m: &d::matrix::Matrix) -> Self {
        Self {
            key: m.key().to_string(),
            name: m.name().to_owned(),
            description: m.description().map(str::to_owned),
            version: v.into(),
            level_style: m.level_style().as_str().to_owned(),
            levels: m.levels().iter().map(Level::from).collect(),
            themes: m
                .themes()
                .iter()
                .map(|t| Theme {
                    key: t.key.to_string(),
                    name: t.name.clone(),
                    description: t.description.clone(),
                })
                .collect(),
            competencies: m
                .competencies()
                .iter()
                .map(|c| Competency {
                    key: c.key.to_string(),
                    name: c.name.clone(),
                    description: c.description.clone(),
                    theme: c.theme.as_ref().map(ToString::to_string),
                })
                .collect(),
            tracks: tracks_of(m),
        }
    }
}

/// A matrix's tracks with their cells, in matrix order.
pub fn tracks_of(m: &d::matrix::Matrix) -> Vec<Track> {
    m.tracks()
        .iter()
        .map(|t| Track {
            key: t.key.to_string(),
            name: t.name.clone(),
            description: t.description.clone(),
            ladder: t.ladder.iter().map(ToString::to_string).collect(),
            branches_from: t.branches_from.as_ref().map(|b| Branch {
                track: b.track.to_string(),
                level: b.level.to_string(),
            }),
            cells: t
                .cells
                .iter()
                .map(|c| Cell {
                    track: t.key.to_string(),
                    level: c.level.to_string(),
                    titles: c.titles.clone(),
                    summary: c.summary.clone(),
                    expectations: c.expectations.iter().map(Expectation::from).collect(),
                    resources: c.resources.iter().map(Resource::from).collect(),
                })
                .collect(),
        })
        .collect()
}

/// Every criterion of a matrix once, in matrix order (by track, then level).
pub fn criteria_of(m: &d::matrix::Matrix) -> Vec<Expectation> {
    let mut seen = std::collections::HashSet::new();
    m.tracks()
        .iter()
        .flat_map(|t| &t.cells)
        .flat_map(|c| &c.expectations)
        .filter(|e| seen.insert(e.key.clone()))
        .map(Expectation::from)
        .collect()
}

#[derive(SimpleObject)]
pub struct Level {
    pub key: String,
    pub name: String,
    pub rank: u32,
    pub description: Option<String>,
}

impl From<&d::matrix::Level> for Level {
    fn from(l: &d::matrix::Level) -> Self {
        Self {
            key: l.key.to_string(),
            name: l.name.clone(),
            rank: l.rank.get(),
            description: l.description.clone(),
        }
    }
}

/// A group of competencies (craft, people...).
#[derive(SimpleObject)]
pub struct Theme {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
}

#[derive(SimpleObject)]
pub struct Competency {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// The key of its theme.
    pub theme: Option<String>,
}

/// Where a track leaves another: it shares that track's rungs up to and including `level`.
#[derive(SimpleObject)]
pub struct Branch {
    pub track: String,
    pub level: String,
}

#[derive(SimpleObject)]
pub struct Track {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// The keys of the track's levels, lowest first: the shared trunk (for a branch), then its
    /// own. "Next level" and every placement follow it.
    pub ladder: Vec<String>,
    pub branches_from: Option<Branch>,
    /// The cells of the track's own rungs (a branch's trunk cells are its parent's).
    pub cells: Vec<Cell>,
}

/// A track at one level: its titles and the criteria it expects.
#[derive(SimpleObject)]
pub struct Cell {
    /// The track's key.
    pub track: String,
    pub level: String,
    pub titles: Vec<String>,
    /// A short summary of the rung (Markdown).
    pub summary: Option<String>,
    pub expectations: Vec<Expectation>,
    pub resources: Vec<Resource>,
}

/// A criterion. One criterion may be expected by several cells; it is assessed once.
#[derive(SimpleObject)]
pub struct Expectation {
    /// Stable across versions.
    pub key: String,
    /// The criterion's text (up to 2,000 characters of Markdown).
    pub name: String,
    /// The optional short title.
    pub title: Option<String>,
    /// What to show a person: the title, or the text's first line.
    pub label: String,
    pub description: Option<String>,
    pub competency: Option<String>,
    pub examples: Vec<String>,
    pub resources: Vec<Resource>,
}

impl From<&d::matrix::Expectation> for Expectation {
    fn from(e: &d::matrix::Expectation) -> Self {
        Self {
            key: e.key.to_string(),
            name: e.name.clone(),
            title: e.title.clone(),
            label: e.label(),
            description: e.description.clone(),
            competency: e.competency.as_ref().map(ToString::to_string),
            examples: e.examples.clone(),
            resources: e.resources.iter().map(Resource::from).collect(),
        }
    }
}

#[derive(SimpleObject)]
pub struct Resource {
    pub title: String,
    pub url: Option<String>,
    /// course, book, article, video, practice or other.
    pub kind: String,
    pub description: Option<String>,
}

impl From<&d::matrix::Resource> for Resource {
    fn from(r: &d::matrix::Resource) -> Self {
        Self {
            title: r.title.clone(),
            url: r.url.clone(),
            kind: r.kind.as_str().to_owned(),
            description: r.description.clone(),
        }
    }
}

/// Tokens from `login` or `refresh`.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    /// Exchange with `refresh` before it expires; single use.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub person: Person,
    pub organisation: Organisation,
}

impl From<rungs_app::auth::Tokens> for AuthPayload {
    fn from(t: rungs_app::auth::Tokens) -> Self {
        Self {
            access_token: t.access_token,
            access_expires_at: t.access_expires_at,
            refresh_token: t.refresh_token,
            refresh_expires_at: t.refresh_expires_at,
            person: t.person.into(),
            organisation: t.org.into(),
        }
    }
}
