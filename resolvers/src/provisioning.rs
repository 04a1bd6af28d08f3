//! Admin GraphQL for SCIM provisioning tokens: an admin creates one for the
//! IdP, rotates it with an overlap while the IdP is updated, and revokes it
//! at once. The secret is shown exactly once, in the payload that made it.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Duration, Utc};
use prep_auth::scim::{Scim, ScimTokenInfo, ScimTokens};
use prep_auth::{Actor, Target};
use serde_json::json;

use crate::audit;
use crate::context::{request, RequestContext};
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::payload::{UserError, UserErrorCode};
use crate::sso::{SSO_READ, SSO_WRITE};

/// Longest lifetime of a SCIM token.
const MAX_DAYS: i32 = 730;
/// Longest overlap of a rotation: a week to update the IdP.
const MAX_OVERLAP_MINUTES: i32 = 7 * 24 * 60;

/// A SCIM token as admins see it: never its secret.
#[derive(SimpleObject, Clone)]
pub struct ScimToken {
    /// Global id.
    pub id: ID,
    /// The admin's label, e.g. "Okta production".
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the IdP last used it (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The token that replaced it, after a rotation.
    pub replaced_by_id: Option<ID>,
    /// Whether it works now.
    pub active: bool,
}

impl From<ScimTokenInfo> for ScimToken {
    fn from(t: ScimTokenInfo) -> Self {
        ScimToken {
            id: ids::encode(NodeType::ScimToken, t.id),
            active: t.revoked_at.is_none() && t.expires_at > Utc::now(),
            name: t.name,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            last_used_at: t.last_used_at,
            replaced_by_id: t.replaced_by.map(|r| ids::encode(NodeType::ScimToken, r)),
        }
    }
}

/// A new SCIM token.
#[derive(InputObject)]
pub struct CreateScimTokenInput {
    /// A label for it, e.g. the IdP's name.
    pub name: String,
    /// Days until it expires (1 to 730).
    #[graphql(default = 365)]
    pub expires_in_days: i32,
}

/// Rotation of a SCIM token.
#[derive(InputObject)]
pub struct RotateScimTokenInput {
    /// The token to replace.
    pub id: ID,
    /// Minutes the old token keeps working (0 to 10080).
    #[graphql(default = 60)]
    pub overlap_minutes: i32,
}

/// Revocation of a SCIM token.
#[derive(InputObject)]
pub struct RevokeScimTokenInput {
    /// The token.
    pub id: ID,
}

/// A token and, once, its secret.
#[derive(SimpleObject)]
pub struct ScimTokenPayload {
    /// The token, unless the input was refused.
    pub scim_token: Option<ScimToken>,
    /// The bearer token to paste into the IdP. Shown only here, only now.
    pub secret: Option<String>,
    /// The SCIM base URL to give the IdP.
    pub scim_url: String,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

/// SCIM token queries.
#[derive(Default)]
pub struct ProvisioningQuery;

#[Object]
impl ProvisioningQuery {
    /// The tenant's SCIM tokens, newest first. Needs `sso:read`.
    async fn scim_tokens(&self, ctx: &Context<'_>) -> Result<Vec<ScimToken>> {
        let rc = request(ctx)?;
        rc.authorize(SSO_READ, Target::Tenant).await?;
        let mut db = rc.read().await?;
        let tokens = ScimTokens::list(db.conn()).await.map_err(ApiError::from)?;
        Ok(tokens.into_iter().map(ScimToken::from).collect())
    }
}

/// SCIM token mutations.
#[derive(Default)]
pub struct ProvisioningMutation;

#[Object]
impl ProvisioningMutation {
    /// Creates a SCIM token for the tenant's IdP. Needs `sso:write`.
    async fn create_scim_token(
        &self,
        ctx: &Context<'_>,
        input: CreateScimTokenInput,
    ) -> Result<ScimTokenPayload> {
        let (rc, scim) = (request(ctx)?, service(ctx)?);
        rc.authorize(SSO_WRITE, Target::Tenant).await?;
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Ok(refused(scim, "name", "give a name of 1 to 100 characters"));
        }
        if !(1..=MAX_DAYS).contains(&input.expires_in_days) {
            return Ok(refused(scim, "expiresInDays", "must be between 1 and 730"));
        }
        let mut tx = rc.begin_write().await?;
        let lifetime = Duration::days(input.expires_in_days.into());
        let (info, secret) = scim
            .tokens()
            .issue(&mut tx, name, lifetime, actor_user(rc))
            .await
            .map_err(ApiError::from)?;
        let details = json!({ "name": info.name, "expiresAt": info.expires_at });
        audit::record(
            &mut tx,
            rc,
            "scim_token.create",
            (NodeType::ScimToken, info.id),
            details,
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(issued(scim, info, secret))
    }

    /// Replaces a SCIM token by a new one; the old one works for
    /// `overlapMinutes` more. Needs `sso:write`.
    async fn rotate_scim_token(
        &self,
        ctx: &Context<'_>,
        input: RotateScimTokenInput,
    ) -> Result<ScimTokenPayload> {
        let id = ids::decode(&input.id, NodeType::ScimToken)?;
        let (rc, scim) = (request(ctx)?, service(ctx)?);
        rc.authorize(SSO_WRITE, Target::Tenant).await?;
        if !(0..=MAX_OVERLAP_MINUTES).contains(&input.overlap_minutes) {
            return Ok(refused(
                scim,
                "overlapMinutes",
                "must be between 0 and 10080",
            ));
        }
        let mut tx = rc.begin_write().await?;
        let overlap = Duration::minutes(input.overlap_minutes.into());
        let Some((info, secret)) = scim
            .tokens()
            .rotate(&mut tx, id, overlap, actor_user(rc))
            .await
            .map_err(ApiError::from)?
        else {
            return Err(ApiError::NotFound("SCIM token").into());
        };
        let details = json!({ "replacedBy": info.id, "overlapMinutes": input.overlap_minutes });
        audit::record(
            &mut tx,
            rc,
            "scim_token.rotate",
            (NodeType::ScimToken, id),
            details,
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(issued(scim, info, secret))
    }

    /// Revokes a SCIM token at once. Needs `sso:write`.
    async fn revoke_scim_token(
        &self,
        ctx: &Context<'_>,
        input: RevokeScimTokenInput,
    ) -> Result<ScimTokenPayload> {
        let id = ids::decode(&input.id, NodeType::ScimToken)?;
        let (rc, scim) = (request(ctx)?, service(ctx)?);
        rc.authorize(SSO_WRITE, Target::Tenant).await?;
        let mut tx = rc.begin_write().await?;
        let revoked = ScimTokens::revoke(&mut tx, id)
            .await
            .map_err(ApiError::from)?;
        let info = ScimTokens::get(tx.conn(), id)
            .await
            .map_err(ApiError::from)?
            .ok_or(ApiError::NotFound("SCIM token"))?;
        if revoked {
            audit::record(
                &mut tx,
                rc,
                "scim_token.revoke",
                (NodeType::ScimToken, id),
                json!({}),
            )
            .await?;
        }
        tx.commit().await.map_err(ApiError::from)?;
        Ok(ScimTokenPayload {
            scim_token: Some(info.into()),
            secret: None,
            scim_url: scim.base().to_owned(),
            user_errors: Vec::new(),
        })
    }
}

fn service<'a>(ctx: &Context<'a>) -> ApiResult<&'a Arc<Scim>> {
    ctx.data::<Arc<Scim>>()
        .map_err(|_| ApiError::Internal("the SCIM service is not in the schema data".into()))
}

fn actor_user(rc: &RequestContext) -> Option<uuid::Uuid> {
    match rc.principal.actor {
        Actor::User(id) => Some(id),
        _ => None,
    }
}

fn issued(scim: &Scim, info: ScimTokenInfo, secret: String) -> ScimTokenPayload {
    ScimTokenPayload {
        scim_token: Some(info.into()),
        secret: Some(secret),
        scim_url: scim.base().to_owned(),
        user_errors: Vec::new(),
    }
}

fn refused(scim: &Scim, field: &str, message: &str) -> ScimTokenPayload {
    ScimTokenPayload {
        scim_token: None,
        secret: None,
        scim_url: scim.base().to_owned(),
        user_errors: vec![UserError::new(field, UserErrorCode::Invalid, message)],
    }
}
