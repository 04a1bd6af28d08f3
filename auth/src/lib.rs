//! Who the caller is and what it may do: the gateway's keyring and tokens,
//! revocations, roles and permissions, browser sessions, OIDC SSO, SCIM
//! provisioning and connector clients.

pub mod access;
pub mod connectors;
mod error;
mod keyring;
mod keys;
mod principal;
mod revocations;
pub mod sandbox_keys;
pub mod scim;
pub mod seal;
mod security;
pub mod sessions;
pub mod sso;
mod sync;
mod tokens;
pub mod users;

pub use access::{Access, Action, Grant, Permission, Resource, Role, ScopeGrant, Target};
pub use error::AuthError;
pub use keyring::{Keyring, Rotation, RotationPolicy};
pub use keys::SigningKey;
pub use principal::{Actor, Principal, Via};
pub use revocations::RevocationList;
pub use seal::MasterKey;
pub use security::SecurityLog;
pub use sessions::{ActiveSession, SessionPolicy, Sessions};
pub use sync::IdentitySync;
pub use tokens::{
    Budget, Claims, ConnectorSubject, Rejection, SubgraphClaims, TokenRejection, TokenService,
    TokenSettings, TokenSubject, SUBGRAPH_TOKEN_TTL,
};
