//! The Prep Gateway: configuration, the HTTP edge, and the wiring of every
//! crate. `main.rs` is a thin shell over [`cli`]; tests build the same
//! [`app::App`] and drive its router in process.

// async-graphql's executor futures are deep types; serving the subgraph
// schema from a handler needs more than the default 128 levels.
#![recursion_limit = "256"]

pub mod admin;
pub mod app;
pub mod cli;
pub mod config;
pub mod federation;
pub mod governance;
pub mod http;
pub mod metrics;
pub mod periodic;
pub mod reviewer;
pub mod sandbox_end;
pub mod telemetry;
