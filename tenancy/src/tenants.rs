//! Creating and finding tenants: the operator's side of tenant identity.

use uuid::Uuid;

use crate::{Database, TenancyError, TenantId, TenantSlug};

/// A new tenant's attributes.
#[derive(Clone, Debug)]
pub struct NewTenant {
    /// Public name.
    pub slug: TenantSlug,
    /// Display name.
    pub name: String,
    /// `free`, `standard` or `enterprise`.
    pub plan: String,
    /// Sandbox tenants never share credentials or data with real ones.
    pub is_sandbox: bool,
}

/// Why a tenant could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateTenantError {
    /// Another tenant already uses the slug.
    #[error("a tenant with slug {0:?} already exists")]
    SlugTaken(String),
    /// The name or plan is invalid.
    #[error("{0}")]
    Invalid(&'static str),
    /// The database failed.
    #[error(transparent)]
    Tenancy(#[from] TenancyError),
}

impl Database {
    /// The id of the tenant with `slug`, through the allow-listed
    /// SECURITY DEFINER function `tenant_id_by_slug`.
    pub async fn tenant_by_slug(
        &self,
        slug: &TenantSlug,
    ) -> Result<Option<TenantId>, TenancyError> {
        let id: Option<Uuid> = sqlx::query_scalar("select tenant_id_by_slug($1)")
            .bind(slug.as_str())
            .fetch_one(self.pool())
            .await?;
        Ok(id.map(TenantId::from_uuid))
    }

    /// Creates a tenant. The runtime role may insert only the row of the
    /// transaction's own tenant, so the new id is set as the tenant first.
    pub async fn create_tenant(&self, new: &NewTenant) -> Result<TenantId, CreateTenantError> {
        if new.name.trim().is_empty() || new.name.chars().count() > 200 {
            return Err(CreateTenantError::Invalid(
                "a tenant name has 1 to 200 characters",
            ));
        }
        if !["free", "standard", "enterprise"].contains(&new.plan.as_str()) {
            return Err(CreateTenantError::Invalid(
                "the plan is one of free, standard, enterprise",
            ));
        }
        let tenant = TenantId::from_uuid(Uuid::new_v4());
        let mut tx = self.begin(tenant).await?;
        let inserted = sqlx::query(
            "insert into tenants (id, slug, name, plan, is_sandbox) values ($1, $2, $3, $4, $5)",
        )
        .bind(tenant.as_uuid())
        .bind(new.slug.as_str())
        .bind(new.name.trim())
        .bind(&new.plan)
        .bind(new.is_sandbox)
        .execute(tx.conn())
        .await;
        match inserted {
            Ok(_) => {}
            Err(e)
                if e.as_database_error().and_then(|d| d.constraint())
                    == Some("tenants_slug_key") =>
            {
                return Err(CreateTenantError::SlugTaken(new.slug.to_string()));
            }
            Err(e) => return Err(TenancyError::from(e).into()),
        }
        sqlx::query(
            "insert into audit_events (tenant_id, actor_type, action, target_type, target_id, details) \
             values ($1, 'operator', 'tenant.create', 'Tenant', $1, jsonb_build_object('slug', $2::text))",
        )
        .bind(tenant.as_uuid())
        .bind(new.slug.as_str())
        .execute(tx.conn())
        .await
        .map_err(TenancyError::from)?;
        tx.commit().await?;
        Ok(tenant)
    }
}

/// A tenant's plan and the operator's overrides of its limits.
#[derive(Clone, Debug, PartialEq)]
pub struct TenantPlan {
    /// `free`, `standard` or `enterprise`.
    pub plan: String,
    /// Overrides of the tier's limits (a JSON object).
    pub overrides: serde_json::Value,
    /// Whether it is a sandbox tenant.
    pub is_sandbox: bool,
}

impl Database {
    /// The tenant's plan and overrides, read in its own scope.
    pub async fn tenant_plan(&self, tenant: TenantId) -> Result<Option<TenantPlan>, TenancyError> {
        let mut tx = self.begin(tenant).await?;
        let row: Option<(String, serde_json::Value, bool)> =
            sqlx::query_as("select plan, limit_overrides, is_sandbox from tenants")
                .fetch_optional(tx.conn())
                .await?;
        tx.commit().await?;
        Ok(row.map(|(plan, overrides, is_sandbox)| TenantPlan {
            plan,
            overrides,
            is_sandbox,
        }))
    }

    /// Sets a tenant's plan and/or replaces its limit overrides (an
    /// operator's command; the caller validates them).
    pub async fn set_tenant_plan(
        &self,
        tenant: TenantId,
        plan: Option<&str>,
        overrides: Option<&serde_json::Value>,
    ) -> Result<(), TenancyError> {
        let mut tx = self.begin(tenant).await?;
        sqlx::query(
            "update tenants set plan = coalesce($1, plan), limit_overrides = coalesce($2, limit_overrides)",
        )
        .bind(plan)
        .bind(overrides)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }
}
