use async_graphql::{Context, Object, Result};

use super::{Jurisdiction, Requirement};
use crate::context::request;
use crate::enums::{JurisdictionLevel, RequirementKind};
use crate::error::ApiError;

/// Reference-data queries (the same for every tenant).
#[derive(Default)]
pub struct ReferenceQuery;

#[Object]
impl ReferenceQuery {
    /// Jurisdictions, by code; optionally one level or one state.
    async fn jurisdictions(
        &self,
        ctx: &Context<'_>,
        level: Option<JurisdictionLevel>,
        state_code: Option<String>,
    ) -> Result<Vec<Jurisdiction>> {
        let rc = request(ctx)?;
        let mut db = rc.read().await?;
        Ok(sqlx::query_as!(
            Jurisdiction,
            r#"
            select id, code, level, name, parent_id, state_code from jurisdictions
            where ($1::text is null or level = $1) and ($2::text is null or state_code = $2)
            order by code
            "#,
            level.map(|l| l.as_db()),
            state_code,
        )
        .fetch_all(db.conn())
        .await
        .map_err(ApiError::from)?)
    }

    /// Requirements in force, by code; optionally of one jurisdiction (by
    /// code, including the jurisdictions above it) or one kind.
    async fn requirements(
        &self,
        ctx: &Context<'_>,
        jurisdiction_code: Option<String>,
        kind: Option<RequirementKind>,
    ) -> Result<Vec<Requirement>> {
        let rc = request(ctx)?;
        let mut db = rc.read().await?;
        Ok(sqlx::query_as!(
            Requirement,
            r#"
            with recursive chain (id) as (
              select id from jurisdictions where code = $1
              union all
              select j.parent_id from jurisdictions j join chain c on j.id = c.id
              where j.parent_id is not null
            )
            select r.id, r.jurisdiction_id, r.code, r.kind, r.title, r.summary, r.citation,
                   r.effective_from, r.effective_to
            from requirements r
            where ($1::text is null or r.jurisdiction_id in (select id from chain))
              and ($2::text is null or r.kind = $2)
              and r.effective_from <= current_date
              and (r.effective_to is null or r.effective_to > current_date)
            order by r.code
            "#,
            jurisdiction_code,
            kind.map(|k| k.as_db()),
        )
        .fetch_all(db.conn())
        .await
        .map_err(ApiError::from)?)
    }
}
