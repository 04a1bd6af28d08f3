//! Groups of users: a role granted to a group reaches every member. Owners
//! and admins manage groups here (SCIM will too). A change of a group's
//! members or grants retires the tokens of the members concerned (database
//! triggers); deleting a group takes its grants and memberships with it.

use std::collections::HashSet;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use prep_auth::Target;
use prep_tenancy::{TenantScope, TenantTx};
use serde_json::json;
use uuid::Uuid;

use super::mutation::MEMBERS_WRITE;
use super::{group_loader, Group, GroupRow, MEMBERS_READ};
use crate::audit;
use crate::context::{request, RequestContext};
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::pagination::{build_page, wants_total, Page, PageArgs};
use crate::payload::{len_between, on_constraint, ConstraintError, UserError, UserErrorCode};

/// Most user ids one `addGroupMembers` or `removeGroupMembers` takes.
const MAX_USER_IDS: usize = 100;
const GROUP_COLUMNS: &str = "id, display_name, display_name_normalized, external_id";
const NAME_TAKEN: [ConstraintError; 1] = [ConstraintError {
    constraint: "groups_tenant_display_name_key",
    field: "displayName",
    code: UserErrorCode::Taken,
    message: "another group has this name",
}];

/// Group queries.
#[derive(Default)]
pub struct GroupsQuery;

#[Object]
impl GroupsQuery {
    /// The tenant's groups by name. Needs `members:read`.
    async fn groups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Group>> {
        let args = PageArgs::<(String, Uuid)>::parse(first, after)?;
        let rc = request(ctx)?;
        rc.authorize(MEMBERS_READ, Target::Tenant).await?;
        let (after_name, after_id) = args.after.clone().unzip();
        let mut db = rc.read().await?;
        let rows: Vec<GroupRow> = sqlx::query_as(&format!(
            "select {GROUP_COLUMNS} from groups
             where ($1::text is null or (display_name_normalized, id) > ($1, $2::uuid))
             order by display_name_normalized, id
             limit $3"
        ))
        .bind(after_name)
        .bind(after_id)
        .bind(args.limit())
        .fetch_all(db.conn())
        .await
        .map_err(ApiError::from)?;
        let total: i64 = if wants_total(ctx) {
            sqlx::query_scalar("select count(*) from groups")
                .fetch_one(db.conn())
                .await
                .map_err(ApiError::from)?
        } else {
            0
        };
        let loader = group_loader(&rc.scope);
        let groups = rows.into_iter().map(|r| Group::new(r, &loader)).collect();
        Ok(build_page(groups, &args, total, |g| {
            (g.display_name_normalized.clone(), g.id)
        }))
    }
}

/// A new group.
#[derive(InputObject)]
pub struct CreateGroupInput {
    /// The name: 1 to 256 characters, unique in the tenant regardless of case.
    pub display_name: String,
}

/// A new name for a group.
#[derive(InputObject)]
pub struct RenameGroupInput {
    /// The group.
    pub group_id: ID,
    /// The name: 1 to 256 characters, unique in the tenant regardless of case.
    pub display_name: String,
}

/// A group to delete.
#[derive(InputObject)]
pub struct DeleteGroupInput {
    /// The group.
    pub group_id: ID,
}

/// Users to add to or remove from a group.
#[derive(InputObject)]
pub struct GroupMembersInput {
    /// The group.
    pub group_id: ID,
    /// The users: 1 to 100 of them.
    pub user_ids: Vec<ID>,
}

/// Result of a change to a group.
#[derive(SimpleObject)]
pub struct GroupPayload {
    /// The group as now.
    pub group: Option<Group>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

impl GroupPayload {
    fn refused(user_errors: Vec<UserError>) -> Self {
        Self {
            group: None,
            user_errors,
        }
    }

    fn invalid(field: &str, message: &str) -> Self {
        Self::refused(vec![UserError::new(field, UserErrorCode::Invalid, message)])
    }

    fn done(row: GroupRow, scope: &TenantScope) -> Self {
        Self {
            group: Some(Group::new(row, &group_loader(scope))),
            user_errors: Vec::new(),
        }
    }
}

/// Result of deleting a group.
#[derive(SimpleObject)]
pub struct DeleteGroupPayload {
    /// The id of the deleted group.
    pub deleted_group_id: Option<ID>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

/// The trimmed name, or why it is refused.
fn checked_name(raw: &str) -> Result<String, GroupPayload> {
    let name = raw.trim();
    if len_between(name, 1, 256) {
        Ok(name.to_owned())
    } else {
        Err(GroupPayload::invalid(
            "displayName",
            "a group's name has 1 to 256 characters",
        ))
    }
}

/// Records the audit event of a change to `group` and commits it.
async fn commit_audited(
    mut tx: TenantTx,
    rc: &RequestContext,
    action: &str,
    group: Uuid,
    details: serde_json::Value,
) -> ApiResult<()> {
    audit::record(&mut tx, rc, action, (NodeType::Group, group), details).await?;
    tx.commit().await.map_err(ApiError::from)
}

/// A name taken by another group becomes a `TAKEN` user error.
fn name_taken(err: sqlx::Error) -> Result<GroupPayload> {
    match on_constraint(err, &NAME_TAKEN) {
        Ok(taken) => Ok(GroupPayload::refused(vec![taken])),
        Err(err) => Err(ApiError::from(err).into()),
    }
}

/// Group mutations (owners and admins), each audited.
#[derive(Default)]
pub struct GroupsMutation;

#[Object]
impl GroupsMutation {
    /// Creates a group. Needs `members:write`.
    async fn create_group(
        &self,
        ctx: &Context<'_>,
        input: CreateGroupInput,
    ) -> Result<GroupPayload> {
        let rc = request(ctx)?;
        rc.authorize(MEMBERS_WRITE, Target::Tenant).await?;
        let name = match checked_name(&input.display_name) {
            Ok(name) => name,
            Err(refused) => return Ok(refused),
        };
        let mut tx = rc.begin_write().await?;
        let row: GroupRow = match sqlx::query_as(&format!(
            "insert into groups (tenant_id, display_name, display_name_normalized)
             values ($1, $2, lower($2)) returning {GROUP_COLUMNS}"
        ))
        .bind(tx.tenant().as_uuid())
        .bind(&name)
        .fetch_one(tx.conn())
        .await
        {
            Ok(row) => row,
            Err(err) => return name_taken(err),
        };
        let details = json!({ "displayName": name });
        commit_audited(tx, rc, "group.create", row.0, details).await?;
        Ok(GroupPayload::done(row, &rc.scope))
    }

    /// Renames a group. Needs `members:write`.
    async fn rename_group(
        &self,
        ctx: &Context<'_>,
        input: RenameGroupInput,
    ) -> Result<GroupPayload> {
        let group_id = ids::decode(&input.group_id, NodeType::Group)?;
        let rc = request(ctx)?;
        rc.authorize(MEMBERS_WRITE, Target::Tenant).await?;
        let name = match checked_name(&input.display_name) {
            Ok(name) => name,
            Err(refused) => return Ok(refused),
        };
        let mut tx = rc.begin_write().await?;
        let updated: Option<(Uuid, String, String, Option<String>, String)> = match sqlx::query_as(
            "update groups g set display_name = $2, display_name_normalized = lower($2)
             from (select id, display_name from groups where id = $1) old
             where g.id = old.id
             returning g.id, g.display_name, g.display_name_normalized, g.external_id, old.display_name",
        )
        .bind(group_id)
        .bind(&name)
        .fetch_optional(tx.conn())
        .await
        {
            Ok(row) => row,
            Err(err) => return name_taken(err),
        };
        let (id, display_name, normalized, external_id, old) =
            updated.ok_or(ApiError::NotFound("group"))?;
        let details = json!({ "from": old, "to": name });
        commit_audited(tx, rc, "group.rename", id, details).await?;
        Ok(GroupPayload::done(
            (id, display_name, normalized, external_id),
            &rc.scope,
        ))
    }

    /// Deletes a group with its grants and memberships. Needs
    /// `members:write`, and ownership when the group holds the owner role.
    /// The members' tokens are retired when the group held roles.
    async fn delete_group(
        &self,
        ctx: &Context<'_>,
        input: DeleteGroupInput,
    ) -> Result<DeleteGroupPayload> {
        let group_id = ids::decode(&input.group_id, NodeType::Group)?;
        let rc = request(ctx)?;
        rc.authorize(MEMBERS_WRITE, Target::Tenant).await?;
        let mut tx = rc.begin_write().await?;
        // As for `revokeRole`: only an owner takes an owner grant away, and
        // the tenant's last tenant-wide one stays (all are locked, so two
        // deletions cannot each leave the other's as the last).
        let owners: Vec<(Option<Uuid>, bool)> = sqlx::query_as(
            "select group_id, location_id is null from role_grants where role = 'owner' for update",
        )
        .fetch_all(tx.conn())
        .await
        .map_err(ApiError::from)?;
        if owners.iter().any(|(g, _)| *g == Some(group_id)) {
            tx = rc.authorize_ownership_in(tx).await?;
            if !owners.iter().any(|(g, wide)| *wide && *g != Some(group_id)) {
                return Ok(DeleteGroupPayload {
                    deleted_group_id: None,
                    user_errors: vec![UserError::new(
                        "groupId",
                        UserErrorCode::Conflict,
                        "the group holds the tenant's last owner grant",
                    )],
                });
            }
        }
        // The grants go first, while the memberships exist: the trigger that
        // retires the members' tokens reads them, and a cascade from the
        // group may remove the memberships before the grants.
        let grants: Vec<String> =
            sqlx::query_scalar("delete from role_grants where group_id = $1 returning role")
                .bind(group_id)
                .fetch_all(tx.conn())
                .await
                .map_err(ApiError::from)?;
        let name: String =
            sqlx::query_scalar("delete from groups where id = $1 returning display_name")
                .bind(group_id)
                .fetch_optional(tx.conn())
                .await
                .map_err(ApiError::from)?
                .ok_or(ApiError::NotFound("group"))?;
        let details = json!({ "displayName": name, "grantsRemoved": grants.len() });
        commit_audited(tx, rc, "group.delete", group_id, details).await?;
        Ok(DeleteGroupPayload {
            deleted_group_id: Some(input.group_id),
            user_errors: Vec::new(),
        })
    }

    /// Adds users to a group; those already in it stay. Needs
    /// `members:write`, and ownership when the group holds the owner role.
    /// Unknown users are reported and nothing is added.
    async fn add_group_members(
        &self,
        ctx: &Context<'_>,
        input: GroupMembersInput,
    ) -> Result<GroupPayload> {
        change_members(ctx, input, true).await
    }

    /// Removes users from a group; non-members are ignored. Needs
    /// `members:write`, and ownership when the group holds the owner role.
    /// Unknown users are reported and nothing is removed.
    async fn remove_group_members(
        &self,
        ctx: &Context<'_>,
        input: GroupMembersInput,
    ) -> Result<GroupPayload> {
        change_members(ctx, input, false).await
    }
}

/// Adds (`add`) or removes the input's users, all or none.
async fn change_members(
    ctx: &Context<'_>,
    input: GroupMembersInput,
    add: bool,
) -> Result<GroupPayload> {
    let group_id = ids::decode(&input.group_id, NodeType::Group)?;
    let user_ids = input
        .user_ids
        .iter()
        .map(|u| ids::decode(u, NodeType::User))
        .collect::<Result<Vec<_>, _>>()?;
    let rc = request(ctx)?;
    rc.authorize(MEMBERS_WRITE, Target::Tenant).await?;
    if !(1..=MAX_USER_IDS).contains(&user_ids.len()) {
        return Ok(GroupPayload::invalid("userIds", "give 1 to 100 user ids"));
    }
    let mut tx = rc.begin_write().await?;
    let found: Option<(Uuid, String, String, Option<String>, bool)> = sqlx::query_as(&format!(
        "select {GROUP_COLUMNS},
           exists (select 1 from role_grants r where r.group_id = $1 and r.role = 'owner')
         from groups where id = $1 for share"
    ))
    .bind(group_id)
    .fetch_optional(tx.conn())
    .await
    .map_err(ApiError::from)?;
    let (id, name, normalized, external_id, holds_owner) =
        found.ok_or(ApiError::NotFound("group"))?;
    if holds_owner {
        // joining or leaving this group grants or revokes the owner role
        tx = rc.authorize_ownership_in(tx).await?;
    }
    let known: HashSet<Uuid> = sqlx::query_scalar("select id from users where id = any ($1)")
        .bind(&user_ids)
        .fetch_all(tx.conn())
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .collect();
    let unknown: Vec<UserError> = (user_ids.iter().enumerate())
        .filter(|(_, u)| !known.contains(u))
        .map(|(i, _)| {
            UserError::new(
                &format!("userIds.{i}"),
                UserErrorCode::NotFound,
                "no such user",
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Ok(GroupPayload::refused(unknown));
    }
    let (sql, action) = if add {
        (
            "insert into group_members (tenant_id, group_id, user_id)
             select distinct $3::uuid, $1::uuid, u from unnest($2::uuid[]) u
             on conflict do nothing returning user_id",
            "group.members.add",
        )
    } else {
        (
            "delete from group_members where tenant_id = $3 and group_id = $1 and user_id = any ($2)
             returning user_id",
            "group.members.remove",
        )
    };
    let changed: Vec<Uuid> = sqlx::query_scalar(sql)
        .bind(group_id)
        .bind(&user_ids)
        .bind(tx.tenant().as_uuid())
        .fetch_all(tx.conn())
        .await
        .map_err(ApiError::from)?;
    let changed: Vec<ID> = (changed.into_iter())
        .map(|u| ids::encode(NodeType::User, u))
        .collect();
    let details = json!({ "userIds": changed, "requested": user_ids.len() });
    commit_audited(tx, rc, action, group_id, details).await?;
    let row = (id, name, normalized, external_id);
    Ok(GroupPayload::done(row, &rc.scope))
}
