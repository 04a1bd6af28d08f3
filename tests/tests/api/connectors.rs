//! Connector clients: registration, API keys and their lifecycle, scopes
//! field by field, address and location restrictions.

use std::net::SocketAddr;
use std::time::Duration;

use prep_tests::connectors::Call;
use prep_tests::TestApp;
use serde_json::{json, Value};

const VIEWER: &str =
    "{ viewer { tenant { slug } connector { id scopes locationIds } user { email } } }";

/// Root read fields and the scope each needs.
const READS: &[(&str, &str)] = &[
    ("{ locations(first: 1) { totalCount } }", "locations:read"),
    ("{ employees(first: 1) { totalCount } }", "employees:read"),
    (
        "{ credentials(first: 1) { totalCount } }",
        "credentials:read",
    ),
    ("{ permits(first: 1) { totalCount } }", "permits:read"),
    (
        "{ inspections(first: 1) { totalCount } }",
        "inspections:read",
    ),
    (
        "{ complianceSummary { totals { locations } } }",
        "compliance:read",
    ),
    ("{ alerts(first: 1) { totalCount } }", "alerts:read"),
];

const SCOPES: &[&str] = &[
    "locations:read",
    "locations:write",
    "employees:read",
    "employees:write",
    "credentials:read",
    "credentials:write",
    "permits:read",
    "permits:write",
    "inspections:read",
    "inspections:write",
    "compliance:read",
    "alerts:read",
];

fn resource(scope: &str) -> &str {
    scope.split(':').next().unwrap_or_default()
}

#[tokio::test]
async fn a_new_connector_gets_its_key_once_and_calls_with_it() {
    let app = TestApp::new().await;
    let t = app.seeded_tenant("acme").await;
    let c = app
        .connector(&t, &["employees:write", "credentials:write"])
        .await;
    assert!(c.api_key.starts_with("prep_live_"), "{}", c.api_key);
    assert_eq!(c.api_key.len(), 92);

    let r = app.graphql_key(&c.api_key, VIEWER, json!({})).await;
    let v = &r.data()["viewer"];
    assert_eq!(v["tenant"]["slug"], "acme");
    assert_eq!(v["user"], Value::Null);
    assert_eq!(v["connector"]["id"], c.id.as_str());
    assert_eq!(
        v["connector"]["scopes"],
        json!(["employees:write", "credentials:write"])
    );
    assert_eq!(v["connector"]["locationIds"], Value::Null);

    // the secret is never listed again; the key's hint is
    let r = app
        .graphql(
            &t.token,
            "{ connectors { id name keys { hint active } } }",
            json!({}),
        )
        .await;
    let listed = r.body.to_string();
    assert!(
        !listed.contains(&c.api_key[50..]),
        "the secret leaked: {listed}"
    );
    let hint = r.data()["connectors"][0]["keys"][0]["hint"]
        .as_str()
        .expect("hint");
    assert!(c.api_key.starts_with(hint.trim_end_matches('…')), "{hint}");

    let created = app.audit_actions(&t, "connector.create").await;
    assert_eq!(created.len(), 1);
    assert!(!created[0].to_string().contains(&c.api_key[50..]));

    // X-API-Key works as well as Authorization
    let r = app
        .graphql_call(
            "ignored",
            "{ employees(first: 1) { totalCount } }",
            json!({}),
            &Call {
                headers: vec![("x-api-key", c.api_key.clone())],
                ..Call::default()
            },
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let all = app
        .graphql(
            &t.token,
            "{ employees(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.body["data"]["employees"], all.data()["employees"]);

    // last use is recorded off the request path, about once a minute
    app.state.connectors.flush_usage().await;
    let r = app
        .graphql(
            &t.token,
            "{ connectors { lastUsedAt keys { lastUsedAt } } }",
            json!({}),
        )
        .await;
    assert!(
        r.data()["connectors"][0]["lastUsedAt"].is_string(),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn each_scope_allows_exactly_its_fields() {
    let app = TestApp::new().await;
    let t = app.seeded_tenant("acme").await;
    for scope in SCOPES {
        let c = app.connector(&t, &[scope]).await;
        for (query, needs) in READS {
            let r = app.graphql_key(&c.api_key, query, json!({})).await;
            let allowed = resource(scope) == resource(needs);
            if allowed {
                assert!(
                    r.body.get("errors").is_none(),
                    "{scope} on {query}: {}",
                    r.body
                );
            } else {
                assert_eq!(
                    r.error_code(),
                    Some("FORBIDDEN"),
                    "{scope} on {query}: {}",
                    r.body
                );
                assert_eq!(r.body["errors"][0]["extensions"]["requiredScope"], *needs);
                assert!(
                    r.body["errors"][0]["message"]
                        .as_str()
                        .expect("message")
                        .contains(needs),
                    "the error names the scope: {}",
                    r.body
                );
            }
        }
    }
}

#[tokio::test]
async fn nested_fields_mutations_and_administration_are_checked_too() {
    let app = TestApp::new().await;
    let t = app.seeded_tenant("acme").await;
    let c = app.connector(&t, &["employees:read"]).await;
    // a nested field of another resource is refused with its own path
    let r = app
        .graphql_key(
            &c.api_key,
            "{ employees(first: 2) { nodes { firstName credentials { id } location { name } } } }",
            json!({}),
        )
        .await;
    let errors = r.body["errors"].as_array().expect("errors");
    assert!(errors
        .iter()
        .any(|e| e["extensions"]["requiredScope"] == "credentials:read"
            && e["path"] == json!(["employees", "nodes", 0, "credentials"])));
    assert!(errors
        .iter()
        .any(|e| e["extensions"]["requiredScope"] == "locations:read"));
    assert!(r.body["data"]["employees"]["nodes"][0]["firstName"].is_string());

    // a read scope never writes, and the mutation does not run
    let r = app
        .graphql_key(
            &c.api_key,
            r#"mutation { terminateEmployees(input: { employees: [{ externalId: "HRIS-000001", terminatedOn: "2026-01-01" }] }) { updated } }"#,
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    assert_eq!(
        r.body["errors"][0]["extensions"]["requiredScope"],
        "employees:write"
    );
    let r = app
        .graphql(
            &t.token,
            r#"{ employees(first: 1, filter: { status: TERMINATED }) { totalCount } }"#,
            json!({}),
        )
        .await;
    let terminated_before = r.data()["employees"]["totalCount"].clone();

    // administration is never a connector's, whatever its scopes
    let all = app.connector(&t, SCOPES).await;
    for q in [
        "{ members(first: 1) { totalCount } }",
        "{ auditEvents(first: 1) { totalCount } }",
        "{ connectors { id } }",
        "{ scimTokens { id } }",
        "{ ssoConnections { id } }",
        r#"mutation { createScimToken(input: { name: "x" }) { secret } }"#,
        r#"mutation { createConnector(input: { name: "x", kind: ERP, vendor: SAP, scopes: ["locations:read"] }) { credentials { apiKey } } }"#,
    ] {
        let r = app.graphql_key(&all.api_key, q, json!({})).await;
        assert_eq!(r.error_code(), Some("FORBIDDEN"), "{q}: {}", r.body);
        assert!(r.body["errors"][0]["message"]
            .as_str()
            .expect("m")
            .contains("not available to connectors"));
    }
    let r = app
        .graphql(&t.token, "{ connectors { id } }", json!({}))
        .await;
    assert_eq!(
        r.data()["connectors"].as_array().map(Vec::len),
        Some(2),
        "no connector was created by a connector"
    );
    let r = app
        .graphql(
            &t.token,
            r#"{ employees(first: 1, filter: { status: TERMINATED }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(r.data()["employees"]["totalCount"], terminated_before);

    // node(id) does not tell a connector that an object it may not read exists
    let r = app
        .graphql(
            &t.token,
            "{ permits(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let permit = r.data()["permits"]["nodes"][0]["id"].clone();
    let r = app
        .graphql_key(
            &c.api_key,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": permit }),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"), "{}", r.body);

    // every denied use is an audit event naming the connector
    let denied = app.audit_actions(&t, "connector.denied").await;
    assert!(!denied.is_empty());
    assert!(denied.iter().all(|e| e["actorType"] == "connector"));
    assert!(denied.iter().any(|e| e["details"]["fields"]
        .to_string()
        .contains("credentials:read")));
}

#[tokio::test]
async fn damaged_keys_are_refused_without_a_database_look_up() {
    let app = TestApp::new().await;
    let t = app.tenant("acme").await;
    let c = app.connector(&t, &["locations:read"]).await;
    let before = app.state.connectors.lookups();
    let key = &c.api_key;
    let mut typo = key.clone().into_bytes();
    typo[60] = if typo[60] == b'a' { b'b' } else { b'a' };
    let candidates = [
        key[..key.len() - 1].to_owned(),             // truncated
        format!("{key}0"),                           // padded
        String::from_utf8(typo).expect("ascii"),     // checksum mismatch
        key.replacen("prep_live_", "prep_scim_", 1), // another prefix
        key.replacen("prep_live_", "prep_test_", 1), // environment swapped
        "prep_live_".to_owned(),                     // nothing after the prefix
        format!("prep_live_{}", "z".repeat(82)),     // right length, not hex
    ];
    for bad in &candidates {
        let r = app
            .graphql_key(bad, "{ locations(first: 1) { totalCount } }", json!({}))
            .await;
        assert_eq!(r.status, 401, "{bad}: {}", r.body);
        assert_eq!(r.error_code(), Some("UNAUTHENTICATED"));
    }
    assert_eq!(
        app.state.connectors.lookups(),
        before,
        "a malformed key cost a look-up"
    );
}

#[tokio::test]
async fn revocation_takes_effect_at_once_on_every_replica() {
    let app = TestApp::new().await;
    let t = app.tenant("acme").await;
    let c = app.connector(&t, &["locations:read"]).await;
    let (replica, _) = app.replica().await;
    let q = "{ locations(first: 1) { totalCount } }";
    assert_eq!(app.graphql_key(&c.api_key, q, json!({})).await.status, 200);
    let on_replica = |app: &TestApp| {
        let router = prep_gateway::http::router(replica.clone());
        let key = c.api_key.clone();
        let _ = app;
        async move {
            use tower::ServiceExt as _;
            let req = axum::http::Request::post("/graphql")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {key}"))
                .body(axum::body::Body::from(json!({ "query": q }).to_string()))
                .expect("request");
            router.oneshot(req).await.expect("infallible").status()
        }
    };
    assert_eq!(on_replica(&app).await, 200, "the replica caches the key");

    let r = app
        .graphql(&t.token, "mutation($id: ID!) { revokeConnector(input: { id: $id }) { connector { revokedAt active } } }", json!({ "id": c.id }))
        .await;
    assert_eq!(r.data()["revokeConnector"]["connector"]["active"], false);
    assert_eq!(app.graphql_key(&c.api_key, q, json!({})).await.status, 401);
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let status = on_replica(&app).await;
        if status == 401 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the replica still accepts a revoked key"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.audit_actions(&t, "connector.revoke").await.len(), 1);
}

#[tokio::test]
async fn an_expired_key_fails_and_a_rolled_key_works_until_its_overlap_ends() {
    let app = TestApp::new().await;
    let t = app.tenant("acme").await;
    let c = app.connector(&t, &["locations:read"]).await;
    let q = "{ locations(first: 1) { totalCount } }";
    let until = chrono::Utc::now() + chrono::Duration::seconds(2);
    let r = app
        .graphql(
            &t.token,
            "mutation($id: ID!, $until: DateTime!) { rollConnectorKey(input: { connectorId: $id, oldKeysValidUntil: $until }) {
                credentials { apiKey } connector { keys { active expiresAt replacedById } } userErrors { message } } }",
            json!({ "id": c.id, "until": until.to_rfc3339() }),
        )
        .await;
    let new_key = r.data()["rollConnectorKey"]["credentials"]["apiKey"]
        .as_str()
        .expect("new key")
        .to_owned();
    assert_ne!(new_key, c.api_key);
    assert_eq!(
        app.graphql_key(&c.api_key, q, json!({})).await.status,
        200,
        "old key inside the overlap"
    );
    assert_eq!(app.graphql_key(&new_key, q, json!({})).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(
        app.graphql_key(&c.api_key, q, json!({})).await.status,
        401,
        "old key after the overlap"
    );
    assert_eq!(app.graphql_key(&new_key, q, json!({})).await.status, 200);

    // a key past its expiry fails at once (expiry changed underneath: the
    // change is pushed to the cache like a revocation)
    let admin = app.admin_pool().await;
    sqlx::query("update connector_keys set expires_at = now() - interval '1 second' where replaced_by is null")
        .execute(&admin)
        .await
        .expect("expire");
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while app.graphql_key(&new_key, q, json!({})).await.status != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "an expired key still works"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // the key's lifetime is capped by the tenant's policy
    let r = app
        .graphql(&t.token, "mutation { setConnectorPolicy(input: { maxKeyLifetimeDays: 30 }) { policy { maxKeyLifetimeDays } } }", json!({}))
        .await;
    assert_eq!(
        r.data()["setConnectorPolicy"]["policy"]["maxKeyLifetimeDays"],
        30
    );
    let r = app
        .graphql(
            &t.token,
            r#"mutation { createConnector(input: { name: "long", kind: ERP, vendor: SAP, scopes: ["locations:read"], expiresInDays: 31 }) {
                credentials { apiKey } userErrors { field message } } }"#,
            json!({}),
        )
        .await;
    let p = &r.data()["createConnector"];
    assert_eq!(p["credentials"], Value::Null);
    assert_eq!(
        p["userErrors"][0]["field"],
        json!(["input", "expiresInDays"])
    );
}

#[tokio::test]
async fn address_ranges_and_locations_restrict_a_connector() {
    let app = TestApp::new().await;
    let t = app.seeded_tenant("acme").await;
    let r = app
        .graphql(
            &t.token,
            "{ locations(first: 2) { nodes { id storeNumber } } }",
            json!({}),
        )
        .await;
    let mine = r.data()["locations"]["nodes"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let other_store = r.data()["locations"]["nodes"][1]["storeNumber"]
        .as_str()
        .expect("store")
        .to_owned();
    let c = app
        .connector_with(
            &t,
            &["employees:write", "locations:read"],
            json!({ "allowedIpRanges": ["203.0.113.0/24", "2001:db8::/32"], "locationIds": [mine] }),
        )
        .await;
    let inside: SocketAddr = "203.0.113.9:50000".parse().expect("addr");
    let outside: SocketAddr = "198.51.100.1:50000".parse().expect("addr");
    let q =
        "{ locations(first: 50) { totalCount nodes { id } } employees(first: 1) { totalCount } }";
    let r = app
        .graphql_call(
            &c.api_key,
            q,
            json!({}),
            &Call {
                peer: Some(inside),
                ..Call::default()
            },
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["data"]["locations"]["totalCount"], 1,
        "sees its one location"
    );
    assert_eq!(r.body["data"]["locations"]["nodes"][0]["id"], mine.as_str());
    assert_eq!(r.body["data"]["employees"]["totalCount"], 12);
    let r = app
        .graphql_call(
            &c.api_key,
            q,
            json!({}),
            &Call {
                peer: Some(outside),
                ..Call::default()
            },
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let r = app
        .graphql_call(&c.api_key, q, json!({}), &Call::default())
        .await;
    assert_eq!(r.status, 403, "no known address is outside every range");

    // a record at a location outside its reach is not found there
    let r = app
        .graphql_call(
            &c.api_key,
            r#"mutation($s: String!) { syncEmployees(input: { employees: [
                { externalId: "WD-1", firstName: "Ana", lastName: "Ruiz", hireDate: "2025-01-02", locationStoreNumber: $s }] }) {
                results { status } userErrors { field code } } }"#,
            json!({ "s": other_store }),
            &Call { peer: Some(inside), ..Call::default() },
        )
        .await;
    let p = &r.body["data"]["syncEmployees"];
    assert_eq!(p["results"][0]["status"], "FAILED", "{}", r.body);
    assert_eq!(p["userErrors"][0]["code"], "NOT_FOUND");

    // bad ranges and scopes are refused with the field that is wrong
    let r = app
        .graphql(
            &t.token,
            r#"mutation { createConnector(input: { name: "bad", kind: ERP, vendor: SAP,
                scopes: ["locations:read", "members:write"], allowedIpRanges: ["10.0.0.1/8"] }) {
                credentials { apiKey } userErrors { field message code } } }"#,
            json!({}),
        )
        .await;
    let errors = r.data()["createConnector"]["userErrors"]
        .as_array()
        .expect("errors")
        .clone();
    assert!(errors
        .iter()
        .any(|e| e["field"] == json!(["input", "scopes"])
            && e["message"].as_str().expect("m").contains("members:write")));
    assert!(errors
        .iter()
        .any(|e| e["field"] == json!(["input", "allowedIpRanges", "0"])));
    assert_eq!(r.data()["createConnector"]["credentials"], Value::Null);
}
