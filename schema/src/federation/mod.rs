//! The federation router: plans an operation across the subgraphs of a
//! supergraph (Apollo Federation v2, `join/v0.3`) and runs the plan.
//!
//! Planning is `hive-router-query-planner`'s; everything after it (the
//! executor, entity batching, response projection, null propagation) is
//! ours. How a subgraph is reached is the caller's [`Transport`]: the
//! gateway calls in-process subgraphs directly and remote ones over HTTP.

pub mod compose;
mod exec;
pub mod introspection;
mod prepare;
mod project;
pub mod response;
pub mod transport;
pub mod tree;
pub mod types;
mod variables;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};

use graphql_tools::validation::rules::default_rules_validation_plan;
use graphql_tools::validation::validate::ValidationPlan;
use hive_router_query_planner::planner::{Planner, QueryPlannerOptions};
use hive_router_query_planner::utils::parsing::safe_parse_schema;
use serde_json::{Map, Value};

pub use prepare::{PlanCache, Prepared};
pub use response::{Executed, GraphQLError, PathSegment};
pub use transport::{BoxFuture, SubgraphRequest, SubgraphResponse, Transport, TransportError};
pub use tree::{Data, Object};
use types::SchemaIndex;

/// Plans kept per supergraph.
const PLAN_CACHE_SIZE: usize = 2_000;

/// Why a supergraph could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SupergraphError {
    /// The SDL does not parse.
    #[error("the supergraph SDL does not parse: {0}")]
    Parse(String),
    /// The planner refused it (not a `join/v0.3` supergraph, or broken).
    #[error("the supergraph cannot be planned over: {0}")]
    Planner(String),
}

/// A loaded supergraph: its planner, its public schema, its plans.
pub struct Supergraph {
    planner: Planner,
    schema: SchemaIndex,
    validation: ValidationPlan,
    plans: PlanCache,
    sdl: String,
    api_sdl: String,
    /// Answers introspection of the public API, built when an operation
    /// first introspects (a router that is never introspected never holds
    /// it); `None` if the API could not be turned into a schema.
    introspection: OnceLock<Option<async_graphql::dynamic::Schema>>,
}

impl std::fmt::Debug for Supergraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supergraph")
            .field("subgraphs", &self.subgraphs())
            .finish_non_exhaustive()
    }
}

impl Supergraph {
    /// Loads a composed supergraph SDL.
    pub fn new(sdl: &str) -> Result<Self, SupergraphError> {
        let document = safe_parse_schema(sdl).map_err(|e| SupergraphError::Parse(e.to_string()))?;
        // The planner panics on some malformed federation directives; a
        // bad supergraph must be an error, never a crash.
        let planner = catch_unwind(AssertUnwindSafe(|| {
            Planner::new_from_supergraph(&document, QueryPlannerOptions::default())
        }))
        .map_err(|_| SupergraphError::Planner("the planner panicked reading it".into()))?
        .map_err(|e| SupergraphError::Planner(e.to_string()))?;
        let schema = SchemaIndex::new(&document, &planner.consumer_schema.document);
        let api_sdl = planner.consumer_schema.document.to_string();
        Ok(Self {
            planner,
            schema,
            validation: default_rules_validation_plan(),
            plans: PlanCache::new(PLAN_CACHE_SIZE),
            sdl: sdl.to_owned(),
            api_sdl,
            introspection: OnceLock::new(),
        })
    }

    /// The subgraphs by name, with the URL the supergraph gives each.
    pub fn subgraphs(&self) -> BTreeMap<String, String> {
        self.planner
            .supergraph
            .subgraph_endpoint_map
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The supergraph SDL it was loaded from.
    pub fn sdl(&self) -> &str {
        &self.sdl
    }

    /// The public API: the supergraph without federation's machinery and
    /// without `@inaccessible` parts.
    pub fn api_sdl(&self) -> &str {
        &self.api_sdl
    }

    /// The introspection-only schema of the public API, built on first
    /// use.
    fn introspection(&self) -> Option<&async_graphql::dynamic::Schema> {
        self.introspection
            .get_or_init(|| {
                introspection::schema_of(&self.api_sdl)
                    .map_err(|e| tracing::error!(error = %e, "the supergraph's API cannot be introspected"))
                    .ok()
            })
            .as_ref()
    }

    /// The plan for an operation, from the cache when this text was seen.
    /// Planning is CPU work: call [`Supergraph::cached`] first and run
    /// this off the async runtime when it misses.
    pub fn prepare(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<Arc<Prepared>, Vec<GraphQLError>> {
        let prepared = prepare::prepare(
            &self.planner,
            &self.validation,
            &self.plans,
            query,
            operation_name,
        )?;
        if prepared.introspects() {
            // Built here, off the async runtime, rather than mid-request.
            self.introspection();
        }
        Ok(prepared)
    }

    /// The cached plan for this text, if any.
    pub fn cached(&self, query: &str, operation_name: Option<&str>) -> Option<Arc<Prepared>> {
        self.plans.get(query, operation_name)
    }

    /// Runs a prepared operation: coerces the variables, fetches from the
    /// subgraphs through `transport`, and projects the client's response.
    pub async fn execute(
        &self,
        prepared: &Prepared,
        variables: Map<String, Value>,
        transport: &dyn Transport,
    ) -> Executed {
        let definitions = prepared
            .operation
            .variable_definitions
            .as_deref()
            .unwrap_or_default();
        // Introspection reads the variables as the client sent them.
        let raw = prepared.introspection.as_ref().map(|_| variables.clone());
        let variables = match variables::coerce(&self.schema, definitions, variables) {
            Ok(v) => v,
            Err(errors) => return Executed::failed(errors),
        };
        let execution =
            exec::Execution::new(&self.schema, &variables, transport, prepared.mutation);
        let (data, mut errors) = execution.run(prepared.plan.node.as_ref()).await;
        let introspected = match (&prepared.introspection, raw) {
            (Some(part), Some(raw)) => self.introspect(part, raw, &mut errors).await,
            _ => Vec::new(),
        };
        let data = project::project(
            &self.schema,
            &prepared.root_type,
            &prepared.operation.selection_set.items,
            &data,
            &introspected,
            &variables,
            &mut errors,
        );
        Executed { data, errors }
    }

    /// Answers the operation's introspection fields: JSON text by
    /// response key, in the client's field order. Only the gateway answers
    /// introspection; whatever a subgraph put under these keys is never
    /// read.
    async fn introspect(
        &self,
        part: &prepare::Introspection,
        variables: Map<String, Value>,
        errors: &mut Vec<GraphQLError>,
    ) -> Vec<(String, String)> {
        let Some(schema) = self.introspection() else {
            errors.push(GraphQLError::new(
                "The API cannot be introspected",
                "INTERNAL_SERVER_ERROR",
            ));
            return Vec::new();
        };
        let mut request = async_graphql::Request::new(&*part.query).variables(
            async_graphql::Variables::from_json(Value::Object(variables)),
        );
        if let Some(name) = &part.operation_name {
            request = request.operation_name(&**name);
        }
        let response = schema.execute(request).await;
        errors.extend(response.errors.into_iter().map(|e| GraphQLError {
            locations: (!e.locations.is_empty()).then(|| {
                e.locations
                    .iter()
                    .map(|p| response::Location {
                        line: p.line,
                        column: p.column,
                    })
                    .collect()
            }),
            ..GraphQLError::new(e.message, "GRAPHQL_VALIDATION_FAILED")
        }));
        let async_graphql::Value::Object(mut answered) = response.data else {
            return Vec::new();
        };
        part.keys
            .iter()
            .filter_map(|key| {
                let value = answered.shift_remove(key.as_str())?;
                Some((key.clone(), serde_json::to_string(&value).ok()?))
            })
            .collect()
    }
}
