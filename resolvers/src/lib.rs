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
pub mod domains;
pub mod entities;
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

/// Declares the two query roots from one list of the domains' queries, so
/// the subgraph can never serve a different API from the public one. (The
/// subgraph's root cannot simply wrap [`QueryRoot`]: both are the GraphQL
/// type `Query`, and async-graphql refuses two Rust types of one name.)
macro_rules! query_roots {
    ($($part:ty),* $(,)?) => {
        // The GraphQL type `Query`: the conventional name, which federation
        // composition also relies on (a subgraph's SDL names no
        // `schema { query: … }`). The doc comment is the type's public
        // description.
        /// Every domain's queries, merged into one root.
        #[derive(MergedObject, Default)]
        #[graphql(name = "Query")]
        pub struct QueryRoot($($part),*);

        // The query root of the `platform` federation subgraph: the public
        // queries plus the entity resolvers behind `Query._entities`
        // (`entities::EntityQuery`). Only the subgraph schema uses it; no
        // entity resolver is reachable from the public `QueryRoot`, so the
        // public schema never grows `_entities`, `_service` or `_Any`
        // (which would let a client fetch any object by key around the
        // root fields' checks).
        /// Every domain's queries, merged into one root.
        #[derive(MergedObject, Default)]
        #[graphql(name = "Query")]
        pub struct SubgraphQuery($($part,)* entities::EntityQuery);
    };
}

query_roots!(
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
#[graphql(name = "Mutation")]
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
