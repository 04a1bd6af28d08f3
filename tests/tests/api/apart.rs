//! A gateway with one of its own subgraphs (a domain, or all of them as
//! `platform`) served by a second process of its own, both on real ports
//! over one database, as two deployments would be; and a gateway with
//! everything in process beside them, to compare answers with.

use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use prep_auth::SubgraphClaims;
use prep_gateway::app::{App, AppState};
use prep_gateway::metrics::HttpLabels;
use prep_tests::{TestApp, TestTenant};
use serde_json::{json, Value};

/// A gateway one of whose own subgraphs is a service of its own.
pub(crate) struct Apart {
    /// The gateway clients call (its router; its federation is live).
    pub gateway: TestApp,
    /// The service of the domains served apart.
    pub service: AppState,
    /// Where the service answers.
    pub service_url: String,
    /// A gateway over the same database with the domains in process, to
    /// compare answers with.
    pub in_process: axum::Router,
    pub issuer: String,
}

/// A gateway with `name` (`platform`, or one domain) served apart.
pub(crate) async fn apart(name: &str) -> Apart {
    let (gateway_listener, issuer) = prep_tests::listen().await;
    let (service_listener, service_base) = prep_tests::listen().await;
    let service_url = format!("{service_base}/graphql");
    let mut settings = TestApp::settings();
    settings.server.public_url = issuer.clone();
    settings.federation.reload_secs = 0;
    settings.federation.subgraphs =
        vec![
            serde_json::from_value(json!({ "name": name, "url": service_url }))
                .expect("subgraph settings"),
        ];
    let gateway = TestApp::with_settings(settings).await;

    // The service: same database and master key, composing nothing (as
    // `serve --subgraph NAME` builds it).
    let mut alone = gateway.state.settings.clone();
    alone.federation.subgraphs.clear();
    let service = App::build(alone.clone(), gateway.state.master.clone())
        .await
        .expect("build the service");
    prep_tests::serve_on(
        service_listener,
        prep_gateway::http::subgraph_router(service.clone(), name),
    );
    prep_tests::serve_on(gateway_listener, gateway.router.clone());
    let in_process = App::build(alone, gateway.state.master.clone())
        .await
        .expect("build an in-process gateway");
    let in_process = prep_gateway::http::router(in_process);

    let federation = gateway.state.federation.clone().expect("federation");
    let deadline = Instant::now() + Duration::from_secs(30);
    while federation.active().is_none() {
        assert!(Instant::now() < deadline, "the supergraph did not compose");
        let _ = federation.reload(&gateway.state.tokens).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!federation.in_process(name));
    Apart {
        gateway,
        service,
        service_url,
        in_process,
        issuer,
    }
}

impl Apart {
    /// `/graphql` calls the service answered with 200.
    pub fn service_calls(&self) -> u64 {
        self.service
            .metrics
            .http_requests
            .get_or_create(&HttpLabels {
                route: "/graphql".into(),
                method: "POST".into(),
                status: 200,
            })
            .get()
    }

    /// The same operation through the in-process gateway.
    pub async fn in_process(&self, credential: &str, query: &str, variables: Value) -> Value {
        call(&self.in_process, credential, query, variables).await
    }

    /// A subgraph token for `aud`, acting as the holder of `credential`.
    pub async fn token_for(&self, credential: &str, aud: &str) -> String {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            format!("Bearer {credential}").parse().expect("header"),
        );
        let principal =
            prep_gateway::http::authn::authenticate(&self.gateway.state, &headers, None)
                .await
                .expect("the credential authenticates");
        let claims = SubgraphClaims::for_principal(&self.issuer, aud, &principal, "apart-test");
        self.gateway
            .state
            .tokens
            .issue_subgraph(&claims)
            .expect("sign a subgraph token")
    }

    /// Calls the service directly with `authorization` (if any).
    pub async fn direct(
        &self,
        authorization: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let body = json!({ "query": query, "variables": variables }).to_string();
        self.direct_raw(authorization, "application/json", body)
            .await
    }

    /// Posts `body` as `content_type` to the service.
    pub async fn direct_raw(
        &self,
        authorization: Option<&str>,
        content_type: &str,
        body: String,
    ) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .post(&self.service_url)
            .header("content-type", content_type)
            .body(body);
        if let Some(a) = authorization {
            request = request.header("authorization", a);
        }
        let response = request.send().await.expect("the service answers");
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("a body");
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

/// Posts an operation to a router with a bearer credential.
pub(crate) async fn call(
    router: &axum::Router,
    credential: &str,
    query: &str,
    variables: Value,
) -> Value {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let body = json!({ "query": query, "variables": variables }).to_string();
    let request = axum::http::Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {credential}"))
        .body(axum::body::Body::from(body))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&bytes).expect("a JSON answer")
}

/// Without the cost extension, which depends on the moment.
pub(crate) fn answer(mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        o.remove("extensions");
    }
    body
}

pub(crate) const OVERVIEW: &str =
    "{ locations(first: 3) { totalCount nodes { id name complianceStatus
    employees(first: 2) { nodes { id firstName } } } }
    complianceSummary { totals { locations compliant atRisk nonCompliant } } }";

/// The global id of the first location the holder of `token` sees.
pub(crate) async fn first_location(a: &Apart, token: &str) -> Value {
    let r = a
        .gateway
        .graphql(token, "{ locations(first: 1) { nodes { id } } }", json!({}))
        .await;
    r.data()["locations"]["nodes"][0]["id"].clone()
}

pub(crate) async fn seeded(a: &Apart, slug: &str) -> TestTenant {
    a.gateway.seeded_tenant(slug).await
}
