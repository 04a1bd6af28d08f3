//! `prep-gateway federation serve`: the router alone over a supergraph
//! file, with no database, tenancy or authentication. It exists for the
//! federation conformance suite and for benchmarks against other routers;
//! it listens on loopback unless told otherwise and must never face users.
//! With no principals to keep apart, identical queries in flight share one
//! answer and identical subgraph calls in flight one call, as the routers
//! it is measured against do by default.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prep_schema::federation::{
    BoxFuture, Executed, GraphQLError, SubgraphRequest, SubgraphResponse, Supergraph, Transport,
    TransportError,
};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::http::{request_body, HttpOptions, HttpSubgraph};
use super::inflight::InFlight;
use super::FederationError;

/// The router's shared state.
pub struct RouterOnly {
    supergraph: Supergraph,
    subgraphs: HashMap<String, Subgraph>,
    /// Queries being answered, by their text, operation name and
    /// variables: an identical query arriving meanwhile waits for that
    /// answer instead of fanning out again.
    queries: Arc<InFlight<String, Bytes>>,
}

/// A subgraph and the calls to it in flight, by request body: an
/// identical call (the same operation with the same variables, which is
/// what nested plans send for every client asking the same thing) waits
/// for that answer instead of being sent again, and gets a copy of it
/// already read. Mutations never share.
struct Subgraph {
    http: Arc<HttpSubgraph>,
    calls: Arc<InFlight<Bytes, Result<Arc<SubgraphResponse>, TransportError>>>,
}

impl RouterOnly {
    /// Loads the supergraph and prepares a connection pool per subgraph
    /// URL it names.
    pub fn load(sdl: &str, options: &HttpOptions) -> Result<Self, FederationError> {
        let supergraph = Supergraph::new(sdl)?;
        let mut subgraphs = HashMap::new();
        for (name, url) in supergraph.subgraphs() {
            let url = reqwest::Url::parse(&url).map_err(|e| {
                FederationError::Config(format!("subgraph {name}: URL {url:?} is not valid: {e}"))
            })?;
            let http = HttpSubgraph::new(&name, url, options.clone())
                .map_err(|e| FederationError::Config(format!("subgraph {name}: {e}")))?;
            let subgraph = Subgraph {
                http: Arc::new(http),
                calls: Arc::default(),
            };
            subgraphs.insert(name, subgraph);
        }
        Ok(Self {
            supergraph,
            subgraphs,
            queries: Arc::default(),
        })
    }

    /// Answers a request, sharing the answer of an identical query in
    /// flight. Only queries whose plan is cached are shared: a mutation
    /// must run once per request, and a first sighting is planned alone.
    /// `None` when the shared work died.
    async fn answer(self: &Arc<Self>, request: GraphQLRequest) -> Option<Bytes> {
        let shareable = self
            .supergraph
            .cached(&request.query, request.operation_name.as_deref())
            .is_some_and(|prepared| !prepared.mutation);
        if !shareable {
            let executed = run(self, request, &**self).await;
            return Some(Bytes::from(executed.to_body()));
        }
        let key = request.key();
        let router = Arc::clone(self);
        let work = async move { Bytes::from(run(&router, request, &*router).await.to_body()) };
        self.queries.share(key, work).await
    }
}

impl Transport for RouterOnly {
    fn send<'a>(
        &'a self,
        request: SubgraphRequest<'a>,
    ) -> BoxFuture<'a, Result<SubgraphResponse, TransportError>> {
        Box::pin(async move {
            let Some(subgraph) = self.subgraphs.get(request.subgraph) else {
                return Err(TransportError::Unknown);
            };
            if request.mutation {
                return subgraph.http.send(&request, HeaderMap::new()).await;
            }
            let body = Bytes::from(request_body(request.query, &request.variables));
            let http = Arc::clone(&subgraph.http);
            let call = {
                let body = body.clone();
                async move { http.post(body, HeaderMap::new()).await.map(Arc::new) }
            };
            match subgraph.calls.share(body, call).await {
                // Each caller merges its own copy into its own response.
                Some(answer) => answer.map(|shared| SubgraphResponse::clone(&shared)),
                None => Err(TransportError::Unreachable),
            }
        })
    }
}

/// A GraphQL-over-HTTP request body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLRequest {
    /// The document.
    pub query: String,
    /// Variables, if any.
    #[serde(default)]
    pub variables: Option<Map<String, Value>>,
    /// Which operation of the document to run.
    #[serde(default)]
    pub operation_name: Option<String>,
}

impl GraphQLRequest {
    /// What makes two requests the same query. Variables serialise in key
    /// order, so equal variables give equal keys.
    fn key(&self) -> String {
        let variables = self
            .variables
            .as_ref()
            .map(|v| serde_json::to_string(v).unwrap_or_default())
            .unwrap_or_default();
        let name = self.operation_name.as_deref().unwrap_or_default();
        let mut key = String::with_capacity(self.query.len() + name.len() + variables.len() + 2);
        for part in [self.query.as_str(), name, &variables] {
            key.push_str(part);
            key.push('\0');
        }
        key
    }
}

/// Plans (off the async runtime when the plan is not cached) and runs one
/// request.
pub async fn run(
    supergraph: &Arc<impl AsRef<Supergraph> + Send + Sync + 'static>,
    request: GraphQLRequest,
    transport: &dyn Transport,
) -> Executed {
    let graph: &Supergraph = (**supergraph).as_ref();
    let operation_name = request.operation_name.as_deref();
    let prepared = match graph.cached(&request.query, operation_name) {
        Some(p) => Ok(p),
        None => {
            let owner = Arc::clone(supergraph);
            let query = request.query.clone();
            let name = request.operation_name.clone();
            tokio::task::spawn_blocking(move || (*owner).as_ref().prepare(&query, name.as_deref()))
                .await
                .unwrap_or_else(|_| {
                    Err(vec![GraphQLError::new(
                        "The operation could not be planned",
                        "QUERY_PLANNING_FAILED",
                    )])
                })
        }
    };
    match prepared {
        Ok(prepared) => {
            graph
                .execute(&prepared, request.variables.unwrap_or_default(), transport)
                .await
        }
        Err(errors) => Executed::failed(errors),
    }
}

impl AsRef<Supergraph> for RouterOnly {
    fn as_ref(&self) -> &Supergraph {
        &self.supergraph
    }
}

async fn graphql(
    State(router): State<Arc<RouterOnly>>,
    body: Result<Json<GraphQLRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let request = match body {
        Ok(Json(r)) => r,
        Err(rejection) => {
            let error = GraphQLError::new(
                format!(
                    "The request is not a GraphQL request: {}",
                    rejection.body_text()
                ),
                "BAD_REQUEST",
            );
            let body = Executed::failed(vec![error]).to_body();
            return (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response();
        }
    };
    match router.answer(request).await {
        Some(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        None => {
            tracing::error!("a shared query's task ended without an answer");
            let error = GraphQLError::new("The request could not be answered", "INTERNAL_ERROR");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "application/json")],
                Executed::failed(vec![error]).to_body(),
            )
                .into_response()
        }
    }
}

/// The router's HTTP routes: `POST /graphql`, `GET /healthz`.
pub fn routes(router: Arc<RouterOnly>) -> Router {
    Router::new()
        .route("/graphql", post(graphql))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(router)
}

/// Serves a supergraph file until Ctrl-C.
pub async fn serve(
    path: &Path,
    listen: SocketAddr,
    options: HttpOptions,
) -> Result<(), FederationError> {
    let sdl = std::fs::read_to_string(path)
        .map_err(|e| FederationError::Config(format!("cannot read {}: {e}", path.display())))?;
    let router = Arc::new(RouterOnly::load(&sdl, &options)?);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| FederationError::Config(format!("cannot listen on {listen}: {e}")))?;
    tracing::info!(%listen, subgraphs = router.subgraphs.len(), "federation router listening");
    axum::serve(listener, routes(router))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| FederationError::Config(format!("server failed: {e}")))
}

#[cfg(test)]
mod tests;
