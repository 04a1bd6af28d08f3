//! Locations (kitchens): the unit compliance is measured on.

mod loader;
mod mutation;
mod query;

pub use loader::LocationLoader;
pub use mutation::LocationMutation;
pub(crate) use mutation::{address_problems, valid_store_number, AddressInput, STORE_NUMBER_RULE};
pub use query::LocationQuery;

use async_graphql::{ComplexObject, Context, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use prep_tenancy::TenantTx;
use uuid::Uuid;

use crate::alerts::Alert;
use crate::context::request;
use crate::enums::{ComplianceStatus, EmployeeStatus, LocationStatus};
use crate::error::ApiError;
use crate::facilities::{Inspection, Permit};
use crate::ids::{self, NodeType};
use crate::loaders::load_err;
use crate::pagination::{build_page, Page, PageArgs};
use crate::reference::{Jurisdiction, RequirementStatus};
use crate::workforce::{Employee, EmployeeKey};

/// Whether the location exists and the transaction sees it (row-level
/// security hides other tenants' locations and, from a location-bound
/// caller, those out of reach): a mutation's check of a location it was
/// given before anything is written under it.
pub(crate) async fn visible(tx: &mut TenantTx, id: Uuid) -> Result<bool, ApiError> {
    Ok(sqlx::query_scalar!(
        r#"select exists (select 1 from locations where id = $1) as "found!""#,
        id
    )
    .fetch_one(tx.conn())
    .await?)
}

/// A kitchen of the tenant.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(name = "Location", complex)]
pub struct Location {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    /// The chain's own store number, unique in the tenant.
    pub store_number: String,
    /// Display name.
    pub name: String,
    #[graphql(skip)]
    pub(crate) address_line1: String,
    #[graphql(skip)]
    pub(crate) city: String,
    #[graphql(skip)]
    pub(crate) state_code: String,
    #[graphql(skip)]
    pub(crate) postal_code: String,
    #[graphql(skip)]
    pub(crate) jurisdiction_id: Uuid,
    #[graphql(skip)]
    pub(crate) status: String,
    /// The id of this location in the chain's ERP.
    pub external_id: Option<String>,
    #[graphql(skip)]
    pub(crate) compliance_status: String,
    #[graphql(skip)]
    pub(crate) compliance_reason: String,
    #[graphql(skip)]
    pub(crate) compliance_evaluated_at: Option<DateTime<Utc>>,
    /// When the location was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A postal address.
#[derive(SimpleObject)]
pub struct Address {
    /// Street line.
    pub line1: String,
    /// City.
    pub city: String,
    /// Two-letter state code.
    pub state: String,
    /// ZIP code.
    pub postal_code: String,
}

/// The compliance summary of a location, as the rules engine last computed it.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct LocationCompliance {
    /// The worst status over all applicable requirements.
    pub status: ComplianceStatus,
    /// Why, in one sentence.
    pub reason: String,
    /// When the engine last evaluated the location.
    pub evaluated_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    location_id: Uuid,
}

#[ComplexObject]
impl LocationCompliance {
    /// Status per applicable requirement.
    async fn requirements(&self, ctx: &Context<'_>) -> Result<Vec<RequirementStatus>> {
        let rc = request(ctx)?;
        Ok(rc
            .loaders
            .requirement_statuses
            .load_one(self.location_id)
            .await
            .map_err(load_err)?
            .unwrap_or_default())
    }
}

#[ComplexObject]
impl Location {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Location, self.id)
    }

    /// Street address.
    async fn address(&self) -> Address {
        Address {
            line1: self.address_line1.clone(),
            city: self.city.clone(),
            state: self.state_code.clone(),
            postal_code: self.postal_code.clone(),
        }
    }

    /// Whether the location operates.
    async fn status(&self) -> Result<LocationStatus> {
        Ok(LocationStatus::from_db(&self.status)?)
    }

    /// Shortcut for `compliance { status }`.
    async fn compliance_status(&self) -> Result<ComplianceStatus> {
        Ok(ComplianceStatus::from_db(&self.compliance_status)?)
    }

    /// The compliance summary and per-requirement detail.
    async fn compliance(&self) -> Result<LocationCompliance> {
        Ok(LocationCompliance {
            status: ComplianceStatus::from_db(&self.compliance_status)?,
            reason: self.compliance_reason.clone(),
            evaluated_at: self.compliance_evaluated_at,
            location_id: self.id,
        })
    }

    /// The jurisdiction chain, most specific first (city, county, state, federal).
    async fn jurisdictions(&self, ctx: &Context<'_>) -> Result<Vec<Jurisdiction>> {
        let rc = request(ctx)?;
        Ok(rc
            .loaders
            .jurisdiction_chains
            .load_one(self.jurisdiction_id)
            .await
            .map_err(load_err)?
            .unwrap_or_default())
    }

    /// Employees of the location, by name. Terminated employees are left out
    /// unless asked for by `status`.
    async fn employees(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<EmployeeStatus>,
    ) -> Result<Page<Employee>> {
        let rc = request(ctx)?;
        let args = PageArgs::<EmployeeKey>::parse(first, after)?;
        if args.after.is_some() || status.is_some() {
            let page = crate::workforce::employee_page(
                &rc.scope,
                &args,
                &crate::workforce::EmployeeFilter {
                    location_id: Some(self.id),
                    status,
                },
                crate::pagination::wants_total(ctx),
            )
            .await?;
            return Ok(page);
        }
        let all = rc
            .loaders
            .employees_by_location
            .load_one(self.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
        let rows: Vec<Employee> = all.into_iter().take(args.limit() as usize).collect();
        Ok(build_page(rows, &args, total, Employee::key))
    }

    /// Permits on file, latest expiry first.
    async fn permits(&self, ctx: &Context<'_>) -> Result<Vec<Permit>> {
        let rc = request(ctx)?;
        Ok(rc
            .loaders
            .permits_by_location
            .load_one(self.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default())
    }

    /// The latest inspections, newest first (at most `last`, default 5).
    async fn inspections(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] last: i32,
    ) -> Result<Vec<Inspection>> {
        if !(1..=50).contains(&last) {
            return Err(ApiError::bad_input("`last` must be between 1 and 50").into());
        }
        let rc = request(ctx)?;
        let all = rc
            .loaders
            .inspections_by_location
            .load_one(self.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(all.into_iter().take(last as usize).collect())
    }

    /// Open alerts of the location, most severe first.
    async fn alerts(&self, ctx: &Context<'_>) -> Result<Vec<Alert>> {
        let rc = request(ctx)?;
        Ok(rc
            .loaders
            .alerts_by_location
            .load_one(self.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default())
    }
}

impl Location {
    /// The key-set pagination key: (name, id).
    pub(crate) fn key(&self) -> (String, Uuid) {
        (self.name.clone(), self.id)
    }
}
