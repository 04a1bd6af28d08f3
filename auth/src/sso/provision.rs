//! From verified id_token claims to a user of the tenant.
//!
//! Users are keyed on (issuer, subject). An e-mail only ever links an
//! identity to an existing, not yet linked account (one an admin or SCIM
//! created) and only when the IdP vouches for the address; it never lets a
//! second identity into an account that is linked already.

use prep_tenancy::{TenancyError, TenantTx};
use serde_json::Value;
use uuid::Uuid;

use super::connection::{Connection, Provisioning};
use super::SsoError;

/// What the IdP told us about the person, after verification.
#[derive(Debug)]
pub struct Identity {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// E-mail, from the connection's e-mail claim.
    pub email: String,
    /// Whether the IdP verified the e-mail (absent counts as verified only
    /// for IdPs that never send the claim: we require it to not be `false`).
    pub email_verified: bool,
    /// Display name.
    pub name: String,
    /// Groups, from the connection's groups claim.
    pub groups: Vec<String>,
    /// The login name (`preferred_username`, else the e-mail): what SCIM
    /// calls userName.
    pub login: String,
}

impl Identity {
    /// Reads the mapped claims from the verified payload.
    pub fn from_claims(
        issuer: String,
        subject: String,
        payload: &Value,
        c: &Connection,
    ) -> Result<Self, SsoError> {
        let text = |claim: &str| {
            payload
                .get(claim)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let email = text(&c.email_claim)
            .filter(|e| (3..=320).contains(&e.len()) && e.contains('@'))
            .ok_or(SsoError::ClaimsMissing(
                "the identity provider sent no usable e-mail address",
            ))?;
        let email_verified = match payload.get("email_verified") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => true,
        };
        let groups = match payload.get(&c.groups_claim) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        Ok(Self {
            login: text("preferred_username")
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| email.clone()),
            issuer,
            subject,
            name: text(&c.name_claim).unwrap_or_default(),
            email,
            email_verified,
            groups,
        })
    }
}

/// The signed-in user and whether we created them just now.
#[derive(Debug)]
pub struct Provisioned {
    /// The user.
    pub user: Uuid,
    /// Created at this sign-in (JIT).
    pub created: bool,
}

/// Finds, links or creates the user for `identity`, and for JIT modes
/// syncs the roles the IdP's groups grant.
pub async fn provision(
    tx: &mut TenantTx,
    c: &Connection,
    identity: &Identity,
) -> Result<Provisioned, SsoError> {
    let linked: Option<(Uuid, bool)> =
        sqlx::query_as("select id, active from users where sso_issuer = $1 and sso_subject = $2")
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .fetch_optional(tx.conn())
            .await
            .map_err(TenancyError::from)?;
    let jit = c.provisioning != Provisioning::ScimOnly;
    let (user, created) = match linked {
        Some((_, false)) => return Err(SsoError::Deactivated),
        Some((id, true)) => {
            if jit {
                sqlx::query(
                    "update users set email = $2, email_normalized = lower($2),
                            display_name = coalesce(nullif($3, ''), display_name)
                     where id = $1
                       and (email_normalized <> lower($2)
                            or display_name <> coalesce(nullif($3, ''), display_name))",
                )
                .bind(id)
                .bind(&identity.email)
                .bind(&identity.name)
                .execute(tx.conn())
                .await
                .map_err(conflict_or_store)?;
            }
            (id, false)
        }
        None => match link_scim_user(tx, c, identity).await? {
            Some(id) => (id, false),
            None => link_or_create(tx, identity, jit).await?,
        },
    };
    if jit {
        sync_roles(tx, c, user, &identity.groups).await?;
    }
    Ok(Provisioned { user, created })
}

/// A user SCIM provisioned before their first sign-in, found by the
/// connection's link rule and linked to this identity. The rule's values
/// come from the tenant's own IdP on both sides (SCIM and sign-in).
async fn link_scim_user(
    tx: &mut TenantTx,
    c: &Connection,
    identity: &Identity,
) -> Result<Option<Uuid>, SsoError> {
    let (sql, key) = if c.scim_link_by_external_id {
        (
            "select id, active from users where external_id = $1 and sso_issuer is null",
            &identity.subject,
        )
    } else {
        (
            "select id, active from users where user_name_normalized = lower($1) and sso_issuer is null",
            &identity.login,
        )
    };
    let found: Option<(Uuid, bool)> = sqlx::query_as(sql)
        .bind(key)
        .fetch_optional(tx.conn())
        .await
        .map_err(TenancyError::from)?;
    match found {
        None => Ok(None),
        Some((_, false)) => Err(SsoError::Deactivated),
        Some((id, true)) => {
            sqlx::query("update users set sso_issuer = $2, sso_subject = $3 where id = $1")
                .bind(id)
                .bind(&identity.issuer)
                .bind(&identity.subject)
                .execute(tx.conn())
                .await
                .map_err(conflict_or_store)?;
            Ok(Some(id))
        }
    }
}

async fn link_or_create(
    tx: &mut TenantTx,
    identity: &Identity,
    jit: bool,
) -> Result<(Uuid, bool), SsoError> {
    let existing: Option<(Uuid, bool, Option<String>)> = sqlx::query_as(
        "select id, active, sso_issuer from users where email_normalized = lower($1)",
    )
    .bind(&identity.email)
    .fetch_optional(tx.conn())
    .await
    .map_err(TenancyError::from)?;
    match existing {
        Some((_, false, _)) => Err(SsoError::Deactivated),
        Some((_, true, Some(_))) => Err(SsoError::IdentityConflict),
        Some((id, true, None)) if identity.email_verified => {
            sqlx::query("update users set sso_issuer = $2, sso_subject = $3 where id = $1")
                .bind(id)
                .bind(&identity.issuer)
                .bind(&identity.subject)
                .execute(tx.conn())
                .await
                .map_err(conflict_or_store)?;
            Ok((id, false))
        }
        Some(_) => Err(SsoError::ClaimsMissing(
            "the identity provider has not verified this e-mail address",
        )),
        None if !jit => Err(SsoError::NotProvisioned),
        None => {
            let tenant = tx.tenant().as_uuid();
            let id: Uuid = sqlx::query_scalar(
                "insert into users (tenant_id, email, email_normalized, display_name, sso_issuer, sso_subject)
                 values ($1, $2, lower($2), $3, $4, $5) returning id",
            )
            .bind(tenant)
            .bind(&identity.email)
            .bind(&identity.name)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .fetch_one(tx.conn())
            .await
            .map_err(conflict_or_store)?;
            Ok((id, true))
        }
    }
}

/// Makes the user's `sso` grants exactly what the groups map to; grants
/// made by hand or by SCIM are left alone.
async fn sync_roles(
    tx: &mut TenantTx,
    c: &Connection,
    user: Uuid,
    groups: &[String],
) -> Result<(), SsoError> {
    let mut roles = Vec::new();
    let mut locations = Vec::new();
    for m in c.role_mappings.iter().filter(|m| groups.contains(&m.group)) {
        if let Ok(g) = m.grant() {
            roles.push(g.role.as_str().to_owned());
            locations.push(g.location);
        }
    }
    let tenant = tx.tenant().as_uuid();
    // only touch rows that change, so an unchanged sign-in revokes no token
    sqlx::query(
        "with wanted as (select distinct * from unnest($3::text[], $4::uuid[]) as w(role, location_id)),
         gone as (
           delete from role_grants g
           where g.user_id = $2 and g.source = 'sso'
             and not exists (select 1 from wanted w
                             where w.role = g.role and w.location_id is not distinct from g.location_id)
         )
         insert into role_grants (tenant_id, role, user_id, location_id, source)
         select $1, w.role, $2, w.location_id, 'sso' from wanted w
         where not exists (select 1 from role_grants g
                           where g.user_id = $2 and g.source = 'sso' and g.role = w.role
                             and g.location_id is not distinct from w.location_id)",
    )
    .bind(tenant)
    .bind(user)
    .bind(&roles)
    .bind(&locations)
    .execute(tx.conn())
    .await
    .map_err(TenancyError::from)?;
    Ok(())
}

fn conflict_or_store(e: sqlx::Error) -> SsoError {
    match &e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            SsoError::IdentityConflict
        }
        _ => SsoError::Store(e.into()),
    }
}
