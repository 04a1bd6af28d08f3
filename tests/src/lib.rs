//! The test harness: a [`TestApp`] with a database of its own, migrated by
//! the real `migrate` code, reached by the gateway as the real runtime role,
//! and driven through the real router in process.

pub mod browser;
pub mod connectors;
pub mod oidc;
pub mod scim;
pub mod subgraph;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use prep_auth::{Grant, MasterKey, Role};
use prep_gateway::app::{App, AppState};
use prep_gateway::config::Settings;
use prep_tenancy::{NewTenant, TenantId, TenantSlug};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tower::ServiceExt as _;
use uuid::Uuid;

/// A gateway over a fresh database, dropped with the value.
pub struct TestApp {
    /// The application state.
    pub state: AppState,
    /// The router with the full middleware stack.
    pub router: Router,
    db_name: String,
}

/// A tenant created for a test, with a user token.
#[derive(Clone, Debug)]
pub struct TestTenant {
    /// Tenant id.
    pub id: TenantId,
    /// Slug.
    pub slug: String,
    /// Bearer token of a user of the tenant.
    pub token: String,
}

/// A GraphQL response as the client sees it.
#[derive(Debug)]
pub struct GqlResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Parsed JSON body.
    pub body: Value,
}

impl GqlResponse {
    /// `data`, asserting there were no errors.
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        &self.body["data"]
    }

    /// The `extensions.code` of the first error.
    pub fn error_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }
}

fn admin_options(db: &str) -> PgConnectOptions {
    PgConnectOptions::new()
        .host("127.0.0.1")
        .port(5432)
        .username("postgres")
        .database(db)
}

impl TestApp {
    /// A gateway whose pool has 4 connections.
    pub async fn new() -> Self {
        Self::with_pool(4).await
    }

    /// A gateway whose pool has `max_connections` connections.
    pub async fn with_pool(max_connections: u32) -> Self {
        let mut settings = Self::settings();
        settings.database.max_connections = max_connections;
        Self::with_settings(settings).await
    }

    /// Test settings naming a fresh database, to adjust before
    /// [`TestApp::with_settings`].
    pub fn settings() -> Settings {
        let mut settings = Settings::default();
        settings.database.name = format!("prep_test_{}", Uuid::new_v4().simple());
        settings.database.max_connections = 4;
        settings.database.min_connections = 0;
        settings.database.acquire_timeout_ms = 10_000;
        settings.compliance.review_interval_secs = 0;
        settings.server.body_limit_bytes = 64 * 1024;
        // generous limits: tests of the limits set their own
        let roomy = roomy_limits();
        settings.limits.tiers = prep_tenancy::quotas::Tiers {
            free: roomy,
            standard: roomy,
            enterprise: roomy,
        };
        settings.limits.max_in_flight = 100_000;
        settings.limits.queue_wait_ms = 2_000;
        settings.limits.failed_auth_per_minute = 100_000;
        settings.limits.unauthenticated_per_second = 100_000;
        settings.limits.unauthenticated_burst = 100_000;
        settings
    }

    /// A gateway over the fresh database `settings` name, migrated by the
    /// real `migrate` code.
    pub async fn with_settings(settings: Settings) -> Self {
        prep_gateway::admin::migrate(&settings)
            .await
            .expect("migrate the test database");
        let db_name = settings.database.name.clone();
        let master = MasterKey::generate().expect("master key");
        let state = App::build(settings, master).await.expect("build the app");
        let router = prep_gateway::http::router(state.clone());
        Self {
            state,
            router,
            db_name,
        }
    }

    /// A second gateway replica over the same database and master key (its
    /// own pool, keyring cache and revocation list), as another process
    /// behind the load balancer would be.
    pub async fn replica(&self) -> (AppState, Router) {
        let state = App::build(self.state.settings.clone(), self.state.master.clone())
            .await
            .expect("build a replica");
        let router = prep_gateway::http::router(state.clone());
        (state, router)
    }

    /// The test database's name.
    pub fn db_name(&self) -> &str {
        &self.db_name
    }

    /// A pool connected as the runtime role, for SQL-level isolation checks.
    pub async fn app_pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(2)
            .connect_with(admin_options(&self.db_name).username("prep_app"))
            .await
            .expect("connect as prep_app")
    }

    /// A superuser pool, for catalog checks only.
    pub async fn admin_pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(2)
            .connect_with(admin_options(&self.db_name))
            .await
            .expect("connect as admin")
    }

    /// Creates an empty tenant and a user token for it.
    pub async fn tenant(&self, slug: &str) -> TestTenant {
        let id = self
            .state
            .db
            .create_tenant(&NewTenant {
                slug: TenantSlug::parse(slug).expect("slug"),
                name: format!("Tenant {slug}"),
                plan: "standard".into(),
                is_sandbox: false,
            })
            .await
            .expect("create tenant");
        let token = self
            .token(
                slug,
                &format!("owner@{slug}.example"),
                &[Grant {
                    role: Role::Owner,
                    location: None,
                }],
            )
            .await;
        TestTenant {
            id,
            slug: slug.to_owned(),
            token,
        }
    }

    /// A 10-minute token for `email` in tenant `slug` (the user is created
    /// if missing), after granting `roles`.
    pub async fn token(&self, slug: &str, email: &str, roles: &[Grant]) -> String {
        prep_gateway::cli::mint(&self.state, slug, email, roles, Duration::from_secs(600))
            .await
            .expect("mint token")
    }

    /// Creates a tenant filled with the demo seed.
    pub async fn seeded_tenant(&self, slug: &str) -> TestTenant {
        let tenant = self.tenant(slug).await;
        prep_sandbox::seed_tenant(
            &self.state.db,
            tenant.id,
            &prep_sandbox::SeedSpec::demo(),
            prep_resolvers_today(),
        )
        .await
        .expect("seed");
        tenant
    }

    /// Sends a raw request through the router.
    pub async fn send(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("read body")
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    /// Runs a GraphQL operation as `token`.
    pub async fn graphql(&self, token: &str, query: &str, variables: Value) -> GqlResponse {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body))
            .expect("request");
        let (status, _, body) = self.send(request).await;
        let body = serde_json::from_slice(&body).unwrap_or_else(|_| {
            panic!(
                "non-JSON response {status}: {}",
                String::from_utf8_lossy(&body)
            )
        });
        GqlResponse { status, body }
    }
}

/// A free loopback port, already bound, and its `http://` base URL: for a
/// server whose URL must be known before it is built.
pub async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, url)
}

/// Serves `router` on `listener` in the background, with the peer address
/// the gateway reads (connector address ranges, per-address limits).
pub fn serve_on(listener: tokio::net::TcpListener, router: Router) {
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
}

/// Serves `router` on a free loopback port; its address.
pub async fn serve(router: Router) -> std::net::SocketAddr {
    let (listener, _) = listen().await;
    let addr = listener.local_addr().expect("addr");
    serve_on(listener, router);
    addr
}

/// Limits no functional test reaches.
pub fn roomy_limits() -> prep_tenancy::quotas::TierLimits {
    prep_tenancy::quotas::TierLimits {
        requests_per_second: 100_000,
        burst: 100_000,
        credential_requests_per_second: 100_000,
        credential_burst: 100_000,
        cost_maximum: 10_000_000,
        cost_restore_rate: 10_000_000,
        max_query_cost: 10_000_000,
        max_concurrent_operations: 10_000,
        database_share: 1.0,
    }
}

fn prep_resolvers_today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let name = self.db_name.clone();
        // Drop may run on the test's runtime thread, which must not block on
        // its own pool: a thread and runtime of its own drop the database,
        // and FORCE ends the gateway's pooled connections.
        let handle = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(pool) = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(admin_options("postgres"))
                    .await
                {
                    let _ =
                        sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
                            .execute(&pool)
                            .await;
                }
            });
        });
        let _ = handle.join();
    }
}
