//! SCIM provisioning through the HTTP endpoint, as an IdP drives it.
//!
//! `bench/scim.sh` runs it in release mode. It serves a real gateway (fresh
//! database, non-superuser runtime role) on a loopback port and, over HTTP
//! with `C` concurrent connections (default 8, like an IdP's provisioning
//! workers):
//! 1. creates `USERS` users (default 10,000) with `POST /Users`,
//! 2. creates `GROUPS` groups (default 500) with `POST /Groups`, each with
//!    20 members, then adds 20 more to each with one `PATCH`,
//! 3. looks users up with `GET /Users?filter=userName eq "…"` (the call
//!    Okta and Entra make before every create), 5,000 times.
//!
//! It prints per-request p50/p99, throughput, total time and SQL statements
//! per request for each phase. Between phases it runs `ANALYZE` on the
//! tables written, as autovacuum does in production within a minute of a
//! bulk change (this machine's PostgreSQL runs with autovacuum off, and
//! without statistics the planner takes a 10,000-user tenant for a handful
//! of rows). `COLD=1` skips it, to see the first minute of an import.

use std::sync::Arc;
use std::time::{Duration, Instant};

use prep_tests::TestApp;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

struct Phase {
    name: &'static str,
    samples: Vec<Duration>,
    total: Duration,
    statements: u64,
}

impl Phase {
    fn report(mut self) {
        self.samples.sort_unstable();
        let n = self.samples.len();
        let pct = |p: f64| self.samples[((n as f64 - 1.0) * p) as usize];
        println!(
            "{:<34} n={:<6} p50={:>9.2?} p99={:>9.2?} max={:>9.2?} {:>7.0} req/s  total={:>7.2?}  {:.1} SQL/req",
            self.name,
            n,
            pct(0.50),
            pct(0.99),
            self.samples[n - 1],
            n as f64 / self.total.as_secs_f64(),
            self.total,
            self.statements as f64 / n as f64,
        );
    }
}

/// Runs `bodies` as requests with `concurrency` in flight; every answer
/// must have `status`.
async fn run(
    app: &TestApp,
    name: &'static str,
    concurrency: usize,
    requests: Vec<(reqwest::RequestBuilder, u16)>,
) -> (Phase, Vec<Value>) {
    let gate = Arc::new(Semaphore::new(concurrency));
    let before = app.state.db.statements_total();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(requests.len());
    for (req, status) in requests {
        let gate = Arc::clone(&gate);
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.expect("semaphore");
            let t = Instant::now();
            let resp = req.send().await.expect("send");
            let got = resp.status().as_u16();
            let bytes = resp.bytes().await.unwrap_or_default();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let took = t.elapsed();
            assert_eq!(got, status, "{name}: {body}");
            (took, body)
        }));
    }
    let mut samples = Vec::with_capacity(tasks.len());
    let mut bodies = Vec::with_capacity(tasks.len());
    for t in tasks {
        let (took, body) = t.await.expect("task");
        samples.push(took);
        bodies.push(body);
    }
    let phase = Phase {
        name,
        samples,
        total: start.elapsed(),
        statements: app.state.db.statements_total() - before,
    };
    (phase, bodies)
}

/// What autovacuum does after a bulk change (see the module comment).
async fn analyze(app: &TestApp) {
    if std::env::var_os("COLD").is_some() {
        return;
    }
    let admin = app.admin_pool().await;
    sqlx::query("analyze users, groups, group_members")
        .execute(&admin)
        .await
        .expect("analyze");
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let (users, groups, concurrency) = (env("USERS", 10_000), env("GROUPS", 500), env("C", 8));
    let app = TestApp::with_pool(16).await;
    let tenant = app.tenant("bench").await;
    let idp = app.idp(&tenant).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let base = format!("http://{addr}/scim/v2");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let auth = format!("Bearer {}", idp.token);
    let post = |path: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .header("authorization", &auth)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
    };
    let started = Instant::now();

    let creates = (0..users)
        .map(|i| {
            let name = format!("user{i:05}@bench.example");
            let body = json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                "userName": name, "externalId": format!("ext-{i}"),
                "name": { "givenName": "User", "familyName": format!("{i:05}") },
                "emails": [{ "value": name, "type": "work", "primary": true }],
                "active": true, "groups": [], "password": "ignored-by-prep",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Kitchen", "employeeNumber": i.to_string() },
            });
            (post("/Users", body), 201)
        })
        .collect();
    let (phase, bodies) = run(&app, "POST /Users", concurrency, creates).await;
    phase.report();
    analyze(&app).await;
    let ids: Vec<String> = bodies
        .iter()
        .map(|b| b["id"].as_str().expect("id").to_owned())
        .collect();

    let per_group = 20.min(ids.len());
    let member = |g: usize, k: usize| json!({ "value": ids[(g * 40 + k) % ids.len()] });
    let group_creates = (0..groups)
        .map(|g| {
            let members: Vec<Value> = (0..per_group).map(|k| member(g, k)).collect();
            let body = json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": format!("Group {g:04}"), "members": members,
            });
            (post("/Groups", body), 201)
        })
        .collect();
    let (phase, bodies) = run(
        &app,
        "POST /Groups (20 members)",
        concurrency,
        group_creates,
    )
    .await;
    phase.report();
    let group_ids: Vec<String> = bodies
        .iter()
        .map(|b| b["id"].as_str().expect("id").to_owned())
        .collect();

    let patches = group_ids
        .iter()
        .enumerate()
        .map(|(g, id)| {
            let members: Vec<Value> = (per_group..2 * per_group).map(|k| member(g, k)).collect();
            let body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{ "op": "add", "path": "members", "value": members }],
            });
            let req = http
                .patch(format!("{base}/Groups/{id}"))
                .header("authorization", &auth)
                .header("content-type", "application/scim+json")
                .body(body.to_string());
            (req, 200)
        })
        .collect();
    let (phase, _) = run(&app, "PATCH /Groups add 20 members", concurrency, patches).await;
    phase.report();
    println!(
        "provisioned {users} users and {groups} groups in {:.2?}",
        started.elapsed()
    );
    analyze(&app).await;

    let lookups = (0..5_000)
        .map(|i| {
            let filter = format!(
                "userName eq \"USER{:05}@bench.example\"",
                (i * 7919) % users
            );
            let req = http
                .get(format!("{base}/Users"))
                .query(&[("filter", filter)])
                .header("authorization", &auth);
            (req, 200)
        })
        .collect();
    let (phase, bodies) = run(&app, "GET /Users?filter=userName eq", concurrency, lookups).await;
    assert!(bodies.iter().all(|b| b["totalResults"] == 1));
    phase.report();
}
