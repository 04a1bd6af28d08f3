//! The application: everything a request needs, built once.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use prep_auth::{SigningKey, TokenService};
use prep_schema::{AppSchema, SchemaOptions};
use prep_tenancy::Database;

use crate::config::Settings;
use crate::metrics::Metrics;

/// Shared state of every request.
pub struct App {
    /// The configuration it was built from.
    pub settings: Settings,
    /// The tenant-aware database.
    pub db: Database,
    /// Gateway token issue and verification.
    pub tokens: TokenService,
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

    /// Builds the app; the database pool connects lazily.
    pub fn build(settings: Settings, key: &SigningKey) -> AppState {
        let db = Database::connect_lazy(&settings.pool_settings());
        let tokens = TokenService::new(key, settings.token_settings());
        let schema = prep_schema::build(&SchemaOptions {
            introspection: settings.graphql.introspection,
            max_depth: settings.graphql.max_depth,
            max_complexity: settings.graphql.max_complexity,
        });
        AppState(Arc::new(App {
            settings,
            db,
            tokens,
            schema,
            metrics: Metrics::new(),
            draining: AtomicBool::new(false),
        }))
    }
}
