//! `POST /api/v1/webhooks/{id}/recover`: after an outage on the receiver's side, requeue every
//! delivery that failed since a given time.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Path, WorkspaceId};
use crate::domain::time::parse_rfc3339;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverBody {
    since: Option<String>,
}

pub async fn recover(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
    ApiJson { value: body, .. }: ApiJson<RecoverBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let since = body
        .since
        .ok_or_else(|| ApiError::invalid("since", "is required"))?;
    let since = parse_rfc3339(&since).ok_or_else(|| {
        ApiError::invalid(
            "since",
            "must be an RFC 3339 time like 2026-11-26T17:00:00Z",
        )
    })?;
    let requeued = state
        .store
        .requeue_failed(&workspace_id, &id, since, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("webhook"))?;
    if requeued > 0 {
        state.wake.notify_one();
    }
    Ok((StatusCode::ACCEPTED, Json(json!({"requeued": requeued}))))
}
