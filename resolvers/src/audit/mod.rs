//! The audit trail: every mutation writes one event in its own transaction,
//! and the tenant can read its trail. Rows are append-only by grants.

use async_graphql::{Context, Json, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use prep_auth::{Action, Permission, Resource, Target};
use prep_tenancy::TenantTx;
use uuid::Uuid;

use crate::context::{request, RequestContext};
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::pagination::{build_page, wants_total, Page, PageArgs};

mod queue;

pub use queue::{AuditLog, QueuedEvent};

/// Records that the request's actor did `action` to a target.
pub async fn record(
    tx: &mut TenantTx,
    rc: &RequestContext,
    action: &str,
    target: (NodeType, Uuid),
    details: serde_json::Value,
) -> ApiResult<()> {
    let actor = rc.principal.actor;
    sqlx::query!(
        r#"
        insert into audit_events (tenant_id, actor_type, actor_id, action, target_type, target_id, request_id, details)
        values ($1, $2, $3, $4, $5, $6, $7, $8)
        "#,
        tx.tenant().as_uuid(),
        actor.kind(),
        actor.id(),
        action,
        target.0.name(),
        target.1,
        rc.request_id,
        details,
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Who did what, when, from which request.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct AuditEvent {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// `user`, `connector` (an ERP or HRIS client; `actorId` is the
    /// connector), `system`, `operator` or `scim` (an IdP provisioning with
    /// a SCIM token; `actorId` is the token).
    pub actor_type: String,
    #[graphql(skip)]
    pub(crate) actor_id: Option<Uuid>,
    /// What was done, e.g. `location.create`.
    pub action: String,
    /// Type of the object acted on.
    pub target_type: String,
    #[graphql(skip)]
    pub(crate) target_id: Option<Uuid>,
    /// The request it happened in.
    pub request_id: Option<String>,
    #[graphql(skip)]
    pub(crate) details: serde_json::Value,
}

#[async_graphql::ComplexObject]
impl AuditEvent {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::AuditEvent, self.id)
    }

    /// The actor's global id, when it has one.
    async fn actor_id(&self) -> Option<ID> {
        let ty = match self.actor_type.as_str() {
            "scim" => NodeType::ScimToken,
            "connector" => NodeType::Connector,
            _ => NodeType::User,
        };
        self.actor_id.map(|id| ids::encode(ty, id))
    }

    /// The target's global id.
    async fn target_id(&self) -> Option<ID> {
        let ty = [
            NodeType::Location,
            NodeType::Employee,
            NodeType::Credential,
            NodeType::Permit,
            NodeType::Inspection,
            NodeType::Finding,
            NodeType::Tenant,
            NodeType::User,
            NodeType::RoleGrant,
            NodeType::Group,
            NodeType::SsoConnection,
            NodeType::ScimToken,
            NodeType::Connector,
            NodeType::ConnectorKey,
        ]
        .into_iter()
        .find(|t| t.name() == self.target_type)?;
        self.target_id.map(|id| ids::encode(ty, id))
    }

    /// What changed, as recorded.
    async fn details(&self) -> Json<serde_json::Value> {
        Json(self.details.clone())
    }
}

/// Audit queries.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The tenant's audit trail, newest first. Needs `audit:read`.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<AuditEvent>> {
        let rc = request(ctx)?;
        rc.authorize(Permission(Resource::Audit, Action::Read), Target::Tenant)
            .await?;
        let args = PageArgs::<(DateTime<Utc>, Uuid)>::parse(first, after)?;
        let (after_at, after_id) = args.after.unzip();
        let mut db = rc.read().await?;
        let rows = sqlx::query_as!(
            AuditEvent,
            r#"
            select id, occurred_at, actor_type, actor_id, action, target_type, target_id, request_id, details
            from audit_events
            where ($1::timestamptz is null or (occurred_at, id) < ($1, $2::uuid))
            order by occurred_at desc, id desc
            limit $3
            "#,
            after_at,
            after_id,
            args.limit(),
        )
        .fetch_all(db.conn())
        .await
        .map_err(ApiError::from)?;
        let total = if wants_total(ctx) {
            sqlx::query_scalar!(r#"select count(*) as "n!" from audit_events"#)
                .fetch_one(db.conn())
                .await
                .map_err(ApiError::from)?
        } else {
            0
        };
        Ok(build_page(rows, &args, total, |e| (e.occurred_at, e.id)))
    }
}
