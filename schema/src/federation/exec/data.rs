//! Walking and changing the response data the fetches build up: finding
//! the objects a flatten path points at, merging subgraph answers into
//! them, and the planner's key and value rewrites.

use super::super::tree::{Data, Object};
use hive_router_query_planner::planner::plan_nodes::{
    FetchNodePathSegment, FetchRewrite, FlattenNodePathSegment,
};

use super::super::response::PathSegment;
use super::super::types::SchemaIndex;

const TYPENAME: &str = "__typename";

/// Called with each object a path reaches and where it is.
pub type Visit<'f, 'v> = dyn FnMut(&[PathSegment], &'v Object) + 'f;

/// Calls `visit` with the response path and the object of every non-null
/// object the flatten `path` reaches: `@` steps into every list item and a
/// type condition keeps only objects of a matching `__typename` (or none).
pub fn each_object_at<'v>(
    schema: &SchemaIndex,
    data: &'v Data,
    path: &[FlattenNodePathSegment],
    visit: &mut Visit<'_, 'v>,
) {
    let mut at = Vec::with_capacity(path.len() + 2);
    walk(schema, data, path, Some(&mut at), visit);
}

/// [`each_object_at`] without the response paths (the path handed to
/// `visit` is empty): entity collection visits thousands of objects and
/// needs a path only when an error must point at one.
pub fn each_object<'v>(
    schema: &SchemaIndex,
    data: &'v Data,
    path: &[FlattenNodePathSegment],
    visit: &mut Visit<'_, 'v>,
) {
    walk(schema, data, path, None, visit);
}

fn walk<'v>(
    schema: &SchemaIndex,
    value: &'v Data,
    path: &[FlattenNodePathSegment],
    mut at: Option<&mut Vec<PathSegment>>,
    visit: &mut Visit<'_, 'v>,
) {
    match (path.first(), value) {
        (_, Data::List(items)) => {
            // `@` and lists the path does not mention alike: step into
            // every item.
            let rest = match path.first() {
                Some(FlattenNodePathSegment::List) => &path[1..],
                _ => path,
            };
            for (i, item) in items.iter().enumerate() {
                step(schema, item, rest, &mut at, PathSegment::Index(i), visit);
            }
        }
        (None, Data::Object(map)) => visit(at.as_deref().map_or(&[], Vec::as_slice), map),
        (Some(FlattenNodePathSegment::Field(key)), Data::Object(map)) => {
            if let Some(child) = map.get(key) {
                let segment = at.is_some().then(|| PathSegment::Key(key.clone()));
                match segment {
                    Some(segment) => step(schema, child, &path[1..], &mut at, segment, visit),
                    None => walk(schema, child, &path[1..], None, visit),
                }
            }
        }
        (Some(FlattenNodePathSegment::TypeCondition(types)), Data::Object(map)) => {
            if typename_matches(schema, map, types) {
                walk(schema, value, &path[1..], at, visit);
            }
        }
        (Some(FlattenNodePathSegment::List), Data::Object(_)) | (_, _) => {}
    }
}

/// Walks one step down, with the step on the response path if it is kept.
fn step<'v>(
    schema: &SchemaIndex,
    value: &'v Data,
    path: &[FlattenNodePathSegment],
    at: &mut Option<&mut Vec<PathSegment>>,
    segment: PathSegment,
    visit: &mut Visit<'_, 'v>,
) {
    match at {
        Some(at) => {
            at.push(segment);
            walk(schema, value, path, Some(at), visit);
            at.pop();
        }
        None => walk(schema, value, path, None, visit),
    }
}

/// Calls `visit` with every object [`each_object`] would visit, in the
/// same order, mutably: an entity answer is merged by walking the data
/// once instead of looking up every entity's path from the root.
pub fn each_object_mut(
    schema: &SchemaIndex,
    value: &mut Data,
    path: &[FlattenNodePathSegment],
    visit: &mut dyn FnMut(&mut Data),
) {
    if let Data::List(items) = value {
        let rest = match path.first() {
            Some(FlattenNodePathSegment::List) => &path[1..],
            _ => path,
        };
        for item in items {
            each_object_mut(schema, item, rest, visit);
        }
        return;
    }
    let Data::Object(map) = value else { return };
    match path.first() {
        None => visit(value),
        Some(FlattenNodePathSegment::Field(key)) => {
            if let Some(child) = map.get_mut(key) {
                each_object_mut(schema, child, &path[1..], visit);
            }
        }
        Some(FlattenNodePathSegment::TypeCondition(types)) => {
            if typename_matches(schema, map, types) {
                each_object_mut(schema, value, &path[1..], visit);
            }
        }
        Some(FlattenNodePathSegment::List) => {}
    }
}

/// The value at a response path, if the path still leads somewhere.
pub fn get_mut<'v>(data: &'v mut Data, path: &[PathSegment]) -> Option<&'v mut Data> {
    let mut at = data;
    for step in path {
        at = match (step, at) {
            (PathSegment::Key(k), Data::Object(map)) => map.get_mut(k)?,
            (PathSegment::Index(i), Data::List(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(at)
}

/// Merges `from` into `into`: objects key by key, lists item by item,
/// anything else replaced. A `null` never erases what another subgraph
/// already resolved.
pub fn deep_merge(into: &mut Data, from: Data) {
    match (into, from) {
        (Data::Object(into), Data::Object(from)) => into.merge_with(from, deep_merge),
        (Data::List(into), Data::List(from)) => {
            let mut from = from.into_iter();
            for existing in into.iter_mut() {
                match from.next() {
                    Some(value) => deep_merge(existing, value),
                    None => return,
                }
            }
            into.extend(from);
        }
        (existing, Data::Null) if !existing.is_null() => {}
        (into, from) => *into = from,
    }
}

/// Applies the planner's rewrites to one value (a representation before it
/// is sent, or an entity after it came back).
pub fn rewrite(schema: &SchemaIndex, rewrites: &[FetchRewrite], value: &mut Data) {
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
    map: &Object,
    types: &std::collections::BTreeSet<String>,
) -> bool {
    match map.get(TYPENAME).and_then(Data::as_str) {
        Some(typename) => types.iter().any(|t| schema.satisfies(typename, t)),
        None => true,
    }
}

fn set_value(schema: &SchemaIndex, path: &[FetchNodePathSegment], to: &str, value: &mut Data) {
    let Some(step) = path.first() else {
        *value = Data::String(to.into());
        return;
    };
    match value {
        Data::List(items) => items
            .iter_mut()
            .for_each(|item| set_value(schema, path, to, item)),
        Data::Object(map) => match step {
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

fn rename_key(schema: &SchemaIndex, path: &[FetchNodePathSegment], to: &str, value: &mut Data) {
    let Some(step) = path.first() else { return };
    match value {
        Data::List(items) => items
            .iter_mut()
            .for_each(|item| rename_key(schema, path, to, item)),
        Data::Object(map) => match step {
            FetchNodePathSegment::TypenameEquals(types) => {
                if typename_matches(schema, map, types) {
                    rename_key(schema, &path[1..], to, value);
                }
            }
            FetchNodePathSegment::Key(key) if path.len() == 1 => {
                if key != to {
                    if let Some(v) = map.remove(key) {
                        map.insert(to.into(), v);
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
        let mut data = Data::from(json!({ "a": { "x": 1, "list": [{ "i": 1 }, { "i": 2 }] } }));
        deep_merge(
            &mut data,
            json!({ "a": { "y": 2, "x": null, "list": [{ "j": 1 }, { "j": 2 }] } }).into(),
        );
        assert_eq!(
            data.to_value(),
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
        let data = Data::from(
            json!({ "a": [{ "__typename": "A" }, null, { "__typename": "B" }, { "__typename": "A" }] }),
        );
        let path = [
            FlattenNodePathSegment::Field("a".into()),
            FlattenNodePathSegment::List,
            FlattenNodePathSegment::TypeCondition(["A".to_owned()].into()),
        ];
        let mut seen = Vec::new();
        each_object_at(&schema, &data, &path, &mut |at, _| seen.push(at.to_vec()));
        assert_eq!(
            seen,
            vec![
                vec![PathSegment::Key("a".into()), PathSegment::Index(0)],
                vec![PathSegment::Key("a".into()), PathSegment::Index(3)],
            ]
        );
    }
}
