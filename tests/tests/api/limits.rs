//! Per-tenant rates, query cost, bulkheads and GraphQL armour, through the
//! HTTP API over the machine's Redis.

use std::net::SocketAddr;

use prep_tenancy::quotas::TierLimits;
use prep_tenancy::Reach;
use prep_tests::connectors::Call;
use prep_tests::TestApp;
use serde_json::json;

/// An app whose every tier has `limits`.
async fn app_with(
    limits: TierLimits,
    adjust: impl FnOnce(&mut prep_gateway::config::Settings),
) -> TestApp {
    let mut settings = TestApp::settings();
    settings.limits.tiers.free = limits;
    settings.limits.tiers.standard = limits;
    settings.limits.tiers.enterprise = limits;
    adjust(&mut settings);
    TestApp::with_settings(settings).await
}

fn tight() -> TierLimits {
    TierLimits {
        requests_per_second: 1,
        burst: 5,
        credential_requests_per_second: 1,
        credential_burst: 5,
        cost_maximum: 1_000,
        cost_restore_rate: 10,
        max_query_cost: 1_000,
        max_concurrent_operations: 10,
        database_share: 1.0,
    }
}

const Q: &str = "{ viewer { tenant { slug } } }";

#[tokio::test]
async fn a_tenant_over_its_rate_gets_429_with_retry_after_and_headers() {
    let app = app_with(tight(), |_| {}).await;
    let t = app.tenant("acme").await;
    let other = app.tenant("bravo").await;
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let r = app
            .graphql_call(&t.token, Q, json!({}), &Call::default())
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.headers["ratelimit-limit"], "1");
        remaining.push(
            r.headers["ratelimit-remaining"]
                .to_str()
                .expect("ascii")
                .to_owned(),
        );
        assert!(r.body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 1000);
    }
    assert_eq!(remaining, ["4", "3", "2", "1", "0"]);
    let r = app
        .graphql_call(&t.token, Q, json!({}), &Call::default())
        .await;
    assert_eq!(r.status, 429, "{}", r.body);
    let retry: u64 = r.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("secs");
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(r.body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert_eq!(r.body["errors"][0]["extensions"]["limit"], "tenant_rate");
    assert!(
        r.body["errors"][0]["extensions"]["retryAfter"]
            .as_f64()
            .expect("secs")
            > 0.0
    );
    assert!(r.body["extensions"]["cost"]["requestedQueryCost"].is_number());
    // another tenant is untouched
    let r = app
        .graphql_call(&other.token, Q, json!({}), &Call::default())
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn one_credential_cannot_spend_the_whole_tenant() {
    let mut limits = tight();
    limits.requests_per_second = 100;
    limits.burst = 100;
    limits.credential_burst = 3;
    let app = app_with(limits, |_| {}).await;
    let t = app.tenant("acme").await;
    let connector = app.connector(&t, &["locations:read"]).await;
    for _ in 0..3 {
        assert_eq!(
            app.graphql_key(
                &connector.api_key,
                "{ locations(first: 1) { totalCount } }",
                json!({})
            )
            .await
            .status,
            200
        );
    }
    let r = app
        .graphql_key(
            &connector.api_key,
            "{ locations(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.body["errors"][0]["extensions"]["limit"],
        "credential_rate"
    );
    // the tenant's other credentials still work
    let r = app
        .graphql_call(&t.token, Q, json!({}), &Call::default())
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn query_cost_is_reported_refunded_and_budgeted() {
    let mut limits = tight();
    limits.requests_per_second = 100;
    limits.burst = 100;
    limits.credential_requests_per_second = 100;
    limits.credential_burst = 100;
    limits.cost_maximum = 120;
    limits.cost_restore_rate = 1;
    limits.max_query_cost = 60;
    let app = app_with(limits, |_| {}).await;
    let t = app.seeded_tenant("acme").await;

    // 25 locations asked 50 at a time: 52 requested, 27 actual, 25 refunded
    let q = "{ locations(first: 50) { nodes { name } } }";
    let r = app
        .graphql_call(&t.token, q, json!({}), &Call::default())
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cost = &r.body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 52);
    assert_eq!(cost["actualQueryCost"], 27);
    let after_first = cost["throttleStatus"]["currentlyAvailable"]
        .as_u64()
        .expect("n");
    assert!((93..=95).contains(&after_first), "{cost}");
    assert_eq!(cost["throttleStatus"]["restoreRate"], 1);

    // a query above the single-query maximum is refused before execution
    // and costs nothing
    let r = app
        .graphql_call(
            &t.token,
            "{ locations(first: 100) { nodes { name } } }",
            json!({}),
            &Call::default(),
        )
        .await;
    assert_eq!(
        r.body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED",
        "{}",
        r.body
    );
    assert!(r.body["errors"][0]["message"]
        .as_str()
        .expect("m")
        .contains("102"));

    // rateLimit reads the same budget
    let r = app
        .graphql_call(
            &t.token,
            "{ rateLimit { cost limit remaining restoreRate resetAt requestsPerSecond } }",
            json!({}),
            &Call::default(),
        )
        .await;
    let rl = &r.body["data"]["rateLimit"];
    assert_eq!(rl["limit"], 120);
    assert_eq!(rl["cost"], 1);
    assert!(rl["remaining"].as_i64().expect("n") >= 90, "{rl}");

    // spending the budget (unused points come back on the next request):
    // throttled with the time to wait for the points
    let mut admitted = 0;
    let r2 = loop {
        let r = app
            .graphql_call(&t.token, q, json!({}), &Call::default())
            .await;
        if r.status != 200 {
            break r;
        }
        admitted += 1;
        assert!(admitted < 4, "the budget never ran out");
    };
    assert_eq!(r2.status, 429, "{}", r2.body);
    assert_eq!(r2.body["errors"][0]["extensions"]["limit"], "cost");
    let wait = r2.body["errors"][0]["extensions"]["retryAfter"]
        .as_f64()
        .expect("secs");
    assert!(wait > 1.0, "points come back at 1 a second: {wait}");
}

#[tokio::test]
async fn full_bulkheads_answer_503_and_other_tenants_are_served() {
    let mut limits = tight();
    limits.requests_per_second = 100;
    limits.burst = 100;
    limits.credential_burst = 100;
    limits.credential_requests_per_second = 100;
    limits.max_concurrent_operations = 1;
    limits.database_share = 0.25; // one connection of a pool of 4
    let app = app_with(limits, |s| {
        s.limits.queue_wait_ms = 50;
        s.database.max_connections = 4;
    })
    .await;
    let t = app.tenant("acme").await;
    let other = app.tenant("bravo").await;
    let gov = &app.state.governance;
    let tl = gov.limits_of(&app.state.db, t.id).await;

    // the tenant's one operation place is taken
    let held = gov
        .admit(t.id, "u:someone", &tl, 1)
        .await
        .ok()
        .expect("admitted");
    let r = app
        .graphql_call(&t.token, Q, json!({}), &Call::default())
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["errors"][0]["extensions"]["code"], "OVERLOADED");
    assert_eq!(r.headers["retry-after"], "1");
    assert_eq!(
        app.graphql_call(&other.token, Q, json!({}), &Call::default())
            .await
            .status,
        200
    );
    drop(held);
    assert_eq!(
        app.graphql_call(&t.token, Q, json!({}), &Call::default())
            .await
            .status,
        200
    );

    // the tenant's share of the pool is held
    let scope = app
        .state
        .db
        .scope_shared(t.id, Reach::Tenant, gov.db_share(&tl.limits));
    let tx = scope.begin_write().await.expect("the one connection");
    let r = app
        .graphql_call(&t.token, Q, json!({}), &Call::default())
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["errors"][0]["extensions"]["code"], "OVERLOADED");
    assert_eq!(
        app.graphql_call(&other.token, Q, json!({}), &Call::default())
            .await
            .status,
        200
    );
    drop(tx);
    assert_eq!(
        app.graphql_call(&t.token, Q, json!({}), &Call::default())
            .await
            .status,
        200
    );

    // the replica's ceiling: probes still answer
    let permits = app.state.governance.in_flight.available_permits() as u32;
    let all = app
        .state
        .governance
        .in_flight
        .clone()
        .acquire_many_owned(permits)
        .await
        .expect("all");
    let r = app
        .graphql_call(&other.token, Q, json!({}), &Call::default())
        .await;
    assert_eq!(r.status, 503);
    let (status, _, _) = app
        .send(
            axum::http::Request::get("/healthz")
                .body(axum::body::Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(status, 200);
    drop(all);
    let (_, _, metrics) = app
        .send(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .expect("req"),
        )
        .await;
    let metrics = String::from_utf8(metrics).expect("text");
    for reason in ["replica", "tenant_operations", "database_share"] {
        assert!(
            metrics.contains(&format!("prep_overloaded_total{{reason=\"{reason}\"}} 1")),
            "{reason}: {metrics}"
        );
    }
}

#[tokio::test]
async fn hostile_documents_are_refused_before_they_cost_anything() {
    let mut limits = tight();
    limits.burst = 1;
    limits.credential_burst = 1;
    let app = app_with(limits, |s| s.server.body_limit_bytes = 1024 * 1024).await;
    let t = app.tenant("acme").await;
    let flood: String = (0..60).map(|i| format!("a{i}: __typename ")).collect();
    let mut deep = String::from("__typename");
    for _ in 0..20 {
        deep = format!("viewer {{ {deep} }}");
    }
    let huge = format!("{{ {} }}", "__typename ".repeat(8_000));
    let many_tokens = format!("{{ {} }}", "a ".repeat(16_000));
    let directives: String = (0..60).map(|_| "@include(if: true) ").collect();
    let cases = [
        (huge, 413, "DOCUMENT_TOO_LARGE"),
        (many_tokens, 400, "TOO_MANY_TOKENS"),
        (format!("{{ {flood} }}"), 200, "TOO_MANY_ALIASES"),
        (format!("{{ {deep} }}"), 200, "QUERY_TOO_DEEP"),
        (
            format!("{{ __typename {directives} }}"),
            200,
            "TOO_MANY_DIRECTIVES",
        ),
        (
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned(),
            200,
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ];
    for (doc, status, code) in cases {
        let r = app
            .graphql_call(&t.token, &doc, json!({}), &Call::default())
            .await;
        assert_eq!(r.status, status, "{code}: {}", r.body);
        assert_eq!(
            r.body["errors"][0]["extensions"]["code"], code,
            "{}",
            r.body
        );
    }
    let big_vars = json!({ "x": "v".repeat(600 * 1024) });
    let r = app
        .graphql_call(
            &t.token,
            "query($x: String) { __typename }",
            big_vars,
            &Call::default(),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(
        r.body["errors"][0]["extensions"]["code"],
        "VARIABLES_TOO_LARGE"
    );
    // none of them spent the tenant's one-request burst
    let r = app
        .graphql_call(&t.token, Q, json!({}), &Call::default())
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn an_address_that_keeps_failing_authentication_is_refused_for_a_while() {
    let app = app_with(prep_tests::roomy_limits(), |s| {
        s.limits.failed_auth_per_minute = 3
    })
    .await;
    let t = app.tenant("acme").await;
    let attacker = Call {
        peer: Some("203.0.113.66:4000".parse::<SocketAddr>().expect("addr")),
        ..Call::default()
    };
    let bystander = Call {
        peer: Some("198.51.100.7:4000".parse::<SocketAddr>().expect("addr")),
        ..Call::default()
    };
    for _ in 0..4 {
        let r = app
            .graphql_call("not-a-token", Q, json!({}), &attacker)
            .await;
        assert_eq!(r.status, 401);
    }
    let r = app.graphql_call(&t.token, Q, json!({}), &attacker).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.headers.contains_key("retry-after"));
    let r = app.graphql_call(&t.token, Q, json!({}), &bystander).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn sign_in_and_token_routes_are_limited_per_address() {
    let app = app_with(prep_tests::roomy_limits(), |s| {
        s.limits.unauthenticated_per_second = 1;
        s.limits.unauthenticated_burst = 3;
    })
    .await;
    let get = |path: &'static str, ip: &'static str| {
        let mut req = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .expect("req");
        req.extensions_mut().insert(axum::extract::ConnectInfo(
            ip.parse::<SocketAddr>().expect("addr"),
        ));
        req
    };
    for _ in 0..3 {
        let (status, _, _) = app.send(get("/auth/login", "203.0.113.1:1")).await;
        assert_eq!(status, 200);
    }
    let (status, headers, body) = app.send(get("/auth/login", "203.0.113.1:1")).await;
    assert_eq!(status, 429);
    assert!(headers.contains_key("retry-after"));
    let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    let (status, _, _) = app.send(get("/auth/login", "203.0.113.2:1")).await;
    assert_eq!(status, 200, "another address is not limited");
    for _ in 0..10 {
        let (status, _, _) = app
            .send(get("/.well-known/jwks.json", "203.0.113.1:1"))
            .await;
        assert_eq!(status, 200, "public keys are never limited");
    }
}

#[tokio::test]
async fn scim_requests_count_against_their_tenant() {
    let mut limits = tight();
    limits.burst = 10;
    limits.credential_burst = 2;
    let app = app_with(limits, |_| {}).await;
    let t = app.tenant("acme").await;
    let idp = app.idp(&t).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = idp.get("/Users").await;
        statuses.push(r.status.as_u16());
        if r.status == 429 {
            assert!(r.headers.contains_key("retry-after"));
            assert_eq!(r.body["status"], "429");
        }
    }
    assert_eq!(statuses, [200, 200, 429]);
}
