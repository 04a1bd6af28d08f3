//! One domain (`workforce`) served on its own (`serve --subgraph
//! workforce`) behind a gateway that declares it as the remote subgraph of
//! that name, while every other domain stays in process. Clients see the
//! same API: a location's employees come from the service, the employees'
//! locations come back from the gateway's own domains, and an operation
//! that needs no workforce field never calls the service. The service
//! publishes its own SDL only, takes only tokens for `workforce`, and keeps
//! tenants apart when asked for another tenant's location by key.

use serde_json::{json, Value};

use crate::apart::*;

const WORKFORCE: &str = "workforce";

#[tokio::test]
async fn a_domain_served_apart_answers_its_part_and_the_rest_stays_in_process() {
    let a = apart(WORKFORCE).await;
    let t = seeded(&a, "acme").await;

    // locations in process, their employees from the service
    let before = a.service_calls();
    let through = answer(a.gateway.graphql(&t.token, OVERVIEW, json!({})).await.body);
    assert!(through["errors"].is_null(), "{through}");
    assert!(
        through["data"]["locations"]["nodes"][0]["employees"]["nodes"][0]["firstName"].is_string(),
        "{through}"
    );
    assert!(a.service_calls() > before, "the gateway called the service");
    assert_eq!(
        through,
        answer(a.in_process(&t.token, OVERVIEW, json!({})).await)
    );

    // employees from the service, their locations back in process
    let q = "{ employees(first: 3) { totalCount nodes { id lastName
        location { id name complianceStatus } credentials { kind status } } } }";
    let through = answer(a.gateway.graphql(&t.token, q, json!({})).await.body);
    assert!(through["errors"].is_null(), "{through}");
    assert!(
        through["data"]["employees"]["nodes"][0]["location"]["name"].is_string(),
        "{through}"
    );
    assert_eq!(through, answer(a.in_process(&t.token, q, json!({})).await));

    // no workforce field: the service is not called
    let before = a.service_calls();
    let q = "{ locations(first: 3) { nodes { name permits { permitNumber } alerts { kind } } } }";
    let through = answer(a.gateway.graphql(&t.token, q, json!({})).await.body);
    assert!(through["errors"].is_null(), "{through}");
    assert_eq!(
        a.service_calls(),
        before,
        "only in-process domains were needed"
    );
    assert_eq!(through, answer(a.in_process(&t.token, q, json!({})).await));

    // an employee by `node(id:)`: the id from `tenant`, the rest by key
    let id = a
        .gateway
        .graphql(
            &t.token,
            "{ employees(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await
        .data()["employees"]["nodes"][0]["id"]
        .clone();
    let q =
        "query($id: ID!) { node(id: $id) { id ... on Employee { firstName location { name } } } }";
    let through = answer(
        a.gateway
            .graphql(&t.token, q, json!({ "id": id }))
            .await
            .body,
    );
    assert!(
        through["data"]["node"]["firstName"].is_string(),
        "{through}"
    );
    assert_eq!(
        through,
        answer(a.in_process(&t.token, q, json!({ "id": id })).await)
    );
}

#[tokio::test]
async fn a_connectors_scopes_hold_across_the_domain_apart() {
    let a = apart(WORKFORCE).await;
    let t = seeded(&a, "acme").await;
    let q =
        "{ locations(first: 2) { nodes { name employees(first: 2) { nodes { firstName } } } } }";
    let both = a
        .gateway
        .connector(&t, &["locations:read", "employees:read"])
        .await
        .api_key;
    let before = a.service_calls();
    let through = answer(a.gateway.graphql(&both, q, json!({})).await.body);
    assert!(through["errors"].is_null(), "{through}");
    assert!(a.service_calls() > before, "the gateway called the service");
    assert_eq!(through, answer(a.in_process(&both, q, json!({})).await));

    // without `employees:read` the service refuses the field, as in process
    let locations_only = a.gateway.connector(&t, &["locations:read"]).await.api_key;
    let through = answer(a.gateway.graphql(&locations_only, q, json!({})).await.body);
    let direct = answer(a.in_process(&locations_only, q, json!({})).await);
    for refused in [&through, &direct] {
        let error = &refused["errors"][0];
        assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{refused}");
        assert_eq!(
            error["extensions"]["requiredScope"], "employees:read",
            "{refused}"
        );
    }
    assert!(
        through["data"]["locations"]["nodes"][0]["employees"].is_null(),
        "no employee reached the connector: {through}"
    );
}

#[tokio::test]
async fn a_mutation_of_a_domain_apart_runs_in_its_service() {
    let a = apart(WORKFORCE).await;
    let t = seeded(&a, "acme").await;
    let location = first_location(&a, &t.token).await;
    let before = a.service_calls();
    let r = a
        .gateway
        .graphql(
            &t.token,
            r#"mutation($location: ID!) { createEmployee(input: { locationId: $location,
                firstName: "Ada", lastName: "Apart", hireDate: "2026-11-02" }) {
                employee { id lastName location { id } } userErrors { code message } } }"#,
            json!({ "location": location }),
        )
        .await;
    let created = &r.data()["createEmployee"];
    assert_eq!(created["userErrors"], json!([]), "{}", r.body);
    assert_eq!(
        created["employee"]["location"]["id"], location,
        "{}",
        r.body
    );
    assert!(
        a.service_calls() > before,
        "the mutation ran in the service"
    );
    let seen = call(
        &a.in_process,
        &t.token,
        "query($id: ID!) { node(id: $id) { ... on Employee { lastName } } }",
        json!({ "id": created["employee"]["id"] }),
    )
    .await;
    assert_eq!(seen["data"]["node"]["lastName"], "Apart", "{seen}");
}

#[tokio::test]
async fn a_domain_service_publishes_its_own_sdl_and_takes_only_its_own_tokens() {
    let a = apart(WORKFORCE).await;
    let t = seeded(&a, "acme").await;

    // the gateway's composition call: no tenant, `_service` only
    let claims = prep_auth::SubgraphClaims::for_gateway(&a.issuer, WORKFORCE);
    let composer = a
        .gateway
        .state
        .tokens
        .issue_subgraph(&claims)
        .expect("sign");
    let (status, body) = a
        .direct(
            Some(&format!("Bearer {composer}")),
            "{ __typename s: _service { sdl } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sdl = body["data"]["s"]["sdl"].as_str().expect("an SDL");
    assert_eq!(
        sdl,
        prep_schema::domains::sdl_of(WORKFORCE).expect("a domain")
    );
    assert!(
        sdl.contains("employees(") && !sdl.contains("permitNumber"),
        "{sdl}"
    );
    let (status, _) = a
        .direct(
            Some(&format!("Bearer {composer}")),
            "{ employees(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 403);

    // a token for all domains, or for another one, is not for this one
    let q = "{ employees(first: 1) { totalCount } }";
    let own = a.token_for(&t.token, WORKFORCE).await;
    let (status, body) = a.direct(Some(&format!("Bearer {own}")), q, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["employees"]["totalCount"].as_i64() > Some(0),
        "{body}"
    );
    // it answers only what it publishes: not another domain's root field,
    // nor another domain's field of an entity it extends
    for (query, field) in [
        ("{ locations(first: 1) { totalCount } }", "locations"),
        (
            r#"{ _entities(representations: [{ __typename: "Location", id: "x" }]) {
                ... on Location { storeNumber } } }"#,
            "storeNumber",
        ),
    ] {
        let (status, body) = a
            .direct(Some(&format!("Bearer {own}")), query, json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"], Value::Null, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(field)),
            "{body}"
        );
    }

    for aud in ["platform", "locations"] {
        let other = a.token_for(&t.token, aud).await;
        let (status, body) = a
            .direct(Some(&format!("Bearer {other}")), q, json!({}))
            .await;
        assert_eq!(status, 401, "{aud}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn another_tenant_cannot_reach_a_locations_employees_through_the_domain_apart() {
    let a = apart(WORKFORCE).await;
    let acme = seeded(&a, "acme").await;
    let rival = seeded(&a, "rival").await;
    let theirs = first_location(&a, &acme.token).await;

    // through the gateway: the location is not found, as in process
    let q = "query($id: ID!) { node(id: $id) { id ... on Location { employees(first: 5) { totalCount } } } }";
    let through = answer(
        a.gateway
            .graphql(&rival.token, q, json!({ "id": theirs }))
            .await
            .body,
    );
    assert_eq!(through["data"]["node"], Value::Null, "{through}");
    assert_eq!(
        through,
        answer(a.in_process(&rival.token, q, json!({ "id": theirs })).await)
    );

    // straight to the service, by key, with the rival's own token
    let token = a.token_for(&rival.token, WORKFORCE).await;
    let entities = r#"query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Location { id employees(first: 5) { totalCount nodes { lastName } } } } }"#;
    let (status, body) = a
        .direct(
            Some(&format!("Bearer {token}")),
            entities,
            json!({ "r": [{ "__typename": "Location", "id": theirs }] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["_entities"], json!([null]), "{body}");

    // the owner's token finds them
    let token = a.token_for(&acme.token, WORKFORCE).await;
    let (_, body) = a
        .direct(
            Some(&format!("Bearer {token}")),
            entities,
            json!({ "r": [{ "__typename": "Location", "id": theirs }] }),
        )
        .await;
    assert!(
        body["data"]["_entities"][0]["employees"]["totalCount"].as_i64() > Some(0),
        "{body}"
    );
}
