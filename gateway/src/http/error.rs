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
        let body =
            json!({ "errors": [{ "message": self.to_string(), "extensions": { "code": code } }] });
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
            HttpError::IdempotencyKeyInFlight => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}
