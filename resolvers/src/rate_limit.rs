//! `rateLimit`: where the caller stands against its tenant's limits, as of
//! this request (after it was admitted and its requested cost spent).

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

pub use prep_auth::Budget;

/// The caller's standing.
#[derive(SimpleObject)]
pub struct RateLimit {
    /// The requested cost of this query, in points.
    pub cost: i64,
    /// The tenant's cost budget: the most points available at once.
    pub limit: i64,
    /// Points available now (after this query).
    pub remaining: i64,
    /// Points restored per second.
    pub restore_rate: i64,
    /// When the budget is full again at this rate.
    pub reset_at: DateTime<Utc>,
    /// The tenant's sustained request rate.
    pub requests_per_second: i64,
    /// Requests the tenant may still send at once.
    pub requests_remaining: i64,
}

/// Rate limit queries.
#[derive(Default)]
pub struct RateLimitQuery;

#[Object]
impl RateLimitQuery {
    /// Where the caller's tenant stands against its limits. The same
    /// figures come with every response in `extensions.cost` and the
    /// `RateLimit-*` headers.
    async fn rate_limit(&self, ctx: &Context<'_>) -> Result<Option<RateLimit>> {
        let Some(b) = ctx.data_opt::<Budget>() else {
            return Ok(None);
        };
        let missing = u64::from(b.maximum_available).saturating_sub(b.currently_available);
        let secs = missing as f64 / f64::from(b.restore_rate.max(1));
        Ok(Some(RateLimit {
            cost: b.requested_cost as i64,
            limit: i64::from(b.maximum_available),
            remaining: b.currently_available as i64,
            restore_rate: i64::from(b.restore_rate),
            reset_at: Utc::now() + chrono::Duration::milliseconds((secs * 1000.0).ceil() as i64),
            requests_per_second: i64::from(b.requests_per_second),
            requests_remaining: b.requests_remaining as i64,
        }))
    }
}
