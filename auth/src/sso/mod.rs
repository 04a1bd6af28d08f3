//! Per-tenant OIDC single sign-on: identifier-first login, the
//! authorization code flow with PKCE (S256), `state` and `nonce`, the
//! callback's checks (state, RFC 9207 `iss`, id_token validation by
//! `openidconnect` plus a bounded JWKS refetch), provisioning, and the
//! session at the end.

pub mod admin;
mod connection;
mod error;
mod provider;
mod provision;
mod transaction;

use std::net::IpAddr;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::Utc;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl, LogoutRequest, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, RedirectUrl, Scope,
    TokenResponse as _,
};
use prep_tenancy::{Database, TenancyError, TenantId, TenantSlug, TenantTx};
use uuid::Uuid;

pub use connection::{Connection, Provisioning, RoleMapping};
pub use error::SsoError;
pub use transaction::{clear_login_cookie, login_cookie, LoginTransaction, LOGIN_COOKIE};

use crate::seal::{MasterKey, Purpose, Sealer};
use crate::sessions::{NewSession, Sessions};
use provider::Providers;
use provision::{provision, Identity};

/// Where the IdP sends people back, and the bounds on talking to it.
#[derive(Clone, Debug)]
pub struct SsoSettings {
    /// `{public_url}/auth/callback`.
    pub redirect_uri: String,
    /// `{public_url}/auth/logged-out`.
    pub post_logout_redirect_uri: String,
    /// How long a sign-in at the IdP may take.
    pub login_timeout: Duration,
    /// Bound on each call to an IdP.
    pub idp_timeout: Duration,
    /// Unknown `kid` refetches at most this often per connection.
    pub jwks_min_refetch: Duration,
}

/// How a sign-in starts: an e-mail (its domain picks the connection) or a
/// tenant slug (its only connection).
#[derive(Clone, Copy, Debug, Default)]
pub struct LoginStart<'a> {
    /// The address the person typed.
    pub email: Option<&'a str>,
    /// Or the workspace.
    pub tenant: Option<&'a str>,
    /// A relative path to land on afterwards.
    pub return_to: Option<&'a str>,
}

/// Where to send the browser, with the login cookie to set.
#[derive(Debug)]
pub struct LoginRedirect {
    /// The IdP's authorization URL.
    pub url: String,
    /// `Set-Cookie` value for the login transaction.
    pub set_cookie: String,
}

/// The query of the IdP's redirect back to us.
#[derive(Clone, Copy, Debug, Default)]
pub struct Callback<'a> {
    /// `code`.
    pub code: Option<&'a str>,
    /// `state`.
    pub state: Option<&'a str>,
    /// RFC 9207 `iss`.
    pub iss: Option<&'a str>,
    /// `error`, when the IdP refused.
    pub error: Option<&'a str>,
}

/// A completed sign-in.
#[derive(Debug)]
pub struct SignedIn {
    /// The tenant.
    pub tenant: TenantId,
    /// The user.
    pub user: Uuid,
    /// Whether the user was created just now.
    pub created: bool,
    /// The session to hand to the browser.
    pub session: NewSession,
    /// Where to go next.
    pub return_to: String,
}

/// The SSO service, one per gateway.
pub struct Sso {
    db: Database,
    secrets: Sealer,
    cookies: Sealer,
    providers: Providers,
    settings: SsoSettings,
}

impl std::fmt::Debug for Sso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Sso {
    /// Builds the service. The HTTP client never follows redirects (an IdP
    /// URL cannot be bent into a request to somewhere else) and has a bound
    /// on every call.
    pub fn new(db: Database, master: &MasterKey, settings: SsoSettings) -> Result<Self, SsoError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.idp_timeout)
            .connect_timeout(settings.idp_timeout)
            .build()
            .map_err(|e| SsoError::Internal(format!("HTTP client: {e}")))?;
        Ok(Self {
            db,
            secrets: master.sealer(Purpose::ClientSecret),
            cookies: master.sealer(Purpose::LoginCookie),
            providers: Providers::new(http, settings.jwks_min_refetch),
            settings,
        })
    }

    /// The sealer for client secrets (admin operations).
    pub fn secrets(&self) -> &Sealer {
        &self.secrets
    }

    /// Finds the connection and sends the browser to its IdP.
    pub async fn begin(&self, start: LoginStart<'_>) -> Result<LoginRedirect, SsoError> {
        let email = start.email.map(str::trim).filter(|e| !e.is_empty());
        let (tenant, connection) = match (email, start.tenant) {
            (Some(email), _) => {
                let domain = email
                    .rsplit_once('@')
                    .map(|(_, d)| d.to_ascii_lowercase())
                    .filter(|d| !d.is_empty() && d.len() <= 253 && email.len() <= 320)
                    .ok_or_else(|| SsoError::BadRequest("that is not an e-mail address".into()))?;
                self.db
                    .sso_connection_for_domain(&domain)
                    .await?
                    .ok_or(SsoError::NoConnection)?
            }
            (None, Some(slug)) => {
                let slug = TenantSlug::parse(slug)
                    .map_err(|_| SsoError::BadRequest("that is not a workspace name".into()))?;
                let tenant = self
                    .db
                    .tenant_by_slug(&slug)
                    .await?
                    .ok_or(SsoError::NoConnection)?;
                let mut tx = self.db.begin(tenant).await?;
                (tenant, connection::only_enabled(&mut tx).await?)
            }
            (None, None) => {
                return Err(SsoError::BadRequest(
                    "enter your work e-mail address to sign in".into(),
                ))
            }
        };
        let mut tx = self.db.begin(tenant).await?;
        let c = connection::load(&mut tx, &self.secrets, connection).await?;
        drop(tx);
        let metadata = self.providers.metadata(c.id, &c.issuer).await?;
        let client = CoreClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(c.client_id.clone()),
            Some(ClientSecret::new(c.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect_uri()?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in c.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if let Some(email) = email {
            request = request.add_extra_param("login_hint", email.to_owned());
        }
        let (url, state, nonce) = request.url();
        let timeout = self.settings.login_timeout.as_secs();
        let cookie = LoginTransaction {
            t: tenant.as_uuid(),
            c: c.id,
            s: state.secret().clone(),
            n: nonce.secret().clone(),
            v: verifier.secret().clone(),
            r: transaction::safe_return_path(start.return_to),
            e: Utc::now().timestamp() + i64::try_from(timeout).unwrap_or(600),
        }
        .seal(&self.cookies)
        .map_err(|e| SsoError::Internal(e.to_string()))?;
        Ok(LoginRedirect {
            url: url.to_string(),
            set_cookie: login_cookie(&cookie, timeout),
        })
    }

    /// Checks the IdP's answer and signs the person in.
    pub async fn complete(
        &self,
        sessions: &Sessions,
        login_cookie: Option<&str>,
        cb: Callback<'_>,
        ip: Option<IpAddr>,
        request_id: &str,
    ) -> Result<SignedIn, SsoError> {
        let login = login_cookie
            .and_then(|v| LoginTransaction::open(v, &self.cookies))
            .ok_or(SsoError::LoginExpired)?;
        if let Some(error) = cb.error {
            return Err(SsoError::IdpRefused(sanitize(error)));
        }
        let state = cb.state.ok_or(SsoError::StateMismatch)?;
        if !constant_time_eq(state.as_bytes(), login.s.as_bytes()) {
            return Err(SsoError::StateMismatch);
        }
        let code = cb
            .code
            .filter(|c| !c.is_empty() && c.len() <= 4096)
            .ok_or_else(|| SsoError::BadRequest("the identity provider sent no code".into()))?;
        let tenant = TenantId::from_uuid(login.t);
        let mut tx = self.db.begin(tenant).await?;
        let c = connection::load(&mut tx, &self.secrets, login.c).await?;
        if cb.iss.is_some_and(|iss| iss != c.issuer) {
            return Err(SsoError::MixUp);
        }
        let (issuer, subject, payload) = self.exchange(&c, code, &login).await?;
        let identity = Identity::from_claims(issuer, subject, &payload, &c)?;
        let provisioned = provision(&mut tx, &c, &identity).await?;
        let session = sessions
            .start(&mut tx, provisioned.user, Some(c.id), ip)
            .await
            .map_err(|e| SsoError::Internal(e.to_string()))?;
        audit_login(
            &mut tx,
            provisioned.user,
            c.id,
            provisioned.created,
            request_id,
        )
        .await?;
        tx.commit().await?;
        Ok(SignedIn {
            tenant,
            user: provisioned.user,
            created: provisioned.created,
            session,
            return_to: login.r,
        })
    }

    /// Redeems the code and validates the id_token; returns issuer,
    /// subject and the verified payload.
    async fn exchange(
        &self,
        c: &Connection,
        code: &str,
        login: &LoginTransaction,
    ) -> Result<(String, String, serde_json::Value), SsoError> {
        let mut metadata = self.providers.metadata(c.id, &c.issuer).await?;
        let client = |m: &openidconnect::ProviderMetadataWithLogout| {
            CoreClient::from_provider_metadata(
                m.clone(),
                ClientId::new(c.client_id.clone()),
                Some(ClientSecret::new(c.client_secret.clone())),
            )
        };
        let redirect = self.redirect_uri()?;
        let token = client(&metadata)
            .set_redirect_uri(redirect)
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| SsoError::Misconfigured("the identity provider has no token endpoint"))?
            .set_pkce_verifier(PkceCodeVerifier::new(login.v.clone()))
            .request_async(self.providers.http())
            .await
            .map_err(error::from_token_error)?;
        let id_token = token.id_token().ok_or(SsoError::TokenRejected(
            "the token response has no id_token".into(),
        ))?;
        let nonce = Nonce::new(login.n.clone());
        let mut refetched = false;
        loop {
            let verifying = client(&metadata);
            let verifier = verifying.id_token_verifier();
            let outcome = id_token
                .claims(&verifier, &nonce)
                .map(|claims| (claims.issuer().to_string(), claims.subject().to_string()));
            match outcome {
                Ok((issuer, subject)) => {
                    let payload = id_token
                        .to_string()
                        .split('.')
                        .nth(1)
                        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
                        .and_then(|b| serde_json::from_slice(&b).ok())
                        .ok_or(SsoError::TokenRejected(
                            "unreadable id_token payload".into(),
                        ))?;
                    return Ok((issuer, subject, payload));
                }
                Err(e) if !refetched && error::is_unknown_key(&e) => {
                    refetched = true;
                    match self.providers.refetch_keys(c.id).await? {
                        Some(fresh) => metadata = fresh,
                        None => return Err(SsoError::TokenRejected(e.to_string())),
                    }
                }
                Err(e) => return Err(error::from_claims_error(e)),
            }
        }
    }

    /// The IdP's RP-initiated logout URL for a session's connection, when
    /// it offers one.
    pub async fn logout_url(&self, tenant: TenantId, connection: Uuid) -> Option<String> {
        let mut tx = self.db.begin(tenant).await.ok()?;
        let c = connection::load(&mut tx, &self.secrets, connection)
            .await
            .ok()?;
        drop(tx);
        let metadata = self.providers.metadata(c.id, &c.issuer).await.ok()?;
        let endpoint: EndSessionUrl = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let back =
            PostLogoutRedirectUrl::new(self.settings.post_logout_redirect_uri.clone()).ok()?;
        Some(
            LogoutRequest::from(endpoint)
                .set_client_id(ClientId::new(c.client_id))
                .set_post_logout_redirect_uri(back)
                .http_get_url()
                .to_string(),
        )
    }

    /// Discovers an issuer now (admin "test connection"): the discovery
    /// document and key set must load and name the same issuer.
    pub async fn test_issuer(&self, connection: Uuid, issuer: &str) -> Result<(), SsoError> {
        self.providers
            .discover(connection, issuer)
            .await
            .map(|_| ())
    }

    fn redirect_uri(&self) -> Result<RedirectUrl, SsoError> {
        RedirectUrl::new(self.settings.redirect_uri.clone())
            .map_err(|_| SsoError::Misconfigured("server.public_url does not make a redirect URL"))
    }
}

/// Loads a connection of the transaction's tenant (admin use).
pub async fn load_connection(
    tx: &mut TenantTx,
    sso: &Sso,
    id: Uuid,
) -> Result<Connection, SsoError> {
    connection::load(tx, &sso.secrets, id).await
}

async fn audit_login(
    tx: &mut TenantTx,
    user: Uuid,
    connection: Uuid,
    created: bool,
    request_id: &str,
) -> Result<(), SsoError> {
    let tenant = tx.tenant().as_uuid();
    sqlx::query(
        "insert into audit_events (tenant_id, actor_type, actor_id, action, target_type, target_id, request_id, details)
         values ($1, 'user', $2, 'user.login', 'User', $2, $3, $4)",
    )
    .bind(tenant)
    .bind(user)
    .bind(request_id)
    .bind(serde_json::json!({ "connectionId": connection, "createdJustInTime": created }))
    .execute(tx.conn())
    .await
    .map_err(TenancyError::from)?;
    Ok(())
}

/// Compares secrets without an early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An IdP's error code, reduced to the characters an error code has.
fn sanitize(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}
