use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use prep_tenancy::TenantScope;
use uuid::Uuid;

use super::{Finding, Inspection, Permit};
use crate::error::ApiError;
use crate::loaders::group_by;

/// Permits per location, latest expiry first.
pub struct PermitsByLocation(pub(crate) TenantScope);

impl Loader<Uuid> for PermitsByLocation {
    type Value = Vec<Permit>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Permit>>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query_as!(
            Permit,
            r#"
            select id, location_id, kind, permit_number, issuing_authority, issued_on, expires_on
            from permits where location_id = any ($1)
            order by location_id, expires_on desc, id
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        Ok(group_by(rows, |p| p.location_id))
    }
}

/// Inspections per location, newest first.
pub struct InspectionsByLocation(pub(crate) TenantScope);

impl Loader<Uuid> for InspectionsByLocation {
    type Value = Vec<Inspection>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Inspection>>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query_as!(
            Inspection,
            r#"
            select id, location_id, inspected_on, kind, agency, score, result
            from inspections where location_id = any ($1)
            order by location_id, inspected_on desc, id desc
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        Ok(group_by(rows, |i| i.location_id))
    }
}

/// Findings per inspection, most severe first.
pub struct FindingsByInspection(pub(crate) TenantScope);

impl Loader<Uuid> for FindingsByInspection {
    type Value = Vec<Finding>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Finding>>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query_as!(
            Finding,
            r#"
            select id, inspection_id, code, description, severity, corrective_action, due_on, resolved_on
            from findings where inspection_id = any ($1)
            order by inspection_id,
                     case severity when 'critical' then 0 when 'major' then 1 else 2 end, code, id
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        Ok(group_by(rows, |f| f.inspection_id))
    }
}
