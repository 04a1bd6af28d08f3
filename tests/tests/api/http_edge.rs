//! The HTTP edge: bad input gets a clear error with the right status and
//! code, and never internal text.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use prep_tests::TestApp;
use serde_json::{json, Value};

fn post(body: impl Into<Body>, token: Option<&str>, content_type: &str) -> Request<Body> {
    let mut r = Request::post("/graphql").header(header::CONTENT_TYPE, content_type);
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    r.body(body.into()).expect("request")
}

fn code(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).expect("json body");
    v["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::new().await;
    let (s, _, _) = app
        .send(Request::get("/healthz").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, body) = app
        .send(Request::get("/readyz").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let t = app.tenant("acme").await;
    app.graphql(&t.token, "{ locations { totalCount } }", json!({}))
        .await;
    let (s, headers, body) = app
        .send(Request::get("/metrics").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .expect("ct")
        .starts_with("text/plain"));
    let text = String::from_utf8(body).expect("utf8");
    assert!(
        text.contains(
            "prep_http_requests_total{route=\"/graphql\",method=\"POST\",status=\"200\"} "
        ),
        "{text}"
    );
    assert!(text.contains("prep_graphql_statements_per_operation_count 1"));
    assert!(
        !text.contains("acme") && !text.contains(&t.id.to_string()),
        "metrics must not carry tenant identity"
    );
    let (s, headers, _) = app
        .send(Request::get("/nope").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn authentication_is_required_and_checked() {
    let app = TestApp::new().await;
    let q = json!({ "query": "{ viewer { tenant { slug } } }" }).to_string();
    let (s, h, body) = app.send(post(q.clone(), None, "application/json")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(h.contains_key(header::WWW_AUTHENTICATE));
    assert_eq!(code(&body), "UNAUTHENTICATED");
    for bad in ["nonsense", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", ""] {
        let (s, _, body) = app
            .send(post(q.clone(), Some(bad), "application/json"))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(code(&body), "UNAUTHENTICATED");
    }
    // a token signed by another gateway's key
    let other = TestApp::new().await;
    let foreign = other.tenant("acme").await;
    let (s, _, _) = app
        .send(post(q, Some(&foreign.token), "application/json"))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_requests_get_specific_errors() {
    let app = TestApp::new().await;
    let t = app.tenant("acme").await;
    let tok = Some(t.token.as_str());
    let (s, _, body) = app.send(post("{not json", tok, "application/json")).await;
    assert_eq!(
        (s, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST")
    );
    let (s, _, body) = app
        .send(post(
            r#"{"query":"{ viewer { user { id } } }"}"#,
            tok,
            "text/plain",
        ))
        .await;
    assert_eq!(
        (s, code(&body).as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
    );
    let (s, _, body) = app
        .send(post(
            r#"[{"query":"{ viewer { user { id } } }"}]"#,
            tok,
            "application/json",
        ))
        .await;
    assert_eq!(
        (s, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST")
    );
    let big =
        json!({ "query": format!("{{ viewer {{ user {{ id }} }} }} #{}", "x".repeat(70 * 1024)) })
            .to_string();
    let (s, _, body) = app.send(post(big, tok, "application/json")).await;
    assert_eq!(
        (s, code(&body).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
    );
    let (s, h, _) = app
        .send(
            Request::get("/graphql?query=%7Bviewer%7Bid%7D%7D")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(h[header::ALLOW], "POST");
}

#[tokio::test]
async fn graphql_errors_carry_codes_and_spec_statuses() {
    let app = TestApp::new().await;
    let t = app.tenant("acme").await;
    // syntax error
    let r = app.graphql(&t.token, "{ locations { ", json!({})).await;
    assert_eq!(r.error_code(), Some("GRAPHQL_PARSE_FAILED"));
    assert_eq!(r.status, StatusCode::OK, "plain JSON clients get 200");
    let req = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/graphql-response+json")
        .header(header::AUTHORIZATION, format!("Bearer {}", t.token))
        .body(Body::from(json!({ "query": "{ locations { " }).to_string()))
        .expect("req");
    let (s, h, body) = app.send(req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(h[header::CONTENT_TYPE]
        .to_str()
        .expect("ct")
        .starts_with("application/graphql-response+json"));
    assert_eq!(code(&body), "GRAPHQL_PARSE_FAILED");
    // unknown field
    let r = app
        .graphql(
            &t.token,
            "{ locations { nodes { secretColumn } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    // wrong variable type
    let r = app
        .graphql(
            &t.token,
            "query($n: Int) { locations(first: $n) { totalCount } }",
            json!({ "n": "many" }),
        )
        .await;
    assert!(r.error_code().is_some(), "{}", r.body);
    assert!(r.body["errors"][0]["message"]
        .as_str()
        .expect("msg")
        .contains("n"));
    // invalid ids and arguments
    let r = app
        .graphql(
            &t.token,
            r#"{ location(id: "not-an-id") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
    let r = app
        .graphql(
            &t.token,
            "{ locations(first: 1000) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
    let r = app
        .graphql(
            &t.token,
            r#"{ locations(after: "garbage") { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"));
    // too deep
    let deep = format!(
        "{{ {} }}",
        "node(id: \"x\") { ... on Location { employees { nodes { location {".repeat(4)
            + &"} } } }".repeat(4)
    );
    let r = app.graphql(&t.token, &deep, json!({})).await;
    assert!(r.error_code().is_some());
    // nothing internal leaks anywhere
    {
        let body = r.body.to_string();
        assert!(!body.contains("sqlx") && !body.contains("SELECT") && !body.contains("postgres"));
    }
}
