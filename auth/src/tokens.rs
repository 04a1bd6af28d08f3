use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use prep_tenancy::TenantId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Actor, AuthError, Principal, SigningKey};

/// Who issues gateway tokens and for whom.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    /// `iss`: the gateway's public URL.
    pub issuer: String,
    /// `aud`: the API the tokens are for.
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
}

/// The claims of a gateway access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The tenant id: every request runs scoped to it.
    pub tid: Uuid,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Unique token id, for revocation lists later.
    pub jti: Uuid,
}

/// Issues and verifies the gateway's own access tokens.
///
/// Only EdDSA is accepted: the algorithm comes from our allow-list, never
/// from the token header, so `none` and HS/RS confusion cannot happen.
pub struct TokenService {
    settings: TokenSettings,
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    validation: Validation,
}

impl TokenService {
    /// Builds the service around the signing key.
    pub fn new(key: &SigningKey, settings: TokenSettings) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = settings.leeway.as_secs();
        Self {
            encoding: EncodingKey::from_ed_der(key.pkcs8()),
            decoding: DecodingKey::from_ed_der(key.public_key()),
            kid: key.kid().to_owned(),
            settings,
            validation,
        }
    }

    /// Mints a token for a user of a tenant, valid for `ttl`.
    pub fn issue_for_user(
        &self,
        tenant: TenantId,
        user: Uuid,
        ttl: Duration,
    ) -> Result<String, AuthError> {
        let now = Utc::now().timestamp();
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            sub: user,
            tid: tenant.as_uuid(),
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl),
            jti: Uuid::new_v4(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| AuthError::Key(e.to_string()))
    }

    /// Verifies a bearer token and returns the principal it names.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| AuthError::InvalidToken(e.to_string()))?;
        Ok(Principal {
            tenant: TenantId::from_uuid(data.claims.tid),
            actor: Actor::User(data.claims.sub),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(issuer: &str) -> (SigningKey, TokenService) {
        let key = SigningKey::generate().expect("key");
        let settings = TokenSettings {
            issuer: issuer.into(),
            audience: "prep-api".into(),
            leeway: Duration::from_secs(5),
        };
        let svc = TokenService::new(&key, settings);
        (key, svc)
    }

    #[test]
    fn issued_tokens_verify_and_name_the_tenant() {
        let (_, svc) = service("https://gw.test");
        let tenant = TenantId::from_uuid(Uuid::new_v4());
        let user = Uuid::new_v4();
        let token = svc
            .issue_for_user(tenant, user, Duration::from_secs(60))
            .expect("issue");
        let p = svc.verify(&token).expect("verify");
        assert_eq!(p.tenant, tenant);
        assert_eq!(p.actor, Actor::User(user));
    }

    #[test]
    fn foreign_keys_issuers_expiry_and_alg_none_are_rejected() {
        let (_, a) = service("https://gw.test");
        let (_, b) = service("https://gw.test");
        let (_, other_issuer) = service("https://evil.test");
        let tenant = TenantId::from_uuid(Uuid::new_v4());
        let token = b
            .issue_for_user(tenant, Uuid::new_v4(), Duration::from_secs(60))
            .expect("issue");
        assert!(a.verify(&token).is_err(), "signed by another key");
        let token = other_issuer
            .issue_for_user(tenant, Uuid::new_v4(), Duration::from_secs(60))
            .expect("issue");
        assert!(a.verify(&token).is_err(), "another issuer");
        let now = Utc::now().timestamp();
        let stale = Claims {
            iss: "https://gw.test".into(),
            aud: "prep-api".into(),
            sub: Uuid::new_v4(),
            tid: tenant.as_uuid(),
            iat: now - 600,
            nbf: now - 600,
            exp: now - 60,
            jti: Uuid::new_v4(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(a.kid.clone());
        let expired = jsonwebtoken::encode(&header, &stale, &a.encoding).expect("encode");
        assert!(a.verify(&expired).is_err(), "expired beyond leeway");
        let strict = a;
        let unsigned = format!(
            "{}.{}.",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                r#"{"alg":"none","typ":"JWT"}"#
            ),
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                r#"{"sub":"x"}"#
            )
        );
        assert!(strict.verify(&unsigned).is_err(), "alg none");
        assert!(strict.verify("garbage").is_err());
    }
}
