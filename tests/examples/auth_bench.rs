//! Token verification and principal resolution on the request path.
//!
//! `bench/auth.sh` runs it in release mode. It builds a real gateway over a
//! fresh database (as the tests do), then measures, single-threaded:
//! 1. `TokenService::verify` of a valid gateway token (warm key cache), for
//!    a token seen before (the usual case: clients reuse a token for
//!    minutes) and for tokens each seen for the first time,
//! 2. a whole `/graphql` request authenticated by that token whose query
//!    needs no database (`{ __typename }`): edge + auth + GraphQL,
//! 3. resolving a browser session cookie (one database round trip).

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request};
use prep_auth::{Grant, Role};
use prep_tests::TestApp;
use tower::ServiceExt as _;

fn report(name: &str, mut samples: Vec<Duration>, total: Duration) {
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize];
    println!(
        "{name:<34} n={:<7} p50={:>8.2?} p99={:>8.2?} max={:>8.2?} throughput={:>9.0}/s",
        samples.len(),
        pct(0.50),
        pct(0.99),
        samples[samples.len() - 1],
        samples.len() as f64 / total.as_secs_f64()
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let app = TestApp::new().await;
    let tenant = app.seeded_tenant("bench").await;
    let admin = app.admin_pool().await;
    let location: uuid::Uuid = sqlx::query_scalar("select id from locations limit 1")
        .fetch_one(&admin)
        .await
        .expect("a location");
    let token = app
        .token(
            "bench",
            "lm@bench.example",
            &[Grant {
                role: Role::LocationManager,
                location: Some(location),
            }],
        )
        .await;
    let tokens = &app.state.tokens;
    for _ in 0..1000 {
        tokens.verify(&token, None).await.expect("valid");
    }
    let mut samples = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let p = tokens.verify(&token, Some("bench")).await.expect("valid");
        samples.push(t.elapsed());
        std::hint::black_box(p);
    }
    report(
        "verify, token seen before (cached)",
        samples,
        start.elapsed(),
    );

    // every token new: the EdDSA signature check and claims parsing
    let grants = [Grant {
        role: Role::LocationManager,
        location: Some(location),
    }];
    let subject = prep_auth::TokenSubject {
        tenant: tenant.id,
        tenant_slug: "bench",
        user: uuid::Uuid::new_v4(),
        grants: &grants,
    };
    let fresh: Vec<String> = (0..n / 5)
        .map(|_| {
            tokens
                .issue(&subject, Duration::from_secs(600))
                .expect("issue")
        })
        .collect();
    let mut samples = Vec::with_capacity(fresh.len());
    let start = Instant::now();
    for token in &fresh {
        let t = Instant::now();
        let p = tokens.verify(token, Some("bench")).await.expect("valid");
        samples.push(t.elapsed());
        std::hint::black_box(p);
    }
    report(
        "verify, first sight (EdDSA check)",
        samples,
        start.elapsed(),
    );

    let body = serde_json::json!({ "query": "{ __typename }" }).to_string();
    let http_n = n / 10;
    let mut samples = Vec::with_capacity(http_n);
    let start = Instant::now();
    for _ in 0..http_n {
        let req = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {}", tenant.token))
            .body(Body::from(body.clone()))
            .expect("request");
        let t = Instant::now();
        let resp = app.router.clone().oneshot(req).await.expect("response");
        samples.push(t.elapsed());
        assert!(resp.status().is_success());
    }
    report(
        "POST /graphql {__typename} (token)",
        samples,
        start.elapsed(),
    );

    let mut tx = app.state.db.begin(tenant.id).await.expect("tx");
    let user = prep_auth::users::ensure_user(&mut tx, "s@bench.example", "")
        .await
        .expect("user");
    let session = app
        .state
        .sessions
        .start(&mut tx, user, None, None)
        .await
        .expect("session");
    tx.commit().await.expect("commit");
    let session_n = n / 20;
    let mut samples = Vec::with_capacity(session_n);
    let start = Instant::now();
    for _ in 0..session_n {
        let t = Instant::now();
        let s = app
            .state
            .sessions
            .resolve(&session.cookie_value)
            .await
            .expect("resolve")
            .expect("live");
        samples.push(t.elapsed());
        std::hint::black_box(s);
    }
    report(
        "session cookie -> principal (1 RTT)",
        samples,
        start.elapsed(),
    );
}
