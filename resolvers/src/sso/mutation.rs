use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use prep_auth::sso::admin::{self, AdminError, ConnectionInput, FieldProblem};
use prep_auth::sso::RoleMapping;
use prep_auth::Target;
use serde_json::json;

use super::{load, service, SsoConnection, SsoDomain, SsoProvisioning, SsoScimLink, SSO_WRITE};
use crate::audit;
use crate::context::request;
use crate::enums::Role;
use crate::error::ApiError;
use crate::ids::{self, NodeType};
use crate::payload::{UserError, UserErrorCode};

/// An IdP group that grants a role.
#[derive(InputObject)]
pub struct SsoRoleMappingInput {
    /// The group as the IdP names it in the groups claim.
    pub group: String,
    /// The role it grants.
    pub role: Role,
    /// For one location only.
    pub location_id: Option<ID>,
}

/// An SSO connection as an admin describes it.
#[derive(InputObject)]
pub struct SsoConnectionInput {
    /// Display name.
    pub name: String,
    /// The issuer URL, exactly as the IdP's tokens carry it.
    pub issuer: String,
    /// The OAuth client id registered at the IdP.
    pub client_id: String,
    /// The client secret: required on create; on update, omit to keep it.
    pub client_secret: Option<String>,
    /// Scopes beyond `openid`.
    #[graphql(default_with = "vec![\"email\".to_owned(), \"profile\".to_owned()]")]
    pub scopes: Vec<String>,
    /// Claim holding the e-mail address.
    #[graphql(default_with = "\"email\".to_owned()")]
    pub email_claim: String,
    /// Claim holding the display name.
    #[graphql(default_with = "\"name\".to_owned()")]
    pub name_claim: String,
    /// Claim holding the groups.
    #[graphql(default_with = "\"groups\".to_owned()")]
    pub groups_claim: String,
    /// Group → role mappings.
    #[graphql(default)]
    pub role_mappings: Vec<SsoRoleMappingInput>,
    /// Who may sign in.
    #[graphql(default_with = "SsoProvisioning::Jit")]
    pub provisioning: SsoProvisioning,
    /// Whether sign-in through it is allowed.
    #[graphql(default = true)]
    pub enabled: bool,
    /// How a first sign-in finds a user SCIM provisioned before.
    #[graphql(default_with = "SsoScimLink::UserName")]
    pub scim_link: SsoScimLink,
}

/// An e-mail domain to route to a connection.
#[derive(InputObject)]
pub struct AddSsoDomainInput {
    /// The connection.
    pub connection_id: ID,
    /// The domain, e.g. `acme.com`.
    pub domain: String,
}

/// Result of creating or updating a connection.
#[derive(SimpleObject)]
pub struct SsoConnectionPayload {
    /// The connection, unless the input was refused.
    pub connection: Option<SsoConnection>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

/// Result of testing a connection.
#[derive(SimpleObject)]
pub struct TestSsoConnectionPayload {
    /// Whether the IdP's discovery document and keys loaded.
    pub ok: bool,
    /// What was found or went wrong, for the admin.
    pub message: String,
}

/// Result of claiming a domain.
#[derive(SimpleObject)]
pub struct SsoDomainPayload {
    /// The domain claim, with its DNS verification token.
    pub domain: Option<SsoDomain>,
    /// What was wrong with the input.
    pub user_errors: Vec<UserError>,
}

fn to_input(input: SsoConnectionInput) -> Result<ConnectionInput, ApiError> {
    let mut mappings = Vec::with_capacity(input.role_mappings.len());
    for m in input.role_mappings {
        mappings.push(RoleMapping {
            group: m.group,
            role: m.role.as_db().to_owned(),
            location_id: m
                .location_id
                .as_ref()
                .map(|l| ids::decode(l, NodeType::Location))
                .transpose()?,
        });
    }
    Ok(ConnectionInput {
        name: input.name,
        issuer: input.issuer,
        client_id: input.client_id,
        client_secret: input.client_secret,
        scopes: input.scopes,
        email_claim: input.email_claim,
        name_claim: input.name_claim,
        groups_claim: input.groups_claim,
        role_mappings: mappings,
        provisioning: input.provisioning.into(),
        enabled: input.enabled,
        scim_link_by_external_id: input.scim_link == SsoScimLink::ExternalId,
    })
}

fn user_errors(problems: Vec<FieldProblem>) -> Vec<UserError> {
    problems
        .into_iter()
        .map(|p| {
            let code = if p.message.starts_with("no such") {
                UserErrorCode::NotFound
            } else if p.message.contains("already") {
                UserErrorCode::Taken
            } else {
                UserErrorCode::Invalid
            };
            UserError::new(&p.field, code, p.message)
        })
        .collect()
}

fn admin_error(e: AdminError) -> ApiError {
    match e {
        AdminError::NotFound => ApiError::NotFound("SSO connection"),
        AdminError::Store(e) => ApiError::Tenancy(e),
        AdminError::Internal(m) => ApiError::Internal(m),
        AdminError::Invalid(_) => ApiError::Internal("unmapped input problems".into()),
    }
}

/// SSO admin mutations (owners and admins), each audited.
#[derive(Default)]
pub struct SsoMutation;

#[Object]
impl SsoMutation {
    /// Connects the tenant to its identity provider. Needs `sso:write`.
    async fn create_sso_connection(
        &self,
        ctx: &Context<'_>,
        input: SsoConnectionInput,
    ) -> Result<SsoConnectionPayload> {
        let rc = request(ctx)?;
        rc.authorize(SSO_WRITE, Target::Tenant).await?;
        let sso = service(ctx)?;
        let input = to_input(input)?;
        let mut tx = rc.begin_write().await?;
        let id = match admin::create(&mut tx, sso, &input).await {
            Ok(id) => id,
            Err(AdminError::Invalid(p)) => {
                return Ok(SsoConnectionPayload {
                    connection: None,
                    user_errors: user_errors(p),
                })
            }
            Err(e) => return Err(admin_error(e).into()),
        };
        let details =
            json!({ "issuer": input.issuer, "provisioning": input.provisioning.as_str() });
        audit::record(
            &mut tx,
            rc,
            "sso.connection.create",
            (NodeType::SsoConnection, id),
            details,
        )
        .await?;
        let connection = load(&mut tx, id).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(SsoConnectionPayload {
            connection: Some(connection),
            user_errors: Vec::new(),
        })
    }

    /// Changes a connection; omit `clientSecret` to keep the current one.
    /// Needs `sso:write`.
    async fn update_sso_connection(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: SsoConnectionInput,
    ) -> Result<SsoConnectionPayload> {
        let id = ids::decode(&id, NodeType::SsoConnection)?;
        let rc = request(ctx)?;
        rc.authorize(SSO_WRITE, Target::Tenant).await?;
        let sso = service(ctx)?;
        let input = to_input(input)?;
        let mut tx = rc.begin_write().await?;
        match admin::update(&mut tx, sso, id, &input).await {
            Ok(()) => {}
            Err(AdminError::Invalid(p)) => {
                return Ok(SsoConnectionPayload {
                    connection: None,
                    user_errors: user_errors(p),
                })
            }
            Err(e) => return Err(admin_error(e).into()),
        }
        let details = json!({
            "issuer": input.issuer,
            "secretReplaced": input.client_secret.is_some(),
            "enabled": input.enabled,
        });
        audit::record(
            &mut tx,
            rc,
            "sso.connection.update",
            (NodeType::SsoConnection, id),
            details,
        )
        .await?;
        let connection = load(&mut tx, id).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(SsoConnectionPayload {
            connection: Some(connection),
            user_errors: Vec::new(),
        })
    }

    /// Fetches the IdP's discovery document and keys now, to check the
    /// issuer before anyone signs in. Needs `sso:write`.
    async fn test_sso_connection(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<TestSsoConnectionPayload> {
        let id = ids::decode(&id, NodeType::SsoConnection)?;
        let rc = request(ctx)?;
        rc.authorize(SSO_WRITE, Target::Tenant).await?;
        let sso = service(ctx)?;
        let mut tx = rc.begin_write().await?;
        let connection = load(&mut tx, id).await?;
        let outcome = sso.test_issuer(id, &connection.issuer).await;
        let (ok, message) = match &outcome {
            Ok(()) => (
                true,
                format!("discovered {} and loaded its keys", connection.issuer),
            ),
            Err(e) => (false, e.user_message()),
        };
        audit::record(
            &mut tx,
            rc,
            "sso.connection.test",
            (NodeType::SsoConnection, id),
            json!({ "ok": ok }),
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(TestSsoConnectionPayload { ok, message })
    }

    /// Claims an e-mail domain for a connection. It routes sign-ins once
    /// verified (publish the token as DNS TXT at `_prep-verification.<domain>`
    /// and ask an operator to verify). Needs `sso:write`.
    async fn add_sso_domain(
        &self,
        ctx: &Context<'_>,
        input: AddSsoDomainInput,
    ) -> Result<SsoDomainPayload> {
        let connection = ids::decode(&input.connection_id, NodeType::SsoConnection)?;
        let rc = request(ctx)?;
        rc.authorize(SSO_WRITE, Target::Tenant).await?;
        let mut tx = rc.begin_write().await?;
        let token = match admin::add_domain(&mut tx, connection, &input.domain, false).await {
            Ok(t) => t,
            Err(AdminError::Invalid(p)) => {
                return Ok(SsoDomainPayload {
                    domain: None,
                    user_errors: user_errors(p),
                })
            }
            Err(e) => return Err(admin_error(e).into()),
        };
        let domain = input
            .domain
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        audit::record(
            &mut tx,
            rc,
            "sso.domain.add",
            (NodeType::SsoConnection, connection),
            json!({ "domain": domain }),
        )
        .await?;
        let verified: bool = sqlx::query_scalar(
            "select verified_at is not null from sso_domains where domain = $1 and connection_id = $2",
        )
        .bind(&domain)
        .bind(connection)
        .fetch_one(tx.conn())
        .await
        .map_err(ApiError::from)?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(SsoDomainPayload {
            domain: Some(SsoDomain {
                domain,
                verified,
                verification_token: token,
            }),
            user_errors: Vec::new(),
        })
    }
}
