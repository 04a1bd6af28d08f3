//! Audit events written off the request path: refused connector keys and
//! denied connector fields. A refusal must not cost the refused caller's
//! tenant a synchronous write per attempt, so these go through a bounded
//! queue, written in batches, one transaction per tenant. When the queue is
//! full, events are logged, counted and dropped rather than slowing
//! requests down.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use prep_auth::Actor;
use prep_tenancy::{Database, TenantId};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::context::RequestContext;
use crate::ids::NodeType;

const QUEUE: usize = 4096;
const BATCH: usize = 256;

/// An audit event waiting to be written.
#[derive(Clone, Debug)]
pub struct QueuedEvent {
    /// The tenant whose trail it joins.
    pub tenant: TenantId,
    /// Who acted.
    pub actor: Actor,
    /// What was done, e.g. `connector.denied`.
    pub action: &'static str,
    /// What it was done to.
    pub target: (NodeType, Uuid),
    /// The request.
    pub request_id: Option<String>,
    /// Details (never secrets).
    pub details: serde_json::Value,
}

impl QueuedEvent {
    /// An event of the request `rc`.
    pub fn of_request(
        rc: &RequestContext,
        action: &'static str,
        target: (NodeType, Uuid),
        details: serde_json::Value,
    ) -> Self {
        Self {
            tenant: rc.scope.tenant(),
            actor: rc.principal.actor,
            action,
            target,
            request_id: Some(rc.request_id.clone()),
            details,
        }
    }
}

/// Handle of the queued audit writer.
#[derive(Debug)]
pub struct AuditLog {
    tx: mpsc::Sender<QueuedEvent>,
    dropped: Arc<AtomicU64>,
}

impl AuditLog {
    /// Starts the writer task.
    pub fn start(db: Database) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(db, rx));
        Self {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queues an event; it is written shortly after.
    pub fn record(&self, event: QueuedEvent) {
        if let Err(e) = self.tx.try_send(event) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            let event = match e {
                mpsc::error::TrySendError::Full(ev) | mpsc::error::TrySendError::Closed(ev) => ev,
            };
            tracing::warn!(tenant.id = %event.tenant, action = event.action, "audit queue full; event dropped");
        }
    }

    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn write_batches(db: Database, mut rx: mpsc::Receiver<QueuedEvent>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut by_tenant: BTreeMap<TenantId, Vec<QueuedEvent>> = BTreeMap::new();
        for e in batch.drain(..) {
            by_tenant.entry(e.tenant).or_default().push(e);
        }
        for (tenant, events) in by_tenant {
            if let Err(e) = write(&db, tenant, &events).await {
                tracing::warn!(error = %e, tenant.id = %tenant, events = events.len(), "could not write queued audit events");
            }
        }
    }
}

async fn write(
    db: &Database,
    tenant: TenantId,
    events: &[QueuedEvent],
) -> Result<(), prep_tenancy::TenancyError> {
    let kinds: Vec<&str> = events.iter().map(|e| e.actor.kind()).collect();
    let actors: Vec<Option<Uuid>> = events.iter().map(|e| e.actor.id()).collect();
    let actions: Vec<&str> = events.iter().map(|e| e.action).collect();
    let types: Vec<&str> = events.iter().map(|e| e.target.0.name()).collect();
    let targets: Vec<Uuid> = events.iter().map(|e| e.target.1).collect();
    let requests: Vec<Option<&str>> = events.iter().map(|e| e.request_id.as_deref()).collect();
    let details: Vec<serde_json::Value> = events.iter().map(|e| e.details.clone()).collect();
    let mut tx = db.begin(tenant).await?;
    sqlx::query(
        "insert into audit_events (tenant_id, actor_type, actor_id, action, target_type, target_id, request_id, details)
         select $1, k, a, act, ty, t, r, d
         from unnest($2::text[], $3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::jsonb[])
           as u(k, a, act, ty, t, r, d)",
    )
    .bind(tenant.as_uuid())
    .bind(kinds)
    .bind(actors)
    .bind(actions)
    .bind(types)
    .bind(targets)
    .bind(requests)
    .bind(details)
    .execute(tx.conn())
    .await?;
    tx.commit().await
}
