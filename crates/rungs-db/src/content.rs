//! A version's content rows (levels, competencies, tracks, cells, criteria, resources): read,
//! written and deleted on the caller's transaction; a version row inserted and published.

use crate::entities::*;
use crate::error::DbError;
use crate::rows::insert_chunked;
use chrono::{DateTime, Utc};
use rungs_domain::matrix::{
    BranchDraft, CellDraft, CompetencyDraft, ExpectationDraft, LevelDraft, LevelStyle, Matrix,
    MatrixDraft, ResourceDraft, ThemeDraft, TrackDraft, VersionStatus,
};
use rungs_domain::{OrgId, PersonId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::HashMap;
use uuid::Uuid;

/// The content of a version, read on `c` (a transaction sees its own writes).
pub(crate) async fn load_content<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    v: &matrix_version::Model,
) -> Result<Matrix, DbError> {
    let vid = v.id;
    let levels = level::Entity::find()
        .filter(level::Column::OrgId.eq(org.0))
        .filter(level::Column::VersionId.eq(vid))
        .order_by_asc(level::Column::Rank)
        .all(c)
        .await?;
    let themes = theme::Entity::find()
        .filter(theme::Column::OrgId.eq(org.0))
        .filter(theme::Column::VersionId.eq(vid))
        .order_by_asc(theme::Column::Position)
        .all(c)
        .await?;
    let competencies = competency::Entity::find()
        .filter(competency::Column::OrgId.eq(org.0))
        .filter(competency::Column::VersionId.eq(vid))
        .order_by_asc(competency::Column::Position)
        .all(c)
        .await?;
    let tracks = track::Entity::find()
        .filter(track::Column::OrgId.eq(org.0))
        .filter(track::Column::VersionId.eq(vid))
        .order_by_asc(track::Column::Position)
        .all(c)
        .await?;
    let cells = cell::Entity::find()
        .filter(cell::Column::OrgId.eq(org.0))
        .filter(cell::Column::VersionId.eq(vid))
        .all(c)
        .await?;
    let expectations: HashMap<Uuid, expectation::Model> = expectation::Entity::find()
        .filter(expectation::Column::OrgId.eq(org.0))
        .filter(expectation::Column::VersionId.eq(vid))
        .all(c)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let links = cell_expectation::Entity::find()
        .filter(cell_expectation::Column::OrgId.eq(org.0))
        .filter(cell_expectation::Column::VersionId.eq(vid))
        .order_by_asc(cell_expectation::Column::Position)
        .all(c)
        .await?;
    let resources = resource::Entity::find()
        .filter(resource::Column::OrgId.eq(org.0))
        .filter(resource::Column::VersionId.eq(vid))
        .order_by_asc(resource::Column::Position)
        .all(c)
        .await?;

    let level_key: HashMap<Uuid, &str> = levels.iter().map(|l| (l.id, l.key.as_str())).collect();
    let level_rank: HashMap<Uuid, i32> = levels.iter().map(|l| (l.id, l.rank)).collect();
    let res_of = |pred: &dyn Fn(&resource::Model) -> bool| -> Vec<ResourceDraft> {
        resources
            .iter()
            .filter(|r| pred(r))
            .map(|r| ResourceDraft {
                title: r.title.clone(),
                url: r.url.clone(),
                kind: Some(r.kind.clone()),
                description: r.description.clone(),
            })
            .collect()
    };
    let json_list = |s: &Option<String>| -> Option<Vec<String>> {
        s.as_deref().and_then(|s| serde_json::from_str(s).ok())
    };
    // Every mention carries the whole definition; identical repeats are one criterion.
    let criterion = |e: &expectation::Model| ExpectationDraft {
        key: e.key.clone(),
        name: e.name.clone(),
        title: e.title.clone(),
        description: e.description.clone(),
        competency: e.competency.clone(),
        examples: json_list(&e.examples).unwrap_or_default(),
        resources: res_of(&|r| r.expectation_id == Some(e.id)),
    };
    let draft = MatrixDraft {
        key: matrix_key_of(c, org, v.matrix_id).await?,
        name: v.name.clone(),
        description: v.description.clone(),
        level_style: Some(v.level_style.clone()).filter(|s| s != LevelStyle::Cumulative.as_str()),
        levels: levels
            .iter()
            .map(|l| LevelDraft {
                key: l.key.clone(),
                name: l.name.clone(),
                rank: u32::try_from(l.rank).ok(),
                description: l.description.clone(),
            })
            .collect(),
        themes: themes
            .iter()
            .map(|t| ThemeDraft {
                key: t.key.clone(),
                name: t.name.clone(),
                description: t.description.clone(),
            })
            .collect(),
        competencies: competencies
            .iter()
            .map(|c| CompetencyDraft {
                key: c.key.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                theme: c.theme.clone(),
            })
            .collect(),
        tracks: tracks
            .iter()
            .map(|t| {
                let mut mine: Vec<&cell::Model> =
                    cells.iter().filter(|c| c.track_id == t.id).collect();
                mine.sort_by_key(|c| level_rank.get(&c.level_id).copied().unwrap_or(i32::MAX));
                TrackDraft {
                    key: t.key.clone(),
                    name: t.name.clone(),
                    description: t.description.clone(),
                    levels: json_list(&t.levels),
                    branches_from: match (&t.branch_track, &t.branch_level) {
                        (Some(track), Some(level)) => Some(BranchDraft {
                            track: track.clone(),
                            level: level.clone(),
                        }),
                        _ => None,
                    },
                    cells: mine
                        .into_iter()
                        .map(|c| CellDraft {
                            level: level_key
                                .get(&c.level_id)
                                .map(|k| k.to_string())
                                .unwrap_or_default(),
                            titles: serde_json::from_str(&c.titles).unwrap_or_default(),
                            summary: c.summary.clone(),
                            expectations: links
                                .iter()
                                .filter(|l| l.cell_id == c.id)
                                .filter_map(|l| expectations.get(&l.expectation_id))
                                .map(criterion)
                                .collect(),
                            resources: res_of(&|r| r.cell_id == Some(c.id)),
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    Ok(Matrix::new(&draft)?)
}

async fn matrix_key_of<C: ConnectionTrait>(
    conn: &C,
    org: OrgId,
    matrix_id: Uuid,
) -> Result<String, DbError> {
    Ok(matrix::Entity::find()
        .filter(matrix::Column::OrgId.eq(org.0))
        .filter(matrix::Column::Id.eq(matrix_id))
        .one(conn)
        .await?
        .ok_or_else(|| DbError::not_found("matrix"))?
        .key)
}

/// Writes the content rows of a version: levels, competencies, tracks, cells, expectations
/// and resources, a few multi-row INSERTs per table.
pub(crate) async fn write_content<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    version: Uuid,
    m: &Matrix,
) -> Result<(), DbError> {
    let o = org.0;
    let mut level_ids = HashMap::new();
    let mut levels = Vec::new();
    for l in m.levels() {
        let id = Uuid::now_v7();
        level_ids.insert(l.key.as_str(), id);
        levels.push(level::ActiveModel {
            id: Set(id),
            org_id: Set(o),
            version_id: Set(version),
            key: Set(l.key.to_string()),
            name: Set(l.name.clone()),
            rank: Set(l.rank.get() as i32),
            description: Set(l.description.clone()),
        });
    }
    insert_chunked::<level::Entity, _, _>(c, levels).await?;
    let themes = m
        .themes()
        .iter()
        .enumerate()
        .map(|(i, t)| theme::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(o),
            version_id: Set(version),
            position: Set(i as i32),
            key: Set(t.key.to_string()),
            name: Set(t.name.clone()),
            description: Set(t.description.clone()),
        })
        .collect();
    insert_chunked::<theme::Entity, _, _>(c, themes).await?;
    let comps = m
        .competencies()
        .iter()
        .enumerate()
        .map(|(i, comp)| competency::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(o),
            version_id: Set(version),
            position: Set(i as i32),
            key: Set(comp.key.to_string()),
            name: Set(comp.name.clone()),
            description: Set(comp.description.clone()),
            theme: Set(comp.theme.as_ref().map(ToString::to_string)),
        })
        .collect();
    insert_chunked::<competency::Entity, _, _>(c, comps).await?;

    let (mut tracks, mut cells, mut exps, mut res, mut links) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut criteria: HashMap<&str, Uuid> = HashMap::new();
    let mut position = 0i32;
    let resource = |cell_id: Option<Uuid>,
                    exp_id: Option<Uuid>,
                    i: usize,
                    r: &rungs_domain::matrix::Resource| {
        resource::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(o),
            version_id: Set(version),
            cell_id: Set(cell_id),
            expectation_id: Set(exp_id),
            position: Set(i as i32),
            title: Set(r.title.clone()),
            url: Set(r.url.clone()),
            kind: Set(r.kind.as_str().to_owned()),
            description: Set(r.description.clone()),
        }
    };
    for (ti, t) in m.tracks().iter().enumerate() {
        let track_id = Uuid::now_v7();
        tracks.push(track::ActiveModel {
            id: Set(track_id),
            org_id: Set(o),
            version_id: Set(version),
            position: Set(ti as i32),
            key: Set(t.key.to_string()),
            name: Set(t.name.clone()),
            description: Set(t.description.clone()),
            levels: Set(t
                .levels_as_written(m)
                .and_then(|l| serde_json::to_string(&l).ok())),
            branch_track: Set(t.branches_from.as_ref().map(|b| b.track.to_string())),
            branch_level: Set(t.branches_from.as_ref().map(|b| b.level.to_string())),
        });
        for cell in &t.cells {
            let cell_id = Uuid::now_v7();
            let level_id = *level_ids
                .get(cell.level.as_str())
                .ok_or_else(|| DbError::not_found(format!("level `{}`", cell.level)))?;
            cells.push(cell::ActiveModel {
                id: Set(cell_id),
                org_id: Set(o),
                version_id: Set(version),
                track_id: Set(track_id),
                level_id: Set(level_id),
                titles: Set(serde_json::to_string(&cell.titles).unwrap_or_else(|_| "[]".into())),
                summary: Set(cell.summary.clone()),
            });
            for (ri, r) in cell.resources.iter().enumerate() {
                res.push(resource(Some(cell_id), None, ri, r));
            }
            for (ei, e) in cell.expectations.iter().enumerate() {
                let exp_id = match criteria.get(e.key.as_str()) {
                    Some(id) => *id,
                    None => {
                        let exp_id = Uuid::now_v7();
                        criteria.insert(e.key.as_str(), exp_id);
                        exps.push(expectation::ActiveModel {
                            id: Set(exp_id),
                            org_id: Set(o),
                            version_id: Set(version),
                            cell_id: Set(cell_id),
                            position: Set(position),
                            key: Set(e.key.to_string()),
                            name: Set(e.name.clone()),
                            description: Set(e.description.clone()),
                            competency: Set(e.competency.as_ref().map(ToString::to_string)),
                            title: Set(e.title.clone()),
                            examples: Set((!e.examples.is_empty())
                                .then(|| serde_json::to_string(&e.examples).ok())
                                .flatten()),
                        });
                        position += 1;
                        for (ri, r) in e.resources.iter().enumerate() {
                            res.push(resource(None, Some(exp_id), ri, r));
                        }
                        exp_id
                    }
                };
                links.push(cell_expectation::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    org_id: Set(o),
                    version_id: Set(version),
                    cell_id: Set(cell_id),
                    expectation_id: Set(exp_id),
                    position: Set(ei as i32),
                });
            }
        }
    }
    insert_chunked::<track::Entity, _, _>(c, tracks).await?;
    insert_chunked::<cell::Entity, _, _>(c, cells).await?;
    insert_chunked::<expectation::Entity, _, _>(c, exps).await?;
    insert_chunked::<cell_expectation::Entity, _, _>(c, links).await?;
    insert_chunked::<resource::Entity, _, _>(c, res).await?;
    Ok(())
}

/// A version row to write: always inserted as a draft with its content, then published when
/// `number` is set, because the database refuses content rows under a published version.
pub(crate) struct NewVersion<'a> {
    pub id: Uuid,
    pub matrix_id: Uuid,
    pub content: &'a Matrix,
    pub note: Option<String>,
    pub created_by: Option<PersonId>,
    pub created_at: DateTime<Utc>,
    /// `Some((number, by, at))` to publish it.
    pub published: Option<(u32, Option<PersonId>, DateTime<Utc>)>,
}

pub(crate) async fn insert_version<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    v: NewVersion<'_>,
) -> Result<(), DbError> {
    matrix_version::Entity::insert(matrix_version::ActiveModel {
        id: Set(v.id),
        org_id: Set(org.0),
        matrix_id: Set(v.matrix_id),
        number: Set(None),
        status: Set(VersionStatus::Draft.as_str().to_owned()),
        name: Set(v.content.name().to_owned()),
        description: Set(v.content.description().map(str::to_owned)),
        note: Set(v.note.clone()),
        created_by: Set(v.created_by.map(|p| p.0)),
        created_at: Set(v.created_at),
        published_by: Set(None),
        published_at: Set(None),
        revision: Set(0),
        draft_of: Set(Some(v.matrix_id)),
        level_style: Set(v.content.level_style().as_str().to_owned()),
    })
    .exec_without_returning(c)
    .await
    .map_err(|e| DbError::conflict_or_other(e, "a draft of this matrix"))?;
    write_content(c, org, v.id, v.content).await?;
    if let Some((number, by, at)) = v.published {
        publish_row(c, org, v.id, None, number, v.note.as_deref(), by, at).await?;
    }
    Ok(())
}

/// Turns the draft `id` into published version `number`; `expected` guards the revision.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn publish_row<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    id: Uuid,
    expected: Option<u32>,
    number: u32,
    note: Option<&str>,
    by: Option<PersonId>,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    let mut q = matrix_version::Entity::update_many()
        .col_expr(
            matrix_version::Column::Status,
            Expr::value(VersionStatus::Published.as_str()),
        )
        .col_expr(matrix_version::Column::Number, Expr::value(number as i32))
        .col_expr(
            matrix_version::Column::DraftOf,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            matrix_version::Column::Note,
            Expr::value(note.map(str::to_owned)),
        )
        .col_expr(
            matrix_version::Column::PublishedBy,
            Expr::value(by.map(|p| p.0)),
        )
        .col_expr(matrix_version::Column::PublishedAt, Expr::value(Some(at)))
        .filter(matrix_version::Column::OrgId.eq(org.0))
        .filter(matrix_version::Column::Id.eq(id))
        .filter(matrix_version::Column::Status.eq(VersionStatus::Draft.as_str()));
    if let Some(r) = expected {
        q = q.filter(matrix_version::Column::Revision.eq(r as i32));
    }
    let done = q
        .exec(c)
        .await
        .map_err(|e| DbError::conflict_or_other(e, format!("version {number}")))?;
    if done.rows_affected != 1 {
        return Err(stale());
    }
    Ok(())
}

pub(crate) fn stale() -> DbError {
    DbError::Stale {
        what: "the draft changed since you read it (someone else edited, published or discarded it): reload it and apply your change again".into(),
    }
}

/// Deletes a draft's content rows, children first.
pub(crate) async fn delete_content<C: ConnectionTrait>(
    c: &C,
    org: OrgId,
    v: Uuid,
) -> Result<(), DbError> {
    macro_rules! wipe {
        ($($e:ident),*) => {$(
            $e::Entity::delete_many()
                .filter($e::Column::OrgId.eq(org.0))
                .filter($e::Column::VersionId.eq(v))
                .exec(c)
                .await?;
        )*};
    }
    wipe!(
        resource,
        cell_expectation,
        expectation,
        cell,
        track,
        competency,
        theme,
        level
    );
    Ok(())
}
