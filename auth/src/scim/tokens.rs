//! SCIM bearer tokens: the IdP's credential for one tenant. The token, never
//! a header or body field, decides the tenant. Shown once; only an HMAC of
//! the secret (under a key derived from the master key) is stored, so a
//! database reader cannot provision.
//!
//! Format: `prep_scim_` + the token id (32 hex digits) + 43 characters of
//! base64url secret. The fixed shape lets a malformed token be refused
//! without a database round trip, and makes a leaked token recognisable.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use prep_tenancy::{Database, TenantId, TenantTx};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;

use super::ScimError;
use crate::MasterKey;

/// Every SCIM token starts with this.
pub const PREFIX: &str = "prep_scim_";
const TOKEN_LEN: usize = PREFIX.len() + 32 + 43;

/// Whom a SCIM request acts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScimClient {
    /// The tenant provisioned.
    pub tenant: TenantId,
    /// The token used (the audit actor).
    pub token_id: Uuid,
}

/// A token as listed to admins (never its secret).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ScimTokenInfo {
    /// Id.
    pub id: Uuid,
    /// The admin's label for it.
    pub name: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The token that replaced it on rotation.
    pub replaced_by: Option<Uuid>,
}

/// Issues and checks SCIM tokens.
pub struct ScimTokens {
    key: hmac::Key,
    rng: SystemRandom,
}

const COLUMNS: &str = "id, name, created_at, expires_at, revoked_at, last_used_at, replaced_by";

impl ScimTokens {
    /// Keys derived from the gateway's master key.
    pub fn new(master: &MasterKey) -> Self {
        ScimTokens {
            key: master.mac_key(b"scim-token"),
            rng: SystemRandom::new(),
        }
    }

    /// The client behind `Authorization: Bearer <token>`, or why not.
    pub async fn authenticate(
        &self,
        db: &Database,
        presented: &str,
    ) -> Result<ScimClient, ScimError> {
        let (id, secret) = parse(presented).ok_or(ScimError::Unauthorized(
            "the bearer token is not a Prep SCIM token",
        ))?;
        let record = db
            .scim_token(id)
            .await?
            .ok_or(ScimError::Unauthorized("the SCIM token is not known"))?;
        // `hmac::verify` compares in constant time.
        if hmac::verify(&self.key, &material(id, &secret), &record.secret_hash).is_err() {
            return Err(ScimError::Unauthorized("the SCIM token is not known"));
        }
        if record.revoked_at.is_some() {
            return Err(ScimError::Unauthorized("the SCIM token was revoked"));
        }
        if record.expires_at <= Utc::now() {
            return Err(ScimError::Unauthorized("the SCIM token has expired"));
        }
        Ok(ScimClient {
            tenant: record.tenant,
            token_id: id,
        })
    }

    /// Issues a token; returns it with the only copy of its secret.
    pub async fn issue(
        &self,
        tx: &mut TenantTx,
        name: &str,
        lifetime: Duration,
        created_by: Option<Uuid>,
    ) -> Result<(ScimTokenInfo, String), sqlx::Error> {
        let id = Uuid::new_v4();
        let mut secret = [0u8; 32];
        self.rng
            .fill(&mut secret)
            .map_err(|_| sqlx::Error::Protocol("the system random source failed".into()))?;
        let hash = hmac::sign(&self.key, &material(id, &secret));
        let info: ScimTokenInfo = sqlx::query_as(&format!(
            "insert into scim_tokens (tenant_id, id, name, secret_hash, created_by, expires_at)
             values ($1, $2, $3, $4, $5, now() + $6)
             returning {COLUMNS}"
        ))
        .bind(tx.tenant().as_uuid())
        .bind(id)
        .bind(name)
        .bind(hash.as_ref())
        .bind(created_by)
        .bind(lifetime)
        .fetch_one(tx.conn())
        .await?;
        let token = format!("{PREFIX}{}{}", id.simple(), URL_SAFE_NO_PAD.encode(secret));
        Ok((info, token))
    }

    /// Replaces a live token by a new one with the same name and lifetime;
    /// the old one keeps working for `overlap` so the IdP can be updated.
    pub async fn rotate(
        &self,
        tx: &mut TenantTx,
        id: Uuid,
        overlap: Duration,
        created_by: Option<Uuid>,
    ) -> Result<Option<(ScimTokenInfo, String)>, sqlx::Error> {
        let old: Option<(String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
            "select name, created_at, expires_at from scim_tokens
             where id = $1 and revoked_at is null and replaced_by is null and expires_at > now()
             for update",
        )
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        let Some((name, created_at, expires_at)) = old else {
            return Ok(None);
        };
        let lifetime = (expires_at - created_at).max(Duration::days(1));
        let (info, token) = self.issue(tx, &name, lifetime, created_by).await?;
        sqlx::query(
            "update scim_tokens set replaced_by = $2, expires_at = least(expires_at, now() + $3)
             where id = $1",
        )
        .bind(id)
        .bind(info.id)
        .bind(overlap)
        .execute(tx.conn())
        .await?;
        Ok(Some((info, token)))
    }

    /// Revokes a token at once. `false` when there is no live token by that id.
    pub async fn revoke(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "update scim_tokens set revoked_at = now() where id = $1 and revoked_at is null",
        )
        .bind(id)
        .execute(tx.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The tenant's tokens, newest first.
    pub async fn list(tx: &mut sqlx::PgConnection) -> Result<Vec<ScimTokenInfo>, sqlx::Error> {
        sqlx::query_as(&format!(
            "select {COLUMNS} from scim_tokens order by created_at desc, id limit 200"
        ))
        .fetch_all(tx)
        .await
    }

    /// One token by id.
    pub async fn get(
        tx: &mut sqlx::PgConnection,
        id: Uuid,
    ) -> Result<Option<ScimTokenInfo>, sqlx::Error> {
        sqlx::query_as(&format!("select {COLUMNS} from scim_tokens where id = $1"))
            .bind(id)
            .fetch_optional(tx)
            .await
    }
}

/// What is MACed: the id binds the secret to its row.
fn material(id: Uuid, secret: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(16 + secret.len());
    m.extend_from_slice(id.as_bytes());
    m.extend_from_slice(secret);
    m
}

/// Splits a well-formed token into id and secret; `None` for anything else.
fn parse(token: &str) -> Option<(Uuid, Vec<u8>)> {
    if token.len() != TOKEN_LEN || !token.starts_with(PREFIX) {
        return None;
    }
    let rest = &token[PREFIX.len()..];
    let id = Uuid::try_parse(&rest[..32]).ok()?;
    let secret = URL_SAFE_NO_PAD.decode(&rest[32..]).ok()?;
    (secret.len() == 32).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_parse() {
        let id = Uuid::new_v4();
        let good = format!(
            "{PREFIX}{}{}",
            id.simple(),
            URL_SAFE_NO_PAD.encode([7u8; 32])
        );
        assert_eq!(parse(&good).map(|(i, _)| i), Some(id));
        assert!(parse(&good[1..]).is_none());
        assert!(parse(&good.replace("prep_scim_", "prep_scam_")).is_none());
        assert!(parse(&format!("{good}x")).is_none());
        let bad_b64 = format!("{PREFIX}{}{}", id.simple(), "!".repeat(43));
        assert!(parse(&bad_b64).is_none());
        assert!(parse("").is_none());
    }
}
