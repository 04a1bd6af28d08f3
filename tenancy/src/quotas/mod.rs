//! Per-tenant quotas: request rates (per tenant and per credential) and the
//! query cost budget, shared by every replica through Redis; and bulkheads
//! (concurrent operations, database share) per replica.
//!
//! One Redis round trip per request: a Lua script checks the tenant's rate,
//! the credential's rate and the cost bucket atomically, and spends nothing
//! unless all three admit the request. Keys of one tenant share a hash tag,
//! so the script runs on one Redis Cluster slot. When Redis does not answer
//! within its timeout, the replica falls back to limits of its own (each
//! replica enforcing its share, `1/replicas` of every limit), counts it,
//! logs it once, and probes Redis every second until it answers again: never
//! unbounded, never a 5xx because Redis is down.

mod bulkhead;
mod gcra;
mod limits;
mod local;
mod store;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use bulkhead::{Bulkheads, Overloaded, TenantPermit};
pub use limits::{TierLimits, Tiers};
pub use store::RedisSettings;

use crate::TenantId;
use gcra::{Bucket, Rate};

/// One request's claim on its tenant's quotas.
#[derive(Clone, Copy, Debug)]
pub struct Ask<'a> {
    /// The tenant.
    pub tenant: TenantId,
    /// The credential (`u:<user>`, `c:<connector>`, `s:<scim token>`).
    pub credential: &'a str,
    /// The tenant's limits.
    pub limits: &'a TierLimits,
    /// The operation's requested cost in points.
    pub cost: u64,
}

/// Which limit refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// The tenant's request rate.
    TenantRate,
    /// The credential's request rate.
    CredentialRate,
    /// The tenant's query cost budget.
    Cost,
}

impl Denied {
    /// A stable name for metrics and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Denied::TenantRate => "tenant_rate",
            Denied::CredentialRate => "credential_rate",
            Denied::Cost => "cost",
        }
    }
}

/// Where a verdict was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Redis, shared by every replica.
    Shared,
    /// This replica alone (Redis unreachable).
    Local,
}

/// The answer to an [`Ask`], with what clients are told of their standing.
#[derive(Clone, Copy, Debug)]
pub struct Verdict {
    /// `None` when admitted.
    pub denied: Option<Denied>,
    /// Wait before retrying (zero when admitted).
    pub retry_after: Duration,
    /// The tenant's sustained rate, requests per second.
    pub rate_limit: u32,
    /// Requests the tenant may still send at once.
    pub rate_remaining: u64,
    /// Time until the tenant's rate is back to its full burst.
    pub rate_reset: Duration,
    /// Points left in the cost bucket (after this request, when admitted).
    pub cost_available: f64,
    /// Size of the cost bucket.
    pub cost_maximum: u32,
    /// Points restored per second.
    pub cost_restore_rate: u32,
    /// Where it was decided.
    pub source: Source,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct QuotaStats {
    /// Checks decided by Redis.
    pub shared_checks: AtomicU64,
    /// Checks decided locally (fallback).
    pub local_checks: AtomicU64,
    /// Redis calls that failed or timed out.
    pub redis_failures: AtomicU64,
}

/// The quotas of every tenant, as seen by one replica.
pub struct Quotas {
    redis: Option<store::RedisStore>,
    local: local::LocalStore,
    degraded: Arc<AtomicBool>,
    probing: Arc<AtomicBool>,
    stats: Arc<QuotaStats>,
    /// Points to give back on the tenant's next check: the requested cost
    /// is spent up front, and what execution did not use is refunded
    /// without a round trip of its own.
    refunds: Mutex<HashMap<TenantId, f64>>,
}

impl Quotas {
    /// Quotas over Redis (`None`: this replica's own limits only, for
    /// development), each replica's fallback share being `1/replicas`.
    pub fn new(redis: Option<&RedisSettings>, replicas: u32) -> Result<Self, String> {
        let redis = redis.map(store::RedisStore::new).transpose()?;
        Ok(Self {
            redis,
            local: local::LocalStore::new(replicas.max(1)),
            degraded: Arc::new(AtomicBool::new(false)),
            probing: Arc::new(AtomicBool::new(false)),
            stats: Arc::new(QuotaStats::default()),
            refunds: Mutex::new(HashMap::new()),
        })
    }

    /// Counters for `/metrics`.
    pub fn stats(&self) -> &QuotaStats {
        &self.stats
    }

    /// Whether checks are being decided locally because Redis is away.
    pub fn degraded(&self) -> bool {
        self.redis.is_none() || self.degraded.load(Ordering::Relaxed)
    }

    /// Checks and, when admitted, spends the request's share of its
    /// tenant's quotas.
    pub async fn check(&self, ask: Ask<'_>) -> Verdict {
        let refund = self
            .refunds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&ask.tenant)
            .unwrap_or(0.0);
        let l = ask.limits;
        let tenant_rate = Rate::new(f64::from(l.requests_per_second), u64::from(l.burst));
        let credential_rate = Rate::new(
            f64::from(l.credential_requests_per_second),
            u64::from(l.credential_burst),
        );
        let bucket = Bucket {
            maximum: f64::from(l.cost_maximum),
            per_second: f64::from(l.cost_restore_rate),
        };
        let plan = store::Plan {
            tenant_rate,
            credential_rate,
            bucket,
            cost: ask.cost as f64,
            refund,
        };
        if let (Some(redis), false) = (&self.redis, self.degraded.load(Ordering::Relaxed)) {
            match redis.check(ask.tenant, ask.credential, &plan).await {
                Ok(raw) => {
                    self.stats.shared_checks.fetch_add(1, Ordering::Relaxed);
                    return raw.verdict(l, Source::Shared);
                }
                Err(e) => {
                    self.stats.redis_failures.fetch_add(1, Ordering::Relaxed);
                    if !self.degraded.swap(true, Ordering::Relaxed) {
                        tracing::warn!(error = %e, "rate limiter: Redis unreachable; limiting on this replica alone until it answers");
                    }
                    self.probe(redis.clone());
                }
            }
        }
        self.stats.local_checks.fetch_add(1, Ordering::Relaxed);
        self.local
            .check(ask.tenant, ask.credential, &plan)
            .verdict(l, Source::Local)
    }

    /// Gives back points an admitted request did not use; they count on
    /// the tenant's next check.
    pub fn refund(&self, tenant: TenantId, points: u64) {
        if points == 0 {
            return;
        }
        let mut refunds = self.refunds.lock().unwrap_or_else(|e| e.into_inner());
        if refunds.len() > 100_000 {
            refunds.clear();
        }
        *refunds.entry(tenant).or_default() += points as f64;
    }

    /// Probes Redis every second until it answers, then resumes shared
    /// limits (one probe task at a time).
    fn probe(&self, redis: store::RedisStore) {
        if self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let (degraded, probing) = (Arc::clone(&self.degraded), Arc::clone(&self.probing));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if redis.ping().await.is_ok() {
                    degraded.store(false, Ordering::Relaxed);
                    probing.store(false, Ordering::Release);
                    tracing::info!(
                        "rate limiter: Redis answers again; limits are shared across replicas"
                    );
                    return;
                }
            }
        });
    }
}
