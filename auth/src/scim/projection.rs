//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which
//! parts of a document go back to the client. `id` and `schemas` always do;
//! `returned: never` attributes never do.

use serde_json::{Map, Value};

use super::schema::{Resolved, ResourceType, Returned};
use super::{ScimError, ScimType};

/// One requested path: a whole extension, an attribute, or a sub-attribute.
#[derive(Clone, Debug)]
enum Target {
    Extension(&'static str),
    Attr(Resolved),
}

/// Which attributes to return.
#[derive(Clone, Debug, Default)]
pub struct Projection {
    only: Vec<Target>,
    excluded: Vec<Target>,
}

impl Projection {
    /// Parses the two comma-separated lists; unknown names are a 400.
    pub fn parse(
        attributes: Option<&str>,
        excluded: Option<&str>,
        rt: &'static ResourceType,
    ) -> Result<Projection, ScimError> {
        Ok(Projection {
            only: targets(attributes, rt)?,
            excluded: targets(excluded, rt)?,
        })
    }

    /// Whether a group's `members` will be returned (so they are worth
    /// loading).
    pub fn wants(&self, name: &str) -> bool {
        let names = |list: &[Target]| {
            list.iter().any(|t| match t {
                Target::Attr(r) => r.attr.name == name,
                Target::Extension(_) => false,
            })
        };
        if !self.only.is_empty() {
            return names(&self.only);
        }
        !self
            .excluded
            .iter()
            .any(|t| matches!(t, Target::Attr(r) if r.attr.name == name && r.sub.is_none()))
    }

    /// Applies the projection to a full document.
    pub fn apply(&self, doc: &mut Value) {
        let Value::Object(map) = doc else { return };
        if !self.only.is_empty() {
            let mut kept = Map::new();
            for key in ["schemas", "id"] {
                if let Some(v) = map.get(key) {
                    kept.insert(key.into(), v.clone());
                }
            }
            for target in &self.only {
                copy(map, &mut kept, target);
            }
            *map = kept;
        }
        for target in &self.excluded {
            remove(map, target);
        }
    }
}

fn targets(list: Option<&str>, rt: &'static ResourceType) -> Result<Vec<Target>, ScimError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|path| {
            if let Some(ext) = rt.extension(path) {
                return Ok(Target::Extension(ext.id));
            }
            let resolved = rt.resolve_path(path).ok_or_else(|| {
                let shown: String = path.chars().take(100).collect();
                ScimError::bad(
                    ScimType::InvalidValue,
                    format!("unknown attribute '{shown}' in attributes or excludedAttributes"),
                )
            })?;
            Ok(Target::Attr(resolved))
        })
        .filter(|t| {
            !matches!(t, Ok(Target::Attr(r)) if r.attr.returned == Returned::Always && r.sub.is_none())
        })
        .collect()
}

/// The object holding the attribute and its key in it.
fn place(r: &Resolved) -> (Option<&'static str>, &'static str) {
    let container = r.in_extension().then_some(r.schema.id);
    (container, r.attr.name)
}

fn copy(from: &Map<String, Value>, to: &mut Map<String, Value>, target: &Target) {
    match target {
        Target::Extension(urn) => {
            if let Some(v) = from.get(*urn) {
                to.insert((*urn).into(), v.clone());
            }
        }
        Target::Attr(r) => {
            let (container, key) = place(r);
            let (src, dst) = match container {
                Some(urn) => {
                    let Some(Value::Object(src)) = from.get(urn) else {
                        return;
                    };
                    let dst = to
                        .entry(urn)
                        .or_insert_with(|| Value::Object(Map::new()))
                        .as_object_mut();
                    match dst {
                        Some(dst) => (src, dst),
                        None => return,
                    }
                }
                None => (from, &mut *to),
            };
            let Some(value) = src.get(key) else { return };
            let picked = match r.sub {
                None => value.clone(),
                Some(sub) => pick_sub(value, sub.name, dst.get(key)),
            };
            dst.insert(key.into(), picked);
        }
    }
}

/// `value` reduced to one sub-attribute, merged with what was kept already
/// (so `name.givenName,name.familyName` keeps both).
fn pick_sub(value: &Value, sub: &str, kept: Option<&Value>) -> Value {
    let keep = |item: &Value, prior: Option<&Value>| {
        let mut out = prior
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(v) = item.get(sub) {
            out.insert(sub.into(), v.clone());
        }
        Value::Object(out)
    };
    match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| keep(item, kept.and_then(|k| k.get(i))))
                .collect(),
        ),
        item => keep(item, kept),
    }
}

fn remove(map: &mut Map<String, Value>, target: &Target) {
    match target {
        Target::Extension(urn) => {
            map.remove(*urn);
        }
        Target::Attr(r) => {
            let (container, key) = place(r);
            let holder = match container {
                Some(urn) => match map.get_mut(urn).and_then(Value::as_object_mut) {
                    Some(h) => h,
                    None => return,
                },
                None => map,
            };
            match r.sub {
                None => {
                    holder.remove(key);
                }
                Some(sub) => match holder.get_mut(key) {
                    Some(Value::Array(items)) => {
                        for item in items {
                            if let Some(o) = item.as_object_mut() {
                                o.remove(sub.name);
                            }
                        }
                    }
                    Some(Value::Object(o)) => {
                        o.remove(sub.name);
                    }
                    _ => {}
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::{ENTERPRISE_USER, USERS};
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "schemas": ["x"], "id": "1", "userName": "ann",
            "name": {"givenName": "Ann", "familyName": "Lee"},
            "emails": [{"value": "a@x.io", "type": "work"}],
            ENTERPRISE_USER: {"department": "Ops", "costCenter": "7"},
            "meta": {"version": "W/\"1\""}
        })
    }

    #[test]
    fn attributes_keep_only_what_was_asked_plus_id_and_schemas() {
        let p = Projection::parse(
            Some("userName,name.givenName,emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
            None,
            &USERS,
        )
        .expect("parses");
        let mut d = doc();
        p.apply(&mut d);
        assert_eq!(
            d,
            json!({
                "schemas": ["x"], "id": "1", "userName": "ann",
                "name": {"givenName": "Ann"},
                "emails": [{"value": "a@x.io"}],
                ENTERPRISE_USER: {"department": "Ops"}
            })
        );
    }

    #[test]
    fn excluded_attributes_drop_but_never_id() {
        let p = Projection::parse(None, Some("emails,name.familyName,id,meta"), &USERS)
            .expect("parses");
        let mut d = doc();
        p.apply(&mut d);
        assert_eq!(d["id"], json!("1"));
        assert!(d.get("emails").is_none() && d.get("meta").is_none());
        assert_eq!(d["name"], json!({"givenName": "Ann"}));
        assert!(
            !Projection::parse(None, Some("members"), &super::super::schema::GROUPS)
                .expect("parses")
                .wants("members")
        );
    }

    #[test]
    fn unknown_names_are_refused() {
        assert!(Projection::parse(Some("shoeSize"), None, &USERS).is_err());
    }
}
