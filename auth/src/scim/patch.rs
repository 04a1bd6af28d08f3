//! The PATCH engine (RFC 7644 §3.5.2) over a resource's canonical document,
//! with what Okta and Entra really send: capitalised ops, no-path values
//! keyed by attribute paths (`name.givenName`, URN-qualified extension
//! attributes), Okta's group rename carrying `id`, member removal by a list
//! of values. The caller applies all operations or none (one transaction;
//! the document is discarded on error).

use serde_json::{Map, Value};

use super::filter::{self, Expr, Literal, Op, PathExpr};
use super::schema::{Attr, Mutability, Resolved, ResourceType, PATCH_OP};
use super::values::{coerce, writable};
use super::{ScimError, ScimType};

/// Most operations one request may carry.
const MAX_OPERATIONS: usize = 1000;

/// The three operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
}

/// One operation.
#[derive(Clone, Debug)]
pub struct Operation {
    /// What to do.
    pub op: OpKind,
    /// Where (absent: the value names its attributes).
    pub path: Option<PathExpr>,
    /// The value.
    pub value: Option<Value>,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidSyntax, detail)
}

fn bad_path(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidPath, detail)
}

fn mutability(name: &str) -> ScimError {
    ScimError::bad(ScimType::Mutability, format!("{name} cannot be changed"))
}

/// Parses a PatchOp body.
pub fn parse(body: &Value) -> Result<Vec<Operation>, ScimError> {
    let get = |key: &str| {
        body.as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .map(|(_, v)| v)
    };
    let declared = get("schemas").and_then(Value::as_array).is_some_and(|s| {
        s.iter()
            .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP)))
    });
    if !declared {
        return Err(syntax(format!(
            "a PATCH request must declare the schema {PATCH_OP}"
        )));
    }
    let ops = get("Operations")
        .and_then(Value::as_array)
        .filter(|ops| !ops.is_empty())
        .ok_or_else(|| syntax("Operations must be a non-empty array"))?;
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(
            ScimType::TooMany,
            format!("at most {MAX_OPERATIONS} operations per request"),
        ));
    }
    ops.iter().map(operation).collect()
}

fn operation(raw: &Value) -> Result<Operation, ScimError> {
    let obj = raw
        .as_object()
        .ok_or_else(|| syntax("each operation must be an object"))?;
    let field = |key: &str| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    };
    let op = match field("op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("add") => OpKind::Add,
        Some("remove") => OpKind::Remove,
        Some("replace") => OpKind::Replace,
        Some(other) => {
            return Err(syntax(format!(
                "unknown op '{}': use add, remove or replace",
                other.chars().take(20).collect::<String>()
            )))
        }
        None => return Err(syntax("each operation needs an op")),
    };
    let path = match field("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(filter::parse_path(p)?),
        Some(_) => return Err(bad_path("path must be a string")),
    };
    let value = field("value").filter(|v| !v.is_null()).cloned();
    match (op, &path, &value) {
        (OpKind::Remove, None, _) => Err(ScimError::bad(ScimType::NoTarget, "remove needs a path")),
        (OpKind::Add | OpKind::Replace, _, None) => Err(syntax("add and replace need a value")),
        _ => Ok(Operation { op, path, value }),
    }
}

/// Applies `ops` in order to `doc`.
pub fn apply(
    doc: &mut Value,
    ops: &[Operation],
    rt: &'static ResourceType,
) -> Result<(), ScimError> {
    for (i, op) in ops.iter().enumerate() {
        let applied = match &op.path {
            None => apply_without_path(doc, op, rt),
            Some(path) => apply_path(doc, op.op, path, op.value.as_ref(), rt),
        };
        // name the failing operation: an IdP admin reads this in a log
        applied.map_err(|e| match e {
            ScimError::BadRequest { scim_type, detail } => ScimError::BadRequest {
                scim_type,
                detail: format!("Operations[{i}]: {detail}"),
            },
            other => other,
        })?;
    }
    Ok(())
}

/// `{"op":"replace","value":{"displayName":…,"name.givenName":…}}`.
fn apply_without_path(
    doc: &mut Value,
    op: &Operation,
    rt: &'static ResourceType,
) -> Result<(), ScimError> {
    let value = op
        .value
        .as_ref()
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ScimError::bad(
                ScimType::InvalidValue,
                "without a path, the value must be an object of attributes",
            )
        })?;
    for (key, v) in value {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = rt.extension(key) {
            let inner = v.as_object().ok_or_else(|| {
                ScimError::bad(
                    ScimType::InvalidValue,
                    format!("{} must be an object", ext.id),
                )
            })?;
            for (k, v2) in inner {
                let r = rt.resolve(Some(ext.id), k, None).ok_or_else(|| {
                    bad_path(format!("unknown attribute '{}' in {}", short(k), ext.id))
                })?;
                set(doc, r, v2, op.op)?;
            }
            continue;
        }
        let Some(r) = rt.resolve_path(key) else {
            if key.to_ascii_lowercase().starts_with("urn:") {
                continue; // an extension we do not serve, as on create
            }
            return Err(bad_path(format!("unknown attribute '{}'", short(key))));
        };
        if !writable(r.attr) && r.sub.is_none() {
            // Okta's group rename carries the group's own id; a read-only
            // attribute repeated as it stands (`"groups": []`) changes nothing.
            let current = container(doc, r)?.get(r.attr.name).cloned();
            let unchanged = current.as_ref() == Some(v) || (current.is_none() && is_empty(v));
            if unchanged {
                continue;
            }
            return Err(mutability(r.attr.name));
        }
        set(doc, r, v, op.op)?;
    }
    Ok(())
}

fn short(s: &str) -> String {
    s.chars().take(100).collect()
}

/// `null`, `[]` or `{}`.
pub(super) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn apply_path(
    doc: &mut Value,
    op: OpKind,
    path: &PathExpr,
    value: Option<&Value>,
    rt: &'static ResourceType,
) -> Result<(), ScimError> {
    let a = &path.attr;
    let r = rt
        .resolve(a.uri.as_deref(), &a.name, a.sub.as_deref())
        .ok_or_else(|| bad_path(format!("unknown attribute '{}'", short(&a.name))))?;
    let Some(filter) = &path.filter else {
        return match (op, value) {
            (OpKind::Remove, v) => remove(doc, r, v),
            (_, Some(v)) => set(doc, r, v, op),
            (_, None) => Err(syntax("add and replace need a value")),
        };
    };
    if !r.attr.multi || r.sub.is_some() {
        return Err(bad_path(format!(
            "{}[…] needs a multi-valued attribute",
            r.attr.name
        )));
    }
    if !writable(r.attr) {
        return Err(mutability(r.attr.name));
    }
    let sub = match &path.sub_after_filter {
        Some(s) => Some(r.attr.sub_attr(s).ok_or_else(|| {
            bad_path(format!(
                "unknown sub-attribute '{}' of {}",
                short(s),
                r.attr.name
            ))
        })?),
        None => None,
    };
    if let Some(sub) = sub {
        if sub.mutability == Mutability::ReadOnly {
            return Err(mutability(&format!("{}.{}", r.attr.name, sub.name)));
        }
    }
    let list = elements(doc, r)?;
    let hits: Vec<usize> = (0..list.len())
        .filter(|i| filter::matches(filter, &list[*i], r.attr))
        .collect();
    match (op, sub) {
        (OpKind::Remove, None) => {
            let mut i = 0;
            list.retain(|_| {
                i += 1;
                !hits.contains(&(i - 1))
            });
        }
        (OpKind::Remove, Some(sub)) => {
            for i in hits {
                if let Some(o) = list[i].as_object_mut() {
                    o.remove(sub.name);
                }
            }
        }
        (_, Some(sub)) => {
            let v = value.ok_or_else(|| syntax("add and replace need a value"))?;
            let coerced = coerce(v, sub, &format!("{}.{}", r.attr.name, sub.name))?;
            if hits.is_empty() {
                if op == OpKind::Replace {
                    return Err(no_target(r.attr.name));
                }
                // Entra: `add phoneNumbers[type eq "mobile"].value` creates it.
                let mut element = equalities(filter);
                if let Some(c) = coerced {
                    element.insert(sub.name.to_owned(), c);
                }
                list.push(Value::Object(element));
            } else {
                for i in hits {
                    if let Some(o) = list[i].as_object_mut() {
                        match &coerced {
                            Some(c) => o.insert(sub.name.to_owned(), c.clone()),
                            None => o.remove(sub.name),
                        };
                    }
                }
            }
        }
        (_, None) => {
            let v = value.ok_or_else(|| syntax("add and replace need a value"))?;
            let coerced = coerce(v, r.attr, r.attr.name)?.unwrap_or(Value::Array(Vec::new()));
            let replacement = coerced.as_array().and_then(|a| a.first()).cloned();
            let Some(replacement) = replacement else {
                return Err(ScimError::bad(ScimType::InvalidValue, "the value is empty"));
            };
            if hits.is_empty() {
                if op == OpKind::Replace {
                    return Err(no_target(r.attr.name));
                }
                list.push(replacement);
            } else {
                for i in hits {
                    match (op, list[i].as_object_mut(), replacement.as_object()) {
                        (OpKind::Add, Some(o), Some(new)) => {
                            for (k, v) in new {
                                o.insert(k.clone(), v.clone());
                            }
                        }
                        _ => list[i] = replacement.clone(),
                    }
                }
            }
        }
    }
    one_primary(list);
    Ok(())
}

fn no_target(name: &str) -> ScimError {
    ScimError::bad(
        ScimType::NoTarget,
        format!("no value of {name} matches the path's filter"),
    )
}

/// The `sub eq "literal"` terms of a filter, as the fields of a new element.
fn equalities(f: &Expr) -> Map<String, Value> {
    let mut out = Map::new();
    let mut visit = vec![f];
    while let Some(e) = visit.pop() {
        match e {
            Expr::And(items) => visit.extend(items),
            Expr::Compare(a, Op::Eq, Literal::Str(s)) => {
                out.insert(a.name.clone(), Value::String(s.clone()));
            }
            Expr::Compare(a, Op::Eq, Literal::Bool(b)) => {
                out.insert(a.name.clone(), Value::Bool(*b));
            }
            _ => {}
        }
    }
    out
}

/// The object holding the attribute (the document, or its extension's).
fn container(doc: &mut Value, r: Resolved) -> Result<&mut Map<String, Value>, ScimError> {
    let root = doc
        .as_object_mut()
        .ok_or_else(|| ScimError::Internal("a resource document is not an object".into()))?;
    if !r.in_extension() {
        return Ok(root);
    }
    root.entry(r.schema.id)
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| ScimError::Internal("an extension is not an object".into()))
}

fn elements(doc: &mut Value, r: Resolved) -> Result<&mut Vec<Value>, ScimError> {
    let c = container(doc, r)?;
    let entry = c
        .entry(r.attr.name)
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(Vec::new());
    }
    entry
        .as_array_mut()
        .ok_or_else(|| ScimError::Internal("not an array".into()))
}

/// Sets an attribute (or one sub-attribute of a single complex one).
fn set(doc: &mut Value, r: Resolved, value: &Value, op: OpKind) -> Result<(), ScimError> {
    check_writable(r)?;
    if let Some(sub) = r.sub {
        if r.attr.multi {
            return Err(bad_path(format!(
                "{}.{} needs a filter, e.g. {}[type eq \"work\"].{}",
                r.attr.name, sub.name, r.attr.name, sub.name
            )));
        }
        let coerced = coerce(value, sub, &format!("{}.{}", r.attr.name, sub.name))?;
        let c = container(doc, r)?;
        let obj = c
            .entry(r.attr.name)
            .or_insert_with(|| Value::Object(Map::new()));
        if !obj.is_object() {
            *obj = Value::Object(Map::new());
        }
        if let Some(o) = obj.as_object_mut() {
            match coerced {
                Some(v) => o.insert(sub.name.to_owned(), v),
                None => o.remove(sub.name),
            };
        }
        return Ok(());
    }
    let coerced = coerce(value, r.attr, r.attr.name)?;
    if r.attr.multi && op == OpKind::Add {
        let new = coerced
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        let list = elements(doc, r)?;
        for item in new {
            let dup = list.iter().any(|x| same_element(x, &item, r.attr));
            if !dup {
                list.push(item);
            }
        }
        one_primary(list);
        return Ok(());
    }
    let c = container(doc, r)?;
    match coerced {
        None => {
            require_not_required(r.attr)?;
            c.remove(r.attr.name);
        }
        Some(Value::Object(new)) if op == OpKind::Add => {
            let slot = c
                .entry(r.attr.name)
                .or_insert_with(|| Value::Object(Map::new()));
            match slot.as_object_mut() {
                Some(o) => o.extend(new),
                None => *slot = Value::Object(new),
            }
        }
        Some(mut v) => {
            if let Some(list) = v.as_array_mut() {
                one_primary(list);
            }
            c.insert(r.attr.name.to_owned(), v);
        }
    }
    Ok(())
}

/// Removes an attribute, a sub-attribute, or (with a value list, as Entra
/// removes members) exactly the listed values.
fn remove(doc: &mut Value, r: Resolved, value: Option<&Value>) -> Result<(), ScimError> {
    check_writable(r)?;
    if let (true, None, Some(v)) = (r.attr.multi, r.sub, value) {
        let gone = coerce(v, r.attr, r.attr.name)?
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        let list = elements(doc, r)?;
        list.retain(|x| !gone.iter().any(|g| same_element(x, g, r.attr)));
        return Ok(());
    }
    let c = container(doc, r)?;
    match r.sub {
        None => {
            require_not_required(r.attr)?;
            c.remove(r.attr.name);
        }
        Some(sub) => match c.get_mut(r.attr.name) {
            Some(Value::Object(o)) => {
                o.remove(sub.name);
            }
            Some(Value::Array(items)) => {
                for item in items {
                    if let Some(o) = item.as_object_mut() {
                        o.remove(sub.name);
                    }
                }
            }
            _ => {}
        },
    }
    Ok(())
}

fn check_writable(r: Resolved) -> Result<(), ScimError> {
    let leaf = r.leaf();
    if !writable(r.attr) || (leaf.mutability == Mutability::ReadOnly) {
        let name = match r.sub {
            Some(s) => format!("{}.{}", r.attr.name, s.name),
            None => r.attr.name.to_owned(),
        };
        return Err(mutability(&name));
    }
    Ok(())
}

fn require_not_required(attr: &Attr) -> Result<(), ScimError> {
    if attr.required {
        return Err(ScimError::bad(
            ScimType::InvalidValue,
            format!("{} is required and cannot be removed", attr.name),
        ));
    }
    Ok(())
}

/// Elements with a `value` are the same when their values are (members,
/// removal by value list); others when equal.
fn same_element(a: &Value, b: &Value, attr: &Attr) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(x), Some(y)) if attr.sub_attr("value").is_some_and(|v| v.case_exact) => x == y,
        (Some(Value::String(x)), Some(Value::String(y))) if attr.name != "emails" => {
            x.eq_ignore_ascii_case(y) && a.get("type") == b.get("type")
        }
        _ => a == b,
    }
}

/// At most one element is primary: the last one set wins.
fn one_primary(list: &mut [Value]) {
    let last = list
        .iter()
        .rposition(|v| v.get("primary") == Some(&Value::Bool(true)));
    if let Some(last) = last {
        for (i, v) in list.iter_mut().enumerate() {
            if i != last {
                if let Some(o) = v.as_object_mut() {
                    if o.get("primary") == Some(&Value::Bool(true)) {
                        o.insert("primary".into(), Value::Bool(false));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
