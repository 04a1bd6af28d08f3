//! What a misbehaving remote subgraph can do to an answer (time out,
//! answer 500, garbage, too much, the wrong shape) and the breaker that
//! stops calling it.

use std::time::{Duration, Instant};

use serde_json::json;

use super::federation::{codes, federated, requests, JOINED};

/// A failing subgraph costs the client only that subgraph's fields: our
/// own data arrives, each missing field has an error with its code, and no
/// answer waits much past the subgraph's deadline.
async fn survives(mode: &str, expected_code: &str) {
    let f = federated(Some(mode), json!({ "timeout_ms": 1000 })).await;
    let a = f.app.seeded_tenant(&format!("fed-{mode}")).await;
    let started = Instant::now();
    let r = f.app.graphql(&a.token, JOINED, json!({})).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{mode} took {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 200, "{mode}: {}", r.body);
    let nodes = r.body["data"]["locations"]["nodes"]
        .as_array()
        .expect("nodes");
    assert_eq!(nodes.len(), 2, "{mode}: {}", r.body);
    for node in nodes {
        assert!(node["name"].is_string(), "{mode}: {}", r.body);
        assert!(node["healthScore"].is_null(), "{mode}: {}", r.body);
    }
    let codes = codes(&r.body);
    assert!(
        codes.iter().any(|c| c == expected_code),
        "{mode}: {}",
        r.body
    );
    for error in r.body["errors"].as_array().expect("errors") {
        assert_eq!(
            error["path"][0], "locations",
            "{mode}: every error has its path: {error}"
        );
        assert_eq!(error["extensions"]["serviceName"], "regulatory");
    }
    let text = r.body.to_string();
    assert!(
        !text.contains("not a list") && !text.contains("xxxxxxxx"),
        "{mode} leaks: {text}"
    );
}

#[tokio::test]
async fn a_hanging_subgraph_times_out() {
    survives("hang", "SUBREQUEST_TIMEOUT").await;
}

#[tokio::test]
async fn a_subgraph_answering_500_is_an_http_error() {
    survives("status500", "SUBREQUEST_HTTP_ERROR").await;
}

#[tokio::test]
async fn a_subgraph_answering_garbage_is_malformed() {
    survives("garbage", "SUBREQUEST_MALFORMED_RESPONSE").await;
}

#[tokio::test]
async fn a_subgraph_answering_too_much_is_cut_off() {
    survives("huge", "SUBREQUEST_TOO_LARGE").await;
}

#[tokio::test]
async fn a_subgraph_answering_the_wrong_shape_is_not_trusted() {
    let f = federated(Some("wrong-shape"), json!({})).await;
    let a = f.app.seeded_tenant("fed-shape").await;
    let r = f.app.graphql(&a.token, JOINED, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for node in r.body["data"]["locations"]["nodes"]
        .as_array()
        .expect("nodes")
    {
        assert!(
            node["name"].is_string() && node["healthScore"].is_null(),
            "{}",
            r.body
        );
    }
    assert!(!codes(&r.body).is_empty(), "{}", r.body);
    let r = f
        .app
        .graphql(&a.token, "{ regulatoryBulletins { title } }", json!({}))
        .await;
    assert!(
        r.body["data"]["regulatoryBulletins"].is_null(),
        "{}",
        r.body
    );
    assert!(!codes(&r.body).is_empty(), "{}", r.body);
    assert_eq!(
        r.body["errors"][0]["path"],
        json!(["regulatoryBulletins"]),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn the_breaker_opens_after_repeated_failures_and_stops_calling_the_subgraph() {
    let f = federated(
        Some("status500"),
        json!({ "breaker_failures": 2, "breaker_open_secs": 60 }),
    )
    .await;
    let a = f.app.seeded_tenant("fed-breaker").await;
    for _ in 0..2 {
        let r = f.app.graphql(&a.token, JOINED, json!({})).await;
        assert!(
            codes(&r.body).contains(&"SUBREQUEST_HTTP_ERROR".to_owned()),
            "{}",
            r.body
        );
    }
    let before = requests(&f.subgraph).await;
    let started = Instant::now();
    let r = f.app.graphql(&a.token, JOINED, json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        codes(&r.body).contains(&"SUBGRAPH_UNAVAILABLE".to_owned()),
        "{}",
        r.body
    );
    assert!(
        r.body["data"]["locations"]["nodes"][0]["name"].is_string(),
        "{}",
        r.body
    );
    assert_eq!(
        requests(&f.subgraph).await,
        before,
        "the open breaker called the subgraph"
    );
}
