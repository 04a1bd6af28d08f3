//! Users of a tenant, as far as signing in needs them.

use prep_tenancy::{TenancyError, TenantTx};
use uuid::Uuid;

/// Finds the user with `email` in the transaction's tenant, creating it if
/// there is none. E-mail is compared in its normalised (lower-case) form.
pub async fn ensure_user(
    tx: &mut TenantTx,
    email: &str,
    display_name: &str,
) -> Result<Uuid, TenancyError> {
    let tenant = tx.tenant().as_uuid();
    let id = sqlx::query_scalar!(
        r#"
        insert into users (tenant_id, email, email_normalized, display_name)
        values ($1, $2, lower($2), $3)
        on conflict (tenant_id, email_normalized) do update set email = users.email
        returning id
        "#,
        tenant,
        email,
        display_name,
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(id)
}
