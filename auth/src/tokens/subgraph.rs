//! Tokens the gateway signs for the subgraphs it calls, so a remote service
//! learns who asks (tenant, principal, what they may do, the request id)
//! from a signature it can check with the gateway's JWKS, and never from a
//! header a client could have set.
//!
//! They are audience-bound (`aud` is the subgraph's name, so a token for one
//! subgraph is useless at another) and live a minute: long enough for one
//! operation's fan-out, too short to be worth stealing.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{rejection, Rejection, TokenRejection, TokenService};
use crate::access::{Access, Grant, ScopeGrant};
use crate::connectors::ScopeSet;
use crate::{Actor, AuthError, Principal, Via};

/// How long a subgraph token is valid.
pub const SUBGRAPH_TOKEN_TTL: Duration = Duration::from_secs(60);

/// The claims of a token for a subgraph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubgraphClaims {
    /// The gateway.
    pub iss: String,
    /// The subgraph's name.
    pub aud: String,
    /// Who acts: a user's or connector's id, or `gateway` for the
    /// gateway's own calls (reading a subgraph's SDL).
    pub sub: String,
    /// The tenant the operation runs for (absent on the gateway's own
    /// calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<Uuid>,
    /// The client request's id, for correlating logs.
    pub rid: String,
    /// A user's grants (`role` or `role@location`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// A connector's scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The locations a connector is restricted to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<Uuid>>,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Unique token id.
    pub jti: Uuid,
    /// Where the tenant stood when the gateway admitted the operation; only
    /// for `platform`, the gateway's own domains served on their own, whose
    /// `rateLimit` field reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
}

/// What the edge measured before executing an operation: its requested
/// cost and the tenant's budget after spending it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// The operation's requested cost.
    pub requested_cost: u64,
    /// Size of the tenant's cost bucket.
    pub maximum_available: u32,
    /// Points left after this request.
    pub currently_available: u64,
    /// Points restored per second.
    pub restore_rate: u32,
    /// The tenant's sustained requests per second.
    pub requests_per_second: u32,
    /// Requests the tenant may still send at once.
    pub requests_remaining: u64,
}

impl SubgraphClaims {
    fn new(issuer: &str, subgraph: &str, sub: String, request_id: &str) -> Self {
        let now = Utc::now().timestamp();
        Self {
            iss: issuer.to_owned(),
            aud: subgraph.to_owned(),
            sub,
            tid: None,
            rid: request_id.to_owned(),
            roles: Vec::new(),
            scope: None,
            locations: None,
            iat: now,
            nbf: now,
            exp: now + SUBGRAPH_TOKEN_TTL.as_secs() as i64,
            jti: Uuid::new_v4(),
            budget: None,
        }
    }

    /// What the subgraph may know of the principal behind one request.
    pub fn for_principal(
        issuer: &str,
        subgraph: &str,
        principal: &Principal,
        request_id: &str,
    ) -> Self {
        let sub = match principal.actor {
            Actor::User(id) | Actor::Scim(id) | Actor::Connector(id) => id.to_string(),
            Actor::System | Actor::Operator => "gateway".to_owned(),
        };
        let mut claims = Self::new(issuer, subgraph, sub, request_id);
        claims.tid = Some(principal.tenant.as_uuid());
        match &principal.access {
            Access::Full => {}
            Access::Grants(grants) => claims.roles = grants.iter().map(|g| g.to_claim()).collect(),
            Access::Scopes(grant) => {
                claims.scope = Some(grant.scopes.to_string());
                claims.locations = grant.locations.as_ref().map(|l| l.to_vec());
            }
        }
        claims
    }

    /// The gateway's own call, for no tenant (reading a subgraph's SDL).
    pub fn for_gateway(issuer: &str, subgraph: &str) -> Self {
        Self::new(issuer, subgraph, "gateway".to_owned(), "composition")
    }

    /// The principal a subgraph served by this gateway's code acts for.
    /// `None` for the gateway's own calls (no tenant).
    pub fn principal(&self) -> Result<Option<Principal>, Rejection> {
        let Some(tenant) = self.tid else {
            return Ok(None);
        };
        let id = self.sub.parse::<Uuid>().map_err(|_| Rejection::Claims)?;
        let (actor, access) = match &self.scope {
            Some(scope) => {
                let scopes = ScopeSet::parse(scope.split(' ').filter(|s| !s.is_empty()))
                    .map_err(|_| Rejection::Claims)?;
                let grant = ScopeGrant {
                    scopes,
                    locations: self.locations.as_ref().map(|l| l.as_slice().into()),
                };
                (Actor::Connector(id), Access::Scopes(grant))
            }
            None => {
                let grants = self
                    .roles
                    .iter()
                    .map(|r| Grant::from_claim(r))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| Rejection::Claims)?;
                (Actor::User(id), Access::from_grants(grants))
            }
        };
        Ok(Some(Principal {
            tenant: prep_tenancy::TenantId::from_uuid(tenant),
            actor,
            access,
            via: Via::Gateway,
        }))
    }
}

impl TokenService {
    /// Signs a subgraph token.
    pub fn issue_subgraph(&self, claims: &SubgraphClaims) -> Result<String, AuthError> {
        self.sign(claims)
    }

    /// Verifies a subgraph token addressed to `subgraph` (for a domain
    /// served on its own behind another gateway replica).
    pub async fn verify_subgraph(
        &self,
        token: &str,
        subgraph: &str,
    ) -> Result<SubgraphClaims, TokenRejection> {
        let reject = |reason| rejection(token, reason);
        let (_, key) = self.signing_key(token).await?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[subgraph]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.settings.leeway.as_secs();
        jsonwebtoken::decode::<SubgraphClaims>(token, &key, &validation)
            .map(|d| d.claims)
            .map_err(|e| reject(Rejection::of(e.kind())))
    }
}
