//! `/api/v1/events` and `/api/v1/event-types`: the platform emits events here.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Path, QueryParams, WorkspaceId};
use super::views::{self, EventAccepted, EventListItem, EventView, List};
use crate::domain::ids;
use crate::domain::time::rfc3339;
use crate::store::{Idempotency, Ingested, NewEvent};

/// How long an `Idempotency-Key` is remembered.
const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    #[serde(rename = "type")]
    event_type: Option<String>,
    data: Option<Box<RawValue>>,
}

/// The body every delivery of an event sends, byte for byte. `data` is embedded exactly as the
/// platform sent it.
pub fn payload(id: &str, event_type: &str, created_at: &str, data: &str) -> String {
    let quote = |s: &str| Value::from(s).to_string();
    format!(
        r#"{{"id":{},"type":{},"created_at":{},"data":{}}}"#,
        quote(id),
        quote(event_type),
        quote(created_at),
        data
    )
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.chars().count() <= MAX_IDEMPOTENCY_KEY_CHARS)
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                format!("must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters"),
            )
        })?;
    Ok(Some(key.to_string()))
}

pub async fn create(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    headers: HeaderMap,
    ApiJson { value: body, raw }: ApiJson<EventBody>,
) -> ApiResult<(StatusCode, Json<EventAccepted>)> {
    let key = idempotency_key(&headers)?;
    let event_type = body
        .event_type
        .ok_or_else(|| ApiError::invalid("type", "is required"))?;
    if !state.registry.contains(&event_type) {
        super::admin::reload_event_types(&state).await?;
    }
    let schema = state.registry.get(&event_type).ok_or_else(|| {
        ApiError::invalid(
            "type",
            format!("{event_type:?} is not a registered event type"),
        )
    })?;
    let raw_data = body
        .data
        .ok_or_else(|| ApiError::invalid("data", "is required"))?;
    let data: Value =
        serde_json::from_str(raw_data.get()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !data.is_object() {
        return Err(ApiError::bad_request("data must be a JSON object").with_field("data"));
    }
    schema.validate(&data)?;

    let now = state.clock.now();
    let id = ids::new_id(ids::EVENT);
    let event = NewEvent {
        payload: payload(&id, &event_type, &rfc3339(now), raw_data.get()),
        id,
        workspace_id,
        event_type,
        created_at: now,
        idempotency: key.map(|key| Idempotency {
            key,
            request_hash: Sha256::digest(&raw).to_vec(),
            not_before: now - IDEMPOTENCY_WINDOW_MS,
        }),
    };
    match state.store.ingest_event(&event).await? {
        Ingested::Created(stored) => {
            if stored.delivery_count > 0 {
                state.wake.notify_one();
            }
            Ok((StatusCode::ACCEPTED, Json(views::event_accepted(&stored))))
        }
        Ingested::Replayed(first) => {
            Ok((StatusCode::ACCEPTED, Json(views::event_accepted(&first))))
        }
        Ingested::KeyReused => Err(ApiError::conflict(
            "This Idempotency-Key was already used with a different request body.",
        )
        .with_field("Idempotency-Key")),
    }
}

pub async fn list(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    query: QueryParams,
) -> ApiResult<Json<List<EventListItem>>> {
    let page = query.page()?;
    let events = state
        .store
        .list_events(&workspace_id, query.get("type"), page)
        .await?;
    Ok(Json(views::list(events, views::event_list_item)))
}

pub async fn get(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
) -> ApiResult<Json<EventView>> {
    let (event, deliveries) = state
        .store
        .event(&workspace_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    Ok(Json(views::event(event, deliveries)))
}

#[derive(Serialize)]
pub struct EventTypeView {
    name: String,
    description: String,
    schema: Value,
    example: Value,
}

pub async fn event_types(
    State(state): State<AppState>,
    _: WorkspaceId,
) -> Json<List<EventTypeView>> {
    let data = state
        .registry
        .all()
        .iter()
        .map(|t| EventTypeView {
            name: t.def.name.clone(),
            description: t.def.description.clone(),
            schema: t.def.schema.clone(),
            example: t.def.example.clone(),
        })
        .collect();
    Json(List {
        data,
        next_cursor: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_embeds_data_exactly_and_escapes_the_envelope() {
        let body = payload(
            "evt_1",
            "A\"B",
            "2026-11-26T00:00:00.000Z",
            r#"{"z":1, "a":[true]}"#,
        );
        assert_eq!(
            body,
            r#"{"id":"evt_1","type":"A\"B","created_at":"2026-11-26T00:00:00.000Z","data":{"z":1, "a":[true]}}"#
        );
        assert!(serde_json::from_str::<Value>(&body).is_ok());
    }
}
