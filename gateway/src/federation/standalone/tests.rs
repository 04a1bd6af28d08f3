//! In-flight sharing, against a subgraph on real TCP that counts its
//! calls and answers slowly enough for requests to overlap.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::routing::post;
use serde_json::json;

use super::*;

const SUPERGRAPH: &str = r#"
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION) {
  query: Query
  mutation: Mutation
}
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar join__FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
enum join__Graph { ECHO @join__graph(name: "echo", url: "URL") }
type Query @join__type(graph: ECHO) { echo(word: String!): String }
type Mutation @join__type(graph: ECHO) { bump: Int }
"#;

/// Answers `echo` with its word and `bump` with the call count, after
/// 300 ms.
async fn subgraph() -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let app = Router::new().route(
        "/",
        post(move |Json(body): Json<Value>| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let data = match body["variables"]["word"].as_str() {
                    Some(word) => json!({ "echo": word }),
                    None => json!({ "bump": n }),
                };
                Json(json!({ "data": data }))
            }
        }),
    );
    (format!("http://{}/", serve(app).await), calls)
}

/// Serves `app` on a free loopback port.
async fn serve(app: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The router on real TCP; returns its `/graphql` URL.
async fn router(subgraph_url: &str) -> String {
    let sdl = SUPERGRAPH.replace("URL", subgraph_url);
    let router = Arc::new(
        RouterOnly::load(&sdl, &HttpOptions::default()).expect("the test supergraph loads"),
    );
    format!("http://{}/graphql", serve(routes(router)).await)
}

async fn ask(client: &reqwest::Client, url: &str, body: Value) -> Value {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the router answers");
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&response.bytes().await.expect("a body")).expect("a JSON body")
}

async fn ask_many(url: &str, bodies: Vec<Value>) -> Vec<Value> {
    let client = reqwest::Client::new();
    let asks = bodies.into_iter().map(|body| {
        let (client, url) = (client.clone(), url.to_owned());
        tokio::spawn(async move { ask(&client, &url, body).await })
    });
    let mut answers = Vec::new();
    for ask in asks.collect::<Vec<_>>() {
        answers.push(ask.await.expect("the request task"));
    }
    answers
}

const ECHO: &str = "query Echo($word: String!) { echo(word: $word) }";

/// Every answer is `echo` of `word`, without errors.
fn assert_all_echo(answers: &[Value], word: &str) {
    for answer in answers {
        assert_eq!(*answer, json!({ "data": { "echo": word } }));
    }
}

#[tokio::test]
async fn identical_queries_in_flight_share_one_fan_out() {
    let (subgraph_url, calls) = subgraph().await;
    let url = router(&subgraph_url).await;
    let body = json!({ "query": ECHO, "variables": { "word": "hi" } });
    // The first sighting plans the operation and runs alone.
    ask_many(&url, vec![body.clone()]).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let answers = ask_many(&url, vec![body; 20]).await;
    assert_all_echo(&answers, "hi");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "20 overlapping queries, one call"
    );

    // Once answered, the same query is fetched afresh.
    let body = json!({ "query": ECHO, "variables": { "word": "hi" } });
    ask_many(&url, vec![body]).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn different_variables_are_never_shared() {
    let (subgraph_url, calls) = subgraph().await;
    let url = router(&subgraph_url).await;
    ask_many(
        &url,
        vec![json!({ "query": ECHO, "variables": { "word": "x" } })],
    )
    .await;
    let words = ["a", "b", "c", "d"];
    let bodies = words
        .iter()
        .map(|w| json!({ "query": ECHO, "variables": { "word": w } }))
        .collect();
    let answers = ask_many(&url, bodies).await;
    for (answer, word) in answers.iter().zip(words) {
        assert_eq!(*answer, json!({ "data": { "echo": word } }));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1 + words.len());
}

#[tokio::test]
async fn mutations_run_once_per_request() {
    let (subgraph_url, calls) = subgraph().await;
    let url = router(&subgraph_url).await;
    let body = json!({ "query": "mutation { bump }" });
    ask_many(&url, vec![body.clone()]).await;
    let answers = ask_many(&url, vec![body; 5]).await;
    assert_eq!(calls.load(Ordering::SeqCst), 6);
    let mut counts: Vec<_> = answers.iter().map(|a| a["data"]["bump"].clone()).collect();
    counts.sort_by_key(|c| c.as_u64());
    assert_eq!(counts, (2..=6).map(|n| json!(n)).collect::<Vec<_>>());
}

#[tokio::test]
async fn distinct_queries_share_identical_subgraph_calls_in_flight() {
    let (subgraph_url, calls) = subgraph().await;
    let url = router(&subgraph_url).await;
    // `tag` (a variable the operation does not declare) makes every
    // client request distinct, but the subgraph is only sent what the
    // operation uses: the same call each time.
    let ask_with = |tag: i64| json!({ "query": ECHO, "variables": { "word": "hi", "tag": tag } });
    ask_many(&url, vec![ask_with(0)]).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let answers = ask_many(&url, (1..=10).map(ask_with).collect()).await;
    assert_all_echo(&answers, "hi");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "ten distinct queries in flight, one identical subgraph call"
    );
}

#[tokio::test]
async fn introspection_is_answered_beside_the_data_without_calling_the_subgraph_for_it() {
    let (subgraph_url, calls) = subgraph().await;
    let url = router(&subgraph_url).await;
    let client = reqwest::Client::new();
    let answer = ask(
        &client,
        &url,
        json!({
            "query": r#"query($word: String!) { __type(name: "Query") { fields { name } } echo(word: $word) }"#,
            "variables": { "word": "hi" },
        }),
    )
    .await;
    assert_eq!(
        answer,
        json!({ "data": { "__type": { "fields": [{ "name": "echo" }] }, "echo": "hi" } })
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let answer = ask(
        &client,
        &url,
        json!({ "query": "{ __schema { mutationType { name } } }" }),
    )
    .await;
    assert_eq!(
        answer,
        json!({ "data": { "__schema": { "mutationType": { "name": "Mutation" } } } })
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "introspection alone calls no one"
    );
}
