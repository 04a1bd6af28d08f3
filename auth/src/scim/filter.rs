//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsed by
//! `scim_v2` into our own small AST (so the parser can be swapped), then
//! translated to SQL over the users and groups tables, or evaluated in
//! memory on one element of a multi-valued attribute (PATCH value paths).

use serde_json::Value;

/// An attribute reference as written: `[urn:]name[.sub]`.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrRef {
    /// The schema URN, when written.
    pub uri: Option<String>,
    /// The attribute name.
    pub name: String,
    /// The sub-attribute, when written.
    pub sub: Option<String>,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A literal compared against.
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Literal {
    Str(String),
    Number(serde_json::Number),
    Bool(bool),
    Null,
}

/// A filter expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// All of them.
    And(Vec<Expr>),
    /// Any of them.
    Or(Vec<Expr>),
    /// Not it.
    Not(Box<Expr>),
    /// `attr pr`.
    Present(AttrRef),
    /// `attr op literal`.
    Compare(AttrRef, Op, Literal),
    /// `attr[filter]`: some element of a multi-valued attribute matches;
    /// the inner filter's names are sub-attributes of `attr`.
    ValuePath(AttrRef, Box<Expr>),
}

/// A PATCH path: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`.
#[derive(Clone, Debug, PartialEq)]
pub struct PathExpr {
    /// The attribute (with its sub-attribute when the path is `attr.sub`).
    pub attr: AttrRef,
    /// The value filter, for `attr[filter]`.
    pub filter: Option<Expr>,
    /// The sub-attribute after the filter, for `attr[filter].sub`.
    pub sub_after_filter: Option<String>,
}

#[allow(unused_imports)]
use Value as _;
