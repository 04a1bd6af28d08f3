//! Bulkheads: how many operations of one tenant run at once on a replica,
//! and how many of them may hold a database connection. A tenant's flood
//! queues behind its own cap (briefly) and is then refused fast, instead of
//! queueing in front of everyone else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::TenantId;

/// A refusal for lack of capacity: answered `503` with `OVERLOADED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Overloaded(pub &'static str);

/// A held place in a tenant's bulkhead, released on drop.
#[derive(Debug)]
pub struct TenantPermit(#[allow(dead_code)] OwnedSemaphorePermit);

/// Per-tenant semaphores of one kind (operations, or database connections).
#[derive(Debug, Default)]
pub struct Bulkheads {
    tenants: Mutex<HashMap<TenantId, (u32, Arc<Semaphore>)>>,
}

impl Bulkheads {
    /// A place among the tenant's `capacity`, waiting at most `wait`.
    pub async fn enter(
        &self,
        tenant: TenantId,
        capacity: u32,
        wait: Duration,
        what: &'static str,
    ) -> Result<TenantPermit, Overloaded> {
        let semaphore = self.semaphore(tenant, capacity);
        let permit = match semaphore.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => tokio::time::timeout(wait, semaphore.acquire_owned())
                .await
                .map_err(|_| Overloaded(what))?
                .map_err(|_| Overloaded(what))?,
        };
        Ok(TenantPermit(permit))
    }

    /// How many places of the tenant are taken now.
    pub fn in_use(&self, tenant: TenantId) -> u32 {
        let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        tenants.get(&tenant).map_or(0, |(cap, s)| {
            cap.saturating_sub(u32::try_from(s.available_permits()).unwrap_or(u32::MAX))
        })
    }

    fn semaphore(&self, tenant: TenantId, capacity: u32) -> Arc<Semaphore> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        if tenants.len() > 50_000 {
            // forget idle tenants; a busy one keeps its semaphore alive
            tenants.retain(|_, (cap, s)| s.available_permits() < *cap as usize);
        }
        let entry = tenants
            .entry(tenant)
            .or_insert_with(|| (capacity, Arc::new(Semaphore::new(capacity as usize))));
        if entry.0 != capacity {
            // a changed limit takes effect for new operations; the old
            // semaphore lives on with those that hold it
            *entry = (capacity, Arc::new(Semaphore::new(capacity as usize)));
        }
        Arc::clone(&entry.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_bulkhead_refuses_after_a_short_wait_and_frees_on_drop() {
        let b = Bulkheads::default();
        let t = TenantId::from_uuid(uuid::Uuid::from_u128(1));
        let other = TenantId::from_uuid(uuid::Uuid::from_u128(2));
        let wait = Duration::from_millis(20);
        let first = b.enter(t, 2, wait, "busy").await.expect("1");
        let _second = b.enter(t, 2, wait, "busy").await.expect("2");
        assert_eq!(b.in_use(t), 2);
        assert_eq!(
            b.enter(t, 2, wait, "busy").await.expect_err("full"),
            Overloaded("busy")
        );
        assert!(
            b.enter(other, 2, wait, "busy").await.is_ok(),
            "another tenant is not affected"
        );
        drop(first);
        assert!(b.enter(t, 2, wait, "busy").await.is_ok());
    }
}
