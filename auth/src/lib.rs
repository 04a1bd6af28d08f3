//! Who the caller is and what it may do.
//!
//! Today: the gateway's own short-lived access tokens (EdDSA JWTs) and the
//! [`Principal`] a verified token becomes. SSO, sessions, roles, connector
//! clients and SCIM build on these types.

mod error;
mod keys;
mod principal;
mod tokens;
pub mod users;

pub use error::AuthError;
pub use keys::SigningKey;
pub use principal::{Actor, Principal};
pub use tokens::{Claims, TokenService, TokenSettings};
