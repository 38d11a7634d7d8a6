//! The graph's DataLoaders: one [`Graph`] per request, built for the session's actor and
//! organisation, so every key is an id within that organisation and never reaches another's.
//! Each kind of field (a person's position, history, readiness, growth plan, open case; a
//! case's events; a version's content; the people named) has its own key type: when a query
//! asks for the same field on fifty objects, their keys are gathered into one call of
//! rungs-app's [`Reader`], which checks every id against the policy. Nothing is cached beyond
//! the batch, so a mutation's later fields never read what an earlier one changed from a cache.

use crate::error::{RequestId, to_gql};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Result};
use rungs_app::auth::Session;
use rungs_app::{AppError, CaseView, EventView, PlanView, Reader, ReadinessView};
use rungs_domain::assignment::LevelAssignment;
use rungs_domain::matrix::Matrix;
use rungs_domain::person::Person;
use rungs_domain::{CaseId, PersonId, VersionId};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

/// The batch loaders of one request.
pub struct Graph {
    reader: Reader,
}

/// A value per key, or the reason the caller may not have it.
pub type Shared<T> = Arc<Result<T, AppError>>;

/// A whole batch that failed (the database, say).
pub type BatchError = Arc<AppError>;

/// The loader for the request, when signed in.
pub type Loaders = DataLoader<Graph>;

/// How many times a batch lets the rest of the request run before its (1 ms) wait for more
/// keys starts. A list resolves its items in passes, yielding between them; were the batch
/// timed by the clock alone, a slow pass would split it (and a page would cost two batches
/// instead of one, depending on the machine's load).
const PASSES: usize = 8;

/// Builds the request's loaders from its session.
pub fn loaders(app: &rungs_app::App, session: &Session) -> Option<Loaders> {
    let reader = app.session_reader(session).ok()?;
    Some(DataLoader::new(Graph { reader }, |batch| {
        tokio::spawn(async move {
            for _ in 0..PASSES {
                tokio::task::yield_now().await;
            }
            batch.await;
        })
    }))
}

macro_rules! keys {
    ($($(#[$doc:meta])* $name:ident($id:ty) => $value:ty, $method:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name(pub $id);

        impl Loader<$name> for Graph {
            type Value = Shared<$value>;
            type Error = BatchError;

            async fn load(
                &self,
                keys: &[$name],
            ) -> Result<HashMap<$name, Self::Value>, Self::Error> {
                let ids: Vec<$id> = keys.iter().map(|k| k.0).collect();
                let each = self.reader.$method(&ids).await.map_err(Arc::new)?;
                Ok(each.into_iter().map(|(id, v)| ($name(id), Arc::new(v))).collect())
            }
        }
    )*};
}

keys! {
    /// A person's position in force.
    CurrentOf(PersonId) => Option<LevelAssignment>, current;
    /// A person's level history.
    HistoryOf(PersonId) => Vec<LevelAssignment>, histories;
    /// A person's readiness for their next rung.
    ReadinessOf(PersonId) => ReadinessView, readiness;
    /// A person's growth plan toward their next rung.
    PlanOf(PersonId) => PlanView, plans;
    /// A person's open promotion case.
    OpenCaseOf(PersonId) => Option<CaseView>, open_cases;
    /// A case's events.
    EventsOf(CaseId) => Vec<EventView>, case_events;
    /// A version's content.
    ContentOf(VersionId) => Matrix, versions;
}

/// A person named on a record (a manager, a proposer, an assessor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Named(pub PersonId);

impl Loader<Named> for Graph {
    type Value = Person;
    type Error = BatchError;

    async fn load(&self, keys: &[Named]) -> Result<HashMap<Named, Person>, BatchError> {
        let ids: Vec<PersonId> = keys.iter().map(|k| k.0).collect();
        let named = self.reader.named(&ids).await.map_err(Arc::new)?;
        Ok(named.into_iter().map(|(id, p)| (Named(id), p)).collect())
    }
}

/// The request's loaders, or UNAUTHENTICATED.
fn graph<'a>(ctx: &'a Context<'_>) -> Result<&'a Loaders> {
    ctx.data_opt::<Loaders>().ok_or_else(|| {
        err(
            ctx,
            &AppError::Unauthenticated(
                "sign in first: send `Authorization: Bearer <access token>` (see the `login` mutation)"
                    .into(),
            ),
        )
    })
}

fn err(ctx: &Context<'_>, e: &AppError) -> async_graphql::Error {
    let request = ctx.data_opt::<RequestId>().cloned().unwrap_or_default();
    to_gql(e, &request)
}

/// Loads one value of a kind, as the caller may have it.
pub async fn load<K, T>(ctx: &Context<'_>, key: K) -> Result<T>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    Graph: Loader<K, Value = Shared<T>, Error = BatchError>,
    T: Clone + Send + Sync + 'static,
{
    match graph(ctx)?.load_one(key).await {
        Ok(Some(v)) => match &*v {
            Ok(t) => Ok(t.clone()),
            Err(e) => Err(err(ctx, e)),
        },
        Ok(None) => Err(err(ctx, &AppError::NotFound("record".into()))),
        Err(e) => Err(err(ctx, &e)),
    }
}

/// Loads a named person (none when the id is not of this organisation).
pub async fn named(ctx: &Context<'_>, id: PersonId) -> Result<Option<Person>> {
    graph(ctx)?
        .load_one(Named(id))
        .await
        .map_err(|e| err(ctx, &e))
}

/// The session's reader, for fields that page (one call each).
pub fn reader<'a>(ctx: &'a Context<'_>) -> Result<&'a Reader> {
    Ok(&graph(ctx)?.loader().reader)
}
