//! The Request History of a webhook, manual retries and test sends.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::events::payload;
use super::extract::{ApiJson, Path, QueryParams, WorkspaceId};
use super::views::{self, AttemptView, List};
use crate::domain::ids;
use crate::domain::time::rfc3339;
use crate::store::{Attempt, AttemptFilter, NewTestDelivery};

async fn require_webhook(state: &AppState, workspace_id: &str, id: &str) -> ApiResult<()> {
    match state.store.webhook(workspace_id, id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found("webhook")),
    }
}

fn filter(query: &QueryParams) -> ApiResult<AttemptFilter> {
    let succeeded = match query.get("status") {
        None => None,
        Some("succeeded") => Some(true),
        Some("failed") => Some(false),
        Some(_) => return Err(ApiError::invalid("status", "must be succeeded or failed")),
    };
    Ok(AttemptFilter {
        succeeded,
        event_type: query.get("event_type").map(str::to_string),
        since: query.time("since")?,
        until: query.time("until")?,
    })
}

pub async fn list(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<List<AttemptView>>> {
    let (page, filter) = (query.page()?, filter(&query)?);
    require_webhook(&state, &workspace_id, &id).await?;
    let attempts = state
        .store
        .list_attempts(&workspace_id, &id, &filter, page)
        .await?;
    Ok(Json(views::list(attempts, views::attempt)))
}

pub async fn get(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path((id, attempt_id)): Path<(String, String)>,
) -> ApiResult<Json<AttemptView>> {
    let attempt = state
        .store
        .attempt(&workspace_id, &id, &attempt_id)
        .await?
        .ok_or_else(|| ApiError::not_found("attempt"))?;
    Ok(Json(views::attempt(attempt)))
}

pub async fn retry(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path((id, attempt_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let delivery_id = state
        .store
        .retry_delivery(&workspace_id, &id, &attempt_id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("attempt"))?;
    state.wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"delivery_id": delivery_id})),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    event_type: Option<String>,
}

/// Sends the type's example to the webhook now, as a real signed delivery, and answers with the
/// attempt. The type need not be subscribed, and no event appears in `/events`.
pub async fn test_send(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
    ApiJson { value: body, .. }: ApiJson<TestBody>,
) -> ApiResult<Json<AttemptView>> {
    let attempt = send_test_event(&state, workspace_id, id, body.event_type.as_deref()).await?;
    Ok(Json(views::attempt(attempt)))
}

/// A test send, shared by the API and the dashboard: one real, signed attempt of the type's
/// example to the webhook, made now and recorded in its Request History (trigger `test`). An
/// unknown webhook is checked before the event type, so another workspace's id is always a 404.
pub async fn send_test_event(
    state: &AppState,
    workspace_id: String,
    webhook_id: String,
    event_type: Option<&str>,
) -> ApiResult<Attempt> {
    require_webhook(state, &workspace_id, &webhook_id).await?;
    let name = event_type.ok_or_else(|| ApiError::invalid("event_type", "is required"))?;
    let registered = state.registry.get(name).ok_or_else(|| {
        ApiError::invalid(
            "event_type",
            format!("{name:?} is not a registered event type"),
        )
    })?;
    let now = state.clock.now();
    let event_id = ids::new_id(ids::EVENT);
    let test = NewTestDelivery {
        payload: payload(
            &event_id,
            name,
            &rfc3339(now),
            &registered.def.example.to_string(),
        ),
        workspace_id,
        webhook_id,
        event_id,
        delivery_id: ids::new_id(ids::DELIVERY),
        event_type: name.to_string(),
        now,
    };
    let claim = state
        .store
        .create_test_delivery(&test)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook"))?;
    state.deliverer.attempt(claim).await?.ok_or_else(|| {
        ApiError::unavailable_because(
            "The webhook's signing secret cannot be read (check SPEAKNODE_ENCRYPTION_KEY).",
        )
    })
}
