//! `Idempotency-Key` on mutations: a retried write is applied once.

use std::sync::Arc;

use prep_tests::connectors::Call;
use prep_tests::TestApp;
use serde_json::{json, Value};

const SYNC: &str = r#"mutation($input: SyncEmployeesInput!) { syncEmployees(input: $input) {
    results { status id } created unchanged userErrors { code } } }"#;

fn batch(n: usize) -> Value {
    let employees: Vec<Value> = (0..n)
        .map(|i| {
            json!({ "externalId": format!("WD-{i}"), "firstName": "Ana", "lastName": format!("Ruiz {i}"),
                    "hireDate": "2025-03-01", "locationStoreNumber": format!("{:04}", i % 25 + 1) })
        })
        .collect();
    json!({ "input": { "employees": employees } })
}

fn with_key(key: &str) -> Call<'static> {
    Call {
        headers: vec![("idempotency-key", key.to_owned())],
        ..Call::default()
    }
}

async fn count(app: &TestApp, tenant: &prep_tests::TestTenant, prefix: &str) -> i64 {
    let admin = app.admin_pool().await;
    sqlx::query_scalar(
        "select count(*) from employees where tenant_id = $1 and external_id like $2 || '%'",
    )
    .bind(tenant.id.as_uuid())
    .bind(prefix)
    .fetch_one(&admin)
    .await
    .expect("count")
}

#[tokio::test]
async fn a_retry_gets_the_stored_response_and_applies_nothing() {
    let app = TestApp::new().await;
    let t = app.seeded_tenant("acme").await;
    let hris = app.connector(&t, &["employees:write"]).await;
    let first = app
        .graphql_call(&hris.api_key, SYNC, batch(3), &with_key("sync-001"))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["data"]["syncEmployees"]["created"], 3);
    assert!(first.headers.get("idempotent-replayed").is_none());

    let again = app
        .graphql_call(&hris.api_key, SYNC, batch(3), &with_key("sync-001"))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again
            .headers
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(again.body, first.body, "the stored response, byte for byte");
    assert_eq!(count(&app, &t, "WD-").await, 3);
    assert_eq!(app.audit_actions(&t, "employee.sync").await.len(), 1);

    // variables in another key order are the same request
    let mut reordered = serde_json::Map::new();
    reordered.insert("input".into(), batch(3)["input"].clone());
    let again = app
        .graphql_call(
            &hris.api_key,
            SYNC,
            Value::Object(reordered),
            &with_key("sync-001"),
        )
        .await;
    assert_eq!(
        again
            .headers
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );

    // the same key with another body, or from another caller, is refused
    let other = app
        .graphql_call(&hris.api_key, SYNC, batch(4), &with_key("sync-001"))
        .await;
    assert_eq!(other.status, 422, "{}", other.body);
    assert_eq!(
        other.body["errors"][0]["extensions"]["code"],
        "IDEMPOTENCY_KEY_REUSED"
    );
    let r = app
        .graphql_call(&t.token, SYNC, batch(3), &with_key("sync-001"))
        .await;
    assert_eq!(
        r.status, 422,
        "another caller cannot read the stored response"
    );
    assert_eq!(count(&app, &t, "WD-").await, 3);

    // a user's mutations take keys too
    let q = r#"mutation { createLocation(input: { storeNumber: "IL-900", name: "Loop",
        address: { line1: "233 S Wacker Dr", city: "Chicago", state: "IL", postalCode: "60606" },
        jurisdictionCode: "US-IL-CHICAGO" }) { location { id } userErrors { code } } }"#;
    let a = app
        .graphql_call(&t.token, q, json!({}), &with_key("loc-1"))
        .await;
    let b = app
        .graphql_call(&t.token, q, json!({}), &with_key("loc-1"))
        .await;
    assert_eq!(a.body, b.body);
    assert!(
        a.body["data"]["createLocation"]["location"]["id"].is_string(),
        "{}",
        a.body
    );

    // malformed keys are refused before anything else
    for bad in ["", "has space", &"x".repeat(256)] {
        let r = app
            .graphql_call(&hris.api_key, SYNC, batch(1), &with_key(bad))
            .await;
        assert_eq!(r.status, 400, "{bad:?}: {}", r.body);
        assert!(r.body["errors"][0]["message"]
            .as_str()
            .expect("m")
            .contains("Idempotency-Key"));
    }
    assert_eq!(count(&app, &t, "WD-").await, 3);
}

#[tokio::test]
async fn a_thousand_concurrent_retries_apply_once() {
    let mut settings = TestApp::settings();
    settings.database.max_connections = 16;
    let app = Arc::new(TestApp::with_settings(settings).await);
    let t = app.seeded_tenant("acme").await;
    let hris = app.connector(&t, &["employees:write"]).await;
    let body = batch(50);
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (app, key, body) = (Arc::clone(&app), hris.api_key.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            app.graphql_call(&key, SYNC, body, &with_key("hris-batch-2026-11-30"))
                .await
        }));
    }
    let mut bodies = Vec::new();
    let mut replayed = 0;
    for task in tasks {
        let r = task.await.expect("task");
        assert_eq!(r.status, 200, "{}", r.body);
        if r.headers.contains_key("idempotent-replayed") {
            replayed += 1;
        }
        bodies.push(r.body);
    }
    assert_eq!(replayed, 999, "one request applied, the others replayed");
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every retry saw the same response"
    );
    assert_eq!(bodies[0]["data"]["syncEmployees"]["created"], 50);
    assert_eq!(count(&app, &t, "WD-").await, 50);
    assert_eq!(app.audit_actions(&t, "employee.sync").await.len(), 1);
}

#[tokio::test]
async fn keys_belong_to_their_tenant() {
    let app = TestApp::new().await;
    let a = app.seeded_tenant("acme").await;
    let b = app.seeded_tenant("bravo").await;
    let ca = app.connector(&a, &["employees:write"]).await;
    let cb = app.connector(&b, &["employees:write"]).await;
    let ra = app
        .graphql_call(&ca.api_key, SYNC, batch(2), &with_key("shared-key"))
        .await;
    // the same key in another tenant is another key: applied there, not
    // refused (which would tell B that A used it), not replayed
    let rb = app
        .graphql_call(&cb.api_key, SYNC, batch(2), &with_key("shared-key"))
        .await;
    assert_eq!(rb.status, 200);
    assert!(rb.headers.get("idempotent-replayed").is_none());
    assert_eq!(rb.body["data"]["syncEmployees"]["created"], 2);
    assert_ne!(ra.body, rb.body);
    assert_eq!(count(&app, &b, "WD-").await, 2);
}
