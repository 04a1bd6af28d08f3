use std::fmt::Write as _;
use std::sync::Arc;

use uuid::Uuid;

/// How much of a tenant a transaction sees. Row-level security enforces it:
/// the restrictive `location_scope` policies read `app.location_ids`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Every row of the tenant.
    Tenant,
    /// Only rows of these locations (none at all when empty).
    Locations(Arc<[Uuid]>),
}

impl Reach {
    /// The `app.location_ids` value: '' for the whole tenant, else a
    /// PostgreSQL uuid[] literal.
    pub(crate) fn setting(&self) -> String {
        match self {
            Reach::Tenant => String::new(),
            Reach::Locations(ids) => {
                let mut out = String::with_capacity(2 + ids.len() * 37);
                out.push('{');
                for (i, id) in ids.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{id}");
                }
                out.push('}');
                out
            }
        }
    }

    /// Whether `location` is inside this reach.
    pub fn covers(&self, location: Uuid) -> bool {
        match self {
            Reach::Tenant => true,
            Reach::Locations(ids) => ids.contains(&location),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_empty_or_array_literals() {
        assert_eq!(Reach::Tenant.setting(), "");
        assert_eq!(Reach::Locations(Arc::from(vec![])).setting(), "{}");
        let a = Uuid::nil();
        let reach = Reach::Locations(Arc::from(vec![a, a]));
        assert_eq!(
            reach.setting(),
            "{00000000-0000-0000-0000-000000000000,00000000-0000-0000-0000-000000000000}"
        );
        assert!(reach.covers(a) && !reach.covers(Uuid::from_u128(1)));
    }
}
