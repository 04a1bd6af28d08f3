use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Duration, Utc};
use prep_auth::connectors::cidr::Cidr;
use prep_auth::connectors::store::{self, ConnectorChanges, ConnectorKeyRow, NewConnector};
use prep_auth::connectors::{Environment, ScopeSet};
use prep_auth::{Actor, Target};
use prep_tenancy::TenantTx;
use serde_json::json;
use uuid::Uuid;

use super::{
    load, service, Connector, ConnectorCredentials, ConnectorKind, ConnectorPolicy,
    ConnectorVendor, CONNECTORS_WRITE,
};
use crate::audit;
use crate::context::{request, RequestContext};
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::payload::{
    len_between, on_constraint, ConstraintError, UserError, UserErrorCode, Violations,
};

/// Longest overlap of a roll: a week to update the connected system.
const MAX_OVERLAP: Duration = Duration::days(7);
/// Lifetime of a key when none is asked for (capped by the tenant's policy).
const DEFAULT_KEY_DAYS: i32 = 90;

/// A new connector.
#[derive(InputObject)]
pub struct CreateConnectorInput {
    /// A label, unique in the tenant, e.g. "Workday production".
    pub name: String,
    /// ERP or HRIS.
    pub kind: ConnectorKind,
    /// Who makes the system.
    pub vendor: ConnectorVendor,
    /// Scopes to grant, e.g. `["employees:write", "credentials:write"]`.
    pub scopes: Vec<String>,
    /// Restrict it to these locations (omit for the whole tenant).
    pub location_ids: Option<Vec<ID>>,
    /// Restrict it to these source address ranges (omit for any).
    pub allowed_ip_ranges: Option<Vec<String>>,
    /// Days until its first key expires (default 90, at most the tenant's
    /// policy).
    pub expires_in_days: Option<i32>,
}

/// Changes to a connector; omitted fields stay as they are. Changes apply
/// to its keys and tokens at once.
#[derive(InputObject)]
pub struct UpdateConnectorInput {
    /// The connector.
    pub id: ID,
    /// New label.
    pub name: Option<String>,
    /// New scopes.
    pub scopes: Option<Vec<String>>,
    /// New locations; null lifts the restriction.
    pub location_ids: MaybeUndefined<Vec<ID>>,
    /// New address ranges; null allows any address.
    pub allowed_ip_ranges: MaybeUndefined<Vec<String>>,
}

/// A new key for a connector; its older keys keep working until
/// `oldKeysValidUntil` (default: one hour from now).
#[derive(InputObject)]
pub struct RollConnectorKeyInput {
    /// The connector.
    pub connector_id: ID,
    /// Until when the older keys keep working (now to 7 days ahead).
    pub old_keys_valid_until: Option<DateTime<Utc>>,
    /// Days until the new key expires (default 90, at most the policy).
    pub expires_in_days: Option<i32>,
}

/// An object to revoke.
#[derive(InputObject)]
pub struct RevokeInput {
    /// Its id.
    pub id: ID,
}

/// The tenant's rules for connector keys.
#[derive(InputObject)]
pub struct SetConnectorPolicyInput {
    /// The longest lifetime a key may be given (1 to 730 days).
    pub max_key_lifetime_days: i32,
}

/// Result of a connector mutation.
#[derive(SimpleObject)]
pub struct ConnectorPayload {
    /// The connector, unless the input was refused.
    pub connector: Option<Connector>,
    /// A new key, shown only in the payload that made it.
    pub credentials: Option<ConnectorCredentials>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

/// Result of a policy change.
#[derive(SimpleObject)]
pub struct ConnectorPolicyPayload {
    /// The policy now.
    pub policy: Option<ConnectorPolicy>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

impl ConnectorPayload {
    fn refused(user_errors: Vec<UserError>) -> Self {
        Self {
            connector: None,
            credentials: None,
            user_errors,
        }
    }
}

const CONNECTOR_CONSTRAINTS: &[ConstraintError] = &[
    ConstraintError {
        constraint: "connectors_tenant_name_key",
        field: "name",
        code: UserErrorCode::Taken,
        message: "another connector already has this name",
    },
    ConstraintError {
        constraint: "connector_locations_location_fkey",
        field: "locationIds",
        code: UserErrorCode::NotFound,
        message: "no such location",
    },
];

/// Connector mutations.
#[derive(Default)]
pub struct ConnectorMutation;

#[Object]
impl ConnectorMutation {
    /// Registers a connector and issues its first key. Needs
    /// `connectors:write`.
    async fn create_connector(
        &self,
        ctx: &Context<'_>,
        input: CreateConnectorInput,
    ) -> Result<ConnectorPayload> {
        let (rc, auth) = (request(ctx)?, service(ctx)?);
        rc.authorize(CONNECTORS_WRITE, Target::Tenant).await?;
        let mut v = Violations::default();
        let name = input.name.trim();
        v.check(
            len_between(name, 1, 100),
            "name",
            "give a name of 1 to 100 characters",
        );
        let scopes = scopes(&mut v, &input.scopes);
        let cidrs = input
            .allowed_ip_ranges
            .as_deref()
            .map(|r| ranges(&mut v, r));
        let locations = input
            .location_ids
            .as_deref()
            .map(|l| location_ids(&mut v, l));
        let mut tx = rc.begin_write().await?;
        let (is_sandbox, max_days) = tenant_policy(&mut tx).await?;
        let days = lifetime(&mut v, input.expires_in_days, max_days);
        if let Err(errors) = v.into_result() {
            return Ok(ConnectorPayload::refused(errors));
        }
        let new = NewConnector {
            name,
            kind: input.kind.as_db(),
            vendor: input.vendor.as_db(),
            scopes,
            cidrs,
            locations,
            created_by: actor_user(rc),
        };
        let row = match store::insert(&mut tx, &new).await {
            Ok(row) => row,
            Err(e) => {
                let err = on_constraint(e, CONNECTOR_CONSTRAINTS).map_err(ApiError::from)?;
                return Ok(ConnectorPayload::refused(vec![err]));
            }
        };
        let expires = Utc::now() + Duration::days(days.into());
        let (key, secret) = auth
            .issue_key(
                &mut tx,
                row.id,
                Environment::of_tenant(is_sandbox),
                expires,
                actor_user(rc),
            )
            .await
            .map_err(ApiError::from)?;
        let details = json!({
            "name": row.name, "kind": row.kind, "vendor": row.vendor, "scopes": row.scopes,
            "allowedIpRanges": row.allowed_cidrs, "locations": row.location_ids.len(),
            "restrictedToLocations": row.restricted_to_locations,
            "keyId": ids::encode(NodeType::ConnectorKey, key.id), "expiresAt": key.expires_at,
        });
        audit::record(
            &mut tx,
            rc,
            "connector.create",
            (NodeType::Connector, row.id),
            details,
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        let credentials = credentials(auth.token_url(), row.id, &key, secret);
        Ok(ConnectorPayload {
            connector: Some(Connector {
                row,
                keys: vec![key],
            }),
            credentials: Some(credentials),
            user_errors: Vec::new(),
        })
    }

    /// Changes a connector's name, scopes, locations or address ranges; its
    /// keys and tokens follow at once. Needs `connectors:write`.
    async fn update_connector(
        &self,
        ctx: &Context<'_>,
        input: UpdateConnectorInput,
    ) -> Result<ConnectorPayload> {
        let id = ids::decode(&input.id, NodeType::Connector)?;
        let rc = request(ctx)?;
        rc.authorize(CONNECTORS_WRITE, Target::Tenant).await?;
        let mut v = Violations::default();
        let name = input.name.as_deref().map(str::trim);
        if let Some(name) = name {
            v.check(
                len_between(name, 1, 100),
                "name",
                "give a name of 1 to 100 characters",
            );
        }
        let changes = ConnectorChanges {
            name,
            scopes: input.scopes.as_deref().map(|s| scopes(&mut v, s)),
            cidrs: match &input.allowed_ip_ranges {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(r) => Some(Some(ranges(&mut v, r))),
            },
            locations: match &input.location_ids {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(l) => Some(Some(location_ids(&mut v, l))),
            },
        };
        if let Err(errors) = v.into_result() {
            return Ok(ConnectorPayload::refused(errors));
        }
        let mut tx = rc.begin_write().await?;
        let row = match store::update(&mut tx, id, &changes).await {
            Ok(Some(row)) => row,
            Ok(None) => return Err(ApiError::NotFound("connector").into()),
            Err(e) => {
                let err = on_constraint(e, CONNECTOR_CONSTRAINTS).map_err(ApiError::from)?;
                return Ok(ConnectorPayload::refused(vec![err]));
            }
        };
        let details = json!({
            "name": changes.name.is_some(), "scopes": changes.scopes.map(ScopeSet::to_strings),
            "allowedIpRanges": changes.cidrs.is_some().then(|| row.allowed_cidrs.clone()),
            "locations": changes.locations.is_some().then_some(row.location_ids.len()),
        });
        audit::record(
            &mut tx,
            rc,
            "connector.update",
            (NodeType::Connector, id),
            details,
        )
        .await?;
        let keys = store::keys_of(tx.conn(), &[id])
            .await
            .map_err(ApiError::from)?;
        tx.commit().await.map_err(ApiError::from)?;
        // this replica at once; the others when PostgreSQL's notice arrives
        service(ctx)?.evict_connector(id);
        Ok(ConnectorPayload {
            connector: Some(Connector { row, keys }),
            credentials: None,
            user_errors: Vec::new(),
        })
    }

    /// Issues a new key; the connector's older keys keep working until
    /// `oldKeysValidUntil`, so the connected system can be updated without
    /// downtime. Needs `connectors:write`.
    async fn roll_connector_key(
        &self,
        ctx: &Context<'_>,
        input: RollConnectorKeyInput,
    ) -> Result<ConnectorPayload> {
        let id = ids::decode(&input.connector_id, NodeType::Connector)?;
        let (rc, auth) = (request(ctx)?, service(ctx)?);
        rc.authorize(CONNECTORS_WRITE, Target::Tenant).await?;
        let now = Utc::now();
        let old_until = input
            .old_keys_valid_until
            .unwrap_or(now + Duration::hours(1));
        let mut v = Violations::default();
        v.check(
            old_until >= now - Duration::seconds(5) && old_until <= now + MAX_OVERLAP,
            "oldKeysValidUntil",
            "give a time between now and 7 days from now",
        );
        let mut tx = rc.begin_write().await?;
        let (is_sandbox, max_days) = tenant_policy(&mut tx).await?;
        let days = lifetime(&mut v, input.expires_in_days, max_days);
        if let Err(errors) = v.into_result() {
            return Ok(ConnectorPayload::refused(errors));
        }
        let rolled = auth
            .roll_key(
                &mut tx,
                id,
                Environment::of_tenant(is_sandbox),
                now + Duration::days(days.into()),
                old_until.max(now),
                actor_user(rc),
            )
            .await
            .map_err(ApiError::from)?;
        let Some((key, secret)) = rolled else {
            return Err(ApiError::NotFound("connector").into());
        };
        let details = json!({
            "keyId": ids::encode(NodeType::ConnectorKey, key.id),
            "expiresAt": key.expires_at, "oldKeysValidUntil": old_until.max(now),
        });
        audit::record(
            &mut tx,
            rc,
            "connector.key_roll",
            (NodeType::Connector, id),
            details,
        )
        .await?;
        let connector = load(tx.conn(), id)
            .await?
            .ok_or(ApiError::NotFound("connector"))?;
        tx.commit().await.map_err(ApiError::from)?;
        auth.evict_connector(id);
        Ok(ConnectorPayload {
            credentials: Some(credentials(auth.token_url(), id, &key, secret)),
            connector: Some(connector),
            user_errors: Vec::new(),
        })
    }

    /// Revokes a connector: every key and token of it stops working at once,
    /// on every replica. Needs `connectors:write`.
    async fn revoke_connector(
        &self,
        ctx: &Context<'_>,
        input: RevokeInput,
    ) -> Result<ConnectorPayload> {
        let id = ids::decode(&input.id, NodeType::Connector)?;
        let rc = request(ctx)?;
        rc.authorize(CONNECTORS_WRITE, Target::Tenant).await?;
        let mut tx = rc.begin_write().await?;
        let revoked = store::revoke(&mut tx, id).await.map_err(ApiError::from)?;
        let connector = load(tx.conn(), id)
            .await?
            .ok_or(ApiError::NotFound("connector"))?;
        if revoked {
            audit::record(
                &mut tx,
                rc,
                "connector.revoke",
                (NodeType::Connector, id),
                json!({}),
            )
            .await?;
        }
        tx.commit().await.map_err(ApiError::from)?;
        service(ctx)?.evict_connector(id);
        Ok(ConnectorPayload {
            connector: Some(connector),
            credentials: None,
            user_errors: Vec::new(),
        })
    }

    /// Revokes one key of a connector at once (say, a leaked old key during
    /// a roll's overlap). Needs `connectors:write`.
    async fn revoke_connector_key(
        &self,
        ctx: &Context<'_>,
        input: RevokeInput,
    ) -> Result<ConnectorPayload> {
        let key_id = ids::decode(&input.id, NodeType::ConnectorKey)?;
        let rc = request(ctx)?;
        rc.authorize(CONNECTORS_WRITE, Target::Tenant).await?;
        let mut tx = rc.begin_write().await?;
        let connector_id = match store::revoke_key(&mut tx, key_id)
            .await
            .map_err(ApiError::from)?
        {
            Some(c) => {
                let details = json!({ "keyId": input.id });
                audit::record(
                    &mut tx,
                    rc,
                    "connector.key_revoke",
                    (NodeType::Connector, c),
                    details,
                )
                .await?;
                c
            }
            None => sqlx::query_scalar::<_, Uuid>(
                "select connector_id from connector_keys where id = $1",
            )
            .bind(key_id)
            .fetch_optional(tx.conn())
            .await
            .map_err(ApiError::from)?
            .ok_or(ApiError::NotFound("connector key"))?,
        };
        let connector = load(tx.conn(), connector_id)
            .await?
            .ok_or(ApiError::NotFound("connector"))?;
        tx.commit().await.map_err(ApiError::from)?;
        service(ctx)?.evict_connector(connector_id);
        Ok(ConnectorPayload {
            connector: Some(connector),
            credentials: None,
            user_errors: Vec::new(),
        })
    }

    /// Sets the longest lifetime a connector key may be given; existing
    /// keys keep their expiry. Needs `connectors:write`.
    async fn set_connector_policy(
        &self,
        ctx: &Context<'_>,
        input: SetConnectorPolicyInput,
    ) -> Result<ConnectorPolicyPayload> {
        let rc = request(ctx)?;
        rc.authorize(CONNECTORS_WRITE, Target::Tenant).await?;
        if !(1..=730).contains(&input.max_key_lifetime_days) {
            return Ok(ConnectorPolicyPayload {
                policy: None,
                user_errors: vec![UserError::new(
                    "maxKeyLifetimeDays",
                    UserErrorCode::Invalid,
                    "must be between 1 and 730",
                )],
            });
        }
        let mut tx = rc.begin_write().await?;
        store::set_max_key_days(&mut tx, input.max_key_lifetime_days)
            .await
            .map_err(ApiError::from)?;
        let tenant = tx.tenant().as_uuid();
        let details = json!({ "maxKeyLifetimeDays": input.max_key_lifetime_days });
        audit::record(
            &mut tx,
            rc,
            "connector.policy",
            (NodeType::Tenant, tenant),
            details,
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(ConnectorPolicyPayload {
            policy: Some(ConnectorPolicy {
                max_key_lifetime_days: input.max_key_lifetime_days,
            }),
            user_errors: Vec::new(),
        })
    }
}

fn scopes(v: &mut Violations, given: &[String]) -> ScopeSet {
    if given.is_empty() || given.len() > 16 {
        v.add("scopes", UserErrorCode::Invalid, "grant 1 to 16 scopes");
        return ScopeSet::EMPTY;
    }
    match ScopeSet::parse(given.iter().map(String::as_str)) {
        Ok(set) => set,
        Err(message) => {
            v.add("scopes", UserErrorCode::Invalid, message);
            ScopeSet::EMPTY
        }
    }
}

fn ranges(v: &mut Violations, given: &[String]) -> Vec<Cidr> {
    if given.is_empty() || given.len() > 32 {
        v.add(
            "allowedIpRanges",
            UserErrorCode::Invalid,
            "give 1 to 32 ranges, or null for any address",
        );
        return Vec::new();
    }
    given
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r.trim().parse::<Cidr>() {
            Ok(c) => Some(c),
            Err(message) => {
                v.add(
                    &format!("allowedIpRanges.{i}"),
                    UserErrorCode::Invalid,
                    message,
                );
                None
            }
        })
        .collect()
}

fn location_ids(v: &mut Violations, given: &[ID]) -> Vec<Uuid> {
    if given.len() > 1000 {
        v.add(
            "locationIds",
            UserErrorCode::Invalid,
            "give at most 1000 locations",
        );
        return Vec::new();
    }
    let mut out = Vec::with_capacity(given.len());
    for (i, id) in given.iter().enumerate() {
        match ids::decode(id, NodeType::Location) {
            Ok(u) => out.push(u),
            Err(_) => v.add(
                &format!("locationIds.{i}"),
                UserErrorCode::Invalid,
                "not a location id",
            ),
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn lifetime(v: &mut Violations, asked: Option<i32>, max_days: i32) -> i32 {
    let days = asked.unwrap_or(DEFAULT_KEY_DAYS.min(max_days));
    if !(1..=max_days).contains(&days) {
        v.add(
            "expiresInDays",
            UserErrorCode::Invalid,
            format!("the tenant's policy allows keys of 1 to {max_days} days"),
        );
    }
    days
}

/// Whether the tenant is a sandbox (its keys are `prep_test_`) and its cap
/// on key lifetimes.
async fn tenant_policy(tx: &mut TenantTx) -> ApiResult<(bool, i32)> {
    Ok(
        sqlx::query_as::<_, (bool, i32)>("select is_sandbox, connector_key_max_days from tenants")
            .fetch_one(tx.conn())
            .await?,
    )
}

fn actor_user(rc: &RequestContext) -> Option<Uuid> {
    match rc.principal.actor {
        Actor::User(id) => Some(id),
        _ => None,
    }
}

fn credentials(
    token_url: &str,
    connector: Uuid,
    key: &ConnectorKeyRow,
    secret: String,
) -> ConnectorCredentials {
    ConnectorCredentials {
        client_id: connector.to_string(),
        api_key: secret,
        key_id: ids::encode(NodeType::ConnectorKey, key.id),
        expires_at: key.expires_at,
        token_url: token_url.to_owned(),
    }
}
