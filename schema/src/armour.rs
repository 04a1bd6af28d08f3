//! Limits on the shape of an operation, checked before it executes.
//!
//! Two stages, because async-graphql's own limits run only after a full
//! parse (a 2 MiB document costs most of a second of CPU before it is
//! refused) and never see `__typename` (floods of aliased `__typename` pass
//! its depth and complexity limits):
//! 1. [`check_text`] bounds the document's size and counts its lexical
//!    tokens with a small scanner, before any parsing;
//! 2. [`check_document`] walks the parsed document, fragments included
//!    (with a guard against fragment cycles), counting depth, aliases and
//!    directives over every field, `__typename` included.

use std::collections::HashSet;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::Positioned;

/// The limits, all inclusive.
#[derive(Clone, Debug)]
pub struct ArmourLimits {
    /// Largest document, in bytes.
    pub max_document_bytes: usize,
    /// Largest `variables` (and the rest of the body besides the document).
    pub max_variables_bytes: usize,
    /// Most lexical tokens in a document.
    pub max_tokens: usize,
    /// Deepest selection nesting.
    pub max_depth: usize,
    /// Most aliases in an operation (fragments counted where spread).
    pub max_aliases: usize,
    /// Most directives in an operation.
    pub max_directives: usize,
}

impl Default for ArmourLimits {
    fn default() -> Self {
        Self {
            max_document_bytes: 64 * 1024,
            max_variables_bytes: 512 * 1024,
            max_tokens: 15_000,
            max_depth: 15,
            max_aliases: 50,
            max_directives: 50,
        }
    }
}

/// Why an operation was refused before execution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArmourError {
    /// The document is larger than allowed.
    #[error("the document is {0} bytes; at most {1} are allowed")]
    DocumentTooLarge(usize, usize),
    /// The variables are larger than allowed.
    #[error("the variables are {0} bytes; at most {1} are allowed")]
    VariablesTooLarge(usize, usize),
    /// The document has more tokens than allowed.
    #[error("the document has more than {0} tokens")]
    TooManyTokens(usize),
    /// Nested deeper than allowed.
    #[error("the operation nests {0} levels deep; at most {1} are allowed")]
    TooDeep(usize, usize),
    /// More aliases than allowed.
    #[error("the operation uses {0} aliases; at most {1} are allowed")]
    TooManyAliases(usize, usize),
    /// More directives than allowed.
    #[error("the operation uses {0} directives; at most {1} are allowed")]
    TooManyDirectives(usize, usize),
    /// A fragment spreads itself, directly or not.
    #[error("the fragment `{0}` spreads itself")]
    FragmentCycle(String),
}

impl ArmourError {
    /// The stable `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            ArmourError::DocumentTooLarge(..) => "DOCUMENT_TOO_LARGE",
            ArmourError::VariablesTooLarge(..) => "VARIABLES_TOO_LARGE",
            ArmourError::TooManyTokens(_) => "TOO_MANY_TOKENS",
            ArmourError::TooDeep(..) => "QUERY_TOO_DEEP",
            ArmourError::TooManyAliases(..) => "TOO_MANY_ALIASES",
            ArmourError::TooManyDirectives(..) => "TOO_MANY_DIRECTIVES",
            ArmourError::FragmentCycle(_) => "GRAPHQL_VALIDATION_FAILED",
        }
    }
}

/// Checks what can be checked before parsing: sizes, and the token count.
pub fn check_text(
    query: &str,
    rest_bytes: usize,
    limits: &ArmourLimits,
) -> Result<(), ArmourError> {
    if query.len() > limits.max_document_bytes {
        return Err(ArmourError::DocumentTooLarge(
            query.len(),
            limits.max_document_bytes,
        ));
    }
    if rest_bytes > limits.max_variables_bytes {
        return Err(ArmourError::VariablesTooLarge(
            rest_bytes,
            limits.max_variables_bytes,
        ));
    }
    if count_tokens(query, limits.max_tokens + 1) > limits.max_tokens {
        return Err(ArmourError::TooManyTokens(limits.max_tokens));
    }
    Ok(())
}

/// Counts GraphQL lexical tokens (punctuators, names, numbers, strings),
/// skipping whitespace, commas and comments; stops counting at `stop`.
/// Lenient: malformed input is counted, not judged (the parser judges).
pub fn count_tokens(text: &str, stop: usize) -> usize {
    let b = text.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < b.len() && n < stop {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' | 0xEF | 0xBB | 0xBF => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    i += if b[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i = (i + 3).min(b.len());
                n += 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                n += 1;
            }
            b'.' if b[i..].starts_with(b"...") => {
                i += 3;
                n += 1;
            }
            c if c == b'_' || c.is_ascii_alphanumeric() || c == b'-' => {
                i += 1;
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric() || b[i] == b'.')
                {
                    i += 1;
                }
                n += 1;
            }
            _ => {
                i += 1;
                n += 1;
            }
        }
    }
    n
}

/// Checks the parsed document's depth, aliases and directives, counting
/// every field, `__typename` included, and fragments where they are
/// spread.
pub fn check_document(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    limits: &ArmourLimits,
) -> Result<(), ArmourError> {
    let mut walk = Walk {
        doc,
        limits,
        aliases: 0,
        directives: 0,
        path: HashSet::new(),
    };
    let operations: Vec<_> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops.get(name).into_iter().collect(),
            None => ops.values().collect(),
        },
    };
    for op in operations {
        walk.directives += op.node.directives.len();
        walk.selection_set(&op.node.selection_set, 1)?;
    }
    Ok(())
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    limits: &'a ArmourLimits,
    aliases: usize,
    directives: usize,
    /// Fragments being expanded on the current path (cycle guard).
    path: HashSet<&'a str>,
}

impl<'a> Walk<'a> {
    fn selection_set(
        &mut self,
        set: &'a Positioned<SelectionSet>,
        depth: usize,
    ) -> Result<(), ArmourError> {
        if depth > self.limits.max_depth {
            return Err(ArmourError::TooDeep(depth, self.limits.max_depth));
        }
        for item in &set.node.items {
            match &item.node {
                Selection::Field(f) => {
                    if f.node.alias.is_some() {
                        self.aliases += 1;
                    }
                    self.directives += f.node.directives.len();
                    self.bounded()?;
                    if !f.node.selection_set.node.items.is_empty() {
                        self.selection_set(&f.node.selection_set, depth + 1)?;
                    }
                }
                Selection::InlineFragment(frag) => {
                    self.directives += frag.node.directives.len();
                    self.bounded()?;
                    self.selection_set(&frag.node.selection_set, depth)?;
                }
                Selection::FragmentSpread(spread) => {
                    self.directives += spread.node.directives.len();
                    self.bounded()?;
                    let name = spread.node.fragment_name.node.as_str();
                    let Some(fragment) = self.doc.fragments.get(name) else {
                        continue; // the validator reports unknown fragments
                    };
                    self.fragment(name, fragment, depth)?;
                }
            }
        }
        Ok(())
    }

    fn fragment(
        &mut self,
        name: &'a str,
        fragment: &'a Positioned<FragmentDefinition>,
        depth: usize,
    ) -> Result<(), ArmourError> {
        if !self.path.insert(name) {
            return Err(ArmourError::FragmentCycle(name.to_owned()));
        }
        self.directives += fragment.node.directives.len();
        self.selection_set(&fragment.node.selection_set, depth)?;
        self.path.remove(name);
        Ok(())
    }

    fn bounded(&self) -> Result<(), ArmourError> {
        if self.aliases > self.limits.max_aliases {
            return Err(ArmourError::TooManyAliases(
                self.aliases,
                self.limits.max_aliases,
            ));
        }
        if self.directives > self.limits.max_directives {
            return Err(ArmourError::TooManyDirectives(
                self.directives,
                self.limits.max_directives,
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(q: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(q).expect("parses")
    }

    #[test]
    fn tokens_are_counted_like_the_lexer_does() {
        assert_eq!(count_tokens("{ a b }", 100), 4);
        assert_eq!(
            count_tokens("query Q($x: Int = 1) { a(x: $x) @skip(if: false) }", 100),
            26
        );
        assert_eq!(count_tokens("# only a comment\n{ a }", 100), 3);
        assert_eq!(
            count_tokens(r#"{ a(s: "with \" quote, and, commas") }"#, 100),
            8
        );
        assert_eq!(count_tokens("{ a(s: \"\"\"block\n\"\"\") ...F }", 100), 10);
        assert_eq!(count_tokens("{ a b c d e }", 3), 3, "stops early");
    }

    #[test]
    fn size_and_tokens_are_refused_before_parsing() {
        let limits = ArmourLimits {
            max_document_bytes: 100,
            max_tokens: 10,
            ..ArmourLimits::default()
        };
        assert!(check_text("{ a }", 0, &limits).is_ok());
        assert_eq!(
            check_text(&"x".repeat(101), 0, &limits),
            Err(ArmourError::DocumentTooLarge(101, 100))
        );
        assert_eq!(
            check_text("{ a b c d e f g h i j }", 0, &limits),
            Err(ArmourError::TooManyTokens(10))
        );
        assert_eq!(
            check_text("{ a }", 600 * 1024, &ArmourLimits::default()).map_err(|e| e.code()),
            Err("VARIABLES_TOO_LARGE")
        );
    }

    #[test]
    fn aliased_typename_floods_and_deep_fragments_are_refused() {
        let limits = ArmourLimits::default();
        let flood: String = (0..60).map(|i| format!("a{i}: __typename ")).collect();
        let err =
            check_document(&doc(&format!("{{ {flood} }}")), None, &limits).expect_err("refused");
        assert_eq!(err.code(), "TOO_MANY_ALIASES");

        let mut deep = String::from("__typename");
        for _ in 0..16 {
            deep = format!("a {{ {deep} }}");
        }
        let err =
            check_document(&doc(&format!("{{ {deep} }}")), None, &limits).expect_err("refused");
        assert_eq!(err.code(), "QUERY_TOO_DEEP");

        // depth through fragments counts where they are spread
        let q =
            "query { a { ...F } } fragment F on T { b { ...G } } fragment G on T { c { d { e } } }";
        let tight = ArmourLimits {
            max_depth: 4,
            ..ArmourLimits::default()
        };
        assert_eq!(
            check_document(&doc(q), None, &tight).map_err(|e| e.code()),
            Err("QUERY_TOO_DEEP")
        );
        assert!(check_document(&doc(q), None, &limits).is_ok());

        let cycle = "query { ...A } fragment A on Q { ...B } fragment B on Q { ...A }";
        assert_eq!(
            check_document(&doc(cycle), None, &limits),
            Err(ArmourError::FragmentCycle("A".into()))
        );
        let directives: String = (0..51).map(|_| "@include(if: true) ").collect();
        let err = check_document(&doc(&format!("{{ a {directives} }}")), None, &limits)
            .expect_err("refused");
        assert_eq!(err.code(), "TOO_MANY_DIRECTIVES");
    }
}
