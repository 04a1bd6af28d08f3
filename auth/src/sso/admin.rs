//! Admin operations on SSO connections: validated input in, sealed secret
//! stored, problems reported per field so the API can answer `userErrors`.

use prep_tenancy::{TenancyError, TenantTx};
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;

use super::connection::{secret_context, Provisioning, RoleMapping};
use super::Sso;

/// A connection as an admin describes it.
#[derive(Clone, Debug)]
pub struct ConnectionInput {
    /// Display name.
    pub name: String,
    /// Issuer URL.
    pub issuer: String,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret (write-only: never read back).
    pub client_secret: Option<String>,
    /// Scopes beyond `openid`.
    pub scopes: Vec<String>,
    /// Claim names.
    pub email_claim: String,
    /// Claim names.
    pub name_claim: String,
    /// Claim names.
    pub groups_claim: String,
    /// Group → role mappings.
    pub role_mappings: Vec<RoleMapping>,
    /// Who may sign in.
    pub provisioning: Provisioning,
    /// Whether sign-in through it is allowed.
    pub enabled: bool,
    /// How a first sign-in finds a SCIM-provisioned user: by subject =
    /// externalId (`true`) or by login name = userName (`false`).
    pub scim_link_by_external_id: bool,
}

/// A problem with one field of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    /// The input field, e.g. `issuer` or `roleMappings.0.role`.
    pub field: String,
    /// What is wrong, for the admin.
    pub message: String,
}

/// Why an admin operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Fixable input problems.
    #[error("invalid input")]
    Invalid(Vec<FieldProblem>),
    /// No such connection in this tenant.
    #[error("not found")]
    NotFound,
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] TenancyError),
    /// Sealing failed.
    #[error("internal: {0}")]
    Internal(String),
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks an input; `creating` requires the client secret.
pub fn validate(input: &ConnectionInput, creating: bool) -> Vec<FieldProblem> {
    let mut p = Vec::new();
    if !(1..=100).contains(&input.name.trim().len()) {
        p.push(problem("name", "must be 1 to 100 characters"));
    }
    match url::Url::parse(&input.issuer) {
        Ok(u) => {
            let local = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
            if u.scheme() != "https" && !(u.scheme() == "http" && local) {
                p.push(problem("issuer", "must be an https URL"));
            }
            if u.query().is_some() || u.fragment().is_some() || input.issuer.len() > 500 {
                p.push(problem(
                    "issuer",
                    "must have no query or fragment and at most 500 characters",
                ));
            }
        }
        Err(_) => p.push(problem(
            "issuer",
            "must be a URL such as https://login.example.com",
        )),
    }
    if !(1..=500).contains(&input.client_id.len()) {
        p.push(problem("clientId", "must be 1 to 500 characters"));
    }
    match &input.client_secret {
        Some(s) if !(1..=2000).contains(&s.len()) => {
            p.push(problem("clientSecret", "must be 1 to 2000 characters"))
        }
        None if creating => p.push(problem("clientSecret", "is required")),
        _ => {}
    }
    for (i, s) in input.scopes.iter().enumerate() {
        let ok = !s.is_empty()
            && s.len() <= 100
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_:.-/".contains(c));
        if !ok {
            p.push(problem(
                format!("scopes.{i}"),
                "must be a scope token (letters, digits, _ : . - /)",
            ));
        }
    }
    for (field, claim) in [
        ("emailClaim", &input.email_claim),
        ("nameClaim", &input.name_claim),
        ("groupsClaim", &input.groups_claim),
    ] {
        if !(1..=100).contains(&claim.len()) {
            p.push(problem(field, "must be 1 to 100 characters"));
        }
    }
    for (i, m) in input.role_mappings.iter().enumerate() {
        if !(1..=256).contains(&m.group.len()) {
            p.push(problem(
                format!("roleMappings.{i}.group"),
                "must be 1 to 256 characters",
            ));
        }
        if let Err(e) = m.grant() {
            p.push(problem(format!("roleMappings.{i}.role"), e));
        }
    }
    if input.role_mappings.len() > 200 {
        p.push(problem("roleMappings", "at most 200 mappings"));
    }
    p
}

/// Creates a connection in the transaction's tenant.
pub async fn create(
    tx: &mut TenantTx,
    sso: &Sso,
    input: &ConnectionInput,
) -> Result<Uuid, AdminError> {
    let problems = validate(input, true);
    if !problems.is_empty() {
        return Err(AdminError::Invalid(problems));
    }
    check_locations(tx, input).await?;
    let id = Uuid::new_v4();
    let secret = input.client_secret.as_deref().unwrap_or_default();
    let sealed = sso
        .secrets()
        .seal(
            secret.as_bytes(),
            &secret_context(tx.tenant().as_uuid(), id),
        )
        .map_err(|e| AdminError::Internal(e.to_string()))?;
    let tenant = tx.tenant().as_uuid();
    let result = sqlx::query(
        "insert into sso_connections (tenant_id, id, name, issuer, client_id, client_secret_sealed,
             scopes, email_claim, name_claim, groups_claim, role_mappings, provisioning, enabled,
             scim_link)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(tenant)
    .bind(id)
    .bind(input.name.trim())
    .bind(&input.issuer)
    .bind(&input.client_id)
    .bind(sealed)
    .bind(scopes_with_openid(&input.scopes))
    .bind(&input.email_claim)
    .bind(&input.name_claim)
    .bind(&input.groups_claim)
    .bind(
        serde_json::to_value(&input.role_mappings)
            .map_err(|e| AdminError::Internal(e.to_string()))?,
    )
    .bind(input.provisioning.as_str())
    .bind(input.enabled)
    .bind(scim_link(input))
    .execute(tx.conn())
    .await;
    match result {
        Ok(_) => Ok(id),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23505") => {
            Err(AdminError::Invalid(vec![problem(
                "issuer",
                "this workspace already has a connection for that issuer",
            )]))
        }
        Err(e) => Err(AdminError::Store(e.into())),
    }
}

fn scim_link(input: &ConnectionInput) -> &'static str {
    if input.scim_link_by_external_id {
        "external_id"
    } else {
        "user_name"
    }
}

/// Updates a connection; the secret is replaced only when given.
pub async fn update(
    tx: &mut TenantTx,
    sso: &Sso,
    id: Uuid,
    input: &ConnectionInput,
) -> Result<(), AdminError> {
    let problems = validate(input, false);
    if !problems.is_empty() {
        return Err(AdminError::Invalid(problems));
    }
    check_locations(tx, input).await?;
    let sealed = match &input.client_secret {
        Some(s) => Some(
            sso.secrets()
                .seal(s.as_bytes(), &secret_context(tx.tenant().as_uuid(), id))
                .map_err(|e| AdminError::Internal(e.to_string()))?,
        ),
        None => None,
    };
    let done = sqlx::query(
        "update sso_connections set name = $2, issuer = $3, client_id = $4,
             client_secret_sealed = coalesce($5, client_secret_sealed), scopes = $6, email_claim = $7,
             name_claim = $8, groups_claim = $9, role_mappings = $10, provisioning = $11, enabled = $12,
             scim_link = $13
         where id = $1",
    )
    .bind(id)
    .bind(input.name.trim())
    .bind(&input.issuer)
    .bind(&input.client_id)
    .bind(sealed)
    .bind(scopes_with_openid(&input.scopes))
    .bind(&input.email_claim)
    .bind(&input.name_claim)
    .bind(&input.groups_claim)
    .bind(serde_json::to_value(&input.role_mappings).map_err(|e| AdminError::Internal(e.to_string()))?)
    .bind(input.provisioning.as_str())
    .bind(input.enabled)
    .bind(scim_link(input))
    .execute(tx.conn())
    .await
    .map_err(TenancyError::from)?;
    if done.rows_affected() == 0 {
        return Err(AdminError::NotFound);
    }
    Ok(())
}

/// Claims an e-mail domain for a connection; returns the token to publish
/// in DNS (`_prep-verification.<domain> TXT <token>`). `verified` is for
/// operators who verified the domain out of band.
pub async fn add_domain(
    tx: &mut TenantTx,
    connection: Uuid,
    domain: &str,
    verified: bool,
) -> Result<String, AdminError> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if !valid {
        return Err(AdminError::Invalid(vec![problem(
            "domain",
            "must be a DNS name such as example.com",
        )]));
    }
    let mut raw = [0u8; 18];
    SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| AdminError::Internal("random source failed".into()))?;
    let token = format!("prep-verify-{}", hex(&raw));
    let tenant = tx.tenant().as_uuid();
    let result = sqlx::query(
        "insert into sso_domains (tenant_id, domain, connection_id, verification_token, verified_at)
         values ($1, $2, $3, $4, case when $5 then now() end)
         on conflict (tenant_id, domain) do update
           set connection_id = excluded.connection_id,
               verified_at = coalesce(sso_domains.verified_at, excluded.verified_at)
         returning verification_token",
    )
    .bind(tenant)
    .bind(&domain)
    .bind(connection)
    .bind(&token)
    .bind(verified)
    .fetch_one(tx.conn())
    .await;
    match result {
        Ok(row) => Ok(sqlx::Row::get(&row, 0)),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23503") => {
            Err(AdminError::NotFound)
        }
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23505") => {
            Err(AdminError::Invalid(vec![problem(
                "domain",
                "this domain is verified for another workspace",
            )]))
        }
        Err(e) => Err(AdminError::Store(e.into())),
    }
}

/// Marks a claimed domain verified (an operator confirmed it, e.g. found
/// the DNS TXT record). Fails if another tenant verified it first.
pub async fn verify_domain(tx: &mut TenantTx, domain: &str) -> Result<(), AdminError> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let result = sqlx::query(
        "update sso_domains set verified_at = coalesce(verified_at, now()) where domain = $1",
    )
    .bind(&domain)
    .execute(tx.conn())
    .await;
    match result {
        Ok(done) if done.rows_affected() == 0 => Err(AdminError::NotFound),
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23505") => {
            Err(AdminError::Invalid(vec![problem(
                "domain",
                "this domain is verified for another workspace",
            )]))
        }
        Err(e) => Err(AdminError::Store(e.into())),
    }
}

async fn check_locations(tx: &mut TenantTx, input: &ConnectionInput) -> Result<(), AdminError> {
    let ids: Vec<Uuid> = input
        .role_mappings
        .iter()
        .filter_map(|m| m.location_id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let found: Vec<Uuid> = sqlx::query_scalar("select id from locations where id = any($1)")
        .bind(&ids)
        .fetch_all(tx.conn())
        .await
        .map_err(TenancyError::from)?;
    let problems: Vec<FieldProblem> = input
        .role_mappings
        .iter()
        .enumerate()
        .filter(|(_, m)| m.location_id.is_some_and(|l| !found.contains(&l)))
        .map(|(i, _)| problem(format!("roleMappings.{i}.locationId"), "no such location"))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AdminError::Invalid(problems))
    }
}

fn scopes_with_openid(scopes: &[String]) -> Vec<String> {
    let mut out = vec!["openid".to_owned()];
    for s in scopes {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ConnectionInput {
        ConnectionInput {
            name: "Okta".into(),
            issuer: "https://acme.okta.com".into(),
            client_id: "client".into(),
            client_secret: Some("secret".into()),
            scopes: vec!["email".into(), "profile".into()],
            email_claim: "email".into(),
            name_claim: "name".into(),
            groups_claim: "groups".into(),
            role_mappings: vec![],
            provisioning: Provisioning::Jit,
            scim_link_by_external_id: false,
            enabled: true,
        }
    }

    #[test]
    fn inputs_are_checked_field_by_field() {
        assert!(validate(&input(), true).is_empty());
        let mut bad = input();
        bad.issuer = "http://idp.example.com".into();
        bad.client_secret = None;
        bad.scopes = vec!["bad scope".into()];
        bad.role_mappings = vec![RoleMapping {
            group: "g".into(),
            role: "root".into(),
            location_id: None,
        }];
        let fields: Vec<String> = validate(&bad, true).into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            ["issuer", "clientSecret", "scopes.0", "roleMappings.0.role"]
        );
        let mut local = input();
        local.issuer = "http://127.0.0.1:4444".into();
        assert!(
            validate(&local, true).is_empty(),
            "local http IdPs are for development"
        );
        assert_eq!(
            scopes_with_openid(&["email".into(), "openid".into()]),
            ["openid", "email"]
        );
    }
}
