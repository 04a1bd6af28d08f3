//! Limits shared by replicas through Redis, and what happens when Redis
//! goes away and comes back: real TCP replicas, a real Redis server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prep_tenancy::quotas::TierLimits;
use prep_tests::TestApp;

fn limits(per_second: u32, burst: u32) -> TierLimits {
    TierLimits {
        requests_per_second: per_second,
        burst,
        credential_requests_per_second: per_second,
        credential_burst: burst,
        ..prep_tests::roomy_limits()
    }
}

async fn post(http: &reqwest::Client, addr: SocketAddr, token: &str) -> u16 {
    http.post(format!("http://{addr}/graphql"))
        .header("content-type", "application/json")
        .bearer_auth(token)
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_hold_one_tenant_within_five_percent_of_its_rate() {
    let mut settings = TestApp::settings();
    let l = limits(100, 20);
    settings.limits.tiers.standard = l;
    // The deployment's true replica count, and a Redis deadline a busy CI
    // machine cannot miss: this test measures the shared limiter, not the
    // fallback (which `a_redis_outage_falls_back_…` covers).
    settings.limits.replicas = 3;
    if let Some(redis) = settings.limits.redis.as_mut() {
        redis.timeout_ms = 1_000;
    }
    let app = TestApp::with_settings(settings).await;
    let t = app.tenant("acme").await;
    let mut addrs = vec![prep_tests::serve(app.router.clone()).await];
    for _ in 0..2 {
        let (_, router) = app.replica().await;
        addrs.push(prep_tests::serve(router).await);
    }
    let http = reqwest::Client::new();
    let (ok, limited, other) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let run_for = Duration::from_secs(4);
    let start = Instant::now();
    let mut workers = Vec::new();
    for i in 0..24 {
        let (http, addr, token) = (http.clone(), addrs[i % 3], t.token.clone());
        let (ok, limited, other) = (ok.clone(), limited.clone(), other.clone());
        workers.push(tokio::spawn(async move {
            while start.elapsed() < run_for {
                match post(&http, addr, &token).await {
                    200 => ok.fetch_add(1, Ordering::Relaxed),
                    429 => limited.fetch_add(1, Ordering::Relaxed),
                    _ => other.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for w in workers {
        w.await.expect("worker");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let admitted = ok.load(Ordering::Relaxed) as f64;
    let expected = f64::from(l.burst) + f64::from(l.requests_per_second) * elapsed;
    let off = (admitted - expected).abs() / expected;
    println!(
        "admitted {admitted} of an ideal {expected:.0} in {elapsed:.2} s ({:.1} % off); refused {}",
        off * 100.0,
        limited.load(Ordering::Relaxed)
    );
    assert_eq!(other.load(Ordering::Relaxed), 0, "only 200 and 429");
    assert!(
        limited.load(Ordering::Relaxed) > admitted as u64,
        "the load was above the limit"
    );
    assert!(off <= 0.05, "admitted {admitted}, ideal {expected:.0}");
}

/// A Redis server of the test's own, so stopping it disturbs no one else.
struct OwnRedis {
    port: u16,
    child: tokio::process::Child,
}

impl OwnRedis {
    async fn start(port: u16) -> Self {
        let child = tokio::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed");
        let deadline = Instant::now() + Duration::from_secs(5);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { port, child }
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn metrics(http: &reqwest::Client, addr: SocketAddr) -> String {
    http.get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_falls_back_to_bounded_local_limits_and_recovers() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let redis = OwnRedis::start(port).await;
    let mut settings = TestApp::settings();
    settings.limits.tiers.standard = limits(5, 10);
    settings.limits.redis = Some(prep_tenancy::quotas::RedisSettings {
        url: format!("redis://127.0.0.1:{}", redis.port),
        pool_size: 4,
        timeout_ms: 50,
    });
    let app = TestApp::with_settings(settings).await;
    let t = app.tenant("acme").await;
    let addr = prep_tests::serve(app.router.clone()).await;
    let http = reqwest::Client::new();
    let burst = |n: usize| {
        let (http, token) = (http.clone(), t.token.clone());
        async move {
            let mut statuses = Vec::new();
            for _ in 0..n {
                statuses.push(post(&http, addr, &token).await);
            }
            statuses
        }
    };

    let shared = burst(30).await;
    assert!(shared.iter().all(|s| *s == 200 || *s == 429), "{shared:?}");
    assert!(
        (9..=12).contains(&shared.iter().filter(|s| **s == 200).count()),
        "{shared:?}"
    );
    let m = metrics(&http, addr).await;
    assert_eq!(metric(&m, "prep_rate_limiter_degraded"), 0.0);
    assert!(metric(&m, "prep_quota_checks_total{store=\"shared\"}") >= 30.0);

    // Redis goes away: no 5xx, limits still hold, on this replica alone
    redis.stop().await;
    tokio::time::sleep(Duration::from_secs(3)).await; // the local bucket refills
    let local = burst(30).await;
    assert!(local.iter().all(|s| *s == 200 || *s == 429), "{local:?}");
    let admitted = local.iter().filter(|s| **s == 200).count();
    assert!(
        (9..=13).contains(&admitted),
        "bounded without Redis: {local:?}"
    );
    let m = metrics(&http, addr).await;
    assert_eq!(metric(&m, "prep_rate_limiter_degraded"), 1.0);
    assert!(metric(&m, "prep_quota_checks_total{store=\"local\"}") >= 29.0);
    assert!(metric(&m, "prep_rate_limiter_redis_failures_total") >= 1.0);

    // Redis comes back: shared limits resume by themselves
    let redis = OwnRedis::start(port).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = post(&http, addr, &t.token).await;
        assert!(s == 200 || s == 429, "{s}");
        let m = metrics(&http, addr).await;
        if metric(&m, "prep_rate_limiter_degraded") == 0.0 {
            let before = metric(&m, "prep_quota_checks_total{store=\"shared\"}");
            post(&http, addr, &t.token).await;
            let after = metric(
                &metrics(&http, addr).await,
                "prep_quota_checks_total{store=\"shared\"}",
            );
            assert!(after > before, "checks are shared again");
            break;
        }
        assert!(Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    redis.stop().await;
}
