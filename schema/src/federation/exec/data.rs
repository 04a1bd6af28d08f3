//! Walking and changing the response data the fetches build up: finding
//! the objects a flatten path points at, merging subgraph answers into
//! them, and the planner's key and value rewrites.

use hive_router_query_planner::planner::plan_nodes::{
    FetchNodePathSegment, FetchRewrite, FlattenNodePathSegment,
};
use serde_json::{Map, Value};

use super::super::response::PathSegment;
use super::super::types::SchemaIndex;

const TYPENAME: &str = "__typename";

/// Called with each object a path reaches and where it is.
pub type Visit<'f, 'v> = dyn FnMut(&[PathSegment], &'v Map<String, Value>) + 'f;

/// Calls `visit` with the response path and the object of every non-null
/// object the flatten `path` reaches: `@` steps into every list item and a
/// type condition keeps only objects of a matching `__typename` (or none).
pub fn each_object<'v>(
    schema: &SchemaIndex,
    data: &'v Value,
    path: &[FlattenNodePathSegment],
    visit: &mut Visit<'_, 'v>,
) {
    let mut at = Vec::with_capacity(path.len() + 2);
    walk(schema, data, path, &mut at, visit);
}

fn walk<'v>(
    schema: &SchemaIndex,
    value: &'v Value,
    path: &[FlattenNodePathSegment],
    at: &mut Vec<PathSegment>,
    visit: &mut Visit<'_, 'v>,
) {
    match (path.first(), value) {
        (_, Value::Array(items)) => {
            // `@` and lists the path does not mention alike: step into
            // every item.
            let rest = match path.first() {
                Some(FlattenNodePathSegment::List) => &path[1..],
                _ => path,
            };
            for (i, item) in items.iter().enumerate() {
                at.push(PathSegment::Index(i));
                walk(schema, item, rest, at, visit);
                at.pop();
            }
        }
        (None, Value::Object(map)) => visit(at, map),
        (Some(FlattenNodePathSegment::Field(key)), Value::Object(map)) => {
            if let Some(child) = map.get(key) {
                at.push(PathSegment::Key(key.clone()));
                walk(schema, child, &path[1..], at, visit);
                at.pop();
            }
        }
        (Some(FlattenNodePathSegment::TypeCondition(types)), Value::Object(map)) => {
            let matches = match map.get(TYPENAME).and_then(Value::as_str) {
                Some(typename) => types.iter().any(|t| schema.satisfies(typename, t)),
                None => true,
            };
            if matches {
                walk(schema, value, &path[1..], at, visit);
            }
        }
        (Some(FlattenNodePathSegment::List), Value::Object(_)) | (_, _) => {}
    }
}

/// The value at a response path, if the path still leads somewhere.
pub fn get_mut<'v>(data: &'v mut Value, path: &[PathSegment]) -> Option<&'v mut Value> {
    let mut at = data;
    for step in path {
        at = match (step, at) {
            (PathSegment::Key(k), Value::Object(map)) => map.get_mut(k)?,
            (PathSegment::Index(i), Value::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(at)
}

/// Merges `from` into `into`: objects key by key, lists item by item,
/// anything else replaced. A `null` never erases what another subgraph
/// already resolved.
pub fn deep_merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                match into.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(into), Value::Array(from)) => {
            let mut from = from.into_iter();
            for existing in into.iter_mut() {
                match from.next() {
                    Some(value) => deep_merge(existing, value),
                    None => return,
                }
            }
            into.extend(from);
        }
        (existing, Value::Null) if !existing.is_null() => {}
        (into, from) => *into = from,
    }
}

/// Applies the planner's rewrites to one value (a representation before it
/// is sent, or an entity after it came back).
pub fn rewrite(schema: &SchemaIndex, rewrites: &[FetchRewrite], value: &mut Value) {
    for rewrite in rewrites {
        match rewrite {
            FetchRewrite::ValueSetter(set) => {
                set_value(schema, &set.path, &set.set_value_to, value);
            }
            FetchRewrite::KeyRenamer(rename) => {
                rename_key(schema, &rename.path, &rename.rename_key_to, value);
            }
        }
    }
}

fn typename_matches(
    schema: &SchemaIndex,
    map: &Map<String, Value>,
    types: &std::collections::BTreeSet<String>,
) -> bool {
    match map.get(TYPENAME).and_then(Value::as_str) {
        Some(typename) => types.iter().any(|t| schema.satisfies(typename, t)),
        None => true,
    }
}

fn set_value(schema: &SchemaIndex, path: &[FetchNodePathSegment], to: &str, value: &mut Value) {
    let Some(step) = path.first() else {
        *value = Value::String(to.into());
        return;
    };
    match value {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| set_value(schema, path, to, item)),
        Value::Object(map) => match step {
            FetchNodePathSegment::TypenameEquals(types) => {
                if typename_matches(schema, map, types) {
                    set_value(schema, &path[1..], to, value);
                }
            }
            FetchNodePathSegment::Key(key) => {
                if let Some(child) = map.get_mut(key) {
                    set_value(schema, &path[1..], to, child);
                }
            }
        },
        _ => {}
    }
}

fn rename_key(schema: &SchemaIndex, path: &[FetchNodePathSegment], to: &str, value: &mut Value) {
    let Some(step) = path.first() else { return };
    match value {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rename_key(schema, path, to, item)),
        Value::Object(map) => match step {
            FetchNodePathSegment::TypenameEquals(types) => {
                if typename_matches(schema, map, types) {
                    rename_key(schema, &path[1..], to, value);
                }
            }
            FetchNodePathSegment::Key(key) if path.len() == 1 => {
                if key != to {
                    if let Some(v) = map.remove(key) {
                        map.insert(to.to_owned(), v);
                    }
                }
            }
            FetchNodePathSegment::Key(key) => {
                if let Some(child) = map.get_mut(key) {
                    rename_key(schema, &path[1..], to, child);
                }
            }
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merging_keeps_what_another_subgraph_resolved() {
        let mut data = json!({ "a": { "x": 1, "list": [{ "i": 1 }, { "i": 2 }] } });
        deep_merge(
            &mut data,
            json!({ "a": { "y": 2, "x": null, "list": [{ "j": 1 }, { "j": 2 }] } }),
        );
        assert_eq!(
            data,
            json!({ "a": { "x": 1, "y": 2, "list": [{ "i": 1, "j": 1 }, { "i": 2, "j": 2 }] } })
        );
    }

    #[test]
    fn flatten_paths_step_into_lists_and_filter_by_type() {
        let doc = graphql_tools::parser::parse_schema::<String>(
            "type Query { a: [U] } union U = A | B type A { x: Int } type B { x: Int }",
        )
        .expect("schema")
        .into_static();
        let schema = SchemaIndex::new(&doc, &doc);
        let data = json!({ "a": [{ "__typename": "A" }, null, { "__typename": "B" }, { "__typename": "A" }] });
        let path = [
            FlattenNodePathSegment::Field("a".into()),
            FlattenNodePathSegment::List,
            FlattenNodePathSegment::TypeCondition(["A".to_owned()].into()),
        ];
        let mut seen = Vec::new();
        each_object(&schema, &data, &path, &mut |at, _| seen.push(at.to_vec()));
        assert_eq!(
            seen,
            vec![
                vec![PathSegment::Key("a".into()), PathSegment::Index(0)],
                vec![PathSegment::Key("a".into()), PathSegment::Index(3)],
            ]
        );
    }
}
