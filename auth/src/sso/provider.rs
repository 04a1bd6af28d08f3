//! What we know of each identity provider: its discovery document and key
//! set, cached per connection.
//!
//! `openidconnect` keeps the key set it was built with forever; an IdP that
//! rotates its keys would lock every user out. So an id_token signed with a
//! `kid` we do not know refetches the JWKS, at most once per
//! `jwks_min_refetch` per connection (a flood of forged tokens cannot turn us
//! into a load generator against the IdP).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::CoreJsonWebKeySet;
use openidconnect::{IssuerUrl, ProviderMetadataWithLogout};
use uuid::Uuid;

use super::SsoError;

#[derive(Clone)]
struct Cached {
    issuer: String,
    metadata: Arc<ProviderMetadataWithLogout>,
    fetched: Instant,
    jwks_fetched: Instant,
}

/// Discovery documents by connection.
pub(crate) struct Providers {
    http: reqwest::Client,
    cache: Mutex<HashMap<Uuid, Cached>>,
    max_age: Duration,
    jwks_min_refetch: Duration,
}

impl Providers {
    pub(crate) fn new(http: reqwest::Client, jwks_min_refetch: Duration) -> Self {
        Self {
            http,
            cache: Mutex::new(HashMap::new()),
            max_age: Duration::from_secs(3600),
            jwks_min_refetch,
        }
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The provider's metadata, from cache while fresh (an hour) and for
    /// the same issuer, else discovered now.
    pub(crate) async fn metadata(
        &self,
        connection: Uuid,
        issuer: &str,
    ) -> Result<Arc<ProviderMetadataWithLogout>, SsoError> {
        if let Some(hit) = self.lookup(connection) {
            if hit.issuer == issuer && hit.fetched.elapsed() < self.max_age {
                return Ok(hit.metadata);
            }
        }
        self.discover(connection, issuer).await
    }

    fn lookup(&self, connection: Uuid) -> Option<Cached> {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&connection)
            .cloned()
    }

    /// Discovers the provider (used by "test connection" too).
    pub(crate) async fn discover(
        &self,
        connection: Uuid,
        issuer: &str,
    ) -> Result<Arc<ProviderMetadataWithLogout>, SsoError> {
        let issuer_url = IssuerUrl::new(issuer.to_owned())
            .map_err(|_| SsoError::Misconfigured("the issuer is not a URL"))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer_url, &self.http)
            .await
            .map_err(|e| SsoError::IdpUnavailable(format!("discovery of {issuer}: {e}")))?;
        let metadata = Arc::new(metadata);
        let now = Instant::now();
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(
            connection,
            Cached {
                issuer: issuer.to_owned(),
                metadata: Arc::clone(&metadata),
                fetched: now,
                jwks_fetched: now,
            },
        );
        Ok(metadata)
    }

    /// Refetches the key set after an unknown `kid`, unless that was done
    /// less than `jwks_min_refetch` ago. Returns the new metadata if it did.
    pub(crate) async fn refetch_keys(
        &self,
        connection: Uuid,
    ) -> Result<Option<Arc<ProviderMetadataWithLogout>>, SsoError> {
        let Some(hit) = self.lookup(connection) else {
            return Ok(None);
        };
        if hit.jwks_fetched.elapsed() < self.jwks_min_refetch {
            return Ok(None);
        }
        // claim the refetch first so concurrent callbacks do not all go
        if let Some(entry) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&connection)
        {
            entry.jwks_fetched = Instant::now();
        }
        let jwks = CoreJsonWebKeySet::fetch_async(hit.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| SsoError::IdpUnavailable(format!("JWKS of {}: {e}", hit.issuer)))?;
        let mut metadata = (*hit.metadata).clone();
        metadata = metadata.set_jwks(jwks);
        let metadata = Arc::new(metadata);
        if let Some(entry) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&connection)
        {
            entry.metadata = Arc::clone(&metadata);
        }
        tracing::info!(issuer = %hit.issuer, "refetched an identity provider's keys after an unknown kid");
        Ok(Some(metadata))
    }
}
