use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The identity of a tenant: the value every row-level security policy
/// compares `tenant_id` with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(Uuid);

impl TenantId {
    /// Wraps a UUID known to name a tenant (from a verified token or the
    /// operator CLI).
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The underlying UUID.
    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A tenant's public, URL-safe name (`acme-foods`): lower-case letters,
/// digits and inner hyphens, 1 to 48 characters. The same rule is a check
/// constraint on `tenants.slug`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TenantSlug(String);

impl TenantSlug {
    /// Parses user input into a slug, saying what is wrong when it is not one.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if raw.is_empty() || raw.len() > 48 {
            return Err("a tenant slug has 1 to 48 characters".into());
        }
        if !raw.chars().all(ok_char) {
            return Err("a tenant slug holds only lower-case letters, digits and hyphens".into());
        }
        if raw.starts_with('-') || raw.ends_with('-') {
            return Err("a tenant slug neither starts nor ends with a hyphen".into());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::TenantSlug;

    #[test]
    fn slugs_are_validated() {
        assert!(TenantSlug::parse("acme-foods").is_ok());
        assert!(TenantSlug::parse("a").is_ok());
        for bad in [
            "",
            "-acme",
            "acme-",
            "Acme",
            "acme foods",
            "acme_foods",
            &"a".repeat(49),
        ] {
            assert!(
                TenantSlug::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }
}
