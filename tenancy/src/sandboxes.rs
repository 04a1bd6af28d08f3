//! The end of sandboxes: finding the ones nobody can reach any more and
//! deleting them, through two allow-listed SECURITY DEFINER functions
//! (migration `0012_sandbox_end.sql`).

use std::time::Duration;

use uuid::Uuid;

use crate::{Database, TenancyError, TenantId};

impl Database {
    /// Up to `max` sandboxes that have ended, oldest first: no key to them
    /// is live, and the last token a key could have minted (`grace`, the
    /// sandbox token lifetime) has lapsed. Ids only.
    pub async fn sandboxes_ended(
        &self,
        grace: Duration,
        max: i32,
    ) -> Result<Vec<TenantId>, TenancyError> {
        let ids: Vec<Uuid> =
            sqlx::query_scalar("select sandboxes_ended(make_interval(secs => $1), $2)")
                .bind(grace.as_secs_f64())
                .bind(max)
                .fetch_all(self.pool())
                .await?;
        Ok(ids.into_iter().map(TenantId::from_uuid).collect())
    }

    /// Deletes an ended sandbox, every row of it and then the tenant, in
    /// one transaction. The function checks again that `tenant` is a
    /// sandbox that has ended (so this can never end a live tenant) and is
    /// bound by row-level security to that one tenant. Whether it deleted.
    pub async fn purge_sandbox(
        &self,
        tenant: TenantId,
        grace: Duration,
    ) -> Result<bool, TenancyError> {
        let purged: bool =
            sqlx::query_scalar("select sandbox_purge($1, make_interval(secs => $2))")
                .bind(tenant.as_uuid())
                .bind(grace.as_secs_f64())
                .fetch_one(self.pool())
                .await?;
        Ok(purged)
    }
}
