//! This replica's own quota store, used while Redis is unreachable: the same
//! arithmetic, with every limit divided among the expected replicas so the
//! fleet as a whole stays near the tenant's limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::gcra::{bucket, gcra, Bucket, Rate};
use super::store::{Plan, Raw};
use super::Denied;
use crate::TenantId;

/// Entries kept before stale ones are swept.
const SWEEP_AT: usize = 50_000;

#[derive(Default)]
struct State {
    tats: HashMap<String, u64>,
    buckets: HashMap<TenantId, (f64, u64)>,
}

pub(super) struct LocalStore {
    replicas: u32,
    state: Mutex<State>,
}

impl LocalStore {
    pub(super) fn new(replicas: u32) -> Self {
        Self {
            replicas,
            state: Mutex::new(State::default()),
        }
    }

    fn share(&self, r: Rate) -> Rate {
        let n = u64::from(self.replicas);
        Rate {
            interval_us: r.interval_us.saturating_mul(n),
            burst: (r.burst / n).max(1),
        }
    }

    pub(super) fn check(&self, tenant: TenantId, credential: &str, plan: &Plan) -> Raw {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let n = f64::from(self.replicas);
        let share = Bucket {
            maximum: plan.bucket.maximum / n,
            per_second: plan.bucket.per_second / n,
        };
        let tenant_key = tenant.as_uuid().to_string();
        let credential_key = format!("{tenant_key}:{credential}");
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.tats.len() > SWEEP_AT {
            s.tats.retain(|_, tat| *tat > now);
            s.buckets
                .retain(|_, (_, at)| now.saturating_sub(*at) < 3_600_000_000);
        }
        let cost = bucket(
            share,
            s.buckets.get(&tenant).copied(),
            now,
            plan.cost,
            plan.refund / n,
        );
        let t = gcra(
            self.share(plan.tenant_rate),
            s.tats.get(&tenant_key).copied(),
            now,
        );
        let refused = |denied, retry_after_us, remaining| Raw {
            denied: Some(denied),
            retry_after_us,
            remaining,
            reset_us: t.reset_us,
            available: cost.available,
        };
        if !t.allowed {
            return refused(Denied::TenantRate, t.retry_after_us, 0);
        }
        let c = gcra(
            self.share(plan.credential_rate),
            s.tats.get(&credential_key).copied(),
            now,
        );
        if !c.allowed {
            return refused(Denied::CredentialRate, c.retry_after_us, t.remaining);
        }
        if !cost.allowed {
            s.buckets.insert(tenant, (cost.available, now));
            return refused(Denied::Cost, cost.retry_after_us, t.remaining);
        }
        s.buckets.insert(tenant, (cost.available, now));
        s.tats.insert(tenant_key, t.new_tat);
        s.tats.insert(credential_key, c.new_tat);
        Raw {
            denied: None,
            retry_after_us: 0,
            remaining: t.remaining,
            reset_us: t.reset_us,
            available: cost.available,
        }
    }
}
