//! Reading a location's facts and writing the engine's answer: two
//! statements per evaluation, whatever the number of employees.

use chrono::{NaiveDate, NaiveTime, TimeZone as _, Utc};
use prep_tenancy::TenantTx;
use serde::Deserialize;
use sqlx::types::Json;
use uuid::Uuid;

use super::engine::{
    self, CredentialFacts, EmployeeFacts, Evaluation, FindingFacts, LocationFacts, PermitFacts,
    RequirementFacts, Rule,
};
use crate::enums::{CredentialKind, PermitKind};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Deserialize)]
struct RequirementRow {
    id: Uuid,
    title: String,
    rule: String,
    credential_kind: Option<String>,
    permit_kind: Option<String>,
    grace_days: Option<i32>,
    min_per_location: Option<i32>,
    interval_days: Option<i32>,
}

#[derive(Debug, Deserialize)]
struct CredentialRow {
    id: Uuid,
    kind: String,
    issued_on: NaiveDate,
    expires_on: NaiveDate,
}

#[derive(Debug, Deserialize)]
struct EmployeeRow {
    id: Uuid,
    name: String,
    handles_food: bool,
    hire_date: NaiveDate,
    credentials: Vec<CredentialRow>,
}

#[derive(Debug, Deserialize)]
struct PermitRow {
    id: Uuid,
    kind: String,
    permit_number: String,
    issued_on: NaiveDate,
    expires_on: NaiveDate,
}

#[derive(Debug, Deserialize)]
struct FindingRow {
    id: Uuid,
    code: String,
    critical: bool,
    inspected_on: NaiveDate,
    due_on: Option<NaiveDate>,
}

/// Re-evaluates one location and stores statuses, summary and alerts, in the
/// caller's transaction so a fact and its consequences commit together.
pub async fn recompute(
    tx: &mut TenantTx,
    location_id: Uuid,
    today: NaiveDate,
) -> ApiResult<Evaluation> {
    let facts = load_facts(tx, location_id, today).await?;
    let evaluation = match &facts {
        Some(facts) => engine::evaluate(facts),
        None => Evaluation {
            outcomes: Vec::new(),
            status: crate::enums::ComplianceStatus::Compliant,
            reason: "the location is closed".to_owned(),
            alerts: Vec::new(),
            review_on: None,
        },
    };
    store(tx, location_id, &evaluation).await?;
    Ok(evaluation)
}

/// The facts of an active location, or `None` if it is closed or missing.
async fn load_facts(
    tx: &mut TenantTx,
    location_id: Uuid,
    today: NaiveDate,
) -> ApiResult<Option<LocationFacts>> {
    let row = sqlx::query!(
        r#"
        with recursive loc as (
          select l.tenant_id, l.id, l.jurisdiction_id
          from locations l where l.id = $1 and l.status = 'active'
        ), chain (id, parent_id) as (
          select j.id, j.parent_id from jurisdictions j
          where j.id = (select jurisdiction_id from loc)
          union all
          select j.id, j.parent_id from jurisdictions j join chain c on j.id = c.parent_id
        )
        select
          exists (select 1 from loc) as "found!",
          coalesce((
            select json_agg(json_build_object(
              'id', r.id, 'title', r.title, 'rule', r.rule,
              'credential_kind', r.credential_kind, 'permit_kind', r.permit_kind,
              'grace_days', r.grace_days, 'min_per_location', r.min_per_location,
              'interval_days', r.interval_days) order by r.code)
            from requirements r
            where r.jurisdiction_id in (select id from chain)
              and r.effective_from <= $2 and (r.effective_to is null or r.effective_to > $2)
          ), '[]') as "requirements!: Json<Vec<RequirementRow>>",
          coalesce((
            select json_agg(json_build_object(
              'id', e.id, 'name', e.first_name || ' ' || e.last_name,
              'handles_food', e.handles_food, 'hire_date', e.hire_date,
              'credentials', coalesce((
                select json_agg(json_build_object(
                  'id', c.id, 'kind', c.kind, 'issued_on', c.issued_on, 'expires_on', c.expires_on))
                from credentials c
                where c.tenant_id = e.tenant_id and c.employee_id = e.id), '[]')))
            from employees e, loc
            where e.tenant_id = loc.tenant_id and e.location_id = loc.id and e.status = 'active'
          ), '[]') as "employees!: Json<Vec<EmployeeRow>>",
          coalesce((
            select json_agg(json_build_object(
              'id', p.id, 'kind', p.kind, 'permit_number', p.permit_number,
              'issued_on', p.issued_on, 'expires_on', p.expires_on))
            from permits p, loc
            where p.tenant_id = loc.tenant_id and p.location_id = loc.id
          ), '[]') as "permits!: Json<Vec<PermitRow>>",
          (select max(i.inspected_on) from inspections i, loc
           where i.tenant_id = loc.tenant_id and i.location_id = loc.id and i.kind = 'routine'
          ) as last_routine,
          coalesce((
            select json_agg(json_build_object(
              'id', f.id, 'code', f.code, 'critical', f.severity = 'critical',
              'inspected_on', i.inspected_on, 'due_on', f.due_on))
            from findings f
            join inspections i on i.tenant_id = f.tenant_id and i.id = f.inspection_id
            join loc on i.tenant_id = loc.tenant_id and i.location_id = loc.id
            where f.resolved_on is null
          ), '[]') as "findings!: Json<Vec<FindingRow>>"
        "#,
        location_id,
        today,
    )
    .fetch_one(tx.conn())
    .await?;
    if !row.found {
        return Ok(None);
    }
    let requirements = row
        .requirements
        .0
        .into_iter()
        .map(requirement_facts)
        .collect::<ApiResult<Vec<_>>>()?;
    let employees = row
        .employees
        .0
        .into_iter()
        .map(|e| {
            Ok(EmployeeFacts {
                id: e.id,
                name: e.name,
                handles_food: e.handles_food,
                hire_date: e.hire_date,
                credentials: e
                    .credentials
                    .into_iter()
                    .map(|c| {
                        Ok(CredentialFacts {
                            id: c.id,
                            kind: CredentialKind::from_db(&c.kind)?,
                            issued_on: c.issued_on,
                            expires_on: c.expires_on,
                        })
                    })
                    .collect::<ApiResult<Vec<_>>>()?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let permits = row
        .permits
        .0
        .into_iter()
        .map(|p| {
            Ok(PermitFacts {
                id: p.id,
                kind: PermitKind::from_db(&p.kind)?,
                number: p.permit_number,
                issued_on: p.issued_on,
                expires_on: p.expires_on,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let open_findings = row
        .findings
        .0
        .into_iter()
        .map(|f| FindingFacts {
            id: f.id,
            code: f.code,
            critical: f.critical,
            inspected_on: f.inspected_on,
            due_on: f.due_on,
        })
        .collect();
    Ok(Some(LocationFacts {
        location_id,
        today,
        requirements,
        employees,
        permits,
        last_routine_inspection: row.last_routine,
        open_findings,
    }))
}

fn requirement_facts(r: RequirementRow) -> ApiResult<RequirementFacts> {
    let missing = |what: &str| ApiError::Internal(format!("requirement {} has no {what}", r.id));
    let non_negative = |v: i32| u32::try_from(v).unwrap_or(0);
    let rule = match r.rule.as_str() {
        "food_handler_card" => Rule::FoodHandlerCard {
            kind: CredentialKind::from_db(
                r.credential_kind
                    .as_deref()
                    .ok_or_else(|| missing("credential kind"))?,
            )?,
            grace_days: non_negative(r.grace_days.ok_or_else(|| missing("grace days"))?),
        },
        "certified_manager" => Rule::CertifiedManager {
            kind: CredentialKind::from_db(
                r.credential_kind
                    .as_deref()
                    .ok_or_else(|| missing("credential kind"))?,
            )?,
            min: non_negative(r.min_per_location.ok_or_else(|| missing("minimum"))?).max(1),
        },
        "health_permit" => Rule::Permit {
            kind: PermitKind::from_db(
                r.permit_kind
                    .as_deref()
                    .ok_or_else(|| missing("permit kind"))?,
            )?,
        },
        "routine_inspection" => Rule::RoutineInspection {
            interval_days: non_negative(r.interval_days.ok_or_else(|| missing("interval"))?),
        },
        other => return Err(ApiError::Internal(format!("unknown rule {other:?}"))),
    };
    Ok(RequirementFacts {
        id: r.id,
        title: r.title,
        rule,
    })
}

/// Writes statuses, the location summary and the open alerts in one
/// statement: upsert what holds, delete or resolve what no longer does.
async fn store(tx: &mut TenantTx, location_id: Uuid, ev: &Evaluation) -> ApiResult<()> {
    let tenant = tx.tenant().as_uuid();
    let req_ids: Vec<Uuid> = ev.outcomes.iter().map(|o| o.requirement_id).collect();
    let statuses: Vec<&str> = ev.outcomes.iter().map(|o| o.status.as_db()).collect();
    let reasons: Vec<&str> = ev.outcomes.iter().map(|o| o.reason.as_str()).collect();
    let review_at = ev
        .review_on
        .map(|d| Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN)));
    let a_reqs: Vec<Uuid> = ev.alerts.iter().map(|a| a.requirement_id).collect();
    let a_kinds: Vec<&str> = ev.alerts.iter().map(|a| a.kind.as_db()).collect();
    let a_sev: Vec<&str> = ev.alerts.iter().map(|a| a.severity.as_db()).collect();
    let a_types: Vec<&str> = ev.alerts.iter().map(|a| a.subject.as_db().0).collect();
    let a_subjects: Vec<Uuid> = ev.alerts.iter().map(|a| a.subject.as_db().1).collect();
    let a_msgs: Vec<&str> = ev.alerts.iter().map(|a| a.message.as_str()).collect();
    let a_due: Vec<Option<NaiveDate>> = ev.alerts.iter().map(|a| a.due_on).collect();
    sqlx::query!(
        r#"
        with upserted as (
          insert into location_requirement_statuses
            (tenant_id, location_id, requirement_id, status, reason, evaluated_at)
          select $1, $2, s.requirement_id, s.status, s.reason, now()
          from unnest($3::uuid[], $4::text[], $5::text[]) as s (requirement_id, status, reason)
          on conflict (tenant_id, location_id, requirement_id) do update
            set status = excluded.status, reason = excluded.reason, evaluated_at = excluded.evaluated_at
        ), stale as (
          delete from location_requirement_statuses
          where location_id = $2 and requirement_id <> all ($3::uuid[])
        ), summary as (
          update locations
          set compliance_status = $6, compliance_reason = $7,
              compliance_evaluated_at = now(), compliance_review_at = $8
          where id = $2
        ), opened as (
          insert into alerts
            (tenant_id, location_id, requirement_id, kind, severity, subject_type, subject_id, message, due_on)
          select $1, $2, a.requirement_id, a.kind, a.severity, a.subject_type, a.subject_id, a.message, a.due_on
          from unnest($9::uuid[], $10::text[], $11::text[], $12::text[], $13::uuid[], $14::text[], $15::date[])
            as a (requirement_id, kind, severity, subject_type, subject_id, message, due_on)
          on conflict (tenant_id, location_id, requirement_id, kind, subject_id) where resolved_at is null do update
            set severity = excluded.severity,
                message = excluded.message, due_on = excluded.due_on
        )
        update alerts set resolved_at = now()
        where location_id = $2 and resolved_at is null
          and (requirement_id, kind, subject_id) not in (
            select r, k, s from unnest($9::uuid[], $10::text[], $13::uuid[]) as x (r, k, s))
        "#,
        tenant,
        location_id,
        &req_ids,
        &statuses as &[&str],
        &reasons as &[&str],
        ev.status.as_db(),
        ev.reason,
        review_at,
        &a_reqs,
        &a_kinds as &[&str],
        &a_sev as &[&str],
        &a_types as &[&str],
        &a_subjects,
        &a_msgs as &[&str],
        &a_due as &[Option<NaiveDate>],
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
