//! Traffic governance, wired: each tenant's limits (its plan's tier with the
//! operator's overrides), the shared quotas, the bulkheads, the replica's
//! in-flight ceiling, the cost model and the per-address guard against
//! credential stuffing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use prep_auth::{Actor, Principal};
use prep_schema::cost::CostModel;
use prep_tenancy::quotas::{
    Ask, Bulkheads, Overloaded, Quotas, TenantPermit, TierLimits, Tiers, Verdict,
};
use prep_tenancy::{Database, DbShare, TenantId};
use tokio::sync::Semaphore;

use crate::config::Settings;

/// A tenant's limits as this replica knows them.
#[derive(Clone, Debug)]
pub struct TenantLimits {
    /// The limits after overrides.
    pub limits: TierLimits,
    /// The plan tier (a metric label; never the tenant).
    pub tier: &'static str,
    /// Whether it is a sandbox tenant.
    pub is_sandbox: bool,
}

/// An admitted request: its verdict, and its place in the tenant's bulkhead
/// (held until the response is built).
pub struct Admission {
    /// What the quotas said.
    pub verdict: Verdict,
    /// The tenant's share of the database pool.
    pub share: DbShare,
    /// The place among the tenant's concurrent operations.
    pub _permit: TenantPermit,
}

/// Why a request was not admitted.
pub enum Refusal {
    /// A rate or the cost budget.
    Limited(Verdict),
    /// No place in the tenant's bulkhead in time.
    Overloaded(Overloaded),
}

/// Everything that keeps one tenant from degrading the others.
pub struct Governance {
    /// Rates and cost budgets, shared through Redis.
    pub quotas: Quotas,
    /// Concurrent operations per tenant.
    operations: Bulkheads,
    /// Requests served at once by this replica.
    pub in_flight: Arc<Semaphore>,
    /// The weights of the schema's fields.
    pub cost_model: CostModel,
    /// Addresses that failed authentication too often, and until when.
    failed_auth: DefaultKeyedRateLimiter<IpAddr>,
    blocked: RwLock<HashMap<IpAddr, Instant>>,
    block_for: Duration,
    tiers: Tiers,
    tenants: RwLock<HashMap<TenantId, (Arc<TenantLimits>, Instant)>>,
    tenant_ttl: Duration,
    /// Longest wait for a place in a bulkhead.
    pub wait: Duration,
    pool_max: u32,
}

impl Governance {
    /// Builds it from the settings (validated) and the schema's SDL.
    pub fn new(settings: &Settings, sdl: &str) -> Result<Self, String> {
        let l = &settings.limits;
        let per_minute = NonZeroU32::new(l.failed_auth_per_minute).unwrap_or(NonZeroU32::MIN);
        Ok(Self {
            quotas: Quotas::new(l.redis.as_ref(), l.replicas)?,
            operations: Bulkheads::default(),
            in_flight: Arc::new(Semaphore::new(l.max_in_flight as usize)),
            cost_model: CostModel::from_sdl(sdl)?,
            failed_auth: RateLimiter::keyed(Quota::per_minute(per_minute)),
            blocked: RwLock::new(HashMap::new()),
            block_for: Duration::from_secs(60),
            tiers: l.tiers,
            tenants: RwLock::new(HashMap::new()),
            tenant_ttl: Duration::from_secs(l.tenant_cache_secs),
            wait: Duration::from_millis(l.queue_wait_ms),
            pool_max: settings.database.max_connections,
        })
    }

    /// A tenant's limits: cached for `limits.tenant_cache_secs`, then read
    /// again (a plan change or an override takes effect within that). If
    /// the read fails, the standard tier applies and the failure is logged.
    pub async fn limits_of(&self, db: &Database, tenant: TenantId) -> Arc<TenantLimits> {
        if let Some((limits, at)) = self
            .tenants
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&tenant)
        {
            if at.elapsed() < self.tenant_ttl {
                return Arc::clone(limits);
            }
        }
        let loaded = match db.tenant_plan(tenant).await {
            Ok(Some(plan)) => {
                let tier: &'static str = match plan.plan.as_str() {
                    "free" => "free",
                    "enterprise" => "enterprise",
                    _ => "standard",
                };
                let base = self.tiers.of_plan(tier);
                let limits = base.with_overrides(&plan.overrides).unwrap_or_else(|e| {
                    tracing::warn!(tenant.id = %tenant, error = %e, "ignoring invalid limit overrides");
                    base
                });
                TenantLimits {
                    limits,
                    tier,
                    is_sandbox: plan.is_sandbox,
                }
            }
            Ok(None) | Err(_) => TenantLimits {
                limits: self.tiers.standard,
                tier: "standard",
                is_sandbox: false,
            },
        };
        let loaded = Arc::new(loaded);
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        if tenants.len() > 100_000 {
            tenants.clear();
        }
        tenants.insert(tenant, (Arc::clone(&loaded), Instant::now()));
        loaded
    }

    /// Forgets a tenant's cached limits (after an operator changed them).
    pub fn forget(&self, tenant: TenantId) {
        self.tenants
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&tenant);
    }

    /// Checks the request's rates and cost, then takes its place in the
    /// tenant's bulkhead.
    pub async fn admit(
        &self,
        tenant: TenantId,
        credential: &str,
        limits: &TenantLimits,
        cost: u64,
    ) -> Result<Admission, Refusal> {
        let verdict = self
            .quotas
            .check(Ask {
                tenant,
                credential,
                limits: &limits.limits,
                cost,
            })
            .await;
        if verdict.denied.is_some() {
            return Err(Refusal::Limited(verdict));
        }
        let (permit, share) = self
            .hold(tenant, &limits.limits)
            .await
            .map_err(Refusal::Overloaded)?;
        Ok(Admission {
            verdict,
            share,
            _permit: permit,
        })
    }

    /// A place in the tenant's bulkhead and its share of the pool, without
    /// the quotas. The domains served on their own (`serve --subgraph`)
    /// take only this: the gateway in front already charged the operation's
    /// rate and cost, but this process's connections are still shared out.
    pub async fn hold(
        &self,
        tenant: TenantId,
        limits: &TierLimits,
    ) -> Result<(TenantPermit, DbShare), Overloaded> {
        let permit = self
            .operations
            .enter(
                tenant,
                limits.max_concurrent_operations,
                self.wait,
                "the tenant has its maximum of operations running",
            )
            .await?;
        Ok((permit, self.db_share(limits)))
    }

    /// The tenant's share of this replica's pool.
    pub fn db_share(&self, limits: &TierLimits) -> DbShare {
        let capacity = (f64::from(self.pool_max) * limits.database_share).floor() as u32;
        DbShare {
            capacity: capacity.max(1),
            wait: self.wait,
        }
    }

    /// Whether `ip` is refused for failing authentication too often.
    pub fn auth_blocked(&self, ip: Option<IpAddr>) -> Option<Duration> {
        let ip = ip?;
        let until = *self
            .blocked
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ip)?;
        until.checked_duration_since(Instant::now())
    }

    /// Counts a failed authentication from `ip`; past the allowance the
    /// address is refused for a while.
    pub fn auth_failed(&self, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        if self.failed_auth.check_key(&ip).is_err() {
            let mut blocked = self.blocked.write().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            if blocked.len() > 100_000 {
                blocked.retain(|_, until| *until > now);
            }
            blocked.insert(ip, now + self.block_for);
            tracing::warn!(client.ip = %ip, "address refused for a while after repeated failed authentications");
        }
    }

    /// Forgets idle per-address state (call on a timer).
    pub fn sweep(&self) {
        self.failed_auth.retain_recent();
        let now = Instant::now();
        self.blocked
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, until| *until > now);
    }
}

/// The credential a principal's per-credential rate is keyed by.
pub fn credential(p: &Principal) -> String {
    match p.actor {
        Actor::User(id) => format!("u:{id}"),
        Actor::Connector(id) => format!("c:{id}"),
        Actor::Scim(id) => format!("s:{id}"),
        Actor::System | Actor::Operator => "x".to_owned(),
    }
}
