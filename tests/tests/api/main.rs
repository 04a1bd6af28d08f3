//! Black-box tests of the whole gateway over real PostgreSQL: one binary,
//! one database per test.

mod access;
mod catalog;
mod domain;
mod groups;
mod http_edge;
mod identity_admin;
mod idp_harness;
mod isolation;
mod runtime_role;
mod scim_edge;
mod scim_groups;
mod scim_rfc;
mod scim_users;
mod sso;
mod sso_scim;
mod tokens;
