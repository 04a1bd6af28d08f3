//! What a request carries into the resolvers: who asks, for which tenant,
//! under which request id, and the request's tenant-scoped database handle.
//!
//! It also answers the one authorization question, "may the caller do this
//! here?": resolvers call [`RequestContext::authorize`] (or its variants)
//! with a permission and a target, and never look at roles themselves.

use async_graphql::Context;
use prep_auth::{Access, Action, Permission, Principal, Resource, Role, Target};
use prep_tenancy::{ReadGuard, TenantScope, TenantTx};
use serde_json::json;

use crate::audit;
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::loaders::Loaders;

/// Per-request data, attached once at the edge with `Request::data`.
pub struct RequestContext {
    /// The authenticated caller.
    pub principal: Principal,
    /// The request id echoed in `x-request-id` and written to audit events.
    pub request_id: String,
    /// The only road to tenant data.
    pub scope: TenantScope,
    /// This request's batching loaders.
    pub loaders: Loaders,
}

impl RequestContext {
    /// Builds the context for one request.
    pub fn new(principal: Principal, request_id: String, scope: TenantScope) -> Self {
        let loaders = Loaders::new(&scope);
        Self {
            principal,
            request_id,
            scope,
            loaders,
        }
    }

    /// The request's shared read transaction, for one statement. Its
    /// failures are `ApiError`s, so no database detail can reach a client
    /// through `?` (a `TenancyError` would be shown by its text).
    pub async fn read(&self) -> ApiResult<ReadGuard<'_>> {
        Ok(self.scope.read().await?)
    }

    /// A write transaction for one mutation, its failures as `ApiError`s.
    pub async fn begin_write(&self) -> ApiResult<TenantTx> {
        Ok(self.scope.begin_write().await?)
    }

    /// May the caller do `p` on `t`? For shaping an answer; to enforce, use
    /// [`RequestContext::authorize`], which also audits denied writes.
    pub fn can(&self, p: Permission, t: Target) -> bool {
        self.principal.access.allows(p, t)
    }

    /// `Ok` when the caller may do `p` on `t`; otherwise `FORBIDDEN`. A
    /// denied write is recorded as an `access.denied` audit event in a
    /// transaction of its own (a failure to record it is logged and never
    /// hides the denial).
    ///
    /// Inside a mutation's open transaction, use
    /// [`RequestContext::authorize_in`] instead, so that transaction is
    /// rolled back before the denial is recorded.
    pub async fn authorize(&self, p: Permission, t: Target) -> ApiResult<()> {
        if self.can(p, t) {
            return Ok(());
        }
        Err(self.deny(p, t).await)
    }

    /// `Ok` when the caller may do `p` somewhere (the tenant or one of its
    /// locations), as a batch write asks before checking each record's
    /// location; otherwise `FORBIDDEN`, audited.
    pub async fn authorize_somewhere(&self, p: Permission) -> ApiResult<()> {
        if self.principal.access.allows_somewhere(p) {
            return Ok(());
        }
        Err(self.deny(p, Target::Tenant).await)
    }

    /// [`RequestContext::authorize`] for a mutation that has already loaded
    /// its object in `tx`: gives the transaction back when allowed; when
    /// denied, rolls it back first (nothing of the mutation is written, and
    /// the request never holds two connections), then records the denial.
    pub async fn authorize_in(
        &self,
        tx: TenantTx,
        p: Permission,
        t: Target,
    ) -> ApiResult<TenantTx> {
        if self.can(p, t) {
            return Ok(tx);
        }
        drop(tx);
        Err(self.deny(p, t).await)
    }

    /// Whether the caller holds the tenant's ownership: a tenant-wide owner
    /// grant, or the gateway's own full access.
    fn owns_tenant(&self) -> bool {
        match &self.principal.access {
            Access::Full => true,
            Access::Grants(grants) => grants
                .iter()
                .any(|g| g.role == Role::Owner && g.location.is_none()),
            Access::Scopes(_) => false,
        }
    }

    /// Only an owner may grant or revoke the owner role: `Ok` for an owner,
    /// otherwise `FORBIDDEN`, audited like any denied write.
    pub async fn authorize_ownership(&self) -> ApiResult<()> {
        if self.owns_tenant() {
            return Ok(());
        }
        Err(self.deny_ownership().await)
    }

    /// [`RequestContext::authorize_ownership`] inside a mutation's open
    /// transaction, which is rolled back before a denial is recorded.
    pub async fn authorize_ownership_in(&self, tx: TenantTx) -> ApiResult<TenantTx> {
        if self.owns_tenant() {
            return Ok(tx);
        }
        drop(tx);
        Err(self.deny_ownership().await)
    }

    async fn deny_ownership(&self) -> ApiError {
        let p = Permission(Resource::Members, Action::Write);
        self.record_denial(p, Target::Tenant, Some(Role::Owner))
            .await;
        ApiError::Forbidden("only an owner may grant or revoke the owner role".to_owned())
    }

    /// Records a denied write and returns the error to answer with.
    async fn deny(&self, p: Permission, t: Target) -> ApiError {
        self.record_denial(p, t, None).await;
        ApiError::Forbidden(format!("missing permission {p}"))
    }

    /// Writes the `access.denied` event of a denied write (reads are not
    /// audited) in a transaction of its own; a failure is logged only.
    async fn record_denial(&self, p: Permission, t: Target, requires: Option<Role>) {
        if !p.is_write() {
            return;
        }
        if let Err(err) = self.write_denial(p, t, requires).await {
            tracing::warn!(error = ?err, permission = %p, "could not record an access denial");
        }
    }

    async fn write_denial(
        &self,
        p: Permission,
        t: Target,
        requires: Option<Role>,
    ) -> ApiResult<()> {
        let (target, described) = match t {
            Target::Tenant => {
                let id = self.scope.tenant().as_uuid();
                (
                    (NodeType::Tenant, id),
                    json!({ "type": "Tenant", "id": ids::encode(NodeType::Tenant, id) }),
                )
            }
            Target::Location(id) => (
                (NodeType::Location, id),
                json!({ "type": "Location", "id": ids::encode(NodeType::Location, id) }),
            ),
        };
        let mut details = json!({ "permission": p.to_string(), "target": described });
        if let Some(role) = requires {
            details["requiresRole"] = json!(role.as_str());
        }
        let mut tx = self.begin_write().await?;
        audit::record(&mut tx, self, "access.denied", target, details).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(())
    }
}

/// The request context, or `UNAUTHENTICATED` when the edge attached none.
pub fn request<'a>(ctx: &Context<'a>) -> ApiResult<&'a RequestContext> {
    ctx.data::<RequestContext>()
        .map_err(|_| ApiError::Unauthenticated)
}
