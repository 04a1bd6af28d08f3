//! What connector authentication needs from the database: a key's record by
//! its id before any tenant is known (one allow-listed SECURITY DEFINER
//! function), and the batched write of when and from where keys were used.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Database, TenancyError, TenantId};

/// A connector key as stored, with everything that decides what it may do.
#[derive(Clone, Debug)]
pub struct ConnectorKeyRecord {
    /// The tenant the key works for.
    pub tenant: TenantId,
    /// The connector it belongs to.
    pub connector_id: Uuid,
    /// `live` or `test` (sandbox tenants): the key's visible prefix.
    pub environment: String,
    /// HMAC of the secret.
    pub secret_hash: Vec<u8>,
    /// When the key stops working (pulled in when it is rolled).
    pub key_expires_at: DateTime<Utc>,
    /// When an admin revoked this key.
    pub key_revoked_at: Option<DateTime<Utc>>,
    /// When an admin revoked the whole connector.
    pub connector_revoked_at: Option<DateTime<Utc>>,
    /// Granted scopes (`resource:action`).
    pub scopes: Vec<String>,
    /// Source networks allowed (`None`: any).
    pub allowed_cidrs: Option<Vec<String>>,
    /// Locations it is restricted to (`None`: the whole tenant).
    pub location_ids: Option<Vec<Uuid>>,
    /// Whether the tenant is a sandbox.
    pub is_sandbox: bool,
    /// The tenant's slug (a request may name its tenant by it).
    pub tenant_slug: String,
}

/// One use of a key, remembered in memory and written in batches.
#[derive(Clone, Copy, Debug)]
pub struct ConnectorUse {
    /// The key's tenant.
    pub tenant: TenantId,
    /// The key.
    pub key_id: Uuid,
    /// When it was last used.
    pub at: DateTime<Utc>,
    /// From where.
    pub ip: Option<IpAddr>,
}

type KeyRow = (
    Uuid,
    Uuid,
    String,
    Vec<u8>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Vec<String>,
    Option<Vec<String>>,
    Option<Vec<Uuid>>,
    bool,
    String,
);

impl Database {
    /// The connector key with this id, or `None`.
    pub async fn connector_key(
        &self,
        key_id: Uuid,
    ) -> Result<Option<ConnectorKeyRecord>, TenancyError> {
        let row: Option<KeyRow> = sqlx::query_as(
            "select tenant_id, connector_id, environment, secret_hash, key_expires_at,
                    key_revoked_at, connector_revoked_at, scopes, allowed_cidrs, location_ids,
                    is_sandbox, tenant_slug
             from connector_key_resolve($1)",
        )
        .bind(key_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(
            |(
                tenant,
                connector_id,
                environment,
                secret_hash,
                key_expires_at,
                key_revoked_at,
                connector_revoked_at,
                scopes,
                allowed_cidrs,
                location_ids,
                is_sandbox,
                tenant_slug,
            )| ConnectorKeyRecord {
                tenant: TenantId::from_uuid(tenant),
                connector_id,
                environment,
                secret_hash,
                key_expires_at,
                key_revoked_at,
                connector_revoked_at,
                scopes,
                allowed_cidrs,
                location_ids,
                is_sandbox,
                tenant_slug,
            },
        ))
    }

    /// Writes keys' last use, one statement per tenant inside that tenant's
    /// own transaction (no cross-tenant write path exists). A use never
    /// moves `last_used_at` backwards.
    pub async fn record_connector_uses(&self, uses: &[ConnectorUse]) -> Result<(), TenancyError> {
        let mut by_tenant: BTreeMap<TenantId, Vec<&ConnectorUse>> = BTreeMap::new();
        for u in uses {
            by_tenant.entry(u.tenant).or_default().push(u);
        }
        for (tenant, uses) in by_tenant {
            let ids: Vec<Uuid> = uses.iter().map(|u| u.key_id).collect();
            let ats: Vec<DateTime<Utc>> = uses.iter().map(|u| u.at).collect();
            let ips: Vec<Option<String>> =
                uses.iter().map(|u| u.ip.map(|ip| ip.to_string())).collect();
            let mut tx = self.begin(tenant).await?;
            sqlx::query(
                "update connector_keys k set last_used_at = u.at, last_used_ip = u.ip::inet
                 from unnest($1::uuid[], $2::timestamptz[], $3::text[]) as u(id, at, ip)
                 where k.id = u.id and (k.last_used_at is null or k.last_used_at < u.at)",
            )
            .bind(ids)
            .bind(ats)
            .bind(ips)
            .execute(tx.conn())
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Deletes stored idempotent responses past their expiry, across
    /// tenants (through the allow-listed `idempotency_keys_purge`).
    pub async fn purge_idempotency_keys(&self, max_rows: i32) -> Result<i32, TenancyError> {
        let n: i32 = sqlx::query_scalar("select idempotency_keys_purge($1)")
            .bind(max_rows)
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}

/// A sandbox key as stored, found by its id; only sandbox tenants' keys
/// are ever found.
#[derive(Clone, Debug)]
pub struct SandboxKeyRecord {
    /// The sandbox tenant.
    pub tenant: TenantId,
    /// Its slug.
    pub tenant_slug: String,
    /// The developer user the key mints tokens for.
    pub user_id: Uuid,
    /// HMAC of the secret.
    pub secret_hash: Vec<u8>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Database {
    /// The sandbox key with this id (through `sandbox_key_resolve`).
    pub async fn sandbox_key(
        &self,
        key_id: Uuid,
    ) -> Result<Option<SandboxKeyRecord>, TenancyError> {
        type Row = (
            Uuid,
            String,
            Uuid,
            Vec<u8>,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
        );
        let row: Option<Row> = sqlx::query_as(
            "select tenant_id, tenant_slug, user_id, secret_hash, expires_at, revoked_at
             from sandbox_key_resolve($1)",
        )
        .bind(key_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(
            |(tenant, tenant_slug, user_id, secret_hash, expires_at, revoked_at)| {
                SandboxKeyRecord {
                    tenant: TenantId::from_uuid(tenant),
                    tenant_slug,
                    user_id,
                    secret_hash,
                    expires_at,
                    revoked_at,
                }
            },
        ))
    }
}
