//! The end of sandboxes: a sandbox lasts as long as a key to it does, plus
//! the life of the last token that key could have minted; after that nobody
//! can reach it, and its data is deleted rather than kept forever. Runs in
//! every replica; a purge re-checks under the tenant's own scope and is
//! idempotent, so two replicas ending the same sandbox at once do no harm.

use std::time::Duration;

use prep_tenancy::Database;
use tokio::sync::watch;

/// Sandboxes ended per round; the sweep goes on while rounds come back full.
const BATCH: i32 = 50;

/// Ends up to [`BATCH`] sandboxes whose keys and tokens have all lapsed
/// (`grace`: the sandbox token lifetime). Returns how many were deleted.
pub async fn end_lapsed(db: &Database, grace: Duration) -> Result<usize, String> {
    let ended = db
        .sandboxes_ended(grace, BATCH)
        .await
        .map_err(|e| e.to_string())?;
    let mut purged = 0;
    for tenant in ended {
        if db
            .purge_sandbox(tenant, grace)
            .await
            .map_err(|e| e.to_string())?
        {
            tracing::info!(tenant = %tenant, "sandbox ended; its data is deleted");
            purged += 1;
        }
    }
    Ok(purged)
}

/// Sweeps every `interval` until `shutdown` turns true.
pub async fn run(
    db: Database,
    interval: Duration,
    grace: Duration,
    shutdown: watch::Receiver<bool>,
) {
    crate::periodic::rounds("sandbox end", interval, BATCH as usize, shutdown, || {
        let db = db.clone();
        async move { end_lapsed(&db, grace).await }
    })
    .await;
}
