use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use prep_tenancy::TenantScope;
use uuid::Uuid;

use super::Location;
use crate::error::ApiError;

/// Locations by id, batched: every `location` field of a response page
/// costs one statement together.
pub struct LocationLoader(pub(crate) TenantScope);

impl Loader<Uuid> for LocationLoader {
    type Value = Location;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Location>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query_as!(
            Location,
            r#"
            select id, store_number, name, address_line1, city, state_code, postal_code,
                   jurisdiction_id, status, external_id, compliance_status, compliance_reason,
                   compliance_evaluated_at, created_at, updated_at
            from locations where id = any ($1)
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        Ok(rows.into_iter().map(|l| (l.id, l)).collect())
    }
}
