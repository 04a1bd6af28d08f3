//! The OAuth2 client credentials grant (RFC 6749 §4.4) for connectors: the
//! protocol's decisions, apart from HTTP. The client is the connector (its
//! id is the `client_id`); its API key is the `client_secret`.

use std::net::IpAddr;
use std::sync::Arc;

use uuid::Uuid;

use super::registry::{KeyRefusal, KeyState, Refused};
use super::{ConnectorAuth, ScopeSet};

/// The error codes of RFC 6749 §5.2, with what to tell the client.
#[derive(Debug)]
pub enum OAuthError {
    /// A parameter is missing, repeated or malformed.
    InvalidRequest(String),
    /// Client authentication failed (the reason is for the security log).
    InvalidClient(Refused),
    /// The grant type is not `client_credentials`.
    UnsupportedGrantType,
    /// A requested scope is unknown or not granted to this client.
    InvalidScope(String),
}

impl OAuthError {
    /// The `error` code on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient(_) => "invalid_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
        }
    }

    /// The `error_description`: never what exactly was wrong with a
    /// credential.
    pub fn description(&self) -> String {
        match self {
            OAuthError::InvalidRequest(m) | OAuthError::InvalidScope(m) => m.clone(),
            OAuthError::InvalidClient(_) => {
                "client authentication failed: unknown client, wrong, expired or revoked secret, \
                 or a source address the client may not use"
                    .to_owned()
            }
            OAuthError::UnsupportedGrantType => {
                "only the client_credentials grant is supported".to_owned()
            }
        }
    }
}

/// A successful grant: whose key, and the scopes of the token to issue.
#[derive(Debug)]
pub struct ClientGrant {
    /// The authenticated key.
    pub key: Arc<KeyState>,
    /// The scopes granted to the token: those asked for, or all the
    /// client holds when it asked for none.
    pub scopes: ScopeSet,
}

impl ConnectorAuth {
    /// Authenticates a client and decides the token's scopes.
    pub async fn client_credentials(
        &self,
        grant_type: &str,
        client_id: &str,
        client_secret: &str,
        scope: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<ClientGrant, OAuthError> {
        if grant_type != "client_credentials" {
            return Err(OAuthError::UnsupportedGrantType);
        }
        let client: Uuid = client_id
            .parse()
            .map_err(|_| OAuthError::InvalidClient(Refused::from(KeyRefusal::Unknown)))?;
        let key = self
            .verify_secret(client_secret)
            .await
            .map_err(OAuthError::InvalidClient)?;
        if key.connector_id != client {
            return Err(OAuthError::InvalidClient(Refused {
                reason: KeyRefusal::Secret,
                tenant: Some(key.tenant),
                connector: Some(key.connector_id),
            }));
        }
        self.usable(&key, ip).map_err(OAuthError::InvalidClient)?;
        let scopes = match scope.map(str::trim).filter(|s| !s.is_empty()) {
            None => key.scopes,
            Some(asked) => {
                let asked_set = ScopeSet::parse(asked.split(' ').filter(|s| !s.is_empty()))
                    .map_err(OAuthError::InvalidScope)?;
                if let Some(missing) = asked_set.iter().find(|p| !key.scopes.allows(*p)) {
                    return Err(OAuthError::InvalidScope(format!(
                        "the scope `{missing}` is not granted to this client"
                    )));
                }
                asked_set
            }
        };
        self.note_use(&key, ip);
        Ok(ClientGrant { key, scopes })
    }
}
