use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::{PgConnection, Postgres, Transaction};
use tokio::sync::{Mutex, MutexGuard};

use crate::{Database, Reach, TenancyError, TenantId};

/// Counts the statements one request sends, so every operation can report
/// its round trips (`/metrics`, the benchmarks) and N+1 patterns show up.
#[derive(Clone, Debug, Default)]
pub struct StatementCount(Arc<AtomicU64>);

impl StatementCount {
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Statements counted so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A transaction in which `app.tenant_id` is already set: the only kind of
/// connection tenant data is ever reached through.
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
    count: StatementCount,
    total: Arc<AtomicU64>,
}

impl TenantTx {
    pub(crate) fn new(
        tx: Transaction<'static, Postgres>,
        tenant: TenantId,
        count: StatementCount,
        total: Arc<AtomicU64>,
    ) -> Self {
        Self {
            tx,
            tenant,
            count,
            total,
        }
    }

    /// The tenant whose rows this transaction sees.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The connection for exactly one statement: call it once per statement
    /// so the round-trip count stays true.
    pub fn conn(&mut self) -> &mut PgConnection {
        self.count.add(1);
        self.total.fetch_add(1, Ordering::Relaxed);
        &mut self.tx
    }

    /// Commits the work; dropping the transaction instead rolls it back.
    pub async fn commit(self) -> Result<(), TenancyError> {
        self.count.add(1);
        self.total.fetch_add(1, Ordering::Relaxed);
        self.tx.commit().await?;
        Ok(())
    }
}

/// One request's access to one tenant's data.
///
/// Reads share a single read-only transaction, begun on first use, so a
/// request that never touches the database costs no round trip and one that
/// does pays one (BEGIN and the tenant setting together). Writes get a
/// transaction of their own via [`TenantScope::begin_write`], which first
/// releases the read transaction so a request never holds two connections.
#[derive(Clone)]
pub struct TenantScope {
    db: Database,
    tenant: TenantId,
    reach: Reach,
    read: Arc<Mutex<Option<TenantTx>>>,
    count: StatementCount,
}

/// Exclusive use of the scope's read-only transaction for one statement.
pub struct ReadGuard<'a>(MutexGuard<'a, Option<TenantTx>>);

impl ReadGuard<'_> {
    /// The connection for exactly one statement.
    pub fn conn(&mut self) -> &mut PgConnection {
        self.0
            .as_mut()
            .map(TenantTx::conn)
            .expect("ReadGuard is only built around an open transaction")
    }
}

impl TenantScope {
    pub(crate) fn new(db: Database, tenant: TenantId, reach: Reach) -> Self {
        Self {
            db,
            tenant,
            reach,
            read: Arc::new(Mutex::new(None)),
            count: StatementCount::default(),
        }
    }

    /// The tenant this scope is bound to.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// How much of the tenant this scope sees.
    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    /// The shared read-only transaction, begun on first use.
    pub async fn read(&self) -> Result<ReadGuard<'_>, TenancyError> {
        let mut guard = self.read.lock().await;
        if guard.is_none() {
            let tx = self
                .db
                .begin_counted(self.tenant, &self.reach, true, self.count.clone())
                .await?;
            *guard = Some(tx);
        }
        Ok(ReadGuard(guard))
    }

    /// A read-write transaction of its own, for one mutation. The caller
    /// commits it; dropping it rolls back.
    pub async fn begin_write(&self) -> Result<TenantTx, TenancyError> {
        self.release_read().await;
        self.db
            .begin_counted(self.tenant, &self.reach, false, self.count.clone())
            .await
    }

    /// Ends the request's read transaction. Its rollback is queued on the
    /// connection and flushed by the pool on return, off the response path.
    pub async fn release_read(&self) {
        self.read.lock().await.take();
    }

    /// Statements this scope has sent so far (BEGIN, statements, COMMIT).
    pub fn statements(&self) -> u64 {
        self.count.get()
    }
}
