//! Putting deliveries back in the queue by hand: one more attempt of one delivery (Retry), every
//! failed delivery since an outage (recover), or the events a webhook would have had (replay).
//! Each wakes the local worker when something became due.

use crate::domain::Invalid;
use crate::domain::time::Millis;
use crate::store::Replay;

use super::{Service, ServiceError};

impl Service {
    /// One more attempt of the attempt's delivery, now (trigger `manual`), whatever its state.
    /// Answers the delivery's id.
    pub async fn retry(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        attempt_id: &str,
    ) -> Result<String, ServiceError> {
        let now = self.clock.now();
        let delivery_id = self
            .store
            .retry_delivery(workspace_id, webhook_id, attempt_id, now)
            .await?
            .ok_or(ServiceError::NotFound("attempt"))?;
        self.due_now();
        Ok(delivery_id)
    }

    /// Requeues every delivery of the webhook that failed since `since`, after an outage on the
    /// receiver's side. Answers how many.
    pub async fn recover(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        since: Millis,
    ) -> Result<u64, ServiceError> {
        let now = self.clock.now();
        let requeued = self
            .store
            .requeue_failed(workspace_id, webhook_id, since, now)
            .await?
            .ok_or(ServiceError::NotFound("webhook"))?;
        if requeued > 0 {
            self.due_now();
        }
        Ok(requeued)
    }

    /// Makes a delivery to the webhook of every event accepted in `[since, until]` (`until`: now
    /// when `None`) that it would have had and has not: calling it again replays nothing new.
    /// Answers how many.
    pub async fn replay(
        &self,
        workspace_id: String,
        webhook_id: String,
        since: Millis,
        until: Option<Millis>,
    ) -> Result<u64, ServiceError> {
        let now = self.clock.now();
        let until = until.unwrap_or(now);
        if until < since {
            return Err(Invalid::field("until", "must not be before since").into());
        }
        let replay = Replay {
            workspace_id,
            webhook_id,
            since,
            until,
            now,
        };
        let replayed = self
            .store
            .replay(&replay)
            .await?
            .ok_or(ServiceError::NotFound("webhook"))?;
        if replayed > 0 {
            self.due_now();
        }
        Ok(replayed)
    }
}
