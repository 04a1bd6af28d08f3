//! Keeping every replica's identity state current: revocations, the
//! keyring and cached connector keys, pushed by PostgreSQL (LISTEN/NOTIFY)
//! as they commit. After a lost connection everything is reloaded (or, for
//! connector keys, forgotten), since notifications sent while a replica was
//! away are gone.

use std::sync::Arc;
use std::time::Duration;

use prep_tenancy::{Database, IdentityNotice};

use crate::connectors::ConnectorAuth;
use crate::{Keyring, RevocationList};

/// What the identity notifications keep current.
pub struct IdentitySync {
    /// Revoked user tokens.
    pub revocations: Arc<RevocationList>,
    /// The gateway's signing keys.
    pub keyring: Arc<Keyring>,
    /// Cached connector keys.
    pub connectors: Arc<ConnectorAuth>,
}

impl IdentitySync {
    /// Follows notifications until the process ends, reconnecting on its own
    /// after the database comes back.
    pub async fn follow(self, db: Database, token_lifetime: Duration) {
        let mut backoff = Duration::from_millis(200);
        loop {
            let mut listener = match db.listen_identity().await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "identity listener cannot connect; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
            };
            backoff = Duration::from_millis(200);
            // anything committed before LISTEN took effect is in the tables
            self.reload_all(&db, token_lifetime).await;
            loop {
                match listener.next().await {
                    Ok(Some(IdentityNotice::Revocation(r))) => self.revocations.apply(&r),
                    Ok(Some(IdentityNotice::KeyringChanged)) => {
                        if let Err(e) = self.keyring.reload().await {
                            tracing::warn!(error = %e, "keyring reload failed");
                        }
                    }
                    Ok(Some(IdentityNotice::ConnectorChanged(id))) => {
                        self.connectors.evict_connector(id);
                    }
                    Ok(None) => self.reload_all(&db, token_lifetime).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "identity listener lost its connection");
                        break;
                    }
                }
            }
        }
    }

    async fn reload_all(&self, db: &Database, token_lifetime: Duration) {
        self.connectors.clear();
        if let Err(e) = self.revocations.load(db, token_lifetime).await {
            tracing::warn!(error = %e, "revocation reload failed");
        }
        if let Err(e) = self.keyring.reload().await {
            tracing::warn!(error = %e, "keyring reload failed");
        }
    }
}
