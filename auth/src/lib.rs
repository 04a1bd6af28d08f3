//! Who the caller is and what it may do: the gateway's keyring and tokens,
//! revocations, roles and permissions, browser sessions and OIDC SSO.

pub mod access;
mod error;
mod keyring;
mod keys;
mod principal;
mod revocations;
pub mod scim;
pub mod seal;
mod security;
pub mod sessions;
pub mod sso;
mod tokens;
pub mod users;

pub use access::{Access, Action, Grant, Permission, Resource, Role, Target};
pub use error::AuthError;
pub use keyring::{Keyring, Rotation, RotationPolicy};
pub use keys::SigningKey;
pub use principal::{Actor, Principal, Via};
pub use revocations::RevocationList;
pub use seal::MasterKey;
pub use security::SecurityLog;
pub use sessions::{ActiveSession, SessionPolicy, Sessions};
pub use tokens::{Claims, Rejection, TokenRejection, TokenService, TokenSettings, TokenSubject};
