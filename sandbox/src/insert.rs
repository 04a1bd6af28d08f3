//! Bulk inserts: one `unnest` statement per table per chunk of locations,
//! so seeding costs a handful of round trips instead of one per row.
//! `tenant_id` is passed explicitly; the RLS `WITH CHECK` verifies it.

use prep_tenancy::TenantTx;

use crate::plan::LocationPlan;

/// The columns of rows drawn from every location of a chunk.
fn column<'a, R: 'a, T>(
    plans: &'a [LocationPlan],
    rows: impl Fn(&'a LocationPlan) -> &'a [R],
    field: impl Fn(&'a R) -> T,
) -> Vec<T> {
    plans
        .iter()
        .flat_map(|p| rows(p).iter().map(&field))
        .collect()
}

pub(crate) async fn locations(
    tx: &mut TenantTx,
    plans: &[LocationPlan],
) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().as_uuid();
    fn rows(p: &LocationPlan) -> &[crate::plan::Location] {
        std::slice::from_ref(&p.location)
    }
    // The jurisdiction id follows the reference data's rule, md5(code)::uuid;
    // a code missing from `jurisdictions` fails the foreign key loudly.
    let done = sqlx::query(
        "insert into locations (tenant_id, id, store_number, name, address_line1, city, \
           state_code, postal_code, jurisdiction_id, external_id) \
         select $1, u.id, u.store_number, u.name, u.address_line1, u.city, u.state_code, \
           u.postal_code, md5(u.jurisdiction)::uuid, u.external_id \
         from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
           $8::text[], $9::text[], $10::text[]) \
           as u (id, store_number, name, address_line1, city, state_code, postal_code, \
                 jurisdiction, external_id)",
    )
    .bind(tenant)
    .bind(column(plans, rows, |l| l.id))
    .bind(column(plans, rows, |l| l.store_number.as_str()))
    .bind(column(plans, rows, |l| l.name.as_str()))
    .bind(column(plans, rows, |l| l.address_line1.as_str()))
    .bind(column(plans, rows, |l| l.city))
    .bind(column(plans, rows, |l| l.state_code))
    .bind(column(plans, rows, |l| l.postal_code))
    .bind(column(plans, rows, |l| l.jurisdiction_code))
    .bind(column(plans, rows, |l| l.external_id.as_str()))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn employees(
    tx: &mut TenantTx,
    plans: &[LocationPlan],
) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().as_uuid();
    fn rows(p: &LocationPlan) -> &[crate::plan::Employee] {
        &p.employees
    }
    let done = sqlx::query(
        "insert into employees (tenant_id, id, location_id, external_id, first_name, last_name, \
           job_title, handles_food, hire_date, status, terminated_on) \
         select $1, u.* \
         from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], \
           $8::bool[], $9::date[], $10::text[], $11::date[]) \
           as u (id, location_id, external_id, first_name, last_name, job_title, handles_food, \
                 hire_date, status, terminated_on)",
    )
    .bind(tenant)
    .bind(column(plans, rows, |e| e.id))
    .bind(column(plans, rows, |e| e.location_id))
    .bind(column(plans, rows, |e| e.external_id.as_str()))
    .bind(column(plans, rows, |e| e.first_name))
    .bind(column(plans, rows, |e| e.last_name))
    .bind(column(plans, rows, |e| e.job_title))
    .bind(column(plans, rows, |e| e.handles_food))
    .bind(column(plans, rows, |e| e.hire_date))
    .bind(column(plans, rows, |e| e.status))
    .bind(column(plans, rows, |e| e.terminated_on))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn credentials(
    tx: &mut TenantTx,
    plans: &[LocationPlan],
) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().as_uuid();
    fn rows(p: &LocationPlan) -> &[crate::plan::Credential] {
        &p.credentials
    }
    let done = sqlx::query(
        "insert into credentials (tenant_id, id, employee_id, kind, issuer, certificate_number, \
           issued_on, expires_on) \
         select $1, u.* \
         from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::date[], \
           $8::date[]) \
           as u (id, employee_id, kind, issuer, certificate_number, issued_on, expires_on)",
    )
    .bind(tenant)
    .bind(column(plans, rows, |c| c.id))
    .bind(column(plans, rows, |c| c.employee_id))
    .bind(column(plans, rows, |c| c.kind))
    .bind(column(plans, rows, |c| c.issuer))
    .bind(column(plans, rows, |c| c.certificate_number.as_str()))
    .bind(column(plans, rows, |c| c.issued_on))
    .bind(column(plans, rows, |c| c.expires_on))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn permits(tx: &mut TenantTx, plans: &[LocationPlan]) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().as_uuid();
    fn rows(p: &LocationPlan) -> &[crate::plan::Permit] {
        &p.permits
    }
    let done = sqlx::query(
        "insert into permits (tenant_id, id, location_id, kind, permit_number, \
           issuing_authority, issued_on, expires_on) \
         select $1, u.* \
         from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::date[], \
           $8::date[]) \
           as u (id, location_id, kind, permit_number, issuing_authority, issued_on, expires_on)",
    )
    .bind(tenant)
    .bind(column(plans, rows, |p| p.id))
    .bind(column(plans, rows, |p| p.location_id))
    .bind(column(plans, rows, |p| p.kind))
    .bind(column(plans, rows, |p| p.permit_number.as_str()))
    .bind(column(plans, rows, |p| p.issuing_authority))
    .bind(column(plans, rows, |p| p.issued_on))
    .bind(column(plans, rows, |p| p.expires_on))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn inspections(
    tx: &mut TenantTx,
    plans: &[LocationPlan],
) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().as_uuid();
    fn rows(p: &LocationPlan) -> &[crate::plan::Inspection] {
        &p.inspections
    }
    let done = sqlx::query(
        "insert into inspections (tenant_id, id, location_id, inspected_on, kind, agency, score, \
           result) \
         select $1, u.* \
         from unnest($2::uuid[], $3::uuid[], $4::date[], $5::text[], $6::text[], $7::int4[], \
           $8::text[]) \
           as u (id, location_id, inspected_on, kind, agency, score, result)",
    )
    .bind(tenant)
    .bind(column(plans, rows, |i| i.id))
    .bind(column(plans, rows, |i| i.location_id))
    .bind(column(plans, rows, |i| i.inspected_on))
    .bind(column(plans, rows, |i| i.kind))
    .bind(column(plans, rows, |i| i.agency))
    .bind(column(plans, rows, |i| i.score))
    .bind(column(plans, rows, |i| i.result))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn findings(
    tx: &mut TenantTx,
    plans: &[LocationPlan],
) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().as_uuid();
    fn rows(p: &LocationPlan) -> &[crate::plan::Finding] {
        &p.findings
    }
    let done = sqlx::query(
        "insert into findings (tenant_id, id, inspection_id, code, description, severity, \
           corrective_action, due_on, resolved_on) \
         select $1, u.* \
         from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], \
           $8::date[], $9::date[]) \
           as u (id, inspection_id, code, description, severity, corrective_action, due_on, \
                 resolved_on)",
    )
    .bind(tenant)
    .bind(column(plans, rows, |f| f.id))
    .bind(column(plans, rows, |f| f.inspection_id))
    .bind(column(plans, rows, |f| f.code))
    .bind(column(plans, rows, |f| f.description))
    .bind(column(plans, rows, |f| f.severity))
    .bind(column(plans, rows, |f| f.corrective_action))
    .bind(column(plans, rows, |f| f.due_on))
    .bind(column(plans, rows, |f| f.resolved_on))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// Every table the seed fills, children first (foreign keys), each with its
/// own DELETE: the runtime role may not TRUNCATE. `alerts` is not listed:
/// the runtime role has no DELETE on it (alerts are resolved, never
/// deleted, in normal operation); deleting the locations removes them
/// through their `on delete cascade` foreign key.
const RESET: [&str; 7] = [
    "delete from location_requirement_statuses where tenant_id = $1",
    "delete from findings where tenant_id = $1",
    "delete from inspections where tenant_id = $1",
    "delete from permits where tenant_id = $1",
    "delete from credentials where tenant_id = $1",
    "delete from employees where tenant_id = $1",
    "delete from locations where tenant_id = $1",
];

pub(crate) async fn reset(tx: &mut TenantTx) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().as_uuid();
    for statement in RESET {
        sqlx::query(statement)
            .bind(tenant)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}
