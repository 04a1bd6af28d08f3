use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use uuid::Uuid;

use crate::quotas::Bulkheads;
use crate::scope::{StatementCount, TenantScope, TenantTx};
use crate::{Reach, TenancyError, TenantId};

/// How to reach PostgreSQL as the runtime role, built from typed fields
/// (never a glued URL string) by the gateway's configuration.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The runtime role (`prep_app` unless the operator renamed nothing).
    pub user: String,
    /// Its password, if the server asks for one.
    pub password: Option<String>,
    /// Database name.
    pub database: String,
    /// Upper bound of pooled connections.
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long a request waits for a pooled connection before it is refused.
    pub acquire_timeout: Duration,
    /// Server-side bound on any one statement, so a runaway query cannot hold
    /// a connection (and a tenant's transaction) for long.
    pub statement_timeout: Duration,
}

/// The tenant-aware database: a pool of runtime-role connections that hands
/// out work only inside tenant-scoped transactions.
#[derive(Clone)]
pub struct Database {
    pool: PgPool,
    pub(crate) statements: Arc<AtomicU64>,
    shares: Arc<Bulkheads>,
}

/// A tenant's share of the pool: at most `capacity` connections at once,
/// waiting at most `wait` for one of them.
#[derive(Clone, Copy, Debug)]
pub struct DbShare {
    /// Connections the tenant may hold at once on this replica.
    pub capacity: u32,
    /// Longest wait for one, then `Overloaded`.
    pub wait: Duration,
}

/// One (tenant, location) pair whose compliance status is due for review.
#[derive(Clone, Copy, Debug)]
pub struct DueReview {
    /// The tenant owning the location.
    pub tenant: TenantId,
    /// The location to re-evaluate.
    pub location_id: Uuid,
}

impl Database {
    /// Builds the pool without connecting, so a gateway can start (and answer
    /// `/readyz` with "not ready") while PostgreSQL is still coming up.
    pub fn connect_lazy(settings: &PoolSettings) -> Self {
        let mut options = PgConnectOptions::new()
            .host(&settings.host)
            .port(settings.port)
            .username(&settings.user)
            .database(&settings.database)
            .application_name("prep-gateway")
            .options([(
                "statement_timeout",
                format!("{}ms", settings.statement_timeout.as_millis()),
            )]);
        if let Some(password) = &settings.password {
            options = options.password(password);
        }
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .min_connections(settings.min_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(options);
        Self {
            pool,
            statements: Arc::new(AtomicU64::new(0)),
            shares: Arc::new(Bulkheads::default()),
        }
    }

    /// A per-request scope for `tenant`: reads share one lazily begun
    /// read-only transaction; writes get their own.
    pub fn scope(&self, tenant: TenantId) -> TenantScope {
        TenantScope::new(self.clone(), tenant, Reach::Tenant, None)
    }

    /// A per-request scope that sees only `reach` of the tenant: the
    /// row-level security policies hide every row outside it.
    pub fn scope_within(&self, tenant: TenantId, reach: Reach) -> TenantScope {
        TenantScope::new(self.clone(), tenant, reach, None)
    }

    /// A request's scope whose transactions also hold a place in the
    /// tenant's share of the pool, so one tenant's flood cannot take every
    /// connection.
    pub fn scope_shared(&self, tenant: TenantId, reach: Reach, share: DbShare) -> TenantScope {
        TenantScope::new(self.clone(), tenant, reach, Some(share))
    }

    /// Connections of the pool the tenant holds now on this replica.
    pub fn connections_held(&self, tenant: TenantId) -> u32 {
        self.shares.in_use(tenant)
    }

    /// Connections the pool may open.
    pub fn max_connections(&self) -> u32 {
        self.pool.options().get_max_connections()
    }

    /// Begins a read-write transaction for `tenant`, for work outside a
    /// request (operator commands, the compliance reviewer, seeding).
    pub async fn begin(&self, tenant: TenantId) -> Result<TenantTx, TenancyError> {
        self.begin_counted(
            tenant,
            &Reach::Tenant,
            false,
            StatementCount::default(),
            None,
        )
        .await
    }

    pub(crate) async fn begin_counted(
        &self,
        tenant: TenantId,
        reach: &Reach,
        read_only: bool,
        count: StatementCount,
        share: Option<DbShare>,
    ) -> Result<TenantTx, TenancyError> {
        let permit = match share {
            Some(s) => Some(
                self.shares
                    .enter(
                        tenant,
                        s.capacity,
                        s.wait,
                        "the tenant holds its whole share of database connections",
                    )
                    .await
                    .map_err(|o| TenancyError::Overloaded(o.0))?,
            ),
            None => None,
        };
        // BEGIN and the tenant setting travel in one simple-query message:
        // one round trip, and the setting can never exist outside the
        // transaction (a `SET LOCAL` outside BEGIN silently does nothing).
        // The tenant and location ids are UUIDs we formatted ourselves,
        // never user text.
        let mode = if read_only { "read only" } else { "read write" };
        let begin = format!(
            "begin isolation level read committed {mode}; \
             select set_config('app.tenant_id', '{}', true), \
                    set_config('app.location_ids', '{}', true)",
            tenant.as_uuid(),
            reach.setting(),
        );
        let tx = self.pool.begin_with(begin).await?;
        self.statements.fetch_add(1, Ordering::Relaxed);
        count.add(1);
        Ok(TenantTx::new(
            tx,
            tenant,
            count,
            Arc::clone(&self.statements),
            permit,
        ))
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Checks that PostgreSQL answers, for `/readyz`.
    pub async fn ping(&self) -> Result<(), TenancyError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The allow-listed cross-tenant look-up behind the compliance reviewer:
    /// which locations' statuses may have changed with time. Goes through the
    /// SECURITY DEFINER function `compliance_reviews_due`, which returns ids
    /// only; the review itself then runs inside each tenant's own scope.
    pub async fn compliance_reviews_due(
        &self,
        max_rows: i32,
    ) -> Result<Vec<DueReview>, TenancyError> {
        let rows = sqlx::query_as::<_, (Uuid, Uuid)>(
            "select tenant_id, location_id from compliance_reviews_due($1)",
        )
        .bind(max_rows)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(tenant, location_id)| DueReview {
                tenant: TenantId::from_uuid(tenant),
                location_id,
            })
            .collect())
    }

    /// The tenant setting a pooled connection carries outside any
    /// transaction: always empty or absent. A diagnostic for tests and
    /// operators proving that no tenant context outlives its transaction.
    pub async fn idle_tenant_setting(&self) -> Result<Option<String>, TenancyError> {
        let value: Option<String> =
            sqlx::query_scalar("select nullif(current_setting('app.tenant_id', true), '')")
                .fetch_one(&self.pool)
                .await?;
        Ok(value)
    }

    /// Statements sent through tenant scopes since start, for `/metrics`.
    pub fn statements_total(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Connections open and idle in the pool, for `/metrics`.
    pub fn pool_usage(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
