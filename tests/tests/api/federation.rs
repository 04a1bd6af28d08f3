//! Federation end to end: the gateway composes its own domains with a real
//! Apollo Federation v2 subgraph (`@apollo/subgraph` under node, verifying
//! the gateway's tokens against the gateway's JWKS over real HTTP) and
//! serves one API across both. Covers the join of our locations with the
//! subgraph's fields, the identity the subgraph learns (and the client
//! credential it never sees), tenant isolation through the subgraph, what a
//! subgraph adds beyond the plan, limits applied before any fan-out,
//! connectors, and recomposition that keeps the last good supergraph.
//! Faults of the subgraph are in `federation_faults`, introspection in
//! `federation_introspection`; both use the helpers here.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use prep_tests::subgraph::RemoteSubgraph;
use prep_tests::TestApp;
use serde_json::{json, Value};

/// Our locations joined with the subgraph's fields.
pub(crate) const JOINED: &str =
    "{ locations(first: 2) { nodes { id name healthScore notices { title severity } } } }";

/// A gateway serving on a real port, composed with the `regulatory` subgraph.
pub(crate) struct Federated {
    pub(crate) app: TestApp,
    pub(crate) subgraph: RemoteSubgraph,
    issuer: String,
}

/// Starts the subgraph (answering at `/misbehave/<mode>/graphql` when
/// `mode` is given), then a gateway configured with it (`extra` merged into
/// its `[[federation.subgraphs]]` entry), serves the gateway and waits for
/// the first composition.
pub(crate) async fn federated(mode: Option<&str>, extra: Value) -> Federated {
    federated_with(mode, extra, |_| {}).await
}

/// [`federated`] with the gateway's settings adjusted by `tune`.
pub(crate) async fn federated_with(
    mode: Option<&str>,
    extra: Value,
    tune: impl FnOnce(&mut prep_gateway::config::Settings),
) -> Federated {
    let (listener, issuer) = prep_tests::listen().await;
    let subgraph = RemoteSubgraph::start(&format!("{issuer}/.well-known/jwks.json"), &issuer).await;
    let url = mode.map_or_else(|| subgraph.url(), |m| subgraph.misbehaving_url(m));
    let mut remote = json!({ "name": "regulatory", "url": url });
    if let (Some(r), Some(e)) = (remote.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    let mut settings = TestApp::settings();
    settings.server.public_url = issuer.clone();
    settings.federation.reload_secs = 0;
    settings.federation.subgraphs =
        vec![serde_json::from_value(remote).expect("subgraph settings")];
    tune(&mut settings);
    let app = TestApp::with_settings(settings).await;
    prep_tests::serve_on(listener, app.router.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    while app
        .state
        .federation
        .as_ref()
        .and_then(|f| f.active())
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "the supergraph did not compose; subgraph stderr:\n{}",
            subgraph.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Federated {
        app,
        subgraph,
        issuer,
    }
}

pub(crate) fn health_score(id: &str) -> i64 {
    let digest = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    let bytes = digest.as_ref();
    i64::from(u16::from_be_bytes([bytes[0], bytes[1]]) % 101)
}

pub(crate) fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
        .collect()
}

fn uuid_of(global_id: &str) -> uuid::Uuid {
    let id = async_graphql::ID(global_id.to_owned());
    prep_resolvers::ids::decode_any(&id).expect("a global id").1
}

pub(crate) async fn requests(subgraph: &RemoteSubgraph) -> u64 {
    subgraph.stats().await["requests"]
        .as_u64()
        .expect("requests")
}

#[tokio::test]
async fn one_query_joins_our_locations_with_the_subgraph_and_it_learns_who_asks_from_a_signed_token(
) {
    let f = federated(None, json!({})).await;
    let a = f.app.seeded_tenant("fed-join").await;

    let r = f.app.graphql(&a.token, JOINED, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["errors"].is_null(), "{}", r.body);
    let nodes = r.data()["locations"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 2);
    for node in nodes {
        let id = node["id"].as_str().expect("id");
        assert!(node["name"].is_string());
        assert_eq!(node["healthScore"], health_score(id), "{node}");
        let titles: Vec<&str> = node["notices"]
            .as_array()
            .expect("notices")
            .iter()
            .filter_map(|n| n["title"].as_str())
            .collect();
        assert_eq!(titles.len(), 2);
        for title in titles {
            assert!(title.contains(id), "{title}");
            assert!(title.ends_with(&format!("for tenant {}", a.id)), "{title}");
        }
    }

    // The subgraph verified the gateway's signature and learnt the caller
    // from the claims; the client's own token never left the gateway.
    let last = f.subgraph.last_request().await;
    let claims = &last["claims"];
    assert_eq!(claims["iss"], f.issuer.as_str());
    assert_eq!(claims["aud"], "regulatory");
    assert_eq!(claims["tid"], a.id.to_string());
    assert!(claims["rid"].is_string() && claims["jti"].is_string());
    assert!(claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat") <= 60);
    let stats = f.subgraph.stats().await;
    assert_eq!(stats["rejected"], 0, "{stats}");
    assert!(stats["verified"].as_u64() >= Some(1), "{stats}");

    let r = f
        .app
        .graphql(
            &a.token,
            "{ viewer { user { id } } regulatoryCaller { tenant subject requestId } }",
            json!({}),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);
    let caller = &r.data()["regulatoryCaller"];
    assert_eq!(caller["tenant"], a.id.to_string());
    let user_id = r.data()["viewer"]["user"]["id"].as_str().expect("user id");
    assert_eq!(caller["subject"], uuid_of(user_id).to_string());
    assert!(caller["requestId"].is_string());
}

#[tokio::test]
async fn a_local_only_operation_never_calls_the_subgraph() {
    let f = federated(None, json!({})).await;
    let a = f.app.seeded_tenant("fed-local").await;
    let before = requests(&f.subgraph).await;
    let r = f
        .app
        .graphql(
            &a.token,
            "{ locations(first: 3) { nodes { id name } } }",
            json!({}),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);
    assert_eq!(
        r.data()["locations"]["nodes"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(requests(&f.subgraph).await, before);

    // introspection shows the whole federated API, ours and the
    // subgraph's, without calling anyone
    let r = f
        .app
        .graphql(
            &a.token,
            r#"{ __schema { queryType { fields { name } } }
                 __type(name: "Location") { name fields { name } } __typename }"#,
            json!({}),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["name"].as_str().map(str::to_owned))
            .collect()
    };
    let roots = names(&r.data()["__schema"]["queryType"]["fields"]);
    for field in ["locations", "regulatoryBulletins", "node"] {
        assert!(roots.iter().any(|n| n == field), "{field} in {roots:?}");
    }
    let location = names(&r.data()["__type"]["fields"]);
    for field in ["name", "healthScore", "notices"] {
        assert!(
            location.iter().any(|n| n == field),
            "{field} in {location:?}"
        );
    }
    assert!(
        !roots.iter().any(|n| n.starts_with('_')),
        "no federation machinery: {roots:?}"
    );
    assert_eq!(requests(&f.subgraph).await, before);
}

#[tokio::test]
async fn another_tenant_cannot_reach_or_detect_the_first_ones_data_through_the_subgraph() {
    let f = federated(None, json!({})).await;
    let a = f.app.seeded_tenant("fed-iso-a").await;
    let b = f.app.seeded_tenant("fed-iso-b").await;
    let r = f
        .app
        .graphql(
            &a.token,
            "{ locations(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let a_location = r.data()["locations"]["nodes"][0]["id"].clone();

    // B asks for A's location with the subgraph's fields: row-level security
    // hides it, so the subgraph is never asked about it.
    let before = requests(&f.subgraph).await;
    let r = f
        .app
        .graphql(
            &b.token,
            "query($id: ID!) { location(id: $id) { id name healthScore notices { title } } }",
            json!({ "id": a_location }),
        )
        .await;
    assert!(r.data()["location"].is_null(), "{}", r.body);
    assert_eq!(requests(&f.subgraph).await, before);

    // What B gets from the subgraph is addressed to B.
    let r = f
        .app
        .graphql(
            &b.token,
            "{ regulatoryBulletins(first: 2) { title } }",
            json!({}),
        )
        .await;
    for bulletin in r.data()["regulatoryBulletins"]
        .as_array()
        .expect("bulletins")
    {
        let title = bulletin["title"].as_str().expect("title");
        assert!(title.ends_with(&b.id.to_string()), "{title}");
    }
    assert_eq!(
        f.subgraph.last_request().await["claims"]["tid"],
        b.id.to_string()
    );
}

#[tokio::test]
async fn what_a_subgraph_adds_beyond_the_plan_never_reaches_the_client() {
    let f = federated(Some("inject"), json!({})).await;
    let a = f.app.seeded_tenant("fed-inject").await;
    // Only the gateway answers introspection, even where a subgraph's
    // root answer carries introspection's keys.
    let r = f
        .app
        .graphql(
            &a.token,
            "{ regulatoryBulletins(first: 1) { title } __schema { queryType { name } } __type(name: \"Notice\") { name } }",
            json!({}),
        )
        .await;
    let text = r.body.to_string();
    assert!(!text.contains("secret-of-other-tenant"), "{text}");
    assert_eq!(r.data()["__schema"]["queryType"]["name"], "Query", "{text}");
    assert_eq!(r.data()["__type"]["name"], "Notice", "{text}");

    let r = f.app.graphql(&a.token, JOINED, json!({})).await;
    let text = r.body.to_string();
    assert!(!text.contains("secret-of-other-tenant"), "{text}");
    assert!(r.data().get("otherTenant").is_none(), "{text}");
    let nodes = r.data()["locations"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 2, "{text}");
    for node in nodes {
        let id = node["id"].as_str().expect("id");
        assert_eq!(node["healthScore"], health_score(id));
        let keys: Vec<&String> = node.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["id", "name", "healthScore", "notices"]);
    }
}

#[tokio::test]
async fn limits_refuse_an_operation_before_it_fans_out() {
    let f = federated_with(None, json!({}), |s| {
        s.limits.tiers.standard.max_query_cost = 500;
    })
    .await;
    let a = f.app.seeded_tenant("fed-cost").await;
    let cost = |r: &prep_tests::GqlResponse| {
        r.body["extensions"]["cost"]["requestedQueryCost"]
            .as_u64()
            .unwrap_or_else(|| panic!("a requested cost: {}", r.body))
    };
    // The subgraph's lists are priced like ours: by `first`.
    let light = f
        .app
        .graphql(
            &a.token,
            "{ regulatoryBulletins(first: 1) { title } }",
            json!({}),
        )
        .await;
    assert!(light.body["errors"].is_null(), "{}", light.body);
    let before = requests(&f.subgraph).await;
    let heavy = f
        .app
        .graphql(
            &a.token,
            "{ locations(first: 100) { nodes { notices { title } } }
               regulatoryBulletins(first: 100) { title } }",
            json!({}),
        )
        .await;
    assert_eq!(codes(&heavy.body), ["MAX_COST_EXCEEDED"], "{}", heavy.body);
    assert!(cost(&heavy) > 500 && cost(&light) < 500);
    assert_eq!(
        requests(&f.subgraph).await,
        before,
        "refused, yet the subgraph was called"
    );
}

#[tokio::test]
async fn connectors_reach_a_subgraph_only_where_it_is_opened_to_them() {
    let closed = federated(None, json!({})).await;
    let a = closed.app.seeded_tenant("fed-conn").await;
    let connector = closed.app.connector(&a, &["locations:read"]).await;
    let before = requests(&closed.subgraph).await;
    let r = closed
        .app
        .graphql_key(&connector.api_key, JOINED, json!({}))
        .await;
    assert_eq!(codes(&r.body), ["FORBIDDEN"], "{}", r.body);
    assert_eq!(requests(&closed.subgraph).await, before);
    // and the tenant's audit trail says so, as for a field out of scope
    let denied = closed.app.audit_actions(&a, "connector.denied").await;
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0]["actorType"], "connector");
    assert_eq!(
        denied[0]["details"],
        json!({ "reason": "service", "service": "regulatory" })
    );
    // its own fields still work for it
    let r = closed
        .app
        .graphql_key(
            &connector.api_key,
            "{ locations(first: 1) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);

    let open = federated(None, json!({ "connectors": true })).await;
    let a = open.app.seeded_tenant("fed-conn-open").await;
    let connector = open.app.connector(&a, &["locations:read"]).await;
    let r = open
        .app
        .graphql_key(
            &connector.api_key,
            "{ regulatoryCaller { tenant scopes } }",
            json!({}),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);
    assert_eq!(r.data()["regulatoryCaller"]["tenant"], a.id.to_string());
    assert_eq!(
        r.data()["regulatoryCaller"]["scopes"],
        json!(["locations:read"])
    );
}

#[tokio::test]
async fn a_composition_that_fails_keeps_the_last_good_supergraph_serving() {
    let dir = std::env::temp_dir().join(format!("prep-fed-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file: PathBuf = dir.join("regulatory.graphql");
    // Compose first from the SDL the subgraph publishes, kept in a file.
    let probe = RemoteSubgraph::start("http://127.0.0.1:1/jwks", "http://unused").await;
    let sdl = probe.sdl().await;
    drop(probe);
    std::fs::write(&file, &sdl).expect("write the SDL");
    let f = federated(None, json!({ "sdl_file": file })).await;
    let a = f.app.seeded_tenant("fed-reload").await;
    let federation = f.app.state.federation.clone().expect("federation");

    // A subgraph that now claims our `Location.name` as its own, without
    // `@shareable`, cannot compose.
    let broken = sdl.replace("  id: ID!\n", "  id: ID!\n  name: String!\n");
    assert_ne!(broken, sdl);
    std::fs::write(&file, &broken).expect("write the SDL");
    let err = federation
        .reload(&f.app.state.tokens)
        .await
        .expect_err("does not compose");
    assert!(err.to_string().contains("name"), "{err}");
    let r = f.app.graphql(&a.token, JOINED, json!({})).await;
    assert!(
        r.body["errors"].is_null(),
        "the last good supergraph serves: {}",
        r.body
    );

    // An unchanged source is not recomposed; a fixed one is.
    std::fs::write(&file, &sdl).expect("write the SDL");
    assert!(!federation
        .reload(&f.app.state.tokens)
        .await
        .expect("reload"));
    std::fs::write(
        &file,
        sdl.replace("type Notice {", "\"A notice.\"\ntype Notice {"),
    )
    .expect("write the SDL");
    assert!(federation
        .reload(&f.app.state.tokens)
        .await
        .expect("reload"));
    let r = f.app.graphql(&a.token, JOINED, json!({})).await;
    assert!(r.body["errors"].is_null(), "{}", r.body);
    let _ = std::fs::remove_dir_all(&dir);
}
