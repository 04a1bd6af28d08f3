//! Entity resolvers of the domain subgraphs: how a federation router
//! fetches our objects by key (`Query._entities`) when another subgraph's
//! type points at one of them, or one domain's type points into another
//! domain (see [`crate::domains`]). Every `Node` is an entity, so the
//! domain that answers `node(id:)` needs to know no other domain's fields.
//!
//! The keys are the public global ids (`@key(fields: "id")`), so another
//! service stores and sends exactly what clients see. Each resolver loads
//! through the request's DataLoaders, as `node(id:)` does: the request's
//! tenant scope and row-level security decide, so another tenant's object
//! and one outside a location-bound caller's reach answer `null`, exactly
//! like a missing one. A connector must hold the type's read scope, as for
//! `node(id:)` (the connector schema's scope check also refuses the whole
//! `_entities` field first, see [`crate::scopes`]).
//!
//! An id that does not decode, or names an object of another type, answers
//! `null` rather than an error: one bad representation must not fail the
//! whole `_entities` list the router asked for.
//!
//! [`EntityQuery`] is merged only into the subgraph's root
//! ([`crate::SubgraphQuery`]), never into the public [`crate::QueryRoot`]:
//! async-graphql turns federation on as soon as one entity resolver is
//! reachable, and the public schema must not answer `_entities`.

use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Object, Result, ID};
use uuid::Uuid;

use crate::alerts::Alert;
use crate::context::{request, RequestContext};
use crate::error::ApiError;
use crate::facilities::{Inspection, Permit};
use crate::ids::{self, NodeType};
use crate::loaders::{load_err, Loaders};
use crate::locations::Location;
use crate::reference::Requirement;
use crate::scopes;
use crate::workforce::{Credential, Employee};

/// The entity resolvers (no fields of its own).
#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    /// A location by its global id.
    #[graphql(entity)]
    async fn location_entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Location>> {
        by_key(ctx, &id, NodeType::Location, |l| &l.locations).await
    }

    /// An employee by its global id.
    #[graphql(entity)]
    async fn employee_entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Employee>> {
        by_key(ctx, &id, NodeType::Employee, |l| &l.employees).await
    }

    /// An inspection by its global id.
    #[graphql(entity)]
    async fn inspection_entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Inspection>> {
        by_key(ctx, &id, NodeType::Inspection, |l| &l.inspections).await
    }

    /// A permit by its global id.
    #[graphql(entity)]
    async fn permit_entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Permit>> {
        by_key(ctx, &id, NodeType::Permit, |l| &l.permits).await
    }

    /// A credential by its global id.
    #[graphql(entity)]
    async fn credential_entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Credential>> {
        by_key(ctx, &id, NodeType::Credential, |l| &l.credentials).await
    }

    /// An alert by its global id.
    #[graphql(entity)]
    async fn alert_entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Alert>> {
        by_key(ctx, &id, NodeType::Alert, |l| &l.alerts).await
    }

    /// A requirement (global reference data) by its global id.
    #[graphql(entity)]
    async fn requirement_entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Requirement>> {
        by_key(ctx, &id, NodeType::Requirement, |l| &l.requirements).await
    }
}

/// The object a representation's `id` names, through the request's
/// loader for its type (`None` when it is missing, out of reach, or the id
/// is not one of a `ty`).
async fn by_key<L>(
    ctx: &Context<'_>,
    id: &ID,
    ty: NodeType,
    loader: fn(&Loaders) -> &DataLoader<L>,
) -> Result<Option<L::Value>>
where
    L: Loader<Uuid, Error = Arc<ApiError>>,
{
    let Some((rc, id)) = key(ctx, id, ty)? else {
        return Ok(None);
    };
    loader(&rc.loaders).load_one(id).await.map_err(load_err)
}

/// The request and the UUID a representation's `id` names, or `None` when
/// it is not a well-formed id of an object of type `ty`. Fails only when
/// there is no request context (`UNAUTHENTICATED`) or the caller is a
/// connector without the type's read scope (`FORBIDDEN`, as `node(id:)`).
fn key<'a>(ctx: &Context<'a>, id: &ID, ty: NodeType) -> Result<Option<(&'a RequestContext, Uuid)>> {
    let rc = request(ctx)?;
    scopes::check_node_read(rc, ty)?;
    Ok(match ids::decode_any(id) {
        Ok((found, uuid)) if found == ty => Some((rc, uuid)),
        _ => None,
    })
}
