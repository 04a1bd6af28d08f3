//! Employees (usually synced from HRIS) and their credentials.

mod loader;
mod mutation;
mod query;

pub use loader::{CredentialsByEmployee, EmployeeLoader, EmployeesByLocation};
pub use mutation::WorkforceMutation;
pub use query::{employee_page, EmployeeFilter, WorkforceQuery};

use async_graphql::{ComplexObject, Context, Enum, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::context::request;
use crate::enums::{CredentialKind, EmployeeStatus};
use crate::ids::{self, NodeType};
use crate::loaders::load_err;
use crate::locations::Location;

/// Sort key of employees: (last name, first name, id).
pub type EmployeeKey = (String, String, Uuid);

/// A person working at a location.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Employee {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    #[graphql(skip)]
    pub(crate) location_id: Uuid,
    /// The employee's id in the HRIS.
    pub external_id: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Job title.
    pub job_title: String,
    /// Whether the job handles unpackaged food (food-handler rules apply).
    pub handles_food: bool,
    /// Hire date: the start of credential grace periods.
    pub hire_date: NaiveDate,
    #[graphql(skip)]
    pub(crate) status: String,
    /// Last day of employment, when terminated.
    pub terminated_on: Option<NaiveDate>,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Employee {
    pub(crate) fn key(&self) -> EmployeeKey {
        (self.last_name.clone(), self.first_name.clone(), self.id)
    }
}

#[ComplexObject]
impl Employee {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Employee, self.id)
    }

    /// Employment status.
    async fn status(&self) -> Result<EmployeeStatus> {
        Ok(EmployeeStatus::from_db(&self.status)?)
    }

    /// The location the employee works at.
    async fn location(&self, ctx: &Context<'_>) -> Result<Option<Location>> {
        let rc = request(ctx)?;
        rc.loaders
            .locations
            .load_one(self.location_id)
            .await
            .map_err(load_err)
    }

    /// Credentials held, soonest expiry first.
    async fn credentials(&self, ctx: &Context<'_>) -> Result<Vec<Credential>> {
        let rc = request(ctx)?;
        Ok(rc
            .loaders
            .credentials_by_employee
            .load_one(self.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default())
    }
}

/// Whether a credential is usable today.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialStatus {
    /// Valid for more than 30 days.
    Valid,
    /// Valid, but expires within 30 days.
    Expiring,
    /// Expired.
    Expired,
    /// Issued for a future day.
    NotYetValid,
}

impl CredentialStatus {
    /// The status on `today` of something valid from `issued_on` until the
    /// day before `expires_on` (credentials and permits alike).
    pub fn on(issued_on: NaiveDate, expires_on: NaiveDate, today: NaiveDate) -> Self {
        let warning = i64::try_from(crate::compliance::engine::WARNING_DAYS).unwrap_or(30);
        if issued_on > today {
            CredentialStatus::NotYetValid
        } else if expires_on <= today {
            CredentialStatus::Expired
        } else if (expires_on - today).num_days() <= warning {
            CredentialStatus::Expiring
        } else {
            CredentialStatus::Valid
        }
    }
}

/// A certification held by an employee.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Credential {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    #[graphql(skip)]
    pub(crate) employee_id: Uuid,
    /// The credential's id in the HRIS, when it was synced from one.
    pub external_id: Option<String>,
    #[graphql(skip)]
    pub(crate) kind: String,
    /// Who issued it (e.g. ServSafe).
    pub issuer: String,
    /// The certificate number.
    pub certificate_number: Option<String>,
    /// First valid day.
    pub issued_on: NaiveDate,
    /// First day it is no longer valid.
    pub expires_on: NaiveDate,
}

#[ComplexObject]
impl Credential {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Credential, self.id)
    }

    /// What it certifies.
    async fn kind(&self) -> Result<CredentialKind> {
        Ok(CredentialKind::from_db(&self.kind)?)
    }

    /// Whether it is usable today.
    async fn status(&self) -> CredentialStatus {
        CredentialStatus::on(self.issued_on, self.expires_on, crate::clock::today())
    }

    /// Days from today until expiry (negative once expired).
    async fn days_until_expiry(&self) -> i64 {
        (self.expires_on - crate::clock::today()).num_days()
    }

    /// The holder.
    async fn employee(&self, ctx: &Context<'_>) -> Result<Option<Employee>> {
        let rc = request(ctx)?;
        rc.loaders
            .employees
            .load_one(self.employee_id)
            .await
            .map_err(load_err)
    }
}
