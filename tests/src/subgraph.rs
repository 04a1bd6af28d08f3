//! A real remote federation subgraph for the tests: `node
//! tests/subgraph/server.mjs` (Apollo's `@apollo/subgraph` over node's
//! `http`, with `jose` checking the gateway's tokens; installed by
//! `scripts/test-deps`) on a free loopback port.
//!
//! It is the "regulatory" service: `Location @key(fields: "id")` with a
//! `healthScore` and two `notices`, plus `regulatoryCaller` (the identity the
//! gateway's signed token carried) and `regulatoryBulletins`. Every POST must
//! carry a bearer JWT that verifies against the gateway's JWKS (EdDSA, issuer
//! as given, audience `regulatory`) or is refused with a 401
//! `UNAUTHENTICATED`; only a bare `{ _service { sdl } }` without an
//! Authorization header is answered without one, so the gateway can compose
//! at start-up. What it served is deterministic, so tests can predict it:
//! `healthScore` is the first two bytes of SHA-256(id), big-endian, modulo
//! 101, and every notice's title names the location id and the tenant (`tid`)
//! the subgraph believed it served. [`RemoteSubgraph::misbehaving_url`]
//! points the gateway at the same service answering wrongly, for fault tests.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::oidc::collect;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// How long the subgraph may take to print `ready <port>`.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How late the `slow` mode answers unless told otherwise.
const DEFAULT_SLOW: Duration = Duration::from_secs(3);

/// The ways `/misbehave/<mode>/graphql` answers anything but `_service`
/// (after checking the token, so [`RemoteSubgraph::stats`] still counts it):
///
/// - `slow`: correctly, after the delay given at start (3 s by default);
/// - `hang`: never, holding the connection open;
/// - `garbage`: 200, `application/json`, body `this is not json`;
/// - `status500`: HTTP 500 with a text body;
/// - `wrong-shape`: 200 `{"data":{"_entities":"not a list","regulatoryBulletins":7}}`;
/// - `huge`: 200, a valid answer of about 20 MB (the first `Notice.title` or
///   `Caller.requestId` grows a tail of `x`s, else `extensions.padding`);
/// - `inject`: the correct answer plus two `_entities` beyond the
///   representations sent, `leaked: "secret-of-other-tenant"` on every object
///   in `data`, and a top-level `data.otherTenant`.
pub const MISBEHAVIOURS: &[&str] = &[
    "slow",
    "hang",
    "garbage",
    "status500",
    "wrong-shape",
    "huge",
    "inject",
];

/// A running subgraph process, killed when dropped.
pub struct RemoteSubgraph {
    child: Option<Child>,
    port: u16,
    stderr: Arc<Mutex<String>>,
    http: reqwest::Client,
}

impl RemoteSubgraph {
    /// Starts the subgraph trusting the gateway's keys at `jwks_url` (its
    /// `/.well-known/jwks.json`) for tokens issued by `issuer`.
    pub async fn start(jwks_url: &str, issuer: &str) -> Self {
        Self::start_with_delay(jwks_url, issuer, DEFAULT_SLOW).await
    }

    /// [`RemoteSubgraph::start`] with the `slow` mode answering `slow` late.
    pub async fn start_with_delay(jwks_url: &str, issuer: &str, slow: Duration) -> Self {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("subgraph")
            .join("server.mjs");
        // PORT=0: the server binds a free port itself and reports it, so no
        // other process can take the port between choosing and binding.
        let mut child = Command::new("node")
            .arg(&script)
            .env("PORT", "0")
            .env("JWKS_URL", jwks_url)
            .env("ISSUER", issuer)
            .env("SLOW_MS", slow.as_millis().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("run `node {}` (is node on PATH?): {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = Arc::<Mutex<String>>::default();
        let stderr_task = collect(
            child.stderr.take().expect("piped stderr"),
            Arc::clone(&stderr),
        );

        let mut lines = BufReader::new(stdout).lines();
        let outcome = tokio::time::timeout(READY_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(port) = line.trim().strip_prefix("ready ") {
                    return port.parse::<u16>().ok();
                }
            }
            None
        })
        .await;

        if let Ok(Some(port)) = outcome {
            // Keep draining stdout so the server never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("build an HTTP client");
            return Self {
                child: Some(child),
                port,
                stderr,
                http,
            };
        }
        let _ = child.kill().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), stderr_task).await;
        let why = if outcome.is_err() {
            format!("no `ready <port>` within {READY_TIMEOUT:?}")
        } else {
            "exited before `ready <port>`".to_owned()
        };
        let hint = if script.with_file_name("node_modules").exists() {
            ""
        } else {
            "\n(tests/subgraph/node_modules is missing: run scripts/test-deps)"
        };
        let stderr = stderr.lock().map(|s| s.clone()).unwrap_or_default();
        panic!(
            "`node {}`: {why}; stderr:\n{stderr}{hint}",
            script.display()
        );
    }

    /// The port it listens on at 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The well-behaved GraphQL endpoint, `http://127.0.0.1:PORT/graphql`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }

    /// The endpoint misbehaving as `mode`, one of [`MISBEHAVIOURS`].
    pub fn misbehaving_url(&self, mode: &str) -> String {
        assert!(
            MISBEHAVIOURS.contains(&mode),
            "unknown misbehaviour {mode:?}; the subgraph knows {MISBEHAVIOURS:?}"
        );
        format!("http://127.0.0.1:{}/misbehave/{mode}/graphql", self.port)
    }

    /// The SDL it publishes through `{ _service { sdl } }`, as the gateway
    /// reads it to compose.
    pub async fn sdl(&self) -> String {
        let response = self
            .http
            .post(self.url())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json!({ "query": "{ _service { sdl } }" }).to_string())
            .send()
            .await
            .expect("ask the subgraph for its SDL");
        let body = json_body(response).await;
        body["data"]["_service"]["sdl"]
            .as_str()
            .unwrap_or_else(|| panic!("no SDL in {body}"))
            .to_owned()
    }

    /// What the last POST carried: `{ "headers": [lower-case names],
    /// "claims": <the verified token's claims, or null>, "query", "variables" }`.
    pub async fn last_request(&self) -> Value {
        self.get("/last-request").await
    }

    /// `{ "requests", "verified", "rejected" }`: POSTs seen, tokens that
    /// verified, and requests refused for a missing or invalid token.
    pub async fn stats(&self) -> Value {
        self.get("/stats").await
    }

    /// What the subgraph wrote to stderr (its errors).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("http://127.0.0.1:{}{path}", self.port))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} at the subgraph: {e}"));
        json_body(response).await
    }
}

impl Drop for RemoteSubgraph {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
        }
    }
}

async fn json_body(response: reqwest::Response) -> Value {
    let status = response.status();
    let bytes = response.bytes().await.expect("read the subgraph's answer");
    serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "non-JSON answer {status} from the subgraph: {}",
            String::from_utf8_lossy(&bytes)
        )
    })
}
