use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::{Executor as _, PgConnection, Postgres, Transaction};
use tokio::sync::{Mutex, MutexGuard, OwnedMutexGuard};

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

/// The name of the savepoint a mutation works under in one-transaction mode.
/// At most one is open at a time: each is released (or rolled back) before
/// the next is set.
const SAVEPOINT: &str = "prep_mutation";

/// How long a statement waits for the request's one transaction in
/// one-transaction mode. Only a resolver that holds a write and then asks
/// for a read would wait this long: a bug, answered as an error rather than
/// a hang.
const SLOT_WAIT: Duration = Duration::from_secs(5);

/// A transaction in which `app.tenant_id` is already set: the only kind of
/// connection tenant data is ever reached through.
///
/// Usually a transaction of its own. In one-transaction mode (a mutation
/// sent with an `Idempotency-Key`) it is a savepoint inside the request's
/// single transaction instead: `commit` releases the savepoint, and
/// dropping it leaves the savepoint to be rolled back before the
/// transaction is next used.
pub struct TenantTx {
    inner: Inner,
    tenant: TenantId,
    count: StatementCount,
    total: Arc<AtomicU64>,
    /// The tenant's share of the pool this transaction holds, if limited.
    _share: Option<crate::quotas::TenantPermit>,
}

enum Inner {
    Own(Transaction<'static, Postgres>),
    Savepoint(OwnedMutexGuard<Slot>),
}

/// The request's shared transaction: read-only and lazily begun normally;
/// read-write, begun up front, in one-transaction mode.
#[derive(Default)]
pub(crate) struct Slot {
    tx: Option<TenantTx>,
    /// A savepoint was set and neither released nor rolled back (its
    /// mutation failed or was refused): roll back to it before going on.
    savepoint_open: bool,
}

impl TenantTx {
    pub(crate) fn new(
        tx: Transaction<'static, Postgres>,
        tenant: TenantId,
        count: StatementCount,
        total: Arc<AtomicU64>,
        share: Option<crate::quotas::TenantPermit>,
    ) -> Self {
        Self {
            inner: Inner::Own(tx),
            tenant,
            count,
            total,
            _share: share,
        }
    }

    /// The tenant whose rows this transaction sees.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    fn counted(&self) {
        self.count.add(1);
        self.total.fetch_add(1, Ordering::Relaxed);
    }

    /// The connection for exactly one statement: call it once per statement
    /// so the round-trip count stays true.
    pub fn conn(&mut self) -> &mut PgConnection {
        self.counted();
        self.raw()
    }

    fn raw(&mut self) -> &mut PgConnection {
        match &mut self.inner {
            Inner::Own(tx) => tx,
            Inner::Savepoint(slot) => slot
                .tx
                .as_mut()
                .expect("a savepoint lives inside an open transaction")
                .raw(),
        }
    }

    /// Commits the work; dropping the transaction instead rolls it back.
    pub async fn commit(self) -> Result<(), TenancyError> {
        self.counted();
        match self.inner {
            Inner::Own(tx) => tx.commit().await?,
            Inner::Savepoint(mut slot) => {
                let tx = slot
                    .tx
                    .as_mut()
                    .expect("a savepoint lives inside an open transaction");
                tx.raw()
                    .execute(format!("release savepoint {SAVEPOINT}").as_str())
                    .await?;
                slot.savepoint_open = false;
            }
        }
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
///
/// In one-transaction mode ([`TenantScope::claim_idempotency`]) reads and
/// writes share one read-write transaction, each write under a savepoint,
/// and nothing commits until [`TenantScope::complete_idempotent`] stores
/// the response with the effects.
#[derive(Clone)]
pub struct TenantScope {
    db: Database,
    tenant: TenantId,
    reach: Reach,
    share: Option<crate::database::DbShare>,
    read: Arc<Mutex<Slot>>,
    single: Arc<AtomicBool>,
    count: StatementCount,
}

/// Exclusive use of the scope's shared transaction for one statement.
pub struct ReadGuard<'a>(MutexGuard<'a, Slot>);

impl ReadGuard<'_> {
    /// The connection for exactly one statement.
    pub fn conn(&mut self) -> &mut PgConnection {
        self.0
            .tx
            .as_mut()
            .map(TenantTx::conn)
            .expect("ReadGuard is only built around an open transaction")
    }
}

impl TenantScope {
    pub(crate) fn new(
        db: Database,
        tenant: TenantId,
        reach: Reach,
        share: Option<crate::database::DbShare>,
    ) -> Self {
        Self {
            db,
            tenant,
            reach,
            share,
            read: Arc::new(Mutex::new(Slot::default())),
            single: Arc::new(AtomicBool::new(false)),
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

    fn single(&self) -> bool {
        self.single.load(Ordering::Acquire)
    }

    /// The shared transaction, begun on first use.
    pub async fn read(&self) -> Result<ReadGuard<'_>, TenancyError> {
        let mut guard = if self.single() {
            tokio::time::timeout(SLOT_WAIT, self.read.lock())
                .await
                .map_err(|_| TenancyError::Reentrant)?
        } else {
            self.read.lock().await
        };
        if guard.tx.is_none() {
            let tx = self
                .db
                .begin_counted(
                    self.tenant,
                    &self.reach,
                    true,
                    self.count.clone(),
                    self.share,
                )
                .await?;
            guard.tx = Some(tx);
        }
        settle(&mut guard).await?;
        Ok(ReadGuard(guard))
    }

    /// A read-write transaction for one mutation. The caller commits it;
    /// dropping it rolls back.
    pub async fn begin_write(&self) -> Result<TenantTx, TenancyError> {
        if self.single() {
            let mut slot = tokio::time::timeout(SLOT_WAIT, Arc::clone(&self.read).lock_owned())
                .await
                .map_err(|_| TenancyError::Reentrant)?;
            settle(&mut slot).await?;
            let tx = slot.tx.as_mut().ok_or(TenancyError::NotInTransaction)?;
            tx.conn()
                .execute(format!("savepoint {SAVEPOINT}").as_str())
                .await?;
            slot.savepoint_open = true;
            return Ok(TenantTx {
                inner: Inner::Savepoint(slot),
                tenant: self.tenant,
                count: self.count.clone(),
                total: Arc::clone(&self.db.statements),
                _share: None,
            });
        }
        self.release_read().await;
        self.db
            .begin_counted(
                self.tenant,
                &self.reach,
                false,
                self.count.clone(),
                self.share,
            )
            .await
    }

    /// Ends the request's shared transaction. Its rollback is queued on the
    /// connection and flushed by the pool on return, off the response path.
    /// In one-transaction mode this abandons everything the request did.
    pub async fn release_read(&self) {
        let mut slot = self.read.lock().await;
        slot.tx.take();
        slot.savepoint_open = false;
    }

    /// Statements this scope has sent so far (BEGIN, statements, COMMIT).
    pub fn statements(&self) -> u64 {
        self.count.get()
    }

    /// Switches the scope to one-transaction mode for an idempotent request
    /// and claims `key` in that transaction. While another request holding
    /// the same key is in flight, this waits for it (on the key's unique
    /// index) and then answers with its stored response.
    pub async fn claim_idempotency(
        &self,
        key: &crate::IdempotencyKey,
        fingerprint: &[u8; 32],
        ttl: Duration,
    ) -> Result<crate::Claim, TenancyError> {
        let mut slot = self.read.lock().await;
        slot.tx.take();
        let mut tx = self
            .db
            .begin_counted(
                self.tenant,
                &self.reach,
                false,
                self.count.clone(),
                self.share,
            )
            .await?;
        let claim = crate::idempotency::claim(&mut tx, key, fingerprint, ttl).await?;
        if matches!(claim, crate::Claim::Fresh) {
            slot.tx = Some(tx);
            self.single.store(true, Ordering::Release);
        }
        Ok(claim)
    }

    /// Stores the response of the request claimed by `key` and commits it
    /// together with everything the request wrote.
    pub async fn complete_idempotent(
        &self,
        key: &crate::IdempotencyKey,
        response: &[u8],
    ) -> Result<(), TenancyError> {
        let mut slot = self.read.lock().await;
        settle(&mut slot).await?;
        let mut tx = slot.tx.take().ok_or(TenancyError::NotInTransaction)?;
        self.single.store(false, Ordering::Release);
        crate::idempotency::store(&mut tx, key, response).await?;
        tx.commit().await
    }
}

/// Rolls back to a savepoint left open by a failed or refused mutation, so
/// the transaction is usable again and holds only what succeeded.
async fn settle(slot: &mut Slot) -> Result<(), TenancyError> {
    if !slot.savepoint_open {
        return Ok(());
    }
    if let Some(tx) = slot.tx.as_mut() {
        tx.conn()
            .execute(
                format!("rollback to savepoint {SAVEPOINT}; release savepoint {SAVEPOINT}")
                    .as_str(),
            )
            .await?;
    }
    slot.savepoint_open = false;
    Ok(())
}
