//! Introspection through the federated API: mixed with data in one
//! operation, answered beside the plan in the client's order, and refused
//! before any subgraph is called where it is off.

use serde_json::json;

use super::federation::{codes, federated, federated_with, health_score, requests};

#[tokio::test]
async fn introspection_and_data_in_one_operation_are_answered_together_in_the_clients_order() {
    let f = federated(None, json!({})).await;
    let a = f.app.seeded_tenant("fed-mixed").await;
    let query = r#"query Mixed($name: String!) {
        locations(first: 1) { nodes { id healthScore } }
        schema: __schema { queryType { name } }
        ... on Query { bulletins: regulatoryBulletins(first: 1) { title } __typename }
        location: __type(name: $name) { name kind fields { name } }
        missing: __type(name: "Nope") { name }
    }"#;
    let r = f
        .app
        .graphql(&a.token, query, json!({ "name": "Location" }))
        .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);
    let data = r.data();
    let keys: Vec<&String> = data.as_object().expect("data").keys().collect();
    assert_eq!(
        keys,
        [
            "locations",
            "schema",
            "bulletins",
            "__typename",
            "location",
            "missing"
        ]
    );
    let node = &data["locations"]["nodes"][0];
    assert_eq!(
        node["healthScore"],
        health_score(node["id"].as_str().expect("id"))
    );
    assert_eq!(data["schema"], json!({ "queryType": { "name": "Query" } }));
    assert_eq!(data["bulletins"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["__typename"], "Query");
    assert_eq!(data["location"]["kind"], "OBJECT");
    let fields: Vec<&str> = data["location"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    for field in ["name", "healthScore", "notices"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    assert!(data["missing"].is_null());

    // A variable introspection reads is checked like any other.
    let r = f.app.graphql(&a.token, query, json!({})).await;
    assert_eq!(codes(&r.body), ["BAD_USER_INPUT"], "{}", r.body);
}

#[tokio::test]
async fn introspection_that_is_off_is_refused_before_any_subgraph_is_called() {
    let f = federated_with(None, json!({}), |s| s.graphql.introspection = false).await;
    let a = f.app.seeded_tenant("fed-no-introspection").await;
    let before = requests(&f.subgraph).await;
    for query in [
        "{ __schema { queryType { name } } }",
        "{ __type(name: \"Location\") { name } regulatoryBulletins { title } }",
    ] {
        let r = f.app.graphql(&a.token, query, json!({})).await;
        assert_eq!(codes(&r.body), ["INTROSPECTION_DISABLED"], "{}", r.body);
        assert!(r.body["data"].is_null(), "{}", r.body);
    }
    assert_eq!(requests(&f.subgraph).await, before);
    let r = f
        .app
        .graphql(
            &a.token,
            "{ __typename regulatoryBulletins { title } }",
            json!({}),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);

    // sandboxes keep introspection, of the whole federated API
    let (status, created) = super::sandbox::post_json(&f.app, "/sandbox/api/tenants", None).await;
    assert_eq!(status, 201, "{created}");
    let sandbox = created["token"].as_str().expect("token");
    let r = f
        .app
        .graphql(
            sandbox,
            "{ __type(name: \"Notice\") { name } regulatoryBulletins(first: 1) { title } }",
            json!({}),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);
    assert_eq!(r.data()["__type"]["name"], "Notice");
}
