//! Liveness, readiness and metrics endpoints for operators.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::app::AppState;

/// The process is up.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// The gateway can serve: PostgreSQL answers and it is not draining.
pub async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    if app.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "draining" })),
        );
    }
    let database = match tokio::time::timeout(Duration::from_secs(2), app.db.ping()).await {
        Ok(Ok(())) => "up",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database check failed");
            "down"
        }
        Err(_) => "timeout",
    };
    let status = if database == "up" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = if status == StatusCode::OK {
        "ready"
    } else {
        "unavailable"
    };
    (
        status,
        Json(json!({ "status": word, "checks": { "database": database } })),
    )
}

/// Prometheus text exposition.
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics
            .render(&app.db, app.security.dropped(), &app.governance.quotas),
    )
}
