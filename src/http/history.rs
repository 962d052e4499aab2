//! The Request History of a webhook, manual retries and test sends.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::responses::{
    BadRequest, NotFound, PayloadTooLarge, Unauthorized, Unavailable, Unprocessable,
    UnsupportedMediaType,
};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, PageParams, Path, QueryParams, WorkspaceId};
use super::views::{self, AttemptView, List, RetryAccepted};
use crate::service::Service;
use crate::store::AttemptFilter;

async fn require_webhook(state: &AppState, workspace_id: &str, id: &str) -> ApiResult<()> {
    match state.service.store.webhook(workspace_id, id).await? {
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

/// List a webhook's Request History
///
/// Its attempts, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/attempts", operation_id = "list_attempts", tag = "Request History",
    security(("api_key" = [])),
    params(
        ("id" = String, Path, description = "The webhook's id (`wh_…`)"),
        PageParams,
        ("status" = Option<String>, Query, description = "`succeeded` or `failed`"),
        ("event_type" = Option<String>, Query, description = "Only attempts of this event type"),
        ("since" = Option<String>, Query, format = DateTime, description = "Only attempts at or after this RFC 3339 time"),
        ("until" = Option<String>, Query, format = DateTime, description = "Only attempts before this RFC 3339 time"),
    ),
    responses(
        (status = 200, description = "A page of attempts", body = List<AttemptView>),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn list(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<List<AttemptView>>> {
    let (page, filter) = (query.page()?, filter(&query)?);
    require_webhook(&state, &workspace_id, &id).await?;
    let attempts = state
        .service
        .store
        .list_attempts(&workspace_id, &id, &filter, page)
        .await?;
    Ok(Json(views::list(attempts, views::attempt)))
}

/// Get an attempt
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/attempts/{attempt_id}", operation_id = "get_attempt", tag = "Request History",
    security(("api_key" = [])),
    params(
        ("id" = String, Path, description = "The webhook's id (`wh_…`)"),
        ("attempt_id" = String, Path, description = "The attempt's id (`att_…`)"),
    ),
    responses(
        (status = 200, description = "The attempt", body = AttemptView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ))]
pub async fn get(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path((id, attempt_id)): Path<(String, String)>,
) -> ApiResult<Json<AttemptView>> {
    let attempt = state
        .service
        .store
        .attempt(&workspace_id, &id, &attempt_id)
        .await?
        .ok_or_else(|| ApiError::not_found("attempt"))?;
    Ok(Json(views::attempt(attempt)))
}

/// Retry an attempt's delivery
///
/// One more attempt of that delivery, now (trigger `manual`), whatever its state.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/attempts/{attempt_id}/retry", operation_id = "retry_attempt", tag = "Request History",
    security(("api_key" = [])),
    params(
        ("id" = String, Path, description = "The webhook's id (`wh_…`)"),
        ("attempt_id" = String, Path, description = "The attempt's id (`att_…`)"),
    ),
    responses(
        (status = 202, description = "The delivery is due now", body = RetryAccepted),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ))]
pub async fn retry(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path((id, attempt_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<RetryAccepted>)> {
    let delivery_id = service.retry(&workspace_id, &id, &attempt_id).await?;
    Ok((StatusCode::ACCEPTED, Json(RetryAccepted { delivery_id })))
}

/// Which event type's example to send. Optional here only so that a missing one is a 422.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TestSend)]
pub struct TestBody {
    /// A registered event type; the webhook need not subscribe to it.
    #[schema(value_type = String, required = true, example = "ConversationComplete")]
    event_type: Option<String>,
}

/// Send a test event
///
/// Sends the type's example to the webhook now as a real signed delivery (trigger `test`), waits
/// for it, and answers with the attempt, whatever the receiver answered. The webhook need not
/// subscribe to the type, and no event appears in `/api/v1/events`.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", operation_id = "send_test_event", tag = "Webhooks",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The webhook's id (`wh_…`)")),
    request_body = TestBody,
    responses(
        (status = 200, description = "The attempt that was made", body = AttemptView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn test_send(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
    ApiJson { value: body, .. }: ApiJson<TestBody>,
) -> ApiResult<Json<AttemptView>> {
    let event_type = body.event_type.as_deref();
    let attempt = service
        .send_test_event(workspace_id, id, event_type)
        .await?;
    Ok(Json(views::attempt(attempt)))
}
