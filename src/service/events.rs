//! Emitting an event: the type must be registered (and not one the service emits itself), the
//! data must be a JSON object valid against the type's schema; the event and a delivery to each
//! webhook it routes to are stored together, and only then is it accepted.

use serde_json::value::RawValue;

use crate::domain::Invalid;
use crate::domain::envelope::payload;
use crate::domain::ids;
use crate::domain::operational;
use crate::domain::time::rfc3339;
use crate::store::{Event, Idempotency, Ingested, NewEvent};

use super::{Service, ServiceError};

/// How long an `Idempotency-Key` is remembered.
const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// An event as the platform sent it. Fields are optional so that a missing one is refused here,
/// naming it, in the same order as every other check.
pub struct Emit {
    pub event_type: Option<String>,
    /// The `data` as sent (JSON text): stored as it came, byte for byte.
    pub data: Option<Box<RawValue>>,
    /// The request's idempotency key and the SHA-256 of its body.
    pub idempotency: Option<(String, Vec<u8>)>,
    /// A valid W3C `traceparent`, sent on with every delivery.
    pub traceparent: Option<String>,
}

impl Service {
    /// Stores the event and its deliveries. A repeat of an idempotent request answers the first
    /// event again (`replayed` true) and creates nothing.
    pub async fn emit(
        &self,
        workspace_id: String,
        emit: Emit,
    ) -> Result<(Event, bool), ServiceError> {
        let event_type = emit
            .event_type
            .ok_or_else(|| Invalid::field("type", "is required"))?;
        super::event_types::refresh_for(self.store.as_ref(), &self.registry, [&event_type]).await?;
        if operational::is_operational(&event_type) {
            return Err(Invalid::field(
                "type",
                format!("{event_type:?} is an operational event: only the service itself emits it"),
            )
            .into());
        }
        let schema = self.registry.get(&event_type).ok_or_else(|| {
            Invalid::field(
                "type",
                format!("{event_type:?} is not a registered event type"),
            )
        })?;
        let raw_data = emit
            .data
            .ok_or_else(|| Invalid::field("data", "is required"))?;
        let data: serde_json::Value = serde_json::from_str(raw_data.get())
            .map_err(|e| ServiceError::Malformed(Invalid::field("", e.to_string())))?;
        if !data.is_object() {
            return Err(ServiceError::Malformed(Invalid::field(
                "data",
                "must be a JSON object",
            )));
        }
        schema.validate(&data)?;
        drop(data);

        let now = self.clock.now();
        let id = ids::new_id(ids::EVENT);
        let payload = payload(&id, &event_type, &rfc3339(now), raw_data.get());
        // A transcript can be a megabyte: hold one copy of it (the payload) while the store
        // works, not three.
        drop(raw_data);
        let event = NewEvent {
            payload,
            id,
            workspace_id,
            event_type,
            created_at: now,
            idempotency: emit.idempotency.map(|(key, request_hash)| Idempotency {
                key,
                request_hash,
                not_before: now - IDEMPOTENCY_WINDOW_MS,
            }),
            traceparent: emit.traceparent,
        };
        match self.store.ingest_event(event).await? {
            Ingested::Created(stored) => {
                self.deliverer.metrics.event_accepted();
                if stored.delivery_count > 0 {
                    self.due_now();
                }
                Ok((stored, false))
            }
            Ingested::Replayed(first) => Ok((first, true)),
            Ingested::KeyReused => Err(ServiceError::Conflict(Invalid::field(
                "Idempotency-Key",
                "was already used with a different request body",
            ))),
        }
    }
}
