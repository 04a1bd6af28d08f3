//! Jurisdictions and requirements: global reference data, read-only for
//! tenants, plus a location's status against each requirement.

mod loader;
mod query;

pub use loader::{JurisdictionChains, RequirementLoader, RequirementStatusesByLocation};
pub use query::ReferenceQuery;

use async_graphql::{ComplexObject, Context, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::context::request;
use crate::enums::{ComplianceStatus, JurisdictionLevel, RequirementKind};
use crate::ids::{self, NodeType};
use crate::loaders::load_err;

/// A government level that imposes food-safety rules.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Jurisdiction {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    /// Stable code, e.g. `US-CA-LOS-ANGELES`.
    pub code: String,
    #[graphql(skip)]
    pub(crate) level: String,
    /// Name.
    pub name: String,
    #[graphql(skip)]
    pub(crate) parent_id: Option<Uuid>,
    /// Two-letter state code, below federal level.
    pub state_code: Option<String>,
}

#[ComplexObject]
impl Jurisdiction {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Jurisdiction, self.id)
    }

    /// Federal, state, county or city.
    async fn level(&self) -> Result<JurisdictionLevel> {
        Ok(JurisdictionLevel::from_db(&self.level)?)
    }

    /// The enclosing jurisdiction's code.
    async fn parent_code(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(parent) = self.parent_id else {
            return Ok(None);
        };
        let rc = request(ctx)?;
        let chain = rc
            .loaders
            .jurisdiction_chains
            .load_one(parent)
            .await
            .map_err(load_err)?;
        Ok(chain.and_then(|c| c.into_iter().next()).map(|j| j.code))
    }
}

/// A rule a jurisdiction imposes.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Requirement {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    #[graphql(skip)]
    pub(crate) jurisdiction_id: Uuid,
    /// Stable code, e.g. `CA-FOOD-HANDLER-CARD`.
    pub code: String,
    #[graphql(skip)]
    pub(crate) kind: String,
    /// Title.
    pub title: String,
    /// What it asks for, in plain words.
    pub summary: String,
    /// The legal citation.
    pub citation: String,
    /// In force from.
    pub effective_from: NaiveDate,
    /// In force until (exclusive), if repealed.
    pub effective_to: Option<NaiveDate>,
}

#[ComplexObject]
impl Requirement {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Requirement, self.id)
    }

    /// What kind of obligation it is.
    async fn kind(&self) -> Result<RequirementKind> {
        Ok(RequirementKind::from_db(&self.kind)?)
    }

    /// The jurisdiction imposing it.
    async fn jurisdiction(&self, ctx: &Context<'_>) -> Result<Option<Jurisdiction>> {
        let rc = request(ctx)?;
        let chain = rc
            .loaders
            .jurisdiction_chains
            .load_one(self.jurisdiction_id)
            .await
            .map_err(load_err)?;
        Ok(chain.and_then(|c| c.into_iter().next()))
    }
}

/// Where a location stands against one requirement.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct RequirementStatus {
    #[graphql(skip)]
    pub(crate) location_id: Uuid,
    #[graphql(skip)]
    pub(crate) requirement_id: Uuid,
    #[graphql(skip)]
    pub(crate) status: String,
    /// Why, in one sentence.
    pub reason: String,
    /// When it was evaluated.
    pub evaluated_at: DateTime<Utc>,
}

#[ComplexObject]
impl RequirementStatus {
    /// The status.
    async fn status(&self) -> Result<ComplianceStatus> {
        Ok(ComplianceStatus::from_db(&self.status)?)
    }

    /// The requirement.
    async fn requirement(&self, ctx: &Context<'_>) -> Result<Option<Requirement>> {
        let rc = request(ctx)?;
        rc.loaders
            .requirements
            .load_one(self.requirement_id)
            .await
            .map_err(load_err)
    }
}
