//! Sandbox keys: how a developer comes back to their own sandbox tenant and
//! gets fresh tokens for its developer user, with no identity provider in
//! the way. `prep_sbx_` + id + secret + check, in the connector key format
//! (so a damaged key is refused offline); only an HMAC of the secret is
//! stored, and only sandbox tenants' keys are ever found.

use chrono::{DateTime, Utc};
use prep_tenancy::{Database, SandboxKeyRecord, TenantId, TenantTx};
use ring::hmac;
use uuid::Uuid;

use crate::connectors::apikey;
use crate::{AuthError, MasterKey};

/// Every sandbox key starts with this.
pub const PREFIX: &str = "prep_sbx_";

/// Why a sandbox key was refused (the caller hears one message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SandboxKeyRefusal {
    /// Not a sandbox key, or a damaged one: decided offline.
    Malformed,
    /// No sandbox tenant has a key with this id (or the secret differs).
    Unknown,
    /// Revoked or expired.
    Ended,
}

/// Whose a valid sandbox key is.
#[derive(Clone, Debug)]
pub struct SandboxOwner {
    /// The sandbox tenant.
    pub tenant: TenantId,
    /// Its slug.
    pub tenant_slug: String,
    /// The developer user.
    pub user: Uuid,
}

/// Issues and checks sandbox keys.
pub struct SandboxKeys {
    mac: hmac::Key,
}

impl SandboxKeys {
    /// Keys MACed under a key derived from the master key.
    pub fn new(master: &MasterKey) -> Self {
        Self {
            mac: master.mac_key(b"sandbox-key"),
        }
    }

    /// Issues a key for `user` of the (sandbox) tenant of `tx`.
    pub async fn issue(
        &self,
        tx: &mut TenantTx,
        user: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<String, AuthError> {
        let id = Uuid::new_v4();
        let key = apikey::generate_with(PREFIX, id)
            .map_err(|_| AuthError::Key("the system random source failed".into()))?;
        let (_, secret) = apikey::parse_with(&key, PREFIX)
            .map_err(|_| AuthError::Key("a generated sandbox key did not parse".into()))?;
        let tag = apikey::mac(&self.mac, id, secret);
        sqlx::query(
            "insert into sandbox_keys (tenant_id, id, user_id, secret_hash, expires_at)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(id)
        .bind(user)
        .bind(tag.as_ref())
        .bind(expires_at)
        .execute(tx.conn())
        .await
        .map_err(|e| AuthError::Store(e.into()))?;
        Ok(key)
    }

    /// The sandbox and user behind a presented key.
    pub async fn authenticate(
        &self,
        db: &Database,
        presented: &str,
    ) -> Result<SandboxOwner, SandboxKeyRefusal> {
        let (id, secret) =
            apikey::parse_with(presented, PREFIX).map_err(|_| SandboxKeyRefusal::Malformed)?;
        let record: SandboxKeyRecord = db
            .sandbox_key(id)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "sandbox key look-up failed");
                SandboxKeyRefusal::Unknown
            })?
            .ok_or(SandboxKeyRefusal::Unknown)?;
        if !apikey::verify(&self.mac, id, secret, &record.secret_hash) {
            return Err(SandboxKeyRefusal::Unknown);
        }
        if record.revoked_at.is_some() || record.expires_at <= Utc::now() {
            return Err(SandboxKeyRefusal::Ended);
        }
        Ok(SandboxOwner {
            tenant: record.tenant,
            tenant_slug: record.tenant_slug,
            user: record.user_id,
        })
    }
}
