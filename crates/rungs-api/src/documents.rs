//! Parsed GraphQL documents, kept by their text.
//!
//! A client sends the same few query texts over and over, with different variables; parsing
//! one is a good part of a small request's work (a 20-person page's query: about a tenth of
//! the server's time for it). As Apollo Server's document store and PostGraphile's query cache
//! do, the server keeps the most recently used parsed documents, bounded in number and in the
//! size of text it keeps, and hands each request a copy of its document (execution consumes
//! it). Only a document that parses is kept, and only for a signed-in caller: what an
//! anonymous client sends cannot push out what signed-in users use.

use async_graphql::parser::types::ExecutableDocument;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// How many documents are kept.
const KEPT: usize = 256;
/// The longest text kept (longer ones are parsed each time): with [`KEPT`], a bound on what
/// the cache can hold whatever clients send.
const LONGEST: usize = 8 * 1024;

pub struct Documents {
    kept: Mutex<lru::LruCache<String, Arc<ExecutableDocument>>>,
}

impl Default for Documents {
    fn default() -> Self {
        Self {
            kept: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(KEPT).expect("KEPT is not zero"),
            )),
        }
    }
}

impl Documents {
    /// Gives `r` its parsed document: a copy of the one kept for its text, or the one parsed
    /// now (kept if `keep`). A text that does not parse is left as it is, for GraphQL to say
    /// where it fails.
    pub fn prepare(&self, r: &mut async_graphql::Request, keep: bool) {
        if r.query.len() > LONGEST {
            return;
        }
        let found = self.lock().get(r.query.as_str()).cloned();
        match found {
            Some(doc) => r.set_parsed_query((*doc).clone()),
            None if keep => {
                if let Ok(doc) = r.parsed_query() {
                    let doc = Arc::new(doc.clone());
                    self.lock().put(r.query.clone(), doc);
                }
            }
            None => {}
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, lru::LruCache<String, Arc<ExecutableDocument>>> {
        // A panic while holding the lock cannot leave the cache inconsistent (each call is one
        // get or one put), so a poisoned lock is used as it is.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::Documents;

    fn request(q: &str) -> async_graphql::Request {
        async_graphql::Request::new(q)
    }

    #[test]
    fn a_text_parsed_once_is_handed_out_again_and_only_what_parses_is_kept() {
        let docs = Documents::default();
        let q = "{ people(first: 20) { edges { node { id email } } } }";
        let mut first = request(q);
        docs.prepare(&mut first, true);
        assert_eq!(docs.len(), 1);
        let mut again = request(q);
        docs.prepare(&mut again, true);
        assert_eq!(docs.len(), 1);
        // The copy is the document the text parses to.
        let parsed = async_graphql::parser::parse_query(q).unwrap();
        assert_eq!(
            format!("{:?}", again.parsed_query().unwrap()),
            format!("{parsed:?}")
        );

        // Not kept: a text that does not parse, one sent without `keep`, one too long.
        docs.prepare(&mut request("{ people( "), true);
        docs.prepare(&mut request("{ me { id } }"), false);
        let long = format!("{{ me {{ id }} }}{}", " ".repeat(super::LONGEST));
        docs.prepare(&mut request(&long), true);
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn the_cache_keeps_at_most_its_bound() {
        let docs = Documents::default();
        for i in 0..super::KEPT + 10 {
            docs.prepare(&mut request(&format!("{{ a{i}: me {{ id }} }}")), true);
        }
        assert_eq!(docs.len(), super::KEPT);
    }
}
