//! SCIM 2.0 provisioning (RFC 7643, RFC 7644) for IT admins' IdPs (Okta,
//! Entra ID). The HTTP edge lives in the gateway; here are the protocol's
//! parts: the attribute catalogue, filters translated to SQL, the PATCH
//! engine, projection, the resources and their store, and SCIM tokens.
//! `scim_v2` parses filters and PATCH paths behind [`filter`] only, so it
//! can be swapped.

pub mod discovery;
mod error;
pub mod filter;
mod filter_compare;
mod filter_sql;
mod groups;
pub mod list;
pub mod patch;
pub mod projection;
pub mod schema;
mod service;
mod store;
pub mod tokens;
mod users;
pub mod values;

pub use error::{ScimError, ScimType, ERROR_URN};
pub use service::{Call, Kind, Resource, Scim};
pub use tokens::{ScimClient, ScimTokenInfo, ScimTokens};
