//! The gateway's domains served on their own (`serve --subgraph platform`)
//! behind a gateway that declares them as the remote subgraph `platform`,
//! both on real ports over one database, as two deployments would be.
//! Clients see the same API: the same answers for users, location-scoped
//! users and connectors, mutations with the same audit trail. The service
//! itself takes nothing but the gateway's signed tokens for `platform`: not
//! a client's token or key, not a token for another subgraph or with a
//! forged tenant; a tenant-less token reads `_service` only; and one
//! tenant's token cannot fetch another tenant's entities by key.

use prep_auth::{Grant, Role, SubgraphClaims};
use serde_json::{json, Value};

use crate::apart::*;

#[tokio::test]
async fn clients_get_the_same_answers_from_the_domains_served_apart() {
    let a = apart("platform").await;
    let t = seeded(&a, "acme").await;
    let before = a.service_calls();
    let through = answer(a.gateway.graphql(&t.token, OVERVIEW, json!({})).await.body);
    assert!(through["errors"].is_null(), "{through}");
    assert!(a.service_calls() > before, "the gateway called the service");
    let direct = answer(a.in_process(&t.token, OVERVIEW, json!({})).await);
    assert_eq!(through, direct);

    // introspection (the playground's schema view) shows the same types
    // and fields, from the composed API
    let intro = r#"{ __typename __schema { queryType { name } mutationType { name } }
        __type(name: "Location") { name kind fields { name } } }"#;
    let through = answer(a.gateway.graphql(&t.token, intro, json!({})).await.body);
    let direct = answer(a.in_process(&t.token, intro, json!({})).await);
    let fields = |b: &Value| -> Vec<String> {
        let mut n: Vec<String> = b["data"]["__type"]["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["name"].as_str().map(str::to_owned))
            .collect();
        n.sort();
        n
    };
    assert!(fields(&through).len() > 5, "{through}");
    assert_eq!(fields(&through), fields(&direct));
    assert_eq!(through["data"]["__schema"], direct["data"]["__schema"]);
    assert_eq!(through["data"]["__typename"], "Query");

    // the tenant's standing, measured by the gateway, reaches the service
    let standing = "{ rateLimit { cost limit restoreRate requestsPerSecond } }";
    let through = answer(a.gateway.graphql(&t.token, standing, json!({})).await.body);
    assert!(
        through["data"]["rateLimit"]["limit"].as_i64() > Some(0),
        "{through}"
    );
    assert_eq!(
        through,
        answer(a.in_process(&t.token, standing, json!({})).await)
    );

    // an error answers the same way too
    let bad = "{ node(id: \"not-an-id\") { id } }";
    let through = answer(a.gateway.graphql(&t.token, bad, json!({})).await.body);
    let direct = answer(a.in_process(&t.token, bad, json!({})).await);
    // (the executor nulls only the failed nullable field, as the spec
    // says; async-graphql in process nulls the whole `data`)
    for part in ["/message", "/path", "/extensions/code"] {
        assert_eq!(
            through["errors"][0].pointer(part),
            direct["errors"][0].pointer(part),
            "{part}: {through} vs {direct}"
        );
    }
}

#[tokio::test]
async fn mutations_run_in_the_service_with_the_callers_identity_and_audit() {
    let a = apart("platform").await;
    let t = a.gateway.tenant("acme").await;
    let r = a
        .gateway
        .graphql(
            &t.token,
            r#"mutation { createLocation(input: { storeNumber: "IL-9", name: "Apart Kitchen",
                address: { line1: "1 Main St", city: "Chicago", state: "IL", postalCode: "60606" },
                jurisdictionCode: "US-IL-CHICAGO" }) { location { id name } userErrors { code } } }"#,
            json!({}),
        )
        .await;
    let id = r.data()["createLocation"]["location"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("created: {}", r.body))
        .to_owned();
    let seen = call(
        &a.in_process,
        &t.token,
        "query($id: ID!) { node(id: $id) { ... on Location { name } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(seen["data"]["node"]["name"], "Apart Kitchen");
    let events = call(
        &a.in_process,
        &t.token,
        "{ auditEvents(first: 20) { nodes { action actorType } } }",
        json!({}),
    )
    .await;
    let created: Vec<&Value> = events["data"]["auditEvents"]["nodes"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == "location.create")
        .collect();
    assert_eq!(created.len(), 1, "{events}");
    assert_eq!(created[0]["actorType"], "user", "{events}");
}

#[tokio::test]
async fn a_location_scoped_user_and_a_connector_keep_their_reach_apart() {
    let a = apart("platform").await;
    let t = seeded(&a, "acme").await;
    let here = first_location(&a, &t.token)
        .await
        .as_str()
        .expect("id")
        .to_owned();
    let location = prep_resolvers::ids::decode_any(&async_graphql::ID(here.clone()))
        .expect("a global id")
        .1;
    let staff = a
        .gateway
        .token(
            "acme",
            "staff@acme.example",
            &[Grant {
                role: Role::Staff,
                location: Some(location),
            }],
        )
        .await;
    let q = "{ locations(first: 50) { totalCount nodes { id } } }";
    let through = answer(a.gateway.graphql(&staff, q, json!({})).await.body);
    assert_eq!(through["data"]["locations"]["totalCount"], 1, "{through}");
    assert_eq!(
        through["data"]["locations"]["nodes"][0]["id"],
        here.as_str()
    );
    assert_eq!(through, answer(a.in_process(&staff, q, json!({})).await));

    // a connector: its scopes are checked by the service, field by field
    let key = a.gateway.connector(&t, &["locations:read"]).await.api_key;
    let allowed = answer(a.gateway.graphql(&key, q, json!({})).await.body);
    assert!(allowed["errors"].is_null(), "{allowed}");
    assert_eq!(allowed, answer(a.in_process(&key, q, json!({})).await));
    let refused = "{ employees(first: 1) { nodes { id } } }";
    let through = answer(a.gateway.graphql(&key, refused, json!({})).await.body);
    let direct = answer(a.in_process(&key, refused, json!({})).await);
    assert_eq!(
        through["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{through}"
    );
    assert_eq!(through["data"], direct["data"]);
}

#[tokio::test]
async fn the_service_takes_only_the_gateways_tokens_for_platform() {
    let a = apart("platform").await;
    let t = seeded(&a, "acme").await;
    let q = "{ locations(first: 1) { totalCount } }";

    let good = a.token_for(&t.token, "platform").await;
    let (status, body) = a
        .direct(Some(&format!("Bearer {good}")), q, json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["locations"]["totalCount"].as_i64() > Some(0),
        "{body}"
    );

    let other_audience = a.token_for(&t.token, "regulatory").await;
    let mut forged = good.split('.').map(str::to_owned).collect::<Vec<_>>();
    {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value =
            serde_json::from_slice(&engine.decode(&forged[1]).expect("payload")).expect("claims");
        claims["tid"] = json!(uuid::Uuid::new_v4());
        forged[1] = engine.encode(claims.to_string());
    }
    let forged = forged.join(".");
    for (what, authorization) in [
        ("no credential", None),
        (
            "the client's own token",
            Some(format!("Bearer {}", t.token)),
        ),
        (
            "a token for another subgraph",
            Some(format!("Bearer {other_audience}")),
        ),
        (
            "a token with a forged tenant",
            Some(format!("Bearer {forged}")),
        ),
        ("not a bearer token", Some(format!("Basic {good}"))),
    ] {
        let (status, body) = a.direct(authorization.as_deref(), q, json!({})).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{what}"
        );
        assert!(body["data"].is_null(), "{what}: {body}");
    }
    let (status, body) = a
        .direct(Some(&format!("Bearer {good}")), q, json!({}))
        .await;
    assert_eq!(status, 200, "still served after the refusals: {body}");

    // the gateway's own token (no tenant) reads the SDL and nothing else
    let own = a
        .gateway
        .state
        .tokens
        .issue_subgraph(&SubgraphClaims::for_gateway(&a.issuer, "platform"))
        .expect("sign");
    let (status, body) = a
        .direct(
            Some(&format!("Bearer {own}")),
            "{ _service { sdl } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        body["data"]["_service"]["sdl"]
            .as_str()
            .is_some_and(|s| s.contains("type Location")),
        "{body}"
    );
    for query in [
        q,
        "{ _service { sdl } locations(first: 1) { totalCount } }",
        "query { ...F } fragment F on Query { _service { sdl } }",
        "mutation { __typename }",
    ] {
        let (status, body) = a
            .direct(Some(&format!("Bearer {own}")), query, json!({}))
            .await;
        assert_eq!(status, 403, "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    }
}

#[tokio::test]
async fn one_tenants_token_cannot_fetch_anothers_entities_from_the_service() {
    let a = apart("platform").await;
    let victim = seeded(&a, "victim").await;
    let attacker = seeded(&a, "attacker").await;
    let id = first_location(&a, &victim.token).await;

    // through the gateway
    let r = a
        .gateway
        .graphql(
            &attacker.token,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(r.data()["node"].is_null(), "{}", r.body);
    let mine = a
        .gateway
        .graphql(
            &attacker.token,
            "{ locations(first: 100) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert!(
        !mine.data()["locations"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|n| n["id"] == id),
        "{}",
        mine.body
    );

    // straight at the service with the attacker's own valid token: an
    // entity by the victim's key is null, the same as a key that never
    // existed, so not even its existence shows
    let token = a.token_for(&attacker.token, "platform").await;
    let entities =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Location { id name } } }";
    let (status, theirs) = a
        .direct(
            Some(&format!("Bearer {token}")),
            entities,
            json!({ "r": [{ "__typename": "Location", "id": id }] }),
        )
        .await;
    assert_eq!(status, 200, "{theirs}");
    assert_eq!(theirs["data"]["_entities"], json!([null]), "{theirs}");
    let fake = prep_resolvers::ids::encode(
        prep_resolvers::ids::NodeType::Location,
        uuid::Uuid::new_v4(),
    );
    let (_, none) = a
        .direct(
            Some(&format!("Bearer {token}")),
            entities,
            json!({ "r": [{ "__typename": "Location", "id": fake.to_string() }] }),
        )
        .await;
    assert_eq!(theirs, none);

    // nor change it: the victim's location is out of the attacker's scope
    let rename = r#"mutation($id: ID!) { updateLocation(input: { id: $id, name: "Taken" }) {
        location { id } userErrors { code } } }"#;
    let (_, changed) = a
        .direct(
            Some(&format!("Bearer {token}")),
            rename,
            json!({ "id": id }),
        )
        .await;
    assert!(
        changed["data"]["updateLocation"]["location"].is_null(),
        "{changed}"
    );
    assert_eq!(
        changed["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{changed}"
    );
    let (_, never) = a
        .direct(
            Some(&format!("Bearer {token}")),
            rename,
            json!({ "id": fake.to_string() }),
        )
        .await;
    assert_eq!(
        changed["errors"][0]["message"],
        never["errors"][0]["message"]
    );
    let seen = a
        .in_process(
            &victim.token,
            "query($id: ID!) { node(id: $id) { ... on Location { name } } }",
            json!({ "id": id }),
        )
        .await;
    assert_ne!(seen["data"]["node"]["name"], "Taken", "{seen}");
}

#[tokio::test]
async fn bad_input_to_the_service_gets_a_clear_error_and_changes_nothing() {
    let a = apart("platform").await;
    let t = seeded(&a, "acme").await;
    let before = a
        .in_process(
            &t.token,
            "{ locations(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    let token = format!("Bearer {}", a.token_for(&t.token, "platform").await);
    let create = r#"mutation { createLocation(input: { storeNumber: "X-1", name: "Bad",
        address: { line1: "1 Main St", city: "Chicago", state: "IL", postalCode: "60606" },
        jurisdictionCode: "US-IL-CHICAGO" }) { location { id } } }"#;
    for (what, content_type, body, status, code) in [
        (
            "not JSON",
            "application/json",
            "{ mutation".to_owned(),
            400,
            "BAD_REQUEST",
        ),
        (
            "a batch",
            "application/json",
            json!([{ "query": create }]).to_string(),
            400,
            "BAD_REQUEST",
        ),
        (
            "not application/json",
            "text/plain",
            json!({ "query": create }).to_string(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "an unparsable document",
            "application/json",
            json!({ "query": "mutation { createLocation(" }).to_string(),
            200,
            "GRAPHQL_PARSE_FAILED",
        ),
    ] {
        let (got, body) = a.direct_raw(Some(&token), content_type, body).await;
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], code,
            "{what}: {body}"
        );
        assert!(body["data"].is_null(), "{what}: {body}");
    }
    let after = a
        .in_process(
            &t.token,
            "{ locations(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(before["data"], after["data"], "nothing was created");
}

#[tokio::test]
async fn a_tenant_holding_its_share_of_the_services_pool_gets_the_gateways_503() {
    let a = apart("platform").await;
    let t = a.gateway.tenant("acme").await;
    let other = a.gateway.tenant("bravo").await;
    let q = "{ locations(first: 1) { totalCount } }";
    // every connection of the tenant's share of the service's pool is held
    let governance = &a.service.governance;
    let limits = governance.limits_of(&a.service.db, t.id).await;
    let share = governance.db_share(&limits.limits);
    let capacity = share.capacity;
    let scope = a
        .service
        .db
        .scope_shared(t.id, prep_tenancy::Reach::Tenant, share);
    let mut held = Vec::new();
    for _ in 0..capacity {
        held.push(
            scope
                .begin_write()
                .await
                .expect("a connection of the share"),
        );
    }
    let r = a.gateway.graphql(&t.token, q, json!({})).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.error_code(), Some("OVERLOADED"), "{}", r.body);
    drop(held);
    let r = a.gateway.graphql(&t.token, q, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = a.gateway.graphql(&other.token, q, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}
