use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use prep_auth::{Action, Permission, Resource, Target};
use serde_json::json;
use uuid::Uuid;

use super::RoleGrant;
use crate::context::request;
use crate::enums::{GrantSource, Role};
use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::payload::{UserError, UserErrorCode};
use crate::{audit, locations};

/// A role to grant to a user or to a group (exactly one of them).
#[derive(InputObject)]
pub struct GrantRoleInput {
    /// The user; omit when granting to a group.
    pub user_id: Option<ID>,
    /// The group, whose members all hold the role; omit when granting to a
    /// user.
    pub group_id: Option<ID>,
    /// The role.
    pub role: Role,
    /// The location the role is bound to; omit for a tenant-wide role.
    pub location_id: Option<ID>,
    /// Grant `locationManager` or `staff` at each grantee's own assigned
    /// locations (SCIM's store numbers) instead of one location or all.
    #[graphql(default)]
    pub at_assigned_locations: bool,
}

/// A grant to revoke.
#[derive(InputObject)]
pub struct RevokeRoleInput {
    /// The grant, as listed in a member's `roles`.
    pub grant_id: ID,
}

/// Result of granting a role.
#[derive(SimpleObject)]
pub struct GrantRolePayload {
    /// The grant (the existing one when the grantee held it already).
    pub grant: Option<RoleGrant>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

impl GrantRolePayload {
    fn refused(field: &str, code: UserErrorCode, message: &str) -> Self {
        Self {
            grant: None,
            user_errors: vec![UserError::new(field, code, message)],
        }
    }
}

/// Result of revoking a role.
#[derive(SimpleObject)]
pub struct RevokeRolePayload {
    /// The id of the revoked grant.
    pub revoked_grant_id: Option<ID>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

pub(super) const MEMBERS_WRITE: Permission = Permission(Resource::Members, Action::Write);

/// Role mutations (owners and admins).
#[derive(Default)]
pub struct MembersMutation;

#[Object]
impl MembersMutation {
    /// Grants a role to a user or to a group, tenant-wide or for one
    /// location. Needs `members:write`; only an owner may grant the owner
    /// role. The grantees' tokens are retired: the role applies from their
    /// next sign-in.
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        input: GrantRoleInput,
    ) -> Result<GrantRolePayload> {
        let user_id = input
            .user_id
            .as_ref()
            .map(|u| ids::decode(u, NodeType::User))
            .transpose()?;
        let group_id = input
            .group_id
            .as_ref()
            .map(|g| ids::decode(g, NodeType::Group))
            .transpose()?;
        let location_id = input
            .location_id
            .as_ref()
            .map(|l| ids::decode(l, NodeType::Location))
            .transpose()?;
        let rc = request(ctx)?;
        rc.authorize(MEMBERS_WRITE, Target::Tenant).await?;
        if user_id.is_some() == group_id.is_some() {
            return Ok(GrantRolePayload::refused(
                "userId",
                UserErrorCode::Invalid,
                "give exactly one of userId and groupId",
            ));
        }
        if input.at_assigned_locations
            && (location_id.is_some() || !matches!(input.role, Role::LocationManager | Role::Staff))
        {
            return Ok(GrantRolePayload::refused(
                "atAssignedLocations",
                UserErrorCode::Invalid,
                "only LOCATION_MANAGER and STAFF can be granted at assigned locations, without locationId",
            ));
        }
        if input.role == Role::Owner {
            rc.authorize_ownership().await?;
            if location_id.is_some() {
                return Ok(GrantRolePayload::refused(
                    "locationId",
                    UserErrorCode::Invalid,
                    "the owner role is granted tenant-wide only",
                ));
            }
        }
        let mut tx = rc.begin_write().await?;
        let group_name: Option<String> = match (user_id, group_id) {
            (Some(user), _) => {
                sqlx::query_scalar!("select id from users where id = $1", user)
                    .fetch_optional(tx.conn())
                    .await
                    .map_err(ApiError::from)?
                    .ok_or(ApiError::NotFound("user"))?;
                None
            }
            (None, group) => Some(
                sqlx::query_scalar("select display_name from groups where id = $1")
                    .bind(group)
                    .fetch_optional(tx.conn())
                    .await
                    .map_err(ApiError::from)?
                    .ok_or(ApiError::NotFound("group"))?,
            ),
        };
        if let Some(location) = location_id {
            if !locations::visible(&mut tx, location).await? {
                return Ok(GrantRolePayload::refused(
                    "locationId",
                    UserErrorCode::NotFound,
                    "no such location",
                ));
            }
        }
        let role = input.role.as_db();
        let inserted: Option<Uuid> = sqlx::query_scalar(
            r#"
            insert into role_grants (tenant_id, role, user_id, group_id, location_id, at_assigned_locations, source)
            values ($1, $2, $3, $4, $5, $6, 'manual')
            on conflict do nothing
            returning id
            "#,
        )
        .bind(tx.tenant().as_uuid())
        .bind(role)
        .bind(user_id)
        .bind(group_id)
        .bind(location_id)
        .bind(input.at_assigned_locations)
        .fetch_optional(tx.conn())
        .await
        .map_err(ApiError::from)?;
        let (grant_id, created) = match inserted {
            Some(id) => (id, true),
            None => {
                let id: Uuid = sqlx::query_scalar(
                    r#"
                    select id from role_grants
                    where user_id is not distinct from $1::uuid and group_id is not distinct from $2::uuid
                      and role = $3 and location_id is not distinct from $4::uuid
                      and at_assigned_locations = $5 and source = 'manual'
                    "#,
                )
                .bind(user_id)
                .bind(group_id)
                .bind(role)
                .bind(location_id)
                .bind(input.at_assigned_locations)
                .fetch_one(tx.conn())
                .await
                .map_err(ApiError::from)?;
                (id, false)
            }
        };
        audit::record(
            &mut tx,
            rc,
            "role.grant",
            (NodeType::RoleGrant, grant_id),
            json!({
                "userId": input.user_id,
                "groupId": input.group_id,
                "role": role,
                "locationId": input.location_id,
                "atAssignedLocations": input.at_assigned_locations,
                "created": created,
            }),
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(GrantRolePayload {
            grant: Some(RoleGrant {
                id: Some(grant_id),
                role: input.role,
                location_id,
                source: Some(GrantSource::Manual),
                group_name,
            }),
            user_errors: Vec::new(),
        })
    }

    /// Revokes a grant (of a user or of a group). Needs `members:write`;
    /// only an owner may revoke the owner role, and the tenant's last
    /// tenant-wide owner grant stays. The grantees' tokens are retired.
    async fn revoke_role(
        &self,
        ctx: &Context<'_>,
        input: RevokeRoleInput,
    ) -> Result<RevokeRolePayload> {
        let grant_id = ids::decode(&input.grant_id, NodeType::RoleGrant)?;
        let rc = request(ctx)?;
        rc.authorize(MEMBERS_WRITE, Target::Tenant).await?;
        let mut tx = rc.begin_write().await?;
        let grant = sqlx::query!(
            "select role, user_id, group_id, location_id, at_assigned_locations, source
             from role_grants where id = $1 for update",
            grant_id
        )
        .fetch_optional(tx.conn())
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::NotFound("role grant"))?;
        let role = Role::from_db(&grant.role)?;
        if role == Role::Owner {
            tx = rc.authorize_ownership_in(tx).await?;
            if grant.location_id.is_none() {
                // locks every owner grant, so two revocations cannot each
                // leave the other as the last one
                let owners = sqlx::query_scalar!(
                    "select id from role_grants where role = 'owner' and location_id is null for update"
                )
                .fetch_all(tx.conn())
                .await
                .map_err(ApiError::from)?;
                if owners.iter().all(|id| *id == grant_id) {
                    return Ok(RevokeRolePayload {
                        revoked_grant_id: None,
                        user_errors: vec![UserError::new(
                            "grantId",
                            UserErrorCode::Conflict,
                            "the tenant's last owner grant cannot be revoked",
                        )],
                    });
                }
            }
        }
        sqlx::query!("delete from role_grants where id = $1", grant_id)
            .execute(tx.conn())
            .await
            .map_err(ApiError::from)?;
        audit::record(
            &mut tx,
            rc,
            "role.revoke",
            (NodeType::RoleGrant, grant_id),
            json!({
                "userId": grant.user_id.map(|u| ids::encode(NodeType::User, u)),
                "groupId": grant.group_id.map(|g| ids::encode(NodeType::Group, g)),
                "role": grant.role,
                "locationId": grant.location_id.map(|l| ids::encode(NodeType::Location, l)),
                "atAssignedLocations": grant.at_assigned_locations,
                "source": grant.source,
            }),
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(RevokeRolePayload {
            revoked_grant_id: Some(input.grant_id),
            user_errors: Vec::new(),
        })
    }
}
