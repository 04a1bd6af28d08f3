//! Every bad value of a configuration, reported with its key, all at once.

use super::{ConfigError, Settings};

impl Settings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, msg: String| {
            if !ok {
                problems.push(msg);
            }
        };
        let s = &self.server;
        check(
            s.public_url.starts_with("http://") || s.public_url.starts_with("https://"),
            format!(
                "server.public_url: must start with http:// or https://, got {:?}",
                s.public_url
            ),
        );
        check(
            (1024..=64 * 1024 * 1024).contains(&s.body_limit_bytes),
            format!(
                "server.body_limit_bytes: must be between 1024 and 67108864, got {}",
                s.body_limit_bytes
            ),
        );
        check(
            (100..=300_000).contains(&s.request_timeout_ms),
            format!(
                "server.request_timeout_ms: must be between 100 and 300000, got {}",
                s.request_timeout_ms
            ),
        );
        check(
            s.shutdown_grace_secs <= 600,
            format!(
                "server.shutdown_grace_secs: must be at most 600, got {}",
                s.shutdown_grace_secs
            ),
        );
        for (i, range) in s.trusted_proxies.iter().enumerate() {
            if let Err(e) = range.parse::<prep_auth::connectors::cidr::Cidr>() {
                check(false, format!("server.trusted_proxies[{i}]: {e}"));
            }
        }
        let d = &self.database;
        check(
            !d.host.is_empty(),
            "database.host: must not be empty".into(),
        );
        check(
            !d.name.is_empty(),
            "database.name: must not be empty".into(),
        );
        check(
            !d.user.is_empty(),
            "database.user: must not be empty".into(),
        );
        check(
            (1..=512).contains(&d.max_connections),
            format!(
                "database.max_connections: must be between 1 and 512, got {}",
                d.max_connections
            ),
        );
        check(
            d.min_connections <= d.max_connections,
            format!(
                "database.min_connections: must not exceed max_connections ({}), got {}",
                d.max_connections, d.min_connections
            ),
        );
        check(
            (10..=60_000).contains(&d.acquire_timeout_ms),
            format!(
                "database.acquire_timeout_ms: must be between 10 and 60000, got {}",
                d.acquire_timeout_ms
            ),
        );
        check(
            (10..=600_000).contains(&d.statement_timeout_ms),
            format!(
                "database.statement_timeout_ms: must be between 10 and 600000, got {}",
                d.statement_timeout_ms
            ),
        );
        let a = &self.auth;
        check(
            !a.audience.is_empty(),
            "auth.audience: must not be empty".into(),
        );
        check(
            (60..=86_400).contains(&a.token_ttl_secs),
            format!(
                "auth.token_ttl_secs: must be between 60 and 86400, got {}",
                a.token_ttl_secs
            ),
        );
        check(
            a.leeway_secs <= 300,
            format!(
                "auth.leeway_secs: must be at most 300, got {}",
                a.leeway_secs
            ),
        );
        check(
            (1..=365).contains(&a.key_rotation_days),
            format!(
                "auth.key_rotation_days: must be between 1 and 365, got {}",
                a.key_rotation_days
            ),
        );
        check(
            a.key_publish_ahead_secs <= 86_400,
            format!(
                "auth.key_publish_ahead_secs: must be at most 86400, got {}",
                a.key_publish_ahead_secs
            ),
        );
        check(
            (60..=86_400).contains(&a.session_idle_secs),
            format!(
                "auth.session_idle_secs: must be between 60 and 86400, got {}",
                a.session_idle_secs
            ),
        );
        check(
            (a.session_idle_secs..=30 * 86_400).contains(&a.session_absolute_secs),
            format!(
                "auth.session_absolute_secs: must be between session_idle_secs and 2592000, got {}",
                a.session_absolute_secs
            ),
        );
        check(
            (60..=3_600).contains(&a.login_timeout_secs),
            format!(
                "auth.login_timeout_secs: must be between 60 and 3600, got {}",
                a.login_timeout_secs
            ),
        );
        check(
            (100..=60_000).contains(&a.idp_timeout_ms),
            format!(
                "auth.idp_timeout_ms: must be between 100 and 60000, got {}",
                a.idp_timeout_ms
            ),
        );
        check(
            a.idp_jwks_min_refetch_secs <= 3_600,
            format!(
                "auth.idp_jwks_min_refetch_secs: must be at most 3600, got {}",
                a.idp_jwks_min_refetch_secs
            ),
        );
        check(
            (60..=3_600).contains(&a.connector_token_ttl_secs),
            format!(
                "auth.connector_token_ttl_secs: must be between 60 and 3600, got {}",
                a.connector_token_ttl_secs
            ),
        );
        check(
            (1..=600).contains(&a.connector_cache_ttl_secs),
            format!(
                "auth.connector_cache_ttl_secs: must be between 1 and 600, got {}",
                a.connector_cache_ttl_secs
            ),
        );
        let g = &self.graphql;
        check(
            (60..=7 * 86_400).contains(&g.idempotency_ttl_secs),
            format!(
                "graphql.idempotency_ttl_secs: must be between 60 and 604800, got {}",
                g.idempotency_ttl_secs
            ),
        );
        check(
            (2..=64).contains(&g.max_depth),
            format!(
                "graphql.max_depth: must be between 2 and 64, got {}",
                g.max_depth
            ),
        );
        check(
            (10..=1_000_000).contains(&g.max_complexity),
            format!(
                "graphql.max_complexity: must be between 10 and 1000000, got {}",
                g.max_complexity
            ),
        );
        check(
            (1024..=s.body_limit_bytes.max(1024)).contains(&g.max_document_bytes),
            format!(
                "graphql.max_document_bytes: must be between 1024 and server.body_limit_bytes ({}), got {}",
                s.body_limit_bytes, g.max_document_bytes
            ),
        );
        check(
            (1024..=64 * 1024 * 1024).contains(&g.max_variables_bytes),
            format!(
                "graphql.max_variables_bytes: must be between 1024 and 67108864, got {}",
                g.max_variables_bytes
            ),
        );
        check(
            (100..=1_000_000).contains(&g.max_tokens),
            format!(
                "graphql.max_tokens: must be between 100 and 1000000, got {}",
                g.max_tokens
            ),
        );
        check(
            g.max_aliases <= 10_000,
            format!(
                "graphql.max_aliases: must be at most 10000, got {}",
                g.max_aliases
            ),
        );
        check(
            g.max_directives <= 10_000,
            format!(
                "graphql.max_directives: must be at most 10000, got {}",
                g.max_directives
            ),
        );
        let sb = &self.sandbox;
        check(
            (300..=86_400).contains(&sb.token_ttl_secs),
            format!(
                "sandbox.token_ttl_secs: must be between 300 and 86400, got {}",
                sb.token_ttl_secs
            ),
        );
        check(
            (1..=365).contains(&sb.key_ttl_days),
            format!(
                "sandbox.key_ttl_days: must be between 1 and 365, got {}",
                sb.key_ttl_days
            ),
        );
        check(
            (1..=10_000).contains(&sb.creations_per_hour),
            format!(
                "sandbox.creations_per_hour: must be between 1 and 10000, got {}",
                sb.creations_per_hour
            ),
        );
        check(
            sb.end_sweep_secs <= 7 * 86_400,
            format!(
                "sandbox.end_sweep_secs: must be at most 604800 (a week; 0 keeps ended sandboxes), got {}",
                sb.end_sweep_secs
            ),
        );
        let l = &self.limits;
        for problem in l.tiers.problems("limits.tiers") {
            check(false, problem);
        }
        check(
            (1..=1000).contains(&l.replicas),
            format!(
                "limits.replicas: must be between 1 and 1000, got {}",
                l.replicas
            ),
        );
        check(
            (1..=1_000_000).contains(&l.max_in_flight),
            format!(
                "limits.max_in_flight: must be between 1 and 1000000, got {}",
                l.max_in_flight
            ),
        );
        check(
            l.queue_wait_ms <= 10_000,
            format!(
                "limits.queue_wait_ms: must be at most 10000, got {}",
                l.queue_wait_ms
            ),
        );
        check(
            (1..=100_000).contains(&l.failed_auth_per_minute),
            format!(
                "limits.failed_auth_per_minute: must be between 1 and 100000, got {}",
                l.failed_auth_per_minute
            ),
        );
        check(
            (1..=100_000).contains(&l.unauthenticated_per_second),
            format!(
                "limits.unauthenticated_per_second: must be between 1 and 100000, got {}",
                l.unauthenticated_per_second
            ),
        );
        check(
            (1..=1_000_000).contains(&l.unauthenticated_burst),
            format!(
                "limits.unauthenticated_burst: must be between 1 and 1000000, got {}",
                l.unauthenticated_burst
            ),
        );
        check(
            (1..=3600).contains(&l.tenant_cache_secs),
            format!(
                "limits.tenant_cache_secs: must be between 1 and 3600, got {}",
                l.tenant_cache_secs
            ),
        );
        if let Some(r) = &l.redis {
            check(
                r.url.starts_with("redis://") || r.url.starts_with("rediss://"),
                format!(
                    "limits.redis.url: must start with redis:// or rediss://, got {:?}",
                    r.url
                ),
            );
            check(
                (1..=1024).contains(&r.pool_size),
                format!(
                    "limits.redis.pool_size: must be between 1 and 1024, got {}",
                    r.pool_size
                ),
            );
            check(
                (1..=5_000).contains(&r.timeout_ms),
                format!(
                    "limits.redis.timeout_ms: must be between 1 and 5000, got {}",
                    r.timeout_ms
                ),
            );
        }
        check(
            self.compliance.review_interval_secs <= 86_400,
            format!(
                "compliance.review_interval_secs: must be at most 86400, got {}",
                self.compliance.review_interval_secs
            ),
        );
        problems.extend(self.federation.problems());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }
}
