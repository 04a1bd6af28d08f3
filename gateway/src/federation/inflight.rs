//! Work in flight, shared by key: the first caller starts it, callers
//! with the same key meanwhile wait for its result instead of doing it
//! again. The router-only mode shares identical client queries and
//! identical subgraph calls this way; the tenant gateway never does,
//! since two requests there carry two principals.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// Results being worked out, by key.
pub struct InFlight<K, V> {
    work: Mutex<HashMap<K, watch::Receiver<Option<V>>>>,
}

impl<K, V> Default for InFlight<K, V> {
    fn default() -> Self {
        Self {
            work: Mutex::new(HashMap::new()),
        }
    }
}

impl<K, V> InFlight<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The result of `work`, or of the work already in flight under
    /// `key` (then `work` is dropped unstarted). The work runs in a task
    /// of its own, so a caller that goes away does not cancel it for the
    /// others. `None` when that task died without a result.
    pub async fn share<F>(self: &Arc<Self>, key: K, work: F) -> Option<V>
    where
        F: Future<Output = V> + Send + 'static,
    {
        let mut result = {
            let mut in_flight = lock(&self.work);
            match in_flight.get(&key) {
                Some(result) => result.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    in_flight.insert(key.clone(), rx.clone());
                    let forget = Forget {
                        owner: Arc::clone(self),
                        key,
                    };
                    tokio::spawn(async move {
                        let value = work.await;
                        // Forgotten before it is told, so a caller from
                        // now on starts afresh.
                        drop(forget);
                        let _ = tx.send(Some(value));
                    });
                    rx
                }
            }
        };
        result
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|value| value.clone())
    }

    /// How many keys are in flight.
    #[cfg(test)]
    fn in_flight(&self) -> usize {
        lock(&self.work).len()
    }
}

/// Forgets a key when its work ends, however it ends: a task that panics
/// must not leave later callers waiting on it.
struct Forget<K: Hash + Eq, V> {
    owner: Arc<InFlight<K, V>>,
    key: K,
}

impl<K: Hash + Eq, V> Drop for Forget<K, V> {
    fn drop(&mut self) {
        lock(&self.owner.work).remove(&self.key);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The map holds no invariant a panic elsewhere could break.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn identical_keys_share_one_run_and_later_ones_run_again() {
        let in_flight: Arc<InFlight<&'static str, usize>> = Arc::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let work = |runs: Arc<AtomicUsize>| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            runs.fetch_add(1, Ordering::SeqCst) + 1
        };
        let (a, b, c) = tokio::join!(
            in_flight.share("k", work(Arc::clone(&runs))),
            in_flight.share("k", work(Arc::clone(&runs))),
            in_flight.share("other", work(Arc::clone(&runs))),
        );
        assert_eq!(runs.load(Ordering::SeqCst), 2, "k once, other once");
        assert_eq!(a, b);
        assert!(c.is_some());
        assert_eq!(in_flight.in_flight(), 0, "nothing is kept once answered");
        let again = in_flight.share("k", work(Arc::clone(&runs))).await;
        assert_eq!(again, Some(3));
    }

    #[tokio::test]
    async fn work_that_panics_answers_none_and_is_forgotten() {
        let in_flight: Arc<InFlight<u8, u8>> = Arc::default();
        let answer = in_flight
            .share(1, async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                panic!("the work failed");
                #[allow(unreachable_code)]
                0
            })
            .await;
        assert_eq!(answer, None);
        assert_eq!(in_flight.in_flight(), 0);
        assert_eq!(in_flight.share(1, async { 7 }).await, Some(7));
    }
}
