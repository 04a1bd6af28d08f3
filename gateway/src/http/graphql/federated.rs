//! Operations that reach beyond the gateway's own domains: planned across
//! the supergraph and executed by the federation engine, with the gateway's
//! domains called in process (same tenant scope, same transaction when the
//! request holds one) and remote subgraphs over HTTP.
//!
//! The answer comes back as an `async_graphql::Response`, so everything
//! after execution (actual cost, refunds, idempotent replay, status codes)
//! is the same for local and federated operations.

use std::sync::{Arc, Mutex};

use async_graphql::{ServerError, Variables};
use axum::http::HeaderMap;
use prep_auth::Principal;
use prep_resolvers::audit::QueuedEvent;
use prep_resolvers::ids::NodeType;
use prep_resolvers::rate_limit::Budget;
use prep_resolvers::RequestContext;
use prep_schema::federation::{
    BoxFuture, Data, Executed, GraphQLError, Prepared, SubgraphRequest, SubgraphResponse,
};
use prep_schema::SubgraphSchema;
use prep_tenancy::TenantScope;

use crate::app::App;
use crate::federation::runtime::{Active, Route};
use crate::federation::transport::{GatewayTransport, LocalSubgraph};

/// What every execution of the request's operations needs attached.
pub(super) struct Attach<'a> {
    pub app: &'a App,
    pub principal: &'a Principal,
    pub request_id: &'a str,
    pub scope: &'a TenantScope,
    /// Where the tenant stands against its limits (`rateLimit`); the
    /// gateway in front passes it to the domains served on their own.
    pub budget: Option<Budget>,
}

impl Attach<'_> {
    /// Attaches the request's context and the services resolvers use.
    pub fn to(&self, request: async_graphql::Request) -> async_graphql::Request {
        let request = match self.budget {
            Some(budget) => request.data(budget),
            None => request,
        };
        request
            .data(RequestContext::new(
                self.principal.clone(),
                self.request_id.to_owned(),
                self.scope.clone(),
            ))
            .data(Arc::clone(&self.app.sso))
            .data(Arc::clone(&self.app.scim))
            .data(Arc::clone(&self.app.connectors))
            .data(Arc::clone(&self.app.audit))
            .data(Arc::clone(&self.app.reseed))
    }
}

/// The gateway's domains as the planner's `platform` subgraph.
struct InProcess<'a> {
    schema: &'a SubgraphSchema,
    attach: &'a Attach<'a>,
}

impl LocalSubgraph for InProcess<'_> {
    fn execute<'a>(&'a self, request: SubgraphRequest<'a>) -> BoxFuture<'a, SubgraphResponse> {
        Box::pin(async move {
            let variables = Variables::from_json(serde_json::Value::Object(request.variables));
            let call = self
                .attach
                .to(async_graphql::Request::new(request.query).variables(variables));
            let response = self.schema.execute(call).await;
            let data = match response.data {
                async_graphql::Value::Null => None,
                data => Some(Data::from(data)),
            };
            let errors = response
                .errors
                .into_iter()
                .map(|e| {
                    serde_json::to_value(&e)
                        .ok()
                        .and_then(|v| serde_json::from_value::<GraphQLError>(v).ok())
                        .map(|mut g| {
                            // Locations point into the planner's operation.
                            g.locations = None;
                            g
                        })
                        .unwrap_or_else(|| GraphQLError::new(e.message, "INTERNAL_SERVER_ERROR"))
                })
                .collect();
            SubgraphResponse { data, errors }
        })
    }
}

/// Executes a planned operation for the request.
pub(super) async fn execute(
    attach: &Attach<'_>,
    active: &Active,
    prepared: &Prepared,
    variables: &Variables,
    client_headers: &HeaderMap,
) -> async_graphql::Response {
    let app = attach.app;
    let schema = if attach.principal.access.scopes().is_some() {
        &app.subgraph_schemas.1
    } else {
        &app.subgraph_schemas.0
    };
    let Some(federation) = app.federation.as_deref() else {
        return to_response(Executed::failed(vec![GraphQLError::new(
            "Federation is not configured",
            "INTERNAL_SERVER_ERROR",
        )]));
    };
    let local = InProcess { schema, attach };
    let transport = GatewayTransport {
        federation,
        tokens: &app.tokens,
        principal: attach.principal,
        request_id: attach.request_id,
        budget: attach.budget,
        client_headers,
        local: &local,
        signed: Mutex::new(Default::default()),
    };
    let variables = match variables.clone().into_value().into_json() {
        Ok(serde_json::Value::Object(map)) => map,
        _ => Default::default(),
    };
    let executed = active
        .supergraph
        .execute(prepared, variables, &transport)
        .await;
    to_response(executed)
}

/// Refuses a connector's operation that needs `service`, a remote subgraph
/// not open to connectors, and writes the refusal to the tenant's audit
/// trail as for a field its scopes do not grant.
pub(super) fn refuse_connector(
    app: &App,
    principal: &Principal,
    request_id: &str,
    service: &str,
) -> Route {
    app.audit.record(QueuedEvent {
        tenant: principal.tenant,
        actor: principal.actor,
        action: "connector.denied",
        target: (NodeType::Tenant, principal.tenant.as_uuid()),
        request_id: Some(request_id.to_owned()),
        details: serde_json::json!({ "reason": "service", "service": service }),
    });
    Route::Refused(vec![GraphQLError::new(
        format!("connectors may not use the fields of the `{service}` service"),
        "FORBIDDEN",
    )])
}

/// The engine's answer as async-graphql's response type.
pub(super) fn to_response(executed: Executed) -> async_graphql::Response {
    let data: async_graphql::Value =
        serde_json::from_str(&executed.data).unwrap_or(async_graphql::Value::Null);
    let mut response = async_graphql::Response::new(data);
    response.errors = executed
        .errors
        .into_iter()
        .map(|e| {
            serde_json::to_value(&e)
                .ok()
                .and_then(|v| serde_json::from_value::<ServerError>(v).ok())
                .unwrap_or_else(|| ServerError::new(e.message, None))
        })
        .collect();
    response
}
