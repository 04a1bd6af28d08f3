//! Members of the tenant and their roles: who may do what.
//!
//! Reading members needs `members:read`, granting and revoking roles
//! `members:write` (owners and admins); only an owner may grant or revoke
//! the owner role. Roles go to users or to groups (whose members all hold
//! them); groups are managed with `members:write` too. A change of a user's
//! grants or groups retires their tokens (database triggers), so a new role
//! takes effect with their next token.

mod groups;
mod lifecycle;
mod loader;
mod mutation;
mod query;

pub use groups::{GroupsMutation, GroupsQuery};
pub use lifecycle::MemberLifecycleMutation;
pub use loader::GrantsByUser;
pub use mutation::MembersMutation;
pub use query::MembersQuery;

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject, ID};
use prep_auth::{Action, Grant, Permission, Resource, Target};
use prep_tenancy::TenantScope;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::context::request;
use crate::enums::{GrantSource, Role};
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::loaders::load_err;
use crate::pagination::{build_page, Page, PageArgs};
use crate::tenant::User;

const MEMBERS_READ: Permission = Permission(Resource::Members, Action::Read);

/// A role held tenant-wide or for one location.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct RoleGrant {
    #[graphql(skip)]
    pub(crate) id: Option<Uuid>,
    /// The role.
    pub role: Role,
    #[graphql(skip)]
    pub(crate) location_id: Option<Uuid>,
    /// How it was granted. Null in `viewer.roles`, which lists the roles the
    /// caller's credentials carry.
    pub source: Option<GrantSource>,
    /// The group that holds it (and through which its members do); null
    /// when it is a user's own.
    pub group_name: Option<String>,
}

impl RoleGrant {
    /// A grant as the caller's credentials carry it (no stored id).
    pub(crate) fn carried(grant: &Grant) -> Self {
        Self {
            id: None,
            role: grant.role.into(),
            location_id: grant.location,
            source: None,
            group_name: None,
        }
    }
}

#[ComplexObject]
impl RoleGrant {
    /// The grant's global id, to revoke it with; null in `viewer.roles`.
    async fn id(&self) -> Option<ID> {
        self.id.map(|id| ids::encode(NodeType::RoleGrant, id))
    }

    /// The location it is bound to; null when it is tenant-wide.
    async fn location_id(&self) -> Option<ID> {
        self.location_id
            .map(|id| ids::encode(NodeType::Location, id))
    }
}

// Groups: the type and the loader that batches its fields live here, next
// to `RoleGrant`; the `groups` query and the group mutations in `groups`.

/// `id, display_name, display_name_normalized, external_id`.
type GroupRow = (Uuid, String, String, Option<String>);

/// A group of users; a role granted to it reaches every member.
#[derive(Clone)]
pub struct Group {
    id: Uuid,
    display_name: String,
    display_name_normalized: String,
    external_id: Option<String>,
    /// Batches `members` and `roles` across the groups of one response.
    loader: Arc<DataLoader<GroupLoader>>,
}

impl Group {
    fn new(row: GroupRow, loader: &Arc<DataLoader<GroupLoader>>) -> Self {
        let (id, display_name, display_name_normalized, external_id) = row;
        Self {
            id,
            display_name,
            display_name_normalized,
            external_id,
            loader: Arc::clone(loader),
        }
    }
}

fn group_loader(scope: &TenantScope) -> Arc<DataLoader<GroupLoader>> {
    Arc::new(DataLoader::new(GroupLoader(scope.clone()), tokio::spawn))
}

/// A group of users; a role granted to it reaches every member.
#[Object]
impl Group {
    /// The global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Group, self.id)
    }

    /// The name, unique in the tenant regardless of case.
    async fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The identity provider's id of the group; null unless provisioned.
    async fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }

    /// The members, by e-mail. Needs `members:read`.
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<User>> {
        let args = PageArgs::<(String, Uuid)>::parse(first, after)?;
        let rc = request(ctx)?;
        rc.authorize(MEMBERS_READ, Target::Tenant).await?;
        let page = match &args.after {
            None => self.loader.load_one((self.id, args.limit())).await,
            Some(after) => {
                let mut db = rc.read().await?;
                member_rows(db.conn(), &[self.id], Some(after), args.limit())
                    .await
                    .map(|mut m| m.remove(&self.id))
                    .map_err(Arc::new)
            }
        }
        .map_err(load_err)?
        .unwrap_or_default();
        let (keys, users): (Vec<_>, Vec<_>) = page.users.into_iter().unzip();
        let keys: HashMap<Uuid, String> = users.iter().map(|u: &User| u.id).zip(keys).collect();
        Ok(build_page(users, &args, page.total, |u| {
            (keys.get(&u.id).cloned().unwrap_or_default(), u.id)
        }))
    }

    /// The roles granted to the group. Needs `members:read`.
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<RoleGrant>> {
        request(ctx)?
            .authorize(MEMBERS_READ, Target::Tenant)
            .await?;
        let mut grants = self
            .loader
            .load_one(self.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        for g in &mut grants {
            g.group_name = Some(self.display_name.clone());
        }
        Ok(grants)
    }
}

/// One page of a group's members (with their sort keys) and their count.
#[derive(Clone, Default)]
struct Members {
    users: Vec<(String, User)>,
    total: i64,
}

/// The first `limit` members after `after` of each group, by e-mail, in one
/// statement; `total` counts every member of the group.
async fn member_rows(
    conn: &mut PgConnection,
    groups: &[Uuid],
    after: Option<&(String, Uuid)>,
    limit: i64,
) -> ApiResult<HashMap<Uuid, Members>> {
    let (after_email, after_id) = after.cloned().unzip();
    let rows: Vec<(Uuid, Uuid, String, String, bool, String, i64)> = sqlx::query_as(
        r#"
        select group_id, id, email, display_name, active, email_normalized, total from (
          select s.*, row_number() over (partition by s.group_id order by s.email_normalized, s.id) as rn
          from (
            select m.group_id, u.id, u.email, u.display_name, u.active, u.email_normalized,
                   count(*) over (partition by m.group_id) as total
            from group_members m
            join users u on u.tenant_id = m.tenant_id and u.id = m.user_id
            where m.group_id = any ($1)
          ) s
          where $2::text is null or (s.email_normalized, s.id) > ($2, $3::uuid)
        ) t
        where rn <= $4
        order by group_id, rn
        "#,
    )
    .bind(groups)
    .bind(after_email)
    .bind(after_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<Uuid, Members> = HashMap::new();
    for (group, id, email, display_name, active, key, total) in rows {
        let entry = out.entry(group).or_default();
        entry.total = total;
        let user = User {
            id,
            email,
            display_name,
            active,
        };
        entry.users.push((key, user));
    }
    Ok(out)
}

/// Members (first pages) and grants of the groups of one response.
struct GroupLoader(TenantScope);

impl Loader<(Uuid, i64)> for GroupLoader {
    type Value = Members;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[(Uuid, i64)],
    ) -> Result<HashMap<(Uuid, i64), Members>, Self::Error> {
        let groups: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let limit = keys.iter().map(|k| k.1).max().unwrap_or(0);
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = member_rows(db.conn(), &groups, None, limit)
            .await
            .map_err(Arc::new)?;
        Ok(keys
            .iter()
            .map(|&(group, limit)| {
                let mut page = rows.get(&group).cloned().unwrap_or_default();
                page.users.truncate(usize::try_from(limit).unwrap_or(0));
                ((group, limit), page)
            })
            .collect())
    }
}

impl Loader<Uuid> for GroupLoader {
    type Value = Vec<RoleGrant>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<RoleGrant>>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows: Vec<(Uuid, Uuid, String, Option<Uuid>, String)> = sqlx::query_as(
            "select group_id, id, role, location_id, source from role_grants where group_id = any ($1)",
        )
        .bind(keys)
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        let mut out: HashMap<Uuid, Vec<RoleGrant>> = HashMap::new();
        for (group, id, role, location_id, source) in rows {
            out.entry(group).or_default().push(RoleGrant {
                id: Some(id),
                role: Role::from_db(&role).map_err(Arc::new)?,
                location_id,
                source: Some(GrantSource::from_db(&source).map_err(Arc::new)?),
                group_name: None,
            });
        }
        // most powerful first; tenant-wide before location-bound
        for grants in out.values_mut() {
            grants.sort_by_key(|g| (g.role, g.location_id, g.id));
        }
        Ok(out)
    }
}
