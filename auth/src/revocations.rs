//! Revoked tokens, known to every replica without a database round trip.
//!
//! PostgreSQL holds the truth (`token_revocations`); each replica loads the
//! recent rows at start and then receives new ones by LISTEN/NOTIFY as they
//! commit. After a lost connection it reloads, since notifications sent while
//! it was away are gone. The same connection carries keyring changes, so an
//! emergency key rotation reaches every replica at once.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prep_tenancy::{Database, Revocation};
use uuid::Uuid;

use crate::AuthError;

/// User id → tokens issued before this instant (microseconds) are dead.
#[derive(Debug, Default)]
pub struct RevocationList {
    cutoffs: RwLock<HashMap<Uuid, i64>>,
}

impl RevocationList {
    /// Whether a token of `user` issued at `issued_at_ms` is revoked.
    pub fn is_revoked(&self, user: Uuid, issued_at_ms: i64) -> bool {
        let cutoffs = self.cutoffs.read().unwrap_or_else(|e| e.into_inner());
        cutoffs
            .get(&user)
            .is_some_and(|&cutoff_us| issued_at_ms.saturating_mul(1000) < cutoff_us)
    }

    /// Records one revocation (keeping the later cut-off).
    pub fn apply(&self, r: &Revocation) {
        let us = r.revoked_before.timestamp_micros();
        let mut cutoffs = self.cutoffs.write().unwrap_or_else(|e| e.into_inner());
        let entry = cutoffs.entry(r.user_id).or_insert(us);
        *entry = (*entry).max(us);
    }

    /// Forgets cut-offs older than any live token.
    pub(crate) fn prune(&self, older_than: DateTime<Utc>) {
        let limit = older_than.timestamp_micros();
        self.cutoffs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, &mut us| us >= limit);
    }

    /// Loads every revocation younger than `token_lifetime`.
    pub async fn load(&self, db: &Database, token_lifetime: Duration) -> Result<(), AuthError> {
        let since = Utc::now() - token_lifetime;
        for r in db
            .token_revocations_since(since)
            .await
            .map_err(AuthError::store)?
        {
            self.apply(&r);
        }
        self.prune(since);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prep_tenancy::TenantId;

    #[test]
    fn tokens_issued_before_the_cutoff_are_revoked() {
        let list = RevocationList::default();
        let user = Uuid::from_u128(1);
        let at = DateTime::from_timestamp_millis(1_700_000_000_500).expect("time");
        list.apply(&Revocation {
            tenant: TenantId::from_uuid(Uuid::nil()),
            user_id: user,
            revoked_before: at,
        });
        assert!(list.is_revoked(user, 1_700_000_000_499));
        assert!(!list.is_revoked(user, 1_700_000_000_500));
        assert!(!list.is_revoked(Uuid::from_u128(2), 0));
        list.prune(at + chrono::Duration::seconds(1));
        assert!(!list.is_revoked(user, 0));
    }
}
