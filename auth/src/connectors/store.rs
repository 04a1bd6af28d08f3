//! Connectors and their keys as stored, inside the caller's tenant
//! transaction. Secrets exist only in the return value of the call that
//! made them; the database keeps their HMAC.

use chrono::{DateTime, Utc};
use prep_tenancy::TenantTx;
use sqlx::PgConnection;
use uuid::Uuid;

use super::apikey::{self, Environment};
use super::cidr::Cidr;
use super::{ConnectorAuth, ScopeSet};

/// A connector as admins see it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConnectorRow {
    /// Id (also the OAuth `client_id`).
    pub id: Uuid,
    /// The admin's label.
    pub name: String,
    /// `erp` or `hris`.
    pub kind: String,
    /// `netsuite`, `sap`, `workday`, `rippling` or `other`.
    pub vendor: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Allowed source ranges (`None`: any).
    pub allowed_cidrs: Option<Vec<String>>,
    /// Whether it is restricted to some locations.
    pub restricted_to_locations: bool,
    /// The locations it is restricted to.
    pub location_ids: Vec<Uuid>,
    /// Who registered it.
    pub created_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key as admins see it: never its secret.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConnectorKeyRow {
    /// Id (visible in the key itself).
    pub id: Uuid,
    /// Its connector.
    pub connector_id: Uuid,
    /// `live` or `test`.
    pub environment: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The key that replaced it when it was rolled.
    pub replaced_by: Option<Uuid>,
    /// Last use (to about a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Address of the last use.
    pub last_used_ip: Option<String>,
}

impl ConnectorKeyRow {
    /// What the key looks like, without its secret.
    pub fn hint(&self) -> String {
        let env = if self.environment == "test" {
            Environment::Test
        } else {
            Environment::Live
        };
        apikey::hint(env, self.id)
    }
}

/// A connector to register.
#[derive(Debug)]
pub struct NewConnector<'a> {
    /// Label.
    pub name: &'a str,
    /// `erp` or `hris`.
    pub kind: &'a str,
    /// Vendor.
    pub vendor: &'a str,
    /// Scopes.
    pub scopes: ScopeSet,
    /// Allowed source ranges.
    pub cidrs: Option<Vec<Cidr>>,
    /// Locations it is restricted to.
    pub locations: Option<Vec<Uuid>>,
    /// Who registers it.
    pub created_by: Option<Uuid>,
}

/// What an admin changes on a connector; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ConnectorChanges<'a> {
    /// New label.
    pub name: Option<&'a str>,
    /// New scopes.
    pub scopes: Option<ScopeSet>,
    /// New ranges (`Some(None)`: any address).
    pub cidrs: Option<Option<Vec<Cidr>>>,
    /// New locations (`Some(None)`: the whole tenant).
    pub locations: Option<Option<Vec<Uuid>>>,
}

const CONNECTOR_COLUMNS: &str = "c.id, c.name, c.kind, c.vendor, c.scopes,
    c.allowed_cidrs::text[] as allowed_cidrs, c.restricted_to_locations,
    coalesce(array(select l.location_id from connector_locations l
                   where l.tenant_id = c.tenant_id and l.connector_id = c.id
                   order by l.location_id), '{}') as location_ids,
    c.created_by, c.created_at, c.updated_at, c.revoked_at";
const KEY_COLUMNS: &str = "id, connector_id, environment, created_at, expires_at, revoked_at,
    replaced_by, last_used_at, host(last_used_ip) as last_used_ip";

fn cidr_texts(cidrs: &Option<Vec<Cidr>>) -> Option<Vec<String>> {
    cidrs
        .as_ref()
        .map(|list| list.iter().map(ToString::to_string).collect())
}

/// Registers a connector (without keys).
pub async fn insert(
    tx: &mut TenantTx,
    new: &NewConnector<'_>,
) -> Result<ConnectorRow, sqlx::Error> {
    let id: Uuid = sqlx::query_scalar(
        "insert into connectors (tenant_id, name, kind, vendor, scopes, allowed_cidrs,
                                 restricted_to_locations, created_by)
         values ($1, $2, $3, $4, $5, $6::cidr[], $7, $8)
         returning id",
    )
    .bind(tx.tenant().as_uuid())
    .bind(new.name)
    .bind(new.kind)
    .bind(new.vendor)
    .bind(new.scopes.to_strings())
    .bind(cidr_texts(&new.cidrs))
    .bind(new.locations.is_some())
    .bind(new.created_by)
    .fetch_one(tx.conn())
    .await?;
    if let Some(locations) = &new.locations {
        set_locations(tx, id, locations).await?;
    }
    get(tx.conn(), id).await?.ok_or(sqlx::Error::RowNotFound)
}

async fn set_locations(tx: &mut TenantTx, id: Uuid, locations: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with gone as (delete from connector_locations where connector_id = $2 and location_id <> all($3))
         insert into connector_locations (tenant_id, connector_id, location_id)
         select $1, $2, unnest($3::uuid[])
         on conflict do nothing",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(locations)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Applies `changes` to a live connector; `None` when there is none.
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    changes: &ConnectorChanges<'_>,
) -> Result<Option<ConnectorRow>, sqlx::Error> {
    let done = sqlx::query(
        "update connectors set
           name = coalesce($2, name),
           scopes = coalesce($3, scopes),
           allowed_cidrs = case when $4 then $5::cidr[] else allowed_cidrs end,
           restricted_to_locations = case when $6 then $7 else restricted_to_locations end
         where id = $1 and revoked_at is null",
    )
    .bind(id)
    .bind(changes.name)
    .bind(changes.scopes.map(ScopeSet::to_strings))
    .bind(changes.cidrs.is_some())
    .bind(changes.cidrs.as_ref().and_then(cidr_texts))
    .bind(changes.locations.is_some())
    .bind(matches!(changes.locations, Some(Some(_))))
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    match &changes.locations {
        Some(Some(locations)) => set_locations(tx, id, locations).await?,
        Some(None) => {
            sqlx::query("delete from connector_locations where connector_id = $1")
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        None => {}
    }
    get(tx.conn(), id).await
}

/// Revokes a connector and so every key of it; `false` if it was not live.
pub async fn revoke(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update connectors set revoked_at = now() where id = $1 and revoked_at is null",
    )
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes one key; returns its connector when it was live.
pub async fn revoke_key(tx: &mut TenantTx, key_id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "update connector_keys set revoked_at = now()
         where id = $1 and revoked_at is null returning connector_id",
    )
    .bind(key_id)
    .fetch_optional(tx.conn())
    .await
}

/// One connector.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<ConnectorRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {CONNECTOR_COLUMNS} from connectors c where c.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The tenant's connectors, newest first.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<ConnectorRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {CONNECTOR_COLUMNS} from connectors c order by c.created_at desc, c.id limit 500"
    ))
    .fetch_all(conn)
    .await
}

/// The keys of some connectors, newest first.
pub async fn keys_of(
    conn: &mut PgConnection,
    connectors: &[Uuid],
) -> Result<Vec<ConnectorKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {KEY_COLUMNS} from connector_keys where connector_id = any($1)
         order by created_at desc, id"
    ))
    .bind(connectors)
    .fetch_all(conn)
    .await
}

/// The tenant's cap on key lifetimes, in days.
pub async fn max_key_days(conn: &mut PgConnection) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("select connector_key_max_days from tenants")
        .fetch_one(conn)
        .await
}

/// Sets the tenant's cap on key lifetimes.
pub async fn set_max_key_days(tx: &mut TenantTx, days: i32) -> Result<(), sqlx::Error> {
    sqlx::query("update tenants set connector_key_max_days = $1")
        .bind(days)
        .execute(tx.conn())
        .await?;
    Ok(())
}

impl ConnectorAuth {
    /// Issues a key for a live connector; returns it with the only copy of
    /// the full key.
    pub async fn issue_key(
        &self,
        tx: &mut TenantTx,
        connector_id: Uuid,
        environment: Environment,
        expires_at: DateTime<Utc>,
        created_by: Option<Uuid>,
    ) -> Result<(ConnectorKeyRow, String), sqlx::Error> {
        let id = Uuid::new_v4();
        let key = apikey::generate(environment, id)
            .map_err(|_| sqlx::Error::Protocol("the system random source failed".into()))?;
        let parsed = apikey::parse(&key)
            .map_err(|_| sqlx::Error::Protocol("a generated key did not parse".into()))?;
        let tag = apikey::mac(self.mac(), id, parsed.secret);
        let row: ConnectorKeyRow = sqlx::query_as(&format!(
            "insert into connector_keys (tenant_id, id, connector_id, environment, secret_hash,
                                         created_by, expires_at)
             values ($1, $2, $3, $4, $5, $6, $7)
             returning {KEY_COLUMNS}"
        ))
        .bind(tx.tenant().as_uuid())
        .bind(id)
        .bind(connector_id)
        .bind(environment.as_str())
        .bind(tag.as_ref())
        .bind(created_by)
        .bind(expires_at)
        .fetch_one(tx.conn())
        .await?;
        Ok((row, key))
    }

    /// Rolls a live connector's keys: a new key, and every live older key
    /// keeps working only until `old_until`. `None` if the connector is not
    /// live.
    pub async fn roll_key(
        &self,
        tx: &mut TenantTx,
        connector_id: Uuid,
        environment: Environment,
        expires_at: DateTime<Utc>,
        old_until: DateTime<Utc>,
        created_by: Option<Uuid>,
    ) -> Result<Option<(ConnectorKeyRow, String)>, sqlx::Error> {
        let live: Option<Uuid> = sqlx::query_scalar(
            "select id from connectors where id = $1 and revoked_at is null for update",
        )
        .bind(connector_id)
        .fetch_optional(tx.conn())
        .await?;
        if live.is_none() {
            return Ok(None);
        }
        let (row, key) = self
            .issue_key(tx, connector_id, environment, expires_at, created_by)
            .await?;
        sqlx::query(
            "update connector_keys
             set expires_at = greatest(least(expires_at, $3), created_at + interval '1 millisecond'),
                 replaced_by = $2
             where connector_id = $1 and id <> $2 and revoked_at is null
               and replaced_by is null and expires_at > now()",
        )
        .bind(connector_id)
        .bind(row.id)
        .bind(old_until)
        .execute(tx.conn())
        .await?;
        Ok(Some((row, key)))
    }
}
