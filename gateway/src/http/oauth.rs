//! `POST /oauth/token`: the OAuth2 client credentials grant (RFC 6749
//! §4.4) for connectors, with `client_secret_basic` and
//! `client_secret_post`; and its metadata (RFC 8414).
//!
//! The answer is a short-lived gateway token (RFC 9068 claims: `client_id`,
//! `scope`) whose scope is the granted subset the client asked for. Errors
//! are RFC 6749 §5.2 JSON; a failed client authentication says nothing
//! about why (that goes to the security log and the tenant's audit trail).

use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use prep_auth::connectors::{OAuthError, ScopeSet};
use prep_auth::ConnectorSubject;
use serde_json::json;

use super::authn::{client_ip, refuse_connector};
use super::HttpError;
use crate::app::AppState;

/// Largest token request body: a few short parameters.
const BODY_LIMIT: usize = 8 * 1024;

/// The token endpoint (limited per address by the caller).
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/oauth/token",
        post(token).fallback(|| async { HttpError::MethodNotAllowed }),
    )
}

/// The endpoint's metadata.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/.well-known/oauth-authorization-server", get(metadata))
}

/// The parameters of a token request, each at most once.
#[derive(Default)]
struct Params {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

async fn token(
    State(app): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Body,
) -> Response {
    let ip = client_ip(&app, &headers, &extensions);
    if let Some(wait) = app.governance.auth_blocked(ip) {
        return HttpError::AddressBlocked(wait).into_response();
    }
    let params = match read(&headers, body).await {
        Ok(p) => p,
        Err(e) => return error(&e),
    };
    let (client_id, client_secret) = match client(&headers, &params) {
        Ok(c) => c,
        Err(e) => return error(&e),
    };
    let grant_type = params.grant_type.as_deref().unwrap_or_default();
    if grant_type.is_empty() {
        return error(&OAuthError::InvalidRequest("grant_type is missing".into()));
    }
    let grant = app
        .connectors
        .client_credentials(
            grant_type,
            &client_id,
            &client_secret,
            params.scope.as_deref(),
            ip,
        )
        .await;
    let grant = match grant {
        Ok(g) => g,
        Err(OAuthError::InvalidClient(refused)) => {
            let _ = refuse_connector(&app, &headers, ip, refused);
            app.governance.auth_failed(ip);
            return error(&OAuthError::InvalidClient(refused));
        }
        Err(e) => return error(&e),
    };
    let ttl = Duration::from_secs(app.settings.auth.connector_token_ttl_secs);
    let subject = ConnectorSubject {
        tenant: grant.key.tenant,
        tenant_slug: &grant.key.tenant_slug,
        connector: grant.key.connector_id,
        key: grant.key.key_id,
        scopes: grant.scopes,
    };
    match app.tokens.issue_connector(&subject, ttl) {
        Ok(access_token) => {
            let body = json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": ttl.as_secs(),
                "scope": grant.scopes.to_string(),
            });
            no_store((StatusCode::OK, Json(body)).into_response())
        }
        Err(e) => HttpError::Internal(format!("issuing a connector token: {e}")).into_response(),
    }
}

/// Reads a form-encoded body, refusing repeated parameters.
async fn read(headers: &HeaderMap, body: Body) -> Result<Params, OAuthError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err(OAuthError::InvalidRequest(
            "send the parameters as application/x-www-form-urlencoded".into(),
        ));
    }
    let bytes = to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        OAuthError::InvalidRequest(format!("the request body exceeds {BODY_LIMIT} bytes"))
    })?;
    let mut p = Params::default();
    for (name, value) in url::form_urlencoded::parse(&bytes) {
        let slot = match name.as_ref() {
            "grant_type" => &mut p.grant_type,
            "client_id" => &mut p.client_id,
            "client_secret" => &mut p.client_secret,
            "scope" => &mut p.scope,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(OAuthError::InvalidRequest(format!(
                "the parameter {name} is repeated"
            )));
        }
    }
    Ok(p)
}

/// The client's credentials: HTTP Basic (`client_secret_basic`, each part
/// form-encoded as RFC 6749 §2.3.1 says) or the body (`client_secret_post`),
/// never both.
fn client(headers: &HeaderMap, p: &Params) -> Result<(String, String), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    match (basic, &p.client_id, &p.client_secret) {
        (Some(_), _, Some(_)) => Err(OAuthError::InvalidRequest(
            "use one client authentication method, not both".into(),
        )),
        (Some(b64), _, None) => {
            let bad = || OAuthError::InvalidRequest("the Basic credentials are malformed".into());
            let raw = STANDARD.decode(b64.trim()).map_err(|_| bad())?;
            let text = String::from_utf8(raw).map_err(|_| bad())?;
            let (id, secret) = text.split_once(':').ok_or_else(bad)?;
            let decode = |s: &str| -> String {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            let (id, secret) = (decode(id), decode(secret));
            if p.client_id.as_deref().is_some_and(|c| c != id) {
                return Err(OAuthError::InvalidRequest(
                    "client_id differs from the Basic credentials".into(),
                ));
            }
            Ok((id, secret))
        }
        (None, Some(id), Some(secret)) => Ok((id.clone(), secret.clone())),
        (None, _, _) => Err(OAuthError::InvalidRequest(
            "authenticate the client with HTTP Basic or client_id and client_secret".into(),
        )),
    }
}

fn error(e: &OAuthError) -> Response {
    let status = match e {
        OAuthError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = json!({ "error": e.code(), "error_description": e.description() });
    let mut resp = no_store((status, Json(body)).into_response());
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"prep\""),
        );
    }
    resp
}

fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// RFC 8414 metadata, so client libraries can discover the endpoint.
async fn metadata(State(app): State<AppState>) -> Response {
    let issuer = app.settings.server.public_url.trim_end_matches('/');
    let scopes: Vec<String> = ScopeSet::vocabulary().map(|p| p.to_string()).collect();
    let body = json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/oauth/token"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": scopes,
        "response_types_supported": [],
    });
    let mut resp = Json(body).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}
