//! Two tenants through the HTTP API: neither can read, change or detect the
//! other's data by any path.

use std::collections::HashSet;

use prep_tests::{TestApp, TestTenant};
use serde_json::{json, Value};

async fn location_ids(app: &TestApp, t: &TestTenant) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut after: Value = Value::Null;
    loop {
        let r = app
            .graphql(
                &t.token,
                "query($after: String) { locations(first: 10, after: $after) {
                    pageInfo { hasNextPage endCursor } nodes { id } } }",
                json!({ "after": after }),
            )
            .await;
        let page = &r.data()["locations"];
        for n in page["nodes"].as_array().expect("nodes") {
            ids.insert(n["id"].as_str().expect("id").to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return ids;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn lists_counts_cursors_and_nested_relations_stay_within_the_tenant() {
    let app = TestApp::new().await;
    let a = app.seeded_tenant("acme").await;
    let b = app.seeded_tenant("bravo").await;
    let ids_a = location_ids(&app, &a).await;
    let ids_b = location_ids(&app, &b).await;
    assert_eq!(ids_a.len(), 25);
    assert_eq!(ids_b.len(), 25);
    assert!(ids_a.is_disjoint(&ids_b));

    let q = "{ locations(first: 100) { totalCount nodes { id employees(first: 100) { totalCount nodes { id
                credentials { id employee { id location { id } } } } } alerts { id location { id } } } }
               employees(first: 100) { totalCount } credentials(first: 100) { totalCount }
               permits(first: 100) { totalCount nodes { location { id } } }
               inspections(first: 100) { totalCount nodes { location { id } findings { id } } }
               alerts(first: 100) { totalCount nodes { location { id } } }
               auditEvents(first: 100) { totalCount } complianceSummary { totals { locations } } }";
    let ra = app.graphql(&a.token, q, json!({})).await;
    let rb = app.graphql(&b.token, q, json!({})).await;
    for (r, own) in [(&ra, &ids_a), (&rb, &ids_b)] {
        let d = r.data();
        assert_eq!(d["complianceSummary"]["totals"]["locations"], 25);
        let text = d.to_string();
        // every location id anywhere in the response is the tenant's own
        let others = if std::ptr::eq(own, &ids_a) {
            &ids_b
        } else {
            &ids_a
        };
        for id in others {
            assert!(!text.contains(id.as_str()), "foreign location id leaked");
        }
        for loc in d["locations"]["nodes"].as_array().expect("nodes") {
            for emp in loc["employees"]["nodes"].as_array().expect("employees") {
                for cred in emp["credentials"].as_array().expect("creds") {
                    assert_eq!(cred["employee"]["location"]["id"], loc["id"]);
                }
            }
        }
    }
}

#[tokio::test]
async fn another_tenants_id_answers_exactly_like_a_random_id() {
    let app = TestApp::new().await;
    let a = app.seeded_tenant("acme").await;
    let b = app.seeded_tenant("bravo").await;
    let r = app
        .graphql(
            &b.token,
            "{ employees(first: 1) { nodes { id location { id } credentials { id } } } }",
            json!({}),
        )
        .await;
    let emp = &r.data()["employees"]["nodes"][0];
    let foreign_location = emp["location"]["id"].as_str().expect("id").to_owned();
    let foreign_employee = emp["id"].as_str().expect("id").to_owned();
    let random_location = encode("Location", &uuid::Uuid::new_v4().to_string());
    let random_employee = encode("Employee", &uuid::Uuid::new_v4().to_string());

    let read = "query($l: ID!, $e: ID!) { location(id: $l) { id name } node(id: $e) { id } employee(id: $e) { id } }";
    let foreign = app
        .graphql(
            &a.token,
            read,
            json!({ "l": foreign_location, "e": foreign_employee }),
        )
        .await;
    let random = app
        .graphql(
            &a.token,
            read,
            json!({ "l": random_location, "e": random_employee }),
        )
        .await;
    assert_eq!(foreign.status, random.status);
    assert_eq!(foreign.body, random.body);
    assert_eq!(foreign.data()["location"], Value::Null);

    // updates and deletes by a foreign id change nothing and answer NOT_FOUND like a random id
    let update = r#"mutation($id: ID!) { updateLocation(input: { id: $id, name: "Taken over" }) { location { id } } }"#;
    let foreign = app
        .graphql(&a.token, update, json!({ "id": foreign_location }))
        .await;
    let random = app
        .graphql(&a.token, update, json!({ "id": random_location }))
        .await;
    assert_eq!(foreign.error_code(), Some("NOT_FOUND"));
    assert_eq!(foreign.body, random.body);
    let terminate = r#"mutation($id: ID!) { terminateEmployee(input: { id: $id, terminatedOn: "2020-01-01" }) { employee { id } } }"#;
    let foreign = app
        .graphql(&a.token, terminate, json!({ "id": foreign_employee }))
        .await;
    let random = app
        .graphql(&a.token, terminate, json!({ "id": random_employee }))
        .await;
    assert_eq!(foreign.error_code(), Some("NOT_FOUND"));
    assert_eq!(foreign.body, random.body);
    let creds = app
        .graphql(
            &b.token,
            "{ credentials(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let foreign_credential = creds.data()["credentials"]["nodes"][0]["id"]
        .as_str()
        .expect("bravo holds credentials")
        .to_owned();
    let random_credential = encode("Credential", &uuid::Uuid::new_v4().to_string());
    let delete = "mutation($id: ID!) { deleteCredential(id: $id) { deletedCredentialId } }";
    let foreign = app
        .graphql(&a.token, delete, json!({ "id": foreign_credential }))
        .await;
    let random = app
        .graphql(&a.token, delete, json!({ "id": random_credential }))
        .await;
    assert_eq!(foreign.error_code(), Some("NOT_FOUND"));
    assert_eq!(foreign.body, random.body);
    let still = app
        .graphql(
            &b.token,
            "query($c: ID!) { node(id: $c) { id } }",
            json!({ "c": foreign_credential }),
        )
        .await;
    assert_eq!(
        still.data()["node"]["id"],
        foreign_credential.as_str(),
        "the credential survived"
    );

    // every other mutation that takes an id: foreign answers like random
    let own = app
        .graphql(
            &a.token,
            "{ employees(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let own_employee = own.data()["employees"]["nodes"][0]["id"].clone();
    // the three mutations, each with the id its $id must be given
    let cases = [
        (
            r#"mutation($id: ID!) { updateEmployee(input: { id: $id, jobTitle: "Owner" }) { employee { id } userErrors { code } } }"#,
            (&foreign_employee, &random_employee),
        ),
        (
            r#"mutation($id: ID!) { recordPermit(input: { locationId: $id, kind: HEALTH, permitNumber: "X-1",
                issuedOn: "2026-01-01", expiresOn: "2027-01-01" }) { permit { id } userErrors { field code message } } }"#,
            (&foreign_location, &random_location),
        ),
        (
            r#"mutation($id: ID!) { recordInspection(input: { locationId: $id, inspectedOn: "2026-01-05", result: FAIL,
                findings: [{ code: "2-301.14", description: "No handwashing", severity: CRITICAL }] }) {
                inspection { id } userErrors { field code message } } }"#,
            (&foreign_location, &random_location),
        ),
    ];
    for (query, (f_id, r_id)) in cases {
        let foreign = app.graphql(&a.token, query, json!({ "id": f_id })).await;
        let random = app.graphql(&a.token, query, json!({ "id": r_id })).await;
        assert_eq!(foreign.body, random.body, "{query}");
        assert!(
            foreign.body.to_string().contains("NOT_FOUND"),
            "{}",
            foreign.body
        );
    }
    // transferring one's own employee to a foreign location is refused like a missing one
    let transfer = r#"mutation($id: ID!, $l: ID!) { updateEmployee(input: { id: $id, locationId: $l }) {
        employee { id } userErrors { field code message } } }"#;
    let foreign = app
        .graphql(
            &a.token,
            transfer,
            json!({ "id": own_employee, "l": foreign_location }),
        )
        .await;
    let random = app
        .graphql(
            &a.token,
            transfer,
            json!({ "id": own_employee, "l": random_location }),
        )
        .await;
    assert_eq!(foreign.body, random.body);
    assert_eq!(
        foreign.data()["updateEmployee"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    // resolving another tenant's finding
    let findings = app
        .graphql(
            &b.token,
            "{ inspections(first: 100) { nodes { findings { id resolvedOn } } } }",
            json!({}),
        )
        .await;
    let foreign_finding = findings.data()["inspections"]["nodes"]
        .as_array()
        .expect("inspections")
        .iter()
        .flat_map(|i| i["findings"].as_array().cloned().unwrap_or_default())
        .find(|f| f["resolvedOn"].is_null())
        .expect("bravo has an open finding")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let resolve = r#"mutation($id: ID!) { resolveFinding(input: { id: $id, resolvedOn: "2026-01-10" }) { finding { id } } }"#;
    let foreign = app
        .graphql(&a.token, resolve, json!({ "id": foreign_finding }))
        .await;
    let random = app
        .graphql(
            &a.token,
            resolve,
            json!({ "id": encode("Finding", &uuid::Uuid::new_v4().to_string()) }),
        )
        .await;
    assert_eq!(foreign.error_code(), Some("NOT_FOUND"));
    assert_eq!(foreign.body, random.body);
    let still_open = app
        .graphql(
            &b.token,
            "{ inspections(first: 100) { nodes { findings { id resolvedOn } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        still_open.body, findings.body,
        "bravo's findings are unchanged"
    );
    // and nothing of alpha's attempts reached bravo's audit trail
    let audit = app
        .graphql(
            &b.token,
            "{ auditEvents(first: 100) { nodes { actorId } } }",
            json!({}),
        )
        .await;
    assert!(audit.data()["auditEvents"]["nodes"]
        .as_array()
        .expect("events")
        .iter()
        .all(|e| e["actorId"].is_null()));
    let after = app
        .graphql(
            &b.token,
            "query($l: ID!) { location(id: $l) { name } }",
            json!({ "l": foreign_location }),
        )
        .await;
    assert_ne!(after.data()["location"]["name"], "Taken over");
    let emp_after = app
        .graphql(
            &b.token,
            "query($e: ID!) { employee(id: $e) { status } }",
            json!({ "e": foreign_employee }),
        )
        .await;
    assert_ne!(emp_after.data()["employee"]["status"], "TERMINATED");

    // a child pointing at another tenant's parent fails like a missing parent
    let create = r#"mutation($l: ID!) { createEmployee(input: { locationId: $l, firstName: "Eve", lastName: "Mallory",
        hireDate: "2024-01-02" }) { employee { id } userErrors { field message code } } }"#;
    let foreign = app
        .graphql(&a.token, create, json!({ "l": foreign_location }))
        .await;
    let random = app
        .graphql(&a.token, create, json!({ "l": random_location }))
        .await;
    assert_eq!(foreign.body, random.body);
    assert_eq!(
        foreign.data()["createEmployee"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    let cred = r#"mutation($e: ID!) { recordCredential(input: { employeeId: $e, kind: FOOD_HANDLER_CARD,
        issuedOn: "2024-01-01", expiresOn: "2027-01-01" }) { credential { id } userErrors { code message } } }"#;
    let foreign = app
        .graphql(&a.token, cred, json!({ "e": foreign_employee }))
        .await;
    let random = app
        .graphql(&a.token, cred, json!({ "e": random_employee }))
        .await;
    assert_eq!(foreign.body, random.body);
    assert_eq!(
        foreign.data()["recordCredential"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn unique_names_are_per_tenant_and_errors_never_echo_values() {
    let app = TestApp::new().await;
    let a = app.tenant("acme").await;
    let b = app.tenant("bravo").await;
    let create = r#"mutation($s: String!, $x: String) { createLocation(input: { storeNumber: $s, name: "Flagship",
        address: { line1: "1 Main St", city: "Chicago", state: "IL", postalCode: "60601" },
        jurisdictionCode: "US-IL-CHICAGO", externalId: $x }) { location { id storeNumber } userErrors { field message code } } }"#;
    let vars = json!({ "s": "SECRET-0042", "x": "ERP-SECRET-7" });
    let ra = app.graphql(&a.token, create, vars.clone()).await;
    assert!(ra.data()["createLocation"]["userErrors"]
        .as_array()
        .expect("errors")
        .is_empty());
    let rb = app.graphql(&b.token, create, vars.clone()).await;
    assert!(
        rb.data()["createLocation"]["userErrors"]
            .as_array()
            .expect("errors")
            .is_empty(),
        "same store number allowed in another tenant"
    );
    let dup = app.graphql(&b.token, create, vars).await;
    let err = &dup.data()["createLocation"]["userErrors"][0];
    assert_eq!(err["code"], "TAKEN");
    assert_eq!(err["field"], json!(["input", "storeNumber"]));
    assert!(
        !dup.body.to_string().contains("SECRET-0042")
            || dup.body["data"]["createLocation"]["location"].is_null()
    );
    assert!(!err["message"].as_str().expect("message").contains("SECRET"));
}

#[tokio::test]
async fn hundreds_of_interleaved_requests_over_two_connections_never_mix() {
    let app = std::sync::Arc::new(TestApp::with_pool(2).await);
    let a = app.seeded_tenant("acme").await;
    let b = app.seeded_tenant("bravo").await;
    let ids_a = std::sync::Arc::new(location_ids(&app, &a).await);
    let ids_b = std::sync::Arc::new(location_ids(&app, &b).await);
    let mut tasks = Vec::new();
    for i in 0..300 {
        let app = app.clone();
        let (t, own) = if i % 2 == 0 {
            (a.clone(), ids_a.clone())
        } else {
            (b.clone(), ids_b.clone())
        };
        tasks.push(tokio::spawn(async move {
            let r = app
                .graphql(
                    &t.token,
                    "{ viewer { tenant { slug } } locations(first: 5) { nodes { id employees(first: 2) { nodes { location { id } } } } } }",
                    json!({}),
                )
                .await;
            let d = r.data();
            assert_eq!(d["viewer"]["tenant"]["slug"], t.slug.as_str());
            for loc in d["locations"]["nodes"].as_array().expect("nodes") {
                assert!(own.contains(loc["id"].as_str().expect("id")), "a foreign location was served");
                for e in loc["employees"]["nodes"].as_array().expect("employees") {
                    assert_eq!(e["location"]["id"], loc["id"]);
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(
        app.state.db.idle_tenant_setting().await.expect("setting"),
        None
    );
}

fn encode(ty: &str, uuid: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ty}:{uuid}"))
}
