use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use prep_tenancy::TenantScope;
use uuid::Uuid;

use super::RoleGrant;
use crate::enums::{GrantSource, Role};
use crate::error::ApiError;

/// Each user's grants, direct and through groups: one statement for a page
/// of users.
pub struct GrantsByUser(pub(crate) TenantScope);

impl Loader<Uuid> for GrantsByUser {
    type Value = Vec<RoleGrant>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<RoleGrant>>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query!(
            r#"
            select g.user_id as "user_id!", g.id as "id!", g.role as "role!",
                   g.location_id as "location_id?", g.source as "source!",
                   null::text as "group_name?"
            from role_grants g
            where g.user_id = any ($1)
            union all
            select m.user_id, g.id, g.role, g.location_id, g.source, gr.display_name
            from group_members m
            join role_grants g on g.tenant_id = m.tenant_id and g.group_id = m.group_id
            join groups gr on gr.tenant_id = g.tenant_id and gr.id = g.group_id
            where m.user_id = any ($1)
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        let mut out: HashMap<Uuid, Vec<RoleGrant>> = HashMap::new();
        for row in rows {
            let grant = RoleGrant {
                id: Some(row.id),
                role: Role::from_db(&row.role).map_err(Arc::new)?,
                location_id: row.location_id,
                source: Some(GrantSource::from_db(&row.source).map_err(Arc::new)?),
                group_name: row.group_name,
            };
            out.entry(row.user_id).or_default().push(grant);
        }
        // most powerful first; tenant-wide before location-bound
        for grants in out.values_mut() {
            grants.sort_by(|a, b| {
                (a.role, a.location_id, &a.group_name, a.id).cmp(&(
                    b.role,
                    b.location_id,
                    &b.group_name,
                    b.id,
                ))
            });
        }
        Ok(out)
    }
}
