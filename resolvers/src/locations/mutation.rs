use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use prep_auth::{Action, Permission, Resource, Target};
use serde_json::json;

use super::Location;
use crate::context::request;
use crate::enums::LocationStatus;
use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::payload::{
    len_between, on_constraint, ConstraintError, UserError, UserErrorCode, Violations,
};
use crate::{audit, clock, compliance};

/// A postal address.
#[derive(InputObject)]
pub struct AddressInput {
    /// Street line.
    pub line1: String,
    /// City.
    pub city: String,
    /// Two-letter state code.
    pub state: String,
    /// ZIP or ZIP+4.
    pub postal_code: String,
}

/// A new location.
#[derive(InputObject)]
pub struct CreateLocationInput {
    /// The chain's store number, unique in the tenant.
    pub store_number: String,
    /// Display name.
    pub name: String,
    /// Street address.
    pub address: AddressInput,
    /// Code of the most specific jurisdiction (city or county), e.g. `US-CA-LOS-ANGELES`.
    pub jurisdiction_code: String,
    /// The location's id in the ERP.
    pub external_id: Option<String>,
}

/// Changes to a location; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateLocationInput {
    /// The location.
    pub id: ID,
    /// New display name.
    pub name: Option<String>,
    /// New address.
    pub address: Option<AddressInput>,
    /// Open or close the location.
    pub status: Option<LocationStatus>,
}

/// Result of a location mutation.
#[derive(SimpleObject)]
pub struct LocationPayload {
    /// The location, when the mutation succeeded.
    pub location: Option<Location>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

impl LocationPayload {
    fn refused(user_errors: Vec<UserError>) -> Self {
        Self {
            location: None,
            user_errors,
        }
    }
}

const LOCATIONS_WRITE: Permission = Permission(Resource::Locations, Action::Write);

const LOCATION_CONSTRAINTS: &[ConstraintError] = &[
    ConstraintError {
        constraint: "locations_tenant_store_number_key",
        field: "storeNumber",
        code: UserErrorCode::Taken,
        message: "another location already has this store number",
    },
    ConstraintError {
        constraint: "locations_tenant_external_id_key",
        field: "externalId",
        code: UserErrorCode::Taken,
        message: "another location already has this external id",
    },
];

fn check_address(v: &mut Violations, a: &AddressInput) {
    for (field, message) in address_problems(a) {
        v.add(field, UserErrorCode::Invalid, message);
    }
}

/// What is wrong with an address, as (field, message) pairs.
pub(crate) fn address_problems(a: &AddressInput) -> Vec<(&'static str, &'static str)> {
    let mut problems = Vec::new();
    if !len_between(&a.line1, 1, 200) {
        problems.push(("address.line1", "give a street line of 1 to 200 characters"));
    }
    if !len_between(&a.city, 1, 100) {
        problems.push(("address.city", "give a city of 1 to 100 characters"));
    }
    if !(a.state.len() == 2 && a.state.bytes().all(|b| b.is_ascii_uppercase())) {
        problems.push(("address.state", "give a two-letter upper-case state code"));
    }
    let zip = a.postal_code.as_bytes();
    let zip_ok = match zip.len() {
        5 => zip.iter().all(u8::is_ascii_digit),
        10 => {
            zip[..5].iter().all(u8::is_ascii_digit)
                && zip[5] == b'-'
                && zip[6..].iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    if !zip_ok {
        problems.push((
            "address.postalCode",
            "give a ZIP code as 12345 or 12345-6789",
        ));
    }
    problems
}

/// A store number: 1 to 32 letters, digits, '.', '_' or '-', starting with
/// a letter or digit.
pub(crate) fn valid_store_number(s: &str) -> bool {
    len_between(s, 1, 32)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
}

/// What an invalid store number is told.
pub(crate) const STORE_NUMBER_RULE: &str =
    "use 1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit";

/// Location mutations.
#[derive(Default)]
pub struct LocationMutation;

#[Object]
impl LocationMutation {
    /// Opens a new location; its compliance is evaluated at once. Needs
    /// `locations:write` tenant-wide.
    async fn create_location(
        &self,
        ctx: &Context<'_>,
        input: CreateLocationInput,
    ) -> Result<LocationPayload> {
        let rc = request(ctx)?;
        rc.authorize(LOCATIONS_WRITE, Target::Tenant).await?;
        let mut v = Violations::default();
        v.check(
            valid_store_number(&input.store_number),
            "storeNumber",
            STORE_NUMBER_RULE,
        );
        v.check(
            len_between(&input.name, 1, 200),
            "name",
            "give a name of 1 to 200 characters",
        );
        check_address(&mut v, &input.address);
        if let Some(ext) = &input.external_id {
            v.check(
                len_between(ext, 1, 128),
                "externalId",
                "give an external id of 1 to 128 characters",
            );
        }
        if let Err(errors) = v.into_result() {
            return Ok(LocationPayload::refused(errors));
        }
        let mut tx = rc.begin_write().await?;
        // the jurisdiction must be a county or city of the address's state
        let inserted = sqlx::query_as!(
            Location,
            r#"
            insert into locations (tenant_id, store_number, name, address_line1, city, state_code,
                                   postal_code, jurisdiction_id, external_id)
            select $1, $2, $3, $4, $5, $6, $7, j.id, $9
            from jurisdictions j
            where j.code = $8 and j.level in ('county', 'city') and j.state_code = $6
            returning id, store_number, name, address_line1, city, state_code, postal_code,
                      jurisdiction_id, status, external_id, compliance_status, compliance_reason,
                      compliance_evaluated_at, created_at, updated_at
            "#,
            tx.tenant().as_uuid(),
            input.store_number,
            input.name,
            input.address.line1,
            input.address.city,
            input.address.state,
            input.address.postal_code,
            input.jurisdiction_code,
            input.external_id,
        )
        .fetch_optional(tx.conn())
        .await;
        let mut location = match inserted {
            Ok(Some(l)) => l,
            Ok(None) => {
                return Ok(LocationPayload::refused(vec![UserError::new(
                    "jurisdictionCode",
                    UserErrorCode::NotFound,
                    "no county or city jurisdiction with this code in the address's state",
                )]))
            }
            Err(e) => {
                let err = on_constraint(e, LOCATION_CONSTRAINTS).map_err(ApiError::from)?;
                return Ok(LocationPayload::refused(vec![err]));
            }
        };
        audit::record(
            &mut tx,
            rc,
            "location.create",
            (NodeType::Location, location.id),
            json!({ "storeNumber": location.store_number }),
        )
        .await?;
        let ev = compliance::recompute(&mut tx, location.id, clock::today()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        location.compliance_status = ev.status.as_db().to_owned();
        location.compliance_reason = ev.reason;
        location.compliance_evaluated_at = Some(chrono::Utc::now());
        Ok(LocationPayload {
            location: Some(location),
            user_errors: Vec::new(),
        })
    }

    /// Renames, moves, closes or reopens a location. Needs `locations:write`
    /// on it.
    async fn update_location(
        &self,
        ctx: &Context<'_>,
        input: UpdateLocationInput,
    ) -> Result<LocationPayload> {
        let id = ids::decode(&input.id, NodeType::Location)?;
        let rc = request(ctx)?;
        let mut tx = rc.begin_write().await?;
        sqlx::query_scalar!("select id from locations where id = $1 for update", id)
            .fetch_optional(tx.conn())
            .await
            .map_err(ApiError::from)?
            .ok_or(ApiError::NotFound("location"))?;
        let mut tx = rc
            .authorize_in(tx, LOCATIONS_WRITE, Target::Location(id))
            .await?;
        let mut v = Violations::default();
        if let Some(name) = &input.name {
            v.check(
                len_between(name, 1, 200),
                "name",
                "give a name of 1 to 200 characters",
            );
        }
        if let Some(a) = &input.address {
            check_address(&mut v, a);
        }
        if let Err(errors) = v.into_result() {
            return Ok(LocationPayload::refused(errors));
        }
        let addr = input.address.as_ref();
        let mut location = sqlx::query_as!(
            Location,
            r#"
            update locations set
              name = coalesce($2, name),
              address_line1 = coalesce($3, address_line1),
              city = coalesce($4, city),
              state_code = coalesce($5, state_code),
              postal_code = coalesce($6, postal_code),
              status = coalesce($7, status)
            where id = $1
            returning id, store_number, name, address_line1, city, state_code, postal_code,
                      jurisdiction_id, status, external_id, compliance_status, compliance_reason,
                      compliance_evaluated_at, created_at, updated_at
            "#,
            id,
            input.name,
            addr.map(|a| a.line1.clone()),
            addr.map(|a| a.city.clone()),
            addr.map(|a| a.state.clone()),
            addr.map(|a| a.postal_code.clone()),
            input.status.map(|s| s.as_db()),
        )
        .fetch_one(tx.conn())
        .await
        .map_err(ApiError::from)?;
        audit::record(
            &mut tx,
            rc,
            "location.update",
            (NodeType::Location, id),
            json!({
                "name": input.name.is_some(),
                "address": input.address.is_some(),
                "status": input.status.map(|s| s.as_db()),
            }),
        )
        .await?;
        let ev = compliance::recompute(&mut tx, id, clock::today()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        location.compliance_status = ev.status.as_db().to_owned();
        location.compliance_reason = ev.reason;
        location.compliance_evaluated_at = Some(chrono::Utc::now());
        Ok(LocationPayload {
            location: Some(location),
            user_errors: Vec::new(),
        })
    }
}
