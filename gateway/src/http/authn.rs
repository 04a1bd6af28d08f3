//! Who is calling: a bearer token or a session cookie becomes a
//! [`Principal`] here, once per request, before any tenant work.
//!
//! A refused credential answers `UNAUTHENTICATED` with a fixed message (what
//! exactly was wrong is for the security log, not for whoever holds a forged
//! token) and is recorded as a security event.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{header, Extensions, HeaderMap, HeaderValue};
use prep_auth::connectors::{apikey, KeyRefusal, Refused};
use prep_auth::sessions::{cookie_value, SESSION_COOKIE};
use prep_auth::{Actor, Principal, TokenRejection, Via};
use prep_resolvers::audit::QueuedEvent;
use prep_resolvers::ids::NodeType;
use prep_tenancy::SecurityEvent;

use super::HttpError;
use crate::app::AppState;
use crate::metrics::AuthLabels;

/// The header a client may use to name the tenant it means; a credential of
/// another tenant is then refused.
pub const TENANT_HEADER: &str = "x-prep-tenant";
/// The header carrying a session's CSRF token on mutations.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The header connectors that can set only one custom header may use for
/// their API key instead of `Authorization`.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The client's address: the peer's, or, when the peer is a trusted proxy,
/// the last address in `X-Forwarded-For` that no trusted proxy added (a
/// client can prepend anything it likes; it cannot append past the proxy).
pub fn client_ip(app: &AppState, headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
    client_address(&app.trusted_proxies, headers, extensions)
}

/// [`client_ip`] for code that has the trusted proxies but not the app.
pub fn client_address(
    proxies: &[prep_auth::connectors::cidr::Cidr],
    headers: &HeaderMap,
    extensions: &Extensions,
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_canonical())?;
    let trusted = |ip: IpAddr| proxies.iter().any(|c| c.contains(ip));
    if !trusted(peer) {
        return Some(peer);
    }
    // rightmost first: each trusted hop appended the address it saw
    let mut client = peer;
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in hops.into_iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break; // unreadable: nothing left of it can be believed
        };
        client = ip.to_canonical();
        if !trusted(client) {
            break;
        }
    }
    Some(client)
}

/// The request id set by the middleware.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The token of an `Authorization: Bearer <token>` value (either case of
/// the scheme), if that is what it is.
pub fn bearer(value: &HeaderValue) -> Option<&str> {
    value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Counts a refused token (`kind` as the metric label, `event` as the
/// security log's kind) and writes it to the security log; the token
/// itself never appears.
pub fn record_refusal(
    app: &AppState,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
    (kind, event): (&'static str, &'static str),
    rejection: &TokenRejection,
) {
    app.metrics
        .auth_refusals
        .get_or_create(&AuthLabels {
            kind,
            reason: rejection.reason.as_str(),
        })
        .inc();
    app.security.record(SecurityEvent {
        kind: event,
        reason: rejection.reason.as_str().to_owned(),
        claimed_tenant: rejection.claimed_tenant,
        request_id: Some(request_id(headers)),
        ip,
    });
}

/// Resolves the caller from an API key (`Authorization: Bearer prep_live_…`
/// or `X-API-Key`), a gateway token (`Authorization: Bearer`), or the
/// session cookie.
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
    if let Some(value) = headers.get(API_KEY_HEADER) {
        let key = value.to_str().unwrap_or_default().trim();
        return authenticate_key(app, headers, key, ip, expected_tenant).await;
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = bearer(value).ok_or(HttpError::Unauthenticated(
            "the Authorization header must be `Bearer <token>`",
        ))?;
        if apikey::looks_like_key(token) {
            return authenticate_key(app, headers, token, ip, expected_tenant).await;
        }
        let principal = app
            .tokens
            .verify(token, expected_tenant)
            .await
            .map_err(|rejection| {
                record_refusal(app, headers, ip, ("bearer", "token_rejected"), &rejection);
                HttpError::Unauthenticated("the bearer token is invalid or expired")
            })?;
        return match (principal.via, principal.access.scopes()) {
            (Via::ConnectorToken(key), Some(scopes)) => app
                .connectors
                .confirm_token(key, scopes, ip)
                .await
                .map_err(|refused| refuse_connector(app, headers, ip, refused)),
            _ => Ok(principal),
        };
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

/// A connector's API key, checked without a database round trip when the
/// key was seen recently.
async fn authenticate_key(
    app: &AppState,
    headers: &HeaderMap,
    key: &str,
    ip: Option<IpAddr>,
    expected_tenant: Option<&str>,
) -> Result<Principal, HttpError> {
    app.connectors
        .authenticate_key(key, ip, expected_tenant)
        .await
        .map_err(|refused| refuse_connector(app, headers, ip, refused))
}

/// Records a refused connector credential (security log, metrics, and the
/// key's tenant's audit trail when the key was a real one) and says no. A
/// request from outside the connector's address ranges is `FORBIDDEN`; any
/// other refusal is the same `UNAUTHENTICATED` whatever its reason.
pub fn refuse_connector(
    app: &AppState,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
    refused: Refused,
) -> HttpError {
    let reason = refused.reason.as_str();
    app.metrics
        .auth_refusals
        .get_or_create(&AuthLabels {
            kind: "connector",
            reason,
        })
        .inc();
    let request_id = request_id(headers);
    app.security.record(SecurityEvent {
        kind: "connector_key_rejected",
        reason: reason.to_owned(),
        claimed_tenant: refused.tenant.map(|t| t.as_uuid()),
        request_id: Some(request_id.clone()),
        ip,
    });
    if let (Some(tenant), Some(connector)) = (refused.tenant, refused.connector) {
        app.audit.record(QueuedEvent {
            tenant,
            actor: Actor::Connector(connector),
            action: "connector.denied",
            target: (NodeType::Connector, connector),
            request_id: Some(request_id),
            details: serde_json::json!({ "reason": reason, "ip": ip.map(|i| i.to_string()) }),
        });
    }
    if refused.reason == KeyRefusal::SourceAddress {
        HttpError::Forbidden("this connector may not be used from this address")
    } else {
        HttpError::Unauthenticated("the API key is invalid, expired or revoked")
    }
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
