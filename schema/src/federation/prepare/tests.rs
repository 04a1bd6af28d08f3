use serde_json::{json, Map, Value};

use crate::federation::compose::{compose, SubgraphSource};
use crate::federation::{
    BoxFuture, Data, SubgraphRequest, SubgraphResponse, Supergraph, Transport, TransportError,
};

const PRODUCTS: &str = r#"
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    type Query { topProducts(first: Int = 5): [Product!]! }
    type Product @key(fields: "upc") { upc: String! name: String! }
"#;

fn supergraph() -> Supergraph {
    let source = SubgraphSource {
        name: "products".into(),
        url: "http://products.internal/graphql".into(),
        sdl: PRODUCTS.into(),
    };
    Supergraph::new(&compose(&[source]).expect("composes")).expect("loads")
}

/// Answers every call with `answer`, as a subgraph that adds introspection's
/// keys to its data would.
struct Canned(Value);

impl Transport for Canned {
    fn send<'a>(
        &'a self,
        _request: SubgraphRequest<'a>,
    ) -> BoxFuture<'a, Result<SubgraphResponse, TransportError>> {
        let data = Data::from(self.0.clone());
        Box::pin(async move {
            Ok(SubgraphResponse {
                data: Some(data),
                errors: Vec::new(),
            })
        })
    }
}

#[test]
fn introspection_is_kept_out_of_the_plan() {
    let graph = supergraph();
    let mixed = graph
        .prepare(
            "{ __schema { queryType { name } } topProducts { name } ... on Query { t: __type(name: \"Product\") { name } } }",
            None,
        )
        .expect("plans");
    assert!(mixed.introspects());
    assert_eq!(mixed.subgraphs(), ["products".to_owned()]);
    let keys = &mixed.introspection.as_ref().expect("introspection").keys;
    assert_eq!(keys, &["__schema".to_owned(), "t".to_owned()]);

    let only = graph
        .prepare("{ __type(name: \"Product\") { name } __typename }", None)
        .expect("plans");
    assert!(only.introspects());
    assert!(only.subgraphs().is_empty());

    let spread = graph
        .prepare(
            "fragment F on Query { t: __type(name: \"Product\") { name } } { ...F topProducts { name } }",
            None,
        )
        .expect("plans");
    assert_eq!(
        spread.introspection.as_ref().expect("introspection").keys,
        ["t".to_owned()]
    );
    assert_eq!(spread.subgraphs(), ["products".to_owned()]);

    let data = graph
        .prepare("{ topProducts { name } }", None)
        .expect("plans");
    assert!(!data.introspects());
}

#[test]
fn the_playgrounds_full_introspection_query_is_prepared() {
    let query = r#"
        query IntrospectionQuery {
          __schema {
            queryType { name } mutationType { name } subscriptionType { name }
            types { ...FullType }
            directives { name description locations args { ...InputValue } }
          }
        }
        fragment FullType on __Type {
          kind name description
          fields(includeDeprecated: true) {
            name description args { ...InputValue } type { ...TypeRef }
            isDeprecated deprecationReason
          }
          inputFields { ...InputValue }
          interfaces { ...TypeRef }
          enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
          possibleTypes { ...TypeRef }
        }
        fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
        fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name } } }
    "#;
    let prepared = supergraph()
        .prepare(query, Some("IntrospectionQuery"))
        .expect("plans");
    assert!(prepared.introspects());
    assert!(prepared.subgraphs().is_empty());
}

#[tokio::test]
async fn introspection_joins_the_data_in_the_clients_order_and_only_the_gateway_answers_it() {
    let graph = supergraph();
    let prepared = graph
        .prepare(
            "query($t: String!) { a: __type(name: $t) { name kind } topProducts { name } __schema { queryType { name } } }",
            None,
        )
        .expect("plans");
    let subgraph = Canned(json!({
        "topProducts": [{ "name": "chair" }],
        "__schema": { "queryType": { "name": "injected" } },
        "a": { "name": "injected" },
    }));
    let mut variables = Map::new();
    variables.insert("t".into(), json!("Product"));
    let executed = graph.execute(&prepared, variables, &subgraph).await;
    assert!(executed.errors.is_empty(), "{:?}", executed.errors);
    assert_eq!(
        executed.data,
        r#"{"a":{"name":"Product","kind":"OBJECT"},"topProducts":[{"name":"chair"}],"__schema":{"queryType":{"name":"Query"}}}"#
    );
}
