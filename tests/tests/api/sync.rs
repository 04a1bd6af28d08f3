//! HRIS and ERP batch sync as connectors call it: upserts by external id,
//! per-record errors, atomic batches, compliance following the facts.

use prep_tests::TestApp;
use serde_json::{json, Value};

const SYNC_EMPLOYEES: &str = r#"mutation($input: SyncEmployeesInput!) { syncEmployees(input: $input) {
    results { index externalId status id } created updated unchanged failed
    userErrors { field message code } } }"#;
const SYNC_CREDENTIALS: &str = r#"mutation($input: SyncCredentialsInput!) { syncCredentials(input: $input) {
    results { index externalId status id } created updated unchanged failed
    userErrors { field message code } } }"#;
const SYNC_LOCATIONS: &str = r#"mutation($input: SyncLocationsInput!) { syncLocations(input: $input) {
    results { index externalId status id } created updated unchanged failed
    userErrors { field message code } } }"#;

fn employee(ext: &str, store: &str) -> Value {
    json!({ "externalId": ext, "firstName": "Ana", "lastName": "Ruiz", "jobTitle": "Line cook",
            "hireDate": "2025-03-01", "locationStoreNumber": store })
}

fn statuses(p: &Value) -> Vec<&str> {
    p["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect()
}

#[tokio::test]
async fn employees_are_created_updated_and_left_alone_by_hris_id() {
    let app = TestApp::new().await;
    let t = app.seeded_tenant("acme").await;
    let hris = app
        .connector(&t, &["employees:write", "credentials:write"])
        .await;
    let batch = json!({ "employees": [employee("WD-1", "0001"), employee("WD-2", "0002")] });
    let r = app
        .graphql_key(&hris.api_key, SYNC_EMPLOYEES, json!({ "input": batch }))
        .await;
    let p = &r.data()["syncEmployees"];
    assert_eq!(statuses(p), ["CREATED", "CREATED"]);
    assert_eq!(p["created"], 2);

    // the same batch again changes nothing; a transfer and a new title update
    let r = app
        .graphql_key(&hris.api_key, SYNC_EMPLOYEES, json!({ "input": batch }))
        .await;
    assert_eq!(
        statuses(&r.data()["syncEmployees"]),
        ["UNCHANGED", "UNCHANGED"]
    );
    let mut moved = employee("WD-1", "0003");
    moved["jobTitle"] = json!("Sous chef");
    let r = app
        .graphql_key(
            &hris.api_key,
            SYNC_EMPLOYEES,
            json!({ "input": { "employees": [moved, employee("WD-2", "0002")] } }),
        )
        .await;
    let p = &r.data()["syncEmployees"];
    assert_eq!(statuses(p), ["UPDATED", "UNCHANGED"]);
    let id = p["results"][0]["id"].clone();
    let r = app
        .graphql(&t.token, "query($id: ID!) { employee(id: $id) { jobTitle externalId location { storeNumber } } }", json!({ "id": id }))
        .await;
    assert_eq!(
        r.data()["employee"],
        json!({ "jobTitle": "Sous chef", "externalId": "WD-1", "location": { "storeNumber": "0003" } })
    );

    // terminations by HRIS id; repeating one is unchanged
    let term = json!({ "employees": [{ "externalId": "WD-2", "terminatedOn": "2026-01-31" }] });
    let q = "mutation($input: TerminateEmployeesInput!) { terminateEmployees(input: $input) { results { status } userErrors { code } } }";
    let r = app
        .graphql_key(&hris.api_key, q, json!({ "input": term }))
        .await;
    assert_eq!(statuses(&r.data()["terminateEmployees"]), ["UPDATED"]);
    let r = app
        .graphql_key(&hris.api_key, q, json!({ "input": term }))
        .await;
    assert_eq!(statuses(&r.data()["terminateEmployees"]), ["UNCHANGED"]);
    let r = app
        .graphql_key(&hris.api_key, q, json!({ "input": { "employees": [{ "externalId": "nobody", "terminatedOn": "2026-01-31" }] } }))
        .await;
    assert_eq!(
        r.data()["terminateEmployees"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );

    // one audit event per applied batch, acted by the connector
    let events = app.audit_actions(&t, "employee.sync").await;
    assert_eq!(
        events.len(),
        3,
        "every applied batch, the unchanged one too: {events:?}"
    );
    assert!(events
        .iter()
        .all(|e| e["actorType"] == "connector" && e["actorId"] == hris.id.as_str()));
}

#[tokio::test]
async fn bad_records_get_their_own_errors_and_the_rest_apply() {
    let mut settings = TestApp::settings();
    settings.server.body_limit_bytes = 1024 * 1024;
    let app = TestApp::with_settings(settings).await;
    let t = app.seeded_tenant("acme").await;
    let hris = app.connector(&t, &["employees:write"]).await;
    let mut future = employee("WD-3", "0001");
    future["hireDate"] = json!("2999-01-01");
    let mut terminated = employee("WD-4", "0001");
    terminated["status"] = json!("TERMINATED");
    let mut two_refs = employee("WD-5", "0001");
    two_refs["locationExternalId"] = json!("ERP-0001");
    let batch = json!({ "employees": [
        employee("WD-1", "0001"), employee("DUP", "0001"), employee("DUP", "0002"), future,
        employee("WD-6", "9999"), terminated, two_refs, employee("", "0001"),
    ] });
    let r = app
        .graphql_key(&hris.api_key, SYNC_EMPLOYEES, json!({ "input": batch }))
        .await;
    let p = &r.data()["syncEmployees"];
    assert_eq!(
        statuses(p),
        ["CREATED", "FAILED", "FAILED", "FAILED", "FAILED", "FAILED", "FAILED", "FAILED"]
    );
    let fields: Vec<Value> = p["userErrors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    for expected in [
        json!(["input", "employees", "1", "externalId"]),
        json!(["input", "employees", "2", "externalId"]),
        json!(["input", "employees", "3", "hireDate"]),
        json!(["input", "employees", "4", "location"]),
        json!(["input", "employees", "5", "terminatedOn"]),
        json!(["input", "employees", "6", "location"]),
        json!(["input", "employees", "7", "externalId"]),
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {fields:?}"
        );
    }
    assert!(p["userErrors"].to_string().contains("DUPLICATE"));

    // atomic: one bad record applies nothing
    let batch = json!({ "atomic": true, "employees": [employee("WD-7", "0001"), employee("WD-8", "9999")] });
    let r = app
        .graphql_key(&hris.api_key, SYNC_EMPLOYEES, json!({ "input": batch }))
        .await;
    assert_eq!(statuses(&r.data()["syncEmployees"]), ["SKIPPED", "FAILED"]);
    let admin = app.admin_pool().await;
    let ids: Vec<String> =
        sqlx::query_scalar("select external_id from employees where external_id not like 'HRIS-%'")
            .fetch_all(&admin)
            .await
            .expect("ids");
    let ids = ids.join(",");
    assert!(ids.contains("WD-1") && !ids.contains("WD-7") && !ids.contains("DUP"));

    // an empty or oversized batch is refused as a whole
    let r = app
        .graphql_key(
            &hris.api_key,
            SYNC_EMPLOYEES,
            json!({ "input": { "employees": [] } }),
        )
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
    let many: Vec<Value> = (0..501)
        .map(|i| employee(&format!("X-{i}"), "0001"))
        .collect();
    let r = app
        .graphql_key(
            &hris.api_key,
            SYNC_EMPLOYEES,
            json!({ "input": { "employees": many } }),
        )
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
    assert!(r.body["errors"][0]["message"]
        .as_str()
        .expect("m")
        .contains("1 to 500"));
    // a date that does not exist is refused with the whole request
    let mut bad = employee("WD-9", "0001");
    bad["hireDate"] = json!("2026-02-30");
    let r = app
        .graphql_key(
            &hris.api_key,
            SYNC_EMPLOYEES,
            json!({ "input": { "employees": [employee("WD-10", "0001"), bad] } }),
        )
        .await;
    assert_eq!(r.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    let message = r.body["errors"][0]["message"].as_str().expect("m");
    assert!(
        message.contains("NaiveDate") && message.contains("EmployeeRecordInput"),
        "{message}"
    );
    let n: i64 =
        sqlx::query_scalar("select count(*) from employees where external_id in ('WD-9', 'WD-10')")
            .fetch_one(&admin)
            .await
            .expect("count");
    assert_eq!(n, 0);
}

#[tokio::test]
async fn synced_credentials_move_compliance_and_alerts() {
    let app = TestApp::new().await;
    let t = app.tenant("acme").await;
    let erp = app.connector(&t, &["locations:write"]).await;
    let hris = app
        .connector(
            &t,
            &[
                "employees:write",
                "credentials:write",
                "compliance:read",
                "alerts:read",
            ],
        )
        .await;
    let store = json!({ "locations": [{ "externalId": "NS-100", "storeNumber": "IL-100", "name": "Loop Kitchen",
        "address": { "line1": "233 S Wacker Dr", "city": "Chicago", "state": "IL", "postalCode": "60606" },
        "jurisdictionCode": "US-IL-CHICAGO" }] });
    let r = app
        .graphql_key(&erp.api_key, SYNC_LOCATIONS, json!({ "input": store }))
        .await;
    assert_eq!(statuses(&r.data()["syncLocations"]), ["CREATED"]);
    let r = app
        .graphql_key(&erp.api_key, SYNC_LOCATIONS, json!({ "input": store }))
        .await;
    assert_eq!(statuses(&r.data()["syncLocations"]), ["UNCHANGED"]);

    let hired = json!({ "employees": [{ "externalId": "WD-1", "firstName": "Maria", "lastName": "Lopez",
        "jobTitle": "Kitchen manager", "hireDate": "2024-01-10", "locationExternalId": "NS-100" }] });
    let r = app
        .graphql_key(&hris.api_key, SYNC_EMPLOYEES, json!({ "input": hired }))
        .await;
    assert_eq!(statuses(&r.data()["syncEmployees"]), ["CREATED"]);
    let status_q = r#"{ locations(first: 1) { nodes { complianceStatus compliance { requirements { status requirement { code } } } } } }"#;
    let manager_status = |body: &Value| -> String {
        body["data"]["locations"]["nodes"][0]["compliance"]["requirements"]
            .as_array()
            .expect("reqs")
            .iter()
            .find(|r| r["requirement"]["code"] == "IL-CFPM")
            .map(|r| r["status"].as_str().expect("s").to_owned())
            .expect("IL-CFPM applies")
    };
    let before = app.graphql(&t.token, status_q, json!({})).await;
    assert_eq!(manager_status(&before.body), "NON_COMPLIANT");

    let today = chrono::Utc::now().date_naive();
    let cert = json!({ "credentials": [{ "externalId": "CERT-1", "employeeExternalId": "WD-1",
        "kind": "FOOD_PROTECTION_MANAGER", "issuer": "ServSafe", "certificateNumber": "SS-1",
        "issuedOn": (today - chrono::Days::new(100)).to_string(), "expiresOn": (today + chrono::Days::new(900)).to_string() }] });
    let r = app
        .graphql_key(&hris.api_key, SYNC_CREDENTIALS, json!({ "input": cert }))
        .await;
    assert_eq!(statuses(&r.data()["syncCredentials"]), ["CREATED"]);
    let after = app.graphql(&t.token, status_q, json!({})).await;
    assert_eq!(manager_status(&after.body), "COMPLIANT");

    // the certificate renewed with a near expiry raises an alert
    let mut soon = cert.clone();
    soon["credentials"][0]["expiresOn"] = json!((today + chrono::Days::new(10)).to_string());
    let r = app
        .graphql_key(&hris.api_key, SYNC_CREDENTIALS, json!({ "input": soon }))
        .await;
    assert_eq!(statuses(&r.data()["syncCredentials"]), ["UPDATED"]);
    let r = app
        .graphql_key(
            &hris.api_key,
            "{ alerts(first: 20) { nodes { kind } } }",
            json!({}),
        )
        .await;
    assert!(
        r.data()["alerts"]["nodes"]
            .to_string()
            .contains("MANAGER_EXPIRING"),
        "{}",
        r.body
    );

    // a credential of nobody, and bad dates, fail on their own
    let bad = json!({ "credentials": [
        { "externalId": "C-2", "employeeExternalId": "nobody", "kind": "FOOD_HANDLER_CARD", "issuedOn": "2025-01-01", "expiresOn": "2027-01-01" },
        { "externalId": "C-3", "employeeExternalId": "WD-1", "kind": "FOOD_HANDLER_CARD", "issuedOn": "2025-01-01", "expiresOn": "2024-01-01" } ] });
    let r = app
        .graphql_key(&hris.api_key, SYNC_CREDENTIALS, json!({ "input": bad }))
        .await;
    let p = &r.data()["syncCredentials"];
    assert_eq!(statuses(p), ["FAILED", "FAILED"]);
    assert_eq!(p["userErrors"][0]["code"], "NOT_FOUND");
    assert_eq!(
        p["userErrors"][1]["field"],
        json!(["input", "credentials", "1", "expiresOn"])
    );

    // an ERP record with a jurisdiction of another state, and a taken store number
    let bad = json!({ "locations": [
        { "externalId": "NS-101", "storeNumber": "IL-101", "name": "X",
          "address": { "line1": "1 Main", "city": "Austin", "state": "TX", "postalCode": "73301" }, "jurisdictionCode": "US-IL-CHICAGO" },
        { "externalId": "NS-102", "storeNumber": "IL-100", "name": "Y",
          "address": { "line1": "1 Main", "city": "Chicago", "state": "IL", "postalCode": "60606" }, "jurisdictionCode": "US-IL-CHICAGO" } ] });
    let r = app
        .graphql_key(&erp.api_key, SYNC_LOCATIONS, json!({ "input": bad }))
        .await;
    let p = &r.data()["syncLocations"];
    assert_eq!(statuses(p), ["FAILED", "FAILED"]);
    assert_eq!(
        p["userErrors"][0]["field"],
        json!(["input", "locations", "0", "jurisdictionCode"])
    );
    assert_eq!(p["userErrors"][1]["code"], "TAKEN");
}
