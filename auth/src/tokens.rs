//! The gateway's own access tokens: short-lived EdDSA JWTs.
//!
//! Verification is strict and ordered so that nothing in a token is trusted
//! before its signature is: the algorithm comes from our allow-list (EdDSA
//! only, so neither `none` nor HS/RS confusion can happen), the key from our
//! keyring by `kid`, then `iss`, `aud`, `exp`/`nbf` with a small leeway, the
//! tenant the request names, and finally the revocation list.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::Utc;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use prep_tenancy::TenantId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{Access, Grant};
use crate::connectors::ScopeSet;
use crate::keyring::Keyring;
use crate::revocations::RevocationList;
use crate::{Actor, AuthError, Principal, Via};

mod subgraph;
pub use subgraph::{Budget, SubgraphClaims, SUBGRAPH_TOKEN_TTL};

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
    /// The tenant slug, so a request naming its tenant can be checked
    /// without a database round trip.
    pub tsl: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Issued at in milliseconds: revocation cut-offs are finer than seconds.
    pub iat_ms: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Unique token id.
    pub jti: Uuid,
    /// The user's grants when the token was issued (`role` or
    /// `role@location`). Changing them revokes the token.
    #[serde(default)]
    pub roles: Vec<String>,
    /// For a connector's token (RFC 9068): the OAuth client, which is the
    /// connector (`sub` then names the connector too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// For a connector's token: the scopes granted, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// For a connector's token: the key that authenticated the client, whose
    /// state is checked on every use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cred: Option<Uuid>,
}

/// A connector a token is issued to by the client credentials grant.
#[derive(Clone, Debug)]
pub struct ConnectorSubject<'a> {
    /// The tenant.
    pub tenant: TenantId,
    /// Its slug.
    pub tenant_slug: &'a str,
    /// The connector (the OAuth client).
    pub connector: Uuid,
    /// The key that authenticated it.
    pub key: Uuid,
    /// The scopes granted to this token.
    pub scopes: ScopeSet,
}

/// Whom a token is for.
#[derive(Clone, Debug)]
pub struct TokenSubject<'a> {
    /// The tenant.
    pub tenant: TenantId,
    /// Its slug.
    pub tenant_slug: &'a str,
    /// The user.
    pub user: Uuid,
    /// The user's grants now.
    pub grants: &'a [Grant],
}

/// Why a token was refused. Every reason answers `UNAUTHENTICATED`; the
/// detail goes to the security log, never to the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Not three base64url parts of JSON.
    Malformed,
    /// An algorithm outside the allow-list (`none`, HS256, RS256, ...).
    Algorithm,
    /// A `kid` the keyring does not know (or none).
    UnknownKey,
    /// The signature does not match.
    Signature,
    /// Past `exp` (beyond the leeway).
    Expired,
    /// Before `nbf` (beyond the leeway).
    NotYetValid,
    /// Another issuer.
    Issuer,
    /// Another audience.
    Audience,
    /// Claims missing or of the wrong shape.
    Claims,
    /// The request names another tenant than the token.
    TenantMismatch,
    /// Revoked (user deactivated or roles changed).
    Revoked,
}

impl Rejection {
    /// Why `jsonwebtoken` refused a token, for user and subgraph tokens alike.
    fn of(kind: &ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidSignature => Self::Signature,
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidIssuer => Self::Issuer,
            ErrorKind::InvalidAudience => Self::Audience,
            ErrorKind::InvalidAlgorithm => Self::Algorithm,
            ErrorKind::MissingRequiredClaim(_) | ErrorKind::Json(_) => Self::Claims,
            _ => Self::Malformed,
        }
    }

    /// A stable name for logs and security events.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::Algorithm => "algorithm_not_allowed",
            Rejection::UnknownKey => "unknown_key",
            Rejection::Signature => "bad_signature",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::Issuer => "wrong_issuer",
            Rejection::Audience => "wrong_audience",
            Rejection::Claims => "bad_claims",
            Rejection::TenantMismatch => "tenant_mismatch",
            Rejection::Revoked => "revoked",
        }
    }
}

/// A refused token: the reason and the tenant it claimed (unverified).
#[derive(Clone, Copy, Debug)]
pub struct TokenRejection {
    /// Why.
    pub reason: Rejection,
    /// The `tid` the payload claimed, if it had one.
    pub claimed_tenant: Option<Uuid>,
}

/// Issues and verifies the gateway's own access tokens.
pub struct TokenService {
    settings: TokenSettings,
    keyring: Arc<Keyring>,
    revocations: Arc<RevocationList>,
    validation: Validation,
    verified: Mutex<HashMap<[u8; 32], Arc<Verified>>>,
}

/// What a token proved once its signature and claims checked out. Cached
/// by the token's SHA-256: a client reuses its token for many requests, and
/// the signature check is most of the cost. Expiry, the tenant named by the
/// request, revocation and the key still being in the keyring (an emergency
/// rotation) are checked on every request all the same.
#[derive(Debug)]
struct Verified {
    kid: String,
    tenant: TenantId,
    slug: String,
    user: Uuid,
    issued_at_ms: i64,
    expires: i64,
    access: Access,
    /// For a connector's token: the key behind it and its scopes.
    connector: Option<(Uuid, ScopeSet)>,
}

/// Bound on cached verifications (a few hundred bytes each); the cache is
/// emptied when full, which costs one signature check per live token.
const VERIFIED_CACHE: usize = 16_384;

impl TokenService {
    /// Builds the service around the shared keyring and revocation list.
    pub fn new(
        keyring: Arc<Keyring>,
        revocations: Arc<RevocationList>,
        settings: TokenSettings,
    ) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = settings.leeway.as_secs();
        Self {
            settings,
            keyring,
            revocations,
            validation,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// The keyring (for JWKS and rotation).
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// The revocation list.
    pub fn revocations(&self) -> &Arc<RevocationList> {
        &self.revocations
    }

    /// Mints a token for a user of a tenant, valid for `ttl`.
    pub fn issue(&self, subject: &TokenSubject<'_>, ttl: Duration) -> Result<String, AuthError> {
        let now = Utc::now();
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            sub: subject.user,
            tid: subject.tenant.as_uuid(),
            tsl: subject.tenant_slug.to_owned(),
            iat: now.timestamp(),
            iat_ms: now.timestamp_millis(),
            nbf: now.timestamp(),
            exp: now.timestamp().saturating_add(ttl),
            jti: Uuid::new_v4(),
            roles: subject.grants.iter().map(|g| g.to_claim()).collect(),
            client_id: None,
            scope: None,
            cred: None,
        };
        self.sign(&claims)
    }

    /// Mints a connector's token (the client credentials grant), valid for
    /// `ttl`.
    pub fn issue_connector(
        &self,
        subject: &ConnectorSubject<'_>,
        ttl: Duration,
    ) -> Result<String, AuthError> {
        let now = Utc::now();
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            sub: subject.connector,
            tid: subject.tenant.as_uuid(),
            tsl: subject.tenant_slug.to_owned(),
            iat: now.timestamp(),
            iat_ms: now.timestamp_millis(),
            nbf: now.timestamp(),
            exp: now.timestamp().saturating_add(ttl),
            jti: Uuid::new_v4(),
            roles: Vec::new(),
            client_id: Some(subject.connector.to_string()),
            scope: Some(subject.scopes.to_string()),
            cred: Some(subject.key),
        };
        self.sign(&claims)
    }

    fn sign(&self, claims: &impl Serialize) -> Result<String, AuthError> {
        let (kid, key) = self
            .keyring
            .signer()
            .ok_or_else(|| AuthError::Key("the keyring has no key that signs now".into()))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid);
        jsonwebtoken::encode(&header, claims, &key).map_err(|e| AuthError::Key(e.to_string()))
    }

    /// Verifies a bearer token. `expected_tenant`, when the request names
    /// its tenant (slug or id), must be the token's.
    pub async fn verify(
        &self,
        token: &str,
        expected_tenant: Option<&str>,
    ) -> Result<Principal, TokenRejection> {
        let digest: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
            .as_ref()
            .try_into()
            .map_err(|_| rejection(token, Rejection::Malformed))?;
        let cached = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&digest)
            .cloned();
        let v = match cached {
            Some(v) if self.keyring.knows(&v.kid) => v,
            _ => {
                let v = Arc::new(self.check_signature_and_claims(token).await?);
                let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
                if cache.len() >= VERIFIED_CACHE {
                    cache.clear();
                }
                cache.insert(digest, Arc::clone(&v));
                v
            }
        };
        let leeway = i64::try_from(self.settings.leeway.as_secs()).unwrap_or(0);
        if v.expires.saturating_add(leeway) < Utc::now().timestamp() {
            return Err(rejection(token, Rejection::Expired));
        }
        if let Some(expected) = expected_tenant {
            let matches = expected == v.slug
                || expected
                    .parse::<Uuid>()
                    .is_ok_and(|id| id == v.tenant.as_uuid());
            if !matches {
                return Err(rejection(token, Rejection::TenantMismatch));
            }
        }
        if let Some((key, scopes)) = v.connector {
            // the key's live state (revocation, addresses, locations, the
            // connector's current scopes) is confirmed by the caller
            return Ok(Principal {
                tenant: v.tenant,
                actor: Actor::Connector(v.user),
                access: Access::Scopes(crate::access::ScopeGrant {
                    scopes,
                    locations: None,
                }),
                via: Via::ConnectorToken(key),
            });
        }
        if self.revocations.is_revoked(v.user, v.issued_at_ms) {
            return Err(rejection(token, Rejection::Revoked));
        }
        Ok(Principal {
            tenant: v.tenant,
            actor: Actor::User(v.user),
            access: v.access.clone(),
            via: Via::Token,
        })
    }

    /// The `kid` in `token`'s header and the keyring's key for it: only
    /// EdDSA tokens are considered, whatever they claim.
    async fn signing_key(
        &self,
        token: &str,
    ) -> Result<(String, jsonwebtoken::DecodingKey), TokenRejection> {
        let reject = |reason| rejection(token, reason);
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            // `none` and other algorithms jsonwebtoken has no name for fail
            // to parse: still an algorithm refusal, not a malformed token
            if declared_alg(token).is_some() {
                reject(Rejection::Algorithm)
            } else {
                reject(Rejection::Malformed)
            }
        })?;
        if header.alg != Algorithm::EdDSA {
            return Err(reject(Rejection::Algorithm));
        }
        let kid = header.kid.ok_or_else(|| reject(Rejection::UnknownKey))?;
        let key = self
            .keyring
            .verifier(&kid)
            .await
            .ok_or_else(|| reject(Rejection::UnknownKey))?;
        Ok((kid, key))
    }

    async fn check_signature_and_claims(&self, token: &str) -> Result<Verified, TokenRejection> {
        let reject = |reason| rejection(token, reason);
        let (kid, key) = self.signing_key(token).await?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|e| reject(Rejection::of(e.kind())))?;
        let claims = data.claims;
        let connector = match (&claims.client_id, &claims.scope, claims.cred) {
            (None, None, None) => None,
            (Some(client), Some(scope), Some(key)) if *client == claims.sub.to_string() => {
                let scopes = ScopeSet::parse(scope.split(' ').filter(|s| !s.is_empty()))
                    .map_err(|_| reject(Rejection::Claims))?;
                Some((key, scopes))
            }
            _ => return Err(reject(Rejection::Claims)),
        };
        let grants = claims
            .roles
            .iter()
            .map(|r| Grant::from_claim(r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| reject(Rejection::Claims))?;
        Ok(Verified {
            kid,
            tenant: TenantId::from_uuid(claims.tid),
            slug: claims.tsl,
            user: claims.sub,
            issued_at_ms: claims.iat_ms,
            expires: claims.exp,
            access: Access::from_grants(grants),
            connector,
        })
    }
}

/// A refusal, with the tenant the payload claimed (read, unverified, only
/// now that it is needed for the security log).
fn rejection(token: &str, reason: Rejection) -> TokenRejection {
    TokenRejection {
        reason,
        claimed_tenant: claimed_tenant(token),
    }
}

/// The `alg` a token's header declares, if it is JSON with one.
fn declared_alg(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Alg {
        alg: String,
    }
    let header = token.split('.').next()?;
    if header.len() > 2048 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    serde_json::from_slice::<Alg>(&bytes).ok().map(|a| a.alg)
}

/// The `tid` a token's payload claims, read without trusting it: only for
/// the security log of a refused token.
fn claimed_tenant(token: &str) -> Option<Uuid> {
    #[derive(Deserialize)]
    struct Tid {
        tid: Uuid,
    }
    let payload = token.split('.').nth(1)?;
    if payload.len() > 8192 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Tid>(&bytes).ok().map(|t| t.tid)
}
