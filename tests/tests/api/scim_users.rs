//! SCIM Users as Okta and Entra ID really send them: create with
//! `password` and `"groups":[]`, Okta's PUT and `active=false`, Entra's
//! capitalised ops, string booleans, attribute-path keys, wrapped manager;
//! filters translated to SQL; paging; ETags; deactivation and deletion
//! reaching sessions, tokens and the audit trail.

use axum::http::{Method, StatusCode};
use prep_tests::scim::q;
use prep_tests::TestApp;
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PREP: &str = "urn:prep:params:scim:schemas:extension:prep:2.0:User";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn names(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|r| r["userName"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn okta_lifecycle_create_find_update_deactivate() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let idp = app.idp(&acme).await;
    let created = idp
        .call(
            Method::POST,
            "/Users",
            Some(json!({
                "schemas": [USER],
                "userName": "Ann.Lee@acme.example",
                "name": { "givenName": "Ann", "familyName": "Lee" },
                "emails": [{ "primary": true, "value": "ann.lee@acme.example", "type": "work" }],
                "displayName": "Ann Lee",
                "locale": "en-US",
                "externalId": "00u1abc",
                "groups": [],
                "password": "Sup3r-secret!",
                "active": true,
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert!(created.body.get("password").is_none());
    assert_eq!(created.body["meta"]["resourceType"], "User");
    assert_eq!(
        created.headers["location"].to_str().ok(),
        created.body["meta"]["location"].as_str()
    );
    assert!(created.etag().starts_with("W/\""));
    assert_eq!(
        created.headers["content-type"], "application/scim+json",
        "SCIM media type"
    );

    // Okta looks users up by userName before creating them, in any case.
    let found = idp
        .get(&format!(
            "/Users?filter={}",
            q(r#"userName eq "ann.lee@ACME.example""#)
        ))
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());

    // A duplicate userName (other case) or externalId is a 409 uniqueness.
    for body in [
        json!({ "schemas": [USER], "userName": "ANN.LEE@acme.example" }),
        json!({ "schemas": [USER], "userName": "other@acme.example", "externalId": "00u1abc" }),
    ] {
        let dup = idp.call(Method::POST, "/Users", Some(body)).await;
        assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
        assert_eq!(dup.scim_type(), Some("uniqueness"));
        assert_eq!(dup.body["status"], "409", "status is a string");
    }

    // The user can use Prep: a token minted for them works until Okta
    // deactivates them (PUT, then PATCH active=false).
    let token = app.token("acme", "ann.lee@acme.example", &[]).await;
    assert!(app
        .graphql(&token, "{ viewer { tenant { slug } } }", json!({}))
        .await
        .body
        .get("errors")
        .is_none());
    let mut full = created.body.clone();
    full["title"] = json!("Kitchen Manager");
    let put = idp
        .call(Method::PUT, &format!("/Users/{id}"), Some(full))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["title"], "Kitchen Manager");
    assert_ne!(put.etag(), created.etag(), "a write moves the version");

    let off = idp
        .call(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "value": { "active": false } }] })),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["active"], false);
    // a later PUT without `active` keeps the user deactivated
    let mut without_active = off.body.clone();
    without_active.as_object_mut().map(|o| o.remove("active"));
    without_active["title"] = json!("Former Kitchen Manager");
    let put = idp
        .call(Method::PUT, &format!("/Users/{id}"), Some(without_active))
        .await;
    assert_eq!(
        (put.status, put.body["active"].clone()),
        (StatusCode::OK, json!(false)),
        "{}",
        put.body
    );
    assert!(
        app.refused_soon(&token).await,
        "deactivation retires tokens at once"
    );

    let admin = app.admin_pool().await;
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where actor_type = 'scim' and target_id = $1::uuid order by occurred_at, action",
    )
    .bind(&id)
    .fetch_all(&admin)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        [
            "user.provision",
            "user.update",
            "user.deactivate",
            "user.update"
        ]
    );
}

/// The tenant's own audit trail shows provisioning by the SCIM token.
#[tokio::test]
async fn provisioning_shows_in_the_audit_trail_as_the_scim_token() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let idp = app.idp(&acme).await;
    let id = idp.create_user("audited@acme.example").await;
    let r = app
        .graphql(
            &acme.token,
            "{ auditEvents(first: 5) { nodes { actorType actorId action targetType targetId } } scimTokens { id } }",
            json!({}),
        )
        .await;
    let data = r.data();
    let event = data["auditEvents"]["nodes"]
        .as_array()
        .and_then(|n| n.iter().find(|e| e["action"] == "user.provision"))
        .cloned()
        .expect("a user.provision event");
    assert_eq!(event["actorType"], "scim");
    assert_eq!(event["actorId"], data["scimTokens"][0]["id"]);
    let target = prep_resolvers::ids::encode(
        prep_resolvers::ids::NodeType::User,
        id.parse().expect("uuid"),
    );
    assert_eq!(
        (event["targetType"].clone(), event["targetId"].clone()),
        (json!("User"), json!(target.0))
    );
}

#[tokio::test]
async fn entra_patch_shapes_apply_atomically() {
    let app = TestApp::new().await;
    let acme = app.seeded_tenant("acme").await;
    let idp = app.idp(&acme).await;
    let id = idp.create_user("cook@acme.example").await;
    let manager = idp.create_user("boss@acme.example").await;
    let store: String =
        sqlx::query_scalar("select store_number from locations order by store_number limit 1")
            .fetch_one(&app.admin_pool().await)
            .await
            .expect("a seeded location");

    let ops = json!({
        "schemas": [PATCH],
        "Operations": [
            { "op": "Replace", "path": "active", "value": "False" },
            { "op": "Add", "value": {
                "name.givenName": "Maria",
                "displayName": "Maria Cook",
                format!("{ENTERPRISE}:department"): "Kitchen",
            } },
            { "op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": [{ "value": manager }] },
            { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "maria@acme.example" },
            { "op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100" },
            { "op": "Add", "path": format!("{PREP}:locations"), "value": [store] },
        ]
    });
    let r = idp
        .call(Method::PATCH, &format!("/Users/{id}"), Some(ops))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let u = &r.body;
    assert_eq!(u["active"], false);
    assert_eq!(u["name"]["givenName"], "Maria");
    assert_eq!(u["name"]["familyName"], "User");
    assert_eq!(u[ENTERPRISE]["department"], "Kitchen");
    assert_eq!(u[ENTERPRISE]["manager"]["value"], manager.as_str());
    assert_eq!(u["emails"][0]["value"], "maria@acme.example");
    assert_eq!(u["phoneNumbers"][0]["type"], "mobile");
    assert_eq!(u[PREP]["locations"], json!([store]));

    // One bad operation and nothing of the request applies.
    let before = idp.get(&format!("/Users/{id}")).await;
    let bad = idp
        .call(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({ "schemas": [PATCH], "Operations": [
                { "op": "replace", "path": "displayName", "value": "Changed" },
                { "op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z" },
            ] })),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert_eq!(bad.scim_type(), Some("mutability"));
    let after = idp.get(&format!("/Users/{id}")).await;
    assert_eq!(before.body, after.body, "nothing changed");

    // Unknown store numbers are refused by name, and change nothing either.
    let unknown = idp
        .call(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({ "schemas": [PATCH], "Operations": [
                { "op": "replace", "path": format!("{PREP}:locations"), "value": ["NOPE-1"] },
            ] })),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.scim_type(), Some("invalidValue"));
    assert!(unknown.body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("NOPE-1"));
}

#[tokio::test]
async fn filters_sort_and_page_in_sql() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let idp = app.idp(&acme).await;
    for (user, title, active, dept) in [
        ("alice@acme.example", "Chef", true, "Kitchen"),
        ("bob@acme.example", "Line Cook", true, "Kitchen"),
        ("carol@acme.example", "Manager", false, "Ops"),
        ("dave@other.example", "Line Cook", true, "Ops"),
    ] {
        let r = idp
            .call(
                Method::POST,
                "/Users",
                Some(json!({
                    "schemas": [USER, ENTERPRISE],
                    "userName": user,
                    "title": title,
                    "active": active,
                    "emails": [{ "value": user, "type": "work", "primary": true }],
                    ENTERPRISE: { "department": dept },
                })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "BOB@acme.example""#, &["bob@acme.example"]),
        (r#"userName sw "a""#, &["alice@acme.example"]),
        (r#"userName ew "other.example""#, &["dave@other.example"]),
        (r#"userName co "ro""#, &["carol@acme.example"]),
        (
            r#"title eq "line cook" and active eq true"#,
            &["bob@acme.example", "dave@other.example"],
        ),
        (r#"not (active eq true)"#, &["carol@acme.example"]),
        (
            r#"emails[type eq "work" and value co "@acme"]"#,
            &[
                "alice@acme.example",
                "bob@acme.example",
                "carol@acme.example",
            ],
        ),
        (
            r#"emails.value ew "other.example""#,
            &["dave@other.example"],
        ),
        (
            &format!(r#"{ENTERPRISE}:department eq "Ops" or userName eq "alice@acme.example""#),
            &[
                "alice@acme.example",
                "carol@acme.example",
                "dave@other.example",
            ],
        ),
        (
            r#"(title eq "Chef" or title eq "Manager") and userName pr"#,
            &["alice@acme.example", "carol@acme.example"],
        ),
        // the tenant's owner (not provisioned by SCIM) is a user like any other
        (
            r#"userName gt "bob@acme.example""#,
            &[
                "carol@acme.example",
                "dave@other.example",
                "owner@acme.example",
            ],
        ),
        (
            r#"meta.created gt "2000-01-01T00:00:00Z""#,
            &[
                "alice@acme.example",
                "bob@acme.example",
                "carol@acme.example",
                "dave@other.example",
                "owner@acme.example",
            ],
        ),
        (r#"userName eq "7c9e6679-7425-40de-944b-e07fc1f90ae7""#, &[]),
        (r#"id eq "not-a-uuid""#, &[]),
    ];
    for (filter, want) in cases {
        let r = idp
            .get(&format!("/Users?sortBy=userName&filter={}", q(filter)))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.body);
        assert_eq!(names(&r.body), *want, "{filter}");
        assert_eq!(r.body["totalResults"], want.len(), "{filter}");
    }
    for bad in [
        "USER@EXAMPLE.COM",
        "shoeSize eq \"9\"",
        "userName eq",
        "active eq \"yes\"",
        "meta.created gt \"soon\"",
    ] {
        let r = idp.get(&format!("/Users?filter={}", q(bad))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
        assert_eq!(r.scim_type(), Some("invalidFilter"), "{bad}");
    }

    // Pages are 1-based and stable; totals are integers.
    let mut seen = Vec::new();
    for start in [1, 3, 5] {
        let r = idp
            .get(&format!(
                "/Users?sortBy=userName&sortOrder=descending&startIndex={start}&count=2"
            ))
            .await;
        assert_eq!(r.body["totalResults"], 5);
        assert_eq!(r.body["itemsPerPage"], if start == 5 { 1 } else { 2 });
        assert_eq!(r.body["startIndex"], start);
        seen.extend(names(&r.body));
    }
    assert_eq!(
        seen,
        [
            "owner@acme.example",
            "dave@other.example",
            "carol@acme.example",
            "bob@acme.example",
            "alice@acme.example"
        ]
    );
    let only_total = idp.get("/Users?count=0").await;
    assert_eq!(
        (
            only_total.body["totalResults"].clone(),
            only_total.body["Resources"].clone()
        ),
        (json!(5), json!([]))
    );

    // Projection, and the same search by POST.
    let r = idp
        .get(&format!(
            "/Users?attributes=userName,emails.value&filter={}",
            q(r#"userName eq "alice@acme.example""#)
        ))
        .await;
    let alice = &r.body["Resources"][0];
    assert!(alice.get("title").is_none() && alice.get("id").is_some());
    assert_eq!(alice["emails"], json!([{ "value": "alice@acme.example" }]));
    let s = idp
        .call(
            Method::POST,
            "/Users/.search",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": "title eq \"Line Cook\"", "sortBy": "userName", "count": 1,
                "excludedAttributes": ["emails"],
            })),
        )
        .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    assert_eq!(
        (s.body["totalResults"].clone(), names(&s.body)),
        (json!(2), vec!["bob@acme.example".to_owned()])
    );
    assert!(s.body["Resources"][0].get("emails").is_none());
}

#[tokio::test]
async fn etags_guard_writes_and_delete_leaves_a_tombstone() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let idp = app.idp(&acme).await;
    let id = idp.create_user("temp@acme.example").await;
    let current = idp.get(&format!("/Users/{id}")).await;
    let patch = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "displayName", "value": "T" }] });
    let stale = idp
        .call_with(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(patch.clone()),
            &[("if-match", "W/\"1\"")],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    let fresh = idp
        .call_with(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(patch),
            &[("if-match", &current.etag())],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);

    let gone = idp
        .call(Method::DELETE, &format!("/Users/{id}"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        idp.get(&format!("/Users/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        idp.call(Method::DELETE, &format!("/Users/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The name is free again; the tombstone stays for the audit trail.
    idp.create_user("temp@acme.example").await;
    let admin = app.admin_pool().await;
    let (deleted, email): (bool, String) =
        sqlx::query_as("select deleted_at is not null, email from users where id = $1::uuid")
            .bind(&id)
            .fetch_one(&admin)
            .await
            .expect("tombstone");
    assert!(deleted);
    assert!(
        email.ends_with("@deleted.invalid"),
        "personal data is scrubbed"
    );
}
