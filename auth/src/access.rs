//! Roles and permissions: the one question every resolver asks, "may this
//! principal do X on this object?", answered in one place.
//!
//! A role is granted tenant-wide or for one location. A grant for a location
//! confers its role's permissions on that location's objects only; actions on
//! the tenant itself (creating a location, managing members or SSO) need a
//! tenant-wide grant. What a principal may *see* is also enforced below the
//! resolvers: [`Access::reach`] becomes the transaction's location scope,
//! which row-level security applies to every statement.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use prep_tenancy::Reach;
use uuid::Uuid;

use crate::connectors::ScopeSet;

/// A role a user or group can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Everything, including the tenant's ownership.
    Owner,
    /// Everything but ownership: members, roles, SSO, all data.
    Admin,
    /// Reads everything, changes compliance facts everywhere.
    ComplianceManager,
    /// Reads and changes the facts of their own locations.
    LocationManager,
    /// Reads everything, including the audit log; changes nothing.
    Auditor,
    /// Reads their own locations; changes nothing.
    Staff,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 6] = [
        Role::Owner,
        Role::Admin,
        Role::ComplianceManager,
        Role::LocationManager,
        Role::Auditor,
        Role::Staff,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::ComplianceManager => "compliance_manager",
            Role::LocationManager => "location_manager",
            Role::Auditor => "auditor",
            Role::Staff => "staff",
        }
    }

    fn allows(self, permission: Permission) -> bool {
        use Action::{Read, Write};
        use Resource::*;
        let Permission(resource, action) = permission;
        match self {
            Role::Owner | Role::Admin => true,
            Role::Auditor => action == Read,
            Role::ComplianceManager => match resource {
                Members | Sso | Connectors => false,
                Locations => action == Read,
                _ => true,
            },
            Role::LocationManager => match (resource, action) {
                (Members | Sso | Audit | Connectors, _) => false,
                (_, Read) => true,
                (Locations | Employees | Credentials | Permits | Inspections | Alerts, Write) => {
                    true
                }
                (Compliance, Write) => false,
            },
            Role::Staff => match (resource, action) {
                (Members | Sso | Audit | Connectors, _) => false,
                (_, Read) => true,
                (_, Write) => false,
            },
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role `{s}`; expected one of: {}",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })
    }
}

/// What a permission is about. Aligned with the schema's domains, and with
/// connector scopes (`resource:action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Resource {
    Locations,
    Employees,
    Credentials,
    Permits,
    Inspections,
    Compliance,
    Alerts,
    Audit,
    /// Users, groups and role grants.
    Members,
    /// SSO connections and domains.
    Sso,
    /// Connector clients and their keys.
    Connectors,
}

/// Read or write. Write implies read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Action {
    Read,
    Write,
}

/// One permission: an action on a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permission(pub Resource, pub Action);

impl Permission {
    /// Whether it changes anything (denials of these are audited).
    pub fn is_write(self) -> bool {
        self.1 == Action::Write
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let resource = match self.0 {
            Resource::Locations => "locations",
            Resource::Employees => "employees",
            Resource::Credentials => "credentials",
            Resource::Permits => "permits",
            Resource::Inspections => "inspections",
            Resource::Compliance => "compliance",
            Resource::Alerts => "alerts",
            Resource::Audit => "audit",
            Resource::Members => "members",
            Resource::Sso => "sso",
            Resource::Connectors => "connectors",
        };
        let action = match self.1 {
            Action::Read => "read",
            Action::Write => "write",
        };
        write!(f, "{resource}:{action}")
    }
}

/// The object an action is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The tenant as a whole (its settings, members, new locations).
    Tenant,
    /// Something that belongs to one location.
    Location(Uuid),
}

/// One role, tenant-wide or for one location.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// `None`: tenant-wide.
    pub location: Option<Uuid>,
}

impl Grant {
    /// The compact form carried in tokens: `admin` or `location_manager@<uuid>`.
    pub fn to_claim(self) -> String {
        match self.location {
            None => self.role.as_str().to_owned(),
            Some(loc) => format!("{}@{loc}", self.role.as_str()),
        }
    }

    /// Parses [`Grant::to_claim`]'s form.
    pub fn from_claim(claim: &str) -> Result<Self, String> {
        let (role, location) = match claim.split_once('@') {
            None => (claim, None),
            Some((role, loc)) => (
                role,
                Some(
                    loc.parse::<Uuid>()
                        .map_err(|_| format!("bad location in grant `{claim}`"))?,
                ),
            ),
        };
        Ok(Self {
            role: role.parse()?,
            location,
        })
    }

    fn covers(self, target: Target) -> bool {
        match (self.location, target) {
            (None, _) => true,
            (Some(here), Target::Location(there)) => here == there,
            (Some(_), Target::Tenant) => false,
        }
    }
}

/// What a principal may do: the gateway itself may do everything; a user
/// may do what their grants allow; a connector what its scopes allow, at
/// its locations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// The gateway's own work and operator commands.
    Full,
    /// A user's grants (direct and through groups), deduplicated.
    Grants(Arc<[Grant]>),
    /// A connector's scopes.
    Scopes(ScopeGrant),
}

/// What a connector credential carries: its scopes, and the locations it is
/// restricted to (`None`: the whole tenant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeGrant {
    /// The scopes (write implies read).
    pub scopes: ScopeSet,
    /// The locations it may see and change, if restricted.
    pub locations: Option<Arc<[Uuid]>>,
}

impl Access {
    /// Access from a list of grants.
    pub fn from_grants(mut grants: Vec<Grant>) -> Self {
        grants.sort_unstable();
        grants.dedup();
        Access::Grants(grants.into())
    }

    /// The grants (empty for [`Access::Full`] and connectors).
    pub fn grants(&self) -> &[Grant] {
        match self {
            Access::Full | Access::Scopes(_) => &[],
            Access::Grants(g) => g,
        }
    }

    /// A connector's scopes, if the principal is one.
    pub fn scopes(&self) -> Option<ScopeSet> {
        match self {
            Access::Scopes(g) => Some(g.scopes),
            Access::Full | Access::Grants(_) => None,
        }
    }

    /// May the principal do `permission` on `target`?
    pub fn allows(&self, permission: Permission, target: Target) -> bool {
        match self {
            Access::Full => true,
            Access::Grants(grants) => grants
                .iter()
                .any(|g| g.covers(target) && g.role.allows(permission)),
            Access::Scopes(g) => {
                let here = match (&g.locations, target) {
                    (None, _) => true,
                    (Some(ids), Target::Location(id)) => ids.contains(&id),
                    (Some(_), Target::Tenant) => false,
                };
                here && g.scopes.allows(permission)
            }
        }
    }

    /// May the principal do `permission` on at least some target (the
    /// tenant, or one of its locations)? Batch writes ask this first, then
    /// check each record's location.
    pub fn allows_somewhere(&self, permission: Permission) -> bool {
        match self {
            Access::Full => true,
            Access::Grants(grants) => grants.iter().any(|g| g.role.allows(permission)),
            Access::Scopes(g) => g.scopes.allows(permission),
        }
    }

    /// The part of the tenant the principal can see: the whole tenant if any
    /// role is tenant-wide, else the union of its grants' locations (nothing
    /// at all for a user without roles).
    pub fn reach(&self) -> Reach {
        match self {
            Access::Full => Reach::Tenant,
            Access::Scopes(g) => match &g.locations {
                None => Reach::Tenant,
                Some(ids) => {
                    let mut ids = ids.to_vec();
                    ids.sort_unstable();
                    Reach::Locations(ids.into())
                }
            },
            Access::Grants(grants) => {
                if grants.iter().any(|g| g.location.is_none()) {
                    return Reach::Tenant;
                }
                let mut ids: Vec<Uuid> = grants.iter().filter_map(|g| g.location).collect();
                ids.sort_unstable();
                ids.dedup();
                Reach::Locations(ids.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::{Read, Write};
    use Resource::*;

    fn access(grants: &[(Role, Option<Uuid>)]) -> Access {
        Access::from_grants(
            grants
                .iter()
                .map(|&(role, location)| Grant { role, location })
                .collect(),
        )
    }

    #[test]
    fn auditors_read_everything_and_change_nothing() {
        let a = access(&[(Role::Auditor, None)]);
        let here = Target::Location(Uuid::from_u128(1));
        for r in [
            Locations,
            Employees,
            Credentials,
            Permits,
            Audit,
            Members,
            Sso,
        ] {
            assert!(a.allows(Permission(r, Read), here));
            assert!(a.allows(Permission(r, Read), Target::Tenant));
            assert!(!a.allows(Permission(r, Write), here));
            assert!(!a.allows(Permission(r, Write), Target::Tenant));
        }
        assert_eq!(a.reach(), Reach::Tenant);
    }

    #[test]
    fn location_managers_act_on_their_locations_only() {
        let mine = Uuid::from_u128(1);
        let theirs = Uuid::from_u128(2);
        let a = access(&[(Role::LocationManager, Some(mine))]);
        let w = Permission(Credentials, Write);
        assert!(a.allows(w, Target::Location(mine)));
        assert!(!a.allows(w, Target::Location(theirs)));
        assert!(!a.allows(Permission(Locations, Write), Target::Tenant));
        assert!(!a.allows(Permission(Audit, Read), Target::Location(mine)));
        assert!(!a.allows(Permission(Members, Write), Target::Tenant));
        assert_eq!(a.reach(), Reach::Locations(vec![mine].into()));
    }

    #[test]
    fn reach_is_the_union_and_tenant_wide_wins() {
        let (x, y) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let a = access(&[(Role::Staff, Some(y)), (Role::LocationManager, Some(x))]);
        assert_eq!(a.reach(), Reach::Locations(vec![x, y].into()));
        assert!(!a.allows(Permission(Employees, Write), Target::Location(y)));
        assert!(a.allows(Permission(Employees, Write), Target::Location(x)));
        let b = access(&[(Role::Staff, Some(y)), (Role::Auditor, None)]);
        assert_eq!(b.reach(), Reach::Tenant);
        assert_eq!(access(&[]).reach(), Reach::Locations(Vec::new().into()));
        assert!(!access(&[]).allows(Permission(Locations, Read), Target::Tenant));
    }

    #[test]
    fn compliance_managers_cannot_manage_members_or_sso() {
        let a = access(&[(Role::ComplianceManager, None)]);
        assert!(a.allows(Permission(Permits, Write), Target::Location(Uuid::nil())));
        assert!(a.allows(Permission(Audit, Read), Target::Tenant));
        assert!(!a.allows(Permission(Members, Write), Target::Tenant));
        assert!(!a.allows(Permission(Sso, Read), Target::Tenant));
        assert!(!a.allows(Permission(Locations, Write), Target::Tenant));
    }

    #[test]
    fn grant_claims_round_trip_and_bad_ones_are_refused() {
        let g = Grant {
            role: Role::LocationManager,
            location: Some(Uuid::from_u128(7)),
        };
        assert_eq!(Grant::from_claim(&g.to_claim()), Ok(g));
        assert_eq!(
            Grant::from_claim("admin"),
            Ok(Grant {
                role: Role::Admin,
                location: None
            })
        );
        assert!(Grant::from_claim("root").is_err());
        assert!(Grant::from_claim("staff@nope").is_err());
        assert_eq!(
            Permission(Credentials, Write).to_string(),
            "credentials:write"
        );
    }
}
