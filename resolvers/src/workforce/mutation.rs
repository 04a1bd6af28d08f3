use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::NaiveDate;
use prep_auth::{Action, Permission, Resource, Target};
use serde_json::json;

use super::{Credential, Employee};
use crate::context::request;
use crate::enums::{CredentialKind, EmployeeStatus};
use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::payload::{
    len_between, on_constraint, ConstraintError, UserError, UserErrorCode, Violations,
};
use crate::{audit, clock, compliance, locations};

/// A new employee.
#[derive(InputObject)]
pub struct CreateEmployeeInput {
    /// Where they work.
    pub location_id: ID,
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
    /// Hire date.
    pub hire_date: NaiveDate,
    /// The employee's id in the HRIS.
    pub external_id: Option<String>,
}

/// Changes to an employee; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateEmployeeInput {
    /// The employee.
    pub id: ID,
    /// Transfer to another location.
    pub location_id: Option<ID>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Whether the job handles unpackaged food.
    pub handles_food: Option<bool>,
    /// `ACTIVE` or `ON_LEAVE`; use `terminateEmployee` to terminate.
    pub status: Option<EmployeeStatus>,
}

/// Ends an employment.
#[derive(InputObject)]
pub struct TerminateEmployeeInput {
    /// The employee.
    pub id: ID,
    /// Last day of employment.
    pub terminated_on: NaiveDate,
}

/// A credential earned by an employee.
#[derive(InputObject)]
pub struct RecordCredentialInput {
    /// The holder.
    pub employee_id: ID,
    /// What it certifies.
    pub kind: CredentialKind,
    /// Who issued it.
    #[graphql(default)]
    pub issuer: String,
    /// The certificate number.
    pub certificate_number: Option<String>,
    /// First valid day.
    pub issued_on: NaiveDate,
    /// First day it is no longer valid.
    pub expires_on: NaiveDate,
}

/// Result of an employee mutation.
#[derive(SimpleObject)]
pub struct EmployeePayload {
    /// The employee, when the mutation succeeded.
    pub employee: Option<Employee>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

/// Result of a credential mutation.
#[derive(SimpleObject)]
pub struct CredentialPayload {
    /// The credential, when the mutation succeeded.
    pub credential: Option<Credential>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

/// Result of deleting a credential.
#[derive(SimpleObject)]
pub struct DeleteCredentialPayload {
    /// The id of the deleted credential.
    pub deleted_credential_id: Option<ID>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

const EMPLOYEE_CONSTRAINTS: &[ConstraintError] = &[
    ConstraintError {
        constraint: "employees_location_fkey",
        field: "locationId",
        code: UserErrorCode::NotFound,
        message: "no such location",
    },
    ConstraintError {
        constraint: "employees_tenant_external_id_key",
        field: "externalId",
        code: UserErrorCode::Taken,
        message: "another employee already has this external id",
    },
];

const CREDENTIAL_CONSTRAINTS: &[ConstraintError] = &[ConstraintError {
    constraint: "credentials_employee_fkey",
    field: "employeeId",
    code: UserErrorCode::NotFound,
    message: "no such employee",
}];

fn employee_refused(user_errors: Vec<UserError>) -> EmployeePayload {
    EmployeePayload {
        employee: None,
        user_errors,
    }
}

fn check_names(v: &mut Violations, first: Option<&str>, last: Option<&str>, title: Option<&str>) {
    if let Some(s) = first {
        v.check(
            len_between(s.trim(), 1, 100),
            "firstName",
            "give a first name of 1 to 100 characters",
        );
    }
    if let Some(s) = last {
        v.check(
            len_between(s.trim(), 1, 100),
            "lastName",
            "give a last name of 1 to 100 characters",
        );
    }
    if let Some(s) = title {
        v.check(
            len_between(s, 0, 100),
            "jobTitle",
            "give a job title of at most 100 characters",
        );
    }
}

const EMPLOYEES_WRITE: Permission = Permission(Resource::Employees, Action::Write);
const CREDENTIALS_WRITE: Permission = Permission(Resource::Credentials, Action::Write);

fn no_such_location() -> EmployeePayload {
    employee_refused(vec![UserError::new(
        "locationId",
        UserErrorCode::NotFound,
        "no such location",
    )])
}

/// Employee and credential mutations.
#[derive(Default)]
pub struct WorkforceMutation;

#[Object]
impl WorkforceMutation {
    /// Adds an employee; the location's compliance is re-evaluated. Needs
    /// `employees:write` on the location.
    async fn create_employee(
        &self,
        ctx: &Context<'_>,
        input: CreateEmployeeInput,
    ) -> Result<EmployeePayload> {
        let location_id = ids::decode(&input.location_id, NodeType::Location)?;
        let rc = request(ctx)?;
        let mut tx = rc.begin_write().await?;
        if !locations::visible(&mut tx, location_id).await? {
            return Ok(no_such_location());
        }
        let mut tx = rc
            .authorize_in(tx, EMPLOYEES_WRITE, Target::Location(location_id))
            .await?;
        let mut v = Violations::default();
        check_names(
            &mut v,
            Some(&input.first_name),
            Some(&input.last_name),
            Some(&input.job_title),
        );
        v.check(
            input.hire_date <= clock::today(),
            "hireDate",
            "the hire date cannot be in the future",
        );
        if let Some(ext) = &input.external_id {
            v.check(
                len_between(ext, 1, 128),
                "externalId",
                "give an external id of 1 to 128 characters",
            );
        }
        if let Err(e) = v.into_result() {
            return Ok(employee_refused(e));
        }
        let inserted = sqlx::query_as!(
            Employee,
            r#"
            insert into employees (tenant_id, location_id, first_name, last_name, job_title,
                                   handles_food, hire_date, external_id)
            values ($1, $2, $3, $4, $5, $6, $7, $8)
            returning id, location_id, external_id, first_name, last_name, job_title, handles_food,
                      hire_date, status, terminated_on, created_at, updated_at
            "#,
            tx.tenant().as_uuid(),
            location_id,
            input.first_name.trim(),
            input.last_name.trim(),
            input.job_title,
            input.handles_food,
            input.hire_date,
            input.external_id,
        )
        .fetch_one(tx.conn())
        .await;
        let employee = match inserted {
            Ok(e) => e,
            Err(e) => {
                let err = on_constraint(e, EMPLOYEE_CONSTRAINTS).map_err(ApiError::from)?;
                return Ok(employee_refused(vec![err]));
            }
        };
        audit::record(
            &mut tx,
            rc,
            "employee.create",
            (NodeType::Employee, employee.id),
            json!({}),
        )
        .await?;
        compliance::recompute(&mut tx, location_id, clock::today()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(EmployeePayload {
            employee: Some(employee),
            user_errors: Vec::new(),
        })
    }

    /// Changes an employee, including a transfer to another location. Needs
    /// `employees:write` on the employee's location, and for a transfer on
    /// the new one too.
    async fn update_employee(
        &self,
        ctx: &Context<'_>,
        input: UpdateEmployeeInput,
    ) -> Result<EmployeePayload> {
        let id = ids::decode(&input.id, NodeType::Employee)?;
        let new_location = input
            .location_id
            .as_ref()
            .map(|l| ids::decode(l, NodeType::Location))
            .transpose()?;
        let rc = request(ctx)?;
        let mut tx = rc.begin_write().await?;
        let previous = sqlx::query_scalar!(
            "select location_id from employees where id = $1 for update",
            id
        )
        .fetch_optional(tx.conn())
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::NotFound("employee"))?;
        let mut tx = rc
            .authorize_in(tx, EMPLOYEES_WRITE, Target::Location(previous))
            .await?;
        if let Some(to) = new_location.filter(|to| *to != previous) {
            if !locations::visible(&mut tx, to).await? {
                return Ok(no_such_location());
            }
            tx = rc
                .authorize_in(tx, EMPLOYEES_WRITE, Target::Location(to))
                .await?;
        }
        let mut v = Violations::default();
        check_names(
            &mut v,
            input.first_name.as_deref(),
            input.last_name.as_deref(),
            input.job_title.as_deref(),
        );
        if input.status == Some(EmployeeStatus::Terminated) {
            v.add(
                "status",
                UserErrorCode::Invalid,
                "use terminateEmployee to terminate an employment",
            );
        }
        if let Err(e) = v.into_result() {
            return Ok(employee_refused(e));
        }
        let updated = sqlx::query_as!(
            Employee,
            r#"
            update employees set
              location_id = coalesce($2, location_id),
              first_name = coalesce($3, first_name),
              last_name = coalesce($4, last_name),
              job_title = coalesce($5, job_title),
              handles_food = coalesce($6, handles_food),
              status = case when status = 'terminated' then status else coalesce($7, status) end
            where id = $1
            returning id, location_id, external_id, first_name, last_name, job_title, handles_food,
                      hire_date, status, terminated_on, created_at, updated_at
            "#,
            id,
            new_location,
            input.first_name.as_deref().map(str::trim),
            input.last_name.as_deref().map(str::trim),
            input.job_title,
            input.handles_food,
            input.status.map(|s| s.as_db()),
        )
        .fetch_one(tx.conn())
        .await;
        let employee = match updated {
            Ok(e) => e,
            Err(e) => {
                let err = on_constraint(e, EMPLOYEE_CONSTRAINTS).map_err(ApiError::from)?;
                return Ok(employee_refused(vec![err]));
            }
        };
        audit::record(
            &mut tx,
            rc,
            "employee.update",
            (NodeType::Employee, id),
            json!({ "transferred": employee.location_id != previous }),
        )
        .await?;
        let today = clock::today();
        compliance::recompute(&mut tx, employee.location_id, today).await?;
        if employee.location_id != previous {
            compliance::recompute(&mut tx, previous, today).await?;
        }
        tx.commit().await.map_err(ApiError::from)?;
        Ok(EmployeePayload {
            employee: Some(employee),
            user_errors: Vec::new(),
        })
    }

    /// Ends an employment; the employee no longer counts for compliance.
    /// Needs `employees:write` on the employee's location.
    async fn terminate_employee(
        &self,
        ctx: &Context<'_>,
        input: TerminateEmployeeInput,
    ) -> Result<EmployeePayload> {
        let id = ids::decode(&input.id, NodeType::Employee)?;
        let rc = request(ctx)?;
        let mut tx = rc.begin_write().await?;
        let current = sqlx::query!(
            "select location_id, hire_date from employees where id = $1 for update",
            id
        )
        .fetch_optional(tx.conn())
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::NotFound("employee"))?;
        let mut tx = rc
            .authorize_in(tx, EMPLOYEES_WRITE, Target::Location(current.location_id))
            .await?;
        if input.terminated_on < current.hire_date {
            return Ok(employee_refused(vec![UserError::new(
                "terminatedOn",
                UserErrorCode::Invalid,
                "the termination date is before the hire date",
            )]));
        }
        let employee = sqlx::query_as!(
            Employee,
            r#"
            update employees set status = 'terminated', terminated_on = $2
            where id = $1
            returning id, location_id, external_id, first_name, last_name, job_title, handles_food,
                      hire_date, status, terminated_on, created_at, updated_at
            "#,
            id,
            input.terminated_on,
        )
        .fetch_one(tx.conn())
        .await
        .map_err(ApiError::from)?;
        audit::record(
            &mut tx,
            rc,
            "employee.terminate",
            (NodeType::Employee, id),
            json!({}),
        )
        .await?;
        compliance::recompute(&mut tx, employee.location_id, clock::today()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(EmployeePayload {
            employee: Some(employee),
            user_errors: Vec::new(),
        })
    }

    /// Records a credential; the holder's location is re-evaluated. Needs
    /// `credentials:write` on the holder's location.
    async fn record_credential(
        &self,
        ctx: &Context<'_>,
        input: RecordCredentialInput,
    ) -> Result<CredentialPayload> {
        let employee_id = ids::decode(&input.employee_id, NodeType::Employee)?;
        let rc = request(ctx)?;
        let mut tx = rc.begin_write().await?;
        // `for share`: the holder cannot move elsewhere until this commits
        let holder = sqlx::query_scalar!(
            "select location_id from employees where id = $1 for share",
            employee_id
        )
        .fetch_optional(tx.conn())
        .await
        .map_err(ApiError::from)?;
        let Some(location_id) = holder else {
            return Ok(CredentialPayload {
                credential: None,
                user_errors: vec![UserError::new(
                    "employeeId",
                    UserErrorCode::NotFound,
                    "no such employee",
                )],
            });
        };
        let mut tx = rc
            .authorize_in(tx, CREDENTIALS_WRITE, Target::Location(location_id))
            .await?;
        let mut v = Violations::default();
        v.check(
            input.expires_on > input.issued_on,
            "expiresOn",
            "the expiry must be after the issue date",
        );
        v.check(
            len_between(&input.issuer, 0, 200),
            "issuer",
            "give an issuer of at most 200 characters",
        );
        if let Some(n) = &input.certificate_number {
            v.check(
                len_between(n, 1, 64),
                "certificateNumber",
                "give a certificate number of 1 to 64 characters",
            );
        }
        if let Err(user_errors) = v.into_result() {
            return Ok(CredentialPayload {
                credential: None,
                user_errors,
            });
        }
        let inserted = sqlx::query_as!(
            Credential,
            r#"
            insert into credentials (tenant_id, employee_id, kind, issuer, certificate_number, issued_on, expires_on)
            values ($1, $2, $3, $4, $5, $6, $7)
            returning id, employee_id, external_id, kind, issuer, certificate_number, issued_on, expires_on
            "#,
            tx.tenant().as_uuid(),
            employee_id,
            input.kind.as_db(),
            input.issuer,
            input.certificate_number,
            input.issued_on,
            input.expires_on,
        )
        .fetch_one(tx.conn())
        .await;
        let credential = match inserted {
            Ok(c) => c,
            Err(e) => {
                let err = on_constraint(e, CREDENTIAL_CONSTRAINTS).map_err(ApiError::from)?;
                return Ok(CredentialPayload {
                    credential: None,
                    user_errors: vec![err],
                });
            }
        };
        audit::record(
            &mut tx,
            rc,
            "credential.record",
            (NodeType::Credential, credential.id),
            json!({ "kind": input.kind.as_db(), "expiresOn": input.expires_on }),
        )
        .await?;
        compliance::recompute(&mut tx, location_id, clock::today()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(CredentialPayload {
            credential: Some(credential),
            user_errors: Vec::new(),
        })
    }

    /// Deletes a credential recorded in error. Needs `credentials:write` on
    /// the holder's location.
    async fn delete_credential(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<DeleteCredentialPayload> {
        let uuid = ids::decode(&id, NodeType::Credential)?;
        let rc = request(ctx)?;
        let mut tx = rc.begin_write().await?;
        let location_id = sqlx::query_scalar!(
            r#"
            select e.location_id
            from credentials c
            join employees e on e.tenant_id = c.tenant_id and e.id = c.employee_id
            where c.id = $1
            for update of c
            "#,
            uuid
        )
        .fetch_optional(tx.conn())
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::NotFound("credential"))?;
        let mut tx = rc
            .authorize_in(tx, CREDENTIALS_WRITE, Target::Location(location_id))
            .await?;
        sqlx::query!("delete from credentials where id = $1", uuid)
            .execute(tx.conn())
            .await
            .map_err(ApiError::from)?;
        audit::record(
            &mut tx,
            rc,
            "credential.delete",
            (NodeType::Credential, uuid),
            json!({}),
        )
        .await?;
        compliance::recompute(&mut tx, location_id, clock::today()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(DeleteCredentialPayload {
            deleted_credential_id: Some(id),
            user_errors: Vec::new(),
        })
    }
}
