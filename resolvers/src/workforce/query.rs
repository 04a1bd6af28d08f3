use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{Days, NaiveDate};
use prep_tenancy::TenantScope;
use uuid::Uuid;

use super::{Credential, Employee, EmployeeKey};
use crate::context::request;
use crate::enums::{CredentialKind, EmployeeStatus};
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::loaders::load_err;
use crate::pagination::{build_page, wants_total, Page, PageArgs};

/// Which employees to list.
#[derive(InputObject, Default)]
pub struct EmployeeFilter {
    /// Only employees of this location.
    pub location_id: Option<Uuid>,
    /// Only this status (default: everyone not terminated).
    pub status: Option<EmployeeStatus>,
}

/// Which employees to list, as clients give it.
#[derive(InputObject, Default)]
pub struct EmployeesFilter {
    /// Only employees of this location.
    pub location_id: Option<ID>,
    /// Only this status (default: everyone not terminated).
    pub status: Option<EmployeeStatus>,
}

/// Which credentials to list.
#[derive(InputObject, Default)]
pub struct CredentialFilter {
    /// Only these kinds.
    pub kinds: Option<Vec<CredentialKind>>,
    /// Only credentials still valid today that expire within this many days (0 to 3650).
    pub expiring_within_days: Option<i32>,
    /// Only expired credentials (true) or only unexpired ones (false).
    pub expired: Option<bool>,
    /// Only credentials of employees of this location.
    pub location_id: Option<ID>,
}

/// One page of employees; shared by `employees` and `Location.employees`.
pub async fn employee_page(
    scope: &TenantScope,
    args: &PageArgs<EmployeeKey>,
    filter: &EmployeeFilter,
    want_total: bool,
) -> ApiResult<Page<Employee>> {
    let (after_last, after_first, after_id) = match args.after.clone() {
        Some((l, f, id)) => (Some(l), Some(f), Some(id)),
        None => (None, None, None),
    };
    let status = filter.status.map(|s| s.as_db());
    let mut db = scope.read().await?;
    let rows = sqlx::query_as!(
        Employee,
        r#"
        select id, location_id, external_id, first_name, last_name, job_title, handles_food,
               hire_date, status, terminated_on, created_at, updated_at
        from employees
        where ($1::uuid is null or location_id = $1)
          and (case when $2::text is null then status <> 'terminated' else status = $2 end)
          and ($3::text is null or (last_name, first_name, id) > ($3, $4::text, $5::uuid))
        order by last_name, first_name, id
        limit $6
        "#,
        filter.location_id,
        status,
        after_last,
        after_first,
        after_id,
        args.limit(),
    )
    .fetch_all(db.conn())
    .await?;
    let total = if want_total {
        sqlx::query_scalar!(
            r#"
            select count(*) as "n!" from employees
            where ($1::uuid is null or location_id = $1)
              and (case when $2::text is null then status <> 'terminated' else status = $2 end)
            "#,
            filter.location_id,
            status,
        )
        .fetch_one(db.conn())
        .await?
    } else {
        0
    };
    Ok(build_page(rows, args, total, Employee::key))
}

/// Employee and credential queries.
#[derive(Default)]
pub struct WorkforceQuery;

#[Object]
impl WorkforceQuery {
    /// One employee by id; null when there is none (or it is not yours).
    async fn employee(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Employee>> {
        let id = ids::decode(&id, NodeType::Employee)?;
        let rc = request(ctx)?;
        rc.loaders.employees.load_one(id).await.map_err(load_err)
    }

    /// Employees by name.
    async fn employees(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<EmployeesFilter>,
    ) -> Result<Page<Employee>> {
        let rc = request(ctx)?;
        let args = PageArgs::<EmployeeKey>::parse(first, after)?;
        let f = filter.unwrap_or_default();
        let filter = EmployeeFilter {
            location_id: f
                .location_id
                .map(|id| ids::decode(&id, NodeType::Location))
                .transpose()?,
            status: f.status,
        };
        Ok(employee_page(&rc.scope, &args, &filter, wants_total(ctx)).await?)
    }

    /// Credentials, soonest expiry first: the list compliance managers work from.
    async fn credentials(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<CredentialFilter>,
    ) -> Result<Page<Credential>> {
        let rc = request(ctx)?;
        let args = PageArgs::<(NaiveDate, Uuid)>::parse(first, after)?;
        let f = filter.unwrap_or_default();
        let today = crate::clock::today();
        let until = match f.expiring_within_days {
            Some(days @ 0..=3650) => today.checked_add_days(Days::new(days.unsigned_abs().into())),
            Some(_) => {
                return Err(
                    ApiError::bad_input("`expiringWithinDays` must be between 0 and 3650").into(),
                )
            }
            None => None,
        };
        let location = f
            .location_id
            .map(|id| ids::decode(&id, NodeType::Location))
            .transpose()?;
        let kinds: Option<Vec<String>> = f
            .kinds
            .map(|k| k.iter().map(|k| k.as_db().to_owned()).collect());
        let (after_date, after_id) = args.after.unzip();
        let mut db = rc.read().await?;
        let rows = sqlx::query_as!(
            Credential,
            r#"
            select c.id, c.employee_id, c.external_id, c.kind, c.issuer, c.certificate_number, c.issued_on, c.expires_on
            from credentials c
            where ($1::text[] is null or c.kind = any ($1))
              and ($2::date is null or (c.expires_on > $3 and c.expires_on <= $2))
              and ($4::bool is null or (c.expires_on <= $3) = $4)
              and ($5::uuid is null or exists (
                    select 1 from employees e
                    where e.tenant_id = c.tenant_id and e.id = c.employee_id and e.location_id = $5))
              and ($6::date is null or (c.expires_on, c.id) > ($6, $7::uuid))
            order by c.expires_on, c.id
            limit $8
            "#,
            kinds.as_deref(),
            until,
            today,
            f.expired,
            location,
            after_date,
            after_id,
            args.limit(),
        )
        .fetch_all(db.conn())
        .await
        .map_err(ApiError::from)?;
        let total = if wants_total(ctx) {
            sqlx::query_scalar!(
                r#"
                select count(*) as "n!" from credentials c
                where ($1::text[] is null or c.kind = any ($1))
                  and ($2::date is null or (c.expires_on > $3 and c.expires_on <= $2))
                  and ($4::bool is null or (c.expires_on <= $3) = $4)
                  and ($5::uuid is null or exists (
                        select 1 from employees e
                        where e.tenant_id = c.tenant_id and e.id = c.employee_id and e.location_id = $5))
                "#,
                kinds.as_deref(),
                until,
                today,
                f.expired,
                location,
            )
            .fetch_one(db.conn())
            .await
            .map_err(ApiError::from)?
        } else {
            0
        };
        Ok(build_page(rows, &args, total, |c| (c.expires_on, c.id)))
    }
}
