//! A connector of one tenant against another tenant's data: by id, by
//! external id, by batch, by naming the tenant. Nothing is read, changed
//! or even detected.

use prep_tests::connectors::Call;
use prep_tests::TestApp;
use serde_json::{json, Value};

const ALL: &[&str] = &[
    "locations:write",
    "employees:write",
    "credentials:write",
    "permits:write",
    "inspections:write",
    "compliance:read",
    "alerts:read",
];

async fn first_ids(app: &TestApp, token: &str) -> Value {
    let r = app
        .graphql(
            token,
            "{ locations(first: 1) { nodes { id storeNumber externalId } }
               employees(first: 1) { nodes { id externalId firstName } }
               credentials(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    r.data().clone()
}

#[tokio::test]
async fn another_tenants_objects_are_not_found_by_any_path() {
    let app = TestApp::new().await;
    let a = app.seeded_tenant("acme").await;
    let b = app.seeded_tenant("bravo").await;
    let ca = app.connector(&a, ALL).await;
    let theirs = first_ids(&app, &b.token).await;
    let b_location = theirs["locations"]["nodes"][0]["id"].clone();
    let b_employee = theirs["employees"]["nodes"][0]["id"].clone();
    let b_credential = theirs["credentials"]["nodes"][0]["id"].clone();
    let snapshot = || async {
        let admin = app.admin_pool().await;
        let rows: Vec<String> = sqlx::query_scalar(
            "select md5(string_agg(e::text, ',' order by id)) from employees e where tenant_id = $1
             union all select md5(string_agg(c::text, ',' order by id)) from credentials c where tenant_id = $1
             union all select md5(string_agg(l::text, ',' order by id)) from locations l where tenant_id = $1",
        )
        .bind(b.id.as_uuid())
        .fetch_all(&admin)
        .await
        .expect("snapshot");
        rows
    };
    let b_before = snapshot().await;

    // by id: null, exactly like a random id
    for id in [&b_location, &b_employee, &b_credential] {
        let r = app
            .graphql_key(
                &ca.api_key,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(r.data()["node"], Value::Null, "{id}");
    }
    let r = app
        .graphql_key(
            &ca.api_key,
            "query($id: ID!) { location(id: $id) { id } employee(id: $id) { id } }",
            json!({ "id": b_location }),
        )
        .await;
    assert!(r.body["data"]["location"].is_null());

    // writes by id answer like a missing object and change nothing
    let r = app
        .graphql_key(
            &ca.api_key,
            r#"mutation($id: ID!) { terminateEmployee(input: { id: $id, terminatedOn: "2026-01-01" }) { employee { id } userErrors { code } } }"#,
            json!({ "id": b_employee }),
        )
        .await;
    assert_eq!(r.error_code(), Some("NOT_FOUND"), "{}", r.body);
    let r = app
        .graphql_key(
            &ca.api_key,
            r#"mutation($id: ID!) { syncCredentials(input: { credentials: [{ externalId: "X-1", employeeId: $id,
                kind: FOOD_HANDLER_CARD, issuedOn: "2025-01-01", expiresOn: "2028-01-01" }] }) { results { status } userErrors { code } } }"#,
            json!({ "id": b_employee }),
        )
        .await;
    assert_eq!(
        r.data()["syncCredentials"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    let r = app
        .graphql_key(
            &ca.api_key,
            r#"mutation($l: ID!) { syncEmployees(input: { employees: [{ externalId: "WD-X", firstName: "A", lastName: "B",
                hireDate: "2025-01-01", locationId: $l }] }) { results { status } userErrors { code } } }"#,
            json!({ "l": b_location }),
        )
        .await;
    assert_eq!(
        r.data()["syncEmployees"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );

    // by external id: B's HRIS ids are A's own namespace; syncing one
    // creates A's employee and leaves B's alone
    let b_ext = theirs["employees"]["nodes"][0]["externalId"]
        .as_str()
        .expect("ext")
        .to_owned();
    let r = app
        .graphql_key(
            &ca.api_key,
            r#"mutation($e: String!) { terminateEmployees(input: { employees: [{ externalId: $e, terminatedOn: "2026-01-01" }] }) {
                results { status } } }"#,
            json!({ "e": "HRIS-999999" }),
        )
        .await;
    assert_eq!(
        r.data()["terminateEmployees"]["results"][0]["status"],
        "FAILED"
    );
    let r = app
        .graphql_key(
            &ca.api_key,
            r#"mutation($e: String!) { syncEmployees(input: { employees: [{ externalId: $e, firstName: "Mallory", lastName: "X",
                hireDate: "2025-01-01", locationStoreNumber: "0001" }] }) { results { status } } }"#,
            json!({ "e": b_ext }),
        )
        .await;
    assert_eq!(
        r.data()["syncEmployees"]["results"][0]["status"],
        "UPDATED",
        "A's own seeded employee with that id"
    );
    assert_eq!(b_before, snapshot().await, "B's rows are untouched");

    // by naming the other tenant: refused before anything is read
    for named in ["bravo", &b.id.as_uuid().to_string()] {
        let r = app
            .graphql_call(
                &ca.api_key,
                "{ locations(first: 1) { totalCount } }",
                json!({}),
                &Call {
                    headers: vec![("x-prep-tenant", named.to_owned())],
                    ..Call::default()
                },
            )
            .await;
        assert_eq!(r.status, 401, "{named}");
    }

    // B's connectors are invisible to A's admin, and A's key ids do not
    // resolve in B
    let r = app
        .graphql(&a.token, "{ connectors { id } }", json!({}))
        .await;
    let cb = app.connector(&b, &["locations:read"]).await;
    assert!(!r.body.to_string().contains(&cb.id));
    let r = app
        .graphql(
            &a.token,
            "mutation($id: ID!) { revokeConnector(input: { id: $id }) { connector { id } } }",
            json!({ "id": cb.id }),
        )
        .await;
    assert_eq!(r.error_code(), Some("NOT_FOUND"));
    let r = app
        .graphql_key(
            &cb.api_key,
            "{ locations(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "B's connector still works");
}

#[tokio::test]
async fn connector_names_are_per_tenant_and_sandbox_keys_stay_in_sandboxes() {
    let app = TestApp::new().await;
    let a = app.tenant("acme").await;
    let b = app.tenant("bravo").await;
    let q = r#"mutation { createConnector(input: { name: "Workday", kind: HRIS, vendor: WORKDAY, scopes: ["employees:read"] }) {
        credentials { apiKey } userErrors { code } } }"#;
    let r = app.graphql(&a.token, q, json!({})).await;
    assert!(r.data()["createConnector"]["credentials"]["apiKey"].is_string());
    // the same name in B is free: B learns nothing about A
    let r = app.graphql(&b.token, q, json!({})).await;
    assert!(r.data()["createConnector"]["credentials"]["apiKey"].is_string());
    let r = app.graphql(&a.token, q, json!({})).await;
    assert_eq!(
        r.data()["createConnector"]["userErrors"][0]["code"],
        "TAKEN"
    );

    // a sandbox tenant's keys are marked `prep_test_`
    let admin = app.admin_pool().await;
    sqlx::query("update tenants set is_sandbox = true where slug = 'bravo'")
        .execute(&admin)
        .await
        .expect("mark sandbox");
    let sandbox_key = app.connector(&b, &["employees:read"]).await.api_key;
    assert!(sandbox_key.starts_with("prep_test_"), "{sandbox_key}");
    let r = app
        .graphql_key(
            &sandbox_key,
            "{ employees(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    // a live key of a tenant that became a sandbox (or the other way round)
    // no longer works: live and test never mix
    let a_key = app.connector(&a, &["employees:read"]).await.api_key;
    sqlx::query("update tenants set is_sandbox = true where slug = 'acme'")
        .execute(&admin)
        .await
        .expect("mark sandbox");
    app.state.connectors.clear();
    let r = app
        .graphql_key(&a_key, "{ employees(first: 1) { totalCount } }", json!({}))
        .await;
    assert_eq!(r.status, 401);
}
