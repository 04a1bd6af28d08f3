//! Members of the tenant and their roles: who may do what.
//!
//! Reading members needs `members:read`, granting and revoking roles
//! `members:write` (owners and admins); only an owner may grant or revoke
//! the owner role. A change of a user's grants retires their tokens (a
//! database trigger), so a new role takes effect with their next token.

mod lifecycle;
mod loader;
mod mutation;
mod query;

pub use lifecycle::MemberLifecycleMutation;
pub use loader::GrantsByUser;
pub use mutation::MembersMutation;
pub use query::MembersQuery;

use async_graphql::{ComplexObject, SimpleObject, ID};
use prep_auth::Grant;
use uuid::Uuid;

use crate::enums::{GrantSource, Role};
use crate::ids::{self, NodeType};

/// A role held tenant-wide or for one location.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct RoleGrant {
    #[graphql(skip)]
    pub(crate) id: Option<Uuid>,
    /// The role.
    pub role: Role,
    #[graphql(skip)]
    pub(crate) location_id: Option<Uuid>,
    /// How it was granted. Null in `viewer.roles`, which lists the roles the
    /// caller's credentials carry.
    pub source: Option<GrantSource>,
    /// The group through which the user holds it; null when it is the
    /// user's own.
    pub group_name: Option<String>,
}

impl RoleGrant {
    /// A grant as the caller's credentials carry it (no stored id).
    pub(crate) fn carried(grant: &Grant) -> Self {
        Self {
            id: None,
            role: grant.role.into(),
            location_id: grant.location,
            source: None,
            group_name: None,
        }
    }
}

#[ComplexObject]
impl RoleGrant {
    /// The grant's global id, to revoke it with; null in `viewer.roles`.
    async fn id(&self) -> Option<ID> {
        self.id.map(|id| ids::encode(NodeType::RoleGrant, id))
    }

    /// The location it is bound to; null when it is tenant-wide.
    async fn location_id(&self) -> Option<ID> {
        self.location_id
            .map(|id| ids::encode(NodeType::Location, id))
    }
}
