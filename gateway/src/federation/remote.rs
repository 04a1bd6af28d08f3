//! A remote subgraph as the gateway guards it: a circuit breaker (a
//! subgraph that keeps failing is left alone for a while instead of holding
//! every request until its deadline) and a bulkhead (a tenant may hold only
//! its share of the connections, so one tenant's slow calls cannot starve
//! the others).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prep_schema::federation::{SubgraphRequest, SubgraphResponse, TransportError};
use reqwest::header::HeaderMap;
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::http::{HttpOptions, HttpSubgraph};
use super::settings::RemoteSubgraphSettings;

/// One remote subgraph with its guards. Lives across reloads, so breaker
/// state and connection pools survive a recomposition.
#[derive(Debug)]
pub struct Remote {
    http: HttpSubgraph,
    settings: RemoteSubgraphSettings,
    breaker: Breaker,
    connections: Arc<Semaphore>,
    per_tenant: Mutex<HashMap<Uuid, u32>>,
}

impl Remote {
    /// Prepares the subgraph from its settings (validated beforehand).
    pub fn new(settings: &RemoteSubgraphSettings) -> Result<Self, String> {
        let url =
            reqwest::Url::parse(&settings.url).map_err(|e| format!("{}: {e}", settings.name))?;
        let http = HttpSubgraph::new(
            &settings.name,
            url,
            HttpOptions {
                timeout: Duration::from_millis(settings.timeout_ms),
                max_response_bytes: settings.max_response_bytes,
            },
        )
        .map_err(|e| format!("{}: {e}", settings.name))?;
        Ok(Self {
            http,
            breaker: Breaker::new(
                settings.breaker_failures,
                Duration::from_secs(settings.breaker_open_secs),
            ),
            connections: Arc::new(Semaphore::new(settings.max_connections as usize)),
            per_tenant: Mutex::new(HashMap::new()),
            settings: settings.clone(),
        })
    }

    /// Its settings.
    pub fn settings(&self) -> &RemoteSubgraphSettings {
        &self.settings
    }

    /// Whether the breaker is open now.
    pub fn is_open(&self) -> bool {
        self.breaker.is_open()
    }

    /// Calls the subgraph for `tenant` (or for the gateway itself), inside
    /// the tenant's share and past the breaker.
    pub async fn call(
        &self,
        tenant: Option<Uuid>,
        request: &SubgraphRequest<'_>,
        headers: HeaderMap,
    ) -> Result<SubgraphResponse, TransportError> {
        if !self.breaker.allow() {
            return Err(TransportError::Unavailable);
        }
        let _share = match tenant {
            Some(t) => Some(self.take_share(t).ok_or(TransportError::Unavailable)?),
            None => None,
        };
        let wait = Duration::from_millis(self.settings.timeout_ms);
        let _connection = match tokio::time::timeout(wait, self.connections.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => {
                self.breaker.release_probe();
                return Err(TransportError::Unavailable);
            }
        };
        let result = self.http.send(request, headers).await;
        self.breaker.record(match &result {
            Ok(_) => true,
            Err(TransportError::Http(status)) => *status < 500,
            Err(_) => false,
        });
        result
    }

    fn take_share(&self, tenant: Uuid) -> Option<ShareGuard<'_>> {
        let mut held = self.per_tenant.lock().unwrap_or_else(|e| e.into_inner());
        let n = held.entry(tenant).or_insert(0);
        if *n >= self.settings.tenant_share() {
            tracing::warn!(subgraph = %self.settings.name, %tenant, "tenant holds its whole share of the subgraph's connections");
            return None;
        }
        *n += 1;
        Some(ShareGuard {
            remote: self,
            tenant,
        })
    }
}

/// One place in a tenant's share; given back on drop.
struct ShareGuard<'a> {
    remote: &'a Remote,
    tenant: Uuid,
}

impl Drop for ShareGuard<'_> {
    fn drop(&mut self) {
        let mut held = self
            .remote
            .per_tenant
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.tenant) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.tenant);
            }
        }
    }
}

/// Closed → (N consecutive failures) → open for a while → one probe call
/// (half open) → closed on success, open again on failure.
#[derive(Debug)]
struct Breaker {
    failures_to_open: u32,
    open_for: Duration,
    state: Mutex<BreakerState>,
}

#[derive(Debug)]
enum BreakerState {
    Closed { failures: u32 },
    Open { until: Instant },
    Probing,
}

impl Breaker {
    fn new(failures_to_open: u32, open_for: Duration) -> Self {
        Self {
            failures_to_open,
            open_for,
            state: Mutex::new(BreakerState::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_open(&self) -> bool {
        matches!(*self.lock(), BreakerState::Open { until } if until > Instant::now())
    }

    /// Whether a call may go out now (the first call after the open period
    /// is the probe; the others keep being refused until it returns).
    fn allow(&self) -> bool {
        let mut state = self.lock();
        match *state {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until } if until <= Instant::now() => {
                *state = BreakerState::Probing;
                true
            }
            BreakerState::Open { .. } | BreakerState::Probing => false,
        }
    }

    /// A probe that never went out: let the next call probe.
    fn release_probe(&self) {
        let mut state = self.lock();
        if matches!(*state, BreakerState::Probing) {
            *state = BreakerState::Open {
                until: Instant::now(),
            };
        }
    }

    fn record(&self, success: bool) {
        let mut state = self.lock();
        *state = match (&*state, success) {
            (_, true) => BreakerState::Closed { failures: 0 },
            (BreakerState::Closed { failures }, false) if failures + 1 < self.failures_to_open => {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            (_, false) => {
                tracing::warn!(open_for = ?self.open_for, "subgraph circuit breaker opened");
                BreakerState::Open {
                    until: Instant::now() + self.open_for,
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_opens_after_consecutive_failures_and_probes_once() {
        let b = Breaker::new(3, Duration::from_millis(30));
        b.record(false);
        b.record(true);
        b.record(false);
        b.record(false);
        assert!(b.allow(), "two failures in a row stay closed");
        b.record(false);
        assert!(!b.allow(), "the third opens it");
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow(), "one probe after the open period");
        assert!(!b.allow(), "only one");
        b.record(false);
        assert!(!b.allow(), "a failed probe opens it again");
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow());
        b.record(true);
        assert!(b.allow() && b.allow(), "a good probe closes it");
    }
}
