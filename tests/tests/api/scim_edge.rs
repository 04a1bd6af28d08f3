//! The SCIM edge: the token decides the tenant (a second tenant can neither
//! read, change nor detect the first one's users and groups), token
//! rotation and revocation, discovery, and bad input answered with SCIM
//! errors that change nothing.

use axum::http::{Method, StatusCode};
use prep_tests::scim::q;
use prep_tests::TestApp;
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[tokio::test]
async fn another_tenant_cannot_read_change_or_detect() {
    let app = TestApp::new().await;
    let (acme, rival) = (app.tenant("acme").await, app.tenant("rival").await);
    let (a, b) = (app.idp(&acme).await, app.idp(&rival).await);
    let user = a.create_user("chef@acme.example").await;
    let group = a.create_group("Chefs", &[&user]).await;

    let missing = b.get(&format!("/Users/{}", uuid::Uuid::new_v4())).await;
    for path in [format!("/Users/{user}"), format!("/Groups/{group}")] {
        let r = b.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.body["scimType"], missing.body["scimType"]);
        let patch = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "displayName", "value": "x" }] });
        assert_eq!(
            b.call(Method::PATCH, &path, Some(patch)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            b.call(Method::DELETE, &path, None).await.status,
            StatusCode::NOT_FOUND
        );
    }
    let search = b
        .get(&format!(
            "/Users?filter={}",
            q(r#"userName eq "chef@acme.example""#)
        ))
        .await;
    assert_eq!(search.body["totalResults"], 0);
    let listed = b.get("/Users").await.body;
    assert_eq!(listed["totalResults"], 1, "only the rival's own owner");
    assert_eq!(listed["Resources"][0]["userName"], "owner@rival.example");
    assert_eq!(b.get("/Groups").await.body["totalResults"], 0);
    // The same names are free in the other tenant: no uniqueness oracle.
    b.create_user("chef@acme.example").await;
    b.create_group("Chefs", &[]).await;
    // Another tenant's user cannot be made a member.
    let r = b
        .call(
            Method::POST,
            "/Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Poached", "members": [{ "value": user }],
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let acme_user = a.get(&format!("/Users/{user}")).await;
    assert_eq!(acme_user.body["userName"], "chef@acme.example");
    assert_eq!(acme_user.body["groups"][0]["display"], "Chefs");
}

const ROTATE: &str = r#"mutation($id: ID!, $m: Int) { rotateScimToken(input: { id: $id, overlapMinutes: $m }) {
    secret scimToken { id active } userErrors { field message } } }"#;
const REVOKE: &str = r#"mutation($id: ID!) { revokeScimToken(input: { id: $id }) { scimToken { id active revokedAt } } }"#;
const LIST: &str = "{ scimTokens { id name active lastUsedAt replacedById } }";

#[tokio::test]
async fn tokens_rotate_with_overlap_and_revoke_at_once() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let idp = app.idp(&acme).await;
    assert_eq!(idp.get("/Users").await.status, StatusCode::OK);
    let listed = app.graphql(&acme.token, LIST, json!({})).await;
    let first = listed.data()["scimTokens"][0].clone();
    assert_eq!(first["active"], true);
    assert!(first["lastUsedAt"].is_string(), "use is recorded");

    let rotated = app
        .graphql(&acme.token, ROTATE, json!({ "id": first["id"], "m": 60 }))
        .await;
    let new_secret = rotated.data()["rotateScimToken"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_eq!(
        idp.get("/Users").await.status,
        StatusCode::OK,
        "old token works during the overlap"
    );
    let new = idp.with_token(&new_secret);
    assert_eq!(new.get("/Users").await.status, StatusCode::OK);

    let revoked = app
        .graphql(&acme.token, REVOKE, json!({ "id": first["id"] }))
        .await;
    assert_eq!(
        revoked.data()["revokeScimToken"]["scimToken"]["active"],
        false
    );
    let r = idp.get("/Users").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["status"], "401");
    assert!(r.headers.contains_key("www-authenticate"));

    // Rotation with no overlap ends the old token at once.
    let id = rotated.data()["rotateScimToken"]["scimToken"]["id"].clone();
    let again = app
        .graphql(&acme.token, ROTATE, json!({ "id": id, "m": 0 }))
        .await;
    assert!(again.data()["rotateScimToken"]["secret"].is_string());
    assert_eq!(new.get("/Users").await.status, StatusCode::UNAUTHORIZED);

    // Malformed, foreign-looking and gateway JWTs are refused the same way.
    for token in [
        "",
        "prep_scim_",
        "prep_scim_00000000000000000000000000000000AAAA",
        &acme.token,
        &new_secret.replace("prep_scim_", "prep_scam_"),
    ] {
        let r = idp.with_token(token).get("/Users").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{token}");
    }
    // A user without sso:write cannot mint SCIM tokens.
    let staff = app
        .token(
            "acme",
            "staff@acme.example",
            &[prep_auth::Grant {
                role: prep_auth::Role::Staff,
                location: None,
            }],
        )
        .await;
    let denied = app
        .graphql(
            &staff,
            r#"mutation { createScimToken(input: { name: "x" }) { secret } }"#,
            json!({}),
        )
        .await;
    assert_eq!(denied.error_code(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn discovery_describes_what_is_served() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let idp = app.idp(&acme).await;
    let spc = idp.get("/ServiceProviderConfig").await;
    assert_eq!(spc.status, StatusCode::OK);
    assert_eq!(
        (
            spc.body["patch"]["supported"].clone(),
            spc.body["bulk"]["supported"].clone()
        ),
        (json!(true), json!(false))
    );
    let types = idp.get("/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], 2);
    let schemas = idp.get("/Schemas").await;
    let ids: Vec<&str> = schemas.body["Resources"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"urn:prep:params:scim:schemas:extension:prep:2.0:User"),
        "{ids:?}"
    );
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    let user = idp.get(&format!("/Schemas/{USER}")).await;
    let user_name = user.body["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|a| a["name"] == "userName")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(
        (
            user_name["uniqueness"].clone(),
            user_name["caseExact"].clone()
        ),
        (json!("server"), json!(false))
    );
    for (method, path, status) in [
        (Method::POST, "/Schemas", StatusCode::METHOD_NOT_ALLOWED),
        (
            Method::DELETE,
            "/ServiceProviderConfig",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (Method::POST, "/Bulk", StatusCode::NOT_IMPLEMENTED),
        (Method::GET, "/Widgets", StatusCode::NOT_FOUND),
        (Method::PUT, "/Users", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let r = idp.call(method.clone(), path, None).await;
        assert_eq!(r.status, status, "{method} {path}");
        assert_eq!(
            r.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_scim_errors_and_changes_nothing() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let idp = app.idp(&acme).await;
    let id = idp.create_user("kept@acme.example").await;
    let before = idp.get(&format!("/Users/{id}")).await.body;
    let users_before = idp.get("/Users").await.body["totalResults"].clone();
    let raw = |body: String| {
        axum::http::Request::post("/scim/v2/Users")
            .header("authorization", format!("Bearer {}", idp.token))
            .header("content-type", "application/scim+json")
            .body(axum::body::Body::from(body))
            .expect("request")
    };
    let (status, _, body) = app.send(raw("{\"userName\": ".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("invalidSyntax"));
    let huge = format!(
        "{{\"schemas\":[\"{USER}\"],\"userName\":\"{}\"}}",
        "x".repeat(1_100_000)
    );
    let (status, _, _) = app.send(raw(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let cases: Vec<(Method, String, Value, &str)> = vec![
        (
            Method::POST,
            "/Users".into(),
            json!({ "schemas": [USER], "userName": "n@acme.example", "shoeSize": 9 }),
            "invalidValue",
        ),
        (
            Method::POST,
            "/Users".into(),
            json!({ "schemas": [USER] }),
            "invalidValue",
        ),
        (
            Method::POST,
            "/Users".into(),
            json!({ "userName": "no-schemas@acme.example" }),
            "invalidSyntax",
        ),
        (
            Method::POST,
            "/Users".into(),
            json!({ "schemas": [USER], "userName": "n@acme.example", "active": "maybe" }),
            "invalidValue",
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            json!({ "Operations": [{ "op": "replace", "path": "displayName", "value": "x" }] }),
            "invalidSyntax",
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            json!({ "schemas": [PATCH], "Operations": [] }),
            "invalidSyntax",
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "shoeSize", "value": 9 }] }),
            "invalidPath",
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "id", "value": "x" }] }),
            "mutability",
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@y.z" }] }),
            "noTarget",
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            json!({ "schemas": [PATCH], "Operations": [{ "op": "jump", "path": "displayName", "value": "x" }] }),
            "invalidSyntax",
        ),
        (
            Method::PUT,
            format!("/Users/{id}"),
            json!({ "schemas": [USER], "id": "someone-else", "userName": "kept@acme.example" }),
            "mutability",
        ),
    ];
    for (method, path, body, scim_type) in cases {
        let r = idp.call(method.clone(), &path, Some(body.clone())).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body}: {}",
            r.body
        );
        assert_eq!(
            r.scim_type(),
            Some(scim_type),
            "{method} {path} {body}: {}",
            r.body
        );
        assert_eq!(r.body["status"], "400");
    }
    assert_eq!(
        idp.get(&format!("/Users/{id}")).await.body,
        before,
        "nothing changed"
    );
    assert_eq!(
        idp.get("/Users").await.body["totalResults"],
        users_before,
        "nothing created"
    );
}

#[tokio::test]
async fn root_search_spans_users_and_groups() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let idp = app.idp(&acme).await;
    let r = idp
        .call(Method::POST, "/Users", Some(json!({ "schemas": [USER], "userName": "kim@acme.example", "displayName": "Kitchen Kim" })))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    idp.create_group("Kitchen Leads", &[]).await;
    idp.create_group("Front of House", &[]).await;
    let search = |filter: &str, start: i64| {
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": filter, "startIndex": start, "count": 1,
        })
    };
    let first = idp
        .call(
            Method::POST,
            "/.search",
            Some(search(r#"displayName sw "kitchen""#, 1)),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["totalResults"], 2);
    assert_eq!(first.body["Resources"][0]["userName"], "kim@acme.example");
    let second = idp
        .call(
            Method::POST,
            "/.search",
            Some(search(r#"displayName sw "kitchen""#, 2)),
        )
        .await;
    assert_eq!(second.body["Resources"][0]["displayName"], "Kitchen Leads");
    // userName exists only on users: groups simply do not match.
    let users_only = idp
        .call(
            Method::POST,
            "/.search",
            Some(search(r#"userName sw "kim""#, 1)),
        )
        .await;
    assert_eq!(users_only.body["totalResults"], 1);
    let bad = idp
        .call(Method::POST, "/.search", Some(search("shoeSize eq 9", 1)))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
