//! The SCIM edge's plumbing: authentication by SCIM token, JSON bodies
//! within the size limit, and answers as `application/scim+json` with
//! SCIM error bodies (internal detail logged with the request id only).

use axum::body::{to_bytes, Body};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use prep_auth::scim::discovery::MAX_PAYLOAD;
use prep_auth::scim::{Resource, ScimClient, ScimError, ScimType};
use prep_tenancy::SecurityEvent;
use serde_json::Value;

use crate::app::AppState;
use crate::governance::{Admission, Refusal};
use crate::http::authn::{client_ip, request_id};
use crate::metrics::{AuthLabels, LimitLabels};

const SCIM_JSON: &str = "application/scim+json";

/// A request's answer or its SCIM error.
pub(super) type Answer = Result<Response, ScimError>;

pub(super) fn respond(answer: Answer, headers: &HeaderMap) -> Response {
    match answer {
        Ok(r) => r,
        Err(e) => error_response(&e, &request_id(headers)),
    }
}

pub(super) fn error_response(e: &ScimError, rid: &str) -> Response {
    if let ScimError::Internal(detail) = e {
        tracing::error!(request.id = %rid, error = %detail, "SCIM request failed");
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = json(status, &e.body());
    let h = resp.headers_mut();
    match e {
        ScimError::Unauthorized(_) => {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\""),
            );
        }
        ScimError::TooManyRequests(secs) => {
            h.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
        }
        ScimError::Unavailable(_) => {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        _ => {}
    }
    resp
}

pub(super) fn json(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    resp
}

pub(super) fn resource(status: StatusCode, r: Resource) -> Response {
    let location = r.doc["meta"]["location"].as_str().map(str::to_owned);
    let mut resp = json(status, &r.doc);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&r.version) {
        h.insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED {
        if let Some(v) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            h.insert(header::LOCATION, v);
        }
    }
    resp
}

/// An authenticated SCIM caller, admitted by its tenant's quotas (a SCIM
/// request costs one point), holding its place in the tenant's bulkhead.
pub(super) struct Caller {
    /// The tenant and token.
    pub client: ScimClient,
    _admission: Admission,
}

/// The client behind `Authorization: Bearer`; every refusal is counted and
/// kept as a security event (the reason only, never the token). Then the
/// tenant's rates, exactly as for GraphQL.
pub(super) async fn authenticate(app: &AppState, request: &Parts) -> Result<Caller, ScimError> {
    let ip = client_ip(app, &request.headers, &request.extensions);
    if let Some(wait) = app.governance.auth_blocked(ip) {
        return Err(ScimError::TooManyRequests(wait.as_secs().max(1)));
    }
    let client = identify(app, request).await.inspect_err(|e| {
        if matches!(e, ScimError::Unauthorized(_)) {
            app.governance.auth_failed(ip);
        }
    })?;
    let limits = app.governance.limits_of(&app.db, client.tenant).await;
    let credential = format!("s:{}", client.token_id);
    match app
        .governance
        .admit(client.tenant, &credential, &limits, 1)
        .await
    {
        Ok(admission) => Ok(Caller {
            client,
            _admission: admission,
        }),
        Err(Refusal::Limited(v)) => {
            let limit = v.denied.map_or("tenant_rate", |d| d.as_str());
            app.metrics
                .rate_limited
                .get_or_create(&LimitLabels {
                    limit,
                    tier: limits.tier,
                })
                .inc();
            Err(ScimError::TooManyRequests(
                v.retry_after.as_secs_f64().ceil().max(1.0) as u64,
            ))
        }
        Err(Refusal::Overloaded(o)) => Err(ScimError::Unavailable(o.0)),
    }
}

async fn identify(app: &AppState, request: &Parts) -> Result<ScimClient, ScimError> {
    let headers = &request.headers;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let result = match bearer {
        Some(token) => app.scim.authenticate(token).await,
        None => Err(ScimError::Unauthorized(
            "send the SCIM token as Authorization: Bearer <token>",
        )),
    };
    if let Err(ScimError::Unauthorized(reason)) = &result {
        app.metrics
            .auth_refusals
            .get_or_create(&AuthLabels {
                kind: "scim",
                reason,
            })
            .inc();
        app.security.record(SecurityEvent {
            kind: "scim_token_rejected",
            reason: (*reason).to_owned(),
            claimed_tenant: None,
            request_id: Some(request_id(headers)),
            ip: client_ip(app, &request.headers, &request.extensions),
        });
    }
    result
}

/// The JSON body, at most [`MAX_PAYLOAD`] bytes, as `application/scim+json`
/// or `application/json`.
pub(super) async fn body_json(parts: &Parts, body: Body) -> Result<Value, ScimError> {
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !media.is_empty() && media != SCIM_JSON && media != "application/json" {
        return Err(ScimError::bad(
            ScimType::InvalidSyntax,
            "send the body as application/scim+json",
        ));
    }
    let bytes = to_bytes(body, MAX_PAYLOAD)
        .await
        .map_err(|_| ScimError::PayloadTooLarge(MAX_PAYLOAD))?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ScimError::bad(
            ScimType::InvalidSyntax,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(ScimError::bad(
            ScimType::InvalidSyntax,
            "the body must be a JSON object",
        ));
    }
    Ok(value)
}

pub(super) fn if_match(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub(super) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}
