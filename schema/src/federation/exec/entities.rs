//! Entity fetches: the representations sent to `_entities`, deduplicated,
//! and where each answer goes back.

use std::collections::HashMap;

use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::planner::plan_nodes::{FetchRewrite, FlattenNodePathSegment};
use serde_json::{Map, Value};

use super::super::response::PathSegment;
use super::super::types::SchemaIndex;
use super::data;

const TYPENAME: &str = "__typename";

/// An `_entities` answer that could not be merged: why, and the path of
/// the first entity it was for (where the client's error points).
#[derive(Debug)]
pub struct Unmerged {
    pub why: &'static str,
    pub at: Option<Vec<PathSegment>>,
}

/// The entities one `_entities` call is for.
#[derive(Debug, Default)]
pub struct EntityBatch {
    /// Distinct representations, in the order they are sent.
    pub representations: Vec<Value>,
    /// Each entity's response path and the index of its representation
    /// (several entities may share one).
    pub targets: Vec<(Vec<PathSegment>, usize)>,
    seen: HashMap<String, usize>,
}

impl EntityBatch {
    /// Adds every entity under `path` whose `requires` can be projected.
    pub fn collect(
        &mut self,
        schema: &SchemaIndex,
        root: &Value,
        path: &[FlattenNodePathSegment],
        requires: &[SelectionItem],
        input_rewrites: Option<&[FetchRewrite]>,
    ) {
        data::each_object(schema, root, path, &mut |at, object| {
            let Some(mut representation) = represent(schema, requires, object) else {
                return;
            };
            if let Some(rewrites) = input_rewrites {
                data::rewrite(schema, rewrites, &mut representation);
            }
            // The representation's text is its identity: two entities with
            // the same key and requirements are fetched once.
            let identity = representation.to_string();
            let index = match self.seen.get(&identity) {
                Some(&i) => i,
                None => {
                    let i = self.representations.len();
                    self.seen.insert(identity, i);
                    self.representations.push(representation);
                    i
                }
            };
            self.targets.push((at.to_vec(), index));
        });
    }

    /// Whether there is nothing to fetch.
    pub fn is_empty(&self) -> bool {
        self.representations.is_empty()
    }

    /// Merges the `_entities` answer back into every entity it belongs to,
    /// after the planner's output rewrites. Null answers leave the entity
    /// as it was. Returns what is wrong with an answer that cannot be
    /// merged: not a list, or fewer entities than representations sent
    /// (entries beyond them are ignored). A missing or null answer is
    /// `Ok` when `failed` (the subgraph reported errors for it).
    pub fn merge(
        self,
        schema: &SchemaIndex,
        root: &mut Value,
        answers: Option<Value>,
        output_rewrites: Option<&[FetchRewrite]>,
        failed: bool,
    ) -> Result<(), Unmerged> {
        let unmerged = |why| Unmerged {
            why,
            at: self.targets.first().map(|t| t.0.clone()),
        };
        let mut answers = match answers {
            Some(Value::Array(answers)) => answers,
            None | Some(Value::Null) if failed => return Ok(()),
            None | Some(Value::Null) => return Err(unmerged("no `_entities` in its answer")),
            Some(_) => return Err(unmerged("`_entities` is not a list")),
        };
        let sent = self.targets.iter().map(|(_, i)| i + 1).max().unwrap_or(0);
        if answers.len() < sent {
            return Err(unmerged("fewer `_entities` than representations sent"));
        }
        if let Some(rewrites) = output_rewrites {
            for answer in &mut answers {
                data::rewrite(schema, rewrites, answer);
            }
        }
        // Most representations have one target: hand each answer to its
        // last target without a clone.
        let mut remaining = vec![0usize; answers.len()];
        for (_, i) in &self.targets {
            if let Some(r) = remaining.get_mut(*i) {
                *r += 1;
            }
        }
        for (at, i) in self.targets {
            let Some(answer) = answers.get_mut(i) else {
                continue;
            };
            if answer.is_null() {
                continue;
            }
            remaining[i] -= 1;
            let answer = if remaining[i] == 0 {
                std::mem::take(answer)
            } else {
                answer.clone()
            };
            if let Some(target) = data::get_mut(root, &at) {
                data::deep_merge(target, answer);
            }
        }
        Ok(())
    }

    /// The response paths of the entities a representation index stands
    /// for (an error about `_entities[i]` concerns all of them).
    pub fn paths_of(&self, index: usize) -> impl Iterator<Item = &Vec<PathSegment>> {
        self.targets
            .iter()
            .filter(move |(_, i)| *i == index)
            .map(|(at, _)| at)
    }
}

/// Projects an entity through the fetch's `requires` selection. The data
/// key is the field's name (the planner's `_internal_qp_alias_N` when it
/// aliased a field) and the representation key its alias. Returns `None`
/// when nothing could be projected (the entity is then not fetched).
fn represent(
    schema: &SchemaIndex,
    requires: &[SelectionItem],
    object: &Map<String, Value>,
) -> Option<Value> {
    if object.is_empty() {
        return None;
    }
    let mut out = Map::new();
    project_into(schema, requires, object, &mut out);
    if out.is_empty() {
        // `@key(fields: "__typename")`-like keys: the type alone is the key.
        let only_typename = requires
            .iter()
            .all(|s| matches!(s, SelectionItem::Field(f) if f.name == TYPENAME));
        if !only_typename {
            return None;
        }
    }
    if let Some(typename) = object.get(TYPENAME) {
        out.insert(TYPENAME.into(), typename.clone());
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn project_into(
    schema: &SchemaIndex,
    selections: &[SelectionItem],
    object: &Map<String, Value>,
    out: &mut Map<String, Value>,
) {
    for selection in selections {
        match selection {
            SelectionItem::Field(field) => {
                let key = field.alias.as_deref().unwrap_or(&field.name);
                if key == TYPENAME {
                    continue;
                }
                let Some(value) = object.get(&field.name).or_else(|| object.get(key)) else {
                    continue;
                };
                if let Some(projected) = project_value(schema, &field.selections.items, value) {
                    out.insert(key.to_owned(), projected);
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                let condition = &fragment.type_condition;
                let typename = object
                    .get(TYPENAME)
                    .and_then(Value::as_str)
                    .unwrap_or(condition);
                if schema.satisfies(typename, condition) || schema.satisfies(condition, typename) {
                    project_into(schema, &fragment.selections.items, object, out);
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

fn project_value(
    schema: &SchemaIndex,
    selections: &[SelectionItem],
    value: &Value,
) -> Option<Value> {
    match value {
        Value::Null => Some(Value::Null),
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .filter(|item| !item.is_null())
                .filter_map(|item| project_value(schema, selections, item))
                .collect(),
        )),
        // A scalar, or a custom scalar holding an object.
        Value::Object(_) if selections.is_empty() => Some(value.clone()),
        Value::Object(map) => {
            let mut out = Map::new();
            project_into(schema, selections, map, &mut out);
            if out.is_empty() {
                return None;
            }
            if let Some(typename) = map.get(TYPENAME) {
                out.insert(TYPENAME.into(), typename.clone());
            }
            Some(Value::Object(out))
        }
        scalar => Some(scalar.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hive_router_query_planner::ast::selection_set::SelectionSet;
    use hive_router_query_planner::utils::parsing::parse_operation;
    use serde_json::json;

    fn schema() -> SchemaIndex {
        let doc = graphql_tools::parser::parse_schema::<String>(
            "type Query { p: [Product] } type Product { id: ID upc: String price: Int dims: Dims } type Dims { w: Int h: Int }",
        )
        .expect("schema")
        .into_static();
        SchemaIndex::new(&doc, &doc)
    }

    fn requires(text: &str) -> Vec<SelectionItem> {
        let doc = parse_operation(&format!("{{ {text} }}"));
        let Some(graphql_tools::parser::query::Definition::Operation(
            graphql_tools::parser::query::OperationDefinition::SelectionSet(set),
        )) = doc.definitions.into_iter().next()
        else {
            panic!("a selection set")
        };
        SelectionSet::from(set).items
    }

    #[test]
    fn representations_are_projected_deduplicated_and_merged_back() {
        let schema = schema();
        let mut root = json!({ "p": [
            { "__typename": "Product", "upc": "1", "price": 5, "extra": true },
            { "__typename": "Product", "upc": "2", "price": 6 },
            null,
            { "__typename": "Product", "upc": "1", "price": 5 },
            { "__typename": "Product" }
        ] });
        let mut batch = EntityBatch::default();
        let path = [
            FlattenNodePathSegment::Field("p".into()),
            FlattenNodePathSegment::List,
        ];
        let requires = requires("... on Product { __typename upc price }");
        batch.collect(&schema, &root, &path, &requires, None);
        assert_eq!(
            batch.representations,
            vec![
                json!({ "__typename": "Product", "upc": "1", "price": 5 }),
                json!({ "__typename": "Product", "upc": "2", "price": 6 }),
            ]
        );
        assert_eq!(batch.paths_of(0).count(), 2);
        batch
            .merge(
                &schema,
                &mut root,
                Some(json!([{ "weight": 1 }, null])),
                None,
                false,
            )
            .expect("a list of two for two representations");
        assert_eq!(root["p"][0]["weight"], json!(1));
        assert_eq!(root["p"][3]["weight"], json!(1));
        assert!(root["p"][1].get("weight").is_none());
    }

    #[test]
    fn answers_that_do_not_fit_the_representations_are_refused() {
        let schema = schema();
        let root = json!({ "p": [
            { "__typename": "Product", "upc": "1", "price": 5 },
            { "__typename": "Product", "upc": "2", "price": 6 }
        ] });
        let path = [
            FlattenNodePathSegment::Field("p".into()),
            FlattenNodePathSegment::List,
        ];
        let requires = requires("... on Product { __typename upc price }");
        let attempt = |answers: Option<Value>, failed: bool| {
            let mut batch = EntityBatch::default();
            batch.collect(&schema, &root, &path, &requires, None);
            let mut root = root.clone();
            let merged = batch.merge(&schema, &mut root, answers, None, failed);
            (merged, root)
        };
        assert!(attempt(Some(json!("not a list")), false).0.is_err());
        assert!(attempt(Some(json!([{ "weight": 1 }])), false).0.is_err());
        assert!(attempt(None, false).0.is_err());
        // the subgraph's own errors already explain a missing answer
        assert!(attempt(None, true).0.is_ok());
        // entries beyond the representations are ignored
        let (merged, merged_root) =
            attempt(Some(json!([{ "w": 1 }, { "w": 2 }, { "w": 3 }])), false);
        assert!(merged.is_ok());
        assert_eq!(merged_root["p"][1]["w"], json!(2));
        assert_eq!(merged_root["p"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn planner_aliases_are_read_by_name_and_written_by_alias() {
        let schema = schema();
        let object = json!({ "__typename": "Product", "id": "1", "_internal_qp_alias_0": 7, "dims": { "w": 1, "h": 2 } });
        let Value::Object(object) = object else {
            unreachable!()
        };
        let requires = requires("... on Product { id price: _internal_qp_alias_0 dims { w } }");
        // In the planner's `requires`, `name` is the data key and `alias`
        // the key the subgraph expects; the parser reads `alias: name`.
        let rep = represent(&schema, &requires, &object).expect("projected");
        assert_eq!(
            rep,
            json!({ "__typename": "Product", "id": "1", "price": 7, "dims": { "w": 1 } })
        );
    }
}
