//! Building GraphQL responses: content types and statuses per the
//! GraphQL-over-HTTP spec, error codes, replays, and `extensions.cost`.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::super::{idempotency, HttpError};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

pub(super) fn require_json(headers: &HeaderMap) -> Result<(), HttpError> {
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

/// The whole body, at most `limit` bytes (else 413).
pub(super) async fn read_body(
    body: axum::body::Body,
    limit: usize,
) -> Result<axum::body::Bytes, HttpError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
        {
            HttpError::PayloadTooLarge(limit)
        } else {
            HttpError::BadRequest("the request body could not be read".into())
        }
    })
}

pub(super) fn accepts_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains(GRAPHQL_RESPONSE))
}

/// The operation the request runs: the only one, or the one named.
fn selected_operation<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

pub(super) fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> &'static str {
    match selected_operation(doc, name).map(|op| op.ty) {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "invalid",
    }
}

/// Whether the operation is a query whose root selections are all fields
/// named in `fields` (no fragment at the root: a spread's fields would
/// not be seen here).
pub(super) fn queries_only(doc: &ExecutableDocument, name: Option<&str>, fields: &[&str]) -> bool {
    selected_operation(doc, name).is_some_and(|op| {
        op.ty == OperationType::Query
            && op.selection_set.node.items.iter().all(|s| {
                matches!(&s.node, Selection::Field(f) if fields.contains(&f.node.name.node.as_str()))
            })
    })
}

/// Codes every error (a request error is a validation failure, anything
/// else uncoded is bad input); says whether it was a request error.
pub(super) fn tag_all(response: &mut async_graphql::Response) -> bool {
    let request_error = response.data == async_graphql::Value::Null && !response.errors.is_empty();
    if request_error {
        tag_uncoded(response, "GRAPHQL_VALIDATION_FAILED");
    } else {
        tag_uncoded(response, "BAD_USER_INPUT");
    }
    request_error
}

/// A stored response, replayed for a retried idempotent mutation.
pub(super) fn replay(body: Vec<u8>, graphql_response: bool) -> Response {
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
pub(super) fn tag_uncoded(response: &mut async_graphql::Response, code: &str) {
    for err in &mut response.errors {
        let ext = err.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", code);
        }
    }
}

pub(super) fn respond(
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
