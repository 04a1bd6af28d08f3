//! The application: everything a request needs, built once.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use prep_auth::scim::Scim;
use prep_auth::sso::{Sso, SsoSettings};
use prep_auth::{
    AuthError, Keyring, MasterKey, RevocationList, SecurityLog, SessionPolicy, Sessions,
    TokenService,
};
use prep_schema::{AppSchema, SchemaOptions};
use prep_tenancy::Database;

use crate::config::Settings;
use crate::metrics::Metrics;

/// How often each replica reloads the keyring (and rotates it when due).
const KEYRING_MAINTENANCE: Duration = Duration::from_secs(60);

/// Shared state of every request.
pub struct App {
    /// The configuration it was built from.
    pub settings: Settings,
    /// The tenant-aware database.
    pub db: Database,
    /// The master key (sealing SSO client secrets and login cookies).
    pub master: MasterKey,
    /// Gateway token issue and verification.
    pub tokens: TokenService,
    /// Browser sessions.
    pub sessions: Sessions,
    /// OIDC single sign-on.
    pub sso: Arc<Sso>,
    /// SCIM provisioning (and its tokens, for the admin API).
    pub scim: Arc<Scim>,
    /// Refused credentials and other security events.
    pub security: SecurityLog,
    /// The public GraphQL schema.
    pub schema: AppSchema,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Set on shutdown so `/readyz` tells the load balancer to stop sending.
    pub draining: AtomicBool,
}

/// The axum state: one `Arc` around the app.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// Whether shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Builds the app: opens the keyring (creating the first key on a new
    /// database), loads recent revocations, and starts the background work
    /// that keeps both current on every replica.
    pub async fn build(settings: Settings, master: MasterKey) -> Result<AppState, AuthError> {
        let db = Database::connect_lazy(&settings.pool_settings());
        let keyring =
            Arc::new(Keyring::open(db.clone(), &master, settings.rotation_policy()).await?);
        let revocations = Arc::new(RevocationList::default());
        revocations.load(&db, settings.token_lifetime()).await?;
        tokio::spawn(Arc::clone(&revocations).follow(
            Arc::clone(&keyring),
            db.clone(),
            settings.token_lifetime(),
        ));
        tokio::spawn(maintain_keyring(Arc::clone(&keyring)));
        let tokens = TokenService::new(keyring, revocations, settings.token_settings());
        let sessions = Sessions::new(
            db.clone(),
            &master,
            SessionPolicy {
                idle: Duration::from_secs(settings.auth.session_idle_secs),
                absolute: Duration::from_secs(settings.auth.session_absolute_secs),
            },
        );
        let public = settings.server.public_url.trim_end_matches('/');
        let sso = Arc::new(
            Sso::new(
                db.clone(),
                &master,
                SsoSettings {
                    redirect_uri: format!("{public}/auth/callback"),
                    post_logout_redirect_uri: format!("{public}/auth/logged-out"),
                    login_timeout: Duration::from_secs(settings.auth.login_timeout_secs),
                    idp_timeout: Duration::from_millis(settings.auth.idp_timeout_ms),
                    jwks_min_refetch: Duration::from_secs(settings.auth.idp_jwks_min_refetch_secs),
                },
            )
            .map_err(|e| AuthError::Key(e.to_string()))?,
        );
        let scim = Arc::new(Scim::new(db.clone(), &master, public));
        let schema = prep_schema::build(&SchemaOptions {
            introspection: settings.graphql.introspection,
            max_depth: settings.graphql.max_depth,
            max_complexity: settings.graphql.max_complexity,
        });
        Ok(AppState(Arc::new(App {
            security: SecurityLog::start(db.clone()),
            settings,
            db,
            master,
            tokens,
            sessions,
            sso,
            scim,
            schema,
            metrics: Metrics::new(),
            draining: AtomicBool::new(false),
        })))
    }
}

async fn maintain_keyring(keyring: Arc<Keyring>) {
    let mut tick = tokio::time::interval(KEYRING_MAINTENANCE);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = keyring.maintain().await {
            tracing::warn!(error = %e, "keyring maintenance failed; keeping the loaded keys");
        }
    }
}
