//! The developer sandbox over HTTP: the embedded page, sandbox tenants and
//! keys, resets, and the walls between sandboxes and real tenants.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use prep_tests::connectors::Call;
use prep_tests::TestApp;
use serde_json::{json, Value};

pub(crate) async fn post_json(
    app: &TestApp,
    path: &str,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(b) = bearer {
        req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
    }
    let (status, _, body) = app.send(req.body(Body::from("{}")).expect("req")).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A snapshot of a tenant's domain rows, ids included.
async fn snapshot(app: &TestApp, tenant: uuid::Uuid) -> Vec<String> {
    let admin = app.admin_pool().await;
    let mut out = Vec::new();
    for table in [
        "locations",
        "employees",
        "credentials",
        "permits",
        "inspections",
        "findings",
    ] {
        let digest: Option<String> = sqlx::query_scalar(&format!(
            "select md5(string_agg((row_to_json(x)::jsonb - 'created_at' - 'updated_at' - 'compliance_evaluated_at')::text, '' order by id))
             from {table} x where tenant_id = $1"
        ))
        .bind(tenant)
        .fetch_one(&admin)
        .await
        .expect("snapshot");
        out.push(format!("{table}:{}", digest.unwrap_or_default()));
    }
    out
}

#[tokio::test]
async fn the_page_is_embedded_compressed_and_cached() {
    let app = TestApp::new().await;
    let get = |path: &str, enc: &str| {
        Request::get(path)
            .header(header::ACCEPT_ENCODING, enc)
            .body(Body::empty())
            .expect("req")
    };
    let (status, headers, body) = app.send(get("/sandbox", "gzip, br")).await;
    assert_eq!(status, 200);
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii");
    assert!(csp.contains("default-src 'self'") && csp.contains("connect-src 'self'"));
    assert!(body.len() < 1000);
    let etag = headers[header::ETAG].clone();
    let (status, _, _) = app
        .send(
            Request::get("/sandbox")
                .header(header::IF_NONE_MATCH, etag)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(status, 304);
    let (_, _, html) = app.send(get("/sandbox", "identity")).await;
    let html = String::from_utf8(html).expect("utf-8");
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a script");
    assert!(script.starts_with("/sandbox/assets/"), "{script}");
    let (status, headers, gz) = app.send(get(script, "gzip")).await;
    assert_eq!(status, 200);
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(gz.len() < 500_000, "{} bytes gzipped", gz.len());
    let (status, _, _) = app.send(get("/sandbox/assets/nope.js", "gzip")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_sandbox_is_seeded_and_its_key_brings_the_developer_back() {
    let app = TestApp::new().await;
    let (status, created) = post_json(&app, "/sandbox/api/tenants", None).await;
    assert_eq!(status, 201, "{created}");
    let key = created["sandboxKey"].as_str().expect("key").to_owned();
    assert!(key.starts_with("prep_sbx_"));
    let token = created["token"].as_str().expect("token").to_owned();
    let r = app
        .graphql(
            &token,
            "{ viewer { tenant { slug isSandbox plan } } locations(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["viewer"]["tenant"]["isSandbox"], true);
    assert_eq!(r.data()["viewer"]["tenant"]["plan"], "free");
    assert_eq!(r.data()["locations"]["totalCount"], 25);
    assert_eq!(
        r.data()["viewer"]["tenant"]["slug"],
        created["tenant"]["slug"]
    );

    let (status, again) = post_json(&app, "/sandbox/api/token", Some(&key)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["tenant"]["slug"], created["tenant"]["slug"]);
    let fresh = again["token"].as_str().expect("token");
    assert_eq!(
        app.graphql(fresh, "{ viewer { tenant { slug } } }", json!({}))
            .await
            .status,
        200
    );

    // damaged, unknown and missing keys: a clear 401, never a 500
    let mut typo = key.clone().into_bytes();
    typo[40] = if typo[40] == b'a' { b'b' } else { b'a' };
    for bad in [
        String::from_utf8(typo).expect("ascii"),
        "prep_sbx_nope".into(),
        String::new(),
        key.replacen("prep_sbx_", "prep_live_", 1),
    ] {
        let (status, body) = post_json(&app, "/sandbox/api/token", Some(&bad)).await;
        assert_eq!(status, 401, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn sandbox_credentials_never_reach_a_real_tenant() {
    let app = TestApp::new().await;
    let real = app.seeded_tenant("acme").await;
    let (_, created) = post_json(&app, "/sandbox/api/tenants", None).await;
    let token = created["token"].as_str().expect("token").to_owned();
    let slug = created["tenant"]["slug"].as_str().expect("slug").to_owned();

    // a sandbox token naming the real tenant is refused
    let r = app
        .graphql_call(
            &token,
            "{ locations(first: 1) { totalCount } }",
            json!({}),
            &Call {
                headers: vec![("x-prep-tenant", "acme".to_owned())],
                ..Call::default()
            },
        )
        .await;
    assert_eq!(r.status, 401);
    // sandbox connector keys are prep_test_ and work only there
    let r = app
        .graphql(
            &token,
            r#"mutation { createConnector(input: { name: "try", kind: HRIS, vendor: WORKDAY, scopes: ["employees:read"] }) { credentials { apiKey } } }"#,
            json!({}),
        )
        .await;
    let key = r.data()["createConnector"]["credentials"]["apiKey"]
        .as_str()
        .expect("key")
        .to_owned();
    assert!(key.starts_with("prep_test_"));
    let r = app
        .graphql_key(
            &key,
            "{ viewer { tenant { slug } } employees(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["viewer"]["tenant"]["slug"], slug.as_str());
    let r = app
        .graphql_call(
            &key,
            "{ employees(first: 1) { totalCount } }",
            json!({}),
            &Call {
                headers: vec![("x-prep-tenant", "acme".to_owned())],
                ..Call::default()
            },
        )
        .await;
    assert_eq!(r.status, 401);
    // the real tenant's owner cannot use the sandbox key API, nor reset
    let (status, _) = post_json(&app, "/sandbox/api/token", Some(&real.token)).await;
    assert_eq!(status, 401);
    let r = app
        .graphql(&real.token, "mutation { resetSandbox { ok } }", json!({}))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    assert!(r.body["errors"][0]["message"]
        .as_str()
        .expect("m")
        .contains("sandbox"));
}

#[tokio::test]
async fn reset_restores_the_seed_exactly_and_touches_no_one_else() {
    let app = TestApp::new().await;
    let other = app.seeded_tenant("acme").await;
    let (_, created) = post_json(&app, "/sandbox/api/tenants", None).await;
    let token = created["token"].as_str().expect("token").to_owned();
    let r = app
        .graphql(&token, "{ viewer { tenant { id } } }", json!({}))
        .await;
    let tenant_gid = r.data()["viewer"]["tenant"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let admin = app.admin_pool().await;
    let sandbox: uuid::Uuid = sqlx::query_scalar("select id from tenants where slug = $1")
        .bind(created["tenant"]["slug"].as_str().expect("slug"))
        .fetch_one(&admin)
        .await
        .expect("tenant");
    let _ = tenant_gid;
    let pristine = snapshot(&app, sandbox).await;
    let others = snapshot(&app, other.id.as_uuid()).await;

    // the developer plays: a new store, a terminated employee
    app.graphql(&token, r#"mutation { syncLocations(input: { locations: [{ externalId: "X-1", storeNumber: "9999", name: "Test",
        address: { line1: "1 Main", city: "Chicago", state: "IL", postalCode: "60606" }, jurisdictionCode: "US-IL-CHICAGO" }] }) { created } }"#, json!({}))
        .await
        .data();
    app.graphql(&token, r#"mutation { terminateEmployees(input: { employees: [{ externalId: "HRIS-000001", terminatedOn: "2026-01-01" }] }) { updated } }"#, json!({}))
        .await
        .data();
    assert_ne!(snapshot(&app, sandbox).await, pristine);

    let r = app
        .graphql(
            &token,
            "mutation { resetSandbox { ok userErrors { message } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["resetSandbox"]["ok"], true, "{}", r.body);
    assert_eq!(
        snapshot(&app, sandbox).await,
        pristine,
        "back to the seed, ids included"
    );
    assert_eq!(
        snapshot(&app, other.id.as_uuid()).await,
        others,
        "no other tenant touched"
    );
    assert_eq!(
        app.audit_actions(
            &prep_tests::TestTenant {
                id: prep_tenancy::TenantId::from_uuid(sandbox),
                slug: String::new(),
                token: token.clone()
            },
            "sandbox.reset"
        )
        .await
        .len(),
        1
    );

    // a connector cannot reset
    let r = app
        .graphql(&token, r#"mutation { createConnector(input: { name: "c", kind: ERP, vendor: SAP, scopes: ["locations:write"] }) { credentials { apiKey } } }"#, json!({}))
        .await;
    let key = r.data()["createConnector"]["credentials"]["apiKey"]
        .as_str()
        .expect("key")
        .to_owned();
    let r = app
        .graphql_key(&key, "mutation { resetSandbox { ok } }", json!({}))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn introspection_stays_on_in_sandboxes_and_creation_is_limited_per_address() {
    let mut settings = TestApp::settings();
    settings.graphql.introspection = false;
    settings.sandbox.creations_per_hour = 2;
    let app = TestApp::with_settings(settings).await;
    let real = app.tenant("acme").await;
    let q = "{ __schema { queryType { name } } }";
    let r = app.graphql(&real.token, q, json!({})).await;
    assert!(
        r.body["data"]["__schema"].is_null(),
        "introspection is off for real tenants: {}",
        r.body
    );
    let (status, created) = post_json(&app, "/sandbox/api/tenants", None).await;
    assert_eq!(status, 201);
    let r = app
        .graphql(created["token"].as_str().expect("token"), q, json!({}))
        .await;
    assert_eq!(r.data()["__schema"]["queryType"]["name"], "Query");
    let (status, _) = post_json(&app, "/sandbox/api/tenants", None).await;
    assert_eq!(status, 201);
    let (status, body) = post_json(&app, "/sandbox/api/tenants", None).await;
    assert_eq!(status, 429, "{body}");
}

#[tokio::test]
async fn each_replica_allows_its_share_of_an_addresss_sandbox_creations() {
    let mut settings = TestApp::settings();
    settings.sandbox.creations_per_hour = 4;
    settings.limits.replicas = 2;
    let app = TestApp::with_settings(settings).await;
    let (_, other) = app.replica().await;
    let other = prep_tests::serve(other).await;
    let http = reqwest::Client::new();
    let create_on_other = || async {
        http.post(format!("http://{other}/sandbox/api/tenants"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("the replica answers")
            .status()
            .as_u16()
    };
    let mut here = Vec::new();
    let mut there = Vec::new();
    for _ in 0..3 {
        here.push(
            post_json(&app, "/sandbox/api/tenants", None)
                .await
                .0
                .as_u16(),
        );
        there.push(create_on_other().await);
    }
    assert_eq!(here, [201, 201, 429]);
    assert_eq!(there, [201, 201, 429], "four in all, as configured");
}
