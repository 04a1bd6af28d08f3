use std::collections::HashMap;

use async_graphql::{Context, Object, Result};
use prep_auth::{Action, Permission, Resource, Target};
use uuid::Uuid;

use crate::context::request;
use crate::error::ApiError;
use crate::pagination::{build_page, wants_total, Page, PageArgs};
use crate::tenant::User;

/// Member queries.
#[derive(Default)]
pub struct MembersQuery;

#[Object]
impl MembersQuery {
    /// The tenant's users by e-mail, with their roles. Needs `members:read`.
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<User>> {
        let args = PageArgs::<(String, Uuid)>::parse(first, after)?;
        let rc = request(ctx)?;
        rc.authorize(Permission(Resource::Members, Action::Read), Target::Tenant)
            .await?;
        let (after_email, after_id) = args.after.clone().unzip();
        let mut db = rc.read().await?;
        let rows = sqlx::query!(
            r#"
            select id, email, email_normalized, display_name, active
            from users
            where ($1::text is null or (email_normalized, id) > ($1, $2::uuid))
            order by email_normalized, id
            limit $3
            "#,
            after_email,
            after_id,
            args.limit(),
        )
        .fetch_all(db.conn())
        .await
        .map_err(ApiError::from)?;
        let total = if wants_total(ctx) {
            sqlx::query_scalar!(r#"select count(*) as "n!" from users"#)
                .fetch_one(db.conn())
                .await
                .map_err(ApiError::from)?
        } else {
            0
        };
        // the sort key is the normalised e-mail, which `User` does not carry
        let mut sort_email: HashMap<Uuid, String> = HashMap::with_capacity(rows.len());
        let users = rows
            .into_iter()
            .map(|r| {
                sort_email.insert(r.id, r.email_normalized);
                User {
                    id: r.id,
                    email: r.email,
                    display_name: r.display_name,
                    active: r.active,
                }
            })
            .collect();
        Ok(build_page(users, &args, total, |u| {
            (sort_email.get(&u.id).cloned().unwrap_or_default(), u.id)
        }))
    }
}
