//! HRIS credential sync: food-handler cards and manager certifications,
//! upserted by the HRIS's own record id.

use std::collections::{BTreeSet, HashMap};

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::NaiveDate;
use prep_auth::{Action, Permission, Resource, Target};
use uuid::Uuid;

use super::employees::finish;
use super::{valid_external_id, Batch, SyncPayload, SyncStatus};
use crate::clock;
use crate::context::request;
use crate::enums::CredentialKind;
use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::payload::{len_between, UserErrorCode};

const CREDENTIALS_WRITE: Permission = Permission(Resource::Credentials, Action::Write);

/// One credential as the HRIS knows it.
#[derive(InputObject, Clone)]
pub struct CredentialRecordInput {
    /// The credential's id in the HRIS: the key of the upsert.
    pub external_id: String,
    /// The holder, by HRIS employee id...
    pub employee_external_id: Option<String>,
    /// ...or by global id: exactly one of the two.
    pub employee_id: Option<ID>,
    /// What it certifies.
    pub kind: CredentialKind,
    /// Who issued it (e.g. ServSafe).
    #[graphql(default)]
    pub issuer: String,
    /// The certificate number.
    pub certificate_number: Option<String>,
    /// First valid day.
    pub issued_on: NaiveDate,
    /// First day it is no longer valid (after `issuedOn`).
    pub expires_on: NaiveDate,
}

/// Credentials to create or update.
#[derive(InputObject)]
pub struct SyncCredentialsInput {
    /// 1 to 500 records, each external id at most once.
    pub credentials: Vec<CredentialRecordInput>,
    /// Apply nothing if any record fails.
    #[graphql(default)]
    pub atomic: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    employee_id: Uuid,
    kind: String,
    issuer: String,
    certificate_number: Option<String>,
    issued_on: NaiveDate,
    expires_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum HolderRef {
    External(String),
    Id(Uuid),
    None,
}

/// HRIS credential sync mutations.
#[derive(Default)]
pub struct CredentialSyncMutation;

#[Object]
impl CredentialSyncMutation {
    /// Creates or updates credentials by their HRIS id; the holders'
    /// locations are re-evaluated. Needs `credentials:write` at each
    /// holder's location.
    async fn sync_credentials(
        &self,
        ctx: &Context<'_>,
        input: SyncCredentialsInput,
    ) -> Result<SyncPayload> {
        let rc = request(ctx)?;
        let records = input.credentials;
        let mut batch = Batch::new(
            "credentials",
            records.iter().map(|r| r.external_id.as_str()),
        )?;
        rc.authorize_somewhere(CREDENTIALS_WRITE).await?;
        let holders = validate(&mut batch, &records);

        let mut tx = rc.begin_write().await?;
        let employees = resolve_holders(&mut tx, &holders).await?;
        let ext_ids: Vec<String> = records.iter().map(|r| r.external_id.clone()).collect();
        let existing = sqlx::query!(
            r#"select c.id, c.external_id as "external_id!", c.employee_id, c.kind, c.issuer,
                      c.certificate_number, c.issued_on, c.expires_on, e.location_id
               from credentials c
               join employees e on e.tenant_id = c.tenant_id and e.id = c.employee_id
               where c.external_id = any($1)
               for update of c"#,
            &ext_ids,
        )
        .fetch_all(tx.conn())
        .await
        .map_err(ApiError::from)?;
        let existing: HashMap<String, (Uuid, Row, Uuid)> = existing
            .into_iter()
            .map(|r| {
                let row = Row {
                    employee_id: r.employee_id,
                    kind: r.kind,
                    issuer: r.issuer,
                    certificate_number: r.certificate_number,
                    issued_on: r.issued_on,
                    expires_on: r.expires_on,
                };
                (r.external_id, (r.id, row, r.location_id))
            })
            .collect();

        let mut inserts: Vec<(usize, Row)> = Vec::new();
        let mut updates: Vec<(usize, Uuid, Row)> = Vec::new();
        let mut touched = BTreeSet::new();
        for i in batch.live() {
            let Some(&(employee_id, location_id)) = employees.get(&holders[i]) else {
                batch.fail(i, "employee", UserErrorCode::NotFound, "no such employee");
                continue;
            };
            let r = &records[i];
            let wanted = Row {
                employee_id,
                kind: r.kind.as_db().to_owned(),
                issuer: r.issuer.trim().to_owned(),
                certificate_number: r
                    .certificate_number
                    .as_deref()
                    .map(str::trim)
                    .map(str::to_owned),
                issued_on: r.issued_on,
                expires_on: r.expires_on,
            };
            let mut at = vec![location_id];
            match existing.get(&r.external_id) {
                Some((id, current, _)) if *current == wanted => {
                    batch.done(i, SyncStatus::Unchanged, (NodeType::Credential, *id));
                    continue;
                }
                Some((_, _, old_location)) => at.push(*old_location),
                None => {}
            }
            if !at
                .iter()
                .all(|l| rc.can(CREDENTIALS_WRITE, Target::Location(*l)))
            {
                batch.fail(
                    i,
                    "employee",
                    UserErrorCode::Forbidden,
                    "you may not change credentials at this location",
                );
                continue;
            }
            touched.extend(at);
            match existing.get(&r.external_id) {
                Some((id, _, _)) => updates.push((i, *id, wanted)),
                None => inserts.push((i, wanted)),
            }
        }
        if input.atomic && batch.any_failed() {
            return Ok(batch.finish(false));
        }
        let inserted = insert(&mut tx, &records, &inserts).await?;
        for (i, _) in &inserts {
            match inserted.get(&records[*i].external_id) {
                Some(id) => batch.done(*i, SyncStatus::Created, (NodeType::Credential, *id)),
                None => batch.fail(
                    *i,
                    "externalId",
                    UserErrorCode::Taken,
                    "a credential outside your reach already has this external id",
                ),
            }
        }
        if input.atomic && batch.any_failed() {
            drop(tx);
            return Ok(batch.finish(false));
        }
        update(&mut tx, &updates).await?;
        for (i, id, _) in &updates {
            batch.done(*i, SyncStatus::Updated, (NodeType::Credential, *id));
        }
        finish(
            rc,
            tx,
            &batch,
            touched,
            ("credential.sync", NodeType::Credential),
        )
        .await?;
        Ok(batch.finish(true))
    }
}

fn validate(batch: &mut Batch, records: &[CredentialRecordInput]) -> Vec<HolderRef> {
    let keys: Vec<&str> = records.iter().map(|r| r.external_id.as_str()).collect();
    batch.refuse_duplicates("externalId", &keys, "external id");
    let today = clock::today();
    let mut holders = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        batch.check(
            valid_external_id(&r.external_id),
            i,
            "externalId",
            "give an external id of 1 to 128 printable characters",
        );
        batch.check(
            r.expires_on > r.issued_on,
            i,
            "expiresOn",
            "the expiry must be after the issue date",
        );
        batch.check(
            r.issued_on <= today,
            i,
            "issuedOn",
            "the issue date cannot be in the future",
        );
        batch.check(
            len_between(&r.issuer, 0, 200),
            i,
            "issuer",
            "give an issuer of at most 200 characters",
        );
        if let Some(n) = &r.certificate_number {
            batch.check(
                len_between(n.trim(), 1, 64),
                i,
                "certificateNumber",
                "give a certificate number of 1 to 64 characters",
            );
        }
        holders.push(match (&r.employee_external_id, &r.employee_id) {
            (Some(e), None) if valid_external_id(e) => HolderRef::External(e.clone()),
            (None, Some(id)) => match ids::decode(id, NodeType::Employee) {
                Ok(u) => HolderRef::Id(u),
                Err(_) => {
                    batch.fail(
                        i,
                        "employeeId",
                        UserErrorCode::Invalid,
                        "not an employee id",
                    );
                    HolderRef::None
                }
            },
            _ => {
                batch.fail(
                    i,
                    "employee",
                    UserErrorCode::Invalid,
                    "name the holder by exactly one of employeeExternalId or employeeId",
                );
                HolderRef::None
            }
        });
    }
    holders
}

/// The visible employees the references name, with their locations. The
/// rows are share-locked: a holder cannot move while their credential is
/// written.
async fn resolve_holders(
    tx: &mut prep_tenancy::TenantTx,
    refs: &[HolderRef],
) -> Result<HashMap<HolderRef, (Uuid, Uuid)>, ApiError> {
    let (mut ext, mut ids) = (Vec::new(), Vec::new());
    for r in refs {
        match r {
            HolderRef::External(e) => ext.push(e.clone()),
            HolderRef::Id(u) => ids.push(*u),
            HolderRef::None => {}
        }
    }
    let rows = sqlx::query!(
        "select id, external_id, location_id from employees
         where external_id = any($1) or id = any($2)
         for share",
        &ext,
        &ids,
    )
    .fetch_all(tx.conn())
    .await?;
    let mut found = HashMap::new();
    for row in rows {
        if let Some(e) = row.external_id {
            found.insert(HolderRef::External(e), (row.id, row.location_id));
        }
        found.insert(HolderRef::Id(row.id), (row.id, row.location_id));
    }
    Ok(found)
}

#[derive(Default)]
struct Columns {
    employees: Vec<Uuid>,
    kinds: Vec<String>,
    issuers: Vec<String>,
    numbers: Vec<Option<String>>,
    issued: Vec<NaiveDate>,
    expires: Vec<NaiveDate>,
}

impl Columns {
    fn of<'a>(rows: impl Iterator<Item = &'a Row>) -> Self {
        let mut c = Columns::default();
        for r in rows {
            c.employees.push(r.employee_id);
            c.kinds.push(r.kind.clone());
            c.issuers.push(r.issuer.clone());
            c.numbers.push(r.certificate_number.clone());
            c.issued.push(r.issued_on);
            c.expires.push(r.expires_on);
        }
        c
    }
}

async fn insert(
    tx: &mut prep_tenancy::TenantTx,
    records: &[CredentialRecordInput],
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
        r#"insert into credentials (tenant_id, external_id, employee_id, kind, issuer,
                                    certificate_number, issued_on, expires_on)
           select $1, * from unnest($2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                                    $7::date[], $8::date[])
           on conflict on constraint credentials_tenant_external_id_key do nothing
           returning id, external_id as "external_id!""#,
        tx.tenant().as_uuid(),
        &ext,
        &c.employees,
        &c.kinds,
        &c.issuers,
        &c.numbers as &[Option<String>],
        &c.issued,
        &c.expires,
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
        "update credentials c set
           employee_id = u.employee_id, kind = u.kind, issuer = u.issuer,
           certificate_number = u.certificate_number, issued_on = u.issued_on, expires_on = u.expires_on
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::date[], $7::date[])
           as u(id, employee_id, kind, issuer, certificate_number, issued_on, expires_on)
         where c.id = u.id",
        &ids,
        &c.employees,
        &c.kinds,
        &c.issuers,
        &c.numbers as &[Option<String>],
        &c.issued,
        &c.expires,
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
