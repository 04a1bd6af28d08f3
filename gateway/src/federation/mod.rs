//! Federation at the edge: how the gateway reaches subgraphs (in process
//! or over HTTP) and the router-only mode for conformance and benchmarks.

pub mod http;
pub mod standalone;

/// Why federation could not start.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// The supergraph could not be loaded.
    #[error(transparent)]
    Supergraph(#[from] prep_schema::federation::SupergraphError),
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
}
