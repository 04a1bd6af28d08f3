use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use prep_tenancy::TenantScope;
use uuid::Uuid;

use super::{Credential, Employee};
use crate::error::ApiError;
use crate::loaders::group_by;

/// Employees by id.
pub struct EmployeeLoader(pub(crate) TenantScope);

impl Loader<Uuid> for EmployeeLoader {
    type Value = Employee;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Employee>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query_as!(
            Employee,
            r#"
            select id, location_id, external_id, first_name, last_name, job_title, handles_food,
                   hire_date, status, terminated_on, created_at, updated_at
            from employees where id = any ($1)
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().map(|e| (e.id, e)).collect())
    }
}

/// Current (not terminated) employees per location, by name: one statement
/// for a whole page of locations.
pub struct EmployeesByLocation(pub(crate) TenantScope);

impl Loader<Uuid> for EmployeesByLocation {
    type Value = Vec<Employee>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Employee>>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query_as!(
            Employee,
            r#"
            select id, location_id, external_id, first_name, last_name, job_title, handles_food,
                   hire_date, status, terminated_on, created_at, updated_at
            from employees
            where location_id = any ($1) and status <> 'terminated'
            order by location_id, last_name, first_name, id
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        Ok(group_by(rows, |e| e.location_id))
    }
}

/// Credentials per employee, soonest expiry first.
pub struct CredentialsByEmployee(pub(crate) TenantScope);

impl Loader<Uuid> for CredentialsByEmployee {
    type Value = Vec<Credential>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Credential>>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query_as!(
            Credential,
            r#"
            select id, employee_id, external_id, kind, issuer, certificate_number, issued_on, expires_on
            from credentials
            where employee_id = any ($1)
            order by employee_id, expires_on, id
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        Ok(group_by(rows, |c| c.employee_id))
    }
}
