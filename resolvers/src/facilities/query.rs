use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{Days, NaiveDate};
use uuid::Uuid;

use super::{Inspection, Permit};
use crate::context::request;
use crate::enums::{InspectionResult, PermitKind};
use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::pagination::{build_page, wants_total, Page, PageArgs};

/// Which permits to list.
#[derive(InputObject, Default)]
pub struct PermitFilter {
    /// Only permits of this location.
    pub location_id: Option<ID>,
    /// Only these kinds.
    pub kinds: Option<Vec<PermitKind>>,
    /// Only permits valid today that expire within this many days (0 to 3650).
    pub expiring_within_days: Option<i32>,
    /// Only lapsed permits (true) or only unexpired ones (false).
    pub expired: Option<bool>,
}

/// Which inspections to list.
#[derive(InputObject, Default)]
pub struct InspectionFilter {
    /// Only inspections of this location.
    pub location_id: Option<ID>,
    /// Only these results.
    pub results: Option<Vec<InspectionResult>>,
    /// Only inspections on or after this day.
    pub since: Option<NaiveDate>,
}

/// Permit and inspection queries.
#[derive(Default)]
pub struct FacilitiesQuery;

#[Object]
impl FacilitiesQuery {
    /// Permits, soonest expiry first.
    async fn permits(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<PermitFilter>,
    ) -> Result<Page<Permit>> {
        let rc = request(ctx)?;
        let args = PageArgs::<(NaiveDate, Uuid)>::parse(first, after)?;
        let f = filter.unwrap_or_default();
        let today = crate::clock::today();
        let until = match f.expiring_within_days {
            Some(days @ 0..=3650) => today.checked_add_days(Days::new(days.unsigned_abs().into())),
            Some(_) => {
                return Err(
                    ApiError::bad_input("`expiringWithinDays` must be between 0 and 3650").into(),
                )
            }
            None => None,
        };
        let location = f
            .location_id
            .map(|id| ids::decode(&id, NodeType::Location))
            .transpose()?;
        let kinds: Option<Vec<String>> = f
            .kinds
            .map(|k| k.iter().map(|k| k.as_db().to_owned()).collect());
        let (after_date, after_id) = args.after.unzip();
        let mut db = rc.read().await?;
        let rows = sqlx::query_as!(
            Permit,
            r#"
            select id, location_id, kind, permit_number, issuing_authority, issued_on, expires_on
            from permits
            where ($1::uuid is null or location_id = $1)
              and ($2::text[] is null or kind = any ($2))
              and ($3::date is null or (expires_on > $4 and expires_on <= $3))
              and ($5::bool is null or (expires_on <= $4) = $5)
              and ($6::date is null or (expires_on, id) > ($6, $7::uuid))
            order by expires_on, id
            limit $8
            "#,
            location,
            kinds.as_deref(),
            until,
            today,
            f.expired,
            after_date,
            after_id,
            args.limit(),
        )
        .fetch_all(db.conn())
        .await
        .map_err(ApiError::from)?;
        let total = if wants_total(ctx) {
            sqlx::query_scalar!(
                r#"
                select count(*) as "n!" from permits
                where ($1::uuid is null or location_id = $1)
                  and ($2::text[] is null or kind = any ($2))
                  and ($3::date is null or (expires_on > $4 and expires_on <= $3))
                  and ($5::bool is null or (expires_on <= $4) = $5)
                "#,
                location,
                kinds.as_deref(),
                until,
                today,
                f.expired,
            )
            .fetch_one(db.conn())
            .await
            .map_err(ApiError::from)?
        } else {
            0
        };
        Ok(build_page(rows, &args, total, |p| (p.expires_on, p.id)))
    }

    /// Inspections, newest first.
    async fn inspections(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<InspectionFilter>,
    ) -> Result<Page<Inspection>> {
        let rc = request(ctx)?;
        let args = PageArgs::<(NaiveDate, Uuid)>::parse(first, after)?;
        let f = filter.unwrap_or_default();
        let location = f
            .location_id
            .map(|id| ids::decode(&id, NodeType::Location))
            .transpose()?;
        let results: Option<Vec<String>> = f
            .results
            .map(|r| r.iter().map(|r| r.as_db().to_owned()).collect());
        let (after_date, after_id) = args.after.unzip();
        let mut db = rc.read().await?;
        let rows = sqlx::query_as!(
            Inspection,
            r#"
            select id, location_id, inspected_on, kind, agency, score, result
            from inspections
            where ($1::uuid is null or location_id = $1)
              and ($2::text[] is null or result = any ($2))
              and ($3::date is null or inspected_on >= $3)
              and ($4::date is null or (inspected_on, id) < ($4, $5::uuid))
            order by inspected_on desc, id desc
            limit $6
            "#,
            location,
            results.as_deref(),
            f.since,
            after_date,
            after_id,
            args.limit(),
        )
        .fetch_all(db.conn())
        .await
        .map_err(ApiError::from)?;
        let total = if wants_total(ctx) {
            sqlx::query_scalar!(
                r#"
                select count(*) as "n!" from inspections
                where ($1::uuid is null or location_id = $1)
                  and ($2::text[] is null or result = any ($2))
                  and ($3::date is null or inspected_on >= $3)
                "#,
                location,
                results.as_deref(),
                f.since,
            )
            .fetch_one(db.conn())
            .await
            .map_err(ApiError::from)?
        } else {
            0
        };
        Ok(build_page(rows, &args, total, |i| (i.inspected_on, i.id)))
    }
}
