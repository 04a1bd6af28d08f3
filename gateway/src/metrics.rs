//! Prometheus metrics. Labels never carry a tenant id (cardinality); they
//! carry the route, the method, the status class and the operation type.

use std::sync::atomic::Ordering;

use prep_tenancy::quotas::Quotas;
use prep_tenancy::Database;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of HTTP metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// Matched route, e.g. `/graphql`.
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// Status code.
    pub status: u16,
}

/// Labels of GraphQL operation metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// `query`, `mutation` or `invalid`.
    pub operation: &'static str,
    /// `ok` or `error`.
    pub outcome: &'static str,
}

/// Labels of refused credentials and sign-ins.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    /// `bearer`, `sign_in` or `subgraph`.
    pub kind: &'static str,
    /// The stable reason (`expired`, `state_mismatch`, ...).
    pub reason: &'static str,
}

/// Labels of requests refused by a rate or the cost budget.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    /// `tenant_rate`, `credential_rate` or `cost`.
    pub limit: &'static str,
    /// The tenant's plan tier (never the tenant: cardinality).
    pub tier: &'static str,
}

/// Labels of requests refused for lack of capacity.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OverloadLabels {
    /// `replica`, `tenant_operations` or `database_share`.
    pub reason: &'static str,
}

/// Labels of quota checks.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabels {
    /// `shared` (Redis) or `local` (this replica, Redis unreachable).
    pub store: &'static str,
}

/// Every metric the gateway exports.
pub struct Metrics {
    registry: Registry,
    /// Requests by route, method and status.
    pub http_requests: Family<HttpLabels, Counter>,
    /// Latency by route.
    pub http_duration: Family<HttpLabels, Histogram>,
    /// GraphQL operations by type and outcome.
    pub operations: Family<OperationLabels, Counter>,
    /// SQL statements per GraphQL operation (N+1 shows up here).
    pub statements_per_operation: Histogram,
    /// Refused bearer tokens and sign-ins, by reason.
    pub auth_refusals: Family<AuthLabels, Counter>,
    /// Requests refused by a rate or the cost budget.
    pub rate_limited: Family<LimitLabels, Counter>,
    /// Requests refused for lack of capacity.
    pub overloaded: Family<OverloadLabels, Counter>,
    quota_checks: Family<StoreLabels, Counter>,
    redis_failures: Counter,
    limiter_degraded: Gauge,
    security_dropped: Counter,
    db_statements: Counter,
    /// Serialises scrapes: the statement counter is brought up to the
    /// tenancy layer's total by adding the difference, which two concurrent
    /// scrapes would otherwise both add.
    scrape: std::sync::Mutex<()>,
    pool_size: Gauge,
    pool_idle: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("prep");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ])
        });
        let operations = Family::<OperationLabels, Counter>::default();
        let statements_per_operation =
            Histogram::new([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 50.0]);
        let db_statements = Counter::default();
        let auth_refusals = Family::<AuthLabels, Counter>::default();
        let security_dropped = Counter::default();
        let pool_size = Gauge::default();
        let pool_idle = Gauge::default();
        let rate_limited = Family::<LimitLabels, Counter>::default();
        let overloaded = Family::<OverloadLabels, Counter>::default();
        let quota_checks = Family::<StoreLabels, Counter>::default();
        let redis_failures = Counter::default();
        let limiter_degraded = Gauge::default();
        registry.register(
            "rate_limited",
            "Requests refused by a rate or the query cost budget, by limit and plan tier",
            rate_limited.clone(),
        );
        registry.register(
            "overloaded",
            "Requests refused for lack of capacity, by bulkhead",
            overloaded.clone(),
        );
        registry.register(
            "quota_checks",
            "Quota checks by where they were decided (shared in Redis, or local while Redis is away)",
            quota_checks.clone(),
        );
        registry.register(
            "rate_limiter_redis_failures",
            "Quota checks Redis did not answer in time",
            redis_failures.clone(),
        );
        registry.register(
            "rate_limiter_degraded",
            "1 while limits are enforced per replica because Redis is unreachable",
            limiter_degraded.clone(),
        );
        registry.register("http_requests", "HTTP requests", http_requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_duration.clone(),
        );
        registry.register(
            "graphql_operations",
            "GraphQL operations",
            operations.clone(),
        );
        registry.register(
            "graphql_statements_per_operation",
            "SQL statements sent per GraphQL operation",
            statements_per_operation.clone(),
        );
        registry.register(
            "db_statements",
            "SQL statements sent through tenant scopes",
            db_statements.clone(),
        );
        registry.register(
            "auth_refusals",
            "Refused bearer tokens and sign-ins by reason",
            auth_refusals.clone(),
        );
        registry.register(
            "security_events_dropped",
            "Security events not stored because the queue was full (they were still logged)",
            security_dropped.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open pooled connections",
            pool_size.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle pooled connections",
            pool_idle.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            operations,
            statements_per_operation,
            auth_refusals,
            rate_limited,
            overloaded,
            quota_checks,
            redis_failures,
            limiter_degraded,
            security_dropped,
            db_statements,
            scrape: std::sync::Mutex::new(()),
            pool_size,
            pool_idle,
        }
    }

    /// The text exposition, with database gauges read at scrape time.
    pub fn render(&self, db: &Database, security_dropped: u64, quotas: &Quotas) -> String {
        let _scrape = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        let stats = quotas.stats();
        let catch_up = |c: &Counter, total: u64| {
            let seen = c.get();
            if total > seen {
                c.inc_by(total - seen);
            }
        };
        catch_up(
            &self
                .quota_checks
                .get_or_create(&StoreLabels { store: "shared" }),
            stats.shared_checks.load(Ordering::Relaxed),
        );
        catch_up(
            &self
                .quota_checks
                .get_or_create(&StoreLabels { store: "local" }),
            stats.local_checks.load(Ordering::Relaxed),
        );
        catch_up(
            &self.redis_failures,
            stats.redis_failures.load(Ordering::Relaxed),
        );
        self.limiter_degraded.set(i64::from(quotas.degraded()));
        let (size, idle) = db.pool_usage();
        self.pool_size.set(i64::from(size));
        self.pool_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
        let total = db.statements_total();
        let seen = self.db_statements.get();
        if total > seen {
            self.db_statements.inc_by(total - seen);
        }
        let dropped = self.security_dropped.get();
        if security_dropped > dropped {
            self.security_dropped.inc_by(security_dropped - dropped);
        }
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
