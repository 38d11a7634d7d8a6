//! The session's statement, written once per shape of lead and kept: what [`crate::Db`]
//! keeps of it. `auth` writes and reads the statement.

use crate::error::DbError;
use std::collections::HashMap;
use std::sync::Arc;

/// A value of the session's statement, by what it is. The statement's text depends only on
/// the shape of its lead ([`Shape`]): it is written once per shape, with the order in which
/// its placeholders take these, and kept ([`SessionStatements`]); a request binds its own
/// values in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    /// The token's organisation.
    Org,
    /// The caller.
    Caller,
    /// The token's session.
    Session,
    /// The day positions are read for.
    Today,
    /// The person a `Lead::Person` asks for.
    Asked,
    /// `true`.
    Yes,
}

/// Placeholders numbered as they are written, each with the [`Param`] it takes.
pub(crate) struct Params {
    pub(crate) backend: sea_orm::DbBackend,
    pub(crate) taken: Vec<Param>,
}

impl Params {
    pub(crate) fn bind(&mut self, p: Param) -> String {
        self.taken.push(p);
        crate::paging::placeholder(self.backend, self.taken.len())
    }
}

/// What decides the text of the session's statement: the kind of lead, without its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Shape {
    Alone,
    Person,
    OwnAssessments,
    People { first: usize, with_positions: bool },
}

/// The session statement's text for one [`Shape`], and the values its placeholders take.
pub(crate) struct Template {
    pub(crate) sql: String,
    pub(crate) params: Vec<Param>,
}

/// Session statements already written, by shape (shared by every clone of the pool). Writing
/// one (its column lists, the page's SQL) cost more than reading its row; the shapes are few
/// (a page's size is at most 100), and past [`SessionStatements::MOST`] a statement is
/// written afresh each time rather than kept.
#[derive(Default)]
pub(crate) struct SessionStatements(std::sync::RwLock<HashMap<Shape, Arc<Template>>>);

impl SessionStatements {
    const MOST: usize = 256;

    pub(crate) fn get(
        &self,
        shape: Shape,
        write: impl FnOnce() -> Result<Template, DbError>,
    ) -> Result<Arc<Template>, DbError> {
        if let Some(t) = self.0.read().ok().and_then(|m| m.get(&shape).cloned()) {
            return Ok(t);
        }
        let t = Arc::new(write()?);
        if let Ok(mut m) = self.0.write()
            && m.len() < Self::MOST
        {
            m.insert(shape, t.clone());
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(n: &std::cell::Cell<usize>) -> Result<Template, DbError> {
        n.set(n.get() + 1);
        Ok(Template {
            sql: format!("SELECT {}", n.get()),
            params: vec![Param::Org],
        })
    }

    #[test]
    fn each_shape_is_written_once_and_the_kept_are_bounded() {
        let kept = SessionStatements::default();
        let n = std::cell::Cell::new(0);
        let a = kept.get(Shape::Person, || written(&n)).unwrap();
        let b = kept.get(Shape::Person, || written(&n)).unwrap();
        assert_eq!((n.get(), a.sql.as_str()), (1, b.sql.as_str()));
        kept.get(Shape::Alone, || written(&n)).unwrap();
        assert_eq!(n.get(), 2, "another shape is written for itself");
        for first in 0..SessionStatements::MOST + 10 {
            let shape = Shape::People {
                first,
                with_positions: false,
            };
            kept.get(shape, || written(&n)).unwrap();
        }
        assert_eq!(kept.0.read().unwrap().len(), SessionStatements::MOST);
        let before = n.get();
        let past = Shape::People {
            first: SessionStatements::MOST + 5,
            with_positions: false,
        };
        kept.get(past, || written(&n)).unwrap();
        kept.get(past, || written(&n)).unwrap();
        assert_eq!(n.get(), before + 2, "past the bound, written each time");
        assert!(
            kept.get(Shape::OwnAssessments, || Err(DbError::Other(
                sea_orm::DbErr::Custom("no".into())
            )))
            .is_err()
        );
    }
}
