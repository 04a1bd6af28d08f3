//! Connectors as an ERP or HRIS system would use them: an admin registers
//! one, then the system calls GraphQL with its API key (or with a token
//! from `/oauth/token`).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use serde_json::{json, Value};

use crate::{GqlResponse, TestApp, TestTenant};

const CREATE: &str = r#"mutation($input: CreateConnectorInput!) { createConnector(input: $input) {
    connector { id clientId name scopes keys { id hint } }
    credentials { clientId apiKey keyId expiresAt tokenUrl }
    userErrors { field message code } } }"#;

/// A registered connector and the only copy of its first key.
#[derive(Clone, Debug)]
pub struct TestConnector {
    /// Global id.
    pub id: String,
    /// OAuth client id.
    pub client_id: String,
    /// The API key.
    pub api_key: String,
    /// The key's global id.
    pub key_id: String,
}

/// A request's transport details, for tests of address ranges and headers.
#[derive(Clone, Debug, Default)]
pub struct Call<'a> {
    /// The peer address the gateway sees.
    pub peer: Option<SocketAddr>,
    /// Extra headers.
    pub headers: Vec<(&'a str, String)>,
}

/// What an HTTP call answered.
#[derive(Debug)]
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// JSON body (`Null` when not JSON).
    pub body: Value,
}

impl Answer {
    /// As a GraphQL response.
    pub fn gql(self) -> GqlResponse {
        GqlResponse {
            status: self.status,
            body: self.body,
        }
    }
}

impl TestApp {
    /// Registers a connector of `tenant` with `scopes` (as its owner), with
    /// `extra` input fields merged in.
    pub async fn connector_with(
        &self,
        tenant: &TestTenant,
        scopes: &[&str],
        extra: Value,
    ) -> TestConnector {
        let mut input = json!({
            "name": format!("conn-{}", uuid::Uuid::new_v4().simple()),
            "kind": "HRIS", "vendor": "WORKDAY", "scopes": scopes,
        });
        if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                i.insert(k.clone(), v.clone());
            }
        }
        let r = self
            .graphql(&tenant.token, CREATE, json!({ "input": input }))
            .await;
        let p = &r.data()["createConnector"];
        assert_eq!(p["userErrors"], json!([]), "{p}");
        let c = &p["credentials"];
        TestConnector {
            id: p["connector"]["id"].as_str().expect("id").to_owned(),
            client_id: c["clientId"].as_str().expect("client id").to_owned(),
            api_key: c["apiKey"].as_str().expect("api key").to_owned(),
            key_id: c["keyId"].as_str().expect("key id").to_owned(),
        }
    }

    /// Registers a connector of `tenant` with `scopes`.
    pub async fn connector(&self, tenant: &TestTenant, scopes: &[&str]) -> TestConnector {
        self.connector_with(tenant, scopes, json!({})).await
    }

    /// Posts a GraphQL operation with `Authorization: Bearer <credential>`
    /// (an API key or a token) and the call's details.
    pub async fn graphql_call(
        &self,
        credential: &str,
        query: &str,
        variables: Value,
        call: &Call<'_>,
    ) -> Answer {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let mut req = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {credential}"));
        for (name, value) in &call.headers {
            req = req.header(*name, value);
        }
        let mut req = req.body(Body::from(body)).expect("request");
        if let Some(peer) = call.peer {
            req.extensions_mut().insert(ConnectInfo(peer));
        }
        let (status, headers, body) = self.send(req).await;
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Posts a GraphQL operation with a connector's API key.
    pub async fn graphql_key(&self, key: &str, query: &str, variables: Value) -> GqlResponse {
        self.graphql_call(key, query, variables, &Call::default())
            .await
            .gql()
    }

    /// Posts a form to `/oauth/token`, with HTTP Basic credentials when given.
    pub async fn oauth_token(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Answer {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = Request::post("/oauth/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some((id, secret)) = basic {
            use base64::Engine as _;
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", enc(id), enc(secret));
            req = req.header(
                header::AUTHORIZATION,
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ),
            );
        }
        let (status, headers, body) = self
            .send(req.body(Body::from(body)).expect("request"))
            .await;
        Answer {
            status,
            headers,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        }
    }

    /// Audit events of `tenant` with this action, waiting up to 3 s for
    /// queued ones to be written.
    pub async fn audit_actions(&self, tenant: &TestTenant, action: &str) -> Vec<Value> {
        const Q: &str = r#"{ auditEvents(first: 100) { nodes { action actorType actorId targetType details } } }"#;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            let r = self.graphql(&tenant.token, Q, json!({})).await;
            let found: Vec<Value> = r.data()["auditEvents"]["nodes"]
                .as_array()
                .expect("events")
                .iter()
                .filter(|e| e["action"] == action)
                .cloned()
                .collect();
            if !found.is_empty() || std::time::Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}
