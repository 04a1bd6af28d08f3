//! The OAuth2 client credentials grant for connectors, driven by a real
//! OAuth client library (the `oauth2` crate) over HTTP, and its errors.

use std::net::SocketAddr;

use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use prep_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn a_client_gets_a_token_with_the_scopes_it_asked_for() {
    let app = TestApp::new().await;
    let t = app.seeded_tenant("acme").await;
    let c = app
        .connector(
            &t,
            &["employees:write", "credentials:read", "locations:read"],
        )
        .await;
    let addr: SocketAddr = prep_tests::serve(app.router.clone()).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let client = BasicClient::new(ClientId::new(c.client_id.clone()))
            .set_client_secret(ClientSecret::new(c.api_key.clone()))
            .set_auth_type(auth.clone())
            .set_token_uri(TokenUrl::new(format!("http://{addr}/oauth/token")).expect("url"));
        let token = client
            .exchange_client_credentials()
            .add_scope(Scope::new("employees:read".into()))
            .add_scope(Scope::new("credentials:read".into()))
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("{auth:?}: {e:?}"));
        let scopes: Vec<String> = token
            .scopes()
            .expect("scopes")
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(scopes, ["employees:read", "credentials:read"]);
        let secs = token.expires_in().expect("expires_in").as_secs();
        assert!((60..=900).contains(&secs));
        let bearer = token.access_token().secret().clone();

        // the token carries exactly the scopes asked for
        let r = app
            .graphql(
                &bearer,
                "{ viewer { connector { scopes } } employees(first: 1) { totalCount } }",
                json!({}),
            )
            .await;
        assert_eq!(
            r.data()["viewer"]["connector"]["scopes"],
            json!(["employees:read", "credentials:read"])
        );
        let r = app
            .graphql(&bearer, "{ locations(first: 1) { totalCount } }", json!({}))
            .await;
        assert_eq!(
            r.error_code(),
            Some("FORBIDDEN"),
            "granted to the client, not asked for"
        );
        let r = app
            .graphql(
                &bearer,
                r#"mutation { terminateEmployees(input: { employees: [{ externalId: "HRIS-000001", terminatedOn: "2026-01-01" }] }) { updated } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            r.body["errors"][0]["extensions"]["requiredScope"],
            "employees:write"
        );
    }
    // with no scope asked, the token carries every granted scope
    let r = app
        .oauth_token(
            &[("grant_type", "client_credentials")],
            Some((&c.client_id, &c.api_key)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["scope"],
        "locations:read employees:write credentials:read"
    );
    assert_eq!(
        r.headers.get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let bearer = r.body["access_token"].as_str().expect("token").to_owned();
    assert_eq!(
        app.graphql(&bearer, "{ locations(first: 1) { totalCount } }", json!({}))
            .await
            .status,
        200
    );

    // revoking the connector kills its tokens at once, as its keys
    app.graphql(
        &t.token,
        "mutation($id: ID!) { revokeConnector(input: { id: $id }) { connector { id } } }",
        json!({ "id": c.id }),
    )
    .await
    .data();
    let r = app
        .graphql(&bearer, "{ locations(first: 1) { totalCount } }", json!({}))
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn bad_token_requests_get_rfc_6749_errors() {
    let app = TestApp::new().await;
    let t = app.tenant("acme").await;
    let c = app.connector(&t, &["employees:read"]).await;
    let other = app.connector(&t, &["locations:read"]).await;
    type Case<'a> = (
        Vec<(&'a str, &'a str)>,
        Option<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            vec![("grant_type", "password")],
            Some((&c.client_id, &c.api_key)),
            400,
            "unsupported_grant_type",
        ),
        (
            vec![],
            Some((&c.client_id, &c.api_key)),
            400,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("scope", "locations:read"),
            ],
            Some((&c.client_id, &c.api_key)),
            400,
            "invalid_scope",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("scope", "members:write"),
            ],
            Some((&c.client_id, &c.api_key)),
            400,
            "invalid_scope",
        ),
        (
            vec![("grant_type", "client_credentials")],
            Some((&c.client_id, "prep_live_nope")),
            401,
            "invalid_client",
        ),
        // another connector's key under this client id
        (
            vec![("grant_type", "client_credentials")],
            Some((&c.client_id, &other.api_key)),
            401,
            "invalid_client",
        ),
        (
            vec![("grant_type", "client_credentials")],
            Some(("not-a-uuid", &c.api_key)),
            401,
            "invalid_client",
        ),
        (
            vec![("grant_type", "client_credentials")],
            None,
            400,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &c.client_id),
                ("client_secret", &c.api_key),
            ],
            Some((&c.client_id, &c.api_key)),
            400,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
            Some((&c.client_id, &c.api_key)),
            400,
            "invalid_request",
        ),
    ];
    for (form, basic, status, error) in cases {
        let r = app.oauth_token(&form, basic).await;
        assert_eq!(r.status, status, "{form:?}: {}", r.body);
        assert_eq!(r.body["error"], error, "{form:?}");
        assert!(r.body["error_description"].is_string());
        assert!(!r.body.to_string().contains(&c.api_key[50..]));
    }
    // the wrong content type, and GET
    let (status, _, _) = app
        .send(
            axum::http::Request::post("/oauth/token")
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{}"))
                .expect("req"),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _, _) = app
        .send(
            axum::http::Request::get("/oauth/token")
                .body(axum::body::Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(status, 405);
    // discovery metadata
    let (status, _, body) = app
        .send(
            axum::http::Request::get("/.well-known/oauth-authorization-server")
                .body(axum::body::Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(status, 200);
    let meta: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(meta["grant_types_supported"], json!(["client_credentials"]));
    // refused client authentications are audited in the key's tenant
    assert!(!app.audit_actions(&t, "connector.denied").await.is_empty());
}
