//! Relay object identification: `node(id:)` and `nodes(ids:)`.

use async_graphql::{Context, Interface, Object, Result, ID};
use uuid::Uuid;

use crate::alerts::Alert;
use crate::context::{request, RequestContext};
use crate::error::ApiError;
use crate::facilities::{Inspection, Permit};
use crate::ids::{self, NodeType};
use crate::loaders::load_err;
use crate::locations::Location;
use crate::reference::Requirement;
use crate::scopes;
use crate::workforce::{Credential, Employee};

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The global id."))]
pub enum Node {
    /// A location.
    Location(Location),
    /// An employee.
    Employee(Employee),
    /// A credential.
    Credential(Credential),
    /// A permit.
    Permit(Permit),
    /// An inspection.
    Inspection(Inspection),
    /// A requirement.
    Requirement(Requirement),
    /// An alert.
    Alert(Alert),
}

/// Node queries.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by global id; null when there is none (or it is not yours).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let (ty, uuid) = ids::decode_any(&id)?;
        let rc = request(ctx)?;
        fetch(rc, ty, uuid).await
    }

    /// Several objects by global id, in order; null for each that is missing.
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(ApiError::bad_input("`nodes` takes at most 100 ids").into());
        }
        let decoded = ids
            .iter()
            .map(ids::decode_any)
            .collect::<Result<Vec<_>, _>>()?;
        let rc = request(ctx)?;
        // awaited together so the loaders batch them into one statement per type
        futures_util::future::try_join_all(
            decoded.into_iter().map(|(ty, uuid)| fetch(rc, ty, uuid)),
        )
        .await
    }
}

async fn fetch(rc: &RequestContext, ty: NodeType, id: Uuid) -> Result<Option<Node>> {
    scopes::check_node_read(rc, ty)?;
    let l = &rc.loaders;
    Ok(match ty {
        NodeType::Location => l
            .locations
            .load_one(id)
            .await
            .map_err(load_err)?
            .map(Node::Location),
        NodeType::Employee => l
            .employees
            .load_one(id)
            .await
            .map_err(load_err)?
            .map(Node::Employee),
        NodeType::Credential => l
            .credentials
            .load_one(id)
            .await
            .map_err(load_err)?
            .map(Node::Credential),
        NodeType::Permit => l
            .permits
            .load_one(id)
            .await
            .map_err(load_err)?
            .map(Node::Permit),
        NodeType::Inspection => l
            .inspections
            .load_one(id)
            .await
            .map_err(load_err)?
            .map(Node::Inspection),
        NodeType::Requirement => l
            .requirements
            .load_one(id)
            .await
            .map_err(load_err)?
            .map(Node::Requirement),
        NodeType::Alert => l
            .alerts
            .load_one(id)
            .await
            .map_err(load_err)?
            .map(Node::Alert),
        _ => None,
    })
}
