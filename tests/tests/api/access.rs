//! Roles through the HTTP API: what each role sees and may change, that a
//! denied write changes nothing and is audited, and the admin API for roles
//! (including across tenants).

use std::time::{Duration, Instant};

use prep_auth::{Grant, Role};
use prep_tests::{GqlResponse, TestApp, TestTenant};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

fn encode(ty: &str, uuid: Uuid) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ty}:{uuid}"))
}

/// The UUID inside a global id.
fn uuid_of(id: &str) -> Uuid {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .expect("a global id is base64url");
    let text = String::from_utf8(raw).expect("a global id is text");
    let (_, uuid) = text.split_once(':').expect("a global id is Type:uuid");
    uuid.parse().expect("a global id ends in a uuid")
}

fn str_at<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

fn nodes(v: &Value) -> &Vec<Value> {
    v["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {v}"))
}

fn grant(role: Role, location: Option<&str>) -> Grant {
    Grant {
        role,
        location: location.map(uuid_of),
    }
}

/// A digest of every row of the tenant's data and access tables (not the
/// audit trail), to prove a refused request changed nothing.
async fn fingerprint(pool: &PgPool, tenant: &TestTenant) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "locations",
        "employees",
        "credentials",
        "permits",
        "inspections",
        "findings",
        "alerts",
        "location_requirement_statuses",
        "users",
        "role_grants",
        "token_revocations",
    ] {
        let sql = format!(
            "select count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '')
             from {table} t where tenant_id = $1"
        );
        let digest: String = sqlx::query_scalar(&sql)
            .bind(tenant.id.as_uuid())
            .fetch_one(pool)
            .await
            .expect("fingerprint a table");
        out.push(format!("{table} {digest}"));
    }
    out
}

/// The permissions named by the tenant's `access.denied` events, oldest first.
async fn denials(pool: &PgPool, tenant: &TestTenant) -> Vec<(String, Option<Uuid>)> {
    sqlx::query_as(
        "select details->>'permission', actor_id from audit_events
         where tenant_id = $1 and action = 'access.denied' order by occurred_at, id",
    )
    .bind(tenant.id.as_uuid())
    .fetch_all(pool)
    .await
    .expect("read denials")
}

/// Two location ids of the tenant, by name.
async fn two_locations(app: &TestApp, t: &TestTenant) -> (String, String) {
    let r = app
        .graphql(
            &t.token,
            "{ locations(first: 2) { nodes { id } } }",
            json!({}),
        )
        .await;
    let locs = nodes(&r.data()["locations"]);
    (
        str_at(&locs[0]["id"], "location id").to_owned(),
        str_at(&locs[1]["id"], "location id").to_owned(),
    )
}

/// Some current employee of `location`, as the owner sees it.
async fn employee_at(app: &TestApp, t: &TestTenant, location: &str) -> String {
    let r = app
        .graphql(
            &t.token,
            "query($l: ID!) { employees(first: 1, filter: { locationId: $l }) { nodes { id } } }",
            json!({ "l": location }),
        )
        .await;
    str_at(
        &nodes(&r.data()["employees"])[0]["id"],
        "employee of the location",
    )
    .to_owned()
}

async fn user_id(app: &TestApp, token: &str) -> String {
    let r = app
        .graphql(token, "{ viewer { user { id } } }", json!({}))
        .await;
    str_at(&r.data()["viewer"]["user"]["id"], "viewer id").to_owned()
}

const CREATE_LOCATION: &str = r#"mutation($s: String!) { createLocation(input: { storeNumber: $s, name: "Loop Kitchen",
    address: { line1: "233 S Wacker Dr", city: "Chicago", state: "IL", postalCode: "60606" },
    jurisdictionCode: "US-IL-CHICAGO" }) { location { id } userErrors { field message code } } }"#;

const UPDATE_EMPLOYEE: &str = r#"mutation($id: ID!) { updateEmployee(input: { id: $id, jobTitle: "Sous chef" }) {
    employee { id jobTitle } userErrors { field code message } } }"#;

const GRANT_ROLE: &str = r#"mutation($u: ID!, $r: Role!, $l: ID) { grantRole(input: { userId: $u, role: $r, locationId: $l }) {
    grant { id role locationId source } userErrors { field code message } } }"#;

const REVOKE_ROLE: &str = r#"mutation($g: ID!) { revokeRole(input: { grantId: $g }) {
    revokedGrantId userErrors { field code message } } }"#;

const MEMBERS: &str =
    "{ members(first: 100) { totalCount nodes { id email active roles { id role locationId source } } } }";

#[tokio::test]
async fn a_location_manager_sees_and_changes_only_their_location() {
    let app = TestApp::new().await;
    let t = app.seeded_tenant("acme").await;
    let (a, b) = two_locations(&app, &t).await;
    let manager = app
        .token(
            &t.slug,
            "manager@acme.example",
            &[grant(Role::LocationManager, Some(&a))],
        )
        .await;

    let r = app
        .graphql(
            &manager,
            "{ viewer { roles { role locationId } }
               locations(first: 100) { totalCount nodes { id } }
               employees(first: 100) { totalCount nodes { location { id } } }
               credentials(first: 100) { totalCount nodes { employee { location { id } } } }
               alerts(first: 100) { totalCount nodes { location { id } } }
               complianceSummary { totals { locations } } }",
            json!({}),
        )
        .await;
    let d = r.data();
    assert_eq!(
        d["viewer"]["roles"],
        json!([{ "role": "LOCATION_MANAGER", "locationId": a }])
    );
    assert_eq!(d["locations"]["totalCount"], 1);
    assert_eq!(nodes(&d["locations"]).len(), 1);
    assert_eq!(nodes(&d["locations"])[0]["id"], a.as_str());
    assert_eq!(d["complianceSummary"]["totals"]["locations"], 1);
    let owners_view = app
        .graphql(
            &t.token,
            "query($l: ID!) { employees(first: 100, filter: { locationId: $l }) { totalCount } }",
            json!({ "l": a }),
        )
        .await;
    assert!(d["employees"]["totalCount"].as_i64() > Some(0));
    assert_eq!(
        d["employees"]["totalCount"],
        owners_view.data()["employees"]["totalCount"]
    );
    for e in nodes(&d["employees"]) {
        assert_eq!(e["location"]["id"], a.as_str());
    }
    for c in nodes(&d["credentials"]) {
        assert_eq!(c["employee"]["location"]["id"], a.as_str());
    }
    for al in nodes(&d["alerts"]) {
        assert_eq!(al["location"]["id"], a.as_str());
    }

    // B's objects answer exactly like random ids
    let theirs = employee_at(&app, &t, &b).await;
    let random = encode("Employee", Uuid::new_v4());
    let read = "query($e: ID!, $l: ID!) { node(id: $e) { id } employee(id: $e) { id } location(id: $l) { id } }";
    let foreign = app
        .graphql(&manager, read, json!({ "e": theirs, "l": b }))
        .await;
    let missing = app
        .graphql(
            &manager,
            read,
            json!({ "e": random, "l": encode("Location", Uuid::new_v4()) }),
        )
        .await;
    assert_eq!(foreign.body, missing.body);
    assert_eq!(foreign.data()["node"], Value::Null);
    assert_eq!(foreign.data()["location"], Value::Null);

    // A's employee can be changed
    let mine = employee_at(&app, &t, &a).await;
    let r = app
        .graphql(&manager, UPDATE_EMPLOYEE, json!({ "id": mine }))
        .await;
    assert_eq!(
        r.data()["updateEmployee"]["employee"]["jobTitle"],
        "Sous chef"
    );

    // B's cannot, and nothing changes: not B's employee, not A's
    let admin = app.admin_pool().await;
    let before = fingerprint(&admin, &t).await;
    let foreign = app
        .graphql(&manager, UPDATE_EMPLOYEE, json!({ "id": theirs }))
        .await;
    let missing = app
        .graphql(&manager, UPDATE_EMPLOYEE, json!({ "id": random }))
        .await;
    assert_eq!(foreign.error_code(), Some("NOT_FOUND"));
    assert_eq!(foreign.body, missing.body);
    // moving A's employee to B is refused like a move to nowhere
    let transfer = r#"mutation($id: ID!, $l: ID!) { updateEmployee(input: { id: $id, locationId: $l }) {
        employee { id } userErrors { field code message } } }"#;
    let foreign = app
        .graphql(&manager, transfer, json!({ "id": mine, "l": b }))
        .await;
    let missing = app
        .graphql(
            &manager,
            transfer,
            json!({ "id": mine, "l": encode("Location", Uuid::new_v4()) }),
        )
        .await;
    assert_eq!(foreign.body, missing.body);
    assert_eq!(
        foreign.data()["updateEmployee"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    // a new location is the tenant's business, not a location manager's
    let r = app
        .graphql(&manager, CREATE_LOCATION, json!({ "s": "IL-900" }))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    assert_eq!(fingerprint(&admin, &t).await, before);
    let r = app
        .graphql(
            &t.token,
            "query($e: ID!) { employee(id: $e) { jobTitle location { id } } }",
            json!({ "e": theirs }),
        )
        .await;
    assert_ne!(r.data()["employee"]["jobTitle"], "Sous chef");
    assert_eq!(r.data()["employee"]["location"]["id"], b.as_str());
}

#[tokio::test]
async fn an_auditor_reads_everything_and_every_write_is_refused_and_audited() {
    let app = TestApp::new().await;
    let t = app.seeded_tenant("acme").await;
    let (a, _) = two_locations(&app, &t).await;
    let auditor = app
        .token(
            &t.slug,
            "auditor@acme.example",
            &[grant(Role::Auditor, None)],
        )
        .await;
    let auditor_id = uuid_of(&user_id(&app, &auditor).await);

    let everything = "{ locations(first: 100) { totalCount } employees(first: 1) { totalCount }
        credentials(first: 1) { totalCount } permits(first: 1) { totalCount }
        inspections(first: 1) { totalCount } alerts(first: 1) { totalCount }
        auditEvents(first: 1) { totalCount } members(first: 100) { totalCount }
        complianceSummary { totals { locations } } }";
    let seen = app.graphql(&auditor, everything, json!({})).await;
    let owner_sees = app.graphql(&t.token, everything, json!({})).await;
    assert_eq!(seen.data()["locations"]["totalCount"], 25);
    assert!(seen.data()["auditEvents"]["totalCount"].as_i64() > Some(0));
    for field in [
        "locations",
        "employees",
        "credentials",
        "permits",
        "inspections",
        "alerts",
        "members",
    ] {
        assert_eq!(
            seen.data()[field]["totalCount"],
            owner_sees.data()[field]["totalCount"],
            "{field}"
        );
    }

    // an object of every kind a mutation takes
    let emp = employee_at(&app, &t, &a).await;
    let r = app
        .graphql(
            &t.token,
            "{ credentials(first: 1) { nodes { id } }
               inspections(first: 100) { nodes { findings { id resolvedOn } } } }",
            json!({}),
        )
        .await;
    let credential = str_at(&nodes(&r.data()["credentials"])[0]["id"], "credential").to_owned();
    let finding = nodes(&r.data()["inspections"])
        .iter()
        .flat_map(|i| i["findings"].as_array().cloned().unwrap_or_default())
        .find(|f| f["resolvedOn"].is_null())
        .expect("the seed has an open finding")["id"]
        .as_str()
        .expect("finding id")
        .to_owned();
    let staff = app
        .token(
            &t.slug,
            "cook@acme.example",
            &[grant(Role::Staff, Some(&a))],
        )
        .await;
    let cook = user_id(&app, &staff).await;
    let r = app.graphql(&t.token, MEMBERS, json!({})).await;
    let cooks_grant = nodes(&r.data()["members"])
        .iter()
        .find(|m| m["id"] == cook.as_str())
        .expect("the cook is a member")["roles"][0]["id"]
        .as_str()
        .expect("grant id")
        .to_owned();

    let cases: [(&str, &str, Value); 12] = [
        ("locations:write", CREATE_LOCATION, json!({ "s": "IL-900" })),
        (
            "locations:write",
            r#"mutation($id: ID!) { updateLocation(input: { id: $id, name: "Renamed" }) { location { id } } }"#,
            json!({ "id": a }),
        ),
        (
            "employees:write",
            r#"mutation($l: ID!) { createEmployee(input: { locationId: $l, firstName: "Eve", lastName: "Doe",
                hireDate: "2024-01-02" }) { employee { id } } }"#,
            json!({ "l": a }),
        ),
        ("employees:write", UPDATE_EMPLOYEE, json!({ "id": emp })),
        (
            "employees:write",
            r#"mutation($id: ID!) { terminateEmployee(input: { id: $id, terminatedOn: "2025-01-01" }) { employee { id } } }"#,
            json!({ "id": emp }),
        ),
        (
            "credentials:write",
            r#"mutation($e: ID!) { recordCredential(input: { employeeId: $e, kind: FOOD_HANDLER_CARD,
                issuedOn: "2024-01-01", expiresOn: "2027-01-01" }) { credential { id } } }"#,
            json!({ "e": emp }),
        ),
        (
            "credentials:write",
            "mutation($id: ID!) { deleteCredential(id: $id) { deletedCredentialId } }",
            json!({ "id": credential }),
        ),
        (
            "permits:write",
            r#"mutation($l: ID!) { recordPermit(input: { locationId: $l, kind: HEALTH, permitNumber: "X-1",
                issuedOn: "2025-01-01", expiresOn: "2027-01-01" }) { permit { id } } }"#,
            json!({ "l": a }),
        ),
        (
            "inspections:write",
            r#"mutation($l: ID!) { recordInspection(input: { locationId: $l, inspectedOn: "2025-01-05", result: PASS }) {
                inspection { id } } }"#,
            json!({ "l": a }),
        ),
        (
            "inspections:write",
            r#"mutation($id: ID!) { resolveFinding(input: { id: $id, resolvedOn: "2025-01-10" }) { finding { id } } }"#,
            json!({ "id": finding }),
        ),
        (
            "members:write",
            GRANT_ROLE,
            json!({ "u": cook, "r": "ADMIN", "l": null }),
        ),
        ("members:write", REVOKE_ROLE, json!({ "g": cooks_grant })),
    ];
    let admin = app.admin_pool().await;
    let before = fingerprint(&admin, &t).await;
    let denied_before = denials(&admin, &t).await.len();
    for (permission, query, vars) in &cases {
        let r: GqlResponse = app.graphql(&auditor, query, vars.clone()).await;
        assert_eq!(r.error_code(), Some("FORBIDDEN"), "{query}: {}", r.body);
        assert_eq!(
            r.body["errors"][0]["message"],
            format!("missing permission {permission}")
        );
    }
    assert_eq!(
        fingerprint(&admin, &t).await,
        before,
        "a refused write changed something"
    );
    let recorded = denials(&admin, &t).await;
    let expected: Vec<(String, Option<Uuid>)> = cases
        .iter()
        .map(|(p, _, _)| ((*p).to_owned(), Some(auditor_id)))
        .collect();
    assert_eq!(recorded[denied_before..], expected[..]);
    // and the auditor can read them
    let r = app
        .graphql(
            &auditor,
            "{ auditEvents(first: 1) { nodes { action actorId targetType details } } }",
            json!({}),
        )
        .await;
    let last = &nodes(&r.data()["auditEvents"])[0];
    assert_eq!(last["action"], "access.denied");
    assert_eq!(last["targetType"], "Tenant");
    assert_eq!(last["details"]["permission"], "members:write");
}

#[tokio::test]
async fn staff_read_their_location_only_and_no_role_sees_nothing() {
    let app = TestApp::new().await;
    let t = app.seeded_tenant("acme").await;
    let (a, _) = two_locations(&app, &t).await;
    let staff = app
        .token(
            &t.slug,
            "cook@acme.example",
            &[grant(Role::Staff, Some(&a))],
        )
        .await;
    let r = app
        .graphql(
            &staff,
            "{ locations(first: 100) { totalCount nodes { id } } employees(first: 100) { nodes { location { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["locations"]["totalCount"], 1);
    assert_eq!(nodes(&r.data()["locations"])[0]["id"], a.as_str());
    assert!(!nodes(&r.data()["employees"]).is_empty());
    for e in nodes(&r.data()["employees"]) {
        assert_eq!(e["location"]["id"], a.as_str());
    }
    let admin = app.admin_pool().await;
    let before = fingerprint(&admin, &t).await;
    let emp = employee_at(&app, &t, &a).await;
    let r = app
        .graphql(&staff, UPDATE_EMPLOYEE, json!({ "id": emp }))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    let r = app
        .graphql(
            &staff,
            r#"mutation($l: ID!) { recordPermit(input: { locationId: $l, kind: HEALTH, permitNumber: "X-1",
                issuedOn: "2025-01-01", expiresOn: "2027-01-01" }) { permit { id } } }"#,
            json!({ "l": a }),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    let staff_id = uuid_of(&user_id(&app, &staff).await);
    let target: (String, Option<Uuid>) = sqlx::query_as(
        "select target_type, target_id from audit_events
         where tenant_id = $1 and action = 'access.denied' and actor_id = $2
           and details->>'permission' = 'permits:write'",
    )
    .bind(t.id.as_uuid())
    .bind(staff_id)
    .fetch_one(&admin)
    .await
    .expect("the denial is audited");
    assert_eq!(target, ("Location".to_owned(), Some(uuid_of(&a))));
    for read in [
        "{ auditEvents(first: 1) { totalCount } }",
        "{ members(first: 1) { totalCount } }",
    ] {
        let r = app.graphql(&staff, read, json!({})).await;
        assert_eq!(r.error_code(), Some("FORBIDDEN"), "{read}");
    }
    assert_eq!(fingerprint(&admin, &t).await, before);

    let nobody = app.token(&t.slug, "nobody@acme.example", &[]).await;
    let before = fingerprint(&admin, &t).await;
    let r = app
        .graphql(
            &nobody,
            "{ viewer { roles { role } user { email roles { role } } }
               locations(first: 100) { totalCount nodes { id } }
               employees(first: 100) { totalCount } alerts(first: 100) { totalCount } }",
            json!({}),
        )
        .await;
    let d = r.data();
    assert_eq!(d["viewer"]["roles"], json!([]));
    assert_eq!(d["viewer"]["user"]["roles"], json!([]));
    assert_eq!(d["locations"]["totalCount"], 0);
    assert_eq!(d["employees"]["totalCount"], 0);
    assert_eq!(d["alerts"]["totalCount"], 0);
    let r = app
        .graphql(
            &nobody,
            "{ auditEvents(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    assert_eq!(r.body["data"], Value::Null);
    let r = app
        .graphql(&nobody, CREATE_LOCATION, json!({ "s": "IL-900" }))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    assert_eq!(fingerprint(&admin, &t).await, before);
}

/// Polls until `token` is refused (revocations travel by NOTIFY).
async fn refused_within(app: &TestApp, token: &str, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        let r = app
            .graphql(token, "{ viewer { roles { role } } }", json!({}))
            .await;
        if r.error_code() == Some("UNAUTHENTICATED") {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn admins_grant_roles_a_grant_retires_old_tokens_and_only_owners_handle_ownership() {
    let app = TestApp::new().await;
    let t = app.tenant("acme").await;
    for store in ["IL-001", "IL-002"] {
        let r = app
            .graphql(&t.token, CREATE_LOCATION, json!({ "s": store }))
            .await;
        assert_eq!(r.data()["createLocation"]["userErrors"], json!([]));
    }
    let (a, _) = two_locations(&app, &t).await;
    let admin_token = app
        .token(&t.slug, "admin@acme.example", &[grant(Role::Admin, None)])
        .await;
    let cm = app
        .token(
            &t.slug,
            "compliance@acme.example",
            &[grant(Role::ComplianceManager, None)],
        )
        .await;
    let old = app.token(&t.slug, "new@acme.example", &[]).await;
    let new_user = user_id(&app, &old).await;
    let pool = app.admin_pool().await;

    // a compliance manager manages facts, not people
    let before = fingerprint(&pool, &t).await;
    let r = app
        .graphql(
            &cm,
            GRANT_ROLE,
            json!({ "u": new_user, "r": "LOCATION_MANAGER", "l": a }),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    let r = app.graphql(&cm, MEMBERS, json!({})).await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    assert_eq!(fingerprint(&pool, &t).await, before);
    assert_eq!(
        denials(&pool, &t).await.last().map(|d| d.0.as_str()),
        Some("members:write")
    );

    // an admin grants location_manager@A
    let r = app
        .graphql(
            &admin_token,
            GRANT_ROLE,
            json!({ "u": new_user, "r": "LOCATION_MANAGER", "l": a }),
        )
        .await;
    let g = &r.data()["grantRole"];
    assert_eq!(g["userErrors"], json!([]));
    assert_eq!(g["grant"]["role"], "LOCATION_MANAGER");
    assert_eq!(g["grant"]["locationId"], a.as_str());
    assert_eq!(g["grant"]["source"], "MANUAL");
    let manager_grant = str_at(&g["grant"]["id"], "grant id").to_owned();
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where tenant_id = $1 and action = 'role.grant' and target_id = $2",
    )
    .bind(t.id.as_uuid())
    .bind(uuid_of(&manager_grant))
    .fetch_one(&pool)
    .await
    .expect("count audit events");
    assert_eq!(audited, 1);

    // the token issued before the grant is dead; a new one carries the role
    assert!(
        refused_within(&app, &old, Duration::from_secs(2)).await,
        "the old token still works"
    );
    let fresh = app.token(&t.slug, "new@acme.example", &[]).await;
    let r = app
        .graphql(
            &fresh,
            "{ viewer { roles { role locationId } user { roles { id role locationId } } }
               locations(first: 100) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    let d = r.data();
    assert_eq!(
        d["viewer"]["roles"],
        json!([{ "role": "LOCATION_MANAGER", "locationId": a }])
    );
    assert_eq!(
        d["viewer"]["user"]["roles"],
        json!([{ "id": manager_grant, "role": "LOCATION_MANAGER", "locationId": a }])
    );
    assert_eq!(d["locations"]["totalCount"], 1);
    assert_eq!(nodes(&d["locations"])[0]["id"], a.as_str());

    // the members list shows it
    let r = app.graphql(&admin_token, MEMBERS, json!({})).await;
    let members = &r.data()["members"];
    assert_eq!(members["totalCount"], 4);
    let member = nodes(members)
        .iter()
        .find(|m| m["id"] == new_user.as_str())
        .expect("the new user is listed");
    assert_eq!(member["email"], "new@acme.example");
    assert_eq!(member["roles"][0]["id"], manager_grant.as_str());

    // ownership is for owners to give and take
    let r = app
        .graphql(
            &admin_token,
            GRANT_ROLE,
            json!({ "u": new_user, "r": "OWNER", "l": null }),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    let r = app
        .graphql(
            &t.token,
            GRANT_ROLE,
            json!({ "u": new_user, "r": "OWNER", "l": a }),
        )
        .await;
    assert_eq!(r.data()["grantRole"]["userErrors"][0]["code"], "INVALID");
    let r = app
        .graphql(
            &t.token,
            GRANT_ROLE,
            json!({ "u": new_user, "r": "OWNER", "l": null }),
        )
        .await;
    assert_eq!(r.data()["grantRole"]["grant"]["role"], "OWNER");
    let owner_grant = str_at(&r.data()["grantRole"]["grant"]["id"], "grant id").to_owned();
    let r = app
        .graphql(&admin_token, REVOKE_ROLE, json!({ "g": owner_grant }))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    let r = app
        .graphql(&t.token, REVOKE_ROLE, json!({ "g": owner_grant }))
        .await;
    assert_eq!(
        r.data()["revokeRole"]["revokedGrantId"],
        owner_grant.as_str()
    );

    // the last owner grant stays
    let owner = user_id(&app, &t.token).await;
    let r = app.graphql(&admin_token, MEMBERS, json!({})).await;
    let first_owner_grant = nodes(&r.data()["members"])
        .iter()
        .find(|m| m["id"] == owner.as_str())
        .expect("the owner is listed")["roles"][0]["id"]
        .as_str()
        .expect("grant id")
        .to_owned();
    let r = app
        .graphql(&t.token, REVOKE_ROLE, json!({ "g": first_owner_grant }))
        .await;
    assert_eq!(r.data()["revokeRole"]["userErrors"][0]["code"], "CONFLICT");

    // an admin revokes the location role
    let r = app
        .graphql(&admin_token, REVOKE_ROLE, json!({ "g": manager_grant }))
        .await;
    assert_eq!(
        r.data()["revokeRole"]["revokedGrantId"],
        manager_grant.as_str()
    );
    let left: i64 = sqlx::query_scalar(
        "select count(*) from role_grants where tenant_id = $1 and user_id = $2",
    )
    .bind(t.id.as_uuid())
    .bind(uuid_of(&new_user))
    .fetch_one(&pool)
    .await
    .expect("count grants");
    assert_eq!(left, 0);
    assert!(
        refused_within(&app, &fresh, Duration::from_secs(2)).await,
        "a revocation retires tokens too"
    );
}

#[tokio::test]
async fn role_admin_answers_another_tenants_ids_like_random_ones() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let bravo = app.tenant("bravo").await;
    for t in [&acme, &bravo] {
        let r = app
            .graphql(&t.token, CREATE_LOCATION, json!({ "s": "IL-001" }))
            .await;
        assert_eq!(r.data()["createLocation"]["userErrors"], json!([]));
    }
    let r = app.graphql(&acme.token, MEMBERS, json!({})).await;
    let acme_owner = &nodes(&r.data()["members"])[0];
    let acme_user = str_at(&acme_owner["id"], "user id").to_owned();
    let acme_grant = str_at(&acme_owner["roles"][0]["id"], "grant id").to_owned();
    let acme_email = str_at(&acme_owner["email"], "email").to_owned();
    let r = app
        .graphql(
            &acme.token,
            "{ locations(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let acme_location = str_at(&nodes(&r.data()["locations"])[0]["id"], "location").to_owned();
    let bravo_admin = app
        .token(
            &bravo.slug,
            "admin@bravo.example",
            &[grant(Role::Admin, None)],
        )
        .await;
    let bravo_user = user_id(&app, &bravo_admin).await;
    let pool = app.admin_pool().await;
    let acme_before = fingerprint(&pool, &acme).await;
    let bravo_before = fingerprint(&pool, &bravo).await;

    let cases = [
        (
            GRANT_ROLE,
            json!({ "u": acme_user, "r": "STAFF", "l": null }),
            json!({ "u": encode("User", Uuid::new_v4()), "r": "STAFF", "l": null }),
        ),
        (
            GRANT_ROLE,
            json!({ "u": bravo_user, "r": "STAFF", "l": acme_location }),
            json!({ "u": bravo_user, "r": "STAFF", "l": encode("Location", Uuid::new_v4()) }),
        ),
        (
            REVOKE_ROLE,
            json!({ "g": acme_grant }),
            json!({ "g": encode("RoleGrant", Uuid::new_v4()) }),
        ),
    ];
    for (query, foreign_vars, random_vars) in cases {
        let foreign = app.graphql(&bravo_admin, query, foreign_vars).await;
        let random = app.graphql(&bravo_admin, query, random_vars).await;
        assert_eq!(foreign.status, random.status);
        assert_eq!(foreign.body, random.body, "{query}");
        assert!(
            foreign.body.to_string().contains("NOT_FOUND"),
            "{}",
            foreign.body
        );
    }

    // bravo's members are bravo's only
    let r = app.graphql(&bravo_admin, MEMBERS, json!({})).await;
    let text = r.data().to_string();
    assert!(!text.contains(&acme_user));
    assert!(!text.contains(&acme_grant));
    assert!(!text.contains(&acme_email));
    assert_eq!(r.data()["members"]["totalCount"], 2);

    assert_eq!(fingerprint(&pool, &acme).await, acme_before);
    assert_eq!(fingerprint(&pool, &bravo).await, bravo_before);
    let acme_audit: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where tenant_id = $1 and action like 'role.%'",
    )
    .bind(acme.id.as_uuid())
    .fetch_one(&pool)
    .await
    .expect("count audit events");
    assert_eq!(acme_audit, 0);
}
