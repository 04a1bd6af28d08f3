//! The compliance reviewer: re-evaluates locations whose status may have
//! changed with the passing of time (a card expiring overnight), since no
//! mutation will. Runs in every replica; evaluations are idempotent, so two
//! replicas reviewing the same location at once do no harm.

use std::time::Duration;

use prep_tenancy::Database;
use tokio::sync::watch;

/// Re-evaluates up to `batch` due locations, each in its own tenant's scope.
/// Returns how many were reviewed.
pub async fn review_due(db: &Database, batch: i32) -> Result<usize, String> {
    let due = db
        .compliance_reviews_due(batch)
        .await
        .map_err(|e| e.to_string())?;
    let today = prep_resolvers::clock::today();
    for item in &due {
        let mut tx = db.begin(item.tenant).await.map_err(|e| e.to_string())?;
        prep_resolvers::compliance::recompute(&mut tx, item.location_id, today)
            .await
            .map_err(|e| format!("{e:?}"))?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(due.len())
}

/// Reviews every `interval` until `shutdown` turns true.
pub async fn run(db: Database, interval: Duration, shutdown: watch::Receiver<bool>) {
    const BATCH: i32 = 200;
    crate::periodic::rounds(
        "compliance review",
        interval,
        BATCH as usize,
        shutdown,
        || {
            let db = db.clone();
            async move {
                let n = review_due(&db, BATCH).await?;
                if n > 0 {
                    tracing::info!(locations = n, "compliance review");
                }
                Ok(n)
            }
        },
    )
    .await;
}
