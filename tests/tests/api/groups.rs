//! Groups: roles granted to a group reach its members (and their tokens are
//! retired when that changes), names are unique per tenant, only owners and
//! admins manage groups, and another tenant's groups and users are not found.

use std::time::Duration;

use axum::http::StatusCode;
use prep_auth::{Grant, Role};
use prep_resolvers::ids::{self, NodeType};
use prep_tests::{GqlResponse, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

const CREATE: &str = r#"mutation($n: String!) { createGroup(input: { displayName: $n }) {
    group { id displayName externalId } userErrors { field code message } } }"#;
const RENAME: &str = r#"mutation($g: ID!, $n: String!) { renameGroup(input: { groupId: $g, displayName: $n }) {
    group { id displayName } userErrors { field code message } } }"#;
const DELETE: &str = r#"mutation($g: ID!) { deleteGroup(input: { groupId: $g }) {
    deletedGroupId userErrors { field code message } } }"#;
const ADD: &str = r#"mutation($g: ID!, $u: [ID!]!) { addGroupMembers(input: { groupId: $g, userIds: $u }) {
    group { id members(first: 10) { totalCount nodes { email } } } userErrors { field code message } } }"#;
const REMOVE: &str = r#"mutation($g: ID!, $u: [ID!]!) { removeGroupMembers(input: { groupId: $g, userIds: $u }) {
    group { id members(first: 10) { totalCount nodes { email } } } userErrors { field code message } } }"#;
const GRANT: &str = r#"mutation($u: ID, $g: ID, $r: Role!, $l: ID) {
    grantRole(input: { userId: $u, groupId: $g, role: $r, locationId: $l }) {
    grant { id role locationId source groupName } userErrors { field code message } } }"#;
const GROUPS: &str = r#"query($after: String) { groups(first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id displayName members(first: 10) { totalCount nodes { email } } roles { role locationId groupName } } } }"#;
const LOCATION_COUNT: &str = "{ locations(first: 50) { totalCount } }";

fn role(role: Role) -> Vec<Grant> {
    vec![Grant {
        role,
        location: None,
    }]
}

fn text(v: &Value, what: &str) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} in {v}"))
        .to_owned()
}

/// The global id of the member with `email`.
async fn user_id(app: &TestApp, token: &str, email: &str) -> String {
    let r = app
        .graphql(
            token,
            "{ members(first: 100) { nodes { id email } } }",
            json!({}),
        )
        .await;
    let node = r.data()["members"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["email"] == email)
        .cloned()
        .unwrap_or_else(|| panic!("no member {email}"));
    text(&node["id"], "user id")
}

async fn create_group(app: &TestApp, token: &str, name: &str) -> String {
    let r = app.graphql(token, CREATE, json!({ "n": name })).await;
    let p = &r.data()["createGroup"];
    assert_eq!(p["userErrors"], json!([]), "{}", r.body);
    text(&p["group"]["id"], "group id")
}

/// Waits up to 2 s for `token` to be refused.
async fn refused_soon(app: &TestApp, token: &str) -> bool {
    for _ in 0..40 {
        let r = app
            .graphql(token, "{ viewer { tenant { slug } } }", json!({}))
            .await;
        if r.status == StatusCode::UNAUTHORIZED && r.error_code() == Some("UNAUTHENTICATED") {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn location_count(app: &TestApp, token: &str) -> i64 {
    let r = app.graphql(token, LOCATION_COUNT, json!({})).await;
    r.data()["locations"]["totalCount"]
        .as_i64()
        .expect("totalCount")
}

fn first_error(r: &GqlResponse, mutation: &str) -> (String, String) {
    let e = &r.data()[mutation]["userErrors"][0];
    let field: Vec<String> = e["field"]
        .as_array()
        .unwrap_or_else(|| panic!("a user error in {}", r.body))
        .iter()
        .map(|s| text(s, "path"))
        .collect();
    (field.join("."), text(&e["code"], "code"))
}

#[tokio::test]
async fn a_groups_roles_reach_its_members_and_leave_with_them() {
    let app = TestApp::new().await;
    let acme = app.seeded_tenant("acme").await;
    let admin = app
        .token("acme", "admin@acme.example", &role(Role::Admin))
        .await;
    let cook = app.token("acme", "cook@acme.example", &[]).await;
    let cook_id = user_id(&app, &admin, "cook@acme.example").await;
    let r = app
        .graphql(
            &admin,
            "{ locations(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let location = text(&r.data()["locations"]["nodes"][0]["id"], "location id");

    let group = create_group(&app, &admin, "Line Cooks").await;
    let r = app
        .graphql(
            &admin,
            GRANT,
            json!({ "g": group, "r": "LOCATION_MANAGER", "l": location }),
        )
        .await;
    let grant = &r.data()["grantRole"];
    assert_eq!(grant["userErrors"], json!([]), "{}", r.body);
    assert_eq!(grant["grant"]["groupName"], "Line Cooks");
    assert_eq!(grant["grant"]["locationId"], location.as_str());
    let grant_id = text(&grant["grant"]["id"], "grant id");
    // granting to a group without members retires nobody's token
    assert_eq!(location_count(&app, &cook).await, 0);

    // twice, and the id twice: membership is idempotent
    for _ in 0..2 {
        let r = app
            .graphql(&admin, ADD, json!({ "g": group, "u": [cook_id, cook_id] }))
            .await;
        let p = &r.data()["addGroupMembers"];
        assert_eq!(p["userErrors"], json!([]), "{}", r.body);
        assert_eq!(
            p["group"]["members"],
            json!({ "totalCount": 1, "nodes": [{ "email": "cook@acme.example" }] })
        );
    }
    assert!(
        refused_soon(&app, &cook).await,
        "joining a group with roles retires the member's tokens"
    );
    let fresh = app.token("acme", "cook@acme.example", &[]).await;
    assert_eq!(location_count(&app, &fresh).await, 1);
    let r = app
        .graphql(
            &fresh,
            "{ locations(first: 50) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["locations"]["nodes"][0]["id"], location.as_str());

    let r = app.graphql(&admin, GROUPS, json!({})).await;
    let listed = &r.data()["groups"];
    assert_eq!(listed["totalCount"], 1);
    assert_eq!(listed["nodes"][0]["id"], group.as_str());
    assert_eq!(listed["nodes"][0]["members"]["totalCount"], 1);
    assert_eq!(
        listed["nodes"][0]["roles"],
        json!([{ "role": "LOCATION_MANAGER", "locationId": location, "groupName": "Line Cooks" }])
    );
    // the member's roles show the group's grant, named after the group
    let r = app
        .graphql(
            &admin,
            "{ members(first: 100) { nodes { email roles { id groupName } } } }",
            json!({}),
        )
        .await;
    let cook_node = r.data()["members"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["email"] == "cook@acme.example")
        .cloned()
        .expect("cook");
    assert_eq!(
        cook_node["roles"],
        json!([{ "id": grant_id, "groupName": "Line Cooks" }])
    );

    let r = app
        .graphql(&admin, REMOVE, json!({ "g": group, "u": [cook_id] }))
        .await;
    let p = &r.data()["removeGroupMembers"];
    assert_eq!(p["userErrors"], json!([]), "{}", r.body);
    assert_eq!(p["group"]["members"]["totalCount"], 0);
    assert!(
        refused_soon(&app, &fresh).await,
        "leaving the group retires the tokens that carry its roles"
    );
    let after = app.token("acme", "cook@acme.example", &[]).await;
    assert_eq!(location_count(&app, &after).await, 0);

    let pool = app.admin_pool().await;
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where tenant_id = $1 and target_type = 'Group'
         order by occurred_at, action",
    )
    .bind(acme.id.as_uuid())
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        [
            "group.create",
            "group.members.add",
            "group.members.add",
            "group.members.remove"
        ]
    );
}

#[tokio::test]
async fn group_input_is_checked_and_only_owners_and_admins_manage_groups() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    app.token("acme", "cook@acme.example", &[]).await;
    let cook_id = user_id(&app, &acme.token, "cook@acme.example").await;
    let group = create_group(&app, &acme.token, "Line Cooks").await;

    for (name, field, code) in [
        ("line COOKS", "input.displayName", "TAKEN"),
        ("   ", "input.displayName", "INVALID"),
        (&"x".repeat(257) as &str, "input.displayName", "INVALID"),
    ] {
        let r = app.graphql(&acme.token, CREATE, json!({ "n": name })).await;
        assert_eq!(
            first_error(&r, "createGroup"),
            (field.to_owned(), code.to_owned())
        );
        assert_eq!(r.data()["createGroup"]["group"], Value::Null);
    }
    let other = create_group(&app, &acme.token, "Closers").await;
    let r = app
        .graphql(
            &acme.token,
            RENAME,
            json!({ "g": other, "n": "LINE cooks" }),
        )
        .await;
    assert_eq!(
        first_error(&r, "renameGroup"),
        ("input.displayName".to_owned(), "TAKEN".to_owned())
    );
    let r = app
        .graphql(&acme.token, RENAME, json!({ "g": other, "n": " Openers " }))
        .await;
    assert_eq!(
        r.data()["renameGroup"]["group"]["displayName"],
        "Openers",
        "{}",
        r.body
    );
    let bakers = create_group(&app, &acme.token, "Bakers").await;
    // pages by name: Bakers, Line Cooks | Openers
    let r = app.graphql(&acme.token, GROUPS, json!({})).await;
    let page = &r.data()["groups"];
    assert_eq!(page["totalCount"], 3);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let names: Vec<&Value> = (page["nodes"].as_array().expect("nodes").iter())
        .map(|n| &n["displayName"])
        .collect();
    assert_eq!(names, [&json!("Bakers"), &json!("Line Cooks")]);
    let r = app
        .graphql(
            &acme.token,
            GROUPS,
            json!({ "after": page["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(r.data()["groups"]["nodes"][0]["displayName"], "Openers");

    // an unknown user: reported by index, and nobody is added
    let ghost = ids::encode(NodeType::User, Uuid::new_v4()).0;
    let r = app
        .graphql(
            &acme.token,
            ADD,
            json!({ "g": group, "u": [cook_id, ghost] }),
        )
        .await;
    assert_eq!(
        first_error(&r, "addGroupMembers"),
        ("input.userIds.1".to_owned(), "NOT_FOUND".to_owned())
    );
    let r = app
        .graphql(&acme.token, ADD, json!({ "g": group, "u": [] }))
        .await;
    assert_eq!(first_error(&r, "addGroupMembers").1, "INVALID");
    let too_many = vec![cook_id.clone(); 101];
    let r = app
        .graphql(&acme.token, ADD, json!({ "g": group, "u": too_many }))
        .await;
    assert_eq!(first_error(&r, "addGroupMembers").1, "INVALID");
    let r = app.graphql(&acme.token, GROUPS, json!({})).await;
    assert_eq!(r.data()["groups"]["nodes"][1]["members"]["totalCount"], 0);

    // a grant goes to exactly one of a user and a group
    for vars in [
        json!({ "u": cook_id, "g": group, "r": "STAFF" }),
        json!({ "r": "STAFF" }),
    ] {
        let r = app.graphql(&acme.token, GRANT, vars).await;
        assert_eq!(first_error(&r, "grantRole").1, "INVALID");
    }

    // a compliance manager may read members but not manage groups
    let cm = app
        .token("acme", "cm@acme.example", &role(Role::ComplianceManager))
        .await;
    let r = app.graphql(&cm, CREATE, json!({ "n": "Mine" })).await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    let r = app
        .graphql(&cm, ADD, json!({ "g": group, "u": [cook_id] }))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));

    // a group's members page by e-mail: cm, cook | owner
    let owner_id = user_id(&app, &acme.token, "owner@acme.example").await;
    let cm_id = user_id(&app, &acme.token, "cm@acme.example").await;
    let r = app
        .graphql(
            &acme.token,
            ADD,
            json!({ "g": bakers, "u": [owner_id, cook_id, cm_id] }),
        )
        .await;
    assert_eq!(r.data()["addGroupMembers"]["userErrors"], json!([]));
    const MEMBER_PAGE: &str = r#"query($a: String) { groups(first: 1) { nodes { members(first: 2, after: $a) {
        totalCount pageInfo { hasNextPage endCursor } nodes { email } } } } }"#;
    let r = app.graphql(&acme.token, MEMBER_PAGE, json!({})).await;
    let page = &r.data()["groups"]["nodes"][0]["members"];
    assert_eq!(page["totalCount"], 3);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        page["nodes"],
        json!([{ "email": "cm@acme.example" }, { "email": "cook@acme.example" }])
    );
    let r = app
        .graphql(
            &acme.token,
            MEMBER_PAGE,
            json!({ "a": page["pageInfo"]["endCursor"] }),
        )
        .await;
    let page = &r.data()["groups"]["nodes"][0]["members"];
    assert_eq!(page["totalCount"], 3, "counted across pages");
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
    assert_eq!(page["nodes"], json!([{ "email": "owner@acme.example" }]));

    let pool = app.admin_pool().await;
    let denied: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where tenant_id = $1 and action = 'access.denied'",
    )
    .bind(acme.id.as_uuid())
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(denied, 2);
    let groups: i64 = sqlx::query_scalar("select count(*) from groups")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(groups, 3);
}

#[tokio::test]
async fn another_tenants_groups_and_users_are_not_found() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let rival = app.tenant("rival").await;
    let rival_admin = app
        .token("rival", "admin@rival.example", &role(Role::Admin))
        .await;
    app.token("acme", "cook@acme.example", &[]).await;
    let acme_cook = user_id(&app, &acme.token, "cook@acme.example").await;
    let rival_self = user_id(&app, &rival_admin, "admin@rival.example").await;
    let acme_group = create_group(&app, &acme.token, "Line Cooks").await;
    let r = app
        .graphql(
            &acme.token,
            ADD,
            json!({ "g": acme_group, "u": [acme_cook] }),
        )
        .await;
    assert_eq!(r.data()["addGroupMembers"]["userErrors"], json!([]));
    let rival_group = create_group(&app, &rival_admin, "Line Cooks").await;

    let r = app.graphql(&rival_admin, GROUPS, json!({})).await;
    let listed = &r.data()["groups"];
    assert_eq!(listed["totalCount"], 1, "same name, other tenant: no clash");
    assert_eq!(listed["nodes"][0]["id"], rival_group.as_str());
    assert_eq!(listed["nodes"][0]["members"]["totalCount"], 0);

    for (query, vars) in [
        (RENAME, json!({ "g": acme_group, "n": "Ours now" })),
        (DELETE, json!({ "g": acme_group })),
        (ADD, json!({ "g": acme_group, "u": [rival_self] })),
        (REMOVE, json!({ "g": acme_group, "u": [acme_cook] })),
        (GRANT, json!({ "g": acme_group, "r": "ADMIN" })),
    ] {
        let r = app.graphql(&rival_admin, query, vars).await;
        assert_eq!(r.error_code(), Some("NOT_FOUND"), "{}", r.body);
    }
    for (query, mutation) in [(ADD, "addGroupMembers"), (REMOVE, "removeGroupMembers")] {
        let r = app
            .graphql(
                &rival_admin,
                query,
                json!({ "g": rival_group, "u": [rival_self, acme_cook] }),
            )
            .await;
        assert_eq!(
            first_error(&r, mutation),
            ("input.userIds.1".to_owned(), "NOT_FOUND".to_owned())
        );
    }

    let pool = app.admin_pool().await;
    let (name, members, grants): (String, i64, i64) = sqlx::query_as(
        "select g.display_name,
                (select count(*) from group_members m where m.group_id = g.id),
                (select count(*) from role_grants r where r.group_id = g.id)
         from groups g where g.tenant_id = $1",
    )
    .bind(acme.id.as_uuid())
    .fetch_one(&pool)
    .await
    .expect("acme's group");
    assert_eq!((name.as_str(), members, grants), ("Line Cooks", 1, 0));
    let rival_members: i64 =
        sqlx::query_scalar("select count(*) from group_members where tenant_id = $1")
            .bind(rival.id.as_uuid())
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(rival_members, 0);
}

#[tokio::test]
async fn deleting_a_group_removes_its_grants_and_retires_its_members_tokens() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    app.token("acme", "auditor@acme.example", &[]).await;
    let auditor_id = user_id(&app, &acme.token, "auditor@acme.example").await;
    let group = create_group(&app, &acme.token, "Auditors").await;
    let r = app
        .graphql(&acme.token, GRANT, json!({ "g": group, "r": "AUDITOR" }))
        .await;
    assert_eq!(r.data()["grantRole"]["userErrors"], json!([]));
    let r = app
        .graphql(&acme.token, ADD, json!({ "g": group, "u": [auditor_id] }))
        .await;
    assert_eq!(r.data()["addGroupMembers"]["userErrors"], json!([]));
    let auditor = app.token("acme", "auditor@acme.example", &[]).await;
    let r = app
        .graphql(
            &auditor,
            "{ auditEvents(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(r.data()["auditEvents"]["totalCount"].as_i64() > Some(0));

    let r = app
        .graphql(&acme.token, DELETE, json!({ "g": group }))
        .await;
    assert_eq!(r.data()["deleteGroup"]["deletedGroupId"], group.as_str());
    assert!(
        refused_soon(&app, &auditor).await,
        "the members' tokens carried the group's roles"
    );
    let pool = app.admin_pool().await;
    let (grants, members, groups): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from role_grants where group_id is not null),
                (select count(*) from group_members),
                (select count(*) from groups)",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!((grants, members, groups), (0, 0, 0));
    let fresh = app.token("acme", "auditor@acme.example", &[]).await;
    let r = app
        .graphql(
            &fresh,
            "{ auditEvents(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    let r = app
        .graphql(&acme.token, DELETE, json!({ "g": group }))
        .await;
    assert_eq!(r.error_code(), Some("NOT_FOUND"), "deleted once");
    let deleted: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'group.delete' and details->>'grantsRemoved' = '1'",
    )
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(deleted, 1);
}

#[tokio::test]
async fn only_an_owner_changes_who_holds_the_owner_role_through_a_group() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let admin = app
        .token("acme", "admin@acme.example", &role(Role::Admin))
        .await;
    let admin_id = user_id(&app, &acme.token, "admin@acme.example").await;
    let owner_id = user_id(&app, &acme.token, "owner@acme.example").await;
    let owners = create_group(&app, &admin, "Owners").await;
    let r = app
        .graphql(&admin, GRANT, json!({ "g": owners, "r": "OWNER" }))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    let r = app
        .graphql(&acme.token, GRANT, json!({ "g": owners, "r": "OWNER" }))
        .await;
    assert_eq!(r.data()["grantRole"]["userErrors"], json!([]));
    // an admin may not make themselves an owner, nor unmake one, this way
    for (query, vars) in [
        (ADD, json!({ "g": owners, "u": [admin_id] })),
        (REMOVE, json!({ "g": owners, "u": [owner_id] })),
        (DELETE, json!({ "g": owners })),
    ] {
        let r = app.graphql(&admin, query, vars).await;
        assert_eq!(r.error_code(), Some("FORBIDDEN"), "{}", r.body);
    }
    let r = app
        .graphql(&acme.token, ADD, json!({ "g": owners, "u": [owner_id] }))
        .await;
    assert_eq!(r.data()["addGroupMembers"]["userErrors"], json!([]));

    // the group's grant left as the tenant's last owner grant stays
    let owner = app.token("acme", "owner@acme.example", &[]).await;
    let r = app
        .graphql(
            &owner,
            "{ viewer { user { roles { id role groupName } } } }",
            json!({}),
        )
        .await;
    let direct = r.data()["viewer"]["user"]["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|g| g["role"] == "OWNER" && g["groupName"].is_null())
        .map(|g| text(&g["id"], "grant id"))
        .expect("the direct owner grant");
    let r = app
        .graphql(
            &owner,
            "mutation($g: ID!) { revokeRole(input: { grantId: $g }) { userErrors { code } } }",
            json!({ "g": direct }),
        )
        .await;
    assert_eq!(r.data()["revokeRole"]["userErrors"], json!([]));
    let owner = app.token("acme", "owner@acme.example", &[]).await;
    let r = app.graphql(&owner, DELETE, json!({ "g": owners })).await;
    assert_eq!(
        first_error(&r, "deleteGroup"),
        ("input.groupId".to_owned(), "CONFLICT".to_owned())
    );
    let pool = app.admin_pool().await;
    let left: i64 =
        sqlx::query_scalar("select count(*) from role_grants where group_id is not null")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(left, 1);
}
