//! What a tenant may spend: limits per plan tier, with per-tenant overrides
//! an operator sets (`tenants.limit_overrides`).

use serde::{Deserialize, Serialize};

/// The limits of one plan tier (or one tenant, after its overrides).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TierLimits {
    /// Sustained requests per second for the whole tenant.
    pub requests_per_second: u32,
    /// Requests the tenant may send at once above the sustained rate.
    pub burst: u32,
    /// Sustained requests per second for one credential (a user, a
    /// connector, a SCIM token), so one runaway client cannot spend the
    /// whole tenant's rate.
    pub credential_requests_per_second: u32,
    /// Burst of one credential.
    pub credential_burst: u32,
    /// Size of the query cost bucket, in points.
    pub cost_maximum: u32,
    /// Points the bucket regains per second.
    pub cost_restore_rate: u32,
    /// The costliest single operation accepted.
    pub max_query_cost: u32,
    /// Operations of the tenant running at once on one replica.
    pub max_concurrent_operations: u32,
    /// Share of one replica's database pool the tenant may hold (0–1].
    pub database_share: f64,
}

impl TierLimits {
    /// Every problem with these limits, each prefixed by `at`.
    pub fn problems(&self, at: &str) -> Vec<String> {
        let mut p = Vec::new();
        let mut need = |ok: bool, what: String| {
            if !ok {
                p.push(format!("{at}.{what}"));
            }
        };
        need(
            (1..=100_000).contains(&self.requests_per_second),
            format!(
                "requests_per_second: must be between 1 and 100000, got {}",
                self.requests_per_second
            ),
        );
        need(
            self.burst >= 1 && self.burst <= 1_000_000,
            format!("burst: must be between 1 and 1000000, got {}", self.burst),
        );
        need(
            (1..=self.requests_per_second.max(1)).contains(&self.credential_requests_per_second),
            format!(
                "credential_requests_per_second: must be between 1 and requests_per_second ({}), got {}",
                self.requests_per_second, self.credential_requests_per_second
            ),
        );
        need(
            (1..=self.burst.max(1)).contains(&self.credential_burst),
            format!(
                "credential_burst: must be between 1 and burst ({}), got {}",
                self.burst, self.credential_burst
            ),
        );
        need(
            (1..=10_000_000).contains(&self.cost_maximum),
            format!(
                "cost_maximum: must be between 1 and 10000000, got {}",
                self.cost_maximum
            ),
        );
        need(
            (1..=self.cost_maximum.max(1)).contains(&self.cost_restore_rate),
            format!(
                "cost_restore_rate: must be between 1 and cost_maximum ({}), got {}",
                self.cost_maximum, self.cost_restore_rate
            ),
        );
        need(
            (1..=self.cost_maximum.max(1)).contains(&self.max_query_cost),
            format!(
                "max_query_cost: must be between 1 and cost_maximum ({}), got {}",
                self.cost_maximum, self.max_query_cost
            ),
        );
        need(
            (1..=10_000).contains(&self.max_concurrent_operations),
            format!(
                "max_concurrent_operations: must be between 1 and 10000, got {}",
                self.max_concurrent_operations
            ),
        );
        need(
            self.database_share > 0.0 && self.database_share <= 1.0,
            format!(
                "database_share: must be above 0 and at most 1, got {}",
                self.database_share
            ),
        );
        p
    }

    /// These limits with an operator's overrides applied; an override that
    /// makes the whole invalid is refused with the reason.
    pub fn with_overrides(self, overrides: &serde_json::Value) -> Result<Self, String> {
        let mut merged = serde_json::to_value(self).map_err(|e| e.to_string())?;
        let (Some(m), Some(o)) = (merged.as_object_mut(), overrides.as_object()) else {
            return Err("overrides must be a JSON object".into());
        };
        for (k, v) in o {
            m.insert(k.clone(), v.clone());
        }
        let limits: TierLimits = serde_json::from_value(merged).map_err(|e| e.to_string())?;
        match limits.problems("overrides").first() {
            Some(problem) => Err(problem.clone()),
            None => Ok(limits),
        }
    }
}

/// The limits of every plan tier.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tiers {
    /// Sandbox and trial tenants.
    pub free: TierLimits,
    /// The default plan.
    pub standard: TierLimits,
    /// Large chains and partners.
    pub enterprise: TierLimits,
}

impl Default for Tiers {
    /// Shopify-like budgets: the standard plan gets 1,000 points restored at
    /// 50 a second; enterprise twice that; free a quarter.
    fn default() -> Self {
        Tiers {
            free: TierLimits {
                requests_per_second: 5,
                burst: 20,
                credential_requests_per_second: 5,
                credential_burst: 20,
                cost_maximum: 500,
                cost_restore_rate: 25,
                max_query_cost: 500,
                max_concurrent_operations: 4,
                database_share: 0.25,
            },
            standard: TierLimits {
                requests_per_second: 50,
                burst: 100,
                credential_requests_per_second: 25,
                credential_burst: 50,
                cost_maximum: 1_000,
                cost_restore_rate: 50,
                max_query_cost: 1_000,
                max_concurrent_operations: 16,
                database_share: 0.5,
            },
            enterprise: TierLimits {
                requests_per_second: 200,
                burst: 400,
                credential_requests_per_second: 100,
                credential_burst: 200,
                cost_maximum: 2_000,
                cost_restore_rate: 100,
                max_query_cost: 2_000,
                max_concurrent_operations: 64,
                database_share: 0.75,
            },
        }
    }
}

impl Tiers {
    /// The tier of a plan name (`free`, `standard`, `enterprise`).
    pub fn of_plan(&self, plan: &str) -> TierLimits {
        match plan {
            "free" => self.free,
            "enterprise" => self.enterprise,
            _ => self.standard,
        }
    }

    /// Every problem, with its configuration key.
    pub fn problems(&self, at: &str) -> Vec<String> {
        let mut p = self.free.problems(&format!("{at}.free"));
        p.extend(self.standard.problems(&format!("{at}.standard")));
        p.extend(self.enterprise.problems(&format!("{at}.enterprise")));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_and_bad_values_are_named() {
        assert!(Tiers::default().problems("limits.tiers").is_empty());
        let mut t = Tiers::default();
        t.standard.credential_requests_per_second = 80;
        t.free.database_share = 0.0;
        let p = t.problems("limits.tiers");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].starts_with("limits.tiers.free.database_share"));
        assert!(p[1].starts_with("limits.tiers.standard.credential_requests_per_second"));
    }

    #[test]
    fn overrides_apply_and_bad_ones_are_refused() {
        let base = Tiers::default().standard;
        let o = base
            .with_overrides(&serde_json::json!({ "requests_per_second": 500, "burst": 1000 }))
            .expect("valid");
        assert_eq!((o.requests_per_second, o.burst), (500, 1000));
        assert!(base
            .with_overrides(&serde_json::json!({ "requests_per_second": 0 }))
            .is_err());
        assert!(base
            .with_overrides(&serde_json::json!({ "rps": 5 }))
            .is_err());
        assert!(base.with_overrides(&serde_json::json!([1])).is_err());
    }
}
