//! The in-process API as the Apollo Federation subgraph `platform`, executed
//! as the gateway executes `/graphql`: the caller authenticated from its
//! credential, the request's tenant scope (with the caller's location
//! reach) attached as its `RequestContext`. Entities by key are the
//! caller's own; another tenant's, an out-of-reach, a malformed or a
//! wrongly typed key answers null without failing the list; connectors
//! need the read scope of every entity type; `_service` serves the
//! checked-in SDL; and the public schema has none of it.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use prep_auth::{Grant, Role};
use prep_resolvers::RequestContext;
use prep_schema::{SchemaOptions, SubgraphSchema};
use prep_tests::{TestApp, TestTenant};
use serde_json::{json, Value};

/// The checked-in federation SDL of the subgraph.
const SUBGRAPH_SDL: &str = include_str!("../../../schema/subgraph.graphql");

const ENTITIES: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) {
    __typename
    ... on Location { id name }
    ... on Employee { id firstName }
    ... on Inspection { id agency }
    ... on Permit { id permitNumber }
    ... on Credential { id kind }
    ... on Alert { id kind }
} }"#;

/// Executes `query` on `schema` as the holder of `credential` (a user token
/// or a connector key), the way the gateway's `/graphql` handler does.
async fn execute(
    app: &TestApp,
    schema: &SubgraphSchema,
    credential: &str,
    query: &str,
    variables: Value,
) -> Value {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        format!("Bearer {credential}").parse().expect("header"),
    );
    let principal = prep_gateway::http::authn::authenticate(&app.state, &headers, None)
        .await
        .expect("the credential authenticates");
    let scope = app
        .state
        .db
        .scope_within(principal.tenant, principal.access.reach());
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables))
        .data(RequestContext::new(
            principal,
            "subgraph-test".into(),
            scope.clone(),
        ))
        .data(Arc::clone(&app.state.audit));
    let response = schema.execute(request).await;
    scope.release_read().await;
    serde_json::to_value(&response).expect("response as JSON")
}

fn representation(ty: &str, id: &Value) -> Value {
    json!({ "__typename": ty, "id": id })
}

/// The first location, employee, inspection, permit, credential and alert
/// of a tenant.
async fn first_ids(app: &TestApp, t: &TestTenant) -> Value {
    let r = app
        .graphql(
            &t.token,
            "{ locations(first: 2) { nodes { id name } }
               employees(first: 1) { nodes { id firstName } }
               inspections(first: 1) { nodes { id agency } }
               permits(first: 1) { nodes { id permitNumber } }
               credentials(first: 1) { nodes { id kind } }
               alerts(first: 1) { nodes { id kind } } }",
            json!({}),
        )
        .await;
    r.data().clone()
}

fn uuid_of(global_id: &str) -> uuid::Uuid {
    let id = async_graphql::ID(global_id.to_owned());
    prep_resolvers::ids::decode_any(&id).expect("a global id").1
}

#[tokio::test]
async fn entities_are_the_callers_own_and_anything_else_is_null() {
    let app = TestApp::new().await;
    let a = app.seeded_tenant("acme").await;
    let b = app.seeded_tenant("bravo").await;
    let schema = prep_schema::build_subgraph(&SchemaOptions::default());
    let ours = first_ids(&app, &a).await;
    let theirs = first_ids(&app, &b).await;
    let first = |d: &Value, list: &str| d[list]["nodes"][0].clone();
    for list in ["credentials", "alerts"] {
        assert!(first(&theirs, list)["id"].is_string(), "{list}: {theirs}");
    }

    let garbage = json!("garbage");
    let r = execute(
        &app,
        &schema,
        &a.token,
        ENTITIES,
        json!({ "r": [
            representation("Location", &first(&ours, "locations")["id"]),
            representation("Location", &first(&theirs, "locations")["id"]),
            representation("Location", &garbage),
            // a well-formed id of another type
            representation("Location", &first(&ours, "employees")["id"]),
            representation("Employee", &first(&ours, "employees")["id"]),
            representation("Employee", &first(&theirs, "employees")["id"]),
            representation("Employee", &garbage),
            representation("Inspection", &first(&ours, "inspections")["id"]),
            representation("Inspection", &first(&theirs, "inspections")["id"]),
            representation("Permit", &first(&ours, "permits")["id"]),
            representation("Permit", &first(&theirs, "permits")["id"]),
            representation("Credential", &first(&ours, "credentials")["id"]),
            representation("Credential", &first(&theirs, "credentials")["id"]),
            representation("Alert", &first(&ours, "alerts")["id"]),
            representation("Alert", &first(&theirs, "alerts")["id"]),
        ] }),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    let with_type = |ty: &str, v: Value| {
        let mut v = v;
        v["__typename"] = json!(ty);
        v
    };
    let mut own_location = first(&ours, "locations");
    own_location
        .as_object_mut()
        .expect("object")
        .retain(|k, _| k == "id" || k == "name");
    assert_eq!(
        r["data"]["_entities"],
        json!([
            with_type("Location", own_location),
            null,
            null,
            null,
            with_type("Employee", first(&ours, "employees")),
            null,
            null,
            with_type("Inspection", first(&ours, "inspections")),
            null,
            with_type("Permit", first(&ours, "permits")),
            null,
            with_type("Credential", first(&ours, "credentials")),
            null,
            with_type("Alert", first(&ours, "alerts")),
            null,
        ])
    );
}

#[tokio::test]
async fn a_location_bound_caller_gets_only_the_locations_it_may_see() {
    let app = TestApp::new().await;
    let a = app.seeded_tenant("acme").await;
    let schema = prep_schema::build_subgraph(&SchemaOptions::default());
    let ours = first_ids(&app, &a).await;
    let here = ours["locations"]["nodes"][0].clone();
    let elsewhere = ours["locations"]["nodes"][1].clone();
    let manager = app
        .token(
            "acme",
            "manager@acme.example",
            &[Grant {
                role: Role::LocationManager,
                location: Some(uuid_of(here["id"].as_str().expect("id"))),
            }],
        )
        .await;
    let r = execute(
        &app,
        &schema,
        &manager,
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Location { id name } } }",
        json!({ "r": [
            representation("Location", &here["id"]),
            representation("Location", &elsewhere["id"]),
        ] }),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(r["data"]["_entities"], json!([here, null]));
}

#[tokio::test]
async fn service_serves_the_checked_in_subgraph_sdl_and_the_public_schema_has_no_federation() {
    let app = TestApp::new().await;
    let a = app.tenant("acme").await;
    let schema = prep_schema::build_subgraph(&SchemaOptions::default());
    let r = execute(&app, &schema, &a.token, "{ _service { sdl } }", json!({})).await;
    assert!(r.get("errors").is_none(), "{r}");
    let sdl = r["data"]["_service"]["sdl"].as_str().expect("sdl");
    assert_eq!(sdl, SUBGRAPH_SDL);
    assert_eq!(sdl, prep_schema::subgraph_sdl());

    // the public API (HTTP /graphql) answers neither field
    for query in [
        "{ _service { sdl } }",
        r#"{ _entities(representations: [{ __typename: "Location", id: "x" }]) { __typename } }"#,
    ] {
        let r = app.graphql(&a.token, query, json!({})).await;
        assert!(r.body["errors"][0]["message"].is_string(), "{}", r.body);
        assert!(
            r.body["data"].is_null() || r.body.get("data").is_none(),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn a_connector_needs_the_read_scope_of_every_entity_type_and_never_gets_service() {
    let app = TestApp::new().await;
    let a = app.seeded_tenant("acme").await;
    let b = app.seeded_tenant("bravo").await;
    let schema = prep_schema::build_subgraph_for_connectors(&SchemaOptions::default());
    let ours = first_ids(&app, &a).await;
    let theirs = first_ids(&app, &b).await;
    let location = ours["locations"]["nodes"][0].clone();
    let employee = &ours["employees"]["nodes"][0]["id"];
    let reader = app.connector(&a, &["locations:read"]).await;

    // its own scope: as for a user, the foreign and malformed ids are null
    let q =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Location { id name } } }";
    let r = execute(
        &app,
        &schema,
        &reader.api_key,
        q,
        json!({ "r": [
            representation("Location", &location["id"]),
            representation("Location", &theirs["locations"]["nodes"][0]["id"]),
            representation("Location", &json!("garbage")),
        ] }),
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(r["data"]["_entities"], json!([location, null, null]));

    // one entity type it may not read refuses the whole field, before any
    // look-up (even `__typename` alone would tell whether the id exists)
    let refused = [
        (
            json!({ "r": [representation("Location", &location["id"]), representation("Employee", employee)] }),
            q,
            Some("employees:read"),
        ),
        (
            json!({ "r": [representation("Employee", employee)] }),
            "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
            Some("employees:read"),
        ),
        (
            json!({}),
            r#"{ _entities(representations: [{ __typename: "Credential", id: "x" }]) { __typename } }"#,
            Some("credentials:read"),
        ),
        (
            json!({}),
            r#"{ _entities(representations: [{ __typename: "Connector", id: "x" }]) { __typename } }"#,
            None,
        ),
        (json!({}), "{ _service { sdl } }", None),
    ];
    for (variables, query, scope) in refused {
        let r = execute(&app, &schema, &reader.api_key, query, variables).await;
        let error = &r["errors"][0];
        assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{query}: {r}");
        assert_eq!(
            error["extensions"]["requiredScope"].as_str(),
            scope,
            "{query}: {r}"
        );
        assert!(r["data"].is_null(), "{query}: {r}");
    }
}
