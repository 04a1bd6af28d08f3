use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::NaiveDate;
use prep_auth::{Action, Permission, Resource, Target};
use serde_json::json;

use super::{Finding, Inspection, Permit};
use crate::context::request;
use crate::enums::{FindingSeverity, InspectionKind, InspectionResult, PermitKind};
use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::payload::{
    len_between, on_constraint, ConstraintError, UserError, UserErrorCode, Violations,
};
use crate::{audit, clock, compliance, locations};

/// A permit issued to a location.
#[derive(InputObject)]
pub struct RecordPermitInput {
    /// The location.
    pub location_id: ID,
    /// What it permits.
    pub kind: PermitKind,
    /// The number on the permit.
    pub permit_number: String,
    /// The issuing agency.
    #[graphql(default)]
    pub issuing_authority: String,
    /// First valid day.
    pub issued_on: NaiveDate,
    /// First day it is no longer valid.
    pub expires_on: NaiveDate,
}

/// A finding to record with an inspection.
#[derive(InputObject)]
pub struct FindingInput {
    /// Violation code.
    pub code: String,
    /// What was found.
    pub description: String,
    /// How serious.
    pub severity: FindingSeverity,
    /// Corrective action required or taken.
    #[graphql(default)]
    pub corrective_action: String,
    /// Correction due date.
    pub due_on: Option<NaiveDate>,
}

/// An inspection of a location.
#[derive(InputObject)]
pub struct RecordInspectionInput {
    /// The location.
    pub location_id: ID,
    /// Day of the inspection.
    pub inspected_on: NaiveDate,
    /// Why it took place.
    #[graphql(default_with = "InspectionKind::Routine")]
    pub kind: InspectionKind,
    /// The inspecting agency.
    #[graphql(default)]
    pub agency: String,
    /// Score out of 100.
    pub score: Option<i32>,
    /// Outcome.
    pub result: InspectionResult,
    /// Findings (at most 100).
    #[graphql(default)]
    pub findings: Vec<FindingInput>,
}

/// Marks a finding corrected.
#[derive(InputObject)]
pub struct ResolveFindingInput {
    /// The finding.
    pub id: ID,
    /// Day it was corrected.
    pub resolved_on: NaiveDate,
    /// What was done.
    pub corrective_action: Option<String>,
}

/// Result of recording a permit.
#[derive(SimpleObject)]
pub struct PermitPayload {
    /// The permit, when the mutation succeeded.
    pub permit: Option<Permit>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

/// Result of recording an inspection.
#[derive(SimpleObject)]
pub struct InspectionPayload {
    /// The inspection, when the mutation succeeded.
    pub inspection: Option<Inspection>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

/// Result of resolving a finding.
#[derive(SimpleObject)]
pub struct FindingPayload {
    /// The finding, when the mutation succeeded.
    pub finding: Option<Finding>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

const PERMIT_CONSTRAINTS: &[ConstraintError] = &[
    ConstraintError {
        constraint: "permits_location_fkey",
        field: "locationId",
        code: UserErrorCode::NotFound,
        message: "no such location",
    },
    ConstraintError {
        constraint: "permits_tenant_kind_number_key",
        field: "permitNumber",
        code: UserErrorCode::Taken,
        message: "a permit of this kind with this number is already on file",
    },
];

const INSPECTION_CONSTRAINTS: &[ConstraintError] = &[ConstraintError {
    constraint: "inspections_location_fkey",
    field: "locationId",
    code: UserErrorCode::NotFound,
    message: "no such location",
}];

const PERMITS_WRITE: Permission = Permission(Resource::Permits, Action::Write);
const INSPECTIONS_WRITE: Permission = Permission(Resource::Inspections, Action::Write);

fn no_such_location() -> UserError {
    UserError::new("locationId", UserErrorCode::NotFound, "no such location")
}

/// Permit, inspection and finding mutations.
#[derive(Default)]
pub struct FacilitiesMutation;

#[Object]
impl FacilitiesMutation {
    /// Records a permit; the location's compliance is re-evaluated. Needs
    /// `permits:write` on the location.
    async fn record_permit(
        &self,
        ctx: &Context<'_>,
        input: RecordPermitInput,
    ) -> Result<PermitPayload> {
        let location_id = ids::decode(&input.location_id, NodeType::Location)?;
        let rc = request(ctx)?;
        let mut tx = rc.begin_write().await?;
        if !locations::visible(&mut tx, location_id).await? {
            return Ok(PermitPayload {
                permit: None,
                user_errors: vec![no_such_location()],
            });
        }
        let mut tx = rc
            .authorize_in(tx, PERMITS_WRITE, Target::Location(location_id))
            .await?;
        let mut v = Violations::default();
        v.check(
            len_between(&input.permit_number, 1, 64),
            "permitNumber",
            "give a permit number of 1 to 64 characters",
        );
        v.check(
            len_between(&input.issuing_authority, 0, 200),
            "issuingAuthority",
            "give at most 200 characters",
        );
        v.check(
            input.expires_on > input.issued_on,
            "expiresOn",
            "the expiry must be after the issue date",
        );
        if let Err(user_errors) = v.into_result() {
            return Ok(PermitPayload {
                permit: None,
                user_errors,
            });
        }
        let inserted = sqlx::query_as!(
            Permit,
            r#"
            insert into permits (tenant_id, location_id, kind, permit_number, issuing_authority, issued_on, expires_on)
            values ($1, $2, $3, $4, $5, $6, $7)
            returning id, location_id, kind, permit_number, issuing_authority, issued_on, expires_on
            "#,
            tx.tenant().as_uuid(),
            location_id,
            input.kind.as_db(),
            input.permit_number,
            input.issuing_authority,
            input.issued_on,
            input.expires_on,
        )
        .fetch_one(tx.conn())
        .await;
        let permit = match inserted {
            Ok(p) => p,
            Err(e) => {
                let err = on_constraint(e, PERMIT_CONSTRAINTS).map_err(ApiError::from)?;
                return Ok(PermitPayload {
                    permit: None,
                    user_errors: vec![err],
                });
            }
        };
        audit::record(
            &mut tx,
            rc,
            "permit.record",
            (NodeType::Permit, permit.id),
            json!({ "kind": input.kind.as_db(), "expiresOn": input.expires_on }),
        )
        .await?;
        compliance::recompute(&mut tx, location_id, clock::today()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(PermitPayload {
            permit: Some(permit),
            user_errors: Vec::new(),
        })
    }

    /// Records an inspection with its findings, in one transaction. Needs
    /// `inspections:write` on the location.
    async fn record_inspection(
        &self,
        ctx: &Context<'_>,
        input: RecordInspectionInput,
    ) -> Result<InspectionPayload> {
        let location_id = ids::decode(&input.location_id, NodeType::Location)?;
        let rc = request(ctx)?;
        let mut tx = rc.begin_write().await?;
        if !locations::visible(&mut tx, location_id).await? {
            return Ok(InspectionPayload {
                inspection: None,
                user_errors: vec![no_such_location()],
            });
        }
        let mut tx = rc
            .authorize_in(tx, INSPECTIONS_WRITE, Target::Location(location_id))
            .await?;
        let mut v = Violations::default();
        v.check(
            input.inspected_on <= clock::today(),
            "inspectedOn",
            "the inspection date cannot be in the future",
        );
        v.check(
            input.score.is_none_or(|s| (0..=100).contains(&s)),
            "score",
            "a score is between 0 and 100",
        );
        v.check(
            len_between(&input.agency, 0, 200),
            "agency",
            "give at most 200 characters",
        );
        v.check(
            input.findings.len() <= 100,
            "findings",
            "record at most 100 findings at once",
        );
        for (i, f) in input.findings.iter().enumerate() {
            v.check(
                len_between(&f.code, 1, 32),
                &format!("findings.{i}.code"),
                "give a code of 1 to 32 characters",
            );
            v.check(
                len_between(&f.description, 1, 2000),
                &format!("findings.{i}.description"),
                "give a description of 1 to 2000 characters",
            );
            v.check(
                f.due_on.is_none_or(|d| d >= input.inspected_on),
                &format!("findings.{i}.dueOn"),
                "the due date cannot be before the inspection",
            );
        }
        if let Err(user_errors) = v.into_result() {
            return Ok(InspectionPayload {
                inspection: None,
                user_errors,
            });
        }
        let tenant = tx.tenant().as_uuid();
        let inserted = sqlx::query_as!(
            Inspection,
            r#"
            insert into inspections (tenant_id, location_id, inspected_on, kind, agency, score, result)
            values ($1, $2, $3, $4, $5, $6, $7)
            returning id, location_id, inspected_on, kind, agency, score, result
            "#,
            tenant,
            location_id,
            input.inspected_on,
            input.kind.as_db(),
            input.agency,
            input.score,
            input.result.as_db(),
        )
        .fetch_one(tx.conn())
        .await;
        let inspection = match inserted {
            Ok(i) => i,
            Err(e) => {
                let err = on_constraint(e, INSPECTION_CONSTRAINTS).map_err(ApiError::from)?;
                return Ok(InspectionPayload {
                    inspection: None,
                    user_errors: vec![err],
                });
            }
        };
        if !input.findings.is_empty() {
            let codes: Vec<&str> = input.findings.iter().map(|f| f.code.as_str()).collect();
            let descs: Vec<&str> = input
                .findings
                .iter()
                .map(|f| f.description.as_str())
                .collect();
            let sevs: Vec<&str> = input.findings.iter().map(|f| f.severity.as_db()).collect();
            let actions: Vec<&str> = input
                .findings
                .iter()
                .map(|f| f.corrective_action.as_str())
                .collect();
            let dues: Vec<Option<NaiveDate>> = input.findings.iter().map(|f| f.due_on).collect();
            sqlx::query!(
                r#"
                insert into findings (tenant_id, inspection_id, code, description, severity, corrective_action, due_on)
                select $1, $2, f.code, f.description, f.severity, f.action, f.due_on
                from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::date[])
                  as f (code, description, severity, action, due_on)
                "#,
                tenant,
                inspection.id,
                &codes as &[&str],
                &descs as &[&str],
                &sevs as &[&str],
                &actions as &[&str],
                &dues as &[Option<NaiveDate>],
            )
            .execute(tx.conn())
            .await
            .map_err(ApiError::from)?;
        }
        audit::record(
            &mut tx,
            rc,
            "inspection.record",
            (NodeType::Inspection, inspection.id),
            json!({ "result": input.result.as_db(), "findings": input.findings.len() }),
        )
        .await?;
        compliance::recompute(&mut tx, location_id, clock::today()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(InspectionPayload {
            inspection: Some(inspection),
            user_errors: Vec::new(),
        })
    }

    /// Marks a finding corrected; the location's compliance is re-evaluated.
    /// Needs `inspections:write` on the inspected location.
    async fn resolve_finding(
        &self,
        ctx: &Context<'_>,
        input: ResolveFindingInput,
    ) -> Result<FindingPayload> {
        let id = ids::decode(&input.id, NodeType::Finding)?;
        let rc = request(ctx)?;
        let mut tx = rc.begin_write().await?;
        let location_id = sqlx::query_scalar!(
            r#"
            select i.location_id
            from findings f
            join inspections i on i.tenant_id = f.tenant_id and i.id = f.inspection_id
            where f.id = $1
            for update of f
            "#,
            id
        )
        .fetch_optional(tx.conn())
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::NotFound("finding"))?;
        let mut tx = rc
            .authorize_in(tx, INSPECTIONS_WRITE, Target::Location(location_id))
            .await?;
        if input.resolved_on > clock::today() {
            return Ok(FindingPayload {
                finding: None,
                user_errors: vec![UserError::new(
                    "resolvedOn",
                    UserErrorCode::Invalid,
                    "the correction date cannot be in the future",
                )],
            });
        }
        if let Some(a) = &input.corrective_action {
            if !len_between(a, 0, 2000) {
                return Ok(FindingPayload {
                    finding: None,
                    user_errors: vec![UserError::new(
                        "correctiveAction",
                        UserErrorCode::Invalid,
                        "give at most 2000 characters",
                    )],
                });
            }
        }
        let row = sqlx::query!(
            r#"
            update findings set resolved_on = $2, corrective_action = coalesce($3, corrective_action)
            where id = $1
            returning id, inspection_id, code, description, severity, corrective_action,
                      due_on, resolved_on
            "#,
            id,
            input.resolved_on,
            input.corrective_action,
        )
        .fetch_one(tx.conn())
        .await
        .map_err(ApiError::from)?;
        audit::record(
            &mut tx,
            rc,
            "finding.resolve",
            (NodeType::Finding, id),
            json!({}),
        )
        .await?;
        compliance::recompute(&mut tx, location_id, clock::today()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(FindingPayload {
            finding: Some(Finding {
                id: row.id,
                inspection_id: row.inspection_id,
                code: row.code,
                description: row.description,
                severity: row.severity,
                corrective_action: row.corrective_action,
                due_on: row.due_on,
                resolved_on: row.resolved_on,
            }),
            user_errors: Vec::new(),
        })
    }
}
