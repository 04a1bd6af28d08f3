//! `prep-gateway federation serve`: the router alone over a supergraph
//! file, with no database, tenancy or authentication. It exists for the
//! federation conformance suite and for benchmarks against other routers;
//! it listens on loopback unless told otherwise and must never face users.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prep_schema::federation::{
    BoxFuture, Executed, GraphQLError, SubgraphRequest, SubgraphResponse, Supergraph, Transport,
    TransportError,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::http::{HttpOptions, HttpSubgraph};
use super::FederationError;

/// The router's shared state.
pub struct RouterOnly {
    supergraph: Supergraph,
    subgraphs: HashMap<String, HttpSubgraph>,
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
            let subgraph = HttpSubgraph::new(&name, url, options.clone())
                .map_err(|e| FederationError::Config(format!("subgraph {name}: {e}")))?;
            subgraphs.insert(name, subgraph);
        }
        Ok(Self {
            supergraph,
            subgraphs,
        })
    }
}

impl Transport for RouterOnly {
    fn send<'a>(
        &'a self,
        request: SubgraphRequest<'a>,
    ) -> BoxFuture<'a, Result<SubgraphResponse, TransportError>> {
        Box::pin(async move {
            match self.subgraphs.get(request.subgraph) {
                Some(subgraph) => subgraph.send(&request, Default::default()).await,
                None => Err(TransportError::Unknown),
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
    let executed = run(&router, request, router.as_ref()).await;
    (
        [(header::CONTENT_TYPE, "application/json")],
        executed.to_body(),
    )
        .into_response()
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
