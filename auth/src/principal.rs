use prep_tenancy::TenantId;
use uuid::Uuid;

/// What kind of caller acted: recorded on every audit event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A person signed in to a tenant.
    User(Uuid),
    /// The gateway itself (compliance reviewer, seeding).
    System,
    /// An operator using the CLI.
    Operator,
}

impl Actor {
    /// The `actor_type` stored in audit events.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::System => "system",
            Actor::Operator => "operator",
        }
    }

    /// The `actor_id` stored in audit events, when the actor has one.
    pub fn id(&self) -> Option<Uuid> {
        match self {
            Actor::User(id) => Some(*id),
            Actor::System | Actor::Operator => None,
        }
    }
}

/// An authenticated caller, resolved once per request at the edge.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The tenant every statement of the request is scoped to.
    pub tenant: TenantId,
    /// Who acts.
    pub actor: Actor,
}
