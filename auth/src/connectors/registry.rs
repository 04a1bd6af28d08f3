//! Connector key checks on the request path, with no database round trip
//! for a key seen recently.
//!
//! A key's state (its tenant, scopes, locations, address ranges, expiry and
//! revocation) is cached by key id on each replica. PostgreSQL pushes every
//! change to a connector, its locations or its keys to all replicas
//! (`prep_connectors`), which drop what they cached about it, so a
//! revocation takes effect everywhere within moments; cached entries also
//! age out after `cache_ttl` in case a notification was lost, and the whole
//! cache is dropped when the listener reconnects. The secret is checked
//! against the stored HMAC on every request, in constant time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use prep_tenancy::{ConnectorKeyRecord, ConnectorUse, Database, TenantId};
use ring::hmac;
use uuid::Uuid;

use super::apikey::{self, Environment, FormatError};
use super::cidr::Cidr;
use super::ScopeSet;
use crate::access::{Access, ScopeGrant};
use crate::{Actor, AuthError, MasterKey, Principal, Via};

/// Bound on cached keys (a few hundred bytes each); the cache is emptied
/// when full, which costs one look-up per live key.
const CACHE_CAPACITY: usize = 16_384;
/// How long an unknown key id is remembered as unknown, so a client
/// retrying a deleted key does not cost a look-up per request.
const UNKNOWN_TTL: Duration = Duration::from_secs(10);

/// Tuning of the key cache and of last-use tracking.
#[derive(Clone, Copy, Debug)]
pub struct ConnectorSettings {
    /// Longest a cached key state is trusted without a change notification.
    pub cache_ttl: Duration,
    /// A key's last use is written at most this often.
    pub usage_interval: Duration,
}

impl Default for ConnectorSettings {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(60),
            usage_interval: Duration::from_secs(60),
        }
    }
}

/// Why a connector credential was refused. The caller hears only a fixed
/// message; the reason goes to the security log (and, when the key's
/// tenant is known, to that tenant's audit trail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRefusal {
    /// Not a well-formed key: decided without any look-up.
    Format(FormatError),
    /// No key has this id.
    Unknown,
    /// The secret does not match the key's.
    Secret,
    /// The key was revoked.
    KeyRevoked,
    /// The key expired (or its roll-over overlap ended).
    KeyExpired,
    /// The whole connector was revoked.
    ConnectorRevoked,
    /// A test key on a live tenant or the other way round.
    Environment,
    /// The request comes from outside the connector's address ranges.
    SourceAddress,
    /// The request names another tenant than the key's.
    TenantMismatch,
}

impl KeyRefusal {
    /// A stable name for logs, metrics and security events.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRefusal::Format(FormatError::Prefix) => "key_prefix",
            KeyRefusal::Format(FormatError::Malformed) => "key_malformed",
            KeyRefusal::Format(FormatError::Checksum) => "key_checksum",
            KeyRefusal::Unknown => "key_unknown",
            KeyRefusal::Secret => "key_secret",
            KeyRefusal::KeyRevoked => "key_revoked",
            KeyRefusal::KeyExpired => "key_expired",
            KeyRefusal::ConnectorRevoked => "connector_revoked",
            KeyRefusal::Environment => "key_environment",
            KeyRefusal::SourceAddress => "source_address",
            KeyRefusal::TenantMismatch => "tenant_mismatch",
        }
    }
}

/// A refusal, with the tenant and connector when the key was a real one
/// (for that tenant's audit trail).
#[derive(Clone, Copy, Debug)]
pub struct Refused {
    /// Why.
    pub reason: KeyRefusal,
    /// The key's tenant, once the key was found.
    pub tenant: Option<TenantId>,
    /// The key's connector, once the key was found.
    pub connector: Option<Uuid>,
}

impl From<KeyRefusal> for Refused {
    fn from(reason: KeyRefusal) -> Self {
        Refused {
            reason,
            tenant: None,
            connector: None,
        }
    }
}

/// Everything that decides what one key may do, as last read.
#[derive(Debug)]
pub struct KeyState {
    /// The key's id.
    pub key_id: Uuid,
    /// Its tenant.
    pub tenant: TenantId,
    /// Its tenant's slug.
    pub tenant_slug: String,
    /// Its connector.
    pub connector_id: Uuid,
    environment: Environment,
    secret_hash: Vec<u8>,
    expires_at: DateTime<Utc>,
    key_revoked: bool,
    connector_revoked: bool,
    /// The connector's scopes.
    pub scopes: ScopeSet,
    cidrs: Option<Vec<Cidr>>,
    locations: Option<Arc<[Uuid]>>,
    is_sandbox: bool,
}

impl KeyState {
    fn from_record(key_id: Uuid, r: ConnectorKeyRecord) -> Self {
        let scopes = ScopeSet::parse(r.scopes.iter().map(String::as_str)).unwrap_or_else(|e| {
            tracing::warn!(connector.id = %r.connector_id, error = %e, "stored scopes do not parse; granting none");
            ScopeSet::EMPTY
        });
        let cidrs = r.allowed_cidrs.map(|list| {
            list.iter()
                .filter_map(|c| match c.parse::<Cidr>() {
                    Ok(c) => Some(c),
                    Err(e) => {
                        tracing::warn!(connector.id = %r.connector_id, error = %e, "a stored address range does not parse; ignoring it");
                        None
                    }
                })
                .collect()
        });
        KeyState {
            key_id,
            tenant: r.tenant,
            tenant_slug: r.tenant_slug,
            connector_id: r.connector_id,
            environment: if r.environment == "test" {
                Environment::Test
            } else {
                Environment::Live
            },
            secret_hash: r.secret_hash,
            expires_at: r.key_expires_at,
            key_revoked: r.key_revoked_at.is_some(),
            connector_revoked: r.connector_revoked_at.is_some(),
            scopes,
            cidrs,
            locations: r.location_ids.map(Into::into),
            is_sandbox: r.is_sandbox,
        }
    }

    /// Whether the key may be used now, from `ip`.
    fn usable(&self, ip: Option<IpAddr>) -> Result<(), KeyRefusal> {
        if self.connector_revoked {
            return Err(KeyRefusal::ConnectorRevoked);
        }
        if self.key_revoked {
            return Err(KeyRefusal::KeyRevoked);
        }
        if self.expires_at <= Utc::now() {
            return Err(KeyRefusal::KeyExpired);
        }
        if self.environment != Environment::of_tenant(self.is_sandbox) {
            return Err(KeyRefusal::Environment);
        }
        if let Some(cidrs) = &self.cidrs {
            let inside = ip.is_some_and(|ip| cidrs.iter().any(|c| c.contains(ip)));
            if !inside {
                return Err(KeyRefusal::SourceAddress);
            }
        }
        Ok(())
    }

    fn refused(&self, reason: KeyRefusal) -> Refused {
        Refused {
            reason,
            tenant: Some(self.tenant),
            connector: Some(self.connector_id),
        }
    }

    /// The principal acting with `scopes` of this key, `via` a key or token.
    fn principal(&self, scopes: ScopeSet, via: Via) -> Principal {
        Principal {
            tenant: self.tenant,
            actor: Actor::Connector(self.connector_id),
            access: Access::Scopes(ScopeGrant {
                scopes,
                locations: self.locations.clone(),
            }),
            via,
        }
    }

    /// Whether `expected` (a tenant slug or id from the request) is this
    /// key's tenant.
    fn names_tenant(&self, expected: &str) -> bool {
        expected == self.tenant_slug
            || expected
                .parse::<Uuid>()
                .is_ok_and(|id| id == self.tenant.as_uuid())
    }
}

enum Cached {
    Known(Arc<KeyState>, Instant),
    Unknown(Instant),
}

#[derive(Default)]
struct Usage {
    /// Uses not yet written.
    pending: HashMap<Uuid, ConnectorUse>,
    /// When each key's use was last queued.
    queued_at: HashMap<Uuid, Instant>,
}

/// Connector key verification, its cache, and last-use tracking.
pub struct ConnectorAuth {
    db: Database,
    token_url: String,
    mac: hmac::Key,
    settings: ConnectorSettings,
    cache: RwLock<HashMap<Uuid, Cached>>,
    usage: Mutex<Usage>,
    lookups: AtomicU64,
    /// Bumped by every eviction, so a look-up that raced with a change
    /// does not cache what it read before the change.
    generation: AtomicU64,
}

impl ConnectorAuth {
    /// Builds it with the key MAC derived from the master key; `token_url`
    /// is where the client credentials grant is served.
    pub fn new(
        db: Database,
        master: &MasterKey,
        settings: ConnectorSettings,
        token_url: String,
    ) -> Self {
        Self {
            db,
            token_url,
            mac: master.mac_key(b"connector-key"),
            settings,
            cache: RwLock::new(HashMap::new()),
            usage: Mutex::new(Usage::default()),
            lookups: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        }
    }

    /// Where the client credentials grant is served.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The MAC key that stores a key's secret.
    pub(super) fn mac(&self) -> &hmac::Key {
        &self.mac
    }

    /// Database look-ups of key state so far (for `/metrics` and tests: a
    /// malformed key must never cause one).
    pub fn lookups(&self) -> u64 {
        self.lookups.load(Ordering::Relaxed)
    }

    /// The principal behind a presented API key, or why not.
    pub async fn authenticate_key(
        &self,
        presented: &str,
        ip: Option<IpAddr>,
        expected_tenant: Option<&str>,
    ) -> Result<Principal, Refused> {
        let state = self.verify_secret(presented).await?;
        if let Some(expected) = expected_tenant {
            if !state.names_tenant(expected) {
                return Err(state.refused(KeyRefusal::TenantMismatch));
            }
        }
        state.usable(ip).map_err(|r| state.refused(r))?;
        self.note_use(&state, ip);
        Ok(state.principal(state.scopes, Via::ApiKey(state.key_id)))
    }

    /// The key behind a presented secret, whatever its state: the secret
    /// matched. Used by the token endpoint, which then judges the state.
    pub async fn verify_secret(&self, presented: &str) -> Result<Arc<KeyState>, Refused> {
        let parsed = apikey::parse(presented).map_err(|e| Refused::from(KeyRefusal::Format(e)))?;
        let state = self
            .state(parsed.id)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "connector key look-up failed");
                Refused::from(KeyRefusal::Unknown)
            })?
            .ok_or(Refused::from(KeyRefusal::Unknown))?;
        if !apikey::verify(&self.mac, parsed.id, parsed.secret, &state.secret_hash) {
            return Err(state.refused(KeyRefusal::Secret));
        }
        if parsed.environment != state.environment {
            return Err(state.refused(KeyRefusal::Environment));
        }
        Ok(state)
    }

    /// Confirms a connector's gateway token against the current state of
    /// the key that obtained it: still live, from an allowed address, and
    /// with the token's scopes cut down to what the connector holds now.
    pub async fn confirm_token(
        &self,
        key_id: Uuid,
        token_scopes: ScopeSet,
        ip: Option<IpAddr>,
    ) -> Result<Principal, Refused> {
        let state = self
            .state(key_id)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "connector key look-up failed");
                Refused::from(KeyRefusal::Unknown)
            })?
            .ok_or(Refused::from(KeyRefusal::Unknown))?;
        state.usable(ip).map_err(|r| state.refused(r))?;
        self.note_use(&state, ip);
        let scopes = state.scopes.intersect(token_scopes);
        Ok(state.principal(scopes, Via::ConnectorToken(key_id)))
    }

    /// Whether `state` may be used now from `ip` (for the token endpoint).
    pub fn usable(&self, state: &KeyState, ip: Option<IpAddr>) -> Result<(), Refused> {
        state.usable(ip).map_err(|r| state.refused(r))
    }

    /// Records a use of `state`'s key (also for the token endpoint).
    pub fn note_use(&self, state: &KeyState, ip: Option<IpAddr>) {
        let now = Instant::now();
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        let due = usage
            .queued_at
            .get(&state.key_id)
            .is_none_or(|at| now.duration_since(*at) >= self.settings.usage_interval);
        if !due {
            return;
        }
        usage.queued_at.insert(state.key_id, now);
        usage.pending.insert(
            state.key_id,
            ConnectorUse {
                tenant: state.tenant,
                key_id: state.key_id,
                at: Utc::now(),
                ip,
            },
        );
    }

    /// Writes the queued last uses (a few statements a minute, whatever the
    /// traffic). Uses that fail to write are dropped with a warning.
    pub async fn flush_usage(&self) {
        let pending: Vec<ConnectorUse> = {
            let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
            let horizon = self.settings.usage_interval * 2;
            usage.queued_at.retain(|_, at| at.elapsed() < horizon);
            usage.pending.drain().map(|(_, u)| u).collect()
        };
        if pending.is_empty() {
            return;
        }
        if let Err(e) = self.db.record_connector_uses(&pending).await {
            tracing::warn!(error = %e, keys = pending.len(), "could not record connector key use");
        }
    }

    /// Forgets what was cached about one connector's keys.
    pub fn evict_connector(&self, connector_id: Uuid) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, c| !matches!(c, Cached::Known(s, _) if s.connector_id == connector_id));
    }

    /// Forgets everything (after notifications may have been missed).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The key's state, from the cache while fresh, else from the database.
    async fn state(&self, key_id: Uuid) -> Result<Option<Arc<KeyState>>, AuthError> {
        let ttl = self.settings.cache_ttl;
        {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            match cache.get(&key_id) {
                Some(Cached::Known(s, at)) if at.elapsed() < ttl => return Ok(Some(Arc::clone(s))),
                Some(Cached::Unknown(at)) if at.elapsed() < UNKNOWN_TTL => return Ok(None),
                _ => {}
            }
        }
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let generation = self.generation.load(Ordering::Acquire);
        let record = self
            .db
            .connector_key(key_id)
            .await
            .map_err(AuthError::store)?;
        let entry = record.map(|r| Arc::new(KeyState::from_record(key_id, r)));
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return Ok(entry);
        }
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        let now = Instant::now();
        cache.insert(
            key_id,
            match &entry {
                Some(s) => Cached::Known(Arc::clone(s), now),
                None => Cached::Unknown(now),
            },
        );
        Ok(entry)
    }
}
