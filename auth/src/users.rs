//! Users of a tenant and their roles, as signing in and tokens need them.

use prep_tenancy::{TenancyError, TenantTx};
use uuid::Uuid;

use crate::access::Grant;

/// Finds the user with `email` in the transaction's tenant, creating it if
/// there is none. E-mail is compared in its normalised (lower-case) form.
pub async fn ensure_user(
    tx: &mut TenantTx,
    email: &str,
    display_name: &str,
) -> Result<Uuid, TenancyError> {
    let tenant = tx.tenant().as_uuid();
    let id: Uuid = sqlx::query_scalar(
        r#"
        insert into users (tenant_id, email, email_normalized, display_name)
        values ($1, $2, lower($2), $3)
        on conflict (tenant_id, email_normalized) do update set email = users.email
        returning id
        "#,
    )
    .bind(tenant)
    .bind(email)
    .bind(display_name)
    .fetch_one(tx.conn())
    .await?;
    Ok(id)
}

/// The user's grants now: direct, through groups, at assigned locations.
pub async fn grants_of(tx: &mut TenantTx, user: Uuid) -> Result<Vec<Grant>, TenancyError> {
    // `user_grants` (migration 0008) is the one definition sessions share:
    // direct, through groups, and "at assigned locations" expanded.
    let claims: Vec<String> = sqlx::query_scalar("select unnest(user_grants($1, $2))")
        .bind(tx.tenant().as_uuid())
        .bind(user)
        .fetch_all(tx.conn())
        .await?;
    Ok(claims
        .iter()
        .filter_map(|c| Grant::from_claim(c).ok())
        .collect())
}

/// Grants `grant` to `user` directly (no-op if held already from `source`).
pub async fn grant_role(
    tx: &mut TenantTx,
    user: Uuid,
    grant: Grant,
    source: &str,
) -> Result<(), TenancyError> {
    let tenant = tx.tenant().as_uuid();
    sqlx::query(
        r#"
        insert into role_grants (tenant_id, role, user_id, location_id, source)
        values ($1, $2, $3, $4, $5)
        on conflict do nothing
        "#,
    )
    .bind(tenant)
    .bind(grant.role.as_str())
    .bind(user)
    .bind(grant.location)
    .bind(source)
    .execute(tx.conn())
    .await?;
    Ok(())
}
