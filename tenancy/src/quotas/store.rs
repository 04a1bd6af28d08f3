//! The shared quota store: one Lua script call per request on Redis.

use std::time::Duration;

use deadpool_redis::redis;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};

use super::gcra::{Bucket, Rate};
use super::{Denied, Source, TierLimits, Verdict};
use crate::TenantId;

/// How to reach Redis.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://host:port/db` (or `rediss://` for TLS).
    pub url: String,
    /// Pooled connections per replica.
    pub pool_size: usize,
    /// Longest wait for a check before falling back to local limits.
    pub timeout_ms: u64,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
            pool_size: 8,
            timeout_ms: 50,
        }
    }
}

/// What one check asks for, in the limiters' units.
#[derive(Clone, Copy, Debug)]
pub(super) struct Plan {
    pub tenant_rate: Rate,
    pub credential_rate: Rate,
    pub bucket: Bucket,
    pub cost: f64,
    pub refund: f64,
}

/// A check's raw outcome, from Redis or the local store.
#[derive(Clone, Copy, Debug)]
pub(super) struct Raw {
    pub denied: Option<Denied>,
    pub retry_after_us: u64,
    pub remaining: u64,
    pub reset_us: u64,
    pub available: f64,
}

impl Raw {
    pub(super) fn verdict(self, l: &TierLimits, source: Source) -> Verdict {
        Verdict {
            denied: self.denied,
            retry_after: Duration::from_micros(self.retry_after_us),
            rate_limit: l.requests_per_second,
            rate_remaining: self.remaining,
            rate_reset: Duration::from_micros(self.reset_us),
            cost_available: self.available.max(0.0),
            cost_maximum: l.cost_maximum,
            cost_restore_rate: l.cost_restore_rate,
            source,
        }
    }
}

/// Redis through a few multiplexed connections taken from a deadpool pool.
///
/// A multiplexed connection pipelines concurrent requests over one socket,
/// so a request needs no checkout of its own: checking out of the pool
/// costs a round trip (deadpool-redis recycles with `UNWATCH` + `PING`),
/// which would double the limiter's cost. The pool still creates the
/// connections (with its timeouts); a connection that fails is dropped and
/// the next request takes a fresh one.
#[derive(Clone)]
pub(super) struct RedisStore {
    pool: deadpool_redis::Pool,
    ring: std::sync::Arc<Vec<std::sync::Mutex<Option<MultiplexedConnection>>>>,
    next: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    script: std::sync::Arc<redis::Script>,
    timeout: Duration,
}

impl RedisStore {
    pub(super) fn new(s: &RedisSettings) -> Result<Self, String> {
        let mut cfg = deadpool_redis::Config::from_url(s.url.clone());
        let timeout = Duration::from_millis(s.timeout_ms);
        cfg.pool = Some(deadpool_redis::PoolConfig {
            max_size: s.pool_size,
            timeouts: deadpool_redis::Timeouts {
                wait: Some(timeout),
                create: Some(timeout.max(Duration::from_millis(250))),
                recycle: Some(timeout),
            },
            ..deadpool_redis::PoolConfig::default()
        });
        let pool = cfg
            .create_pool(Some(deadpool_redis::Runtime::Tokio1))
            .map_err(|e| format!("limits.redis.url: {e}"))?;
        let ring = (0..s.pool_size.clamp(1, 16))
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        Ok(Self {
            pool,
            ring: std::sync::Arc::new(ring),
            next: std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            script: std::sync::Arc::new(redis::Script::new(include_str!("script.lua"))),
            timeout,
        })
    }

    /// One of the ring's connections (taken from the pool when its slot is
    /// empty), and the slot to clear if it fails.
    async fn connection(&self) -> Result<(MultiplexedConnection, usize), String> {
        let slot = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.ring.len();
        let cached = self.ring[slot]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(conn) = cached {
            return Ok((conn, slot));
        }
        let taken =
            deadpool_redis::Connection::take(self.pool.get().await.map_err(|e| e.to_string())?);
        *self.ring[slot].lock().unwrap_or_else(|e| e.into_inner()) = Some(taken.clone());
        Ok((taken, slot))
    }

    fn drop_connection(&self, slot: usize) {
        self.ring[slot]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }

    pub(super) async fn check(
        &self,
        tenant: TenantId,
        credential: &str,
        plan: &Plan,
    ) -> Result<Raw, String> {
        // one hash tag per tenant: every key of the script in one slot
        let tag = format!("prep:{{t:{}}}", tenant.as_uuid());
        let (mut conn, slot) = match tokio::time::timeout(self.timeout, self.connection()).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(format!("no connection within {:?}", self.timeout)),
        };
        let call = async {
            let reply: (i64, i64, i64, i64, i64, String) = self
                .script
                .key(&tag)
                .key(format!("{tag}:cred:{credential}"))
                .arg(plan.tenant_rate.interval_us)
                .arg(plan.tenant_rate.burst)
                .arg(plan.credential_rate.interval_us)
                .arg(plan.credential_rate.burst)
                .arg(plan.cost)
                .arg(plan.bucket.maximum)
                .arg(plan.bucket.per_second)
                .arg(plan.refund)
                .invoke_async(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(reply)
        };
        let answer = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))
            .and_then(|r| r);
        let (allowed, denied_by, retry, remaining, reset, available) = match answer {
            Ok(a) => a,
            Err(e) => {
                self.drop_connection(slot);
                return Err(e);
            }
        };
        let denied = match (allowed, denied_by) {
            (1, _) => None,
            (_, 1) => Some(Denied::TenantRate),
            (_, 2) => Some(Denied::CredentialRate),
            _ => Some(Denied::Cost),
        };
        Ok(Raw {
            denied,
            retry_after_us: u64::try_from(retry).unwrap_or(0),
            remaining: u64::try_from(remaining).unwrap_or(0),
            reset_us: u64::try_from(reset).unwrap_or(0),
            available: available.parse::<f64>().unwrap_or(0.0),
        })
    }

    pub(super) async fn ping(&self) -> Result<(), String> {
        let call = async {
            let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
            for slot in 0..self.ring.len() {
                self.drop_connection(slot);
            }
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        };
        tokio::time::timeout(Duration::from_secs(1), call)
            .await
            .map_err(|_| "ping timed out".to_owned())?
            .map(|_| ())
    }
}
