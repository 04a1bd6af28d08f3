//! Connector scopes: `resource:action`, aligned with the schema's domains
//! and with the permissions roles confer. Write implies read. Only the data
//! domains are grantable; nothing administrative (members, SSO, audit,
//! connectors themselves) can ever be given to a connector.

use std::fmt;

use crate::access::{Action, Permission, Resource};

/// The resources a connector may be granted, with whether writing them is
/// a thing (compliance status and alerts are computed, never written).
const GRANTABLE: [(Resource, &str, bool); 7] = [
    (Resource::Locations, "locations", true),
    (Resource::Employees, "employees", true),
    (Resource::Credentials, "credentials", true),
    (Resource::Permits, "permits", true),
    (Resource::Inspections, "inspections", true),
    (Resource::Compliance, "compliance", false),
    (Resource::Alerts, "alerts", false),
];

/// A set of granted scopes, two bits per grantable resource.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(u16);

impl ScopeSet {
    /// No scope at all.
    pub const EMPTY: ScopeSet = ScopeSet(0);

    fn bit(resource: Resource, action: Action) -> Option<u16> {
        let i = GRANTABLE.iter().position(|(r, _, _)| *r == resource)?;
        let writable = GRANTABLE[i].2;
        match action {
            Action::Read => Some(1 << (2 * i)),
            Action::Write if writable => Some(1 << (2 * i + 1)),
            Action::Write => None,
        }
    }

    /// Every scope a connector may be granted, in their canonical order.
    pub fn vocabulary() -> impl Iterator<Item = Permission> {
        GRANTABLE.iter().flat_map(|&(r, _, writable)| {
            let read = std::iter::once(Permission(r, Action::Read));
            let write = writable.then_some(Permission(r, Action::Write));
            read.chain(write)
        })
    }

    /// Parses one scope, or explains which exist.
    pub fn parse_one(scope: &str) -> Result<Permission, String> {
        Self::vocabulary()
            .find(|p| p.to_string() == scope)
            .ok_or_else(|| {
                let known: Vec<String> = Self::vocabulary().map(|p| p.to_string()).collect();
                format!(
                    "unknown scope `{}`; scopes are: {}",
                    truncated(scope),
                    known.join(", ")
                )
            })
    }

    /// Parses scopes (deduplicated); the first unknown one is the error.
    pub fn parse<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut set = ScopeSet::EMPTY;
        for s in scopes {
            set.insert(Self::parse_one(s)?);
        }
        Ok(set)
    }

    /// Adds a scope (one outside the vocabulary is ignored).
    pub fn insert(&mut self, p: Permission) {
        if let Some(bit) = Self::bit(p.0, p.1) {
            self.0 |= bit;
        }
    }

    /// Whether the set allows `p`: its own scope, or the write scope of the
    /// same resource for a read.
    pub fn allows(self, p: Permission) -> bool {
        let own = Self::bit(p.0, p.1).is_some_and(|b| self.0 & b != 0);
        let by_write =
            p.1 == Action::Read && Self::bit(p.0, Action::Write).is_some_and(|b| self.0 & b != 0);
        own || by_write
    }

    /// Whether every scope of `other` is allowed by `self`.
    pub fn covers(self, other: ScopeSet) -> bool {
        other.iter().all(|p| self.allows(p))
    }

    /// The scopes in both sets (a write in one and a read in the other
    /// leaves the read).
    pub fn intersect(self, other: ScopeSet) -> ScopeSet {
        let mut out = ScopeSet::EMPTY;
        for p in Self::vocabulary() {
            if self.allows(p) && other.allows(p) {
                out.insert(p);
            }
        }
        out
    }

    /// Whether no scope is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes as granted (not expanded), in canonical order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Self::vocabulary().filter(move |p| Self::bit(p.0, p.1).is_some_and(|b| self.0 & b != 0))
    }

    /// The scopes as strings, in canonical order.
    pub fn to_strings(self) -> Vec<String> {
        self.iter().map(|p| p.to_string()).collect()
    }
}

impl fmt::Display for ScopeSet {
    /// Space-separated, as OAuth's `scope` parameter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_strings().join(" "))
    }
}

fn truncated(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::{Read, Write};
    use Resource::*;

    #[test]
    fn write_implies_read_and_nothing_else() {
        let s = ScopeSet::parse(["employees:write", "locations:read"]).expect("parse");
        assert!(s.allows(Permission(Employees, Read)));
        assert!(s.allows(Permission(Employees, Write)));
        assert!(s.allows(Permission(Locations, Read)));
        assert!(!s.allows(Permission(Locations, Write)));
        assert!(!s.allows(Permission(Credentials, Read)));
        assert!(!s.allows(Permission(Members, Read)));
        assert!(!s.allows(Permission(Audit, Read)));
        assert_eq!(s.to_string(), "locations:read employees:write");
    }

    #[test]
    fn administrative_and_unknown_scopes_do_not_parse() {
        for bad in [
            "members:read",
            "sso:write",
            "audit:read",
            "compliance:write",
            "alerts:write",
            "locations",
            "locations:delete",
            "",
        ] {
            let err = ScopeSet::parse([bad]).expect_err(bad);
            assert!(err.contains("scopes are: locations:read"), "{err}");
        }
        assert_eq!(ScopeSet::vocabulary().count(), 12);
    }

    #[test]
    fn intersection_and_cover() {
        let granted = ScopeSet::parse(["employees:write", "credentials:read"]).expect("parse");
        let asked = ScopeSet::parse(["employees:read", "credentials:read"]).expect("parse");
        assert!(granted.covers(asked));
        assert!(!asked.covers(granted));
        assert_eq!(granted.intersect(asked), asked);
        let wider = ScopeSet::parse(["credentials:write"]).expect("parse");
        assert!(!granted.covers(wider));
        assert_eq!(
            granted.intersect(wider).to_string(),
            "credentials:read",
            "a write meeting a read leaves the read"
        );
    }
}
