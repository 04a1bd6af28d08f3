//! The application: everything a request needs, built once.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use prep_auth::connectors::cidr::Cidr;
use prep_auth::connectors::ConnectorAuth;
use prep_auth::scim::Scim;
use prep_auth::sso::{Sso, SsoSettings};
use prep_auth::{
    AuthError, IdentitySync, Keyring, MasterKey, RevocationList, SecurityLog, SessionPolicy,
    Sessions, TokenService,
};
use prep_resolvers::audit::AuditLog;
use prep_schema::{AppSchema, SchemaOptions};
use prep_tenancy::Database;

use crate::config::Settings;
use crate::governance::Governance;
use crate::metrics::Metrics;

/// How often each replica reloads the keyring (and rotates it when due).
const KEYRING_MAINTENANCE: Duration = Duration::from_secs(60);
/// How often queued connector key uses are written.
const USAGE_FLUSH: Duration = Duration::from_secs(15);
/// How often expired idempotent responses are purged.
const IDEMPOTENCY_PURGE: Duration = Duration::from_secs(300);

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
    /// Connector keys: verification, cache, last use (and issuing, for the
    /// admin API).
    pub connectors: Arc<ConnectorAuth>,
    /// Audit events written off the request path (refused connector keys,
    /// denied connector fields).
    pub audit: Arc<AuditLog>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<Cidr>,
    /// Refused credentials and other security events.
    pub security: SecurityLog,
    /// The public GraphQL schema, as users are served it.
    pub schema: AppSchema,
    /// The same schema with every field checked against connector scopes.
    pub connector_schema: AppSchema,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Rate limits, cost budgets, bulkheads.
    pub governance: Governance,
    /// Per-address limits of the unauthenticated routes.
    pub per_ip: Option<crate::http::per_ip::PerIpConfig>,
    /// Per-address limit of sandbox creation.
    pub sandbox_creations: Option<crate::http::per_ip::PerIpConfig>,
    /// Developers' keys back to their sandboxes.
    pub sandbox_keys: prep_auth::sandbox_keys::SandboxKeys,
    /// Puts a sandbox back to its seed (`resetSandbox`).
    pub reseed: Arc<dyn prep_resolvers::sandbox::Reseed>,
    /// Remote subgraphs and the supergraph composed with them (`None`
    /// without `[[federation.subgraphs]]`).
    pub federation: Option<Arc<crate::federation::runtime::Federation>>,
    /// The gateway's own domains as a federation subgraph, for plans that
    /// also call remote subgraphs: as users and as connectors see them.
    pub subgraph_schemas: (prep_schema::SubgraphSchema, prep_schema::SubgraphSchema),
    /// The schemas served to sandbox tenants: introspection on even where
    /// `graphql.introspection` is off (the same as the others otherwise).
    pub sandbox_schemas: (AppSchema, AppSchema),
    /// Set on shutdown so `/readyz` tells the load balancer to stop sending.
    pub draining: AtomicBool,
}

/// Why the app could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The keyring, revocations or SSO could not be set up.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A setting could not be put to use (a Redis URL, ...).
    #[error("invalid configuration: {0}")]
    Config(String),
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
    pub async fn build(settings: Settings, master: MasterKey) -> Result<AppState, BuildError> {
        let db = Database::connect_lazy(&settings.pool_settings());
        let keyring =
            Arc::new(Keyring::open(db.clone(), &master, settings.rotation_policy()).await?);
        let revocations = Arc::new(RevocationList::default());
        revocations.load(&db, settings.token_lifetime()).await?;
        let public = settings.server.public_url.trim_end_matches('/');
        let connectors = Arc::new(ConnectorAuth::new(
            db.clone(),
            &master,
            settings.connector_settings(),
            format!("{public}/oauth/token"),
        ));
        let sync = IdentitySync {
            revocations: Arc::clone(&revocations),
            keyring: Arc::clone(&keyring),
            connectors: Arc::clone(&connectors),
        };
        tokio::spawn(sync.follow(db.clone(), settings.token_lifetime()));
        tokio::spawn(maintain_keyring(Arc::clone(&keyring)));
        tokio::spawn(flush_connector_usage(Arc::clone(&connectors)));
        tokio::spawn(purge_idempotency_keys(db.clone()));
        let tokens = TokenService::new(keyring, revocations, settings.token_settings());
        let sessions = Sessions::new(
            db.clone(),
            &master,
            SessionPolicy {
                idle: Duration::from_secs(settings.auth.session_idle_secs),
                absolute: Duration::from_secs(settings.auth.session_absolute_secs),
            },
        );
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
        let options = SchemaOptions {
            introspection: settings.graphql.introspection,
            max_depth: settings.graphql.max_depth,
            max_complexity: settings.graphql.max_complexity,
        };
        let schema = prep_schema::build(&options);
        let connector_schema = prep_schema::build_for_connectors(&options);
        let sandbox_schemas = if options.introspection {
            (schema.clone(), connector_schema.clone())
        } else {
            let open = SchemaOptions {
                introspection: true,
                ..options.clone()
            };
            (
                prep_schema::build(&open),
                prep_schema::build_for_connectors(&open),
            )
        };
        let governance = Governance::new(&settings, &schema.sdl()).map_err(BuildError::Config)?;
        let subgraph_schemas = (
            prep_schema::build_subgraph(&options),
            prep_schema::build_subgraph_for_connectors(&options),
        );
        let federation = crate::federation::runtime::Federation::new(&settings.federation, public)
            .map_err(|e| BuildError::Config(e.to_string()))?;
        let per_ip = crate::http::per_ip::config(
            &settings.trusted_proxies(),
            f64::from(settings.limits.unauthenticated_per_second),
            settings.limits.unauthenticated_burst,
        );
        let sandbox_keys = prep_auth::sandbox_keys::SandboxKeys::new(&master);
        let reseed: Arc<dyn prep_resolvers::sandbox::Reseed> = Arc::new(Reseeder(db.clone()));
        // Each replica allows its share of an address's creations, as the
        // quotas do while Redis is away: behind a balancer spreading an
        // address over the replicas the sum is the configured figure, and
        // behind one pinning it to a replica the limit is only stricter.
        let creations =
            (settings.sandbox.creations_per_hour / settings.limits.replicas.max(1)).max(1);
        let sandbox_creations = crate::http::per_ip::config(
            &settings.trusted_proxies(),
            f64::from(creations) / 3600.0,
            creations,
        );
        let app = Arc::new(App {
            security: SecurityLog::start(db.clone()),
            audit: Arc::new(AuditLog::start(db.clone())),
            trusted_proxies: settings.trusted_proxies(),
            connectors,
            connector_schema,
            settings,
            db,
            master,
            tokens,
            sessions,
            sso,
            scim,
            schema,
            metrics: Metrics::new(),
            per_ip,
            sandbox_creations,
            sandbox_keys,
            reseed,
            sandbox_schemas,
            governance,
            federation,
            subgraph_schemas,
            draining: AtomicBool::new(false),
        });
        tokio::spawn(sweep_per_address_state(Arc::downgrade(&app)));
        if app.federation.is_some() {
            tokio::spawn(crate::federation::runtime::keep_current(
                Arc::downgrade(&app),
                app.settings.federation.reload_secs,
            ));
        }
        Ok(AppState(app))
    }
}

/// Reseeds sandboxes with the demo seed, anchored today.
struct Reseeder(prep_tenancy::Database);

#[async_graphql::async_trait::async_trait]
impl prep_resolvers::sandbox::Reseed for Reseeder {
    async fn reseed(&self, tenant: prep_tenancy::TenantId) -> Result<(), String> {
        prep_sandbox::reseed_tenant(
            &self.0,
            tenant,
            &prep_sandbox::SeedSpec::demo(),
            prep_resolvers::clock::today(),
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
    }
}

/// Forgets idle per-address state once a minute, for as long as the app
/// lives.
async fn sweep_per_address_state(app: std::sync::Weak<App>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.tick().await;
    loop {
        tick.tick().await;
        match app.upgrade() {
            Some(app) => app.governance.sweep(),
            None => return,
        }
    }
}

async fn flush_connector_usage(connectors: Arc<ConnectorAuth>) {
    let mut tick = tokio::time::interval(USAGE_FLUSH);
    loop {
        tick.tick().await;
        connectors.flush_usage().await;
    }
}

async fn purge_idempotency_keys(db: prep_tenancy::Database) {
    let mut tick = tokio::time::interval(IDEMPOTENCY_PURGE);
    loop {
        tick.tick().await;
        match db.purge_idempotency_keys(5_000).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(purged = n, "expired idempotent responses purged"),
            Err(e) => tracing::warn!(error = %e, "could not purge expired idempotent responses"),
        }
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
