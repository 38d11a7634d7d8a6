//! The shape of a query document, checked in linear time before GraphQL validation sees it: a
//! document of a few hundred bytes can spread fragments into millions of fields, and
//! validating that takes seconds to minutes. Each fragment's size is counted once and reused
//! wherever it is spread, so counting costs the document's length, not its expansion.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use std::collections::HashMap;

/// The longest query text accepted (variables, where files travel, are not counted).
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// The most fields a document may select once its fragments are spread in place.
pub const MAX_FIELDS: u64 = 5_000;
/// Deeper nesting than this is refused outright (the schema's own depth limit is lower).
const MAX_NESTING: usize = 64;

/// Why a document is refused before validation, if it is.
pub fn refusal(query: &str) -> Option<String> {
    if query.len() > MAX_QUERY_BYTES {
        return Some(format!(
            "the query is {} bytes; at most {MAX_QUERY_BYTES} are accepted",
            query.len()
        ));
    }
    // A document that does not parse is left to GraphQL, which says where.
    let doc = async_graphql::parser::parse_query(query).ok()?;
    let fields = expanded_fields(&doc);
    (fields > MAX_FIELDS).then(|| {
        format!("the query selects more than {MAX_FIELDS} fields once its fragments are spread")
    })
}

/// Whether every operation of `query` (or the one named) selects only introspection fields
/// (`__schema`, `__type`, `__typename`) at its root: GraphiQL's schema query, which is deeper
/// than the depth limit allows ordinary queries.
pub fn introspection_only(query: &str) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    doc.operations.iter().all(|(_, op)| {
        op.node.selection_set.node.items.iter().all(|item| {
            matches!(&item.node, Selection::Field(f) if f.node.name.node.as_str().starts_with("__"))
        })
    })
}

/// How many fields `doc`'s operations select with every fragment spread in place (saturating;
/// a fragment that spreads itself, or nesting beyond reason, counts as too many).
pub fn expanded_fields(doc: &ExecutableDocument) -> u64 {
    let mut c = Counter {
        doc,
        sizes: HashMap::new(),
    };
    doc.operations
        .iter()
        .map(|(_, op)| c.set(&op.node.selection_set.node, 0))
        .fold(0u64, u64::saturating_add)
}

struct Counter<'a> {
    doc: &'a ExecutableDocument,
    /// Fragment sizes counted so far; `None` while a fragment is being counted (a cycle).
    sizes: HashMap<&'a str, Option<u64>>,
}

impl<'a> Counter<'a> {
    fn set(&mut self, s: &'a SelectionSet, depth: usize) -> u64 {
        if depth > MAX_NESTING {
            return u64::MAX;
        }
        let mut n = 0u64;
        for item in &s.items {
            let more = match &item.node {
                Selection::Field(f) => {
                    1u64.saturating_add(self.set(&f.node.selection_set.node, depth + 1))
                }
                Selection::InlineFragment(f) => self.set(&f.node.selection_set.node, depth + 1),
                Selection::FragmentSpread(f) => {
                    self.fragment(f.node.fragment_name.node.as_str(), depth)
                }
            };
            n = n.saturating_add(more);
        }
        n
    }

    fn fragment(&mut self, name: &'a str, depth: usize) -> u64 {
        match self.sizes.get(name) {
            Some(Some(n)) => return *n,
            Some(None) => return u64::MAX,
            None => {}
        }
        let Some(def) = self.doc.fragments.get(name) else {
            return 0;
        };
        self.sizes.insert(name, None);
        let n = self.set(&def.node.selection_set.node, depth + 1);
        self.sizes.insert(name, Some(n));
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bomb(levels: usize) -> String {
        let mut q = String::from("query { ...F0 }\nfragment F0 on Query { apiVersion }\n");
        for i in 1..=levels {
            q.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i - 1,
                i - 1
            ));
        }
        q.replace(
            "...F0 }\nfragment F0",
            &format!("...F{levels} }}\nfragment F0"),
        )
    }

    #[test]
    fn spreads_are_counted_without_expanding_them() {
        let doc = async_graphql::parser::parse_query(bomb(28)).unwrap();
        assert_eq!(expanded_fields(&doc), 1 << 28);
        assert!(refusal(&bomb(28)).is_some());
        assert!(refusal(&bomb(10)).is_none(), "1,024 fields are fine");
        let ordinary = "query($id: ID!) { person(id: $id) { email current { track level } } }";
        assert_eq!(
            expanded_fields(&async_graphql::parser::parse_query(ordinary).unwrap()),
            5
        );
        assert!(refusal(&"{ a }".repeat(20_000)).is_some(), "too long");
    }
}

#[cfg(test)]
mod introspection_tests {
    use super::introspection_only;

    #[test]
    fn only_documents_of_introspection_fields_are_introspection() {
        assert!(introspection_only(
            "query IntrospectionQuery { __schema { types { ...T } } } fragment T on __Type { name }"
        ));
        assert!(introspection_only(
            "{ __type(name: \"Person\") { name } __typename }"
        ));
        assert!(!introspection_only(
            "{ __schema { types { name } } me { id } }"
        ));
        assert!(!introspection_only(
            "{ ...F } fragment F on Query { __typename }"
        ));
        assert!(!introspection_only(
            "query A { __typename } query B { me { id } }"
        ));
        assert!(!introspection_only("{ not parsed"));
    }
}
