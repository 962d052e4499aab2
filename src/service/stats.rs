//! Delivery statistics of a window: the Request History counted by bucket and outcome, from
//! the tallies kept as attempts are recorded (`domain::stats`), so the cost follows the number
//! of buckets, not of attempts. The stats route and the dashboard's Activity charts both ask
//! here, so their numbers cannot differ.

use crate::domain::Invalid;
use crate::domain::stats::{Bucket, Counts, DAY_MS, MAX_WINDOW_MS, sources};
use crate::domain::time::Millis;

use super::{Service, ServiceError};

/// A window as asked for; what is left out takes its default.
#[derive(Debug, Clone, Default)]
pub struct StatsQuery {
    /// Default: 24 hours before `until`.
    pub since: Option<Millis>,
    /// Default: now.
    pub until: Option<Millis>,
    /// One webhook's attempts; default: the whole workspace's.
    pub webhook_id: Option<String>,
    /// Default: by the window's length (`Bucket::for_window`).
    pub bucket: Option<Bucket>,
}

impl Service {
    pub async fn stats(
        &self,
        workspace_id: &str,
        query: StatsQuery,
    ) -> Result<Counts, ServiceError> {
        let until = query.until.unwrap_or_else(|| self.clock.now());
        let since = query.since.unwrap_or(until - DAY_MS);
        if since >= until {
            return Err(Invalid::field("since", "must be before until").into());
        }
        if until - since > MAX_WINDOW_MS {
            return Err(Invalid::field("since", "the window must be at most 92 days").into());
        }
        let webhook_id = query.webhook_id.as_deref();
        if let Some(id) = webhook_id
            && self.store.webhook(workspace_id, id).await?.is_none()
        {
            return Err(ServiceError::NotFound("webhook"));
        }
        let bucket = query.bucket.unwrap_or(Bucket::for_window(until - since));
        let mut counts = Counts::new(since, until, bucket);
        let from = sources(since, until, bucket);
        let store = self.store.as_ref();
        for (start, end) in from.raw {
            for (outcome, n) in store
                .outcome_counts(workspace_id, webhook_id, start, end)
                .await?
            {
                counts.add(start, &outcome, n);
            }
        }
        let spans = from.minutes.into_iter().map(|range| ("m", range));
        for (span, (start, end)) in spans.chain(from.hours.map(|range| ("h", range))) {
            let tallies = store
                .tallies(workspace_id, webhook_id, span, start, end)
                .await?;
            for (at, outcome, n) in tallies {
                counts.add(at, &outcome, n);
            }
        }
        Ok(counts)
    }
}
