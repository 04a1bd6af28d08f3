use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use prep_tenancy::TenantScope;
use uuid::Uuid;

use super::{Jurisdiction, Requirement, RequirementStatus};
use crate::error::ApiError;
use crate::loaders::group_by;

/// The jurisdiction chain starting at each key, most specific first.
pub struct JurisdictionChains(pub(crate) TenantScope);

impl Loader<Uuid> for JurisdictionChains {
    type Value = Vec<Jurisdiction>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Jurisdiction>>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query!(
            r#"
            with recursive chain (start, id, depth) as (
              select k, k, 0 from unnest($1::uuid[]) as k
              union all
              select c.start, j.parent_id, c.depth + 1
              from chain c join jurisdictions j on j.id = c.id
              where j.parent_id is not null
            )
            select c.start as "start!", j.id, j.code, j.level, j.name, j.parent_id, j.state_code
            from chain c join jurisdictions j on j.id = c.id
            order by c.start, c.depth
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        let pairs = rows.into_iter().map(|r| {
            (
                r.start,
                Jurisdiction {
                    id: r.id,
                    code: r.code,
                    level: r.level,
                    name: r.name,
                    parent_id: r.parent_id,
                    state_code: r.state_code,
                },
            )
        });
        let mut out: HashMap<Uuid, Vec<Jurisdiction>> = HashMap::new();
        for (start, j) in pairs {
            out.entry(start).or_default().push(j);
        }
        Ok(out)
    }
}

/// Requirements by id.
pub struct RequirementLoader(pub(crate) TenantScope);

impl Loader<Uuid> for RequirementLoader {
    type Value = Requirement;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Requirement>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query_as!(
            Requirement,
            r#"
            select id, jurisdiction_id, code, kind, title, summary, citation, effective_from, effective_to
            from requirements where id = any ($1)
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// Per-requirement statuses of each location, worst first.
pub struct RequirementStatusesByLocation(pub(crate) TenantScope);

impl Loader<Uuid> for RequirementStatusesByLocation {
    type Value = Vec<RequirementStatus>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<RequirementStatus>>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query_as!(
            RequirementStatus,
            r#"
            select s.location_id, s.requirement_id, s.status, s.reason, s.evaluated_at
            from location_requirement_statuses s
            join requirements r on r.id = s.requirement_id
            where s.location_id = any ($1)
            order by s.location_id,
                     case s.status when 'non_compliant' then 0 when 'at_risk' then 1 else 2 end,
                     r.code
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        Ok(group_by(rows, |s| s.location_id))
    }
}
