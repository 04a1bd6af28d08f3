use prep_tenancy::TenantId;
use uuid::Uuid;

use crate::access::Access;

/// What kind of caller acted: recorded on every audit event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A person signed in to a tenant.
    User(Uuid),
    /// The gateway itself (compliance reviewer, seeding).
    System,
    /// An operator using the CLI.
    Operator,
    /// The tenant's IdP provisioning through SCIM, by its token's id.
    Scim(Uuid),
    /// An ERP or HRIS connector, by the connector's id.
    Connector(Uuid),
}

impl Actor {
    /// The `actor_type` stored in audit events.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::System => "system",
            Actor::Operator => "operator",
            Actor::Scim(_) => "scim",
            Actor::Connector(_) => "connector",
        }
    }

    /// The `actor_id` stored in audit events, when the actor has one.
    pub fn id(&self) -> Option<Uuid> {
        match self {
            Actor::User(id) | Actor::Scim(id) | Actor::Connector(id) => Some(*id),
            Actor::System | Actor::Operator => None,
        }
    }
}

/// How the caller proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// A bearer token (gateway JWT).
    Token,
    /// A browser session cookie; mutations need the session's CSRF token.
    Session(Uuid),
    /// A connector's API key, by the key's id.
    ApiKey(Uuid),
    /// A gateway token a connector obtained with the client credentials
    /// grant, by the id of the key that authenticated it.
    ConnectorToken(Uuid),
    /// Work of the gateway or an operator, not a request.
    Internal,
    /// A subgraph token another gateway replica signed (a domain served on
    /// its own, behind the gateway).
    Gateway,
}

/// An authenticated caller, resolved once per request at the edge.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The tenant every statement of the request is scoped to.
    pub tenant: TenantId,
    /// Who acts.
    pub actor: Actor,
    /// What it may do.
    pub access: Access,
    /// How it authenticated.
    pub via: Via,
}

impl Principal {
    /// The gateway's own work in a tenant (reviewer, seeding, operators).
    pub fn internal(tenant: TenantId, actor: Actor) -> Self {
        Self {
            tenant,
            actor,
            access: Access::Full,
            via: Via::Internal,
        }
    }
}
