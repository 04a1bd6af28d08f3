//! Compliance status: the rules engine, its storage, and the summaries
//! users read.

pub mod engine;
mod query;
mod store;

#[cfg(test)]
mod engine_tests;

pub use engine::Evaluation;
pub use query::ComplianceQuery;
pub use store::recompute;
