//! `/api/v1/events` and `/api/v1/event-types`: the platform emits events here.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::AppState;
use super::error::responses::{
    BadRequest, Conflict, NotFound, PayloadTooLarge, Unauthorized, Unavailable, Unprocessable,
    UnsupportedMediaType,
};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, PageParams, Path, QueryParams, WorkspaceId};
use super::views::{self, EventAccepted, EventListItem, EventView, List};
use crate::domain::attempt::DeliveryState;
use crate::domain::data_search::DataSearch;
use crate::domain::trace::valid_traceparent;
use crate::service::{Emit, Service, event_types};
use crate::store::EventFilter;
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// An event to emit. Fields are optional here only so that a missing one is answered 422 naming
/// it, rather than 400 from the JSON parser.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewEvent)]
pub struct EventBody {
    /// A registered event type.
    #[serde(rename = "type")]
    #[schema(value_type = String, required = true, example = "SessionStarted")]
    event_type: Option<String>,
    /// Valid against the type's JSON Schema (see `GET /api/v1/event-types`).
    #[schema(value_type = Object, required = true, example = json!({
        "session_id": "sess_41aa", "agent_id": "agent_support_en",
        "started_at": "2026-11-26T16:58:01Z"}))]
    data: Option<Box<RawValue>>,
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

/// Emit an event
///
/// Answered only once the event and all its deliveries are durably stored. With an
/// `Idempotency-Key`, a repeat of the same request within 24 hours answers the first response
/// again and creates no new event. A `data` that is not a JSON object is a 400.
#[utoipa::path(post, path = "/api/v1/events", operation_id = "create_event", tag = "Events",
    security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header,
        description = "1 to 255 visible ASCII characters; makes retries of this request safe"),
        ("traceparent" = Option<String>, Header,
        description = "W3C Trace Context; sent unchanged with every delivery of the event \
            (an invalid value is ignored)")),
    request_body = EventBody,
    responses(
        (status = 202, description = "Accepted and stored", body = EventAccepted),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn create(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    headers: HeaderMap,
    ApiJson { value: body, raw }: ApiJson<EventBody>,
) -> ApiResult<(StatusCode, Json<EventAccepted>)> {
    let key = idempotency_key(&headers)?;
    // The body's hash tells a repeat of the request from another request with the same key.
    let idempotency = key.map(|key| (key, Sha256::digest(&raw).to_vec()));
    // A transcript can be a megabyte: from here on only `data` holds it.
    drop(raw);
    let emit = Emit {
        event_type: body.event_type,
        data: body.data,
        idempotency,
        traceparent: headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(valid_traceparent)
            .map(str::to_string),
    };
    let (event, _replayed) = service.emit(workspace_id, emit).await?;
    Ok((StatusCode::ACCEPTED, Json(views::event_accepted(&event))))
}

/// List events
///
/// Newest first. Every filter given must hold; `data.<path>=<value>` (any number of them) keeps
/// the events whose `data` has that value at that dotted path: a JSON number or `true`/`false`
/// matches as that type, anything else (or a value in double quotes) as text.
#[utoipa::path(get, path = "/api/v1/events", operation_id = "list_events", tag = "Events",
    security(("api_key" = [])),
    params(
        PageParams,
        ("type" = Option<String>, Query, description = "Only events of this type"),
        ("since" = Option<String>, Query, format = DateTime,
            description = "Only events accepted at or after this RFC 3339 time"),
        ("until" = Option<String>, Query, format = DateTime,
            description = "Only events accepted at or before this RFC 3339 time"),
        ("state" = Option<String>, Query,
            description = "`pending`, `succeeded` or `failed`: events with at least one delivery in that state"),
        ("webhook_id" = Option<String>, Query,
            description = "Only events with a delivery to this webhook (`wh_…`)"),
        ("data.<path>" = Option<String>, Query,
            description = "Events whose `data` holds this value at this dotted path, e.g. \
                `data.agent_id=agent_support_en`; any number, ANDed"),
    ),
    responses(
        (status = 200, description = "A page of events, newest first", body = List<EventListItem>),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn list(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    query: QueryParams,
) -> ApiResult<Json<List<EventListItem>>> {
    let page = query.page()?;
    let filter = event_filter(&query)?;
    let store = &state.service.store;
    // Another workspace's webhook is not found, rather than an empty list.
    if let Some(webhook_id) = &filter.webhook_id
        && store.webhook(&workspace_id, webhook_id).await?.is_none()
    {
        return Err(ApiError::not_found("webhook"));
    }
    let events = store.list_events(&workspace_id, &filter, page).await?;
    Ok(Json(views::list(events, views::event_list_item)))
}

/// The list's filters from the query, each refused with a 422 naming its parameter.
fn event_filter(query: &QueryParams) -> ApiResult<EventFilter> {
    let state = match query.get("state") {
        None => None,
        Some("pending") => Some(DeliveryState::Pending),
        Some("succeeded") => Some(DeliveryState::Succeeded),
        Some("failed") => Some(DeliveryState::Failed),
        Some(_) => {
            return Err(ApiError::invalid(
                "state",
                "must be pending, succeeded or failed",
            ));
        }
    };
    let (since, until) = (query.time("since")?, query.time("until")?);
    if let (Some(since), Some(until)) = (since, until)
        && until < since
    {
        return Err(ApiError::invalid("until", "must not be before since"));
    }
    let webhook_id = match query.get("webhook_id") {
        Some("") => return Err(ApiError::invalid("webhook_id", "must not be empty")),
        other => other.map(str::to_string),
    };
    let mut conditions: Vec<(String, String)> = query
        .0
        .iter()
        .filter_map(|(name, value)| Some((name.strip_prefix("data.")?.to_string(), value.clone())))
        .collect();
    // In a fixed order, so the same query always names the same parameter when refused.
    conditions.sort();
    Ok(EventFilter {
        event_type: query.get("type").map(str::to_string),
        since,
        until,
        state,
        webhook_id,
        data: DataSearch::parse(&conditions)?,
    })
}

/// Get an event
///
/// With its `data` and the state of each of its deliveries.
#[utoipa::path(get, path = "/api/v1/events/{id}", operation_id = "get_event", tag = "Events",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The event's id (`evt_…`)")),
    responses(
        (status = 200, description = "The event", body = EventView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ))]
pub async fn get(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
) -> ApiResult<Json<EventView>> {
    let (event, deliveries) = state
        .service
        .store
        .event(&workspace_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    Ok(Json(views::event(event, deliveries)))
}

/// A named kind of event, with the JSON Schema its `data` follows and an example.
#[derive(Serialize, ToSchema)]
#[schema(as = EventType)]
pub struct EventTypeView {
    #[schema(example = "ConversationComplete")]
    pub name: String,
    pub description: String,
    /// The JSON Schema that `data` must follow.
    #[schema(value_type = Value)]
    pub schema: Value,
    /// Valid against `schema`; test sends deliver it.
    #[schema(value_type = Value)]
    pub example: Value,
}

/// List event types
#[utoipa::path(get, path = "/api/v1/event-types", operation_id = "list_event_types", tag = "Events",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Every registered type, on one page", body = List<EventTypeView>),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable),
    ))]
pub async fn event_types(
    State(state): State<AppState>,
    _: WorkspaceId,
) -> ApiResult<Json<List<EventTypeView>>> {
    let data = event_types::current(state.service.store.as_ref(), &state.service.registry)
        .await?
        .iter()
        .map(|t| EventTypeView {
            name: t.def.name.clone(),
            description: t.def.description.clone(),
            schema: t.def.schema.clone(),
            example: t.def.example.clone(),
        })
        .collect();
    Ok(Json(List {
        data,
        next_cursor: None,
    }))
}
