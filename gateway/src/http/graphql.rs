//! `POST /graphql`: GraphQL over HTTP.
//!
//! Only `application/json` bodies are taken (a cross-site `text/plain` form
//! post cannot reach the endpoint), only POST (no mutation over GET), and no
//! batches. With `Accept: application/graphql-response+json` request errors
//! get 4xx statuses as the GraphQL-over-HTTP spec says; plain
//! `application/json` clients get 200 with `errors`, as they expect.

use async_graphql::parser::types::OperationType;
use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use prep_resolvers::RequestContext;

use std::sync::Arc;

use prep_tenancy::Claim;

use super::authn::{authenticate, check_csrf, client_ip, request_id};
use super::{idempotency, HttpError};
use crate::app::AppState;
use crate::metrics::OperationLabels;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

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
    let principal = authenticate(&app, &headers, ip).await?;
    tracing::Span::current().record("tenant.id", tracing::field::display(principal.tenant));

    let limit = app.settings.server.body_limit_bytes;
    let bytes = to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
        {
            HttpError::PayloadTooLarge(limit)
        } else {
            HttpError::BadRequest("the request body could not be read".into())
        }
    })?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(HttpError::BadRequest(
            "batched requests are not supported".into(),
        ));
    }
    let mut request: async_graphql::Request = serde_json::from_slice(&bytes)
        .map_err(|e| HttpError::BadRequest(format!("the body is not a GraphQL request: {e}")))?;

    // Parse once (async-graphql keeps the parsed document), to learn the
    // operation type and answer syntax errors before any database work.
    let operation_name = request.operation_name.clone();
    let operation = match request.parsed_query() {
        Ok(doc) => operation_type(doc, operation_name.as_deref()),
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
    let request_id = request_id(&headers);
    let scope = app
        .db
        .scope_within(principal.tenant, principal.access.reach());
    let idempotent = idempotency_key.filter(|_| operation == "mutation");
    if let Some(key) = &idempotent {
        let fingerprint = idempotency::fingerprint(&principal, &request);
        let ttl = std::time::Duration::from_secs(app.settings.graphql.idempotency_ttl_secs);
        let claim = scope
            .claim_idempotency(key, &fingerprint, ttl)
            .await
            .map_err(|e| HttpError::Internal(format!("claiming an idempotency key: {e}")))?;
        match claim {
            Claim::Fresh => {}
            Claim::Replay(body) => return Ok(replay(body, graphql_response)),
            Claim::Mismatch => return Err(HttpError::IdempotencyKeyReused),
            Claim::InProgress => return Err(HttpError::IdempotencyKeyInFlight),
        }
    }
    let schema = if principal.access.scopes().is_some() {
        &app.connector_schema
    } else {
        &app.schema
    };
    let request = request
        .data(RequestContext::new(principal, request_id, scope.clone()))
        .data(Arc::clone(&app.sso))
        .data(Arc::clone(&app.scim))
        .data(Arc::clone(&app.connectors))
        .data(Arc::clone(&app.audit));
    let mut response = schema.execute(request).await;
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
    let validation_failed = request_error
        && response.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| *c == async_graphql::Value::from("GRAPHQL_VALIDATION_FAILED"))
        });
    Ok(respond(response, graphql_response, validation_failed))
}

fn require_json(headers: &HeaderMap) -> Result<(), HttpError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if ok {
        Ok(())
    } else {
        Err(HttpError::UnsupportedMediaType)
    }
}

fn accepts_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains(GRAPHQL_RESPONSE))
}

fn operation_type(
    doc: &async_graphql::parser::types::ExecutableDocument,
    name: Option<&str>,
) -> &'static str {
    use async_graphql::parser::types::DocumentOperations;
    let ty = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    };
    match ty {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "invalid",
    }
}

/// Codes every error (a request error is a validation failure, anything
/// else uncoded is bad input); says whether it was a request error.
fn tag_all(response: &mut async_graphql::Response) -> bool {
    let request_error = response.data == async_graphql::Value::Null && !response.errors.is_empty();
    if request_error {
        tag_uncoded(response, "GRAPHQL_VALIDATION_FAILED");
    } else {
        tag_uncoded(response, "BAD_USER_INPUT");
    }
    request_error
}

/// A stored response, replayed for a retried idempotent mutation.
fn replay(body: Vec<u8>, graphql_response: bool) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let content_type = if graphql_response {
        "application/graphql-response+json; charset=utf-8"
    } else {
        "application/json"
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(idempotency::REPLAYED, HeaderValue::from_static("true"));
    resp
}

/// Gives every error that has no code yet the code `code`, so clients can
/// always switch on `extensions.code`.
fn tag_uncoded(response: &mut async_graphql::Response, code: &str) {
    for err in &mut response.errors {
        let ext = err.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", code);
        }
    }
}

fn respond(
    response: async_graphql::Response,
    graphql_response: bool,
    request_error: bool,
) -> Response {
    let status = if graphql_response && request_error {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let content_type = if graphql_response {
        "application/graphql-response+json; charset=utf-8"
    } else {
        "application/json"
    };
    match serde_json::to_vec(&response) {
        Ok(body) => {
            let mut resp = (status, body).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            resp
        }
        Err(e) => HttpError::Internal(format!("serialising a response: {e}")).into_response(),
    }
}
