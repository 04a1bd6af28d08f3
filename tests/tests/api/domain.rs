//! The compliance domain end to end: facts in through mutations, statuses,
//! alerts and audit events out.

use chrono::{Days, Utc};
use prep_tests::TestApp;
use serde_json::json;

const CREATE_LOCATION: &str = r#"mutation($s: String!) { createLocation(input: { storeNumber: $s, name: "Loop Kitchen",
    address: { line1: "233 S Wacker Dr", city: "Chicago", state: "IL", postalCode: "60606" },
    jurisdictionCode: "US-IL-CHICAGO" }) {
      location { id complianceStatus compliance { status reason requirements { status requirement { code } } } }
      userErrors { field message code } } }"#;

fn day(offset: i64) -> String {
    let today = Utc::now().date_naive();
    let d = if offset >= 0 {
        today.checked_add_days(Days::new(offset.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(offset.unsigned_abs()))
    };
    d.expect("date").to_string()
}

#[tokio::test]
async fn facts_drive_compliance_status_alerts_and_audit() {
    let app = TestApp::new().await;
    let t = app.tenant("acme").await;
    let r = app
        .graphql(&t.token, CREATE_LOCATION, json!({ "s": "IL-001" }))
        .await;
    let loc = &r.data()["createLocation"]["location"];
    assert_eq!(
        loc["complianceStatus"], "NON_COMPLIANT",
        "no manager, no license yet: {loc}"
    );
    let codes: Vec<&str> = loc["compliance"]["requirements"]
        .as_array()
        .expect("reqs")
        .iter()
        .map(|r| r["requirement"]["code"].as_str().expect("code"))
        .collect();
    for expected in [
        "IL-CFPM",
        "IL-FOOD-HANDLER",
        "CHICAGO-RETAIL-FOOD-LICENSE",
        "COOK-COUNTY-ROUTINE-INSPECTION",
    ] {
        assert!(
            codes.contains(&expected),
            "{expected} missing from {codes:?}"
        );
    }
    let location_id = loc["id"].as_str().expect("id").to_owned();

    // a manager with a valid certification and a current license
    let emp = app.graphql(&t.token, r#"mutation($l: ID!, $h: NaiveDate!) { createEmployee(input: { locationId: $l,
        firstName: "Maria", lastName: "Lopez", jobTitle: "Kitchen manager", hireDate: $h }) { employee { id } userErrors { message } } }"#,
        json!({ "l": location_id, "h": day(-400) })).await;
    let emp_id = emp.data()["createEmployee"]["employee"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let cred = app.graphql(&t.token, r#"mutation($e: ID!, $i: NaiveDate!, $x: NaiveDate!) { recordCredential(input: {
        employeeId: $e, kind: FOOD_PROTECTION_MANAGER, issuer: "ServSafe", issuedOn: $i, expiresOn: $x }) {
        credential { id status } userErrors { message } } }"#,
        json!({ "e": emp_id, "i": day(-300), "x": day(20) })).await;
    assert_eq!(
        cred.data()["recordCredential"]["credential"]["status"],
        "EXPIRING"
    );
    app.graphql(&t.token, r#"mutation($l: ID!, $i: NaiveDate!, $x: NaiveDate!) { recordPermit(input: { locationId: $l,
        kind: HEALTH, permitNumber: "CHI-RFL-1001", issuingAuthority: "City of Chicago", issuedOn: $i, expiresOn: $x }) {
        permit { id } userErrors { message } } }"#, json!({ "l": location_id, "i": day(-10), "x": day(700) })).await.data();
    let insp = app.graphql(&t.token, r#"mutation($l: ID!, $d: NaiveDate!, $due: NaiveDate!) { recordInspection(input: {
        locationId: $l, inspectedOn: $d, agency: "CDPH", score: 92, result: PASS, findings: [
          { code: "3-501.16", description: "Cold holding at 45F", severity: MAJOR, dueOn: $due }] }) {
        inspection { id findings { id overdue } } userErrors { message } } }"#,
        json!({ "l": location_id, "d": day(-20), "due": day(-5) })).await;
    let finding = insp.data()["recordInspection"]["inspection"]["findings"][0].clone();
    assert_eq!(finding["overdue"], true);

    let q = r#"query($l: ID!) { location(id: $l) { complianceStatus compliance { reason }
        alerts { kind severity subjectId } } }"#;
    let now = app.graphql(&t.token, q, json!({ "l": location_id })).await;
    let l = &now.data()["location"];
    assert_eq!(l["complianceStatus"], "AT_RISK", "{l}");
    let kinds: Vec<&str> = l["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| a["kind"].as_str().expect("kind"))
        .collect();
    assert!(
        kinds.contains(&"MANAGER_EXPIRING") && kinds.contains(&"FINDING_OVERDUE"),
        "{kinds:?}"
    );

    // correcting the finding and renewing the certificate makes it compliant
    app.graphql(
        &t.token,
        r#"mutation($f: ID!, $d: NaiveDate!) { resolveFinding(input: { id: $f, resolvedOn: $d,
        correctiveAction: "Recalibrated cooler" }) { finding { resolvedOn } } }"#,
        json!({ "f": finding["id"], "d": day(0) }),
    )
    .await
    .data();
    app.graphql(&t.token, r#"mutation($e: ID!, $i: NaiveDate!, $x: NaiveDate!) { recordCredential(input: {
        employeeId: $e, kind: FOOD_PROTECTION_MANAGER, issuedOn: $i, expiresOn: $x }) { credential { id } } }"#,
        json!({ "e": emp_id, "i": day(-1), "x": day(1800) })).await.data();
    let after = app.graphql(&t.token, q, json!({ "l": location_id })).await;
    assert_eq!(
        after.data()["location"]["complianceStatus"],
        "COMPLIANT",
        "{}",
        after.body
    );
    assert_eq!(after.data()["location"]["alerts"], json!([]));
    // deleting the renewal (recorded in error) brings the warning back
    let renewal = app
        .graphql(
            &t.token,
            r#"query($e: ID!) { employee(id: $e) { credentials { id expiresOn } } }"#,
            json!({ "e": emp_id }),
        )
        .await;
    let renewal_id = renewal.data()["employee"]["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .find(|c| c["expiresOn"] == day(1800).as_str())
        .expect("the renewal")["id"]
        .clone();
    let deleted = app
        .graphql(
            &t.token,
            "mutation($id: ID!) { deleteCredential(id: $id) { deletedCredentialId } }",
            json!({ "id": renewal_id }),
        )
        .await;
    assert_eq!(
        deleted.data()["deleteCredential"]["deletedCredentialId"],
        renewal_id
    );
    let back = app.graphql(&t.token, q, json!({ "l": location_id })).await;
    assert_eq!(
        back.data()["location"]["complianceStatus"],
        "AT_RISK",
        "{}",
        back.body
    );
    // and renewing again makes it compliant once more
    app.graphql(&t.token, r#"mutation($e: ID!, $i: NaiveDate!, $x: NaiveDate!) { recordCredential(input: {
        employeeId: $e, kind: FOOD_PROTECTION_MANAGER, issuedOn: $i, expiresOn: $x }) { credential { id } } }"#,
        json!({ "e": emp_id, "i": day(-1), "x": day(1800) })).await.data();
    let resolved = app
        .graphql(
            &t.token,
            r#"{ alerts(filter: { includeResolved: true }) { totalCount nodes { resolvedAt } } }"#,
            json!({}),
        )
        .await;
    assert!(resolved.data()["alerts"]["totalCount"].as_i64().expect("n") >= 2);

    // every mutation left an audit event with actor and request id
    let audit = app.graphql(&t.token, "{ auditEvents(first: 50) { totalCount nodes { action actorType actorId requestId targetId } } }", json!({})).await;
    let events = audit.data()["auditEvents"]["nodes"]
        .as_array()
        .expect("events")
        .clone();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    for a in [
        "tenant.create",
        "location.create",
        "employee.create",
        "credential.record",
        "permit.record",
        "inspection.record",
        "finding.resolve",
    ] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }
    let user_events: Vec<_> = events.iter().filter(|e| e["actorType"] == "user").collect();
    assert!(user_events.iter().all(
        |e| e["requestId"].as_str().is_some_and(|r| !r.is_empty()) && e["actorId"].is_string()
    ));
}

#[tokio::test]
async fn bad_input_is_refused_with_user_errors_and_changes_nothing() {
    let app = TestApp::new().await;
    let t = app.tenant("acme").await;
    let r = app.graphql(&t.token, r#"mutation { createLocation(input: { storeNumber: " bad!", name: "",
        address: { line1: "", city: "X", state: "il", postalCode: "6060" }, jurisdictionCode: "US-IL-CHICAGO" }) {
        location { id } userErrors { field code } } }"#, json!({})).await;
    let errors = r.data()["createLocation"]["userErrors"]
        .as_array()
        .expect("errors")
        .clone();
    let fields: Vec<String> = errors
        .iter()
        .map(|e| {
            e["field"]
                .as_array()
                .expect("f")
                .iter()
                .map(|p| p.as_str().expect("s"))
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect();
    for f in [
        "input.storeNumber",
        "input.name",
        "input.address.line1",
        "input.address.state",
        "input.address.postalCode",
    ] {
        assert!(
            fields.contains(&f.to_owned()),
            "{f} not reported: {fields:?}"
        );
    }
    let r = app.graphql(&t.token, r#"mutation { createLocation(input: { storeNumber: "TX-1", name: "Wrong state",
        address: { line1: "1 Main", city: "Austin", state: "TX", postalCode: "73301" }, jurisdictionCode: "US-IL-CHICAGO" }) {
        location { id } userErrors { field code } } }"#, json!({})).await;
    assert_eq!(
        r.data()["createLocation"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    let count = app
        .graphql(
            &t.token,
            "{ locations { totalCount } auditEvents { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(count.data()["locations"]["totalCount"], 0);
    assert_eq!(
        count.data()["auditEvents"]["totalCount"],
        1,
        "only tenant.create"
    );
}

#[tokio::test]
async fn filters_and_nested_reads_are_batched() {
    let app = TestApp::new().await;
    let t = app.seeded_tenant("acme").await;
    let by_state = app.graphql(&t.token, r#"{ locations(first: 100, filter: { states: ["TX"] }) { totalCount nodes { address { state } } } }"#, json!({})).await;
    let nodes = by_state.data()["locations"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    assert!(!nodes.is_empty() && nodes.iter().all(|n| n["address"]["state"] == "TX"));
    let summary = app
        .graphql(
            &t.token,
            "{ complianceSummary { totals { locations compliant atRisk nonCompliant } } }",
            json!({}),
        )
        .await;
    let totals = summary.data()["complianceSummary"]["totals"].clone();
    let non_compliant = totals["nonCompliant"].as_i64().expect("n");
    assert!(
        non_compliant > 0
            && totals["compliant"].as_i64().expect("n")
                + totals["atRisk"].as_i64().expect("n")
                + non_compliant
                == 25
    );
    let filtered = app
        .graphql(
            &t.token,
            "{ locations(filter: { complianceStatuses: [NON_COMPLIANT] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        filtered.data()["locations"]["totalCount"].as_i64(),
        Some(non_compliant)
    );
    let expiring = app.graphql(&t.token, "{ credentials(first: 100, filter: { expiringWithinDays: 30 }) { totalCount nodes { status daysUntilExpiry } } }", json!({})).await;
    let creds = expiring.data()["credentials"]["nodes"]
        .as_array()
        .expect("nodes")
        .clone();
    assert!(!creds.is_empty());
    assert!(creds.iter().all(|c| c["status"] == "EXPIRING"
        && (1..=30).contains(&c["daysUntilExpiry"].as_i64().expect("days"))));

    // 3 levels of nesting over 50 locations: statements bounded by depth, not rows
    let before = app.state.db.statements_total();
    let nested = app.graphql(&t.token, "{ locations(first: 50) { nodes { name complianceStatus jurisdictions { code }
        employees(first: 20) { nodes { firstName credentials { kind expiresOn } } } permits { permitNumber } alerts { kind } } } }", json!({})).await;
    nested.data();
    let statements = app.state.db.statements_total() - before;
    assert!(
        statements <= 8,
        "{statements} statements for a 3-level query: N+1?"
    );
}

#[tokio::test]
async fn the_reviewer_picks_up_statuses_that_change_with_time() {
    let app = TestApp::new().await;
    let a = app.seeded_tenant("acme").await;
    let b = app.seeded_tenant("bravo").await;
    // Nothing is due right after seeding: every review day lies ahead.
    assert_eq!(
        prep_gateway::reviewer::review_due(&app.state.db, 100).await,
        Ok(0)
    );
    // Pretend the review day of one location of each tenant has come.
    let admin = app.admin_pool().await;
    let due: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
        "update locations set compliance_review_at = now() - interval '1 minute', compliance_evaluated_at = null
         where id in (select distinct on (tenant_id) id from locations order by tenant_id, store_number)
         returning tenant_id, id",
    )
    .fetch_all(&admin)
    .await
    .expect("mark due");
    assert_eq!(due.len(), 2);
    assert_eq!(
        prep_gateway::reviewer::review_due(&app.state.db, 100).await,
        Ok(2)
    );
    let left: i64 = sqlx::query_scalar(
        "select count(*) from locations where compliance_evaluated_at is null or compliance_review_at <= now()",
    )
    .fetch_one(&admin)
    .await
    .expect("count");
    assert_eq!(
        left, 0,
        "each was re-evaluated inside its own tenant's scope"
    );
    for t in [&a, &b] {
        let r = app
            .graphql(
                &t.token,
                "{ locations(first: 100) { nodes { compliance { evaluatedAt } } } }",
                json!({}),
            )
            .await;
        assert!(r.data()["locations"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .all(|n| n["compliance"]["evaluatedAt"].is_string()));
    }
}
