//! The HTTP edge: routes, the middleware stack, and the one mapping of
//! errors to responses.

pub mod authn;
mod error;
mod graphql;
mod health;
mod idempotency;
mod login;
mod middleware;
mod oauth;
pub mod per_ip;
mod sandbox;
mod scim;

pub use error::HttpError;
pub use middleware::{router, subgraph_router};
