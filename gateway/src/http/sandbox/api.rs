//! The sandbox API the playground calls: create a seeded sandbox tenant of
//! one's own (with a sandbox key to come back with), and trade that key for
//! a fresh token. Answers are JSON; errors are `{"error": {code, message}}`.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use prep_auth::sandbox_keys::SandboxOwner;
use prep_auth::{users, Actor, Grant, Role, TokenSubject};
use prep_resolvers::audit::QueuedEvent;
use prep_resolvers::ids::NodeType;
use prep_tenancy::{NewTenant, SecurityEvent, TenantId, TenantSlug};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;

use crate::app::AppState;
use crate::http::authn::{client_ip, request_id};

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut resp = (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn internal(what: &str, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "{what}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal error; the request id identifies it",
    )
}

/// `POST /sandbox/api/tenants`: a new sandbox tenant, seeded with the demo
/// chain, a developer user who owns it, a sandbox key (shown once) and a
/// token. Free plan limits; limited per address.
pub async fn create(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if !app.settings.sandbox.enabled {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "the sandbox is not enabled here",
        );
    }
    let slug = match random_slug() {
        Ok(s) => s,
        Err(e) => return internal("sandbox slug", e),
    };
    let tenant = match app
        .db
        .create_tenant(&NewTenant {
            slug: slug.clone(),
            name: format!("Sandbox {}", &slug.as_str()[4..]),
            plan: "free".into(),
            is_sandbox: true,
        })
        .await
    {
        Ok(t) => t,
        Err(e) => return internal("creating a sandbox tenant", e),
    };
    let seeded = prep_sandbox::seed_tenant(
        &app.db,
        tenant,
        &prep_sandbox::SeedSpec::demo(),
        prep_resolvers::clock::today(),
    )
    .await;
    if let Err(e) = seeded {
        return internal("seeding a sandbox", e);
    }
    let email = format!("developer@{slug}.sandbox.prep.test");
    let key_ttl = chrono::Duration::days(i64::from(app.settings.sandbox.key_ttl_days));
    let issued = async {
        let mut tx = app.db.begin(tenant).await.map_err(|e| e.to_string())?;
        let user = users::ensure_user(&mut tx, &email, "Sandbox developer")
            .await
            .map_err(|e| e.to_string())?;
        let owner = Grant {
            role: Role::Owner,
            location: None,
        };
        users::grant_role(&mut tx, user, owner, "operator")
            .await
            .map_err(|e| e.to_string())?;
        let key = app
            .sandbox_keys
            .issue(&mut tx, user, Utc::now() + key_ttl)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((user, key))
    }
    .await;
    let (user, key) = match issued {
        Ok(v) => v,
        Err(e) => return internal("issuing a sandbox key", e),
    };
    let owner = SandboxOwner {
        tenant,
        tenant_slug: slug.to_string(),
        user,
    };
    app.audit.record(QueuedEvent {
        tenant,
        actor: Actor::System,
        action: "sandbox.create",
        target: (NodeType::Tenant, tenant.as_uuid()),
        request_id: Some(request_id(&headers)),
        details: json!({ "slug": slug.as_str() }),
    });
    let mut resp = match answer(&app, &owner).await {
        Ok(mut body) => {
            body["sandboxKey"] = json!(key);
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Err(resp) => return resp,
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `POST /sandbox/api/token`: a fresh token for the sandbox key's developer.
pub async fn token(
    State(app): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    if !app.settings.sandbox.enabled {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "the sandbox is not enabled here",
        );
    }
    let ip = client_ip(&app, &headers, &extensions);
    if let Some(wait) = app.governance.auth_blocked(ip) {
        let mut resp = error(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many failed attempts from this address; retry later",
        );
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        return resp;
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or_default();
    let owner = match app.sandbox_keys.authenticate(&app.db, presented).await {
        Ok(o) => o,
        Err(reason) => {
            app.governance.auth_failed(ip);
            app.security.record(SecurityEvent {
                kind: "sandbox_key_rejected",
                reason: format!("{reason:?}"),
                claimed_tenant: None,
                request_id: Some(request_id(&headers)),
                ip,
            });
            return error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "this sandbox key is not valid (expired, revoked, or not a sandbox key); create a new sandbox",
            );
        }
    };
    match answer(&app, &owner).await {
        Ok(body) => {
            let mut resp = Json(body).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(resp) => resp,
    }
}

/// The tenant and a token for the developer, with their current grants.
async fn answer(app: &AppState, owner: &SandboxOwner) -> Result<serde_json::Value, Response> {
    let ttl = Duration::from_secs(app.settings.sandbox.token_ttl_secs);
    let grants = grants(app, owner.tenant, owner.user)
        .await
        .map_err(|e| internal("reading a sandbox developer's grants", e))?;
    let token = app
        .tokens
        .issue(
            &TokenSubject {
                tenant: owner.tenant,
                tenant_slug: &owner.tenant_slug,
                user: owner.user,
                grants: &grants,
            },
            ttl,
        )
        .map_err(|e| internal("issuing a sandbox token", e))?;
    let expires = Utc::now() + chrono::Duration::seconds(i64::try_from(ttl.as_secs()).unwrap_or(0));
    Ok(json!({
        "tenant": {
            "id": prep_resolvers::ids::encode(NodeType::Tenant, owner.tenant.as_uuid()),
            "slug": owner.tenant_slug,
            "name": format!("Sandbox {}", owner.tenant_slug.trim_start_matches("sbx-")),
        },
        "token": token,
        "tokenExpiresAt": expires.to_rfc3339(),
    }))
}

async fn grants(app: &AppState, tenant: TenantId, user: uuid::Uuid) -> Result<Vec<Grant>, String> {
    let mut tx = app.db.begin(tenant).await.map_err(|e| e.to_string())?;
    let grants = users::grants_of(&mut tx, user)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(grants)
}

/// `sbx-` and ten random letters and digits.
fn random_slug() -> Result<TenantSlug, String> {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 10];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "the system random source failed".to_owned())?;
    let tail: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    TenantSlug::parse(&format!("sbx-{tail}"))
}
