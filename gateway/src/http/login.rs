//! Browser sign-in: `/auth/login` (identifier first), `/auth/callback`,
//! `/auth/session`, `/auth/logout`, `/auth/logged-out`, and the gateway's
//! public keys at `/.well-known/jwks.json`.
//!
//! Browser flows answer with small HTML pages that say what happened and
//! what to do; API-style endpoints answer JSON.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prep_auth::sessions::{clear_session_cookie, cookie_value, session_cookie, SESSION_COOKIE};
use prep_auth::sso::{clear_login_cookie, Callback, LoginStart, SsoError, LOGIN_COOKIE};
use prep_auth::Actor;
use prep_tenancy::SecurityEvent;
use serde::Deserialize;

use super::authn::{client_ip, request_id, CSRF_HEADER};
use crate::app::AppState;
use crate::metrics::AuthLabels;

/// The gateway's public keys: cached by clients and subgraphs, never
/// limited per address.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

/// The sign-in routes (limited per address by the caller).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/session", get(session))
        .route("/auth/logout", post(logout))
        .route("/auth/logged-out", get(logged_out))
}

async fn jwks(State(app): State<AppState>) -> Response {
    let mut resp = app.tokens.keyring().jwks().to_string().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    // short enough that a planned rotation (published ahead) is seen in time
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

#[derive(Deserialize)]
struct LoginQuery {
    email: Option<String>,
    tenant: Option<String>,
    return_to: Option<String>,
}

async fn login(State(app): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    if q.email.is_none() && q.tenant.is_none() {
        return page(
            StatusCode::OK,
            "Sign in",
            "Enter your work e-mail address.",
            true,
        );
    }
    let start = LoginStart {
        email: q.email.as_deref(),
        tenant: q.tenant.as_deref(),
        return_to: q.return_to.as_deref(),
    };
    match app.sso.begin(start).await {
        Ok(redirect) => see_other(&redirect.url, &[redirect.set_cookie]),
        Err(e) => sso_failure(&app, e, None, ""),
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(app): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let ip = client_ip(&app, &headers, &extensions);
    let rid = request_id(&headers);
    let cookie = cookie(&headers, LOGIN_COOKIE);
    let cb = Callback {
        code: q.code.as_deref(),
        state: q.state.as_deref(),
        iss: q.iss.as_deref(),
        error: q.error.as_deref(),
    };
    match app.sso.complete(&app.sessions, cookie, cb, ip, &rid).await {
        Ok(signed_in) => {
            tracing::info!(tenant.id = %signed_in.tenant, created = signed_in.created, "signed in");
            let max_age = app.sessions.policy().absolute;
            see_other(
                &signed_in.return_to,
                &[
                    session_cookie(&signed_in.session.cookie_value, max_age),
                    clear_login_cookie(),
                ],
            )
        }
        Err(e) => sso_failure(&app, e, ip, &rid),
    }
}

async fn session(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let Some(active) = current_session(&app, &headers).await else {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "no active session",
        );
    };
    let Actor::User(user) = active.principal.actor else {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "no active session",
        );
    };
    let roles: Vec<String> = active
        .principal
        .access
        .grants()
        .iter()
        .map(|g| g.to_claim())
        .collect();
    Json(serde_json::json!({
        "tenantId": active.principal.tenant.as_uuid(),
        "userId": user,
        "roles": roles,
        "csrfToken": app.sessions.csrf_token(active.id),
        "expiresAt": active.absolute_expires_at,
    }))
    .into_response()
}

async fn logout(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(active) = current_session(&app, &headers).await else {
        return see_other("/auth/logged-out", &[clear_session_cookie()]);
    };
    let presented = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            url::form_urlencoded::parse(&body)
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v.into_owned())
        });
    if !presented.is_some_and(|t| app.sessions.csrf_matches(active.id, &t)) {
        return json_error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "logout needs the session's CSRF token (x-csrf-token header or csrf_token field)",
        );
    }
    let ended = async {
        let mut tx = app
            .db
            .begin(active.principal.tenant)
            .await
            .map_err(|e| e.to_string())?;
        app.sessions
            .end(&mut tx, &active, "logout", &request_id(&headers))
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())
    };
    if let Err(e) = ended.await {
        tracing::error!(error = %e, "ending a session failed");
        return page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-out failed",
            "We could not end your session because of a problem on our side. Please try again.",
            false,
        );
    }
    let next = match active.connection_id {
        Some(c) => app.sso.logout_url(active.principal.tenant, c).await,
        None => None,
    };
    see_other(
        next.as_deref().unwrap_or("/auth/logged-out"),
        &[clear_session_cookie()],
    )
}

async fn logged_out() -> Response {
    page(StatusCode::OK, "Signed out", "You are signed out.", false)
}

async fn current_session(app: &AppState, headers: &HeaderMap) -> Option<prep_auth::ActiveSession> {
    let value = cookie(headers, SESSION_COOKIE)?;
    match app.sessions.resolve(value).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "resolving a session failed");
            None
        }
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie_value(h, name))
}

fn sso_failure(app: &AppState, e: SsoError, ip: Option<std::net::IpAddr>, rid: &str) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    if status.is_server_error() {
        tracing::error!(kind = e.kind(), error = %e, "sign-in failed");
    } else {
        tracing::info!(kind = e.kind(), error = %e, "sign-in refused");
    }
    app.metrics
        .auth_refusals
        .get_or_create(&AuthLabels {
            kind: "sign_in",
            reason: e.kind(),
        })
        .inc();
    if e.is_security_event() {
        app.security.record(SecurityEvent {
            kind: "login_refused",
            reason: e.kind().to_owned(),
            claimed_tenant: None,
            request_id: Some(rid.to_owned()),
            ip,
        });
    }
    let mut resp = page(status, "Sign-in failed", &e.user_message(), false);
    if let Ok(v) = HeaderValue::from_str(&clear_login_cookie()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        h.insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

fn page(status: StatusCode, title: &str, message: &str, form: bool) -> Response {
    let form = if form {
        r#"<form method="get" action="/auth/login"><label>Work e-mail <input type="email" name="email" required autofocus></label> <button>Continue</button></form>"#
    } else {
        r#"<p><a href="/auth/login">Sign in</a></p>"#
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} · Prep</title>\
         <meta name=\"viewport\" content=\"width=device-width\"></head>\
         <body style=\"font-family:system-ui;max-width:32rem;margin:4rem auto\"><h1>{t}</h1><p>{m}</p>{form}</body></html>",
        t = escape(title),
        m = escape(message),
    );
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        ),
    );
    resp
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
