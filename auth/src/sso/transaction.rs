//! The login transaction: what the callback must find again (tenant,
//! connection, state, nonce, PKCE verifier, where to return), kept in a
//! short-lived cookie sealed with AES-GCM, so it is both secret (the PKCE
//! verifier) and tamper-proof, and no server state is needed between the
//! redirect to the IdP and its return.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::seal::Sealer;

/// The login cookie's name (`__Host-`: Secure, Path=/, no Domain).
pub const LOGIN_COOKIE: &str = "__Host-prep_login";

const CONTEXT: &[u8] = b"login-transaction";

/// One sign-in in flight.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoginTransaction {
    /// Tenant.
    pub t: Uuid,
    /// SSO connection.
    pub c: Uuid,
    /// OAuth2 `state`.
    pub s: String,
    /// OIDC `nonce`.
    pub n: String,
    /// PKCE code verifier.
    pub v: String,
    /// Relative path to return to.
    pub r: String,
    /// Expiry (seconds since the epoch).
    pub e: i64,
}

impl LoginTransaction {
    /// The cookie value.
    pub fn seal(&self, sealer: &Sealer) -> Result<String, crate::AuthError> {
        let json = serde_json::to_vec(self).map_err(|e| crate::AuthError::Key(e.to_string()))?;
        Ok(URL_SAFE_NO_PAD.encode(sealer.seal(&json, CONTEXT)?))
    }

    /// Opens a cookie value; `None` if it was tampered with, sealed by
    /// another key, malformed or expired.
    pub fn open(value: &str, sealer: &Sealer) -> Option<Self> {
        if value.len() > 4096 {
            return None;
        }
        let sealed = URL_SAFE_NO_PAD.decode(value).ok()?;
        let json = sealer.open(&sealed, CONTEXT).ok()?;
        let tx: Self = serde_json::from_slice(&json).ok()?;
        (tx.e > Utc::now().timestamp()).then_some(tx)
    }
}

/// `Set-Cookie` for a login in flight.
pub fn login_cookie(value: &str, max_age_secs: u64) -> String {
    format!(
        "{LOGIN_COOKIE}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; Secure; SameSite=Lax"
    )
}

/// `Set-Cookie` removing the login cookie (it is single-use).
pub fn clear_login_cookie() -> String {
    format!("{LOGIN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

/// Only same-site relative paths: never `//host`, never a scheme, so the
/// return address cannot be turned into an open redirect.
pub fn safe_return_path(raw: Option<&str>) -> String {
    match raw {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && p.len() <= 512
                && p.chars().all(|c| c.is_ascii_graphic()) =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::{MasterKey, Purpose};

    #[test]
    fn transactions_round_trip_and_refuse_tampering_and_expiry() {
        let master = MasterKey::generate().expect("key");
        let sealer = master.sealer(Purpose::LoginCookie);
        let tx = LoginTransaction {
            t: Uuid::from_u128(1),
            c: Uuid::from_u128(2),
            s: "state".into(),
            n: "nonce".into(),
            v: "verifier".into(),
            r: "/".into(),
            e: Utc::now().timestamp() + 60,
        };
        let cookie = tx.seal(&sealer).expect("seal");
        assert_eq!(LoginTransaction::open(&cookie, &sealer), Some(tx));
        let mut bytes = URL_SAFE_NO_PAD.decode(&cookie).expect("b64");
        bytes[20] ^= 1;
        assert!(LoginTransaction::open(&URL_SAFE_NO_PAD.encode(bytes), &sealer).is_none());
        let other = MasterKey::generate()
            .expect("key")
            .sealer(Purpose::LoginCookie);
        assert!(LoginTransaction::open(&cookie, &other).is_none());
        let stale = LoginTransaction {
            e: Utc::now().timestamp() - 1,
            ..LoginTransaction::open(&cookie, &sealer).expect("open")
        };
        assert!(LoginTransaction::open(&stale.seal(&sealer).expect("seal"), &sealer).is_none());
        assert!(LoginTransaction::open("%%%", &sealer).is_none());
    }

    #[test]
    fn return_paths_stay_on_site() {
        assert_eq!(safe_return_path(Some("/dashboard?x=1")), "/dashboard?x=1");
        for bad in [
            "//evil.test",
            "https://evil.test",
            "/\\evil.test",
            "dash",
            "/a b",
        ] {
            assert_eq!(safe_return_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_return_path(None), "/");
    }
}
