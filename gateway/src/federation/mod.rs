//! Federation at the edge: how the gateway reaches subgraphs (in process
//! or over HTTP) and the router-only mode for conformance and benchmarks.

pub mod http;
pub mod inflight;
pub mod remote;
pub mod runtime;
pub mod settings;
pub mod standalone;
pub mod transport;

/// Why federation could not start.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// The supergraph could not be loaded.
    #[error(transparent)]
    Supergraph(#[from] prep_schema::federation::SupergraphError),
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
    /// The subgraphs could not be read or do not compose.
    #[error("the supergraph could not be composed:\n  - {}", .0.join("\n  - "))]
    Composition(Vec<String>),
}
