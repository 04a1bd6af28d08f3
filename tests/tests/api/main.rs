//! Black-box tests of the whole gateway over real PostgreSQL: one binary,
//! one database per test.

mod access;
mod apart;
mod catalog;
mod connector_isolation;
mod connectors;
mod domain;
mod domain_apart;
mod federation;
mod federation_faults;
mod federation_introspection;
mod groups;
mod http_edge;
mod idempotency;
mod identity_admin;
mod idp_harness;
mod isolation;
mod limits;
mod limits_shared;
mod oauth;
mod platform_apart;
mod runtime_role;
mod sandbox;
mod sandbox_browser;
mod sandbox_end;
mod scim_edge;
mod scim_groups;
mod scim_rfc;
mod scim_users;
mod sso;
mod sso_scim;
mod subgraph;
mod sync;
mod tokens;
