//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsed by
//! `scim_v2` into our own small AST (so the parser can be swapped), then
//! translated to SQL over the users and groups tables, or evaluated in
//! memory on one element of a multi-valued attribute (PATCH value paths).

use scim_v2::filter as parser;
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};

use super::filter_sql;
use super::schema::{Attr, Kind, ResourceType};
use super::{ScimError, ScimType};

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

/// Parses a `filter` parameter: 400 invalidFilter saying what is wrong.
pub fn parse(raw: &str) -> Result<Expr, ScimError> {
    let parsed: parser::Filter = raw
        .parse()
        .map_err(|e| ScimError::bad(ScimType::InvalidFilter, describe(e, "filter")))?;
    Ok(from_filter(parsed))
}

/// Parses a PATCH `path`: 400 invalidPath.
pub fn parse_path(raw: &str) -> Result<PathExpr, ScimError> {
    let parsed: parser::PatchPath = raw
        .parse()
        .map_err(|e| ScimError::bad(ScimType::InvalidPath, describe(e, "path")))?;
    Ok(match parsed {
        parser::PatchPath::Attr(a) => PathExpr {
            attr: attr_ref(a),
            filter: None,
            sub_after_filter: None,
        },
        parser::PatchPath::Value(v) => PathExpr {
            attr: attr_ref(v.attr),
            filter: Some(from_val(v.filter)),
            sub_after_filter: v.sub_attr,
        },
    })
}

/// Appends the filter as one parenthesised SQL boolean over the table
/// aliased `u` (users) or `g` (groups), literals bound.
pub fn push_sql(
    qb: &mut QueryBuilder<'_, Postgres>,
    expr: &Expr,
    rt: &'static ResourceType,
) -> Result<(), ScimError> {
    filter_sql::push(qb, expr, rt)
}

/// Appends ` order by <sortBy> asc|desc, <alias>.id` (by id alone without
/// `sortBy`), so pages are stable.
pub fn push_order(
    qb: &mut QueryBuilder<'_, Postgres>,
    sort_by: Option<&str>,
    descending: bool,
    rt: &'static ResourceType,
) -> Result<(), ScimError> {
    filter_sql::push_order(qb, sort_by, descending, rt)
}

/// Whether one element of the multi-valued attribute `attr` matches a value
/// filter (PATCH paths such as `emails[type eq "work"]`). A string element
/// (a multi-valued simple attribute) is its own `value`.
pub fn matches(expr: &Expr, element: &Value, attr: &'static Attr) -> bool {
    match expr {
        Expr::And(items) => items.iter().all(|e| matches(e, element, attr)),
        Expr::Or(items) => items.iter().any(|e| matches(e, element, attr)),
        Expr::Not(inner) => !matches(inner, element, attr),
        Expr::ValuePath(..) => false,
        Expr::Present(a) => sub_value(element, attr, a).is_some_and(|(v, _)| match v {
            Value::String(s) => !s.is_empty(),
            Value::Null => false,
            _ => true,
        }),
        Expr::Compare(a, op, lit) => {
            let Some((value, def)) = sub_value(element, attr, a) else {
                return matches!(op, Op::Ne) && *lit != Literal::Null;
            };
            compare(value, def, *op, lit)
        }
    }
}

fn sub_value<'v>(
    element: &'v Value,
    attr: &'static Attr,
    a: &AttrRef,
) -> Option<(&'v Value, Option<&'static Attr>)> {
    let name = a.sub.as_deref().unwrap_or(&a.name);
    match element {
        Value::Object(map) => {
            let def = attr.sub_attr(name);
            let key = def.map_or(name, |d| d.name);
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| (v, def))
        }
        other if name.eq_ignore_ascii_case("value") => Some((other, None)),
        _ => None,
    }
}

fn compare(value: &Value, def: Option<&'static Attr>, op: Op, lit: &Literal) -> bool {
    let case_exact = def.is_some_and(|d| d.case_exact);
    match (value, lit) {
        (_, Literal::Null) => match op {
            Op::Eq => value.is_null(),
            Op::Ne => !value.is_null(),
            _ => false,
        },
        (Value::Bool(b), Literal::Bool(l)) => match op {
            Op::Eq => b == l,
            Op::Ne => b != l,
            _ => false,
        },
        (Value::String(s), Literal::Bool(l)) if def.is_some_and(|d| d.kind == Kind::Boolean) => {
            let b = s.eq_ignore_ascii_case("true");
            match op {
                Op::Eq => b == *l,
                Op::Ne => b != *l,
                _ => false,
            }
        }
        (Value::String(s), Literal::Str(l)) => {
            let (s, l) = if case_exact {
                (s.clone(), l.clone())
            } else {
                (s.to_lowercase(), l.to_lowercase())
            };
            match op {
                Op::Eq => s == l,
                Op::Ne => s != l,
                Op::Co => s.contains(&l),
                Op::Sw => s.starts_with(&l),
                Op::Ew => s.ends_with(&l),
                Op::Gt => s > l,
                Op::Ge => s >= l,
                Op::Lt => s < l,
                Op::Le => s <= l,
            }
        }
        (Value::Number(n), Literal::Number(l)) => {
            let (a, b) = (
                n.as_f64().unwrap_or(f64::NAN),
                l.as_f64().unwrap_or(f64::NAN),
            );
            match op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Gt => a > b,
                Op::Ge => a >= b,
                Op::Lt => a < b,
                Op::Le => a <= b,
                _ => false,
            }
        }
        _ => matches!(op, Op::Ne),
    }
}

/// A parse error as the client should read it (the input is theirs; we
/// show at most a short excerpt of it).
fn describe(e: parser::ParseError, what: &str) -> String {
    let cut = |t: &str| t.chars().take(40).collect::<String>();
    match e {
        parser::ParseError::InvalidToken { location } => {
            format!("invalid {what}: unexpected character at position {location}")
        }
        parser::ParseError::UnrecognizedEof { .. } => {
            format!("invalid {what}: it ends before the expression is complete")
        }
        parser::ParseError::UnrecognizedToken {
            token: (at, t, _), ..
        } => format!("invalid {what}: unexpected '{}' at position {at}", cut(&t)),
        parser::ParseError::ExtraToken { token: (at, t, _) } => {
            format!("invalid {what}: unexpected '{}' at position {at}", cut(&t))
        }
        parser::ParseError::User { error } => {
            format!("invalid {what}: {}", cut(&error.to_string()))
        }
    }
}

fn attr_ref(p: parser::AttrPath) -> AttrRef {
    AttrRef {
        uri: p.uri,
        name: p.name,
        sub: p.sub_attr,
    }
}

fn op(o: parser::CompareOp) -> Op {
    match o {
        parser::CompareOp::Eq => Op::Eq,
        parser::CompareOp::Ne => Op::Ne,
        parser::CompareOp::Co => Op::Co,
        parser::CompareOp::Sw => Op::Sw,
        parser::CompareOp::Ew => Op::Ew,
        parser::CompareOp::Gt => Op::Gt,
        parser::CompareOp::Lt => Op::Lt,
        parser::CompareOp::Ge => Op::Ge,
        parser::CompareOp::Le => Op::Le,
    }
}

fn literal(v: parser::CompValue) -> Literal {
    match v {
        parser::CompValue::False => Literal::Bool(false),
        parser::CompValue::True => Literal::Bool(true),
        parser::CompValue::Null => Literal::Null,
        parser::CompValue::Number(n) => Literal::Number(n),
        parser::CompValue::Str(s) => Literal::Str(s),
    }
}

fn from_attr(a: parser::AttrExp) -> Expr {
    match a {
        parser::AttrExp::Present(p) => Expr::Present(attr_ref(p)),
        parser::AttrExp::Comparison(p, o, v) => Expr::Compare(attr_ref(p), op(o), literal(v)),
    }
}

fn from_filter(f: parser::Filter) -> Expr {
    match f {
        parser::Filter::Attr(a) => from_attr(a),
        parser::Filter::ValuePath(vp) => {
            Expr::ValuePath(attr_ref(vp.attr), Box::new(from_val(*vp.filter)))
        }
        parser::Filter::Not(inner) => Expr::Not(Box::new(from_filter(*inner))),
        parser::Filter::And(items) => Expr::And(items.into_iter().map(from_filter).collect()),
        parser::Filter::Or(items) => Expr::Or(items.into_iter().map(from_filter).collect()),
    }
}

fn from_val(f: parser::ValFilter) -> Expr {
    match f {
        parser::ValFilter::Attr(a) => from_attr(a),
        parser::ValFilter::Not(inner) => Expr::Not(Box::new(from_val(*inner))),
        parser::ValFilter::And(items) => Expr::And(items.into_iter().map(from_val).collect()),
        parser::ValFilter::Or(items) => Expr::Or(items.into_iter().map(from_val).collect()),
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
