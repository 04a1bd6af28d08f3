//! The router and its middleware stack, built in one place.
//!
//! Outermost first:
//! 1. `SetRequestId`: an `x-request-id` for every request (kept if the
//!    client sent a sane one).
//! 2. `Trace`: one span per request carrying `request.id`, method and route;
//!    every log line of the request is inside it.
//! 3. `PropagateRequestId`: echoes the id in the response.
//! 4. `CatchPanic`: a panicking handler becomes a 500 with the standard
//!    error body, not a dropped connection.
//! 5. `Timeout`: the whole request, database work included, within
//!    `server.request_timeout_ms` (dropping the future rolls back its
//!    transaction), else 504.
//! 6. Metrics: count and time by matched route and status.
//! 7. Load shedding: the replica's in-flight ceiling (503 `OVERLOADED`
//!    after a short wait); probes and metrics pass.
//! 8. Routes. `/auth/*` and `/oauth/token` are limited per address
//!    (`per_ip`). Body size is enforced by the GraphQL handler itself so the
//!    413 carries a GraphQL-shaped error; tenants' rates, cost budgets and
//!    bulkheads are applied there, once the caller is known.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use std::sync::Arc;

use super::{graphql, health, per_ip, HttpError};
use crate::app::AppState;
use crate::metrics::{HttpLabels, OverloadLabels};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The gateway's router with its whole middleware stack.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route(
            "/graphql",
            post(graphql::execute).fallback(graphql::method_not_allowed),
        )
        .merge(unauthenticated(&state))
        .merge(super::login::public_routes())
        .merge(super::oauth::public_routes())
        .merge(super::scim::routes())
        .merge(super::sandbox::routes());
    edge(routes, state)
}

/// The router of `serve --subgraph platform`: the gateway's domains as a
/// standard federation subgraph behind another gateway, with the same
/// middleware, probes and metrics, and nothing else (no sign-in, SCIM,
/// OAuth or sandbox: those stay with the gateway).
pub fn subgraph_router(state: AppState, name: &str) -> Router {
    let routes = Router::new()
        .route(
            "/graphql",
            post(graphql::subgraph::execute).fallback(graphql::method_not_allowed),
        )
        .layer(axum::Extension(graphql::subgraph::Served::new(name)));
    edge(routes, state)
}

/// Probes, metrics and the middleware stack around `routes`.
fn edge(routes: Router<AppState>, state: AppState) -> Router {
    let timeout = Duration::from_millis(state.settings.server.request_timeout_ms);
    let routes = routes
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), shed_load))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .with_state(state);
    routes.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, SaneRequestId))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "request",
                    request.id = %id,
                    http.method = %req.method(),
                    http.route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or(req.uri().path()),
                    tenant.id = tracing::field::Empty,
                )
            }))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(CatchPanicLayer::custom(|_| {
                HttpError::Internal("a handler panicked".into()).into_response()
            }))
            .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, timeout)),
    )
}

/// The routes that come before authentication, limited per address
/// (sandbox creation far more strictly: it seeds a whole chain).
fn unauthenticated(state: &AppState) -> Router<AppState> {
    let routes = super::login::routes().merge(super::oauth::routes());
    let routes = match &state.per_ip {
        Some(config) => routes.layer(per_ip::layer(config, state.metrics.rate_limited.clone())),
        None => routes,
    };
    let creation = super::sandbox::creation_routes();
    let creation = match &state.sandbox_creations {
        Some(config) => creation.layer(per_ip::layer(config, state.metrics.rate_limited.clone())),
        None => creation,
    };
    routes.merge(creation)
}

/// The replica's in-flight ceiling: beyond it a request waits briefly for a
/// place, then is refused fast (503 `OVERLOADED`) rather than queueing
/// without bound. Probes and metrics are never shed.
async fn shed_load(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(request.uri().path(), "/healthz" | "/readyz" | "/metrics") {
        return next.run(request).await;
    }
    let gate = Arc::clone(&app.governance.in_flight);
    let permit = match gate.clone().try_acquire_owned() {
        Ok(p) => p,
        Err(_) => match tokio::time::timeout(app.governance.wait, gate.acquire_owned()).await {
            Ok(Ok(p)) => p,
            _ => {
                app.metrics
                    .overloaded
                    .get_or_create(&OverloadLabels { reason: "replica" })
                    .inc();
                return HttpError::Overloaded("the gateway is at capacity").into_response();
            }
        },
    };
    let response = next.run(request).await;
    drop(permit);
    response
}

/// Keeps a client's request id when it is short and printable, otherwise
/// makes a UUID: ids end up in logs and audit rows.
#[derive(Clone, Copy)]
struct SaneRequestId;

impl tower_http::request_id::MakeRequestId for SaneRequestId {
    fn make_request_id<B>(&mut self, request: &axum::http::Request<B>) -> Option<RequestId> {
        let given = request.headers().get(REQUEST_ID).filter(|v| {
            let b = v.as_bytes();
            !b.is_empty()
                && b.len() <= 128
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(c))
        });
        match given {
            Some(v) => Some(RequestId::new(v.clone())),
            None => MakeRequestUuid.make_request_id(request),
        }
    }
}

async fn not_found() -> Response {
    let body = serde_json::json!({ "errors": [{ "message": "no such route", "extensions": { "code": "NOT_FOUND" } }] });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

async fn record_metrics(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let mut response = next.run(request).await;
    let labels = HttpLabels {
        route,
        method,
        status: response.status().as_u16(),
    };
    app.metrics.http_requests.get_or_create(&labels).inc();
    app.metrics
        .http_duration
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    if app.is_draining() {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
    }
    response
}
