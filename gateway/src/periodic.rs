//! Background work in rounds, for the jobs every replica runs beside the
//! requests (the compliance reviewer, the end of sandboxes): each interval
//! a job runs rounds of a bounded batch until one comes back short, so a
//! backlog clears at once and a quiet interval costs one round.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Runs `round` every `interval`, and again at once while a round handles
/// a full `batch`, until `shutdown` turns true. A failed round is logged
/// (as `job`) and tried again the next interval.
pub async fn rounds<F, Fut>(
    job: &'static str,
    interval: Duration,
    batch: usize,
    mut shutdown: watch::Receiver<bool>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, String>>,
{
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => return,
        }
        loop {
            match round().await {
                Ok(n) if n >= batch => continue,
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(job, %error, "background round failed; retrying next interval");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn full_rounds_run_again_at_once_failures_wait_and_shutdown_stops() {
        let calls = Arc::new(AtomicUsize::new(0));
        let (stop, shutdown) = watch::channel(false);
        let counted = Arc::clone(&calls);
        let job = tokio::spawn(rounds(
            "test",
            Duration::from_secs(3600),
            10,
            shutdown,
            move || {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    match n {
                        0 | 1 => Ok(10),
                        2 => Err("the database is away".to_owned()),
                        _ => Ok(0),
                    }
                }
            },
        ));
        // The first tick is immediate: two full rounds, then the failure
        // ends the interval (the next is an hour away).
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        stop.send(true).expect("the job listens");
        tokio::time::timeout(Duration::from_secs(5), job)
            .await
            .expect("it stops")
            .expect("it does not panic");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
