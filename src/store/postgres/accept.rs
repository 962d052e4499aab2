//! Accepting events on PostgreSQL, a batch at a time (see `batch`): one query finds the
//! subscribed webhooks of every workspace in the batch, and one statement inserts all the events
//! and all their deliveries (atomic by itself, so no explicit transaction). Events with an
//! `Idempotency-Key` take the one-by-one path in `events`, which claims the key first.

use super::db::{Run, query};
use std::collections::HashMap;

use async_trait::async_trait;

use super::batch::BatchJob;
use super::db::Db;
use crate::domain::ids;
use crate::domain::routing::route;
use crate::store::rows::{Columns, Subscriber};
use crate::store::{Event, NewEvent, StoreResult};

pub(super) struct Accept(pub NewEvent);

/// The enabled webhooks of each workspace, with what decides which events they get.
type Subscriptions = HashMap<String, Vec<Subscriber>>;

async fn subscriptions(db: &Db, jobs: &[Accept]) -> StoreResult<Subscriptions> {
    let mut workspaces: Vec<&str> = jobs.iter().map(|j| j.0.workspace_id.as_str()).collect();
    workspaces.sort_unstable();
    workspaces.dedup();
    let rows = query(
        "SELECT id, workspace_id, event_types, filter, retry_schedule FROM webhooks
         WHERE workspace_id = ANY($1) AND enabled ORDER BY seq",
    )
    .bind(&workspaces)
    .fetch_all_on(db)
    .await?;
    let mut by_workspace: Subscriptions = HashMap::new();
    for row in &rows {
        by_workspace
            .entry(row.text("workspace_id")?)
            .or_default()
            .push(Subscriber::from_row(row)?);
    }
    Ok(by_workspace)
}

#[async_trait]
impl BatchJob for Accept {
    type Output = Event;

    async fn write(db: &Db, jobs: &[Self]) -> StoreResult<Vec<Event>> {
        let subscribed = subscriptions(db, jobs).await?;
        let mut events = EventColumns::default();
        let mut deliveries = DeliveryColumns::default();
        let mut accepted = Vec::with_capacity(jobs.len());
        for Accept(event) in jobs {
            let webhooks = subscribed
                .get(&event.workspace_id)
                .map_or(&[][..], Vec::as_slice);
            let mut count = 0;
            for subscriber in route(&event.event_type, &event.payload, webhooks) {
                deliveries.push(event, subscriber);
                count += 1;
            }
            events.push(event, count);
            accepted.push(Event {
                id: event.id.clone(),
                workspace_id: event.workspace_id.clone(),
                event_type: event.event_type.clone(),
                payload: event.payload.clone(),
                created_at: event.created_at,
                delivery_count: count as u32,
            });
        }
        query(
            "WITH queued AS (
                 INSERT INTO pending_deliveries (id, workspace_id, webhook_id, event_id,
                     event_created_at, next_attempt_at, next_trigger, created_at, updated_at,
                     retry_schedule)
                 SELECT d, ws, w, e, at, at, 'scheduled', at, at, r
                 FROM UNNEST($8::TEXT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::BIGINT[],
                     $13::TEXT[]) AS t(d, ws, w, e, at, r))
             INSERT INTO events (id, workspace_id, event_type, payload, created_at, delivery_count,
                 traceparent)
             SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[],
                 $6::BIGINT[], $7::TEXT[])",
        )
        .bind(events.id)
        .bind(events.workspace_id)
        .bind(events.event_type)
        .bind(events.payload)
        .bind(events.created_at)
        .bind(events.delivery_count)
        .bind(events.traceparent)
        .bind(deliveries.id)
        .bind(deliveries.workspace_id)
        .bind(deliveries.webhook_id)
        .bind(deliveries.event_id)
        .bind(deliveries.created_at)
        .bind(deliveries.retry_schedule)
        .execute_on(db)
        .await?;
        Ok(accepted)
    }
}

#[derive(Default)]
struct EventColumns {
    id: Vec<String>,
    workspace_id: Vec<String>,
    event_type: Vec<String>,
    payload: Vec<String>,
    created_at: Vec<i64>,
    delivery_count: Vec<i64>,
    traceparent: Vec<Option<String>>,
}

impl EventColumns {
    fn push(&mut self, event: &NewEvent, deliveries: i64) {
        self.id.push(event.id.clone());
        self.workspace_id.push(event.workspace_id.clone());
        self.event_type.push(event.event_type.clone());
        self.payload.push(event.payload.clone());
        self.created_at.push(event.created_at);
        self.delivery_count.push(deliveries);
        self.traceparent.push(event.traceparent.clone());
    }
}

#[derive(Default)]
struct DeliveryColumns {
    id: Vec<String>,
    workspace_id: Vec<String>,
    webhook_id: Vec<String>,
    event_id: Vec<String>,
    created_at: Vec<i64>,
    retry_schedule: Vec<Option<String>>,
}

impl DeliveryColumns {
    fn push(&mut self, event: &NewEvent, webhook: &Subscriber) {
        self.id.push(ids::new_id(ids::DELIVERY));
        self.workspace_id.push(event.workspace_id.clone());
        self.webhook_id.push(webhook.id.clone());
        self.event_id.push(event.id.clone());
        self.created_at.push(event.created_at);
        self.retry_schedule.push(webhook.retry_schedule.clone());
    }
}
