//! Connector authentication and HRIS sync throughput.
//!
//! `bench/connectors.sh` runs it in release mode over a fresh database (as
//! the tests do) and prints:
//! 1. API key authentication, key seen recently (the hot path: no database
//!    round trip) and on a cache miss (one look-up), with the look-ups
//!    counted;
//! 2. a whole `POST /graphql {__typename}` authenticated by an API key,
//!    beside the same request with a gateway token;
//! 3. how long a revocation takes to reach another replica's cache;
//! 4. HRIS sync: batches of employees then their credentials, records per
//!    second and statements per batch, with and without `Idempotency-Key`.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request};
use prep_tests::TestApp;
use serde_json::{json, Value};
use tower::ServiceExt as _;

fn report(name: &str, mut samples: Vec<Duration>, total: Duration) {
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize];
    println!(
        "{name:<44} n={:<7} p50={:>9.2?} p99={:>9.2?} max={:>9.2?} throughput={:>9.0}/s",
        samples.len(),
        pct(0.50),
        pct(0.99),
        samples[samples.len() - 1],
        samples.len() as f64 / total.as_secs_f64()
    );
}

async fn post(app: &TestApp, credential: &str, body: &str, key: Option<String>) -> Value {
    let mut req = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {credential}"));
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let req = req.body(Body::from(body.to_owned())).expect("request");
    let resp = app.router.clone().oneshot(req).await.expect("response");
    assert!(resp.status().is_success(), "{}", resp.status());
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("json")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut settings = TestApp::settings();
    settings.server.body_limit_bytes = 4 * 1024 * 1024;
    settings.database.max_connections = 8;
    let app = TestApp::with_settings(settings).await;
    let tenant = app.seeded_tenant("bench").await;
    let c = app
        .connector(&tenant, &["employees:write", "credentials:write"])
        .await;
    let auth = &app.state.connectors;

    // 1. the hot path, then misses
    for _ in 0..1000 {
        auth.authenticate_key(&c.api_key, None, None)
            .await
            .expect("valid");
    }
    let lookups = auth.lookups();
    let mut samples = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let p = auth
            .authenticate_key(&c.api_key, None, Some("bench"))
            .await
            .expect("valid");
        samples.push(t.elapsed());
        std::hint::black_box(p);
    }
    report("API key, seen recently (cached)", samples, start.elapsed());
    println!(
        "  database look-ups during those {n} checks: {}",
        auth.lookups() - lookups
    );
    let misses = n / 50;
    let mut samples = Vec::with_capacity(misses);
    let start = Instant::now();
    for _ in 0..misses {
        auth.clear();
        let t = Instant::now();
        let p = auth
            .authenticate_key(&c.api_key, None, Some("bench"))
            .await
            .expect("valid");
        samples.push(t.elapsed());
        std::hint::black_box(p);
    }
    report("API key, cache miss (1 look-up)", samples, start.elapsed());

    // 2. whole requests
    let body = json!({ "query": "{ __typename }" }).to_string();
    for (name, credential) in [
        ("POST /graphql {__typename} (API key)", c.api_key.as_str()),
        (
            "POST /graphql {__typename} (user token)",
            tenant.token.as_str(),
        ),
    ] {
        let http_n = n / 10;
        let mut samples = Vec::with_capacity(http_n);
        let start = Instant::now();
        for _ in 0..http_n {
            let t = Instant::now();
            std::hint::black_box(post(&app, credential, &body, None).await);
            samples.push(t.elapsed());
        }
        report(name, samples, start.elapsed());
    }

    // 3. revocation reaching another replica
    let (replica, _) = app.replica().await;
    let mut samples = Vec::new();
    for _ in 0..20 {
        let victim = app.connector(&tenant, &["employees:read"]).await;
        replica
            .connectors
            .authenticate_key(&victim.api_key, None, None)
            .await
            .expect("cached on the replica");
        app.graphql(
            &tenant.token,
            "mutation($id: ID!) { revokeConnector(input: { id: $id }) { connector { id } } }",
            json!({ "id": victim.id }),
        )
        .await
        .data();
        let t = Instant::now();
        while replica
            .connectors
            .authenticate_key(&victim.api_key, None, None)
            .await
            .is_ok()
        {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        samples.push(t.elapsed());
    }
    report(
        "revocation seen by another replica",
        samples,
        Duration::from_secs(1),
    );

    // 4. HRIS sync throughput
    let batch = 200;
    let batches = std::env::var("BATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let today = chrono::Utc::now().date_naive();
    let issued = (today - chrono::Days::new(200)).to_string();
    let expires = (today + chrono::Days::new(700)).to_string();
    for idempotent in [false, true] {
        let mut samples = Vec::new();
        let statements_before = app.state.db.statements_total();
        let start = Instant::now();
        for b in 0..batches {
            let tag = if idempotent { "I" } else { "P" };
            let employees: Vec<Value> = (0..batch)
                .map(|i| {
                    json!({ "externalId": format!("WD-{tag}{b}-{i}"), "firstName": "Ana",
                            "lastName": format!("Ruiz {i}"), "jobTitle": "Line cook", "hireDate": "2025-03-01",
                            "locationStoreNumber": format!("{:04}", i % 25 + 1) })
                })
                .collect();
            let credentials: Vec<Value> = (0..batch)
                .map(|i| {
                    json!({ "externalId": format!("CRED-{tag}{b}-{i}"), "employeeExternalId": format!("WD-{tag}{b}-{i}"),
                            "kind": "FOOD_HANDLER_CARD", "issuer": "ServSafe", "issuedOn": issued, "expiresOn": expires })
                })
                .collect();
            let sync_e = json!({ "query": "mutation($i: SyncEmployeesInput!) { syncEmployees(input: $i) { created failed } }",
                                 "variables": { "i": { "employees": employees } } })
            .to_string();
            let sync_c = json!({ "query": "mutation($i: SyncCredentialsInput!) { syncCredentials(input: $i) { created failed } }",
                                 "variables": { "i": { "credentials": credentials } } })
            .to_string();
            let key = |k: &str| idempotent.then(|| format!("{k}-{b}"));
            let t = Instant::now();
            let r = post(&app, &c.api_key, &sync_e, key("e")).await;
            assert_eq!(r["data"]["syncEmployees"]["created"], batch, "{r}");
            let r = post(&app, &c.api_key, &sync_c, key("c")).await;
            assert_eq!(r["data"]["syncCredentials"]["created"], batch, "{r}");
            samples.push(t.elapsed());
        }
        let elapsed = start.elapsed();
        let statements = app.state.db.statements_total() - statements_before;
        let records = (batches * batch * 2) as f64;
        report(
            if idempotent {
                "HRIS sync, 200+200 per pair (Idempotency-Key)"
            } else {
                "HRIS sync, 200+200 per pair"
            },
            samples,
            elapsed,
        );
        println!(
            "  {:.0} records/s; {:.1} statements per batch (25 locations re-evaluated per batch)",
            records / elapsed.as_secs_f64(),
            statements as f64 / (batches * 2) as f64
        );
    }
}
