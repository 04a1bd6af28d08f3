//! The look-ups identity needs before a tenant is known, or across tenants:
//! the gateway's keyring, token revocations, session cookies, SSO discovery
//! and security events. Each goes through a global table the runtime role
//! may touch or an allow-listed SECURITY DEFINER function returning ids.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use uuid::Uuid;

use crate::{Database, TenancyError, TenantId};

/// A signing key as stored: the private half sealed by the caller.
#[derive(Clone, Debug)]
pub struct StoredKey {
    /// Key id (`kid`).
    pub kid: String,
    /// The raw Ed25519 public key.
    pub public_key: Vec<u8>,
    /// The sealed PKCS#8 private key.
    pub private_key_sealed: Vec<u8>,
    /// When it was published.
    pub created_at: DateTime<Utc>,
    /// When it starts signing.
    pub signs_from: DateTime<Utc>,
    /// When it stops verifying, once retired.
    pub verifies_until: Option<DateTime<Utc>>,
}

/// A live browser session behind a cookie.
#[derive(Clone, Debug)]
pub struct ResolvedSession {
    /// Its tenant.
    pub tenant: TenantId,
    /// The session id.
    pub session_id: Uuid,
    /// The signed-in user.
    pub user_id: Uuid,
    /// The SSO connection it came through.
    pub connection_id: Option<Uuid>,
    /// When it ends whatever happens.
    pub absolute_expires_at: DateTime<Utc>,
    /// The user's grants now, as `role` or `role@location`.
    pub grants: Vec<String>,
}

/// A revocation: tokens of `user` issued before `revoked_before` are dead.
#[derive(Clone, Copy, Debug)]
pub struct Revocation {
    /// The user's tenant.
    pub tenant: TenantId,
    /// The user.
    pub user_id: Uuid,
    /// The cut-off.
    pub revoked_before: DateTime<Utc>,
}

/// A security event that may precede any tenant.
#[derive(Clone, Debug)]
pub struct SecurityEvent {
    /// What happened (`token_rejected`, `login_failed`, ...).
    pub kind: &'static str,
    /// Why, for operators. Never a token or personal data.
    pub reason: String,
    /// The tenant the request claimed, if any (not proof of anything).
    pub claimed_tenant: Option<Uuid>,
    /// The request id.
    pub request_id: Option<String>,
    /// The client address.
    pub ip: Option<std::net::IpAddr>,
}

type KeyRow = (
    String,
    Vec<u8>,
    Vec<u8>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

const REVOCATION_CHANNEL: &str = "prep_token_revocations";
const KEYRING_CHANNEL: &str = "prep_keyring";
const CONNECTOR_CHANNEL: &str = "prep_connectors";

/// What another replica (or the database) told us.
#[derive(Clone, Copy, Debug)]
pub enum IdentityNotice {
    /// A user's tokens were revoked.
    Revocation(Revocation),
    /// A signing key was added or retired: reload the keyring.
    KeyringChanged,
    /// A connector, its locations or one of its keys changed: forget what
    /// was cached about it.
    ConnectorChanged(Uuid),
}

/// A SCIM token as stored, found by its id before any tenant is known.
#[derive(Clone, Debug)]
pub struct ScimTokenRecord {
    /// The tenant the token provisions.
    pub tenant: TenantId,
    /// HMAC of the secret.
    pub secret_hash: Vec<u8>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When an admin revoked it.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Database {
    /// The SCIM token with this id, marking it used (at most once a minute).
    pub async fn scim_token(&self, id: Uuid) -> Result<Option<ScimTokenRecord>, TenancyError> {
        type Row = (Uuid, Vec<u8>, DateTime<Utc>, Option<DateTime<Utc>>);
        let row: Option<Row> = sqlx::query_as(
            "select tenant_id, secret_hash, expires_at, revoked_at from scim_token_resolve($1)",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(
            |(tenant, secret_hash, expires_at, revoked_at)| ScimTokenRecord {
                tenant: TenantId::from_uuid(tenant),
                secret_hash,
                expires_at,
                revoked_at,
            },
        ))
    }

    /// Every key still published (not yet past `verifies_until`).
    pub async fn signing_keys(&self) -> Result<Vec<StoredKey>, TenancyError> {
        let rows: Vec<KeyRow> = sqlx::query_as(
            "select kid, public_key, private_key_sealed, created_at, signs_from, verifies_until
             from signing_keys
             where verifies_until is null or verifies_until > now()
             order by signs_from",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(kid, public_key, private_key_sealed, created_at, signs_from, verifies_until)| {
                    StoredKey {
                        kid,
                        public_key,
                        private_key_sealed,
                        created_at,
                        signs_from,
                        verifies_until,
                    }
                },
            )
            .collect())
    }

    /// Adds `key` and retires every other still-open key at `retire_at`,
    /// in one transaction under an advisory lock, so two replicas rotating
    /// at once cannot both win.
    pub async fn rotate_signing_key(
        &self,
        key: &StoredKey,
        retire_at: DateTime<Utc>,
        only_if_older_than: Option<DateTime<Utc>>,
    ) -> Result<bool, TenancyError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("select pg_advisory_xact_lock(hashtext('prep_signing_key_rotation'))")
            .execute(&mut *tx)
            .await?;
        if let Some(cutoff) = only_if_older_than {
            let newest: Option<DateTime<Utc>> =
                sqlx::query_scalar("select max(signs_from) from signing_keys")
                    .fetch_one(&mut *tx)
                    .await?;
            if newest.is_some_and(|newest| newest > cutoff) {
                return Ok(false);
            }
        }
        sqlx::query(
            "update signing_keys set verifies_until = greatest($1, created_at)
             where verifies_until is null or verifies_until > $1",
        )
        .bind(retire_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into signing_keys (kid, public_key, private_key_sealed, created_at, signs_from)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(&key.public_key)
        .bind(&key.private_key_sealed)
        .bind(key.created_at)
        .bind(key.signs_from)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Revocations newer than `since`, across tenants (ids and times only).
    pub async fn token_revocations_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<Revocation>, TenancyError> {
        let rows: Vec<(Uuid, Uuid, DateTime<Utc>)> = sqlx::query_as(
            "select tenant_id, user_id, revoked_before from token_revocations_since($1)",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(tenant, user_id, revoked_before)| Revocation {
                tenant: TenantId::from_uuid(tenant),
                user_id,
                revoked_before,
            })
            .collect())
    }

    /// A listener that receives every revocation, keyring change and
    /// connector change as it commits.
    pub async fn listen_identity(&self) -> Result<IdentityListener, TenancyError> {
        // A connection of its own: a listener holds it for good, and must
        // not take a slot of the request pool.
        let options = self.pool().connect_options().as_ref().clone();
        let own = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&own).await?;
        listener
            .listen_all([REVOCATION_CHANNEL, KEYRING_CHANNEL, CONNECTOR_CHANNEL])
            .await?;
        Ok(IdentityListener(listener))
    }

    /// The live session whose cookie hashes to `hash`, sliding its idle
    /// window. `None` for unknown, ended or expired sessions alike.
    pub async fn resolve_session(
        &self,
        hash: &[u8],
        idle_seconds: i32,
    ) -> Result<Option<ResolvedSession>, TenancyError> {
        type Row = (Uuid, Uuid, Uuid, Option<Uuid>, DateTime<Utc>, Vec<String>);
        let row: Option<Row> = sqlx::query_as(
            "select tenant_id, session_id, user_id, connection_id, absolute_expires_at, grants
             from session_resolve($1, $2)",
        )
        .bind(hash)
        .bind(idle_seconds)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(
            |(tenant, session_id, user_id, connection_id, absolute_expires_at, grants)| {
                ResolvedSession {
                    tenant: TenantId::from_uuid(tenant),
                    session_id,
                    user_id,
                    connection_id,
                    absolute_expires_at,
                    grants,
                }
            },
        ))
    }

    /// The tenant and SSO connection owning a verified e-mail domain.
    pub async fn sso_connection_for_domain(
        &self,
        domain: &str,
    ) -> Result<Option<(TenantId, Uuid)>, TenancyError> {
        let row: Option<(Uuid, Uuid)> = sqlx::query_as(
            "select tenant_id, connection_id from sso_connection_for_domain($1) limit 1",
        )
        .bind(domain)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(t, c)| (TenantId::from_uuid(t), c)))
    }

    /// Appends security events (write-only for the runtime role).
    pub async fn record_security_events(
        &self,
        events: &[SecurityEvent],
    ) -> Result<(), TenancyError> {
        if events.is_empty() {
            return Ok(());
        }
        let kinds: Vec<&str> = events.iter().map(|e| e.kind).collect();
        let reasons: Vec<&str> = events.iter().map(|e| e.reason.as_str()).collect();
        let tenants: Vec<Option<Uuid>> = events.iter().map(|e| e.claimed_tenant).collect();
        let requests: Vec<Option<&str>> = events.iter().map(|e| e.request_id.as_deref()).collect();
        let ips: Vec<Option<String>> = events
            .iter()
            .map(|e| e.ip.map(|ip| ip.to_string()))
            .collect();
        sqlx::query(
            "insert into security_events (kind, reason, claimed_tenant, request_id, ip)
             select k, left(r, 500), t, q, i::inet
             from unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[]) as u(k, r, t, q, i)",
        )
        .bind(kinds)
        .bind(reasons)
        .bind(tenants)
        .bind(requests)
        .bind(ips)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

/// Identity notices pushed by PostgreSQL as they commit.
pub struct IdentityListener(PgListener);

impl IdentityListener {
    /// The next notice. `Ok(None)` means the connection was lost and has
    /// been re-established: notifications may have been missed, so reload.
    pub async fn next(&mut self) -> Result<Option<IdentityNotice>, TenancyError> {
        loop {
            let Some(note) = self.0.try_recv().await? else {
                return Ok(None);
            };
            if note.channel() == KEYRING_CHANNEL {
                return Ok(Some(IdentityNotice::KeyringChanged));
            }
            if note.channel() == CONNECTOR_CHANNEL {
                match note.payload().parse::<Uuid>() {
                    Ok(id) => return Ok(Some(IdentityNotice::ConnectorChanged(id))),
                    Err(_) => {
                        tracing::warn!("ignored a malformed connector notification");
                        continue;
                    }
                }
            }
            if let Some(revocation) = parse_revocation(note.payload()) {
                return Ok(Some(IdentityNotice::Revocation(revocation)));
            }
            tracing::warn!("ignored a malformed revocation notification");
        }
    }
}

fn parse_revocation(payload: &str) -> Option<Revocation> {
    let mut parts = payload.split(' ');
    let tenant = parts.next()?.parse::<Uuid>().ok()?;
    let user_id = parts.next()?.parse::<Uuid>().ok()?;
    let epoch: f64 = parts.next()?.parse().ok()?;
    let micros = (epoch * 1_000_000.0).round() as i64;
    Some(Revocation {
        tenant: TenantId::from_uuid(tenant),
        user_id,
        revoked_before: DateTime::from_timestamp_micros(micros)?,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_revocation;

    #[test]
    fn revocation_payloads_parse_or_are_refused() {
        let r = parse_revocation(
            "00000000-0000-0000-0000-000000000001 00000000-0000-0000-0000-000000000002 1700000000.123456",
        )
        .expect("parses");
        assert_eq!(r.revoked_before.timestamp(), 1_700_000_000);
        assert_eq!(r.revoked_before.timestamp_subsec_micros(), 123_456);
        assert!(parse_revocation("x y z").is_none());
        assert!(parse_revocation("").is_none());
    }
}
