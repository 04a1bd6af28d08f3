//! Idempotent writes: a mutation sent with an `Idempotency-Key` is applied
//! once per tenant and key; a retry gets the stored response.
//!
//! The key's row is inserted at the start of the request's one transaction
//! and its response stored just before that transaction commits, so a key
//! is either unused (the request failed, timed out or crashed: nothing was
//! applied) or bound to exactly one applied request. Concurrent retries
//! queue on the key's unique index and then read the stored response.

use std::time::Duration;

use crate::{TenancyError, TenantTx};

/// A client's idempotency key: 1 to 255 visible ASCII characters (the
/// IETF draft's quoted form is accepted too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a header value, or says what is wrong with it.
    pub fn parse(raw: &[u8]) -> Result<Self, &'static str> {
        let unquoted = match raw {
            [b'"', inner @ .., b'"'] => inner,
            other => other,
        };
        if unquoted.is_empty() || unquoted.len() > 255 {
            return Err("the Idempotency-Key header must be 1 to 255 characters");
        }
        if !unquoted.iter().all(|b| (0x21..=0x7e).contains(b)) {
            return Err("the Idempotency-Key header must be visible ASCII characters only");
        }
        Ok(Self(
            String::from_utf8(unquoted.to_vec()).map_err(|_| "the Idempotency-Key is not text")?,
        ))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the claim of a key found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: run the request, then store its response.
    Fresh,
    /// The key was used for this same request: answer with its response.
    Replay(Vec<u8>),
    /// The key was used for a different request (body, operation or caller).
    Mismatch,
    /// Bound but without a response: never committed that way, so only a
    /// concurrent takeover of an expired key shows this.
    InProgress,
}

pub(crate) async fn claim(
    tx: &mut TenantTx,
    key: &IdempotencyKey,
    fingerprint: &[u8; 32],
    ttl: Duration,
) -> Result<Claim, TenancyError> {
    let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(86_400);
    let claimed: Option<bool> = sqlx::query_scalar(
        "insert into idempotency_keys (tenant_id, key, fingerprint, expires_at)
         values ($1, $2, $3, now() + make_interval(secs => $4))
         on conflict (tenant_id, key) do update
           set fingerprint = excluded.fingerprint, response = null,
               created_at = now(), expires_at = excluded.expires_at
           where idempotency_keys.expires_at <= now()
         returning true",
    )
    .bind(tx.tenant().as_uuid())
    .bind(key.as_str())
    .bind(fingerprint.as_slice())
    .bind(ttl_secs as f64)
    .fetch_optional(tx.conn())
    .await?;
    if claimed.is_some() {
        return Ok(Claim::Fresh);
    }
    let (stored, response): (Vec<u8>, Option<Vec<u8>>) =
        sqlx::query_as("select fingerprint, response from idempotency_keys where key = $1")
            .bind(key.as_str())
            .fetch_one(tx.conn())
            .await?;
    Ok(if stored != fingerprint.as_slice() {
        Claim::Mismatch
    } else {
        match response {
            Some(body) => Claim::Replay(body),
            None => Claim::InProgress,
        }
    })
}

pub(crate) async fn store(
    tx: &mut TenantTx,
    key: &IdempotencyKey,
    response: &[u8],
) -> Result<(), TenancyError> {
    sqlx::query("update idempotency_keys set response = $2 where key = $1")
        .bind(key.as_str())
        .bind(response)
        .execute(tx.conn())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::IdempotencyKey;

    #[test]
    fn keys_are_visible_ascii_of_sane_length() {
        assert_eq!(
            IdempotencyKey::parse(b"sync-2026-11-30-001").map(|k| k.0),
            Ok("sync-2026-11-30-001".to_owned())
        );
        assert_eq!(
            IdempotencyKey::parse(b"\"8e03978e-40d5\"").map(|k| k.0),
            Ok("8e03978e-40d5".to_owned())
        );
        assert!(IdempotencyKey::parse(b"").is_err());
        assert!(IdempotencyKey::parse(b"\"\"").is_err());
        assert!(IdempotencyKey::parse(b"has space").is_err());
        assert!(IdempotencyKey::parse("caf\u{e9}".as_bytes()).is_err());
        assert!(IdempotencyKey::parse(&[b'a'; 256]).is_err());
        assert!(IdempotencyKey::parse(&[b'a'; 255]).is_ok());
    }
}
