//! The tenant and the signed-in user: `viewer`.

use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use prep_auth::{Access, Action, Actor, Permission, Resource, Target};
use uuid::Uuid;

use crate::context::request;
use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::loaders::load_err;
use crate::members::RoleGrant;

/// A customer of Prep: a chain or a partner.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Tenant {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    /// URL-safe name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Plan tier: `free`, `standard` or `enterprise`.
    pub plan: String,
    /// Purchased add-on modules.
    pub modules: Vec<String>,
    /// Whether this is a sandbox tenant.
    pub is_sandbox: bool,
    /// When the tenant was created.
    pub created_at: DateTime<Utc>,
}

#[ComplexObject]
impl Tenant {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Tenant, self.id)
    }
}

/// A person who signs in to a tenant.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct User {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Whether the user may sign in.
    pub active: bool,
}

#[ComplexObject]
impl User {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::User, self.id)
    }

    /// The user's role grants, direct and through groups. Needs
    /// `members:read`, except for one's own.
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<RoleGrant>> {
        let rc = request(ctx)?;
        if rc.principal.actor != Actor::User(self.id) {
            rc.authorize(Permission(Resource::Members, Action::Read), Target::Tenant)
                .await?;
        }
        Ok(rc
            .loaders
            .grants_by_user
            .load_one(self.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default())
    }
}

/// A connector calling with its own credential.
#[derive(SimpleObject)]
pub struct ViewerConnector {
    /// The connector's global id.
    pub id: ID,
    /// The scopes this request carries (a token may carry fewer than the
    /// connector holds).
    pub scopes: Vec<String>,
    /// The locations it is restricted to; null for the whole tenant.
    pub location_ids: Option<Vec<ID>>,
}

/// The caller and their tenant.
#[derive(SimpleObject)]
pub struct Viewer {
    /// The signed-in user; null for non-user callers.
    pub user: Option<User>,
    /// The connector; null for non-connector callers.
    pub connector: Option<ViewerConnector>,
    /// The tenant every query is scoped to.
    pub tenant: Tenant,
    /// The roles the caller's credentials carry, which decide what it may
    /// do in this request. Empty for the gateway's own (full) access.
    pub roles: Vec<RoleGrant>,
}

/// Viewer queries.
#[derive(Default)]
pub struct TenantQuery;

#[Object]
impl TenantQuery {
    /// Who is asking, and for which tenant.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let rc = request(ctx)?;
        let user_id = match rc.principal.actor {
            Actor::User(id) => Some(id),
            Actor::System | Actor::Operator | Actor::Scim(_) | Actor::Connector(_) => None,
        };
        let connector = match (&rc.principal.actor, &rc.principal.access) {
            (Actor::Connector(id), Access::Scopes(grant)) => Some(ViewerConnector {
                id: ids::encode(NodeType::Connector, *id),
                scopes: grant.scopes.to_strings(),
                location_ids: grant.locations.as_ref().map(|l| {
                    l.iter()
                        .map(|id| ids::encode(NodeType::Location, *id))
                        .collect()
                }),
            }),
            _ => None,
        };
        let mut db = rc.read().await?;
        // One statement for both: the tenant row and, for users, the user row.
        let row = sqlx::query!(
            r#"
            select t.id, t.slug, t.name, t.plan, t.modules, t.is_sandbox, t.created_at,
                   u.id as "user_id?", u.email as "email?", u.display_name as "display_name?",
                   u.active as "active?"
            from tenants t
            left join users u on u.tenant_id = t.id and u.id = $1
            "#,
            user_id,
        )
        .fetch_optional(db.conn())
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::Unauthenticated)?;
        let user = match (row.user_id, row.email, row.display_name, row.active) {
            (Some(id), Some(email), Some(display_name), Some(active)) => Some(User {
                id,
                email,
                display_name,
                active,
            }),
            _ => None,
        };
        Ok(Viewer {
            roles: rc
                .principal
                .access
                .grants()
                .iter()
                .map(RoleGrant::carried)
                .collect(),
            user,
            connector,
            tenant: Tenant {
                id: row.id,
                slug: row.slug,
                name: row.name,
                plan: row.plan,
                modules: row.modules,
                is_sandbox: row.is_sandbox,
                created_at: row.created_at,
            },
        })
    }
}
