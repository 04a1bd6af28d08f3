//! HRIS employee sync: upsert by the HRIS's employee id, and batch
//! terminations.

use std::collections::{BTreeSet, HashMap};

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::NaiveDate;
use prep_auth::{Action, Permission, Resource, Target};
use uuid::Uuid;

use super::{valid_external_id, Batch, SyncPayload, SyncStatus};
use crate::context::{request, RequestContext};
use crate::enums::EmployeeStatus;
use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::payload::{len_between, UserErrorCode};
use crate::{audit, clock, compliance};

const EMPLOYEES_WRITE: Permission = Permission(Resource::Employees, Action::Write);

/// One employee as the HRIS knows them.
#[derive(InputObject, Clone)]
pub struct EmployeeRecordInput {
    /// The employee's id in the HRIS: the key of the upsert.
    pub external_id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Job title.
    #[graphql(default)]
    pub job_title: String,
    /// Whether the job handles unpackaged food.
    #[graphql(default = true)]
    pub handles_food: bool,
    /// Hire date (not in the future).
    pub hire_date: NaiveDate,
    /// Where they work, by the ERP's location id...
    pub location_external_id: Option<String>,
    /// ...or by store number...
    pub location_store_number: Option<String>,
    /// ...or by global id: exactly one of the three.
    pub location_id: Option<ID>,
    /// Employment status; `TERMINATED` needs `terminatedOn`.
    #[graphql(default_with = "EmployeeStatus::Active")]
    pub status: EmployeeStatus,
    /// Last day of employment, for a terminated employee.
    pub terminated_on: Option<NaiveDate>,
}

/// Employees to create or update.
#[derive(InputObject)]
pub struct SyncEmployeesInput {
    /// 1 to 500 records, each external id at most once.
    pub employees: Vec<EmployeeRecordInput>,
    /// Apply nothing if any record fails.
    #[graphql(default)]
    pub atomic: bool,
}

/// One termination.
#[derive(InputObject, Clone)]
pub struct TerminationRecordInput {
    /// The employee's id in the HRIS.
    pub external_id: String,
    /// Last day of employment.
    pub terminated_on: NaiveDate,
}

/// Employees to terminate.
#[derive(InputObject)]
pub struct TerminateEmployeesInput {
    /// 1 to 500 records.
    pub employees: Vec<TerminationRecordInput>,
    /// Apply nothing if any record fails.
    #[graphql(default)]
    pub atomic: bool,
}

/// An employee row as the sync compares it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    location_id: Uuid,
    first_name: String,
    last_name: String,
    job_title: String,
    handles_food: bool,
    hire_date: NaiveDate,
    status: String,
    terminated_on: Option<NaiveDate>,
}

/// HRIS employee sync mutations.
#[derive(Default)]
pub struct EmployeeSyncMutation;

#[Object]
impl EmployeeSyncMutation {
    /// Creates or updates employees by their HRIS id (transfers, leaves,
    /// terminations and rehires included); the compliance of every
    /// location that gained or lost someone is re-evaluated. Needs
    /// `employees:write` at each record's location (and its old one).
    async fn sync_employees(
        &self,
        ctx: &Context<'_>,
        input: SyncEmployeesInput,
    ) -> Result<SyncPayload> {
        let rc = request(ctx)?;
        let records = input.employees;
        let mut batch = Batch::new("employees", records.iter().map(|r| r.external_id.as_str()))?;
        rc.authorize_somewhere(EMPLOYEES_WRITE).await?;
        let today = clock::today();
        let location_refs = validate(&mut batch, &records, today);

        let mut tx = rc.begin_write().await?;
        let locations = resolve_locations(&mut tx, &location_refs).await?;
        let ext_ids: Vec<String> = records.iter().map(|r| r.external_id.clone()).collect();
        let existing = load_existing(&mut tx, &ext_ids).await?;

        let mut inserts: Vec<(usize, Row)> = Vec::new();
        let mut updates: Vec<(usize, Uuid, Row)> = Vec::new();
        let mut touched = BTreeSet::new();
        for i in batch.live() {
            let Some(location_id) = locations.get(&location_refs[i]).copied() else {
                batch.fail(i, "location", UserErrorCode::NotFound, "no such location");
                continue;
            };
            let r = &records[i];
            let wanted = Row {
                location_id,
                first_name: r.first_name.trim().to_owned(),
                last_name: r.last_name.trim().to_owned(),
                job_title: r.job_title.trim().to_owned(),
                handles_food: r.handles_food,
                hire_date: r.hire_date,
                status: r.status.as_db().to_owned(),
                terminated_on: r.terminated_on,
            };
            match existing.get(&r.external_id) {
                None => {
                    if !may_write(rc, &mut batch, i, &[location_id]) {
                        continue;
                    }
                    inserts.push((i, wanted));
                }
                Some((id, current)) if *current == wanted => {
                    batch.done(i, SyncStatus::Unchanged, (NodeType::Employee, *id))
                }
                Some((id, current)) => {
                    if !may_write(rc, &mut batch, i, &[current.location_id, location_id]) {
                        continue;
                    }
                    touched.insert(current.location_id);
                    updates.push((i, *id, wanted));
                }
            }
        }
        if input.atomic && batch.any_failed() {
            return Ok(batch.finish(false));
        }
        let inserted = insert(&mut tx, &records, &inserts).await?;
        for (i, row) in &inserts {
            match inserted.get(&records[*i].external_id) {
                Some(id) => {
                    touched.insert(row.location_id);
                    batch.done(*i, SyncStatus::Created, (NodeType::Employee, *id));
                }
                // an employee the caller cannot see holds this HRIS id
                None => batch.fail(
                    *i,
                    "externalId",
                    UserErrorCode::Taken,
                    "an employee outside your reach already has this external id",
                ),
            }
        }
        if input.atomic && batch.any_failed() {
            drop(tx);
            return Ok(batch.finish(false));
        }
        update(&mut tx, &updates).await?;
        for (i, id, row) in &updates {
            touched.insert(row.location_id);
            batch.done(*i, SyncStatus::Updated, (NodeType::Employee, *id));
        }
        finish(
            rc,
            tx,
            &batch,
            touched,
            ("employee.sync", NodeType::Employee),
        )
        .await?;
        Ok(batch.finish(true))
    }

    /// Terminates employees by their HRIS id; re-evaluates their locations.
    /// Needs `employees:write` at each employee's location.
    async fn terminate_employees(
        &self,
        ctx: &Context<'_>,
        input: TerminateEmployeesInput,
    ) -> Result<SyncPayload> {
        let rc = request(ctx)?;
        let records = input.employees;
        let mut batch = Batch::new("employees", records.iter().map(|r| r.external_id.as_str()))?;
        rc.authorize_somewhere(EMPLOYEES_WRITE).await?;
        let keys: Vec<&str> = records.iter().map(|r| r.external_id.as_str()).collect();
        batch.refuse_duplicates("externalId", &keys, "external id");
        let mut tx = rc.begin_write().await?;
        let ext_ids: Vec<String> = records.iter().map(|r| r.external_id.clone()).collect();
        let existing = load_existing(&mut tx, &ext_ids).await?;
        let mut updates = Vec::new();
        let mut touched = BTreeSet::new();
        for i in batch.live() {
            let r = &records[i];
            let Some((id, current)) = existing.get(&r.external_id) else {
                batch.fail(
                    i,
                    "externalId",
                    UserErrorCode::NotFound,
                    "no employee has this external id",
                );
                continue;
            };
            if r.terminated_on < current.hire_date {
                batch.fail(
                    i,
                    "terminatedOn",
                    UserErrorCode::Invalid,
                    "the last day cannot be before the hire date",
                );
                continue;
            }
            if current.status == "terminated" && current.terminated_on == Some(r.terminated_on) {
                batch.done(i, SyncStatus::Unchanged, (NodeType::Employee, *id));
                continue;
            }
            if !may_write(rc, &mut batch, i, &[current.location_id]) {
                continue;
            }
            let mut row = current.clone();
            row.status = EmployeeStatus::Terminated.as_db().to_owned();
            row.terminated_on = Some(r.terminated_on);
            touched.insert(row.location_id);
            updates.push((i, *id, row));
        }
        if input.atomic && batch.any_failed() {
            return Ok(batch.finish(false));
        }
        update(&mut tx, &updates).await?;
        for (i, id, _) in &updates {
            batch.done(*i, SyncStatus::Updated, (NodeType::Employee, *id));
        }
        finish(
            rc,
            tx,
            &batch,
            touched,
            ("employee.terminate", NodeType::Employee),
        )
        .await?;
        Ok(batch.finish(true))
    }
}

/// A record's reference to its location, once checked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum LocationRef {
    External(String),
    StoreNumber(String),
    Id(Uuid),
    /// The record is refused already.
    None,
}

/// Checks each record on its own; returns each record's location reference.
fn validate(
    batch: &mut Batch,
    records: &[EmployeeRecordInput],
    today: NaiveDate,
) -> Vec<LocationRef> {
    let keys: Vec<&str> = records.iter().map(|r| r.external_id.as_str()).collect();
    batch.refuse_duplicates("externalId", &keys, "external id");
    let mut refs = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        batch.check(
            valid_external_id(&r.external_id),
            i,
            "externalId",
            "give an external id of 1 to 128 printable characters",
        );
        batch.check(
            len_between(r.first_name.trim(), 1, 100),
            i,
            "firstName",
            "give a first name of 1 to 100 characters",
        );
        batch.check(
            len_between(r.last_name.trim(), 1, 100),
            i,
            "lastName",
            "give a last name of 1 to 100 characters",
        );
        batch.check(
            len_between(&r.job_title, 0, 100),
            i,
            "jobTitle",
            "give a job title of at most 100 characters",
        );
        batch.check(
            r.hire_date <= today,
            i,
            "hireDate",
            "the hire date cannot be in the future",
        );
        match (r.status, r.terminated_on) {
            (EmployeeStatus::Terminated, None) => batch.fail(
                i,
                "terminatedOn",
                UserErrorCode::Invalid,
                "a terminated employee needs terminatedOn",
            ),
            (EmployeeStatus::Terminated, Some(d)) => batch.check(
                d >= r.hire_date,
                i,
                "terminatedOn",
                "the last day cannot be before the hire date",
            ),
            (_, Some(_)) => batch.fail(
                i,
                "terminatedOn",
                UserErrorCode::Invalid,
                "only a terminated employee has terminatedOn",
            ),
            (_, None) => {}
        }
        refs.push(location_ref(
            batch,
            i,
            r.location_external_id.as_deref(),
            r.location_store_number.as_deref(),
            r.location_id.as_ref(),
        ));
    }
    refs
}

/// Exactly one way of naming a location.
pub(super) fn location_ref(
    batch: &mut Batch,
    i: usize,
    external: Option<&str>,
    store: Option<&str>,
    id: Option<&ID>,
) -> LocationRef {
    match (external, store, id) {
        (Some(e), None, None) if valid_external_id(e) => LocationRef::External(e.to_owned()),
        (None, Some(s), None) if len_between(s, 1, 32) => LocationRef::StoreNumber(s.to_owned()),
        (None, None, Some(id)) => match ids::decode(id, NodeType::Location) {
            Ok(uuid) => LocationRef::Id(uuid),
            Err(_) => {
                batch.fail(i, "locationId", UserErrorCode::Invalid, "not a location id");
                LocationRef::None
            }
        },
        _ => {
            batch.fail(i, "location", UserErrorCode::Invalid, "name the location by exactly one of locationExternalId, locationStoreNumber or locationId");
            LocationRef::None
        }
    }
}

/// The visible locations the references name, in one statement.
pub(super) async fn resolve_locations(
    tx: &mut prep_tenancy::TenantTx,
    refs: &[LocationRef],
) -> Result<HashMap<LocationRef, Uuid>, ApiError> {
    let (mut ext, mut store, mut id) = (Vec::new(), Vec::new(), Vec::new());
    for r in refs {
        match r {
            LocationRef::External(e) => ext.push(e.clone()),
            LocationRef::StoreNumber(s) => store.push(s.clone()),
            LocationRef::Id(u) => id.push(*u),
            LocationRef::None => {}
        }
    }
    let rows = sqlx::query!(
        "select id, external_id, store_number from locations
         where external_id = any($1) or store_number = any($2) or id = any($3)",
        &ext,
        &store,
        &id,
    )
    .fetch_all(tx.conn())
    .await?;
    let mut found = HashMap::new();
    for row in rows {
        if let Some(e) = row.external_id {
            found.insert(LocationRef::External(e), row.id);
        }
        found.insert(LocationRef::StoreNumber(row.store_number), row.id);
        found.insert(LocationRef::Id(row.id), row.id);
    }
    Ok(found)
}

/// Whether the caller may change employees at all of `locations`;
/// refuses record `i` otherwise.
pub(super) fn may_write(
    rc: &RequestContext,
    batch: &mut Batch,
    i: usize,
    locations: &[Uuid],
) -> bool {
    let ok = locations
        .iter()
        .all(|l| rc.can(EMPLOYEES_WRITE, Target::Location(*l)));
    if !ok {
        batch.fail(
            i,
            "location",
            UserErrorCode::Forbidden,
            "you may not change employees at this location",
        );
    }
    ok
}

async fn load_existing(
    tx: &mut prep_tenancy::TenantTx,
    ext_ids: &[String],
) -> Result<HashMap<String, (Uuid, Row)>, ApiError> {
    let rows = sqlx::query!(
        r#"select id, external_id as "external_id!", location_id, first_name, last_name, job_title,
                  handles_food, hire_date, status, terminated_on
           from employees where external_id = any($1) for update"#,
        ext_ids,
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let row = Row {
                location_id: r.location_id,
                first_name: r.first_name,
                last_name: r.last_name,
                job_title: r.job_title,
                handles_food: r.handles_food,
                hire_date: r.hire_date,
                status: r.status,
                terminated_on: r.terminated_on,
            };
            (r.external_id, (r.id, row))
        })
        .collect())
}

/// Columns of rows, for `unnest`.
#[derive(Default)]
struct Columns {
    locations: Vec<Uuid>,
    first: Vec<String>,
    last: Vec<String>,
    titles: Vec<String>,
    food: Vec<bool>,
    hired: Vec<NaiveDate>,
    status: Vec<String>,
    terminated: Vec<Option<NaiveDate>>,
}

impl Columns {
    fn push(&mut self, r: &Row) {
        self.locations.push(r.location_id);
        self.first.push(r.first_name.clone());
        self.last.push(r.last_name.clone());
        self.titles.push(r.job_title.clone());
        self.food.push(r.handles_food);
        self.hired.push(r.hire_date);
        self.status.push(r.status.clone());
        self.terminated.push(r.terminated_on);
    }
}

/// Inserts new employees; returns the ids of those inserted by HRIS id (an
/// id held by an invisible employee inserts nothing).
async fn insert(
    tx: &mut prep_tenancy::TenantTx,
    records: &[EmployeeRecordInput],
    rows: &[(usize, Row)],
) -> Result<HashMap<String, Uuid>, ApiError> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let mut c = Columns::default();
    let ext: Vec<String> = rows
        .iter()
        .map(|(i, _)| records[*i].external_id.clone())
        .collect();
    for (_, r) in rows {
        c.push(r);
    }
    let inserted = sqlx::query!(
        r#"insert into employees (tenant_id, external_id, location_id, first_name, last_name,
                                  job_title, handles_food, hire_date, status, terminated_on)
           select $1, * from unnest($2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                                    $7::bool[], $8::date[], $9::text[], $10::date[])
           on conflict on constraint employees_tenant_external_id_key do nothing
           returning id, external_id as "external_id!""#,
        tx.tenant().as_uuid(),
        &ext,
        &c.locations,
        &c.first,
        &c.last,
        &c.titles,
        &c.food,
        &c.hired,
        &c.status,
        &c.terminated as &[Option<NaiveDate>],
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
    let mut c = Columns::default();
    let ids: Vec<Uuid> = rows.iter().map(|(_, id, _)| *id).collect();
    for (_, _, r) in rows {
        c.push(r);
    }
    sqlx::query!(
        "update employees e set
           location_id = u.location_id, first_name = u.first_name, last_name = u.last_name,
           job_title = u.job_title, handles_food = u.handles_food, hire_date = u.hire_date,
           status = u.status, terminated_on = u.terminated_on
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bool[],
                     $7::date[], $8::text[], $9::date[])
           as u(id, location_id, first_name, last_name, job_title, handles_food, hire_date, status, terminated_on)
         where e.id = u.id",
        &ids,
        &c.locations,
        &c.first,
        &c.last,
        &c.titles,
        &c.food,
        &c.hired,
        &c.status,
        &c.terminated as &[Option<NaiveDate>],
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Audits an applied batch, re-evaluates the touched locations, commits.
pub(super) async fn finish(
    rc: &RequestContext,
    mut tx: prep_tenancy::TenantTx,
    batch: &Batch,
    touched: BTreeSet<Uuid>,
    (action, ty): (&str, NodeType),
) -> Result<(), ApiError> {
    let tenant = tx.tenant().as_uuid();
    audit::record(
        &mut tx,
        rc,
        action,
        (NodeType::Tenant, tenant),
        batch.audit_details(ty),
    )
    .await?;
    let today = clock::today();
    for location in touched {
        compliance::recompute(&mut tx, location, today).await?;
    }
    tx.commit().await.map_err(ApiError::from)?;
    Ok(())
}
