//! Typed, layered, strict configuration.
//!
//! Defaults, then an optional TOML file, then `PREP_`-prefixed environment
//! variables with `__` between levels (`PREP_DATABASE__PASSWORD`). Unknown
//! keys are errors, every value is checked, and every problem is reported at
//! once with the key it concerns. Secrets are wrapped so they never print.

mod validate;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// A value that must never appear in logs or error messages.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// PostgreSQL.
    pub database: DatabaseSettings,
    /// Gateway tokens.
    pub auth: AuthSettings,
    /// GraphQL limits.
    pub graphql: GraphqlSettings,
    /// Logs.
    pub telemetry: TelemetrySettings,
    /// The compliance reviewer.
    pub compliance: ComplianceSettings,
    /// Rate limits, cost budgets, bulkheads.
    pub limits: LimitsSettings,
    /// The developer sandbox.
    pub sandbox: SandboxSettings,
    /// Remote subgraphs composed with the gateway's own domains.
    pub federation: crate::federation::settings::FederationSettings,
}

/// Developer sandbox settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSettings {
    /// Serve `/sandbox` and let anyone create a sandbox tenant there.
    pub enabled: bool,
    /// Lifetime of the tokens the sandbox hands out.
    pub token_ttl_secs: u64,
    /// Lifetime of a sandbox key (a developer's way back to their sandbox).
    pub key_ttl_days: u32,
    /// Sandboxes one address may create per hour.
    pub creations_per_hour: u32,
    /// How often a replica deletes sandboxes that have ended (no live key,
    /// the last token lapsed); 0 keeps them.
    pub end_sweep_secs: u64,
}

/// Traffic governance settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSettings {
    /// Redis, where every replica's limits are shared. Absent: each replica
    /// limits alone (development only).
    pub redis: Option<prep_tenancy::quotas::RedisSettings>,
    /// Replicas expected behind the load balancer: while Redis is away,
    /// each enforces `1/replicas` of every limit.
    pub replicas: u32,
    /// Requests served at once by one replica; beyond, new ones wait up to
    /// `queue_wait_ms` and are then refused with 503.
    pub max_in_flight: u32,
    /// Longest wait for a place in a bulkhead (replica, tenant, database
    /// share) before a 503 `OVERLOADED`.
    pub queue_wait_ms: u64,
    /// Failed authentications one address may make per minute; then it is
    /// refused for a while, whatever it presents.
    pub failed_auth_per_minute: u32,
    /// Sustained requests per second one address may make to the routes
    /// that come before authentication (`/auth/*`, `/oauth/token`).
    pub unauthenticated_per_second: u32,
    /// Burst of the same.
    pub unauthenticated_burst: u32,
    /// How long a replica keeps a tenant's plan and overrides.
    pub tenant_cache_secs: u64,
    /// Limits of each plan tier; operators override them per tenant
    /// (`prep-gateway tenant limits`).
    pub tiers: prep_tenancy::quotas::Tiers,
}

/// HTTP server settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The URL clients reach the gateway at (printed, and the token issuer).
    pub public_url: String,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Time a request may take end to end.
    pub request_timeout_ms: u64,
    /// Time in-flight requests get to finish on shutdown.
    pub shutdown_grace_secs: u64,
    /// Load balancers and proxies (address ranges) whose `X-Forwarded-For`
    /// is believed: the client address is the last one they did not add.
    /// Empty: the peer address is the client's.
    pub trusted_proxies: Vec<String>,
}

/// PostgreSQL settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Database name.
    pub name: String,
    /// The runtime role (never a superuser, never BYPASSRLS).
    pub user: String,
    /// The runtime role's password.
    pub password: Option<Secret>,
    /// Pool size.
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// Wait for a pooled connection before refusing a request.
    pub acquire_timeout_ms: u64,
    /// Server-side bound on any one statement.
    pub statement_timeout_ms: u64,
    /// The administrative role used only by `migrate` (and `serve --dev`).
    pub admin_user: String,
    /// Its password.
    pub admin_password: Option<Secret>,
}

/// Gateway token settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// `aud` of gateway tokens.
    pub audience: String,
    /// The master key (32 bytes, base64) that seals signing keys, SSO
    /// client secrets and login cookies. Every replica needs the same one.
    pub master_key_file: PathBuf,
    /// Lifetime of minted tokens unless asked otherwise.
    pub token_ttl_secs: u64,
    /// Clock skew tolerated on `exp` / `nbf`.
    pub leeway_secs: u64,
    /// A signing key is replaced after this many days.
    pub key_rotation_days: u32,
    /// A new signing key is published this long before it signs.
    pub key_publish_ahead_secs: u64,
    /// A browser session ends after this long without a request.
    pub session_idle_secs: u64,
    /// A browser session ends this long after sign-in, whatever happens.
    pub session_absolute_secs: u64,
    /// How long a sign-in at the identity provider may take.
    pub login_timeout_secs: u64,
    /// Bound on each call to an identity provider.
    pub idp_timeout_ms: u64,
    /// An unknown `kid` in an id_token refetches the IdP's keys at most this
    /// often (per connection).
    pub idp_jwks_min_refetch_secs: u64,
    /// Lifetime of the tokens connectors get from `/oauth/token`.
    pub connector_token_ttl_secs: u64,
    /// Longest a replica trusts a cached connector key without hearing of a
    /// change (changes are pushed at once; this bounds a lost notification).
    pub connector_cache_ttl_secs: u64,
}

/// GraphQL settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GraphqlSettings {
    /// Answer introspection queries.
    pub introspection: bool,
    /// Deepest selection nesting.
    pub max_depth: usize,
    /// Largest operation complexity.
    pub max_complexity: usize,
    /// How long the response to a mutation sent with an `Idempotency-Key`
    /// is kept (and the key refused for any other request).
    pub idempotency_ttl_secs: u64,
    /// Largest document, in bytes (checked before parsing).
    pub max_document_bytes: usize,
    /// Largest variables (the rest of the body), in bytes.
    pub max_variables_bytes: usize,
    /// Most lexical tokens in a document (checked before parsing).
    pub max_tokens: usize,
    /// Most aliases in an operation.
    pub max_aliases: usize,
    /// Most directives in an operation.
    pub max_directives: usize,
}

/// Log format.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, for development.
    Pretty,
    /// One JSON object per line, for production.
    Json,
}

/// Telemetry settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// Log format.
    pub format: LogFormat,
    /// `tracing` filter directives, e.g. `info,prep_gateway=debug`.
    pub filter: String,
}

/// Compliance reviewer settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ComplianceSettings {
    /// Seconds between passes over locations due for re-evaluation (0 = off).
    pub review_interval_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                public_url: "http://127.0.0.1:8080".into(),
                body_limit_bytes: 1024 * 1024,
                request_timeout_ms: 15_000,
                shutdown_grace_secs: 20,
                trusted_proxies: Vec::new(),
            },
            database: DatabaseSettings {
                host: "127.0.0.1".into(),
                port: 5432,
                name: "prep".into(),
                user: "prep_app".into(),
                password: None,
                max_connections: 16,
                min_connections: 1,
                acquire_timeout_ms: 2_000,
                statement_timeout_ms: 5_000,
                admin_user: "postgres".into(),
                admin_password: None,
            },
            auth: AuthSettings {
                audience: "prep-gateway".into(),
                master_key_file: PathBuf::from(".prep/master.key"),
                token_ttl_secs: 900,
                leeway_secs: 30,
                key_rotation_days: 30,
                key_publish_ahead_secs: 600,
                session_idle_secs: 1800,
                session_absolute_secs: 12 * 3600,
                login_timeout_secs: 600,
                idp_timeout_ms: 10_000,
                idp_jwks_min_refetch_secs: 10,
                connector_token_ttl_secs: 900,
                connector_cache_ttl_secs: 60,
            },
            graphql: GraphqlSettings {
                introspection: true,
                max_depth: 15,
                max_complexity: 20_000,
                idempotency_ttl_secs: 86_400,
                max_document_bytes: 64 * 1024,
                max_variables_bytes: 512 * 1024,
                max_tokens: 15_000,
                max_aliases: 50,
                max_directives: 50,
            },
            telemetry: TelemetrySettings {
                format: LogFormat::Pretty,
                filter: "info".into(),
            },
            compliance: ComplianceSettings {
                review_interval_secs: 60,
            },
            sandbox: SandboxSettings {
                enabled: true,
                token_ttl_secs: 8 * 3600,
                key_ttl_days: 30,
                creations_per_hour: 5,
                end_sweep_secs: 3600,
            },
            limits: LimitsSettings {
                redis: Some(prep_tenancy::quotas::RedisSettings::default()),
                replicas: 1,
                max_in_flight: 1024,
                queue_wait_ms: 100,
                failed_auth_per_minute: 30,
                unauthenticated_per_second: 2,
                unauthenticated_burst: 30,
                tenant_cache_secs: 30,
                tiers: prep_tenancy::quotas::Tiers::default(),
            },
            federation: Default::default(),
        }
    }
}

/// Configuration that could not be loaded, with every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or an environment variable could not be read or typed.
    #[error("invalid configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    /// Values that are well-typed but out of range.
    #[error("invalid configuration:\n  {}", .0.join("\n  "))]
    Invalid(Vec<String>),
}

impl Settings {
    /// Loads defaults, then `file` (which must exist when given), then the
    /// environment, and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError::Invalid(vec![format!(
                    "config file {} does not exist",
                    file.display()
                )]));
            }
            figment = figment.merge(Toml::file(file));
        }
        // `PREP_CONFIG` names the file (`--config`); it is not a key.
        figment = figment.merge(Env::prefixed("PREP_").ignore(&["config"]).split("__"));
        let settings: Settings = figment.extract().map_err(Box::new)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Connection settings for the runtime role.
    pub fn pool_settings(&self) -> prep_tenancy::PoolSettings {
        let d = &self.database;
        prep_tenancy::PoolSettings {
            host: d.host.clone(),
            port: d.port,
            user: d.user.clone(),
            password: d.password.as_ref().map(|p| p.expose().to_owned()),
            database: d.name.clone(),
            max_connections: d.max_connections,
            min_connections: d.min_connections,
            acquire_timeout: Duration::from_millis(d.acquire_timeout_ms),
            statement_timeout: Duration::from_millis(d.statement_timeout_ms),
        }
    }

    /// Token issuing and verification settings.
    pub fn token_settings(&self) -> prep_auth::TokenSettings {
        prep_auth::TokenSettings {
            issuer: self.server.public_url.trim_end_matches('/').to_owned(),
            audience: self.auth.audience.clone(),
            leeway: Duration::from_secs(self.auth.leeway_secs),
        }
    }

    /// Connector key cache and last-use tracking.
    pub fn connector_settings(&self) -> prep_auth::connectors::ConnectorSettings {
        prep_auth::connectors::ConnectorSettings {
            cache_ttl: Duration::from_secs(self.auth.connector_cache_ttl_secs),
            usage_interval: Duration::from_secs(60),
        }
    }

    /// The proxies whose `X-Forwarded-For` is believed (validated at load).
    pub fn trusted_proxies(&self) -> Vec<prep_auth::connectors::cidr::Cidr> {
        self.server
            .trusted_proxies
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect()
    }

    /// The armour limits of GraphQL documents.
    pub fn armour(&self) -> prep_schema::armour::ArmourLimits {
        let g = &self.graphql;
        prep_schema::armour::ArmourLimits {
            max_document_bytes: g.max_document_bytes,
            max_variables_bytes: g.max_variables_bytes,
            max_tokens: g.max_tokens,
            max_depth: g.max_depth,
            max_aliases: g.max_aliases,
            max_directives: g.max_directives,
        }
    }

    /// When the gateway's signing keys rotate.
    pub fn rotation_policy(&self) -> prep_auth::RotationPolicy {
        let a = &self.auth;
        prep_auth::RotationPolicy {
            rotate_every: Duration::from_secs(u64::from(a.key_rotation_days) * 86_400),
            publish_ahead: Duration::from_secs(a.key_publish_ahead_secs),
            token_lifetime: self.token_lifetime(),
            unknown_kid_reload: Duration::from_secs(5),
        }
    }

    /// The longest any gateway token can be accepted: the longest TTL the
    /// CLI may mint (a day) plus the leeway.
    pub fn token_lifetime(&self) -> Duration {
        Duration::from_secs(86_400 + self.auth.leeway_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_secrets_do_not_print() {
        Settings::default().validate().expect("defaults validate");
        let mut s = Settings::default();
        s.database.password = Some(Secret("hunter2".into()));
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn every_bad_value_is_reported_with_its_key() {
        let mut s = Settings::default();
        s.database.max_connections = 0;
        s.server.public_url = "ftp://x".into();
        s.graphql.max_depth = 1000;
        s.sandbox.end_sweep_secs = 8 * 86_400;
        let Err(ConfigError::Invalid(problems)) = s.validate() else {
            panic!("expected validation errors");
        };
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems
            .iter()
            .any(|p| p.starts_with("sandbox.end_sweep_secs")));
        assert!(problems
            .iter()
            .any(|p| p.starts_with("database.min_connections")));
        assert!(problems
            .iter()
            .any(|p| p.starts_with("database.max_connections")));
        assert!(problems.iter().any(|p| p.starts_with("server.public_url")));
        assert!(problems.iter().any(|p| p.starts_with("graphql.max_depth")));
    }

    #[test]
    fn misconfigured_limits_are_refused_at_start_up() {
        let mut s = Settings::default();
        s.limits.tiers.free.requests_per_second = 0;
        s.limits.tiers.enterprise.credential_burst = 10_000;
        s.limits.replicas = 0;
        s.limits.redis = Some(prep_tenancy::quotas::RedisSettings {
            url: "http://redis".into(),
            ..Default::default()
        });
        s.graphql.max_document_bytes = 10;
        s.server.trusted_proxies = vec!["10.0.0.1/8".into()];
        let Err(ConfigError::Invalid(problems)) = s.validate() else {
            panic!("expected validation errors");
        };
        for key in [
            "limits.tiers.free.requests_per_second",
            "limits.tiers.enterprise.credential_burst",
            "limits.replicas",
            "limits.redis.url",
            "graphql.max_document_bytes",
            "server.trusted_proxies[0]",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(key)),
                "{key}: {problems:?}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_mistyped_values_are_refused() {
        let dir = std::env::temp_dir().join(format!("prep-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let file = dir.join("prep.toml");
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9000\"\nlistne = 1\n")
            .expect("write");
        let err = Settings::load(Some(&file)).expect_err("unknown key");
        assert!(err.to_string().contains("listne"), "{err}");
        std::fs::write(&file, "[database]\nport = \"not a port\"\n").expect("write");
        let err = Settings::load(Some(&file)).expect_err("mistyped");
        assert!(err.to_string().contains("port"), "{err}");
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9000\"\n").expect("write");
        let ok = Settings::load(Some(&file)).expect("valid file");
        assert_eq!(ok.server.listen.port(), 9000);
        assert!(Settings::load(Some(&dir.join("missing.toml"))).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
