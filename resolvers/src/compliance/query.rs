use async_graphql::{Context, Object, Result, SimpleObject};

use crate::context::request;
use crate::error::ApiError;

/// Counts of active locations per status.
#[derive(SimpleObject, Default, Clone)]
pub struct StatusCounts {
    /// Active locations counted.
    pub locations: i64,
    /// Compliant.
    pub compliant: i64,
    /// At risk.
    pub at_risk: i64,
    /// Non-compliant.
    pub non_compliant: i64,
}

/// Status counts for one state.
#[derive(SimpleObject, Clone)]
pub struct StateSummary {
    /// Two-letter state code.
    pub state: String,
    /// Counts for the state.
    pub counts: StatusCounts,
}

/// The tenant-wide compliance picture.
#[derive(SimpleObject)]
pub struct ComplianceSummary {
    /// Counts over all active locations.
    pub totals: StatusCounts,
    /// Counts per state, by state code.
    pub by_state: Vec<StateSummary>,
    /// Open alerts that are critical.
    pub critical_alerts: i64,
}

/// Compliance queries.
#[derive(Default)]
pub struct ComplianceQuery;

#[Object]
impl ComplianceQuery {
    /// Compliance across all of the tenant's active locations.
    async fn compliance_summary(&self, ctx: &Context<'_>) -> Result<ComplianceSummary> {
        let rc = request(ctx)?;
        let mut db = rc.read().await?;
        let rows = sqlx::query!(
            r#"
            select state_code as "state!",
                   count(*) as "locations!",
                   count(*) filter (where compliance_status = 'compliant') as "compliant!",
                   count(*) filter (where compliance_status = 'at_risk') as "at_risk!",
                   count(*) filter (where compliance_status = 'non_compliant') as "non_compliant!",
                   (select count(*) from alerts where resolved_at is null and severity = 'critical') as "critical!"
            from locations where status = 'active'
            group by state_code order by state_code
            "#
        )
        .fetch_all(db.conn())
        .await
        .map_err(ApiError::from)?;
        let mut totals = StatusCounts::default();
        let mut critical_alerts = 0;
        let by_state = rows
            .into_iter()
            .map(|r| {
                totals.locations += r.locations;
                totals.compliant += r.compliant;
                totals.at_risk += r.at_risk;
                totals.non_compliant += r.non_compliant;
                critical_alerts = r.critical;
                StateSummary {
                    state: r.state,
                    counts: StatusCounts {
                        locations: r.locations,
                        compliant: r.compliant,
                        at_risk: r.at_risk,
                        non_compliant: r.non_compliant,
                    },
                }
            })
            .collect();
        Ok(ComplianceSummary {
            totals,
            by_state,
            critical_alerts,
        })
    }
}
