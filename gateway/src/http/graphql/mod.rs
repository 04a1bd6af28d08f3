//! `POST /graphql`: GraphQL over HTTP.
//!
//! Only `application/json` bodies are taken (a cross-site `text/plain` form
//! post cannot reach the endpoint), only POST (no mutation over GET), and no
//! batches. With `Accept: application/graphql-response+json` request errors
//! get 4xx statuses as the GraphQL-over-HTTP spec says; plain
//! `application/json` clients get 200 with `errors`, as they expect.
//!
//! The way through, cheapest refusals first: content type and
//! `Idempotency-Key` → the address's failed-authentication guard →
//! authentication → body size → document size and tokens (before parsing)
//! → parse → depth, aliases, directives → requested cost against the
//! tenant's single-query maximum → rates and cost budget (one Redis round
//! trip) → the tenant's bulkhead → execution in the tenant's scope, holding
//! a place in its share of the pool → actual cost, refund, `extensions.cost`
//! and `RateLimit-*` headers.

mod budget;
mod federated;
mod response;
pub(super) mod subgraph;

pub use budget::{rate_headers, Throttled};

use axum::body::Body;
use axum::extract::State;
use axum::http::{Extensions, HeaderMap};
use axum::response::Response;
use prep_resolvers::rate_limit::Budget;
use prep_schema::federation::GraphQLError;
use prep_tenancy::Claim;

use super::authn::{authenticate, check_csrf, client_ip, request_id};
use super::{idempotency, HttpError};
use crate::app::AppState;
use crate::federation::runtime::Route;
use crate::governance::Refusal;
use crate::metrics::OperationLabels;
use response::{
    accepts_graphql_response, operation_type, read_body, replay, require_json, respond, tag_all,
    tag_uncoded,
};

/// Refuses GET and other methods on `/graphql`.
pub async fn method_not_allowed() -> HttpError {
    HttpError::MethodNotAllowed
}

/// Executes one GraphQL operation for an authenticated caller.
pub async fn execute(
    State(app): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Body,
) -> Result<Response, HttpError> {
    require_json(&headers)?;
    let idempotency_key = idempotency::key(&headers)?;
    let graphql_response = accepts_graphql_response(&headers);
    let ip = client_ip(&app, &headers, &extensions);
    if let Some(wait) = app.governance.auth_blocked(ip) {
        return Err(HttpError::AddressBlocked(wait));
    }
    let principal = match authenticate(&app, &headers, ip).await {
        Ok(p) => p,
        Err(e) => {
            if matches!(e, HttpError::Unauthenticated(_)) {
                app.governance.auth_failed(ip);
            }
            return Err(e);
        }
    };
    tracing::Span::current().record("tenant.id", tracing::field::display(principal.tenant));

    let limit = app.settings.server.body_limit_bytes;
    let bytes = read_body(body, limit).await?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(HttpError::BadRequest(
            "batched requests are not supported".into(),
        ));
    }
    let mut request: async_graphql::Request = serde_json::from_slice(&bytes)
        .map_err(|e| HttpError::BadRequest(format!("the body is not a GraphQL request: {e}")))?;
    let armour = app.settings.armour();
    let rest = bytes.len().saturating_sub(request.query.len());
    prep_schema::armour::check_text(&request.query, rest, &armour).map_err(HttpError::Armour)?;

    // Parse once (async-graphql keeps the parsed document), to learn the
    // operation type and answer syntax errors before any database work.
    let operation_name = request.operation_name.clone();
    let variables = request.variables.clone();
    // With remote subgraphs, cost is measured over the whole supergraph
    // (whose model also prices the gateway's own fields the same way).
    let federation = app.federation.as_ref().and_then(|f| f.active());
    let cost_model = federation
        .as_ref()
        .map_or(&app.governance.cost_model, |a| &a.cost_model);
    let (operation, requested_cost) = match request.parsed_query() {
        Ok(doc) => {
            if let Err(e) =
                prep_schema::armour::check_document(doc, operation_name.as_deref(), &armour)
            {
                return Ok(budget::refused_before_execution(
                    e.code(),
                    &e.to_string(),
                    None,
                    graphql_response,
                ));
            }
            let cost = cost_model.requested(doc, operation_name.as_deref(), &variables);
            (
                operation_type(doc, operation_name.as_deref()),
                cost.requested,
            )
        }
        Err(err) => {
            app.metrics
                .operations
                .get_or_create(&OperationLabels {
                    operation: "invalid",
                    outcome: "error",
                })
                .inc();
            let mut response = async_graphql::Response::from_errors(vec![err]);
            tag_uncoded(&mut response, "GRAPHQL_PARSE_FAILED");
            return Ok(respond(response, graphql_response, true));
        }
    };
    if operation == "mutation" {
        check_csrf(&app, &principal, &headers)?;
    }

    let limits = app.governance.limits_of(&app.db, principal.tenant).await;
    if requested_cost > u64::from(limits.limits.max_query_cost) {
        let message = format!(
            "the query's calculated cost is {requested_cost} points; the most one query may cost is {}",
            limits.limits.max_query_cost
        );
        return Ok(budget::refused_before_execution(
            "MAX_COST_EXCEEDED",
            &message,
            Some(requested_cost),
            graphql_response,
        ));
    }
    let credential = crate::governance::credential(&principal);
    let admission = match app
        .governance
        .admit(principal.tenant, &credential, &limits, requested_cost)
        .await
    {
        Ok(a) => a,
        Err(Refusal::Limited(verdict)) => {
            budget::count_refusal(&app, &verdict, limits.tier);
            return Err(HttpError::RateLimited(Box::new(budget::Throttled {
                verdict,
                requested_cost,
            })));
        }
        Err(Refusal::Overloaded(o)) => {
            app.metrics
                .overloaded
                .get_or_create(&budget::overload_labels("tenant_operations"))
                .inc();
            return Err(HttpError::Overloaded(o.0));
        }
    };
    let verdict = admission.verdict;

    let request_id = request_id(&headers);
    let scope = app
        .db
        .scope_shared(principal.tenant, principal.access.reach(), admission.share);
    let idempotent = idempotency_key.filter(|_| operation == "mutation");
    if let Some(key) = &idempotent {
        let fingerprint = idempotency::fingerprint(&principal, &request);
        let ttl = std::time::Duration::from_secs(app.settings.graphql.idempotency_ttl_secs);
        let claim = scope
            .claim_idempotency(key, &fingerprint, ttl)
            .await
            .map_err(|e| match e {
                prep_tenancy::TenancyError::Overloaded(why) => HttpError::Overloaded(why),
                other => HttpError::Internal(format!("claiming an idempotency key: {other}")),
            })?;
        match claim {
            Claim::Fresh => {}
            Claim::Replay(body) => {
                let mut resp = replay(body, graphql_response);
                budget::rate_headers(resp.headers_mut(), &verdict);
                return Ok(resp);
            }
            Claim::Mismatch => return Err(HttpError::IdempotencyKeyReused),
            Claim::InProgress => return Err(HttpError::IdempotencyKeyInFlight),
        }
    }
    let schema = match (limits.is_sandbox, principal.access.scopes().is_some()) {
        (false, false) => &app.schema,
        (false, true) => &app.connector_schema,
        (true, false) => &app.sandbox_schemas.0,
        (true, true) => &app.sandbox_schemas.1,
    };
    let tenant = principal.tenant;
    // Planned only now, after admission: planning is CPU work a tenant
    // over its limits must not be able to buy.
    let route = match &app.federation {
        Some(f) => {
            let route = f.route(&request.query, operation_name.as_deref()).await;
            match principal
                .access
                .scopes()
                .and(f.closed_to_connectors(&route))
            {
                Some(service) => {
                    federated::refuse_connector(&app, &principal, &request_id, service)
                }
                None => route,
            }
        }
        None => Route::Local,
    };
    // The gateway's own schema refuses introspection itself where it is
    // off; the supergraph's is refused here.
    let route = match route {
        Route::Federated(_, prepared)
            if prepared.introspects()
                && !(app.settings.graphql.introspection || limits.is_sandbox) =>
        {
            Route::Refused(vec![GraphQLError::new(
                "Introspection is disabled",
                "INTROSPECTION_DISABLED",
            )])
        }
        route => route,
    };
    let attach = federated::Attach {
        app: &app,
        principal: &principal,
        request_id: &request_id,
        scope: &scope,
        budget: Some(Budget {
            requested_cost,
            maximum_available: verdict.cost_maximum,
            currently_available: verdict.cost_available.floor() as u64,
            restore_rate: verdict.cost_restore_rate,
            requests_per_second: verdict.rate_limit,
            requests_remaining: verdict.rate_remaining,
        }),
    };
    let doc = request.parsed_query().ok().cloned();
    let mut response = match &route {
        Route::Local => schema.execute(attach.to(request)).await,
        Route::Federated(active, prepared) => {
            federated::execute(&attach, active, prepared, &variables, &headers).await
        }
        Route::Refused(errors) => {
            federated::to_response(prep_schema::federation::Executed::failed(errors.clone()))
        }
    };

    let actual = doc.map_or(requested_cost, |d| {
        cost_model.actual(&d, operation_name.as_deref(), &response.data)
    });
    app.governance
        .quotas
        .refund(tenant, requested_cost.saturating_sub(actual));
    budget::cost_extension(&mut response, requested_cost, actual, &verdict);

    if let Some(key) = &idempotent {
        if idempotency::storable(&response) {
            tag_all(&mut response);
            let body = serde_json::to_vec(&response)
                .map_err(|e| HttpError::Internal(format!("serialising a response: {e}")))?;
            scope
                .complete_idempotent(key, &body)
                .await
                .map_err(|e| HttpError::Internal(format!("storing an idempotent response: {e}")))?;
        }
    }
    scope.release_read().await;

    let request_error = tag_all(&mut response);
    let statements = scope.statements();
    if statements > 0 {
        app.metrics
            .statements_per_operation
            .observe(statements as f64);
    }
    app.metrics
        .operations
        .get_or_create(&OperationLabels {
            operation,
            outcome: if response.errors.is_empty() {
                "ok"
            } else {
                "error"
            },
        })
        .inc();
    if budget::overloaded(&response) {
        app.metrics
            .overloaded
            .get_or_create(&budget::overload_labels("database_share"))
            .inc();
        return Err(HttpError::Overloaded(
            "the tenant holds its whole share of database connections",
        ));
    }
    let validation_failed = request_error
        && response.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| *c == async_graphql::Value::from("GRAPHQL_VALIDATION_FAILED"))
        });
    let mut resp = respond(response, graphql_response, validation_failed);
    budget::rate_headers(resp.headers_mut(), &verdict);
    Ok(resp)
}
