//! A tenant's SSO connections: loading one for a sign-in, and the admin
//! operations (create, update, domains). The client secret is sealed with
//! a key of its own purpose and bound to its tenant and row, so a sealed
//! secret copied to another row or tenant does not open.

use std::str::FromStr;

use prep_tenancy::{TenancyError, TenantTx};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::SsoError;
use crate::access::{Grant, Role};
use crate::seal::Sealer;

/// Who may sign in through a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provisioning {
    /// Users are created (and updated) at first sign-in.
    Jit,
    /// Only users provisioned by SCIM (and active) may sign in.
    ScimOnly,
    /// Created at sign-in, later claimed and managed by SCIM.
    JitThenScim,
}

impl Provisioning {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Provisioning::Jit => "jit",
            Provisioning::ScimOnly => "scim_only",
            Provisioning::JitThenScim => "jit_then_scim",
        }
    }
}

impl FromStr for Provisioning {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "jit" => Ok(Provisioning::Jit),
            "scim_only" => Ok(Provisioning::ScimOnly),
            "jit_then_scim" => Ok(Provisioning::JitThenScim),
            other => Err(format!("unknown provisioning mode `{other}`")),
        }
    }
}

/// An IdP group that grants a role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleMapping {
    /// The group name as the IdP sends it in the groups claim.
    pub group: String,
    /// The role it grants.
    pub role: String,
    /// For one location only.
    #[serde(default)]
    pub location_id: Option<Uuid>,
}

impl RoleMapping {
    /// The grant, if the role name is valid.
    pub fn grant(&self) -> Result<Grant, String> {
        Ok(Grant {
            role: Role::from_str(&self.role)?,
            location: self.location_id,
        })
    }
}

/// A connection with its secret opened, for one sign-in.
#[derive(Clone)]
pub struct Connection {
    /// Row id.
    pub id: Uuid,
    /// Issuer URL (exactly as the IdP's `iss`).
    pub issuer: String,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// Scopes to ask for (`openid` always).
    pub scopes: Vec<String>,
    /// Claim holding the e-mail.
    pub email_claim: String,
    /// Claim holding the display name.
    pub name_claim: String,
    /// Claim holding the groups.
    pub groups_claim: String,
    /// Group → role.
    pub role_mappings: Vec<RoleMapping>,
    /// Who may sign in.
    pub provisioning: Provisioning,
    /// How a first sign-in finds a SCIM-provisioned user: `true` when the
    /// IdP's subject is the SCIM externalId, `false` when its login name
    /// (`preferred_username`, else the e-mail) is the SCIM userName.
    pub scim_link_by_external_id: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The context a client secret is sealed under.
pub(crate) fn secret_context(tenant: Uuid, connection: Uuid) -> Vec<u8> {
    let mut ctx = Vec::with_capacity(32);
    ctx.extend_from_slice(tenant.as_bytes());
    ctx.extend_from_slice(connection.as_bytes());
    ctx
}

type Row = (
    Uuid,
    String,
    String,
    Vec<u8>,
    Vec<String>,
    String,
    String,
    String,
    serde_json::Value,
    String,
    bool,
    String,
);

/// Loads an enabled connection of the transaction's tenant.
pub async fn load(tx: &mut TenantTx, sealer: &Sealer, id: Uuid) -> Result<Connection, SsoError> {
    let row: Option<Row> = sqlx::query_as(
        "select id, issuer, client_id, client_secret_sealed, scopes, email_claim, name_claim,
                groups_claim, role_mappings, provisioning, enabled, scim_link
         from sso_connections where id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await
    .map_err(TenancyError::from)?;
    let Some(row) = row else {
        return Err(SsoError::NoConnection);
    };
    let (
        id,
        issuer,
        client_id,
        sealed,
        scopes,
        email_claim,
        name_claim,
        groups_claim,
        mappings,
        mode,
        enabled,
        scim_link,
    ) = row;
    if !enabled {
        return Err(SsoError::NoConnection);
    }
    let secret = sealer
        .open(&sealed, &secret_context(tx.tenant().as_uuid(), id))
        .map_err(|_| {
            SsoError::Misconfigured("the client secret does not open with this master key")
        })?;
    Ok(Connection {
        id,
        issuer,
        client_id,
        client_secret: String::from_utf8(secret)
            .map_err(|_| SsoError::Misconfigured("the client secret is not text"))?,
        scopes,
        email_claim,
        name_claim,
        groups_claim,
        role_mappings: serde_json::from_value(mappings)
            .map_err(|_| SsoError::Misconfigured("the role mappings are malformed"))?,
        provisioning: mode
            .parse()
            .map_err(|_| SsoError::Misconfigured("unknown provisioning mode"))?,
        scim_link_by_external_id: scim_link == "external_id",
    })
}

/// The one enabled connection of the transaction's tenant, for sign-in by
/// tenant slug. Several connections need the e-mail to choose.
pub async fn only_enabled(tx: &mut TenantTx) -> Result<Uuid, SsoError> {
    let ids: Vec<Uuid> = sqlx::query_scalar("select id from sso_connections where enabled limit 2")
        .fetch_all(tx.conn())
        .await
        .map_err(TenancyError::from)?;
    match ids.as_slice() {
        [one] => Ok(*one),
        [] => Err(SsoError::NoConnection),
        _ => Err(SsoError::BadRequest(
            "this workspace has several identity providers: sign in with your e-mail address"
                .into(),
        )),
    }
}
