//! Per-address limits on the routes that come before authentication
//! (`/auth/*`, `/oauth/token`), with `tower_governor`.
//!
//! These are per replica (a quota for all addresses alike, kept in memory):
//! they blunt credential stuffing and login floods from one address, which
//! is all they are for; tenants' own limits are shared through Redis. The
//! address is the client's behind trusted proxies, like everywhere else;
//! idle addresses are forgotten on a timer (`retain_recent`).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use governor::middleware::NoOpMiddleware;
use prep_auth::connectors::cidr::Cidr;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

use super::authn::client_address;
use crate::metrics::LimitLabels;

/// The client address behind trusted proxies; requests without a known
/// peer (in-process tests) share one key.
#[derive(Clone, Debug)]
pub struct ClientIp(Arc<Vec<Cidr>>);

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<IpAddr, GovernorError> {
        Ok(client_address(&self.0, req.headers(), req.extensions())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
    }
}

/// The shared per-address state of the unauthenticated routes.
pub type PerIpConfig = Arc<GovernorConfig<ClientIp, NoOpMiddleware>>;

/// Builds the limiter (`per_second` sustained, `burst` at once) and starts
/// its sweeper.
pub fn config(proxies: &[Cidr], per_second: f64, burst: u32) -> Option<PerIpConfig> {
    let period = Duration::from_secs_f64(1.0 / per_second.max(0.000_1));
    let config = GovernorConfigBuilder::default()
        .period(period)
        .burst_size(burst.max(1))
        .key_extractor(ClientIp(Arc::new(proxies.to_vec())))
        .finish()?;
    let config = Arc::new(config);
    let limiter = Arc::clone(config.limiter());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    });
    Some(config)
}

/// The layer, answering refusals like every other 429 of the gateway.
pub fn layer(
    config: &PerIpConfig,
    refused: Family<LimitLabels, Counter>,
) -> GovernorLayer<ClientIp, NoOpMiddleware, Body> {
    GovernorLayer::new(Arc::clone(config)).error_handler(move |e| {
        let wait = match &e {
            GovernorError::TooManyRequests { wait_time, .. } => (*wait_time).max(1),
            _ => 1,
        };
        refused
            .get_or_create(&LimitLabels {
                limit: "address",
                tier: "none",
            })
            .inc();
        let body = serde_json::json!({ "errors": [{
            "message": "too many requests from this address; retry later",
            "extensions": { "code": "RATE_LIMITED", "retryAfter": wait }
        }] });
        let mut resp = Response::new(Body::from(body.to_string()));
        *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(header::RETRY_AFTER, HeaderValue::from(wait));
        resp
    })
}
