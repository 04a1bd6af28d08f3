//! Admin GraphQL for identity: SSO connections (secret write-only, checked
//! input, audited, tenant-sealed) and user deactivation; and bad input at
//! the sign-in endpoints.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use prep_auth::{Grant, Role};
use prep_tests::oidc::{IdentityProvider, TestUser};
use prep_tests::TestApp;
use serde_json::{json, Value};

const CREATE: &str = r#"
mutation($input: SsoConnectionInput!) {
  createSsoConnection(input: $input) {
    connection { id name issuer clientId scopes provisioning enabled roleMappings { group role } domains { domain } }
    userErrors { field code message }
  }
}"#;

fn input(issuer: &str) -> Value {
    json!({
        "name": "Acme Okta",
        "issuer": issuer,
        "clientId": "prep-acme",
        "clientSecret": "s3cret-never-shown",
        "scopes": ["email", "profile", "groups"],
        "roleMappings": [{ "group": "kitchen-admins", "role": "ADMIN" }],
        "provisioning": "JIT"
    })
}

fn role(role: Role) -> Vec<Grant> {
    vec![Grant {
        role,
        location: None,
    }]
}

#[tokio::test]
async fn admins_manage_sso_connections_and_secrets_never_come_back() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let rival = app.tenant("rival").await;
    let idp = IdentityProvider::start(
        "prep-acme",
        "s3cret-never-shown",
        "http://127.0.0.1:8080/auth/callback",
        "http://127.0.0.1:8080/auth/logged-out",
        &[TestUser {
            login: "alice".into(),
            email: "alice@acme.test".into(),
            name: "Alice".into(),
            groups: vec![],
        }],
    )
    .await;

    // bad input: every problem reported by field, nothing created
    let mut bad = input("ftp://idp.example");
    bad["clientSecret"] = Value::Null;
    bad["scopes"] = json!(["not a scope"]);
    let r = app
        .graphql(&acme.token, CREATE, json!({ "input": bad }))
        .await;
    let errors = &r.data()["createSsoConnection"]["userErrors"];
    let fields: Vec<String> = errors
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            e["field"]
                .as_array()
                .expect("path")
                .iter()
                .map(|s| s.as_str().expect("s"))
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect();
    assert_eq!(
        fields,
        ["input.issuer", "input.clientSecret", "input.scopes.0"],
        "{errors}"
    );

    // a compliance manager may not touch SSO
    let cm = app
        .token("acme", "cm@acme.example", &role(Role::ComplianceManager))
        .await;
    let r = app
        .graphql(&cm, CREATE, json!({ "input": input(&idp.issuer()) }))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));

    let r = app
        .graphql(
            &acme.token,
            CREATE,
            json!({ "input": input(&idp.issuer()) }),
        )
        .await;
    let created = &r.data()["createSsoConnection"];
    assert_eq!(created["userErrors"], json!([]), "{}", r.body);
    assert!(
        !r.body.to_string().contains("s3cret"),
        "the secret is write-only"
    );
    let id = created["connection"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created["connection"]["scopes"],
        json!(["openid", "email", "profile", "groups"])
    );

    let r = app
        .graphql(
            &acme.token,
            "mutation($id: ID!) { testSsoConnection(id: $id) { ok message } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r.data()["testSsoConnection"]["ok"], true, "{}", r.body);

    let r = app
        .graphql(
            &acme.token,
            "mutation($c: ID!) { addSsoDomain(input: {connectionId: $c, domain: \"Acme.TEST\"}) { domain { domain verified verificationToken } userErrors { field } } }",
            json!({ "c": id }),
        )
        .await;
    let domain = &r.data()["addSsoDomain"]["domain"];
    assert_eq!(domain["domain"], "acme.test");
    assert_eq!(
        domain["verified"], false,
        "claimed domains route nothing until verified"
    );
    assert!(domain["verificationToken"]
        .as_str()
        .expect("token")
        .starts_with("prep-verify-"));
    // unverified: sign-in by that domain finds no connection
    let (status, _, _) = app
        .send(
            Request::get("/auth/login?email=alice@acme.test")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // update without a secret keeps it; the update is audited
    let mut update = input(&idp.issuer());
    update["clientSecret"] = Value::Null;
    update["enabled"] = json!(false);
    let r = app
        .graphql(
            &acme.token,
            "mutation($id: ID!, $input: SsoConnectionInput!) { updateSsoConnection(id: $id, input: $input) { connection { enabled } userErrors { field } } }",
            json!({ "id": id, "input": update }),
        )
        .await;
    assert_eq!(
        r.data()["updateSsoConnection"]["connection"]["enabled"],
        false,
        "{}",
        r.body
    );

    // the rival tenant sees none of it and cannot touch it
    let r = app
        .graphql(&rival.token, "{ ssoConnections { id } }", json!({}))
        .await;
    assert_eq!(r.data()["ssoConnections"], json!([]));
    let r = app
        .graphql(
            &rival.token,
            "mutation($id: ID!, $input: SsoConnectionInput!) { updateSsoConnection(id: $id, input: $input) { connection { id } } }",
            json!({ "id": id, "input": input("https://evil.example") }),
        )
        .await;
    assert_eq!(r.error_code(), Some("NOT_FOUND"));
    let r = app
        .graphql(
            &rival.token,
            "mutation($id: ID!) { testSsoConnection(id: $id) { ok } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r.error_code(), Some("NOT_FOUND"));

    let admin = app.admin_pool().await;
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where tenant_id = $1 and action like 'sso.%' order by occurred_at",
    )
    .bind(acme.id.as_uuid())
    .fetch_all(&admin)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        [
            "sso.connection.create",
            "sso.connection.test",
            "sso.domain.add",
            "sso.connection.update"
        ]
    );
    let (issuer, enabled): (String, bool) =
        sqlx::query_as("select issuer, enabled from sso_connections")
            .fetch_one(&admin)
            .await
            .expect("row");
    assert_eq!((issuer, enabled), (idp.issuer(), false));
    let sealed: Vec<u8> = sqlx::query_scalar("select client_secret_sealed from sso_connections")
        .fetch_one(&admin)
        .await
        .expect("row");
    assert!(
        !String::from_utf8_lossy(&sealed).contains("s3cret"),
        "sealed at rest"
    );
}

#[tokio::test]
async fn admins_deactivate_users_and_their_tokens_die_with_them() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let rival = app.tenant("rival").await;
    let cook = app
        .token("acme", "cook@acme.example", &role(Role::Staff))
        .await;
    let r = app
        .graphql(
            &acme.token,
            "{ members(first: 10) { nodes { id email } } }",
            json!({}),
        )
        .await;
    let cook_id = r.data()["members"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["email"] == "cook@acme.example")
        .expect("cook")["id"]
        .clone();
    let owner_id = r.data()["members"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["email"] == "owner@acme.example")
        .expect("owner")["id"]
        .clone();
    const SET: &str = "mutation($u: ID!, $a: Boolean!) { setUserActive(input: {userId: $u, active: $a}) { user { active } userErrors { code } } }";

    let r = app
        .graphql(&rival.token, SET, json!({ "u": cook_id, "a": false }))
        .await;
    assert_eq!(
        r.error_code(),
        Some("NOT_FOUND"),
        "another tenant's user is not found"
    );
    let r = app
        .graphql(&cook, SET, json!({ "u": cook_id, "a": false }))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"));
    let r = app
        .graphql(&acme.token, SET, json!({ "u": owner_id, "a": false }))
        .await;
    assert_eq!(
        r.data()["setUserActive"]["userErrors"][0]["code"],
        "CONFLICT",
        "not yourself"
    );

    assert_eq!(
        app.graphql(&cook, "{ viewer { tenant { slug } } }", json!({}))
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .graphql(&acme.token, SET, json!({ "u": cook_id, "a": false }))
        .await;
    assert_eq!(
        r.data()["setUserActive"]["user"]["active"],
        false,
        "{}",
        r.body
    );
    let mut refused = false;
    for _ in 0..40 {
        if app
            .graphql(&cook, "{ viewer { tenant { slug } } }", json!({}))
            .await
            .status
            == StatusCode::UNAUTHORIZED
        {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refused, "the deactivated user's token stops working");
}

#[tokio::test]
async fn sign_in_endpoints_answer_bad_input_clearly() {
    let app = TestApp::new().await;
    let get = |path: &str| {
        Request::get(path.to_owned())
            .body(Body::empty())
            .expect("req")
    };
    let (status, headers, body) = app.send(get("/auth/login")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .expect("ct")
        .starts_with("text/html"));
    assert!(String::from_utf8_lossy(&body).contains("name=\"email\""));

    for (path, want) in [
        ("/auth/login?email=not-an-address", StatusCode::BAD_REQUEST),
        (
            "/auth/login?email=someone@unknown.example",
            StatusCode::NOT_FOUND,
        ),
        (
            "/auth/login?tenant=No%20Such%20Tenant",
            StatusCode::BAD_REQUEST,
        ),
        ("/auth/login?tenant=nosuch", StatusCode::NOT_FOUND),
        ("/auth/callback", StatusCode::BAD_REQUEST),
        ("/auth/callback?code=x&state=y", StatusCode::BAD_REQUEST),
        (
            "/auth/callback?error=access_denied&state=y",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, _, body) = app.send(get(path)).await;
        let page = String::from_utf8_lossy(&body);
        assert_eq!(status, want, "{path}: {page}");
        assert!(
            page.contains("<h1>") && !page.contains("<script"),
            "{path}: an HTML page"
        );
    }
    let forged = Request::get("/auth/callback?code=x&state=y")
        .header(header::COOKIE, "__Host-prep_login=AAAA")
        .body(Body::empty())
        .expect("req");
    assert_eq!(app.send(forged).await.0, StatusCode::BAD_REQUEST);

    for cookie in [
        "__Host-prep_session=garbage",
        "__Host-prep_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "__Host-prep_session=a; __Host-prep_session=b",
    ] {
        let req = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, cookie)
            .body(Body::from(
                json!({ "query": "{ viewer { tenant { slug } } }" }).to_string(),
            ))
            .expect("req");
        let (status, _, body) = app.send(req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{cookie}");
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        let (status, _, _) = app
            .send(
                Request::get("/auth/session")
                    .header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{cookie}");
    }
}
