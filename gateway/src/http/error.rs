//! Errors at the HTTP edge, answered in the GraphQL error shape with a
//! stable `extensions.code`. Internal detail is logged (with the request id
//! from the span), never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why a request was refused before (or instead of) GraphQL execution.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No usable credentials.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but this request is not allowed (e.g. a session
    /// mutation without its CSRF token).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The body is not what the endpoint takes.
    #[error("{0}")]
    BadRequest(String),
    /// The content type is not `application/json`.
    #[error("requests must be sent as application/json")]
    UnsupportedMediaType,
    /// The body is larger than allowed.
    #[error("the request body exceeds {0} bytes")]
    PayloadTooLarge(usize),
    /// The method is not served here.
    #[error("use POST for GraphQL requests")]
    MethodNotAllowed,
    /// The `Idempotency-Key` was used for a different request.
    #[error("this Idempotency-Key was used for a different request (caller, document, operation or variables); use a new key")]
    IdempotencyKeyReused,
    /// A request with this `Idempotency-Key` is being processed.
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    IdempotencyKeyInFlight,
    /// A rate or the cost budget of the tenant refused the request.
    #[error("rate limited")]
    RateLimited(Box<super::graphql::Throttled>),
    /// A bulkhead was full: the tenant's operations, its share of the
    /// database pool, or this replica.
    #[error("{0}; retry shortly")]
    Overloaded(&'static str),
    /// The address failed authentication too often; refused for a while.
    #[error("too many failed authentications from this address; retry later")]
    AddressBlocked(std::time::Duration),
    /// A document refused before parsing (size, tokens).
    #[error("{0}")]
    Armour(prep_schema::armour::ArmourError),
    /// Our fault: logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl HttpError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            HttpError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            HttpError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            HttpError::BadRequest(_) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            HttpError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
            }
            HttpError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            HttpError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
            HttpError::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED")
            }
            HttpError::IdempotencyKeyInFlight => {
                (StatusCode::CONFLICT, "IDEMPOTENCY_KEY_IN_FLIGHT")
            }
            HttpError::RateLimited(_) | HttpError::AddressBlocked(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED")
            }
            HttpError::Overloaded(_) => (StatusCode::SERVICE_UNAVAILABLE, "OVERLOADED"),
            HttpError::Armour(e) => match e {
                prep_schema::armour::ArmourError::DocumentTooLarge(..)
                | prep_schema::armour::ArmourError::VariablesTooLarge(..) => {
                    (StatusCode::PAYLOAD_TOO_LARGE, e.code())
                }
                _ => (StatusCode::BAD_REQUEST, e.code()),
            },
            HttpError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if let HttpError::Internal(detail) = &self {
            tracing::error!(error = %detail, "request failed");
        }
        let (status, code) = self.status_and_code();
        let body = match &self {
            HttpError::RateLimited(t) => t.body(),
            _ => {
                json!({ "errors": [{ "message": self.to_string(), "extensions": { "code": code } }] })
            }
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            HttpError::Unauthenticated(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"prep\""),
                );
            }
            HttpError::MethodNotAllowed => {
                headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            HttpError::IdempotencyKeyInFlight | HttpError::Overloaded(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            HttpError::RateLimited(t) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(t.retry_after_secs()));
                super::graphql::rate_headers(headers, &t.verdict);
            }
            HttpError::AddressBlocked(wait) => {
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            _ => {}
        }
        response
    }
}
