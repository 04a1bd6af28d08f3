//! Everything that keeps tenants apart: their data (row-level security)
//! and their share of the platform (rate limits, cost budgets, bulkheads).
//!
//! The only way to run a statement on tenant data is through a [`TenantTx`]
//! or a [`TenantScope`], and both come into being with the tenant already set
//! as a transaction-local PostgreSQL setting that the row-level security
//! policies read. There is deliberately no public way to get a raw pooled
//! connection out of this crate.
//!
//! This crate knows nothing of HTTP or GraphQL.

mod connectors;
mod database;
mod error;
mod idempotency;
mod identity;
pub mod quotas;
mod reach;
mod sandboxes;
mod scope;
mod tenant;
mod tenants;

pub use connectors::{ConnectorKeyRecord, ConnectorUse, SandboxKeyRecord};
pub use database::{Database, DbShare, DueReview, PoolSettings};
pub use error::TenancyError;
pub use idempotency::{Claim, IdempotencyKey};
pub use identity::{
    IdentityListener, IdentityNotice, ResolvedSession, Revocation, ScimTokenRecord, SecurityEvent,
    StoredKey,
};
pub use reach::Reach;
pub use scope::{ReadGuard, StatementCount, TenantScope, TenantTx};
pub use tenant::{TenantId, TenantSlug};
pub use tenants::{CreateTenantError, NewTenant, TenantPlan};
