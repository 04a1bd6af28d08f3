use async_graphql::{Context, InputObject, Object, Result, ID};
use uuid::Uuid;

use super::Location;
use crate::context::request;
use crate::enums::{ComplianceStatus, LocationStatus};
use crate::error::{ApiError, ApiResult};
use crate::ids::{self, NodeType};
use crate::loaders::load_err;
use crate::pagination::{build_page, wants_total, Page, PageArgs};

/// Which locations to list.
#[derive(InputObject, Default)]
pub struct LocationFilter {
    /// Only these two-letter state codes.
    pub states: Option<Vec<String>>,
    /// Only these compliance statuses.
    pub compliance_statuses: Option<Vec<ComplianceStatus>>,
    /// Only active or only closed locations (default: both).
    pub status: Option<LocationStatus>,
}

struct SqlFilter {
    states: Option<Vec<String>>,
    statuses: Option<Vec<String>>,
    status: Option<String>,
}

impl LocationFilter {
    fn to_sql(&self) -> ApiResult<SqlFilter> {
        if let Some(states) = &self.states {
            if states.len() > 60 {
                return Err(ApiError::bad_input("`states` takes at most 60 codes"));
            }
            if let Some(bad) = states
                .iter()
                .find(|s| s.len() != 2 || !s.bytes().all(|b| b.is_ascii_uppercase()))
            {
                return Err(ApiError::bad_input(format!(
                    "{:?} is not a two-letter state code",
                    bad.chars().take(16).collect::<String>()
                )));
            }
        }
        Ok(SqlFilter {
            states: self.states.clone(),
            statuses: self
                .compliance_statuses
                .as_ref()
                .map(|v| v.iter().map(|s| s.as_db().to_owned()).collect()),
            status: self.status.map(|s| s.as_db().to_owned()),
        })
    }
}

/// Location queries.
#[derive(Default)]
pub struct LocationQuery;

#[Object]
impl LocationQuery {
    /// One location by id; null when there is none (or it is not yours).
    async fn location(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Location>> {
        let id = ids::decode(&id, NodeType::Location)?;
        let rc = request(ctx)?;
        rc.loaders.locations.load_one(id).await.map_err(load_err)
    }

    /// The tenant's locations by name, filtered.
    async fn locations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<LocationFilter>,
    ) -> Result<Page<Location>> {
        let args = PageArgs::<(String, Uuid)>::parse(first, after)?;
        let f = filter.unwrap_or_default().to_sql()?;
        let rc = request(ctx)?;
        let (after_name, after_id) = args.after.clone().unzip();
        let mut db = rc.read().await?;
        let rows = sqlx::query_as!(
            Location,
            r#"
            select id, store_number, name, address_line1, city, state_code, postal_code,
                   jurisdiction_id, status, external_id, compliance_status, compliance_reason,
                   compliance_evaluated_at, created_at, updated_at
            from locations
            where ($1::text[] is null or state_code = any ($1))
              and ($2::text[] is null or compliance_status = any ($2))
              and ($3::text is null or status = $3)
              and ($4::text is null or (name, id) > ($4, $5::uuid))
            order by name, id
            limit $6
            "#,
            f.states.as_deref(),
            f.statuses.as_deref(),
            f.status,
            after_name,
            after_id,
            args.limit(),
        )
        .fetch_all(db.conn())
        .await
        .map_err(ApiError::from)?;
        let total = if wants_total(ctx) {
            sqlx::query_scalar!(
                r#"
                select count(*) as "n!" from locations
                where ($1::text[] is null or state_code = any ($1))
                  and ($2::text[] is null or compliance_status = any ($2))
                  and ($3::text is null or status = $3)
                "#,
                f.states.as_deref(),
                f.statuses.as_deref(),
                f.status,
            )
            .fetch_one(db.conn())
            .await
            .map_err(ApiError::from)?
        } else {
            0
        };
        Ok(build_page(rows, &args, total, Location::key))
    }
}
