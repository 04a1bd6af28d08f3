//! The errors a fetch adds to the response: a subgraph's own errors
//! tagged with its name and re-pathed from `_entities[i]` to the entities
//! behind representation `i`, and transport failures placed at the first
//! path the fetch was for.

use hive_router_query_planner::planner::plan_nodes::FetchNode;
use serde_json::Value;

use super::super::response::{GraphQLError, PathSegment};
use super::super::transport::TransportError;
use super::super::tree::Data;
use super::super::types::SchemaIndex;
use super::entities::{EntityBatch, Unmerged};

/// The error for an `_entities` answer that did not fit what was sent.
pub(super) fn malformed(unmerged: Unmerged, subgraph: &str) -> GraphQLError {
    failed_at(
        &TransportError::Malformed(unmerged.why),
        subgraph,
        unmerged.at.as_ref(),
    )
}

/// Adds the subgraph's name to an error it returned.
pub(super) fn tag(error: GraphQLError, subgraph: &str) -> GraphQLError {
    error.with_extension("serviceName", Value::String(subgraph.into()))
}

/// A transport failure, placed at the first response path the fetch was
/// for.
pub(super) fn failed_at(
    error: &TransportError,
    subgraph: &str,
    at: Option<&Vec<PathSegment>>,
) -> GraphQLError {
    let mut e = error.to_graphql(subgraph);
    if let Some(at) = at {
        e.path = Some(at.clone());
    }
    e
}

/// Where the entities of an `_entities` call sit in the response, for
/// the errors the subgraph returned about them.
pub(super) struct EntitiesAt<'a> {
    pub(super) schema: &'a SchemaIndex,
    pub(super) data: &'a Data,
    pub(super) subgraph: &'a str,
}

impl EntitiesAt<'_> {
    /// Rewrites an error about `<field>[i]…` (the `_entities` list) to the
    /// response paths of the entities behind representation `i`.
    pub(super) fn error(
        &self,
        error: GraphQLError,
        field: &str,
        batch: &EntityBatch,
    ) -> Vec<GraphQLError> {
        let error = tag(error, self.subgraph);
        let (index, rest) = match error.path.as_deref() {
            Some([PathSegment::Key(k), PathSegment::Index(i), rest @ ..]) if k == field => {
                (*i, rest.to_vec())
            }
            _ => {
                // No usable path: the error is about the whole fetch.
                let mut error = error;
                error.path = batch.first_path(self.schema, self.data);
                return vec![error];
            }
        };
        let paths = batch.paths_of(self.schema, self.data, index);
        if paths.is_empty() {
            let mut error = error;
            error.path = None;
            return vec![error];
        }
        paths
            .into_iter()
            .map(|mut p| {
                p.extend(rest.iter().cloned());
                GraphQLError {
                    path: Some(p),
                    ..error.clone()
                }
            })
            .collect()
    }
}

/// The response key of the first root field a fetch selects.
pub(super) fn first_root_key(fetch: &FetchNode) -> Option<String> {
    use hive_router_query_planner::ast::selection_item::SelectionItem;
    fetch
        .operation
        .document
        .operation
        .selection_set
        .items
        .iter()
        .find_map(|item| match item {
            SelectionItem::Field(f) if f.name != "__typename" => {
                Some(f.alias.clone().unwrap_or_else(|| f.name.clone()))
            }
            _ => None,
        })
}
