//! ERP location sync: the chain's store list (stores, cost centers) follows
//! the ERP, upserted by the ERP's own id.

use std::collections::{BTreeSet, HashMap};

use async_graphql::{Context, InputObject, Object, Result};
use prep_auth::{Action, Permission, Resource, Target};
use uuid::Uuid;

use super::employees::finish;
use super::{valid_external_id, Batch, SyncPayload, SyncStatus};
use crate::context::request;
use crate::enums::LocationStatus;
use crate::error::ApiError;
use crate::ids::NodeType;
use crate::locations::{address_problems, valid_store_number, AddressInput, STORE_NUMBER_RULE};
use crate::payload::{len_between, UserErrorCode};

const LOCATIONS_WRITE: Permission = Permission(Resource::Locations, Action::Write);

/// One location as the ERP knows it.
#[derive(InputObject)]
pub struct LocationRecordInput {
    /// The location's id in the ERP: the key of the upsert.
    pub external_id: String,
    /// The chain's store number, unique in the tenant.
    pub store_number: String,
    /// Display name.
    pub name: String,
    /// Street address.
    pub address: AddressInput,
    /// Code of its most specific jurisdiction (city or county) in the
    /// address's state, e.g. `US-IL-CHICAGO`.
    pub jurisdiction_code: String,
    /// Open or closed.
    #[graphql(default_with = "LocationStatus::Active")]
    pub status: LocationStatus,
}

/// Locations to create or update.
#[derive(InputObject)]
pub struct SyncLocationsInput {
    /// 1 to 500 records, each external id and store number at most once.
    pub locations: Vec<LocationRecordInput>,
    /// Apply nothing if any record fails.
    #[graphql(default)]
    pub atomic: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    store_number: String,
    name: String,
    line1: String,
    city: String,
    state: String,
    postal_code: String,
    jurisdiction_id: Uuid,
    status: String,
}

/// ERP location sync mutations.
#[derive(Default)]
pub struct LocationSyncMutation;

#[Object]
impl LocationSyncMutation {
    /// Creates or updates locations by their ERP id (renames, moves,
    /// closures and reopenings); each changed location is re-evaluated.
    /// Needs `locations:write` tenant-wide to create, on the location to
    /// change it.
    async fn sync_locations(
        &self,
        ctx: &Context<'_>,
        input: SyncLocationsInput,
    ) -> Result<SyncPayload> {
        let rc = request(ctx)?;
        let records = input.locations;
        let mut batch = Batch::new("locations", records.iter().map(|r| r.external_id.as_str()))?;
        rc.authorize_somewhere(LOCATIONS_WRITE).await?;
        validate(&mut batch, &records);

        let mut tx = rc.begin_write().await?;
        let codes: Vec<String> = records
            .iter()
            .map(|r| r.jurisdiction_code.clone())
            .collect();
        let jurisdictions: HashMap<String, (Uuid, Option<String>)> = sqlx::query!(
            "select id, code, state_code from jurisdictions
             where code = any($1) and level in ('county', 'city')",
            &codes,
        )
        .fetch_all(tx.conn())
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|j| (j.code, (j.id, j.state_code)))
        .collect();
        let ext_ids: Vec<String> = records.iter().map(|r| r.external_id.clone()).collect();
        let stores: Vec<String> = records.iter().map(|r| r.store_number.clone()).collect();
        let current = sqlx::query!(
            "select id, external_id, store_number, name, address_line1, city, state_code,
                    postal_code, jurisdiction_id, status
             from locations where external_id = any($1) or store_number = any($2)
             for update",
            &ext_ids,
            &stores,
        )
        .fetch_all(tx.conn())
        .await
        .map_err(ApiError::from)?;
        let mut by_ext: HashMap<String, (Uuid, Row)> = HashMap::new();
        let mut store_owner: HashMap<String, Option<String>> = HashMap::new();
        for l in current {
            store_owner.insert(l.store_number.clone(), l.external_id.clone());
            if let Some(ext) = l.external_id {
                let row = Row {
                    store_number: l.store_number,
                    name: l.name,
                    line1: l.address_line1,
                    city: l.city,
                    state: l.state_code,
                    postal_code: l.postal_code,
                    jurisdiction_id: l.jurisdiction_id,
                    status: l.status,
                };
                by_ext.insert(ext, (l.id, row));
            }
        }

        let mut inserts: Vec<(usize, Row)> = Vec::new();
        let mut updates: Vec<(usize, Uuid, Row)> = Vec::new();
        for i in batch.live() {
            let r = &records[i];
            let jurisdiction = jurisdictions
                .get(&r.jurisdiction_code)
                .filter(|(_, state)| state.as_deref() == Some(r.address.state.as_str()));
            let Some(&(jurisdiction_id, _)) = jurisdiction else {
                batch.fail(
                    i,
                    "jurisdictionCode",
                    UserErrorCode::NotFound,
                    "no county or city jurisdiction with this code in the address's state",
                );
                continue;
            };
            let taken = store_owner
                .get(&r.store_number)
                .is_some_and(|owner| owner.as_deref() != Some(r.external_id.as_str()));
            if taken {
                batch.fail(
                    i,
                    "storeNumber",
                    UserErrorCode::Taken,
                    "another location already has this store number",
                );
                continue;
            }
            let wanted = Row {
                store_number: r.store_number.clone(),
                name: r.name.trim().to_owned(),
                line1: r.address.line1.clone(),
                city: r.address.city.clone(),
                state: r.address.state.clone(),
                postal_code: r.address.postal_code.clone(),
                jurisdiction_id,
                status: r.status.as_db().to_owned(),
            };
            let (target, existing) = match by_ext.get(&r.external_id) {
                Some((id, row)) => (Target::Location(*id), Some((*id, row))),
                None => (Target::Tenant, None),
            };
            match existing {
                Some((id, row)) if *row == wanted => {
                    batch.done(i, SyncStatus::Unchanged, (NodeType::Location, id));
                }
                _ if !rc.can(LOCATIONS_WRITE, target) => {
                    batch.fail(
                        i,
                        "externalId",
                        UserErrorCode::Forbidden,
                        "you may not create or change this location",
                    );
                }
                Some((id, _)) => updates.push((i, id, wanted)),
                None => inserts.push((i, wanted)),
            }
        }
        if input.atomic && batch.any_failed() {
            return Ok(batch.finish(false));
        }
        let mut touched = BTreeSet::new();
        let inserted = insert(&mut tx, &records, &inserts).await?;
        for (i, _) in &inserts {
            match inserted.get(&records[*i].external_id) {
                Some(id) => {
                    touched.insert(*id);
                    batch.done(*i, SyncStatus::Created, (NodeType::Location, *id));
                }
                None => batch.fail(
                    *i,
                    "externalId",
                    UserErrorCode::Taken,
                    "a location outside your reach already has this external id or store number",
                ),
            }
        }
        if input.atomic && batch.any_failed() {
            drop(tx);
            return Ok(batch.finish(false));
        }
        update(&mut tx, &updates).await?;
        for (i, id, _) in &updates {
            touched.insert(*id);
            batch.done(*i, SyncStatus::Updated, (NodeType::Location, *id));
        }
        finish(
            rc,
            tx,
            &batch,
            touched,
            ("location.sync", NodeType::Location),
        )
        .await?;
        Ok(batch.finish(true))
    }
}

fn validate(batch: &mut Batch, records: &[LocationRecordInput]) {
    let keys: Vec<&str> = records.iter().map(|r| r.external_id.as_str()).collect();
    batch.refuse_duplicates("externalId", &keys, "external id");
    let stores: Vec<&str> = records.iter().map(|r| r.store_number.as_str()).collect();
    batch.refuse_duplicates("storeNumber", &stores, "store number");
    for (i, r) in records.iter().enumerate() {
        batch.check(
            valid_external_id(&r.external_id),
            i,
            "externalId",
            "give an external id of 1 to 128 printable characters",
        );
        batch.check(
            valid_store_number(&r.store_number),
            i,
            "storeNumber",
            STORE_NUMBER_RULE,
        );
        batch.check(
            len_between(r.name.trim(), 1, 200),
            i,
            "name",
            "give a name of 1 to 200 characters",
        );
        batch.check(
            len_between(&r.jurisdiction_code, 1, 64),
            i,
            "jurisdictionCode",
            "give a jurisdiction code such as US-IL-CHICAGO",
        );
        for (field, message) in address_problems(&r.address) {
            batch.fail(i, field, UserErrorCode::Invalid, message);
        }
    }
}

#[derive(Default)]
struct Columns {
    stores: Vec<String>,
    names: Vec<String>,
    lines: Vec<String>,
    cities: Vec<String>,
    states: Vec<String>,
    zips: Vec<String>,
    jurisdictions: Vec<Uuid>,
    statuses: Vec<String>,
}

impl Columns {
    fn of<'a>(rows: impl Iterator<Item = &'a Row>) -> Self {
        let mut c = Columns::default();
        for r in rows {
            c.stores.push(r.store_number.clone());
            c.names.push(r.name.clone());
            c.lines.push(r.line1.clone());
            c.cities.push(r.city.clone());
            c.states.push(r.state.clone());
            c.zips.push(r.postal_code.clone());
            c.jurisdictions.push(r.jurisdiction_id);
            c.statuses.push(r.status.clone());
        }
        c
    }
}

async fn insert(
    tx: &mut prep_tenancy::TenantTx,
    records: &[LocationRecordInput],
    rows: &[(usize, Row)],
) -> Result<HashMap<String, Uuid>, ApiError> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let ext: Vec<String> = rows
        .iter()
        .map(|(i, _)| records[*i].external_id.clone())
        .collect();
    let c = Columns::of(rows.iter().map(|(_, r)| r));
    let inserted = sqlx::query!(
        r#"insert into locations (tenant_id, external_id, store_number, name, address_line1, city,
                                  state_code, postal_code, jurisdiction_id, status)
           select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                                    $7::text[], $8::text[], $9::uuid[], $10::text[])
           on conflict do nothing
           returning id, external_id as "external_id!""#,
        tx.tenant().as_uuid(),
        &ext,
        &c.stores,
        &c.names,
        &c.lines,
        &c.cities,
        &c.states,
        &c.zips,
        &c.jurisdictions,
        &c.statuses,
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(inserted
        .into_iter()
        .map(|r| (r.external_id, r.id))
        .collect())
}

async fn update(
    tx: &mut prep_tenancy::TenantTx,
    rows: &[(usize, Uuid, Row)],
) -> Result<(), ApiError> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|(_, id, _)| *id).collect();
    let c = Columns::of(rows.iter().map(|(_, _, r)| r));
    sqlx::query!(
        "update locations l set
           store_number = u.store_number, name = u.name, address_line1 = u.line1, city = u.city,
           state_code = u.state, postal_code = u.zip, jurisdiction_id = u.jurisdiction, status = u.status
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::uuid[], $9::text[])
           as u(id, store_number, name, line1, city, state, zip, jurisdiction, status)
         where l.id = u.id",
        &ids,
        &c.stores,
        &c.names,
        &c.lines,
        &c.cities,
        &c.states,
        &c.zips,
        &c.jurisdictions,
        &c.statuses,
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
