//! Deactivating and reactivating users. Deactivation ends the user's
//! sessions and revokes their tokens in the same transaction (a database
//! trigger does it, so SCIM and operators get the same guarantee).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use prep_auth::{Actor, Target};
use serde_json::json;
use uuid::Uuid;

use super::mutation::MEMBERS_WRITE;
use crate::audit;
use crate::context::request;
use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::payload::{UserError, UserErrorCode};
use crate::tenant::User;

/// Whom to switch on or off.
#[derive(InputObject)]
pub struct SetUserActiveInput {
    /// The user.
    pub user_id: ID,
    /// `false` deactivates: sessions end and tokens stop working at once.
    pub active: bool,
}

/// Result of switching a user on or off.
#[derive(SimpleObject)]
pub struct SetUserActivePayload {
    /// The user as now.
    pub user: Option<User>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

/// User lifecycle mutations (owners and admins).
#[derive(Default)]
pub struct MemberLifecycleMutation;

#[Object]
impl MemberLifecycleMutation {
    /// Deactivates or reactivates a user. Needs `members:write`. Nobody
    /// can deactivate themselves (ask another admin).
    async fn set_user_active(
        &self,
        ctx: &Context<'_>,
        input: SetUserActiveInput,
    ) -> Result<SetUserActivePayload> {
        let user_id = ids::decode(&input.user_id, NodeType::User)?;
        let rc = request(ctx)?;
        rc.authorize(MEMBERS_WRITE, Target::Tenant).await?;
        if !input.active && rc.principal.actor == Actor::User(user_id) {
            return Ok(SetUserActivePayload {
                user: None,
                user_errors: vec![UserError::new(
                    "userId",
                    UserErrorCode::Conflict,
                    "you cannot deactivate yourself",
                )],
            });
        }
        let mut tx = rc.begin_write().await?;
        let row: Option<(Uuid, String, String, bool)> = sqlx::query_as(
            "update users set active = $2 where id = $1
             returning id, email, display_name, active",
        )
        .bind(user_id)
        .bind(input.active)
        .fetch_optional(tx.conn())
        .await
        .map_err(ApiError::from)?;
        let (id, email, display_name, active) = row.ok_or(ApiError::NotFound("user"))?;
        let action = if input.active {
            "user.reactivate"
        } else {
            "user.deactivate"
        };
        audit::record(&mut tx, rc, action, (NodeType::User, id), json!({})).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(SetUserActivePayload {
            user: Some(User {
                id,
                email,
                display_name,
                active,
            }),
            user_errors: Vec::new(),
        })
    }
}
