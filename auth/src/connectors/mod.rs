//! Connector clients: ERP and HRIS systems acting for a tenant with exactly
//! the scopes an admin granted them, at the locations and from the
//! addresses the admin allowed.
//!
//! Two ways in, one authorisation model: an API key sent as a header, or
//! the OAuth2 client credentials grant (`client_id` = the connector, the
//! key as `client_secret`) that yields a short-lived gateway token. Either
//! way the request runs as an [`crate::Actor::Connector`] with
//! [`crate::Access::Scopes`], and the key's current state is checked on
//! every request.

pub mod apikey;
pub mod cidr;
mod oauth;
mod registry;
mod scopes;
pub mod store;

pub use apikey::Environment;
pub use oauth::{ClientGrant, OAuthError};
pub use registry::{ConnectorAuth, ConnectorSettings, KeyRefusal, KeyState, Refused};
pub use scopes::ScopeSet;
