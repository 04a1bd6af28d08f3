//! From operation text to a cached plan: parse (with a token limit),
//! validate against the public schema, normalise, plan. Only text that
//! passed every step is cached, keyed by the text itself (a hash collision
//! must never hand one client another operation's plan).

use std::num::NonZeroUsize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use graphql_tools::validation::validate::{validate, ValidationPlan};
use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::ast::operation::OperationDefinition;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::graph::PlannerOverrideContext;
use hive_router_query_planner::planner::plan_nodes::QueryPlan;
use hive_router_query_planner::planner::Planner;
use hive_router_query_planner::state::supergraph_state::OperationKind;
use hive_router_query_planner::utils::cancellation::CancellationToken;
use hive_router_query_planner::utils::parsing::safe_parse_operation_with_token_limit;
use lru::LruCache;

use super::response::{GraphQLError, Location};

/// The most tokens an operation may have before it is refused unparsed.
const TOKEN_LIMIT: usize = 15_000;
/// How long planning one operation may take.
const PLAN_TIMEOUT: Duration = Duration::from_secs(2);

/// An operation ready to run, shared by every request that sends the same
/// text.
#[derive(Debug)]
pub struct Prepared {
    pub(crate) plan: QueryPlan,
    pub(crate) operation: OperationDefinition,
    pub(crate) root_type: String,
    /// Whether the operation is a mutation.
    pub mutation: bool,
    subgraphs: Vec<String>,
    /// The introspection the operation asks for, answered beside the plan.
    pub(crate) introspection: Option<Introspection>,
}

/// The part of an operation the planner cannot plan: its root `__schema`
/// and `__type` fields. The client's own document runs against the
/// introspection-only schema (which answers every other field with null
/// without resolving it), and the answers under these response keys join
/// the plan's data before projection.
#[derive(Debug)]
pub(crate) struct Introspection {
    pub(crate) query: Box<str>,
    pub(crate) operation_name: Option<Box<str>>,
    pub(crate) keys: Vec<String>,
}

impl Prepared {
    /// The plan, printed the way federation routers print plans.
    pub fn plan_text(&self) -> String {
        self.plan.to_string()
    }

    /// The subgraphs the plan calls, each once, in plan order.
    pub fn subgraphs(&self) -> &[String] {
        &self.subgraphs
    }

    /// Whether the operation introspects the schema (`__schema`,
    /// `__type`), which a gateway may allow only some clients.
    pub fn introspects(&self) -> bool {
        self.introspection.is_some()
    }
}

fn subgraphs_of(plan: &QueryPlan) -> Vec<String> {
    let text = serde_json::to_value(plan).unwrap_or_default();
    let mut names = Vec::new();
    collect_service_names(&text, &mut names);
    names
}

fn collect_service_names(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(name)) = map.get("serviceName") {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
            map.values().for_each(|v| collect_service_names(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_service_names(v, out)),
        _ => {}
    }
}

/// An operation's text and the operation name chosen from it.
type PlanKey = (String, Option<String>);

/// Cached plans of one supergraph.
pub struct PlanCache {
    plans: Mutex<LruCache<PlanKey, Arc<Prepared>>>,
}

impl PlanCache {
    /// A cache of at most `capacity` plans.
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            plans: Mutex::new(LruCache::new(capacity)),
        }
    }

    fn key(query: &str, operation_name: Option<&str>) -> PlanKey {
        (query.to_owned(), operation_name.map(str::to_owned))
    }

    /// The plan for this text, if it was prepared before.
    pub fn get(&self, query: &str, operation_name: Option<&str>) -> Option<Arc<Prepared>> {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        // `get` takes the owned key type; build it only on this path.
        plans.get(&Self::key(query, operation_name)).cloned()
    }

    fn put(&self, query: &str, operation_name: Option<&str>, prepared: Arc<Prepared>) {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        plans.put(Self::key(query, operation_name), prepared);
    }

    /// How many plans are cached.
    pub fn len(&self) -> usize {
        self.plans.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Whether no plan is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Parses, validates, normalises and plans `query` (or returns the errors
/// a client should see), caching the result.
pub fn prepare(
    planner: &Planner,
    validation: &ValidationPlan,
    cache: &PlanCache,
    query: &str,
    operation_name: Option<&str>,
) -> Result<Arc<Prepared>, Vec<GraphQLError>> {
    if let Some(hit) = cache.get(query, operation_name) {
        return Ok(hit);
    }
    let document = safe_parse_operation_with_token_limit(query, TOKEN_LIMIT).map_err(|e| {
        vec![GraphQLError::new(
            format!("The document could not be parsed: {}", e.to_string().trim()),
            "GRAPHQL_PARSE_FAILED",
        )]
    })?;
    let invalid = validate(&planner.consumer_schema.document, &document, validation);
    if !invalid.is_empty() {
        return Err(invalid
            .into_iter()
            .map(|e| GraphQLError {
                locations: Some(
                    e.locations
                        .iter()
                        .map(|p| Location {
                            line: p.line,
                            column: p.column,
                        })
                        .collect(),
                ),
                ..GraphQLError::new(e.message, "GRAPHQL_VALIDATION_FAILED")
            })
            .collect());
    }
    let planned = catch_unwind(AssertUnwindSafe(|| {
        let normalized = normalize_operation(&planner.supergraph, &document, operation_name)
            .map_err(|e| {
                vec![GraphQLError::new(
                    e.to_string(),
                    "GRAPHQL_VALIDATION_FAILED",
                )]
            })?;
        let operation = normalized.operation;
        let kind = operation
            .operation_kind
            .clone()
            .unwrap_or(OperationKind::Query);
        if kind == OperationKind::Subscription {
            return Err(vec![GraphQLError::new(
                "Subscriptions are not supported across subgraphs",
                "OPERATION_NOT_SUPPORTED",
            )]);
        }
        let root_type = match kind {
            OperationKind::Mutation => planner.supergraph.mutation_type.clone().unwrap_or_default(),
            _ => planner.supergraph.query_type.clone(),
        };
        let mut for_planner = operation.clone();
        let mut keys = Vec::new();
        take_introspection(&mut for_planner.selection_set.items, &mut keys);
        let plan = if typename_only(&for_planner.selection_set.items) {
            // `{ __typename }` is answered here; no subgraph needs asking.
            QueryPlan {
                kind: "QueryPlan",
                node: None,
            }
        } else {
            planner
                .plan_from_normalized_operation(
                    &for_planner,
                    PlannerOverrideContext::default(),
                    &CancellationToken::with_timeout(PLAN_TIMEOUT),
                )
                .map_err(|e| {
                    tracing::warn!(error = %e, "query planning failed");
                    vec![GraphQLError::new(
                        "The operation could not be planned",
                        "QUERY_PLANNING_FAILED",
                    )]
                })?
        };
        Ok(Prepared {
            subgraphs: subgraphs_of(&plan),
            plan,
            root_type,
            mutation: kind == OperationKind::Mutation,
            operation,
            introspection: (!keys.is_empty()).then(|| Introspection {
                query: query.into(),
                operation_name: operation_name.map(Into::into),
                keys,
            }),
        })
    }))
    .map_err(|_| {
        tracing::error!("the query planner panicked");
        vec![GraphQLError::new(
            "The operation could not be planned",
            "QUERY_PLANNING_FAILED",
        )]
    })??;
    let prepared = Arc::new(planned);
    cache.put(query, operation_name, Arc::clone(&prepared));
    Ok(prepared)
}

/// Takes introspection's root fields out of `items` (and out of the
/// inline fragments among them, dropping any left empty), collecting their
/// response keys.
fn take_introspection(items: &mut Vec<SelectionItem>, keys: &mut Vec<String>) {
    items.retain_mut(|item| match item {
        SelectionItem::Field(f) if is_introspection(&f.name) => {
            let key = f.alias.as_ref().unwrap_or(&f.name);
            if !keys.contains(key) {
                keys.push(key.clone());
            }
            false
        }
        SelectionItem::InlineFragment(fragment) => {
            take_introspection(&mut fragment.selections.items, keys);
            !fragment.selections.items.is_empty()
        }
        _ => true,
    });
}

/// Whether a root field is introspection's (which the planner cannot plan).
pub(crate) fn is_introspection(field: &str) -> bool {
    matches!(field, "__schema" | "__type")
}

fn typename_only(items: &[SelectionItem]) -> bool {
    items.iter().all(|item| match item {
        SelectionItem::Field(f) => f.name == "__typename",
        SelectionItem::InlineFragment(fr) => typename_only(&fr.selections.items),
        SelectionItem::FragmentSpread(_) => false,
    })
}

#[cfg(test)]
mod tests;
