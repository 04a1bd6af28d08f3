//! Entity fetches: the representations sent to `_entities`, deduplicated,
//! and where each answer goes back.

use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::planner::plan_nodes::{FetchRewrite, FlattenNodePathSegment};
use rustc_hash::FxHashMap;
use serde_json::Value;

use super::super::response::PathSegment;
use super::super::tree::Data;
use super::super::types::SchemaIndex;
use super::data;
use super::represent::represent;

/// An `_entities` answer that could not be merged: why, and the path of
/// the first entity it was for (where the client's error points).
#[derive(Debug)]
pub struct Unmerged {
    pub why: &'static str,
    pub at: Option<Vec<PathSegment>>,
}

/// The entities one `_entities` call is for.
///
/// No response path is kept per entity: the answer is merged by walking
/// the same flatten paths again, in the same order, and the paths are
/// worked out only when an error has to point at an entity. Between the
/// two walks the objects a path reaches do not change: fetches that run
/// in parallel write different fields, and one that writes a field on
/// this path is planned before this one.
#[derive(Debug, Default)]
pub struct EntityBatch<'p> {
    /// Distinct representations, in the order they are sent.
    pub representations: Vec<Value>,
    /// Each flatten path walked and how many objects it reached.
    walks: Vec<(&'p [FlattenNodePathSegment], usize)>,
    /// For each object reached, in walk order, the index of its
    /// representation (several entities may share one), or `None` when
    /// nothing could be projected from it (it is not fetched).
    slots: Vec<Option<usize>>,
    /// Representation text to index: two entities with the same key and
    /// requirements are fetched once.
    seen: FxHashMap<Box<[u8]>, usize>,
    text: Vec<u8>,
}

impl<'p> EntityBatch<'p> {
    /// Adds every entity under `path` whose `requires` can be projected.
    pub fn collect(
        &mut self,
        schema: &SchemaIndex,
        root: &Data,
        path: &'p [FlattenNodePathSegment],
        requires: &[SelectionItem],
        input_rewrites: Option<&[FetchRewrite]>,
    ) {
        let before = self.slots.len();
        data::each_object(schema, root, path, &mut |_, object| {
            let slot = represent(schema, requires, object).and_then(|mut representation| {
                if let Some(rewrites) = input_rewrites {
                    data::rewrite(schema, rewrites, &mut representation);
                }
                self.identify(representation)
            });
            self.slots.push(slot);
        });
        self.walks.push((path, self.slots.len() - before));
    }

    /// The index of a representation, added if it is new. Its text is
    /// its identity (objects keep their keys sorted, so equal
    /// representations have equal text).
    fn identify(&mut self, representation: Data) -> Option<usize> {
        self.text.clear();
        serde_json::to_writer(&mut self.text, &representation).ok()?;
        if let Some(&i) = self.seen.get(self.text.as_slice()) {
            return Some(i);
        }
        let i = self.seen.len();
        self.seen.insert(self.text.as_slice().into(), i);
        self.representations.push(representation.to_value());
        Some(i)
    }

    /// Whether there is nothing to fetch.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
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
        root: &mut Data,
        answers: Option<Data>,
        output_rewrites: Option<&[FetchRewrite]>,
        failed: bool,
    ) -> Result<(), Unmerged> {
        let unmerged = |why, root: &Data| Unmerged {
            why,
            at: self.first_path(schema, root),
        };
        let mut answers = match answers {
            Some(Data::List(answers)) => answers,
            None | Some(Data::Null) if failed => return Ok(()),
            None | Some(Data::Null) => return Err(unmerged("no `_entities` in its answer", root)),
            Some(_) => return Err(unmerged("`_entities` is not a list", root)),
        };
        let sent = self.seen.len();
        if answers.len() < sent {
            return Err(unmerged(
                "fewer `_entities` than representations sent",
                root,
            ));
        }
        if let Some(rewrites) = output_rewrites {
            for answer in &mut answers {
                data::rewrite(schema, rewrites, answer);
            }
        }
        // Most representations have one entity: hand each answer to its
        // last entity without a clone.
        let mut remaining = vec![0usize; sent];
        for &i in self.slots.iter().flatten() {
            remaining[i] += 1;
        }
        for (path, slots) in self.walks() {
            let mut slots = slots.iter();
            data::each_object_mut(schema, root, path, &mut |target| {
                let Some(&Some(i)) = slots.next() else { return };
                let Some(answer) = answers.get_mut(i).filter(|a| !a.is_null()) else {
                    return;
                };
                remaining[i] -= 1;
                let answer = if remaining[i] == 0 {
                    std::mem::take(answer)
                } else {
                    answer.clone()
                };
                data::deep_merge(target, answer);
            });
        }
        Ok(())
    }

    /// Each flatten path walked, with the slots of the objects it reached
    /// when they were collected. A later walk of the same path pairs its
    /// objects with these in order; should it reach more, they have no
    /// slot, and fewer leave the rest unused.
    fn walks(&self) -> impl Iterator<Item = (&'p [FlattenNodePathSegment], &[Option<usize>])> {
        let mut rest = self.slots.as_slice();
        self.walks.iter().map(move |&(path, count)| {
            let (slots, after) = rest.split_at(count.min(rest.len()));
            rest = after;
            (path, slots)
        })
    }

    /// The response path of the first entity fetched, where an error
    /// about the whole fetch points.
    pub fn first_path(&self, schema: &SchemaIndex, root: &Data) -> Option<Vec<PathSegment>> {
        self.paths(schema, root, |_| true, 1).pop()
    }

    /// The response paths of the entities a representation index stands
    /// for (an error about `_entities[i]` concerns all of them).
    pub fn paths_of(
        &self,
        schema: &SchemaIndex,
        root: &Data,
        index: usize,
    ) -> Vec<Vec<PathSegment>> {
        self.paths(schema, root, |i| i == index, usize::MAX)
    }

    fn paths(
        &self,
        schema: &SchemaIndex,
        root: &Data,
        wanted: impl Fn(usize) -> bool,
        limit: usize,
    ) -> Vec<Vec<PathSegment>> {
        let mut out = Vec::new();
        for (path, slots) in self.walks() {
            let mut slots = slots.iter();
            data::each_object_at(schema, root, path, &mut |at, _| {
                if let Some(&Some(i)) = slots.next() {
                    if wanted(i) && out.len() < limit {
                        out.push(at.to_vec());
                    }
                }
            });
        }
        out
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
        let mut root: Data = json!({ "p": [
            { "__typename": "Product", "upc": "1", "price": 5, "extra": true },
            { "__typename": "Product", "upc": "2", "price": 6 },
            null,
            { "__typename": "Product", "upc": "1", "price": 5 },
            { "__typename": "Product" }
        ] })
        .into();
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
        assert_eq!(batch.paths_of(&schema, &root, 0).len(), 2);
        batch
            .merge(
                &schema,
                &mut root,
                Some(json!([{ "weight": 1 }, null]).into()),
                None,
                false,
            )
            .expect("a list of two for two representations");
        let root = root.to_value();
        assert_eq!(root["p"][0]["weight"], json!(1));
        assert_eq!(root["p"][3]["weight"], json!(1));
        assert!(root["p"][1].get("weight").is_none());
    }

    #[test]
    fn answers_that_do_not_fit_the_representations_are_refused() {
        let schema = schema();
        let root: Data = json!({ "p": [
            { "__typename": "Product", "upc": "1", "price": 5 },
            { "__typename": "Product", "upc": "2", "price": 6 }
        ] })
        .into();
        let path = [
            FlattenNodePathSegment::Field("p".into()),
            FlattenNodePathSegment::List,
        ];
        let requires = requires("... on Product { __typename upc price }");
        let attempt = |answers: Option<Value>, failed: bool| {
            let mut batch = EntityBatch::default();
            batch.collect(&schema, &root, &path, &requires, None);
            let mut root = root.clone();
            let merged = batch.merge(&schema, &mut root, answers.map(Data::from), None, failed);
            (merged, root.to_value())
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
        let Data::Object(object) = Data::from(object) else {
            unreachable!()
        };
        let requires = requires("... on Product { id price: _internal_qp_alias_0 dims { w } }");
        // In the planner's `requires`, `name` is the data key and `alias`
        // the key the subgraph expects; the parser reads `alias: name`.
        let rep = represent(&schema, &requires, &object).expect("projected");
        assert_eq!(
            rep.to_value(),
            json!({ "__typename": "Product", "id": "1", "price": 7, "dims": { "w": 1 } })
        );
    }
}
