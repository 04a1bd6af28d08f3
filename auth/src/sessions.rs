//! Server-side browser sessions behind an opaque `__Host-` cookie.
//!
//! The cookie carries 32 random bytes; the database keeps only their
//! SHA-256, so neither a log line nor a database dump can ride a session.
//! Sessions end on idle, at an absolute limit, on logout, and when the user
//! is deactivated (a trigger ends them in the deactivating transaction).
//! Mutations over a session need its CSRF token, an HMAC of the session id
//! that the web app reads from `/auth/session` and sends as `x-csrf-token`.

use std::net::IpAddr;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use prep_tenancy::{Database, TenantTx};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac};
use uuid::Uuid;

use crate::access::{Access, Grant};
use crate::{Actor, AuthError, MasterKey, Principal, Via};

/// The session cookie's name. `__Host-` makes browsers insist on `Secure`,
/// `Path=/` and no `Domain`, so no sibling sub-domain can plant or read it.
pub const SESSION_COOKIE: &str = "__Host-prep_session";

/// Session lifetimes.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// Ends after this long without a request.
    pub idle: Duration,
    /// Ends this long after sign-in, whatever happens.
    pub absolute: Duration,
}

/// A session just started: the cookie to set, once.
#[derive(Debug)]
pub struct NewSession {
    /// The session id.
    pub id: Uuid,
    /// The cookie value (never stored, never logged).
    pub cookie_value: String,
    /// When it ends at the latest.
    pub absolute_expires_at: DateTime<Utc>,
}

/// A session resolved from its cookie.
#[derive(Clone, Debug)]
pub struct ActiveSession {
    /// Who it belongs to, with their current grants.
    pub principal: Principal,
    /// The session id.
    pub id: Uuid,
    /// The SSO connection it came through.
    pub connection_id: Option<Uuid>,
    /// When it ends at the latest.
    pub absolute_expires_at: DateTime<Utc>,
}

/// Starts, resolves and ends sessions.
pub struct Sessions {
    db: Database,
    csrf: hmac::Key,
    policy: SessionPolicy,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Builds the service.
    pub fn new(db: Database, master: &MasterKey, policy: SessionPolicy) -> Self {
        Self {
            db,
            csrf: master.mac_key(b"prep/csrf/v1"),
            policy,
            rng: SystemRandom::new(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// Starts a session for `user` in the transaction's tenant.
    pub async fn start(
        &self,
        tx: &mut TenantTx,
        user: Uuid,
        connection: Option<Uuid>,
        ip: Option<IpAddr>,
    ) -> Result<NewSession, AuthError> {
        let mut secret = [0u8; 32];
        self.rng
            .fill(&mut secret)
            .map_err(|_| AuthError::Key("the system random source failed".into()))?;
        let hash = digest::digest(&digest::SHA256, &secret);
        let now = Utc::now();
        let idle = now + self.policy.idle;
        let absolute = now + self.policy.absolute;
        let tenant = tx.tenant().as_uuid();
        let id: Uuid = sqlx::query_scalar(
            "insert into sessions (tenant_id, token_hash, user_id, connection_id,
                                   idle_expires_at, absolute_expires_at, ip)
             values ($1, $2, $3, $4, $5, $6, $7::text::inet)
             returning id",
        )
        .bind(tenant)
        .bind(hash.as_ref())
        .bind(user)
        .bind(connection)
        .bind(idle)
        .bind(absolute)
        .bind(ip.map(|ip| ip.to_string()))
        .fetch_one(tx.conn())
        .await
        .map_err(|e| AuthError::store(e.into()))?;
        Ok(NewSession {
            id,
            cookie_value: URL_SAFE_NO_PAD.encode(secret),
            absolute_expires_at: absolute,
        })
    }

    /// The live session behind a cookie value, or `None` for anything else
    /// (malformed, unknown, ended, expired, user deactivated).
    pub async fn resolve(&self, cookie_value: &str) -> Result<Option<ActiveSession>, AuthError> {
        let Some(secret) = parse_cookie_value(cookie_value) else {
            return Ok(None);
        };
        let hash = digest::digest(&digest::SHA256, &secret);
        let idle = i32::try_from(self.policy.idle.as_secs()).unwrap_or(i32::MAX);
        let Some(s) = self
            .db
            .resolve_session(hash.as_ref(), idle)
            .await
            .map_err(AuthError::store)?
        else {
            return Ok(None);
        };
        let grants = s
            .grants
            .iter()
            .filter_map(|g| Grant::from_claim(g).ok())
            .collect();
        Ok(Some(ActiveSession {
            principal: Principal {
                tenant: s.tenant,
                actor: Actor::User(s.user_id),
                access: Access::from_grants(grants),
                via: Via::Session(s.session_id),
            },
            id: s.session_id,
            connection_id: s.connection_id,
            absolute_expires_at: s.absolute_expires_at,
        }))
    }

    /// The CSRF token of a session.
    pub fn csrf_token(&self, session: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.csrf, session.as_bytes()).as_ref())
    }

    /// Whether `presented` is the session's CSRF token (constant time).
    pub fn csrf_matches(&self, session: Uuid, presented: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(presented)
            .is_ok_and(|tag| hmac::verify(&self.csrf, session.as_bytes(), &tag).is_ok())
    }

    /// Ends a session (logout) and records it in the tenant's audit log.
    pub async fn end(
        &self,
        tx: &mut TenantTx,
        session: &ActiveSession,
        reason: &str,
        request_id: &str,
    ) -> Result<(), AuthError> {
        let store = |e: sqlx::Error| AuthError::store(e.into());
        sqlx::query(
            "update sessions set ended_at = now(), end_reason = $2
             where id = $1 and ended_at is null",
        )
        .bind(session.id)
        .bind(reason)
        .execute(tx.conn())
        .await
        .map_err(store)?;
        let actor = session.principal.actor;
        sqlx::query(
            "insert into audit_events (tenant_id, actor_type, actor_id, action, target_type,
                                       target_id, request_id, details)
             values ($1, $2, $3, 'user.logout', 'User', $3, $4, $5)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(actor.kind())
        .bind(actor.id())
        .bind(request_id)
        .bind(serde_json::json!({ "sessionId": session.id, "reason": reason }))
        .execute(tx.conn())
        .await
        .map_err(store)?;
        Ok(())
    }
}

/// Exactly 32 bytes of unpadded base64url, or nothing.
fn parse_cookie_value(value: &str) -> Option<Vec<u8>> {
    if value.len() != 43 {
        return None;
    }
    URL_SAFE_NO_PAD
        .decode(value)
        .ok()
        .filter(|bytes| bytes.len() == 32)
}

/// `Set-Cookie` for a new session.
pub fn session_cookie(value: &str, max_age: Duration) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        max_age.as_secs()
    )
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

/// The value of cookie `name` in a `Cookie` header, if present once.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    let mut found = None;
    for pair in header.split(';') {
        let Some((k, v)) = pair.trim().split_once('=') else {
            continue;
        };
        if k == name {
            if found.is_some() {
                // two cookies of one name: someone planted one; trust neither
                return None;
            }
            found = Some(v);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_are_strict() {
        assert!(parse_cookie_value(&URL_SAFE_NO_PAD.encode([7u8; 32])).is_some());
        assert!(parse_cookie_value("short").is_none());
        assert!(parse_cookie_value(&"!".repeat(43)).is_none());
        let h = format!("a=1; {SESSION_COOKIE}=abc; b=2");
        assert_eq!(cookie_value(&h, SESSION_COOKIE), Some("abc"));
        let twice = format!("{SESSION_COOKIE}=x; {SESSION_COOKIE}=y");
        assert_eq!(cookie_value(&twice, SESSION_COOKIE), None);
        assert_eq!(cookie_value("a=1", SESSION_COOKIE), None);
    }
}
