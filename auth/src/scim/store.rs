//! What users and groups share in the store: versions (ETags), unique and
//! check violations as SCIM errors, location assignments, and the audit
//! trail of provisioning.

use std::collections::BTreeSet;

use chrono::{DateTime, SecondsFormat, Utc};
use prep_tenancy::TenantTx;
use serde_json::Value;
use uuid::Uuid;

use super::service::Call;
use super::{ScimError, ScimType};

/// RFC 3339 with milliseconds, as IdPs parse it.
pub(super) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The resource's version: a weak ETag of its last change, to the
/// microsecond (every write moves `updated_at`, group membership included).
pub(super) fn version(updated_at: DateTime<Utc>) -> String {
    format!("W/\"{}\"", updated_at.timestamp_micros())
}

/// Whether `If-Match` (absent, `*`, or a list of tags) admits `current`.
/// Weak and strong forms of the same tag match: our tags are all weak.
pub(super) fn if_match(header: Option<&str>, current: &str) -> Result<(), ScimError> {
    let Some(header) = header else { return Ok(()) };
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let current = bare(current);
    if header
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == current)
    {
        Ok(())
    } else {
        Err(ScimError::PreconditionFailed)
    }
}

/// Unique and check violations of a write, as the IdP should see them.
pub(super) fn constraint(e: sqlx::Error) -> ScimError {
    let Some(db) = e.as_database_error() else {
        return e.into();
    };
    let name = db.constraint().unwrap_or_default();
    let message = match name {
        "users_user_name_key" => Some("another user has this userName"),
        "users_external_id_key" => Some("another user has this externalId"),
        "users_tenant_email_key" => Some("another user has this e-mail address"),
        "groups_tenant_display_name_key" => Some("another group has this displayName"),
        "groups_external_id_key" => Some("another group has this externalId"),
        _ => None,
    };
    if let Some(message) = message {
        return ScimError::Conflict(message.into());
    }
    let invalid = match name {
        "users_email_check" => Some("the e-mail address must have 3 to 320 characters"),
        "users_external_id_check" | "groups_external_id_check" => {
            Some("externalId must have 1 to 256 characters")
        }
        "users_user_name_check" => Some("userName must have 1 to 320 characters"),
        "groups_display_name_check" => Some("displayName must have 1 to 256 characters"),
        _ => None,
    };
    match invalid {
        Some(message) => ScimError::bad(ScimType::InvalidValue, message),
        None => e.into(),
    }
}

/// Makes the user's location assignments exactly `store_numbers`. Unknown
/// store numbers are a 400 naming them (they are the tenant's own data).
pub(super) async fn set_locations(
    tx: &mut TenantTx,
    user: Uuid,
    store_numbers: &[String],
) -> Result<(), ScimError> {
    if store_numbers.is_empty() {
        sqlx::query("delete from user_locations where user_id = $1")
            .bind(user)
            .execute(tx.conn())
            .await?;
        return Ok(());
    }
    let wanted: BTreeSet<&str> = store_numbers.iter().map(String::as_str).collect();
    let found: Vec<(Uuid, String)> =
        sqlx::query_as("select id, store_number from locations where store_number = any($1)")
            .bind(store_numbers)
            .fetch_all(tx.conn())
            .await?;
    if found.len() < wanted.len() {
        let known: BTreeSet<&str> = found.iter().map(|(_, s)| s.as_str()).collect();
        let unknown: Vec<&str> = wanted.difference(&known).copied().collect();
        return Err(ScimError::bad(
            ScimType::InvalidValue,
            format!("no location has the store number(s) {}", unknown.join(", ")),
        ));
    }
    let ids: Vec<Uuid> = found.into_iter().map(|(id, _)| id).collect();
    sqlx::query("delete from user_locations where user_id = $1 and location_id <> all($2)")
        .bind(user)
        .bind(&ids)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "insert into user_locations (tenant_id, user_id, location_id)
         select $1, $2, unnest($3::uuid[]) on conflict do nothing",
    )
    .bind(tx.tenant().as_uuid())
    .bind(user)
    .bind(&ids)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One provisioning event in the tenant's audit trail. Details name what
/// changed, never the values (they are personal data).
pub(super) async fn audit(
    tx: &mut TenantTx,
    call: Call<'_>,
    action: &str,
    target: (&str, Uuid),
    details: Value,
) -> Result<(), ScimError> {
    sqlx::query(
        "insert into audit_events (tenant_id, actor_type, actor_id, action, target_type,
                                   target_id, request_id, details)
         values ($1, 'scim', $2, $3, $4, $5, $6, $7)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(call.client.token_id)
    .bind(action)
    .bind(target.0)
    .bind(target.1)
    .bind(call.request_id)
    .bind(details)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The top-level attribute names whose values differ between two documents
/// (for audit details).
pub(super) fn changed_attributes(before: &Value, after: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (b, a) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter()
        .filter(|k| !matches!(k.as_str(), "meta" | "schemas" | "groups" | "id"))
        .filter(|k| b.get(*k) != a.get(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_admits_star_lists_and_weak_forms() {
        let v = "W/\"42\"";
        assert!(if_match(None, v).is_ok());
        assert!(if_match(Some("*"), v).is_ok());
        assert!(if_match(Some("\"42\""), v).is_ok());
        assert!(if_match(Some("W/\"1\", W/\"42\""), v).is_ok());
        assert!(matches!(
            if_match(Some("W/\"41\""), v),
            Err(ScimError::PreconditionFailed)
        ));
    }
}
