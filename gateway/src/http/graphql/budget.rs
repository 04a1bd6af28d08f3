//! Telling clients where they stand: `RateLimit-*` headers on every
//! response, `extensions.cost` in the manner of Shopify's calculated query
//! cost, and the refusals before execution.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use prep_tenancy::quotas::{Denied, Verdict};
use serde_json::json;

use super::response::{respond, tag_uncoded};
use crate::app::AppState;
use crate::metrics::{LimitLabels, OverloadLabels};

/// A request refused by a rate or the cost budget.
#[derive(Debug)]
pub struct Throttled {
    /// What the quotas said.
    pub verdict: Verdict,
    /// The operation's requested cost.
    pub requested_cost: u64,
}

impl Throttled {
    /// Seconds to wait, rounded up (never 0: a client must not spin).
    pub fn retry_after_secs(&self) -> u64 {
        self.verdict.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }

    /// The GraphQL error body of the 429.
    pub fn body(&self) -> serde_json::Value {
        let v = &self.verdict;
        let (limit, message) = match v.denied {
            Some(Denied::CredentialRate) => (
                "credential_rate",
                "this credential is sending requests faster than its limit allows",
            ),
            Some(Denied::Cost) => (
                "cost",
                "the tenant's query cost budget is spent; it refills at its restore rate",
            ),
            _ => (
                "tenant_rate",
                "the tenant is sending requests faster than its limit allows",
            ),
        };
        json!({
            "errors": [{
                "message": message,
                "extensions": {
                    "code": "RATE_LIMITED",
                    "limit": limit,
                    "retryAfter": v.retry_after.as_secs_f64(),
                }
            }],
            "extensions": { "cost": cost_value(self.requested_cost, None, v) }
        })
    }
}

/// `RateLimit-*` headers (the IETF draft's names) for the tenant's rate.
pub fn rate_headers(h: &mut HeaderMap, v: &Verdict) {
    let reset = v.rate_reset.as_secs_f64().ceil() as u64;
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            h.insert(name, value);
        }
    };
    set("ratelimit-limit", v.rate_limit.to_string());
    set("ratelimit-remaining", v.rate_remaining.to_string());
    set("ratelimit-reset", reset.to_string());
    set("ratelimit-policy", format!("{};w=1", v.rate_limit));
}

fn cost_value(requested: u64, actual: Option<u64>, v: &Verdict) -> serde_json::Value {
    json!({
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": v.cost_maximum,
            "currentlyAvailable": v.cost_available.floor() as u64,
            "restoreRate": v.cost_restore_rate,
        }
    })
}

/// Adds `extensions.cost`. The points the execution did not use are given
/// back, so `currentlyAvailable` counts them.
pub fn cost_extension(
    response: &mut async_graphql::Response,
    requested: u64,
    actual: u64,
    verdict: &Verdict,
) {
    let mut v = *verdict;
    v.cost_available =
        (v.cost_available + requested.saturating_sub(actual) as f64).min(f64::from(v.cost_maximum));
    if let Ok(value) = async_graphql::Value::from_json(cost_value(requested, Some(actual), &v)) {
        response.extensions.insert("cost".into(), value);
    }
}

/// A GraphQL error answered before execution (too costly, too deep, ...),
/// with the status the spec gives request errors.
/// `requested_cost`, when known, goes into `extensions.cost` (nothing ran,
/// so nothing was charged), so a client sees how far over it was.
pub fn refused_before_execution(
    code: &str,
    message: &str,
    requested_cost: Option<u64>,
    graphql_response: bool,
) -> Response {
    let mut response =
        async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(message, None)]);
    tag_uncoded(&mut response, code);
    if let Some(requested) = requested_cost {
        let mut cost = async_graphql::indexmap::IndexMap::new();
        cost.insert(
            async_graphql::Name::new("requestedQueryCost"),
            async_graphql::Value::from(requested),
        );
        cost.insert(
            async_graphql::Name::new("actualQueryCost"),
            async_graphql::Value::from(0u64),
        );
        response = response.extension("cost", async_graphql::Value::Object(cost));
    }
    respond(response, graphql_response, true)
}

/// Whether an error of the response says the tenant's share of the pool
/// was full.
pub fn overloaded(response: &async_graphql::Response) -> bool {
    response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == async_graphql::Value::from("OVERLOADED"))
    })
}

/// Counts a refusal by limit and tier.
pub fn count_refusal(app: &AppState, v: &Verdict, tier: &'static str) {
    let limit = v.denied.map_or("tenant_rate", Denied::as_str);
    app.metrics
        .rate_limited
        .get_or_create(&LimitLabels { limit, tier })
        .inc();
}

/// Labels of an overload refusal.
pub fn overload_labels(reason: &'static str) -> OverloadLabels {
    OverloadLabels { reason }
}
