//! Admin GraphQL for connector clients: a tenant admin registers an ERP or
//! HRIS connector, grants it scopes, optionally restricts it to some
//! locations and source addresses, and gets its credentials once; later
//! rolls its key with an overlap, changes its grants, or revokes it at once.

mod mutation;

pub use mutation::ConnectorMutation;

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use prep_auth::connectors::store::{self, ConnectorKeyRow, ConnectorRow};
use prep_auth::connectors::ConnectorAuth;
use prep_auth::{Action, Permission, Resource, Target};

use crate::context::request;
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};

pub(crate) const CONNECTORS_READ: Permission = Permission(Resource::Connectors, Action::Read);
pub(crate) const CONNECTORS_WRITE: Permission = Permission(Resource::Connectors, Action::Write);

/// The kind of system a connector is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectorKind {
    /// An ERP (NetSuite, SAP): the chain's locations and cost centers.
    Erp,
    /// An HRIS (Workday, Rippling): employees and their credentials.
    Hris,
}

/// Who makes the connected system.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectorVendor {
    /// Oracle NetSuite.
    Netsuite,
    /// SAP.
    Sap,
    /// Workday.
    Workday,
    /// Rippling.
    Rippling,
    /// Anything else.
    Other,
}

impl ConnectorKind {
    pub(crate) fn as_db(self) -> &'static str {
        match self {
            ConnectorKind::Erp => "erp",
            ConnectorKind::Hris => "hris",
        }
    }

    fn from_db(s: &str) -> Self {
        if s == "erp" {
            ConnectorKind::Erp
        } else {
            ConnectorKind::Hris
        }
    }
}

impl ConnectorVendor {
    pub(crate) fn as_db(self) -> &'static str {
        match self {
            ConnectorVendor::Netsuite => "netsuite",
            ConnectorVendor::Sap => "sap",
            ConnectorVendor::Workday => "workday",
            ConnectorVendor::Rippling => "rippling",
            ConnectorVendor::Other => "other",
        }
    }

    fn from_db(s: &str) -> Self {
        match s {
            "netsuite" => ConnectorVendor::Netsuite,
            "sap" => ConnectorVendor::Sap,
            "workday" => ConnectorVendor::Workday,
            "rippling" => ConnectorVendor::Rippling,
            _ => ConnectorVendor::Other,
        }
    }
}

/// An ERP or HRIS client of the tenant.
pub struct Connector {
    pub(crate) row: ConnectorRow,
    pub(crate) keys: Vec<ConnectorKeyRow>,
}

#[Object]
impl Connector {
    /// The global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Connector, self.row.id)
    }

    /// The OAuth `client_id` for the client credentials grant.
    async fn client_id(&self) -> String {
        self.row.id.to_string()
    }

    /// The admin's label.
    async fn name(&self) -> &str {
        &self.row.name
    }

    /// ERP or HRIS.
    async fn kind(&self) -> ConnectorKind {
        ConnectorKind::from_db(&self.row.kind)
    }

    /// Who makes the system.
    async fn vendor(&self) -> ConnectorVendor {
        ConnectorVendor::from_db(&self.row.vendor)
    }

    /// Granted scopes (`resource:action`; write implies read).
    async fn scopes(&self) -> &[String] {
        &self.row.scopes
    }

    /// Source address ranges it may call from; null for any.
    async fn allowed_ip_ranges(&self) -> Option<&[String]> {
        self.row.allowed_cidrs.as_deref()
    }

    /// The locations it is restricted to; null for the whole tenant.
    async fn location_ids(&self) -> Option<Vec<ID>> {
        self.row.restricted_to_locations.then(|| {
            self.row
                .location_ids
                .iter()
                .map(|l| ids::encode(NodeType::Location, *l))
                .collect()
        })
    }

    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }

    /// When it was revoked.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.row.revoked_at
    }

    /// Whether any of its keys works now.
    async fn active(&self) -> bool {
        self.row.revoked_at.is_none() && self.keys.iter().any(key_active)
    }

    /// Its last use, over all keys (to about a minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.keys.iter().filter_map(|k| k.last_used_at).max()
    }

    /// Its keys, newest first: never their secrets.
    async fn keys(&self) -> Vec<ConnectorKey> {
        self.keys.iter().cloned().map(ConnectorKey).collect()
    }
}

fn key_active(k: &ConnectorKeyRow) -> bool {
    k.revoked_at.is_none() && k.expires_at > Utc::now()
}

/// One API key of a connector.
pub struct ConnectorKey(pub(crate) ConnectorKeyRow);

#[Object]
impl ConnectorKey {
    /// The global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::ConnectorKey, self.0.id)
    }

    /// What the key looks like, without its secret (`prep_live_<id>_…`).
    async fn hint(&self) -> String {
        self.0.hint()
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it stops working.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }

    /// When it was revoked.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// The key that replaced it when it was rolled.
    async fn replaced_by_id(&self) -> Option<ID> {
        self.0
            .replaced_by
            .map(|k| ids::encode(NodeType::ConnectorKey, k))
    }

    /// Its last use (to about a minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }

    /// The address of its last use.
    async fn last_used_ip(&self) -> Option<&str> {
        self.0.last_used_ip.as_deref()
    }

    /// Whether it works now.
    async fn active(&self) -> bool {
        key_active(&self.0)
    }
}

/// A new key, shown once.
#[derive(SimpleObject)]
pub struct ConnectorCredentials {
    /// The OAuth `client_id` (the connector's).
    pub client_id: String,
    /// The API key: send it as `Authorization: Bearer <key>` (or `X-API-Key`),
    /// or as the OAuth `client_secret`. Shown only here, only now.
    pub api_key: String,
    /// The key's global id.
    pub key_id: ID,
    /// When the key stops working.
    pub expires_at: DateTime<Utc>,
    /// Where the client credentials grant is served.
    pub token_url: String,
}

/// The tenant's rules for connector keys.
#[derive(SimpleObject)]
pub struct ConnectorPolicy {
    /// The longest lifetime a key may be given, in days.
    pub max_key_lifetime_days: i32,
}

/// Connector queries.
#[derive(Default)]
pub struct ConnectorQuery;

#[Object]
impl ConnectorQuery {
    /// The tenant's connectors, newest first. Needs `connectors:read`.
    async fn connectors(&self, ctx: &Context<'_>) -> Result<Vec<Connector>> {
        let rc = request(ctx)?;
        rc.authorize(CONNECTORS_READ, Target::Tenant).await?;
        let mut db = rc.read().await?;
        let rows = store::list(db.conn()).await.map_err(ApiError::from)?;
        let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
        let mut keys = store::keys_of(db.conn(), &ids)
            .await
            .map_err(ApiError::from)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let (mine, rest): (Vec<_>, Vec<_>) =
                    keys.drain(..).partition(|k| k.connector_id == row.id);
                keys = rest;
                Connector { row, keys: mine }
            })
            .collect())
    }

    /// One connector. Needs `connectors:read`.
    async fn connector(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Connector>> {
        let id = ids::decode(&id, NodeType::Connector)?;
        let rc = request(ctx)?;
        rc.authorize(CONNECTORS_READ, Target::Tenant).await?;
        let mut db = rc.read().await?;
        Ok(load(db.conn(), id).await?)
    }

    /// The tenant's rules for connector keys. Needs `connectors:read`.
    async fn connector_policy(&self, ctx: &Context<'_>) -> Result<ConnectorPolicy> {
        let rc = request(ctx)?;
        rc.authorize(CONNECTORS_READ, Target::Tenant).await?;
        let mut db = rc.read().await?;
        let days = store::max_key_days(db.conn())
            .await
            .map_err(ApiError::from)?;
        Ok(ConnectorPolicy {
            max_key_lifetime_days: days,
        })
    }
}

/// A connector with its keys.
pub(crate) async fn load(
    conn: &mut sqlx::PgConnection,
    id: uuid::Uuid,
) -> ApiResult<Option<Connector>> {
    let Some(row) = store::get(conn, id).await? else {
        return Ok(None);
    };
    let keys = store::keys_of(conn, &[id]).await?;
    Ok(Some(Connector { row, keys }))
}

/// The connector service from the schema data.
pub(crate) fn service<'a>(ctx: &Context<'a>) -> ApiResult<&'a Arc<ConnectorAuth>> {
    ctx.data::<Arc<ConnectorAuth>>()
        .map_err(|_| ApiError::Internal("the connector service is not in the schema data".into()))
}
