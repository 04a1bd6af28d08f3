//! Runs a query plan: sequences in order, parallel branches concurrently,
//! each fetch's answer merged into one response as it arrives.
//!
//! The data lives behind a mutex held only while a fetch is prepared from
//! it or its answer merged in, never across a subgraph call, so parallel
//! branches overlap on the network and take turns on the data.

mod data;
mod entities;
mod errors;
mod represent;

use std::sync::Mutex;

use futures_util::future::join_all;
use hive_router_query_planner::planner::plan_nodes::{
    BatchFetchNode, FetchNode, FlattenNodePathSegment, PlanNode,
};
use serde_json::{Map, Value};

use super::response::{GraphQLError, PathSegment};
use super::transport::{BoxFuture, SubgraphRequest, SubgraphResponse, Transport, TransportError};
use super::tree::{Data, Object};
use super::types::SchemaIndex;
use entities::EntityBatch;
use errors::{failed_at, first_root_key, malformed, tag, EntitiesAt};

/// The state of one operation's execution.
pub struct Execution<'a> {
    schema: &'a SchemaIndex,
    variables: &'a Map<String, Value>,
    transport: &'a dyn Transport,
    mutation: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    data: Data,
    errors: Vec<GraphQLError>,
}

impl<'a> Execution<'a> {
    /// Prepares to run a plan with coerced variables.
    pub fn new(
        schema: &'a SchemaIndex,
        variables: &'a Map<String, Value>,
        transport: &'a dyn Transport,
        mutation: bool,
    ) -> Self {
        Self {
            schema,
            variables,
            transport,
            mutation,
            state: Mutex::new(State {
                data: Data::Object(Object::new()),
                errors: Vec::new(),
            }),
        }
    }

    /// Runs the plan's root node, then hands back the merged data and the
    /// errors gathered on the way.
    pub async fn run(self, root: Option<&PlanNode>) -> (Data, Vec<GraphQLError>) {
        if let Some(node) = root {
            self.node(node).await;
        }
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        (state.data, state.errors)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while merging cannot leave the data half-written in a
        // way that matters more than the panic itself; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn node<'n>(&'n self, node: &'n PlanNode) -> BoxFuture<'n, ()> {
        Box::pin(async move {
            match node {
                PlanNode::Sequence(s) => {
                    for child in &s.nodes {
                        self.node(child).await;
                    }
                }
                PlanNode::Parallel(p) => {
                    join_all(p.nodes.iter().map(|child| self.node(child))).await;
                }
                PlanNode::Fetch(fetch) => self.fetch(fetch, &[]).await,
                PlanNode::Flatten(flatten) => match flatten.node.as_ref() {
                    PlanNode::Fetch(fetch) => self.fetch(fetch, flatten.path.as_slice()).await,
                    PlanNode::BatchFetch(batch) => self.batch_fetch(batch).await,
                    other => self.node(other).await,
                },
                PlanNode::BatchFetch(batch) => self.batch_fetch(batch).await,
                PlanNode::Condition(c) => {
                    let branch = if self.variables.get(&c.condition) == Some(&Value::Bool(true)) {
                        &c.if_clause
                    } else {
                        &c.else_clause
                    };
                    if let Some(branch) = branch {
                        self.node(branch).await;
                    }
                }
                PlanNode::Subscription(_) | PlanNode::Defer(_) => {
                    self.lock().errors.push(GraphQLError::new(
                        "Subscriptions and @defer are not supported across subgraphs",
                        "OPERATION_NOT_SUPPORTED",
                    ));
                }
            }
        })
    }

    fn variables_for(
        &self,
        usages: Option<&std::collections::BTreeSet<String>>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for name in usages.into_iter().flatten() {
            if let Some(v) = self.variables.get(name) {
                out.insert(name.clone(), v.clone());
            }
        }
        out
    }

    async fn send(
        &self,
        subgraph: &str,
        query: &str,
        variables: Map<String, Value>,
    ) -> Result<SubgraphResponse, TransportError> {
        self.transport
            .send(SubgraphRequest {
                subgraph,
                query,
                variables,
                mutation: self.mutation,
            })
            .await
    }

    async fn fetch(&self, fetch: &FetchNode, path: &[FlattenNodePathSegment]) {
        let Some(requires) = &fetch.requires else {
            return self.root_fetch(fetch, path).await;
        };
        let mut batch = EntityBatch::default();
        {
            let state = self.lock();
            batch.collect(
                self.schema,
                &state.data,
                path,
                &requires.items,
                fetch.input_rewrites.as_deref(),
            );
        }
        if batch.is_empty() {
            return;
        }
        let mut variables = self.variables_for(fetch.variable_usages.as_ref());
        variables.insert(
            "representations".into(),
            Value::Array(std::mem::take(&mut batch.representations)),
        );
        let result = self
            .send(
                &fetch.service_name,
                &fetch.operation.document_str,
                variables,
            )
            .await;
        let mut state = self.lock();
        let State { data, errors } = &mut *state;
        match result {
            Ok(mut response) => {
                let answers = response
                    .data
                    .as_mut()
                    .and_then(Data::as_object_mut)
                    .and_then(|d| d.remove("_entities"));
                let failed = !response.errors.is_empty();
                let at = EntitiesAt {
                    schema: self.schema,
                    data,
                    subgraph: &fetch.service_name,
                };
                for error in response.errors {
                    errors.extend(at.error(error, "_entities", &batch));
                }
                let merged = batch.merge(
                    self.schema,
                    data,
                    answers,
                    fetch.output_rewrites.as_deref(),
                    failed,
                );
                if let Err(unmerged) = merged {
                    errors.push(malformed(unmerged, &fetch.service_name));
                }
            }
            Err(e) => {
                let at = batch.first_path(self.schema, data);
                errors.push(failed_at(&e, &fetch.service_name, at.as_ref()));
            }
        }
    }

    /// A fetch without `requires`: at the root, or re-entering a root type
    /// below the root (its answer merges into every object at the path).
    async fn root_fetch(&self, fetch: &FetchNode, path: &[FlattenNodePathSegment]) {
        let targets = if path.is_empty() {
            vec![Vec::new()]
        } else {
            let state = self.lock();
            let mut targets = Vec::new();
            data::each_object_at(self.schema, &state.data, path, &mut |at, _| {
                targets.push(at.to_vec())
            });
            targets
        };
        if targets.is_empty() {
            return;
        }
        let variables = self.variables_for(fetch.variable_usages.as_ref());
        let result = self
            .send(
                &fetch.service_name,
                &fetch.operation.document_str,
                variables,
            )
            .await;
        let mut state = self.lock();
        let State { data, errors } = &mut *state;
        match result {
            Ok(response) => {
                for error in response.errors {
                    errors.push(tag(error, &fetch.service_name));
                }
                let Some(mut answer) = response.data else {
                    return;
                };
                if let Some(rewrites) = &fetch.output_rewrites {
                    data::rewrite(self.schema, rewrites, &mut answer);
                }
                let last = targets.len() - 1;
                for (n, at) in targets.iter().enumerate() {
                    let part = if n == last {
                        std::mem::take(&mut answer)
                    } else {
                        answer.clone()
                    };
                    if let Some(target) = data::get_mut(data, at) {
                        data::deep_merge(target, part);
                    }
                }
            }
            Err(e) => {
                let first_field = first_root_key(fetch);
                let at = first_field.map(|k| {
                    let mut p = targets[0].clone();
                    p.push(PathSegment::Key(k));
                    p
                });
                errors.push(failed_at(&e, &fetch.service_name, at.as_ref()));
            }
        }
    }

    /// Several entity fetches to one subgraph in one request, one
    /// `_entities` alias per shape of representation.
    async fn batch_fetch(&self, fetch: &BatchFetchNode) {
        let mut batches: Vec<EntityBatch<'_>> =
            Vec::with_capacity(fetch.entity_batch.aliases.len());
        {
            let state = self.lock();
            for alias in &fetch.entity_batch.aliases {
                let mut batch = EntityBatch::default();
                for path in &alias.merge_paths {
                    batch.collect(
                        self.schema,
                        &state.data,
                        path.as_slice(),
                        &alias.requires.items,
                        alias.input_rewrites.as_deref(),
                    );
                }
                batches.push(batch);
            }
        }
        if batches.iter().all(EntityBatch::is_empty) {
            return;
        }
        let mut variables = self.variables_for(fetch.variable_usages.as_ref());
        for (alias, batch) in fetch.entity_batch.aliases.iter().zip(&mut batches) {
            variables.insert(
                alias.representations_variable_name.clone(),
                Value::Array(std::mem::take(&mut batch.representations)),
            );
        }
        let result = self
            .send(
                &fetch.service_name,
                &fetch.operation.document_str,
                variables,
            )
            .await;
        let mut state = self.lock();
        let State { data, errors } = &mut *state;
        match result {
            Ok(mut response) => {
                let failed = !response.errors.is_empty();
                let at = EntitiesAt {
                    schema: self.schema,
                    data,
                    subgraph: &fetch.service_name,
                };
                'errors: for error in response.errors {
                    let first = match error.path.as_deref() {
                        Some([PathSegment::Key(k), ..]) => Some(k.clone()),
                        _ => None,
                    };
                    for (alias, batch) in fetch.entity_batch.aliases.iter().zip(&batches) {
                        if first.as_deref() == Some(alias.alias.as_str()) {
                            errors.extend(at.error(error, &alias.alias, batch));
                            continue 'errors;
                        }
                    }
                    errors.push(tag(error, &fetch.service_name));
                }
                let mut answers = response
                    .data
                    .as_mut()
                    .and_then(Data::as_object_mut)
                    .map(std::mem::take)
                    .unwrap_or_default();
                for (alias, batch) in fetch.entity_batch.aliases.iter().zip(batches) {
                    let merged = batch.merge(
                        self.schema,
                        data,
                        answers.remove(&alias.alias),
                        alias.output_rewrites.as_deref(),
                        failed,
                    );
                    if let Err(unmerged) = merged {
                        errors.push(malformed(unmerged, &fetch.service_name));
                    }
                }
            }
            Err(e) => {
                let at = batches.iter().find_map(|b| b.first_path(self.schema, data));
                errors.push(failed_at(&e, &fetch.service_name, at.as_ref()));
            }
        }
    }
}
