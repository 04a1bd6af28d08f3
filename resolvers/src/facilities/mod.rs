//! Permits, inspections and their findings: the facts about a location
//! that agencies produce.

mod loader;
mod mutation;
mod query;

pub use loader::{FindingsByInspection, InspectionsByLocation, PermitsByLocation};
pub use mutation::FacilitiesMutation;
pub use query::FacilitiesQuery;

use async_graphql::{ComplexObject, Context, Result, SimpleObject, ID};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::context::request;
use crate::enums::{FindingSeverity, InspectionKind, InspectionResult, PermitKind};
use crate::ids::{self, NodeType};
use crate::loaders::load_err;
use crate::locations::Location;
use crate::workforce::CredentialStatus;

/// A permit or license of a location.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Permit {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    #[graphql(skip)]
    pub(crate) location_id: Uuid,
    #[graphql(skip)]
    pub(crate) kind: String,
    /// The number on the permit.
    pub permit_number: String,
    /// The agency that issued it.
    pub issuing_authority: String,
    /// First valid day.
    pub issued_on: NaiveDate,
    /// First day it is no longer valid.
    pub expires_on: NaiveDate,
}

#[ComplexObject]
impl Permit {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Permit, self.id)
    }

    /// What it permits.
    async fn kind(&self) -> Result<PermitKind> {
        Ok(PermitKind::from_db(&self.kind)?)
    }

    /// Whether it is valid today.
    async fn status(&self) -> CredentialStatus {
        CredentialStatus::on(self.issued_on, self.expires_on, crate::clock::today())
    }

    /// The location it belongs to.
    async fn location(&self, ctx: &Context<'_>) -> Result<Option<Location>> {
        let rc = request(ctx)?;
        rc.loaders
            .locations
            .load_one(self.location_id)
            .await
            .map_err(load_err)
    }
}

/// An inspection of a location by an agency.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Inspection {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    #[graphql(skip)]
    pub(crate) location_id: Uuid,
    /// Day of the inspection.
    pub inspected_on: NaiveDate,
    #[graphql(skip)]
    pub(crate) kind: String,
    /// The inspecting agency.
    pub agency: String,
    /// Score out of 100, where the agency scores.
    pub score: Option<i32>,
    #[graphql(skip)]
    pub(crate) result: String,
}

#[ComplexObject]
impl Inspection {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Inspection, self.id)
    }

    /// Why it took place.
    async fn kind(&self) -> Result<InspectionKind> {
        Ok(InspectionKind::from_db(&self.kind)?)
    }

    /// Outcome.
    async fn result(&self) -> Result<InspectionResult> {
        Ok(InspectionResult::from_db(&self.result)?)
    }

    /// The location inspected.
    async fn location(&self, ctx: &Context<'_>) -> Result<Option<Location>> {
        let rc = request(ctx)?;
        rc.loaders
            .locations
            .load_one(self.location_id)
            .await
            .map_err(load_err)
    }

    /// What the inspector found.
    async fn findings(&self, ctx: &Context<'_>) -> Result<Vec<Finding>> {
        let rc = request(ctx)?;
        Ok(rc
            .loaders
            .findings_by_inspection
            .load_one(self.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default())
    }
}

/// A violation found in an inspection, and its correction.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Finding {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    #[graphql(skip)]
    pub(crate) inspection_id: Uuid,
    /// Violation code (e.g. FDA Food Code section).
    pub code: String,
    /// What was found.
    pub description: String,
    #[graphql(skip)]
    pub(crate) severity: String,
    /// What was or will be done about it.
    pub corrective_action: String,
    /// Correction due date.
    pub due_on: Option<NaiveDate>,
    /// Day it was corrected.
    pub resolved_on: Option<NaiveDate>,
}

#[ComplexObject]
impl Finding {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Finding, self.id)
    }

    /// How serious it is.
    async fn severity(&self) -> Result<FindingSeverity> {
        Ok(FindingSeverity::from_db(&self.severity)?)
    }

    /// Not corrected and past its due date.
    async fn overdue(&self) -> bool {
        self.resolved_on.is_none() && self.due_on.is_some_and(|d| d < crate::clock::today())
    }
}
