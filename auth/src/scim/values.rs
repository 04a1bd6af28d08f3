//! Values as IdPs send them, coerced to the catalogue: canonical attribute
//! names, `"True"`/`"False"` strings as booleans (Entra), a single-valued
//! complex attribute wrapped in a one-element array (Entra's `manager`),
//! read-only parts dropped as RFC 7643 §2.2 says, unknown names refused.

use serde_json::{Map, Value};

use super::schema::{Attr, Kind, Mutability, ResourceType};
use super::{ScimError, ScimType};

/// Whether a body creates (`POST`) or replaces (`PUT`) a resource; both
/// need every required attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `POST`.
    Create,
    /// `PUT`.
    Replace,
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidValue, detail)
}

/// Whether a client may write the attribute (read-only parts of a body are
/// ignored; write-only `password` is accepted and never stored).
pub(super) fn writable(attr: &Attr) -> bool {
    !matches!(
        attr.mutability,
        Mutability::ReadOnly | Mutability::WriteOnly
    )
}

/// A `POST`/`PUT` body as a canonical document of writable attributes.
/// Objects under schema URNs this service does not know are ignored (Entra
/// sends its own); unknown attributes of known schemas are refused.
pub fn canonical_resource(
    body: &Value,
    rt: &'static ResourceType,
    _mode: Mode,
) -> Result<Value, ScimError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, "the body must be a JSON object"))?;
    let declared = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .and_then(|(_, v)| v.as_array())
        .is_some_and(|s| {
            s.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(rt.schema.id))
            })
        });
    if !declared {
        return Err(ScimError::bad(
            ScimType::InvalidSyntax,
            format!("schemas must list {}", rt.schema.id),
        ));
    }
    let mut out = Map::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = rt.extension(key) {
            let inner = match value {
                Value::Null => continue,
                Value::Object(inner) => inner,
                _ => return Err(invalid(format!("{} must be an object", ext.id))),
            };
            for (k, v) in inner {
                let attr = ext.attr(k).ok_or_else(|| {
                    invalid(format!("unknown attribute '{}' in {}", short(k), ext.id))
                })?;
                put(&mut out, Some(ext.id), attr, v, k)?;
            }
            continue;
        }
        let Some(r) = rt.resolve_path(key) else {
            // an extension we do not serve, or an attribute we do not keep
            // sent empty (Entra's `"roles": []`)
            if key.to_ascii_lowercase().starts_with("urn:") || super::patch::is_empty(value) {
                continue;
            }
            return Err(invalid(format!("unknown attribute '{}'", short(key))));
        };
        if r.sub.is_some() {
            return Err(invalid(format!(
                "'{}' is not an attribute name",
                short(key)
            )));
        }
        let container = r.in_extension().then_some(r.schema.id);
        put(&mut out, container, r.attr, value, key)?;
    }
    for attr in rt.schema.attributes.iter().filter(|a| a.required) {
        if !out.contains_key(attr.name) {
            return Err(invalid(format!("{} is required", attr.name)));
        }
    }
    Ok(Value::Object(out))
}

fn put(
    out: &mut Map<String, Value>,
    container: Option<&'static str>,
    attr: &'static Attr,
    value: &Value,
    path: &str,
) -> Result<(), ScimError> {
    if !writable(attr) {
        return Ok(());
    }
    let Some(v) = coerce(value, attr, path)? else {
        return Ok(());
    };
    let target = match container {
        None => out,
        Some(urn) => out
            .entry(urn)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| invalid(format!("{urn} must be an object")))?,
    };
    target.insert(attr.name.to_owned(), v);
    Ok(())
}

fn short(s: &str) -> String {
    s.chars().take(100).collect()
}

/// Coerces one value to `attr`; `None` means absent (null, or nothing
/// writable left).
pub fn coerce(value: &Value, attr: &'static Attr, path: &str) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if attr.multi {
        let items: Vec<&Value> = match value {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Some(v) = coerce_one(item, attr, path)? {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        let primaries = out
            .iter()
            .filter(|v| v["primary"] == Value::Bool(true))
            .count();
        if primaries > 1 {
            return Err(invalid(format!(
                "at most one of {} may be primary",
                attr.name
            )));
        }
        return Ok(Some(Value::Array(out)));
    }
    match value {
        Value::Array(a) if a.len() == 1 => coerce_one(&a[0], attr, path),
        Value::Array(a) if a.is_empty() => Ok(None),
        Value::Array(_) => Err(invalid(format!("{} takes a single value", short(path)))),
        other => coerce_one(other, attr, path),
    }
}

fn coerce_one(value: &Value, attr: &'static Attr, path: &str) -> Result<Option<Value>, ScimError> {
    let wrong = |expected: &str| invalid(format!("{} must be {expected}", short(path)));
    match attr.kind {
        Kind::String | Kind::Reference => match value {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(Value::String(s.clone()))),
            Value::Number(n) => Ok(Some(Value::String(n.to_string()))),
            _ => Err(wrong("a string")),
        },
        Kind::Boolean => match value {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(Value::Bool(*b))),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Some(Value::Bool(true))),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Some(Value::Bool(false))),
            _ => Err(wrong("true or false")),
        },
        Kind::DateTime => match value {
            Value::Null => Ok(None),
            Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {
                Ok(Some(Value::String(s.clone())))
            }
            _ => Err(wrong("an RFC 3339 dateTime")),
        },
        Kind::Complex => match value {
            Value::Null => Ok(None),
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    let sub = attr.sub_attr(k).ok_or_else(|| {
                        invalid(format!(
                            "unknown sub-attribute '{}' of {}",
                            short(k),
                            attr.name
                        ))
                    })?;
                    if !writable(sub) {
                        continue;
                    }
                    if let Some(v) = coerce_one(v, sub, &format!("{}.{}", attr.name, sub.name))? {
                        out.insert(sub.name.to_owned(), v);
                    }
                }
                Ok((!out.is_empty()).then_some(Value::Object(out)))
            }
            // Entra sends `"manager": "<id>"`; a member may be a bare id
            Value::String(s) if attr.sub_attr("value").is_some() => {
                let mut out = Map::new();
                out.insert("value".into(), Value::String(s.clone()));
                Ok(Some(Value::Object(out)))
            }
            _ => Err(wrong("an object")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::{ENTERPRISE_USER, GROUPS, USERS};
    use super::*;
    use serde_json::json;

    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    #[test]
    fn okta_and_entra_create_bodies_become_canonical() {
        let okta = json!({
            "schemas": [USER], "USERNAME": "a@x.io", "password": "secret", "groups": [],
            "emails": [{ "primary": true, "value": "a@x.io", "type": "work" }],
            "name": { "GivenName": "Ann" }, "id": "ignored", "meta": { "created": "x" },
        });
        let doc = canonical_resource(&okta, &USERS, Mode::Create).expect("valid");
        assert_eq!(
            doc,
            json!({ "userName": "a@x.io", "emails": [{ "primary": true, "value": "a@x.io", "type": "work" }], "name": { "givenName": "Ann" } })
        );
        let entra = json!({
            "schemas": [USER, ENTERPRISE_USER, "urn:ietf:params:scim:schemas:extension:custom:2.0:User"],
            "userName": "b@x.io", "active": "True",
            ENTERPRISE_USER: { "manager": [{ "value": "m1" }], "department": "Ops" },
            "urn:ietf:params:scim:schemas:extension:custom:2.0:User": { "anything": 1 },
        });
        let doc = canonical_resource(&entra, &USERS, Mode::Create).expect("valid");
        assert_eq!(doc["active"], true);
        assert_eq!(doc[ENTERPRISE_USER]["manager"], json!({ "value": "m1" }));
        assert!(doc
            .get("urn:ietf:params:scim:schemas:extension:custom:2.0:User")
            .is_none());
    }

    #[test]
    fn bad_bodies_are_refused() {
        let cases = [
            (
                json!({ "schemas": [USER], "userName": "a", "shoeSize": 9 }),
                ScimType::InvalidValue,
            ),
            (json!({ "schemas": [USER] }), ScimType::InvalidValue),
            (json!({ "userName": "a" }), ScimType::InvalidSyntax),
            (
                json!({ "schemas": [USER], "userName": "a", "active": "maybe" }),
                ScimType::InvalidValue,
            ),
            (
                json!({ "schemas": [USER], "userName": "a", "name": { "nick": "x" } }),
                ScimType::InvalidValue,
            ),
            (
                json!({ "schemas": [USER], "userName": "a", "emails": [{ "value": "1", "primary": true }, { "value": "2", "primary": true }] }),
                ScimType::InvalidValue,
            ),
        ];
        for (body, t) in cases {
            let e = canonical_resource(&body, &USERS, Mode::Create).expect_err("refused");
            assert_eq!(e.scim_type(), Some(t), "{body}");
        }
        let group = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G",
                            "members": [{ "value": "u1", "display": "U" }] });
        let doc = canonical_resource(&group, &GROUPS, Mode::Create).expect("valid");
        assert_eq!(
            doc["members"],
            json!([{ "value": "u1" }]),
            "read-only display dropped"
        );
    }
}
