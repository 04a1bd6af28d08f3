//! Traffic governance under load, over real TCP and the machine's Redis.
//!
//! `bench/governance.sh` runs it in release mode and prints:
//! 1. the cost of the limiter and bulkhead per request (`admit`: the
//!    rates and cost budget in one Redis round trip, then the tenant's
//!    bulkhead), with Redis round trips counted from `INFO commandstats`;
//! 2. the noisy-neighbour scenario: tenant B sends a steady load alone,
//!    then again while tenant A floods at ten times its limit; B's p50,
//!    p99 and errors in both runs, and what A got.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prep_tenancy::quotas::TierLimits;
use prep_tests::TestApp;
use tokio::sync::Mutex;

const B_RATE: u64 = 40; // requests per second, under B's limit
const A_LIMIT: u32 = 50;
const QUERY: &str = r#"{"query":"{ locations(first: 20) { nodes { name complianceStatus } } }"}"#;

fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    samples[((samples.len() as f64 - 1.0) * p) as usize]
}

fn redis_evalsha_calls() -> u64 {
    let out = std::process::Command::new("redis-cli")
        .args(["info", "commandstats"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// Sends `QUERY` as `token` at `rate` per second for `run_for` (open loop:
/// a slow answer does not slow the sender), returning latencies of the
/// answers that were 200 and the count of the others by status.
async fn steady(
    http: reqwest::Client,
    addr: SocketAddr,
    token: String,
    rate: u64,
    run_for: Duration,
) -> (Vec<Duration>, Vec<u16>) {
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let others = Arc::new(Mutex::new(Vec::new()));
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let start = Instant::now();
    let mut inflight = Vec::new();
    while start.elapsed() < run_for {
        tick.tick().await;
        let (http, token, latencies, others) = (
            http.clone(),
            token.clone(),
            latencies.clone(),
            others.clone(),
        );
        inflight.push(tokio::spawn(async move {
            let t = Instant::now();
            let status = http
                .post(format!("http://{addr}/graphql"))
                .header("content-type", "application/json")
                .bearer_auth(&token)
                .body(QUERY)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            if status == 200 {
                latencies.lock().await.push(t.elapsed());
            } else {
                others.lock().await.push(status);
            }
        }));
    }
    for f in inflight {
        let _ = f.await;
    }
    let l = std::mem::take(&mut *latencies.lock().await);
    let o = std::mem::take(&mut *others.lock().await);
    (l, o)
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let mut settings = TestApp::settings();
    settings.database.max_connections = 8;
    let standard = TierLimits {
        requests_per_second: A_LIMIT,
        burst: A_LIMIT,
        credential_requests_per_second: A_LIMIT,
        credential_burst: A_LIMIT,
        max_concurrent_operations: 16,
        database_share: 0.5,
        ..prep_tests::roomy_limits()
    };
    settings.limits.tiers.standard = standard;
    let app = TestApp::with_settings(settings).await;
    let a = app.seeded_tenant("noisy").await;
    let b = app.seeded_tenant("steady").await;

    // 1. the limiter and bulkhead alone
    let gov = &app.state.governance;
    let limits = gov.limits_of(&app.state.db, b.id).await;
    let roomy = prep_gateway::governance::TenantLimits {
        limits: prep_tests::roomy_limits(),
        ..(*limits).clone()
    };
    for _ in 0..1000 {
        let _ = gov.admit(b.id, "u:bench", &roomy, 2).await;
    }
    let n = 20_000;
    let before = redis_evalsha_calls();
    let mut samples = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let admitted = gov.admit(b.id, "u:bench", &roomy, 2).await;
        samples.push(t.elapsed());
        assert!(admitted.is_ok());
    }
    let total = start.elapsed();
    let trips = redis_evalsha_calls() - before;
    println!(
        "limiter + bulkhead (admit)         n={n} p50={:?} p99={:?} throughput={:.0}/s; Redis round trips per request: {:.2}",
        pct(&mut samples, 0.5),
        pct(&mut samples, 0.99),
        n as f64 / total.as_secs_f64(),
        trips as f64 / n as f64
    );

    // 2. the noisy neighbour
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    let run_for = Duration::from_secs(secs);
    // warm up both tenants' caches and connections
    let _ = steady(
        http.clone(),
        addr,
        b.token.clone(),
        20,
        Duration::from_secs(2),
    )
    .await;

    let (mut alone, alone_errors) =
        steady(http.clone(), addr, b.token.clone(), B_RATE, run_for).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let flood = tokio::spawn(steady(
        http.clone(),
        addr,
        a.token.clone(),
        u64::from(A_LIMIT) * 10,
        run_for,
    ));
    let (mut noisy, noisy_errors) =
        steady(http.clone(), addr, b.token.clone(), B_RATE, run_for).await;
    let (a_ok, a_other) = flood.await.expect("flood");
    let refused = a_other.iter().filter(|s| **s == 429).count();
    println!(
        "tenant B alone        ({B_RATE}/s)       n={} p50={:?} p99={:?} errors={}",
        alone.len(),
        pct(&mut alone, 0.5),
        pct(&mut alone, 0.99),
        alone_errors.len()
    );
    println!(
        "tenant B, A flooding ({B_RATE}/s vs {}/s) n={} p50={:?} p99={:?} errors={}",
        A_LIMIT * 10,
        noisy.len(),
        pct(&mut noisy, 0.5),
        pct(&mut noisy, 0.99),
        noisy_errors.len()
    );
    println!(
        "tenant A: {} admitted ({:.1}/s against a limit of {A_LIMIT}/s), {refused} refused with 429, {} other",
        a_ok.len(),
        a_ok.len() as f64 / run_for.as_secs_f64(),
        a_other.len() - refused
    );
    println!(
        "B's p99 with the flood / alone: {:.2}",
        pct(&mut noisy, 0.99).as_secs_f64() / pct(&mut alone, 0.99).as_secs_f64()
    );
}
