//! The security log: refused tokens, failed logins, forged cookies.
//!
//! Events are queued and written in batches off the request path, through a
//! bounded queue: a flood of forged tokens costs the attacker the same as
//! us, and when the queue is full events are counted and dropped rather than
//! slowing every request down.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prep_tenancy::{Database, SecurityEvent};
use tokio::sync::mpsc;

const QUEUE: usize = 4096;
const BATCH: usize = 256;

/// Handle for recording security events.
#[derive(Clone, Debug)]
pub struct SecurityLog {
    tx: mpsc::Sender<SecurityEvent>,
    dropped: Arc<AtomicU64>,
}

impl SecurityLog {
    /// Starts the writer task.
    pub fn start(db: Database) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(db, rx));
        Self {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queues an event (logged at once, stored shortly after).
    pub fn record(&self, event: SecurityEvent) {
        tracing::warn!(
            kind = event.kind,
            reason = %event.reason,
            claimed_tenant = ?event.claimed_tenant,
            "security event"
        );
        if self.tx.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn write_batches(db: Database, mut rx: mpsc::Receiver<SecurityEvent>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut delay = Duration::from_millis(100);
        for attempt in 0..3 {
            match db.record_security_events(&batch).await {
                Ok(()) => break,
                Err(e) if attempt < 2 => {
                    tracing::warn!(error = %e, "writing security events failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 4;
                }
                Err(e) => {
                    tracing::error!(error = %e, lost = batch.len(), "security events lost");
                }
            }
        }
        batch.clear();
    }
}
