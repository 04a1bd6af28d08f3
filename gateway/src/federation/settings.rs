//! `[federation]`: the remote subgraphs the gateway composes with its own
//! domains, and how each is called.
//!
//! ```toml
//! [federation]
//! reload_secs = 30
//!
//! [[federation.subgraphs]]
//! name = "regulatory"
//! url = "https://regulatory.internal/graphql"
//! sdl_file = "/etc/prep/regulatory.graphql"   # else read from `{ _service { sdl } }`
//! timeout_ms = 5000
//! max_connections = 64
//! tenant_share_percent = 25
//! forward_headers = ["accept-language"]
//! connectors = false   # whether ERP/HRIS connectors may reach it
//!
//! # one of the gateway's own domains, served on its own by
//! # `prep-gateway serve --subgraph workforce` (instead of in process);
//! # `platform` names all of them at once
//! [[federation.subgraphs]]
//! name = "workforce"
//! url = "http://workforce.internal:4001/graphql"
//! ```

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use prep_resolvers::domains::{is_own, ALL_DOMAINS};

/// Headers that are never forwarded: they carry the client's credentials
/// or belong to the connection, not the operation.
const NEVER_FORWARDED: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "host",
    "content-length",
    "content-type",
    "connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "x-api-key",
];

/// Federation with remote subgraphs. Without subgraphs the gateway serves
/// its own domains alone.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FederationSettings {
    /// Remote subgraphs.
    pub subgraphs: Vec<RemoteSubgraphSettings>,
    /// How often SDL sources are checked for changes (a changed file or
    /// `_service` answer triggers recomposition); 0 turns polling off
    /// (SIGHUP still reloads).
    pub reload_secs: u64,
}

impl Default for FederationSettings {
    fn default() -> Self {
        Self {
            subgraphs: Vec::new(),
            reload_secs: 30,
        }
    }
}

/// One remote subgraph.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteSubgraphSettings {
    /// Its name in the supergraph (letters, digits, `_`, `-`).
    pub name: String,
    /// Its GraphQL endpoint (http or https).
    pub url: String,
    /// Its SDL; when absent, asked of the subgraph (`{ _service { sdl } }`).
    #[serde(default)]
    pub sdl_file: Option<PathBuf>,
    /// Deadline for one call, in milliseconds.
    #[serde(default = "defaults::timeout_ms")]
    pub timeout_ms: u64,
    /// Concurrent calls to it from one replica.
    #[serde(default = "defaults::max_connections")]
    pub max_connections: u32,
    /// The share of `max_connections` one tenant may hold, in percent.
    #[serde(default = "defaults::tenant_share_percent")]
    pub tenant_share_percent: u32,
    /// Largest answer accepted, in bytes.
    #[serde(default = "defaults::max_response_bytes")]
    pub max_response_bytes: usize,
    /// Client request headers passed on (lower-case names). Credentials
    /// and hop-by-hop headers are never forwarded.
    #[serde(default)]
    pub forward_headers: Vec<String>,
    /// Consecutive failures that open the circuit breaker.
    #[serde(default = "defaults::breaker_failures")]
    pub breaker_failures: u32,
    /// How long the breaker stays open before one probe call, in seconds.
    #[serde(default = "defaults::breaker_open_secs")]
    pub breaker_open_secs: u64,
    /// Whether connectors' operations may reach it. Off by default:
    /// connectors are denied whatever no scope grants, and the gateway
    /// knows no scopes for another service's fields. Turn it on for a
    /// subgraph that enforces the `scope` claim of the gateway's token.
    /// The gateway's own domains (`platform`, `workforce`, …) always do,
    /// so they are always open to them.
    #[serde(default)]
    pub connectors: bool,
}

mod defaults {
    pub fn timeout_ms() -> u64 {
        5_000
    }
    pub fn max_connections() -> u32 {
        64
    }
    pub fn tenant_share_percent() -> u32 {
        25
    }
    pub fn max_response_bytes() -> usize {
        8 * 1024 * 1024
    }
    pub fn breaker_failures() -> u32 {
        5
    }
    pub fn breaker_open_secs() -> u64 {
        10
    }
}

impl RemoteSubgraphSettings {
    /// How many concurrent calls one tenant may hold (at least one).
    pub fn tenant_share(&self) -> u32 {
        (self.max_connections * self.tenant_share_percent / 100).max(1)
    }
}

impl FederationSettings {
    /// Every problem, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.reload_secs > 86_400 {
            problems.push(format!(
                "federation.reload_secs: must be at most 86400, got {}",
                self.reload_secs
            ));
        }
        for (i, s) in self.subgraphs.iter().enumerate() {
            let at = format!("federation.subgraphs[{i}]");
            let name_ok = !s.name.is_empty()
                && s.name.len() <= 64
                && s.name.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !name_ok {
                problems.push(format!(
                    "{at}.name: must start with a letter and hold only letters, digits, _ and - (at most 64), got {:?}",
                    s.name
                ));
            }
            if self.subgraphs[..i].iter().any(|o| o.name == s.name) {
                problems.push(format!("{at}.name: {:?} is configured twice", s.name));
            }
            let both = |a: &str, b: &str| a == ALL_DOMAINS && is_own(b) && b != ALL_DOMAINS;
            if let Some(other) = self.subgraphs[..i]
                .iter()
                .find(|o| both(&o.name, &s.name) || both(&s.name, &o.name))
            {
                problems.push(format!(
                    "{at}.name: {:?} and {:?} are both configured, but `platform` already serves every domain",
                    other.name, s.name
                ));
            }
            match url::Url::parse(&s.url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                _ => problems.push(format!("{at}.url: must be an http(s) URL, got {:?}", s.url)),
            }
            if let Some(file) = &s.sdl_file {
                if !file.is_file() {
                    problems.push(format!("{at}.sdl_file: {} does not exist", file.display()));
                }
            }
            if !(1..=300_000).contains(&s.timeout_ms) {
                problems.push(format!(
                    "{at}.timeout_ms: must be between 1 and 300000, got {}",
                    s.timeout_ms
                ));
            }
            if !(1..=10_000).contains(&s.max_connections) {
                problems.push(format!(
                    "{at}.max_connections: must be between 1 and 10000, got {}",
                    s.max_connections
                ));
            }
            if !(1..=100).contains(&s.tenant_share_percent) {
                problems.push(format!(
                    "{at}.tenant_share_percent: must be between 1 and 100, got {}",
                    s.tenant_share_percent
                ));
            }
            if !(1024..=256 * 1024 * 1024).contains(&s.max_response_bytes) {
                problems.push(format!(
                    "{at}.max_response_bytes: must be between 1024 and 268435456, got {}",
                    s.max_response_bytes
                ));
            }
            if s.breaker_failures == 0 || s.breaker_open_secs == 0 || s.breaker_open_secs > 3_600 {
                problems.push(format!(
                    "{at}: breaker_failures must be at least 1 and breaker_open_secs between 1 and 3600"
                ));
            }
            for (j, h) in s.forward_headers.iter().enumerate() {
                let valid = reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_ok()
                    && h.bytes().all(|b| !b.is_ascii_uppercase());
                if !valid {
                    problems.push(format!(
                        "{at}.forward_headers[{j}]: {h:?} is not a lower-case header name"
                    ));
                } else if NEVER_FORWARDED.contains(&h.as_str()) {
                    problems.push(format!(
                        "{at}.forward_headers[{j}]: {h:?} carries credentials or belongs to the connection; it is never forwarded"
                    ));
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(name: &str, url: &str) -> RemoteSubgraphSettings {
        toml_remote(&format!("name = {name:?}\nurl = {url:?}"))
    }

    fn toml_remote(text: &str) -> RemoteSubgraphSettings {
        use figment::providers::Format as _;
        figment::Figment::from(figment::providers::Toml::string(text))
            .extract()
            .expect("parses")
    }

    #[test]
    fn defaults_are_valid() {
        let mut s = FederationSettings::default();
        s.subgraphs
            .push(remote("regulatory", "http://127.0.0.1:4001/graphql"));
        assert_eq!(s.problems(), Vec::<String>::new());
        assert_eq!(s.subgraphs[0].tenant_share(), 16);
        // the gateway's own domains, served on their own
        s.subgraphs
            .push(remote("platform", "http://127.0.0.1:4002/graphql"));
        assert_eq!(s.problems(), Vec::<String>::new());
        s.subgraphs[1].name = "workforce".into();
        s.subgraphs
            .push(remote("alerts", "http://127.0.0.1:4003/graphql"));
        assert_eq!(s.problems(), Vec::<String>::new());
    }

    #[test]
    fn all_domains_and_one_of_them_are_not_both_remote() {
        let mut s = FederationSettings::default();
        s.subgraphs
            .push(remote("workforce", "http://127.0.0.1:4002/graphql"));
        s.subgraphs
            .push(remote("platform", "http://127.0.0.1:4003/graphql"));
        let problems = s.problems().join("\n");
        assert!(
            problems.contains(
                "federation.subgraphs[1].name: \"workforce\" and \"platform\" are both configured"
            ),
            "{problems}"
        );
    }

    #[test]
    fn every_bad_value_is_named() {
        let mut s = FederationSettings::default();
        s.subgraphs.push(remote("9lives", "ftp://x"));
        s.subgraphs.push(remote("dup", "http://a/graphql"));
        s.subgraphs.push(remote("dup", "http://a/graphql"));
        let mut bad = remote("ok", "http://a/graphql");
        bad.forward_headers = vec![
            "Authorization".into(),
            "authorization".into(),
            "x-locale".into(),
        ];
        bad.tenant_share_percent = 0;
        s.subgraphs.push(bad);
        let problems = s.problems().join("\n");
        for expect in [
            "subgraphs[0].name: must start with a letter",
            "subgraphs[0].url: must be an http(s) URL",
            "subgraphs[2].name: \"dup\" is configured twice",
            "subgraphs[3].forward_headers[0]: \"Authorization\" is not a lower-case header name",
            "subgraphs[3].forward_headers[1]: \"authorization\" carries credentials",
            "subgraphs[3].tenant_share_percent",
        ] {
            assert!(
                problems.contains(expect),
                "missing {expect:?} in\n{problems}"
            );
        }
        assert!(!problems.contains("forward_headers[2]"), "{problems}");
    }
}
