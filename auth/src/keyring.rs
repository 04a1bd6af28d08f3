//! The gateway's keyring: which key signs now, which keys verify, and the
//! JWKS that publishes them.
//!
//! Keys live in the database (private halves sealed with the master key), so
//! every replica shares one keyring. A planned rotation publishes the new key
//! `publish_ahead` before it signs anything (every replica and every JWKS
//! cache picks it up meanwhile) and keeps the old key verifying until the
//! last token it signed has expired: no token is ever rejected because of a
//! rotation. An emergency rotation retires the old key at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey};
use prep_tenancy::{Database, StoredKey};

use crate::seal::{MasterKey, Purpose, Sealer};
use crate::{AuthError, SigningKey};

/// When keys rotate.
#[derive(Clone, Copy, Debug)]
pub struct RotationPolicy {
    /// A key signs for this long before a planned rotation replaces it.
    pub rotate_every: Duration,
    /// A new key is published this long before it starts signing.
    pub publish_ahead: Duration,
    /// The longest a token can live (its TTL plus the verification leeway):
    /// a retired key verifies this long after its successor takes over.
    pub token_lifetime: Duration,
    /// A token with an unknown `kid` may force a reload at most this often.
    pub unknown_kid_reload: Duration,
}

/// How a rotation treats the key it replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Publish ahead, sign later, retire the old key once its tokens expired.
    Planned,
    /// The old key is compromised: the new one signs now and the old one
    /// stops verifying now (its tokens all die).
    Emergency,
}

struct Entry {
    kid: String,
    signs_from: DateTime<Utc>,
    encoding: EncodingKey,
}

struct KeySet {
    /// Ordered by `signs_from`.
    signers: Vec<Entry>,
    verifiers: HashMap<String, DecodingKey>,
    jwks: Arc<str>,
}

/// The shared keyring. Reads are lock-free in practice (an `Arc` swap under
/// a read lock); reloads happen off the request path.
pub struct Keyring {
    db: Database,
    sealer: Sealer,
    policy: RotationPolicy,
    set: RwLock<Arc<KeySet>>,
    last_forced: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").finish_non_exhaustive()
    }
}

impl Keyring {
    /// Loads the keyring, creating the first key if there is none.
    pub async fn open(
        db: Database,
        master: &MasterKey,
        policy: RotationPolicy,
    ) -> Result<Self, AuthError> {
        let ring = Self {
            db,
            sealer: master.sealer(Purpose::SigningKey),
            policy,
            set: RwLock::new(Arc::new(KeySet {
                signers: Vec::new(),
                verifiers: HashMap::new(),
                jwks: Arc::from(r#"{"keys":[]}"#),
            })),
            last_forced: Mutex::new(None),
        };
        ring.reload().await?;
        if ring.current().signers.is_empty() {
            ring.insert_key(Utc::now(), Utc::now(), Some(Utc::now()))
                .await?;
            ring.reload().await?;
        }
        Ok(ring)
    }

    fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.set.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reads the keyring from the database again.
    pub async fn reload(&self) -> Result<(), AuthError> {
        let stored = self.db.signing_keys().await.map_err(AuthError::store)?;
        let mut signers = Vec::with_capacity(stored.len());
        let mut verifiers = HashMap::with_capacity(stored.len());
        let mut jwks = Vec::with_capacity(stored.len());
        for key in stored {
            let pkcs8 = self
                .sealer
                .open(&key.private_key_sealed, key.kid.as_bytes())
                .map_err(|_| {
                    AuthError::Key(format!(
                        "signing key {} does not open with this master key",
                        key.kid
                    ))
                })?;
            verifiers.insert(key.kid.clone(), DecodingKey::from_ed_der(&key.public_key));
            jwks.push(serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA",
                "kid": key.kid, "x": URL_SAFE_NO_PAD.encode(&key.public_key),
            }));
            signers.push(Entry {
                kid: key.kid,
                signs_from: key.signs_from,
                encoding: EncodingKey::from_ed_der(&pkcs8),
            });
        }
        let jwks = serde_json::json!({ "keys": jwks }).to_string();
        let set = Arc::new(KeySet {
            signers,
            verifiers,
            jwks: Arc::from(jwks),
        });
        *self.set.write().unwrap_or_else(|e| e.into_inner()) = set;
        Ok(())
    }

    /// The key that signs now: the newest whose time has come.
    pub(crate) fn signer(&self) -> Option<(String, EncodingKey)> {
        let set = self.current();
        let now = Utc::now();
        set.signers
            .iter()
            .rev()
            .find(|e| e.signs_from <= now)
            .map(|e| (e.kid.clone(), e.encoding.clone()))
    }

    /// The verification key for `kid`. An unknown `kid` reloads the keyring
    /// (another replica may have rotated), at most once per
    /// `unknown_kid_reload`, so forged `kid`s cannot hammer the database.
    pub(crate) async fn verifier(&self, kid: &str) -> Option<DecodingKey> {
        if let Some(key) = self.current().verifiers.get(kid) {
            return Some(key.clone());
        }
        let due = {
            let mut last = self.last_forced.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|t| t.elapsed() >= self.policy.unknown_kid_reload);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            if let Err(e) = self.reload().await {
                tracing::warn!(error = %e, "keyring reload on an unknown kid failed");
            }
            return self.current().verifiers.get(kid).cloned();
        }
        None
    }

    /// Whether `kid` still verifies (an emergency rotation removes it).
    pub(crate) fn knows(&self, kid: &str) -> bool {
        self.current().verifiers.contains_key(kid)
    }

    /// The published key set, as `/.well-known/jwks.json` serves it.
    pub fn jwks(&self) -> Arc<str> {
        Arc::clone(&self.current().jwks)
    }

    /// Key ids currently published, oldest signer first.
    pub fn kids(&self) -> Vec<String> {
        self.current()
            .signers
            .iter()
            .map(|e| e.kid.clone())
            .collect()
    }

    /// Rotates now. Returns the new key id.
    pub async fn rotate(&self, how: Rotation) -> Result<String, AuthError> {
        let now = Utc::now();
        let (signs_from, retire_at) = match how {
            Rotation::Planned => {
                let signs_from = now + self.policy.publish_ahead;
                (signs_from, signs_from + self.policy.token_lifetime)
            }
            Rotation::Emergency => (now, now),
        };
        let kid = self.insert_key(signs_from, retire_at, None).await?;
        self.reload().await?;
        Ok(kid.unwrap_or_default())
    }

    /// The periodic job of every replica: rotate when the signing key is due
    /// (one replica wins, the others see its key), then reload.
    pub async fn maintain(&self) -> Result<(), AuthError> {
        let now = Utc::now();
        let due_before = now - self.policy.rotate_every;
        let signs_from = now + self.policy.publish_ahead;
        self.insert_key(
            signs_from,
            signs_from + self.policy.token_lifetime,
            Some(due_before),
        )
        .await?;
        self.reload().await
    }

    async fn insert_key(
        &self,
        signs_from: DateTime<Utc>,
        retire_at: DateTime<Utc>,
        only_if_older_than: Option<DateTime<Utc>>,
    ) -> Result<Option<String>, AuthError> {
        let key = SigningKey::generate()?;
        let stored = StoredKey {
            kid: key.kid().to_owned(),
            public_key: key.public_key().to_vec(),
            private_key_sealed: self.sealer.seal(key.pkcs8(), key.kid().as_bytes())?,
            created_at: Utc::now(),
            signs_from,
            verifies_until: None,
        };
        let inserted = self
            .db
            .rotate_signing_key(&stored, retire_at, only_if_older_than)
            .await
            .map_err(AuthError::store)?;
        Ok(inserted.then_some(stored.kid))
    }
}
