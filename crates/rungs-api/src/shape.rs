//! The shape of a query document, checked in linear time before GraphQL validation sees it: a
//! document of a few hundred bytes can spread fragments into millions of fields, and
//! validating that takes seconds to minutes. Each fragment's size is counted once and reused
//! wherever it is spread, so counting costs the document's length, not its expansion.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use rungs_app::auth::Lead;
use rungs_domain::PersonId;
use std::collections::HashMap;

/// The longest query text accepted (variables, where files travel, are not counted).
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// Deeper nesting than this is refused outright (the schema's own depth limit is lower).
const MAX_NESTING: usize = 64;

/// How much one document may ask for, counted with every fragment spread in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fields selected, at every depth.
    pub fields: u64,
    /// Fields at an operation's root (each is its own read or write: `me`, `person`, `login`).
    pub root_fields: u64,
    /// Aliased fields (the same field asked for again under another name).
    pub aliases: u64,
}

impl Limits {
    /// A signed-in caller: a dashboard selects a few hundred fields under a handful of roots.
    pub const SIGNED_IN: Self = Self {
        fields: 5_000,
        root_fields: 20,
        aliases: 100,
    };
    /// No token: only `login`, `refresh`, `logout` and `apiVersion` answer, one at a time.
    pub const ANONYMOUS: Self = Self {
        fields: 200,
        root_fields: 1,
        aliases: 2,
    };
}

/// Why a document is refused before validation, if it is (the server parses once and calls
/// [`refusal_of_text`] and [`refusal_of`]).
#[cfg(test)]
fn refusal(query: &str, limits: Limits) -> Option<String> {
    if query.len() > MAX_QUERY_BYTES {
        return Some(too_long(query));
    }
    // A document that does not parse is left to GraphQL, which says where.
    let doc = async_graphql::parser::parse_query(query).ok()?;
    refusal_of(&doc, limits)
}

/// Why a query text is refused before it is even parsed, if it is: its length.
pub fn refusal_of_text(query: &str) -> Option<String> {
    (query.len() > MAX_QUERY_BYTES).then(|| too_long(query))
}

fn too_long(query: &str) -> String {
    format!(
        "the query is {} bytes; at most {MAX_QUERY_BYTES} are accepted",
        query.len()
    )
}

/// Why a parsed document is refused before validation, if it is.
pub fn refusal_of(doc: &ExecutableDocument, limits: Limits) -> Option<String> {
    let t = tally(doc);
    if t.fields > limits.fields {
        return Some(format!(
            "the query selects more than {} fields once its fragments are spread",
            limits.fields
        ));
    }
    if t.root_fields > limits.root_fields {
        return Some(format!(
            "an operation may ask for at most {} root fields (such as `me` or `person`) at once; \
             this one asks for {}",
            limits.root_fields, t.root_fields
        ));
    }
    if t.aliases > limits.aliases {
        return Some(format!(
            "the query uses more than {} aliases once its fragments are spread",
            limits.aliases
        ));
    }
    None
}

/// Whether every operation of `query` (or the one named) selects only introspection fields
/// (`__schema`, `__type`, `__typename`) at its root: GraphiQL's schema query, which is deeper
/// than the depth limit allows ordinary queries.
#[cfg(test)]
fn introspection_only(query: &str) -> bool {
    async_graphql::parser::parse_query(query).is_ok_and(|doc| introspection_only_of(&doc))
}

/// [`introspection_only`] of a parsed document.
pub fn introspection_only_of(doc: &ExecutableDocument) -> bool {
    doc.operations.iter().all(|(_, op)| {
        op.node.selection_set.node.items.iter().all(|item| {
            matches!(&item.node, Selection::Field(f) if f.node.name.node.as_str().starts_with("__"))
        })
    })
}

/// Whether any operation of a parsed document is a mutation (or a subscription).
pub fn may_write(doc: &ExecutableDocument) -> bool {
    doc.operations
        .iter()
        .any(|(_, op)| op.node.ty != async_graphql::parser::types::OperationType::Query)
}

/// What the operation `name` (the document's only one by default) is about, when its root is
/// one field the session's statement can read with the caller ([`Lead`]): `person(id: …)`,
/// the caller's own `growthPlan` (no `personId`, no `target`), or the directory's first page
/// (`people(first: …)`, no `after`, no `filter`, no `totalCount`). Anything else, or an `id`
/// that is not one, has none: the resolvers read as they always do.
pub fn lead_of(
    doc: &ExecutableDocument,
    name: Option<&str>,
    variables: &async_graphql::Variables,
) -> Option<Lead> {
    use async_graphql::Value as V;
    use async_graphql::parser::types::OperationType;
    let op = match name {
        Some(n) => doc
            .operations
            .iter()
            .find(|(o, _)| o.is_some_and(|o| o.as_str() == n)),
        None => doc
            .operations
            .iter()
            .next()
            .filter(|_| doc.operations.iter().count() == 1),
    }?
    .1;
    if op.node.ty != OperationType::Query {
        return None;
    }
    let mut fields = op
        .node
        .selection_set
        .node
        .items
        .iter()
        .filter_map(|s| match &s.node {
            Selection::Field(f) if f.node.name.node == "__typename" => None,
            Selection::Field(f) => Some(Some(&f.node)),
            // A fragment at the root: not worth seeing through.
            _ => Some(None),
        });
    let field = fields.next()??;
    if fields.next().is_some() {
        return None;
    }
    let argument = |name: &str| {
        let value = &field.arguments.iter().find(|(n, _)| n.node == name)?.1.node;
        value
            .clone()
            .into_const_with(|v| variables.get(&v).cloned().ok_or(()))
            .ok()
            .filter(|v| *v != V::Null)
    };
    match field.name.node.as_str() {
        "person" => match argument("id")? {
            V::String(id) => id.parse::<PersonId>().ok().map(Lead::Person),
            _ => None,
        },
        "growthPlan" if argument("personId").is_none() && argument("target").is_none() => {
            Some(Lead::OwnAssessments)
        }
        "people" if argument("after").is_none() && argument("filter").is_none() => {
            let first = match argument("first")? {
                V::Number(n) => usize::try_from(n.as_u64()?).ok()?,
                _ => return None,
            };
            // The total is counted apart: a page that asks for it (or might, through a
            // fragment) has no lead.
            let counted = field
                .selection_set
                .node
                .items
                .iter()
                .any(|s| match &s.node {
                    Selection::Field(f) => f.node.name.node == "totalCount",
                    _ => true,
                });
            (!counted && (1..=100).contains(&first)).then(|| Lead::People {
                first,
                with_positions: may_select(&field.selection_set.node, "current"),
            })
        }
        _ => None,
    }
}

/// Whether `set` selects a field named `name` at any depth, or might (through a fragment).
fn may_select(set: &SelectionSet, name: &str) -> bool {
    set.items.iter().any(|s| match &s.node {
        Selection::Field(f) => {
            f.node.name.node == name || may_select(&f.node.selection_set.node, name)
        }
        _ => true,
    })
}

/// What a document asks for with its fragments spread in place (saturating; a fragment that
/// spreads itself, or nesting beyond reason, counts as too many).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Fields at every depth, over all operations.
    pub fields: u64,
    /// The most root fields of any one operation.
    pub root_fields: u64,
    /// Aliased fields at every depth, over all operations.
    pub aliases: u64,
}

impl Tally {
    const TOO_MUCH: Self = Self {
        fields: u64::MAX,
        root_fields: u64::MAX,
        aliases: u64::MAX,
    };

    fn add(self, o: Self) -> Self {
        Self {
            fields: self.fields.saturating_add(o.fields),
            root_fields: self.root_fields.saturating_add(o.root_fields),
            aliases: self.aliases.saturating_add(o.aliases),
        }
    }
}

/// The [`Tally`] of `doc`, in time linear in its length: each fragment is counted once.
pub fn tally(doc: &ExecutableDocument) -> Tally {
    let mut c = Counter {
        doc,
        sizes: HashMap::new(),
    };
    doc.operations
        .iter()
        .map(|(_, op)| c.set(&op.node.selection_set.node, 0))
        .fold(Tally::default(), |all, op| Tally {
            root_fields: all.root_fields.max(op.root_fields),
            ..all.add(op)
        })
}

struct Counter<'a> {
    doc: &'a ExecutableDocument,
    /// Fragment tallies counted so far; `None` while a fragment is being counted (a cycle).
    sizes: HashMap<&'a str, Option<Tally>>,
}

impl<'a> Counter<'a> {
    /// The tally of a selection set; its `root_fields` are the fields of this level (with the
    /// fragments spread here), which the caller keeps only for an operation's root.
    fn set(&mut self, s: &'a SelectionSet, depth: usize) -> Tally {
        if depth > MAX_NESTING {
            return Tally::TOO_MUCH;
        }
        let mut n = Tally::default();
        for item in &s.items {
            let more = match &item.node {
                Selection::Field(f) => {
                    let below = self.set(&f.node.selection_set.node, depth + 1);
                    Tally {
                        fields: below.fields.saturating_add(1),
                        root_fields: 1,
                        aliases: below
                            .aliases
                            .saturating_add(u64::from(f.node.alias.is_some())),
                    }
                }
                Selection::InlineFragment(f) => self.set(&f.node.selection_set.node, depth + 1),
                Selection::FragmentSpread(f) => {
                    self.fragment(f.node.fragment_name.node.as_str(), depth)
                }
            };
            n = n.add(more);
        }
        n
    }

    fn fragment(&mut self, name: &'a str, depth: usize) -> Tally {
        match self.sizes.get(name) {
            Some(Some(n)) => return *n,
            Some(None) => return Tally::TOO_MUCH,
            None => {}
        }
        let Some(def) = self.doc.fragments.get(name) else {
            return Tally::default();
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
        assert_eq!(tally(&doc).fields, 1 << 28);
        assert!(refusal(&bomb(28), Limits::SIGNED_IN).is_some());
        // 1,024 fields are within the field limit; spread at the root, they are 1,024 roots.
        assert_eq!(
            tally(&async_graphql::parser::parse_query(bomb(10)).unwrap()).fields,
            1024
        );
        assert!(
            refusal(&bomb(10), Limits::SIGNED_IN)
                .unwrap()
                .contains("1024")
        );
        let ordinary = "query($id: ID!) { person(id: $id) { email current { track level } } }";
        assert_eq!(
            tally(&async_graphql::parser::parse_query(ordinary).unwrap()).fields,
            5
        );
        assert!(
            refusal(&"{ a }".repeat(20_000), Limits::SIGNED_IN).is_some(),
            "too long"
        );
    }

    #[test]
    fn root_fields_and_aliases_are_counted_through_fragments() {
        let signed_in = Limits::SIGNED_IN;
        let aliases = |n: usize| {
            (0..n)
                .map(|i| format!("a{i}: me {{ id }}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        // 1,000 aliases of `me`: refused for their number of roots, before anything runs.
        let many = format!("{{ {} }}", aliases(1000));
        let why = refusal(&many, signed_in).unwrap();
        assert!(why.contains("root fields"), "{why}");
        // Roots hidden in a fragment and an inline fragment count the same.
        let hidden = format!(
            "{{ ...F ... on Query {{ me {{ id }} }} }} fragment F on Query {{ {} }}",
            aliases(20)
        );
        let t = tally(&async_graphql::parser::parse_query(&hidden).unwrap());
        assert_eq!((t.root_fields, t.aliases, t.fields), (21, 20, 42));
        assert!(refusal(&hidden, signed_in).unwrap().contains("21"));
        // Aliases below the root: counted at every depth, and across every spread.
        let nested = format!(
            "{{ me {{ ...G ...G }} }} fragment G on Person {{ {} }}",
            (0..60)
                .map(|i| format!("e{i}: email"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let t = tally(&async_graphql::parser::parse_query(&nested).unwrap());
        assert_eq!((t.root_fields, t.aliases), (1, 120));
        assert!(refusal(&nested, signed_in).unwrap().contains("aliases"));
        // A dashboard is well within; root fields are per operation.
        let dashboard = "query A { me { id } team(first: 20) { edges { node { person { email } } } } } query B { me { id } }";
        assert_eq!(refusal(dashboard, signed_in), None);
        assert_eq!(
            tally(&async_graphql::parser::parse_query(dashboard).unwrap()).root_fields,
            2
        );
        // Without a token, one root field at a time.
        let two = "mutation { a: logout(token: \"x\") b: logout(token: \"y\") }";
        assert!(
            refusal(two, Limits::ANONYMOUS)
                .unwrap()
                .contains("root fields")
        );
        assert_eq!(refusal("{ apiVersion }", Limits::ANONYMOUS), None);
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
