//! What a request carries into the resolvers: who asks, for which tenant,
//! under which request id, and the request's tenant-scoped database handle.

use async_graphql::Context;
use prep_auth::Principal;
use prep_tenancy::TenantScope;

use crate::error::{ApiError, ApiResult};
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
}

/// The request context, or `UNAUTHENTICATED` when the edge attached none.
pub fn request<'a>(ctx: &Context<'a>) -> ApiResult<&'a RequestContext> {
    ctx.data::<RequestContext>()
        .map_err(|_| ApiError::Unauthenticated)
}
