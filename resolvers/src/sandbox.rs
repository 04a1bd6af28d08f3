//! `resetSandbox`: a developer puts their sandbox back to its seed. The
//! seeding itself belongs to the `sandbox` crate, which stands above this
//! one; the gateway hands it in as a [`Reseed`] in the schema data.

use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject};
use prep_auth::{Action, Permission, Resource, Target};
use prep_tenancy::TenantId;
use serde_json::json;

use crate::audit;
use crate::context::request;
use crate::error::ApiError;
use crate::ids::NodeType;
use crate::payload::UserError;

/// Puts a sandbox tenant's data back to its seed.
#[async_graphql::async_trait::async_trait]
pub trait Reseed: Send + Sync {
    /// Deletes the tenant's domain data and seeds it again, in one
    /// transaction of that tenant.
    async fn reseed(&self, tenant: TenantId) -> Result<(), String>;
}

/// Result of a reset.
#[derive(SimpleObject)]
pub struct ResetSandboxPayload {
    /// Whether the data is back to its seed.
    pub ok: bool,
    /// What was wrong.
    pub user_errors: Vec<UserError>,
}

/// Sandbox mutations.
#[derive(Default)]
pub struct SandboxMutation;

#[Object]
impl SandboxMutation {
    /// Puts this sandbox's locations, employees, credentials, permits and
    /// inspections back to the seed it started with (the same ids); users,
    /// connectors and the audit trail stay. Sandbox tenants only; needs an
    /// owner or admin.
    async fn reset_sandbox(&self, ctx: &Context<'_>) -> Result<ResetSandboxPayload> {
        let rc = request(ctx)?;
        rc.authorize(Permission(Resource::Members, Action::Write), Target::Tenant)
            .await?;
        let sandbox: bool = {
            let mut db = rc.read().await?;
            sqlx::query_scalar("select is_sandbox from tenants")
                .fetch_one(db.conn())
                .await
                .map_err(ApiError::from)?
        };
        if !sandbox {
            return Err(ApiError::Forbidden("only a sandbox tenant can be reset".into()).into());
        }
        let reseed = ctx
            .data::<Arc<dyn Reseed>>()
            .map_err(|_| ApiError::Internal("no reseeder in the schema data".into()))?;
        reseed
            .reseed(rc.scope.tenant())
            .await
            .map_err(ApiError::Internal)?;
        let mut tx = rc.begin_write().await?;
        let tenant = tx.tenant().as_uuid();
        audit::record(
            &mut tx,
            rc,
            "sandbox.reset",
            (NodeType::Tenant, tenant),
            json!({}),
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(ResetSandboxPayload {
            ok: true,
            user_errors: Vec::new(),
        })
    }
}
