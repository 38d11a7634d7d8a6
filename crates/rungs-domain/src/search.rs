//! What a people search matches: the start of any word of a person's name or email, and what
//! follows it. `berg` finds "Mira Bergström" and `mira.berg5@acme.example`; `mira berg` finds
//! the name, `berg5@acme` the email; `erg` finds neither (it starts no word).
//!
//! A person's *terms* are their name and their email, each without accents and lower-cased,
//! with its runs of whitespace made one space, cut at the start of each word (a letter or digit after anything
//! else) and kept from there to the end: "Mira Bergström" gives `mira bergstrom` and
//! `bergstrom`, so `bergstrom` and `Bergström` find her alike. A search matches a person when it is the beginning of one of their terms, so
//! every backend answers it from an ordinary index on the terms (a range of one index, not a
//! scan of the organisation), as a substring search could not on all three.

/// A term's length, in characters; longer ones are cut (and a longer search with them).
pub const TERM_CHARS: usize = 100;

/// Without accents (the compatibility decomposition, less its combining marks: `é` is `e`,
/// `ﬁ` is `fi`; a letter of its own, such as `ø` or `ß`, stays), in lower case, each run of
/// whitespace one space, none at either end.
fn normal(s: &str) -> String {
    use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};
    let plain: String = s.nfkd().filter(|c| !is_combining_mark(*c)).collect();
    plain
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The first `TERM_CHARS` characters of `s`.
fn cut(s: &str) -> String {
    s.chars().take(TERM_CHARS).collect()
}

/// The terms of a person with this email and name: sorted, each once.
pub fn search_terms(email: &str, display_name: &str) -> Vec<String> {
    let mut terms = Vec::new();
    for text in [email, display_name] {
        let text = normal(text);
        let mut previous: Option<char> = None;
        for (i, c) in text.char_indices() {
            if c.is_alphanumeric() && !previous.is_some_and(char::is_alphanumeric) {
                terms.push(cut(&text[i..]));
            }
            previous = Some(c);
        }
    }
    terms.sort();
    terms.dedup();
    terms
}

/// What a search looks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sought {
    /// A blank search: no search, everyone.
    Anyone,
    /// Text without a letter or digit: no term starts with one, so no one.
    NoOne,
    /// Terms that begin with this (the search as a term is written, from its first letter or
    /// digit: `@acme` looks for `acme`).
    Prefix(String),
}

/// What a search for `q` looks for.
pub fn sought(q: &str) -> Sought {
    let q = normal(q);
    if q.is_empty() {
        return Sought::Anyone;
    }
    match q.find(char::is_alphanumeric) {
        Some(start) => Sought::Prefix(cut(&q[start..])),
        None => Sought::NoOne,
    }
}

/// The least text that is after every text that begins with `prefix` (in the order of
/// Unicode code points, a binary collation's): `prefix` with its last character that can be
/// raised raised, and what follows it dropped; `None` if no character can be (nothing is
/// after them all).
pub fn after_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Does a search for `q` match a person with these terms? (What the database answers.)
pub fn matches(terms: &[String], q: &str) -> bool {
    match sought(q) {
        Sought::Anyone => true,
        Sought::NoOne => false,
        Sought::Prefix(p) => terms.iter().any(|t| t.starts_with(&p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_start_at_each_word() {
        assert_eq!(
            search_terms("Mira.Berg5@acme.example", "Mira  Bergström"),
            vec![
                "acme.example",
                "berg5@acme.example",
                "bergstrom",
                "example",
                "mira bergstrom",
                "mira.berg5@acme.example",
            ]
        );
        // Apostrophes and hyphens start words; digits after letters do not.
        assert_eq!(
            search_terms("a@b.c", "Seán O'Brien-Number11"),
            vec![
                "a@b.c",
                "b.c",
                "brien-number11",
                "c",
                "number11",
                "o'brien-number11",
                "sean o'brien-number11",
            ]
        );
    }

    #[test]
    fn a_search_matches_the_start_of_a_word_in_any_case() {
        let terms = search_terms("mira.berg5@acme.example", "Mira Bergström");
        for q in [
            "berg",
            "BERGSTRÖM",
            "bergstrom",
            "Mira Berg",
            "  mira   berg ",
            "mira.berg5",
            "berg5@acme",
            "@acme",
            "example",
        ] {
            assert!(matches(&terms, q), "{q}");
        }
        for q in ["erg", "ström", "strom", "mira bergx", "5@acme", "acme mira"] {
            assert!(!matches(&terms, q), "{q}");
        }
        // Blank: no search; no letter or digit: no one.
        assert_eq!(sought(" \t "), Sought::Anyone);
        assert!(matches(&terms, ""));
        assert_eq!(sought(" .@ "), Sought::NoOne);
        assert!(!matches(&terms, "%"));
    }

    #[test]
    fn accents_and_compatibility_forms_are_dropped_own_letters_stay() {
        let terms = search_terms("jose@x.test", "José Ødegaard-Straße");
        for q in ["jose", "JOSÉ", "José", "ødegaard", "strasse", "straße"] {
            assert_eq!(
                matches(&terms, q),
                !q.starts_with("strasse"),
                "{q}: ß is a letter of its own"
            );
        }
        assert!(!matches(&terms, "odegaard"), "ø is a letter of its own");
        // A decomposed é (e and its accent) is the composed one; ﬁ is fi.
        assert!(matches(&search_terms("a@b.c", "Jose\u{301}"), "josé"));
        assert!(matches(&search_terms("a@b.c", "\u{FB01}ona"), "fiona"));
    }

    #[test]
    fn long_terms_and_searches_are_cut_alike() {
        let long = "x".repeat(150);
        let terms = search_terms("a@b.c", &long);
        assert!(terms.iter().all(|t| t.chars().count() <= TERM_CHARS));
        assert!(matches(&terms, &"x".repeat(140)));
    }

    #[test]
    fn the_prefix_range_ends_after_every_continuation() {
        assert_eq!(after_prefix("berg").as_deref(), Some("berh"));
        assert_eq!(after_prefix("a\u{10FFFF}").as_deref(), Some("b"));
        // The surrogates are skipped.
        assert_eq!(after_prefix("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(after_prefix("\u{10FFFF}"), None);
        for t in ["berg", "berg5@x", "berg\u{10FFFF}"] {
            assert!(t >= "berg" && t < after_prefix("berg").unwrap().as_str());
        }
        assert!("berh" >= after_prefix("berg").unwrap().as_str());
    }
}
