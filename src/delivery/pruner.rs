//! Retention: a background task that prunes events older than `SPEAKNODE_RETENTION` (with their
//! deliveries and attempts) in small batches, pausing between them so deliveries never stall.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::domain::clock::Clock;
use crate::store::Store;

const BATCH: u32 = 500;
/// How often the pruner looks for old events.
pub const EVERY: Duration = Duration::from_secs(60);
const PAUSE: Duration = Duration::from_millis(50);

/// Prunes until nothing old is left; returns how many events went.
pub async fn prune_once(store: &dyn Store, clock: &dyn Clock, retention: Duration) -> u64 {
    let mut pruned = 0;
    loop {
        let cutoff = clock.now() - retention.as_millis() as i64;
        match store.prune(cutoff, BATCH).await {
            Ok(n) => {
                pruned += n;
                if n < u64::from(BATCH) {
                    return pruned;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "pruning old events failed; will try again later");
                return pruned;
            }
        }
        tokio::time::sleep(PAUSE).await;
    }
}

/// Runs [`prune_once`] every minute until `shutdown`.
pub async fn run(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    retention: Duration,
    shutdown: CancellationToken,
) {
    loop {
        let pruned = prune_once(store.as_ref(), clock.as_ref(), retention).await;
        if pruned > 0 {
            tracing::info!(pruned, "pruned events past the retention period");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
