//! Operator tasks shared by several commands (and by the tests).

use std::time::Duration;

use prep_auth::users;
use prep_auth::{Grant, TokenSubject};
use prep_tenancy::{Database, NewTenant, TenantId, TenantSlug};

use super::{CliError, SeedSize};
use crate::app::AppState;

pub(super) async fn find_tenant(db: &Database, slug: &str) -> Result<TenantId, CliError> {
    let slug = TenantSlug::parse(slug).map_err(CliError::Usage)?;
    db.tenant_by_slug(&slug)
        .await?
        .ok_or_else(|| CliError::Usage(format!("no tenant with slug {slug:?}")))
}

/// Mints a token for `email` in tenant `slug`, creating the user if missing
/// and granting `roles` first (by the operator).
pub async fn mint(
    state: &AppState,
    slug: &str,
    email: &str,
    roles: &[Grant],
    ttl: Duration,
) -> Result<String, CliError> {
    if !(3..=320).contains(&email.len()) || !email.contains('@') {
        return Err(CliError::Usage(format!(
            "{email:?} is not an e-mail address"
        )));
    }
    let tenant = find_tenant(&state.db, slug).await?;
    let mut tx = state.db.begin(tenant).await?;
    let user = users::ensure_user(&mut tx, email, "").await?;
    for grant in roles {
        users::grant_role(&mut tx, user, *grant, "operator").await?;
    }
    let grants = users::grants_of(&mut tx, user).await?;
    tx.commit().await?;
    let subject = TokenSubject {
        tenant,
        tenant_slug: slug,
        user,
        grants: &grants,
    };
    Ok(state.tokens.issue(&subject, ttl)?)
}

/// Creates the tenant if missing and seeds it (only if it has no locations,
/// unless `reset`).
pub async fn seed(
    db: &Database,
    slug: &str,
    size: SeedSize,
    reset: bool,
) -> Result<(TenantId, prep_sandbox::SeedReport), CliError> {
    let parsed = TenantSlug::parse(slug).map_err(CliError::Usage)?;
    let tenant = match db.tenant_by_slug(&parsed).await? {
        Some(id) => id,
        None => {
            db.create_tenant(&NewTenant {
                slug: parsed.clone(),
                name: format!("{} (seeded)", slug),
                plan: if slug == "sandbox" {
                    "free".into()
                } else {
                    "standard".into()
                },
                is_sandbox: slug == "sandbox",
            })
            .await?
        }
    };
    if reset {
        prep_sandbox::reset_tenant(db, tenant).await?;
    }
    let spec = match size {
        SeedSize::Demo => prep_sandbox::SeedSpec::demo(),
        SeedSize::Bench => prep_sandbox::SeedSpec::bench(),
    };
    let report =
        prep_sandbox::seed_tenant(db, tenant, &spec, prep_resolvers::clock::today()).await?;
    Ok((tenant, report))
}

/// `tenant limits`: applies a plan change and overrides (validated against
/// the merged result), and returns the limits in force as TOML.
pub(super) async fn tenant_limits(
    db: &Database,
    settings: &crate::config::Settings,
    slug: &str,
    plan: Option<String>,
    set: &[String],
    reset: bool,
) -> Result<String, CliError> {
    let tenant = find_tenant(db, slug).await?;
    let current = db
        .tenant_plan(tenant)
        .await?
        .ok_or_else(|| CliError::Usage(format!("no tenant with slug {slug:?}")))?;
    let mut overrides = if reset {
        serde_json::json!({})
    } else {
        current.overrides.clone()
    };
    for pair in set {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--set takes NAME=VALUE, got {pair:?}")))?;
        let value: serde_json::Value = value
            .trim()
            .parse()
            .map_err(|_| CliError::Usage(format!("{name}: {value:?} is not a number")))?;
        overrides[name.trim()] = value;
    }
    let plan_name = plan.clone().unwrap_or(current.plan);
    let limits = settings
        .limits
        .tiers
        .of_plan(&plan_name)
        .with_overrides(&overrides)
        .map_err(|e| CliError::Usage(format!("refused: {e}")))?;
    if plan.is_some() || !set.is_empty() || reset {
        db.set_tenant_plan(tenant, plan.as_deref(), Some(&overrides))
            .await?;
    }
    let table = toml_table(&serde_json::to_value(limits).unwrap_or_default());
    Ok(format!(
        "# tenant {slug}: plan {plan_name}, overrides {overrides}\n{table}"
    ))
}

fn toml_table(v: &serde_json::Value) -> String {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k} = {v}\n"))
                .collect::<String>()
        })
        .unwrap_or_default()
}
