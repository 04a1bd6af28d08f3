//! Alerts raised by the rules engine: what needs attention, per location.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{ComplexObject, Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use prep_tenancy::TenantScope;
use uuid::Uuid;

use crate::context::request;
use crate::enums::{AlertKind, AlertSeverity};
use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::loaders::{group_by, load_err};
use crate::locations::Location;
use crate::pagination::{build_page, wants_total, Page, PageArgs};

/// Something that needs attention at a location.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Alert {
    #[graphql(skip)]
    pub(crate) id: Uuid,
    #[graphql(skip)]
    pub(crate) location_id: Uuid,
    #[graphql(skip)]
    pub(crate) kind: String,
    #[graphql(skip)]
    pub(crate) severity: String,
    #[graphql(skip)]
    pub(crate) subject_type: String,
    #[graphql(skip)]
    pub(crate) subject_id: Uuid,
    /// What is wrong, for people.
    pub message: String,
    /// When something must be done by.
    pub due_on: Option<NaiveDate>,
    /// When the alert was raised.
    pub created_at: DateTime<Utc>,
    /// When the engine found it no longer applies.
    pub resolved_at: Option<DateTime<Utc>>,
}

#[ComplexObject]
impl Alert {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Alert, self.id)
    }

    /// What the alert is about.
    async fn kind(&self) -> Result<AlertKind> {
        Ok(AlertKind::from_db(&self.kind)?)
    }

    /// How urgent it is.
    async fn severity(&self) -> Result<AlertSeverity> {
        Ok(AlertSeverity::from_db(&self.severity)?)
    }

    /// The global id of the object concerned (employee, credential, permit,
    /// finding or location).
    async fn subject_id(&self) -> Result<ID> {
        let ty = match self.subject_type.as_str() {
            "employee" => NodeType::Employee,
            "credential" => NodeType::Credential,
            "permit" => NodeType::Permit,
            "finding" => NodeType::Finding,
            "location" => NodeType::Location,
            other => {
                return Err(ApiError::Internal(format!("unknown alert subject {other:?}")).into())
            }
        };
        Ok(ids::encode(ty, self.subject_id))
    }

    /// The location.
    async fn location(&self, ctx: &Context<'_>) -> Result<Option<Location>> {
        let rc = request(ctx)?;
        rc.loaders
            .locations
            .load_one(self.location_id)
            .await
            .map_err(load_err)
    }
}

/// Open alerts per location, most severe first.
pub struct AlertsByLocation(pub(crate) TenantScope);

impl Loader<Uuid> for AlertsByLocation {
    type Value = Vec<Alert>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Alert>>, Self::Error> {
        let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
        let rows = sqlx::query_as!(
            Alert,
            r#"
            select id, location_id, kind, severity, subject_type, subject_id, message, due_on, created_at, resolved_at
            from alerts
            where location_id = any ($1) and resolved_at is null
            order by location_id,
                     case severity when 'critical' then 0 when 'warning' then 1 else 2 end,
                     due_on nulls first, id
            "#,
            keys,
        )
        .fetch_all(db.conn())
        .await
        .map_err(|e| Arc::new(e.into()))?;
        Ok(group_by(rows, |a| a.location_id))
    }
}

/// Which alerts to list.
#[derive(InputObject, Default)]
pub struct AlertFilter {
    /// Only alerts of this location.
    pub location_id: Option<ID>,
    /// Only these severities.
    pub severities: Option<Vec<AlertSeverity>>,
    /// Only these kinds.
    pub kinds: Option<Vec<AlertKind>>,
    /// Include alerts that no longer apply (default false).
    #[graphql(default)]
    pub include_resolved: bool,
}

/// Alert queries.
#[derive(Default)]
pub struct AlertQuery;

#[Object]
impl AlertQuery {
    /// Alerts, newest first.
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<AlertFilter>,
    ) -> Result<Page<Alert>> {
        let rc = request(ctx)?;
        let args = PageArgs::<(DateTime<Utc>, Uuid)>::parse(first, after)?;
        let f = filter.unwrap_or_default();
        let location = f
            .location_id
            .map(|id| ids::decode(&id, NodeType::Location))
            .transpose()?;
        let severities: Option<Vec<String>> = f
            .severities
            .map(|v| v.iter().map(|s| s.as_db().to_owned()).collect());
        let kinds: Option<Vec<String>> = f
            .kinds
            .map(|v| v.iter().map(|k| k.as_db().to_owned()).collect());
        let (after_at, after_id) = args.after.unzip();
        let mut db = rc.read().await?;
        let rows = sqlx::query_as!(
            Alert,
            r#"
            select id, location_id, kind, severity, subject_type, subject_id, message, due_on, created_at, resolved_at
            from alerts
            where ($1::uuid is null or location_id = $1)
              and ($2::text[] is null or severity = any ($2))
              and ($3::text[] is null or kind = any ($3))
              and ($4 or resolved_at is null)
              and ($5::timestamptz is null or (created_at, id) < ($5, $6::uuid))
            order by created_at desc, id desc
            limit $7
            "#,
            location,
            severities.as_deref(),
            kinds.as_deref(),
            f.include_resolved,
            after_at,
            after_id,
            args.limit(),
        )
        .fetch_all(db.conn())
        .await
        .map_err(ApiError::from)?;
        let total = if wants_total(ctx) {
            sqlx::query_scalar!(
                r#"
                select count(*) as "n!" from alerts
                where ($1::uuid is null or location_id = $1)
                  and ($2::text[] is null or severity = any ($2))
                  and ($3::text[] is null or kind = any ($3))
                  and ($4 or resolved_at is null)
                "#,
                location,
                severities.as_deref(),
                kinds.as_deref(),
                f.include_resolved,
            )
            .fetch_one(db.conn())
            .await
            .map_err(ApiError::from)?
        } else {
            0
        };
        Ok(build_page(rows, &args, total, |a| (a.created_at, a.id)))
    }
}
