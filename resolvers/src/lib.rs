//! The domain subgraphs of the compliance platform.
//!
//! Each module owns its GraphQL types, its SQL and its DataLoaders. All data
//! access goes through the request's [`prep_tenancy::TenantScope`]; nothing
//! here can open a connection without a tenant.

pub mod alerts;
pub mod audit;
pub mod clock;
pub mod compliance;
pub mod connectors;
pub mod context;
pub mod enums;
pub mod error;
pub mod facilities;
pub mod ids;
pub mod loaders;
pub mod locations;
pub mod members;
pub mod node;
pub mod pagination;
pub mod payload;
pub mod provisioning;
pub mod rate_limit;
pub mod reference;
pub mod sandbox;
pub mod scopes;
pub mod sso;
pub mod sync;
pub mod tenant;
pub mod workforce;

pub use context::RequestContext;
pub use error::{ApiError, ApiResult};

use async_graphql::MergedObject;

/// Every domain's queries, merged into one root.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    node::NodeQuery,
    tenant::TenantQuery,
    locations::LocationQuery,
    workforce::WorkforceQuery,
    facilities::FacilitiesQuery,
    reference::ReferenceQuery,
    compliance::ComplianceQuery,
    alerts::AlertQuery,
    audit::AuditQuery,
    members::MembersQuery,
    members::GroupsQuery,
    sso::SsoQuery,
    provisioning::ProvisioningQuery,
    connectors::ConnectorQuery,
    rate_limit::RateLimitQuery,
);

/// Every domain's mutations, merged into one root.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    locations::LocationMutation,
    workforce::WorkforceMutation,
    facilities::FacilitiesMutation,
    members::MembersMutation,
    members::MemberLifecycleMutation,
    members::GroupsMutation,
    sso::SsoMutation,
    provisioning::ProvisioningMutation,
    connectors::ConnectorMutation,
    sync::SyncMutation,
    sandbox::SandboxMutation,
);
