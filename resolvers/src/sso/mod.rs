//! Admin GraphQL for the tenant's SSO connections: list, create, update,
//! test, and claim e-mail domains. The client secret is write-only: it is
//! sealed on the way in and never read back out.

mod mutation;

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use prep_auth::sso::{Provisioning, RoleMapping, Sso};
use prep_auth::{Action, Permission, Resource, Target};
use uuid::Uuid;

pub use mutation::SsoMutation;

use crate::context::request;
use crate::enums::Role;
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};

/// Who may sign in through a connection.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SsoProvisioning {
    /// Users are created at their first sign-in.
    Jit,
    /// Only users provisioned by SCIM may sign in.
    ScimOnly,
    /// Created at sign-in, later claimed by SCIM.
    JitThenScim,
}

impl From<SsoProvisioning> for Provisioning {
    fn from(p: SsoProvisioning) -> Self {
        match p {
            SsoProvisioning::Jit => Provisioning::Jit,
            SsoProvisioning::ScimOnly => Provisioning::ScimOnly,
            SsoProvisioning::JitThenScim => Provisioning::JitThenScim,
        }
    }
}

/// How a first sign-in finds a user that SCIM provisioned.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SsoScimLink {
    /// The IdP's login name (`preferred_username`, else the e-mail) is the
    /// SCIM userName (Okta; Entra with UPN as userName).
    UserName,
    /// The IdP's subject is the SCIM externalId.
    ExternalId,
}

/// An IdP group that grants a role.
#[derive(SimpleObject, Clone, Debug)]
pub struct SsoRoleMapping {
    /// The group as the IdP names it.
    pub group: String,
    /// The role it grants.
    pub role: Role,
    /// For one location only.
    pub location_id: Option<ID>,
}

/// An e-mail domain routed to a connection.
#[derive(SimpleObject, Clone, Debug)]
pub struct SsoDomain {
    /// The domain.
    pub domain: String,
    /// Whether it routes sign-ins (only verified domains do).
    pub verified: bool,
    /// Publish as a DNS TXT record at `_prep-verification.<domain>` to
    /// prove the domain is yours.
    pub verification_token: String,
}

/// A connection to the tenant's identity provider (OIDC).
#[derive(SimpleObject, Clone, Debug)]
pub struct SsoConnection {
    /// Global id.
    pub id: ID,
    /// Display name.
    pub name: String,
    /// The issuer URL.
    pub issuer: String,
    /// The OAuth client id (the secret is never shown).
    pub client_id: String,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// Claim holding the e-mail address.
    pub email_claim: String,
    /// Claim holding the display name.
    pub name_claim: String,
    /// Claim holding the groups.
    pub groups_claim: String,
    /// Group → role.
    pub role_mappings: Vec<SsoRoleMapping>,
    /// Who may sign in.
    pub provisioning: SsoProvisioning,
    /// How a first sign-in finds a SCIM-provisioned user.
    pub scim_link: SsoScimLink,
    /// Whether sign-in through it is allowed.
    pub enabled: bool,
    /// Its e-mail domains.
    pub domains: Vec<SsoDomain>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

pub(crate) const SSO_READ: Permission = Permission(Resource::Sso, Action::Read);
pub(crate) const SSO_WRITE: Permission = Permission(Resource::Sso, Action::Write);

/// The SSO service the edge attached to the request.
pub(crate) fn service<'a>(ctx: &Context<'a>) -> ApiResult<&'a Arc<Sso>> {
    ctx.data::<Arc<Sso>>()
        .map_err(|_| ApiError::Internal("the SSO service is not attached".into()))
}

/// SSO queries (owners, admins and auditors).
#[derive(Default)]
pub struct SsoQuery;

#[Object]
impl SsoQuery {
    /// The tenant's SSO connections. Needs `sso:read`.
    async fn sso_connections(&self, ctx: &Context<'_>) -> Result<Vec<SsoConnection>> {
        let rc = request(ctx)?;
        rc.authorize(SSO_READ, Target::Tenant).await?;
        let mut tx = rc.begin_write().await?;
        let ids: Vec<Uuid> =
            sqlx::query_scalar("select id from sso_connections order by created_at, id")
                .fetch_all(tx.conn())
                .await
                .map_err(ApiError::from)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(load(&mut tx, id).await?);
        }
        Ok(out)
    }
}

type Row = (
    Uuid,
    String,
    String,
    String,
    Vec<String>,
    String,
    String,
    String,
    serde_json::Value,
    String,
    bool,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
);

/// Reads one connection (without its secret) and its domains.
pub(crate) async fn load(tx: &mut prep_tenancy::TenantTx, id: Uuid) -> ApiResult<SsoConnection> {
    let row: Option<Row> = sqlx::query_as(
        "select id, name, issuer, client_id, scopes, email_claim, name_claim, groups_claim,
                role_mappings, provisioning, enabled, created_at, updated_at, scim_link
         from sso_connections where id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let (
        id,
        name,
        issuer,
        client_id,
        scopes,
        email_claim,
        name_claim,
        groups_claim,
        mappings,
        mode,
        enabled,
        created_at,
        updated_at,
        scim_link,
    ) = row.ok_or(ApiError::NotFound("SSO connection"))?;
    let domains: Vec<(String, bool, String)> = sqlx::query_as(
        "select domain, verified_at is not null, verification_token
         from sso_domains where connection_id = $1 order by domain",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?;
    let mappings: Vec<RoleMapping> = serde_json::from_value(mappings)
        .map_err(|e| ApiError::Internal(format!("stored role mappings: {e}")))?;
    Ok(SsoConnection {
        id: ids::encode(NodeType::SsoConnection, id),
        name,
        issuer,
        client_id,
        scopes,
        email_claim,
        name_claim,
        groups_claim,
        role_mappings: mappings
            .into_iter()
            .filter_map(|m| {
                Some(SsoRoleMapping {
                    role: Role::from_db(&m.role).ok()?,
                    location_id: m.location_id.map(|l| ids::encode(NodeType::Location, l)),
                    group: m.group,
                })
            })
            .collect(),
        provisioning: match mode.as_str() {
            "scim_only" => SsoProvisioning::ScimOnly,
            "jit_then_scim" => SsoProvisioning::JitThenScim,
            _ => SsoProvisioning::Jit,
        },
        scim_link: if scim_link == "external_id" {
            SsoScimLink::ExternalId
        } else {
            SsoScimLink::UserName
        },
        enabled,
        domains: domains
            .into_iter()
            .map(|(domain, verified, verification_token)| SsoDomain {
                domain,
                verified,
                verification_token,
            })
            .collect(),
        created_at,
        updated_at,
    })
}
