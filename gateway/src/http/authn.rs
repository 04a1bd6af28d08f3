//! Who is calling: a bearer token or a session cookie becomes a
//! [`Principal`] here, once per request, before any tenant work.
//!
//! A refused credential answers `UNAUTHENTICATED` with a fixed message (what
//! exactly was wrong is for the security log, not for whoever holds a forged
//! token) and is recorded as a security event.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{header, Extensions, HeaderMap};
use prep_auth::sessions::{cookie_value, SESSION_COOKIE};
use prep_auth::{Principal, Via};
use prep_tenancy::SecurityEvent;

use super::HttpError;
use crate::app::AppState;
use crate::metrics::AuthLabels;

/// The header a client may use to name the tenant it means; a credential of
/// another tenant is then refused.
pub const TENANT_HEADER: &str = "x-prep-tenant";
/// The header carrying a session's CSRF token on mutations.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The client address, when the server was started with connect info.
pub fn client_ip(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The request id set by the middleware.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Resolves the caller from `Authorization: Bearer` or the session cookie.
pub async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
) -> Result<Principal, HttpError> {
    let expected_tenant =
        match headers.get(TENANT_HEADER) {
            None => None,
            Some(v) => Some(v.to_str().ok().filter(|s| !s.is_empty()).ok_or(
                HttpError::BadRequest(format!(
                    "the {TENANT_HEADER} header must be a tenant slug or id"
                )),
            )?),
        };
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(HttpError::Unauthenticated(
                "the Authorization header must be `Bearer <token>`",
            ))?;
        return app
            .tokens
            .verify(token, expected_tenant)
            .await
            .map_err(|rejection| {
                app.metrics
                    .auth_refusals
                    .get_or_create(&AuthLabels {
                        kind: "bearer",
                        reason: rejection.reason.as_str(),
                    })
                    .inc();
                app.security.record(SecurityEvent {
                    kind: "token_rejected",
                    reason: rejection.reason.as_str().to_owned(),
                    claimed_tenant: rejection.claimed_tenant,
                    request_id: Some(request_id(headers)),
                    ip,
                });
                HttpError::Unauthenticated("the bearer token is invalid or expired")
            });
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie_value(h, SESSION_COOKIE));
    let Some(cookie) = cookie else {
        return Err(HttpError::Unauthenticated(
            "authentication required: send `Authorization: Bearer <token>` or sign in",
        ));
    };
    let session = app
        .sessions
        .resolve(cookie)
        .await
        .map_err(|e| HttpError::Internal(format!("resolving a session: {e}")))?
        .ok_or(HttpError::Unauthenticated(
            "the session has ended or is invalid; sign in again",
        ))?;
    if let Some(expected) = expected_tenant {
        if !names_tenant(app, expected, session.principal.tenant).await? {
            return Err(HttpError::Unauthenticated(
                "the session belongs to another tenant",
            ));
        }
    }
    Ok(session.principal)
}

/// Whether `expected` (a tenant id or slug) names `tenant`. A slug costs a
/// look-up; only session callers that send the header pay it.
async fn names_tenant(
    app: &AppState,
    expected: &str,
    tenant: prep_tenancy::TenantId,
) -> Result<bool, HttpError> {
    if let Ok(id) = expected.parse::<uuid::Uuid>() {
        return Ok(id == tenant.as_uuid());
    }
    let Ok(slug) = prep_tenancy::TenantSlug::parse(expected) else {
        return Ok(false);
    };
    let found = app
        .db
        .tenant_by_slug(&slug)
        .await
        .map_err(|e| HttpError::Internal(format!("tenant look-up: {e}")))?;
    Ok(found == Some(tenant))
}

/// Session callers must prove a mutation comes from our web app: a
/// cross-site form can ride the cookie (SameSite=Lax stops most, not all),
/// but cannot read or set `x-csrf-token`. Bearer callers need no proof.
pub fn check_csrf(
    app: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
) -> Result<(), HttpError> {
    let Via::Session(session) = principal.via else {
        return Ok(());
    };
    let presented = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if presented.is_some_and(|t| app.sessions.csrf_matches(session, t)) {
        Ok(())
    } else {
        Err(HttpError::Forbidden(
            "mutations over a session need the session's x-csrf-token header (from GET /auth/session)",
        ))
    }
}
