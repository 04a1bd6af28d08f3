//! A SCIM client over the gateway's router, as an IdP would call it.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::{TestApp, TestTenant};

const CREATE_TOKEN: &str = r#"mutation($n: String!) { createScimToken(input: { name: $n }) {
    secret scimUrl scimToken { id name active } userErrors { field message } } }"#;

/// What a SCIM endpoint answered.
#[derive(Debug)]
pub struct ScimResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The JSON body (`Null` when empty).
    pub body: Value,
}

impl ScimResponse {
    /// The `scimType` of an error body.
    pub fn scim_type(&self) -> Option<&str> {
        self.body["scimType"].as_str()
    }

    /// The `ETag` header.
    pub fn etag(&self) -> String {
        self.headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

/// An IdP holding one tenant's SCIM token.
pub struct Idp<'a> {
    app: &'a TestApp,
    /// The bearer token.
    pub token: String,
}

impl TestApp {
    /// Creates a SCIM token for `tenant` (as its owner) and an IdP using it.
    pub async fn idp<'a>(&'a self, tenant: &TestTenant) -> Idp<'a> {
        let r = self
            .graphql(&tenant.token, CREATE_TOKEN, json!({ "n": "Okta" }))
            .await;
        let token = r.data()["createScimToken"]["secret"]
            .as_str()
            .expect("a secret")
            .to_owned();
        Idp { app: self, token }
    }
}

impl TestApp {
    /// Whether `token` is refused within 2 s (revocations reach replicas by
    /// NOTIFY, a few milliseconds after the commit).
    pub async fn refused_soon(&self, token: &str) -> bool {
        for _ in 0..40 {
            let r = self
                .graphql(token, "{ viewer { tenant { slug } } }", json!({}))
                .await;
            if r.status == StatusCode::UNAUTHORIZED {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }
}

impl Idp<'_> {
    /// An IdP with another token (revoked, rotated, foreign).
    pub fn with_token(&self, token: &str) -> Idp<'_> {
        Idp {
            app: self.app,
            token: token.to_owned(),
        }
    }

    /// Sends `method path` with an optional JSON body and extra headers.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> ScimResponse {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/scim/v2{path}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/scim+json");
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let body = body.map(|b| Body::from(b.to_string())).unwrap_or_default();
        let (status, headers, bytes) = self.app.send(req.body(body).expect("request")).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "non-JSON SCIM answer {status}: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        ScimResponse {
            status,
            headers,
            body,
        }
    }

    /// Sends `method path` with an optional JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> ScimResponse {
        self.call_with(method, path, body, &[]).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> ScimResponse {
        self.call(Method::GET, path, None).await
    }

    /// `POST /Users` with a minimal Okta-like body; returns the new id.
    pub async fn create_user(&self, user_name: &str) -> String {
        let r = self
            .call(
                Method::POST,
                "/Users",
                Some(json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": user_name,
                    "name": { "givenName": "Test", "familyName": "User" },
                    "emails": [{ "primary": true, "value": user_name, "type": "work" }],
                    "active": true,
                })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// `POST /Groups`; returns the new id.
    pub async fn create_group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
        let r = self
            .call(
                Method::POST,
                "/Groups",
                Some(json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": name,
                    "members": members,
                })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }
}

/// A filter, percent-encoded for a query string.
pub fn q(filter: &str) -> String {
    url::form_urlencoded::byte_serialize(filter.as_bytes()).collect()
}
