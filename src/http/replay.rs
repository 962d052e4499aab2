//! `POST /api/v1/webhooks/{id}/replay`: send a new webhook the events it would have had, e.g.
//! last week's conversations.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::responses::{
    BadRequest, NotFound, PayloadTooLarge, Unauthorized, Unavailable, Unprocessable,
    UnsupportedMediaType,
};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Path, WorkspaceId};
use crate::domain::time::parse_rfc3339;
use crate::service::Service;

/// Which events to replay. Optional fields only so that a missing `since` is a 422.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Replay)]
pub struct ReplayBody {
    /// Events accepted at or after this RFC 3339 time.
    #[schema(value_type = String, required = true, format = DateTime)]
    since: Option<String>,
    /// Events accepted at or before this time; now when left out.
    #[schema(value_type = Option<String>, format = DateTime)]
    until: Option<String>,
}

/// How many deliveries the replay made.
#[derive(Serialize, ToSchema)]
pub struct Replayed {
    pub replayed: u64,
}

fn time(field: &str, text: &str) -> ApiResult<i64> {
    parse_rfc3339(text).ok_or_else(|| {
        ApiError::invalid(field, "must be an RFC 3339 time like 2026-11-26T17:00:00Z")
    })
}

/// Replay events to a webhook
///
/// Makes a delivery (trigger `scheduled`) for every event accepted in the window that is of the
/// webhook's types, passes its filter and has no delivery to it yet; calling it again replays
/// nothing new.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/replay", operation_id = "replay_events", tag = "Request History",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The webhook's id (`wh_…`)")),
    request_body = ReplayBody,
    responses(
        (status = 202, description = "Replayed", body = Replayed),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn replay(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
    ApiJson { value: body, .. }: ApiJson<ReplayBody>,
) -> ApiResult<(StatusCode, Json<Replayed>)> {
    let since = body
        .since
        .as_deref()
        .ok_or_else(|| ApiError::invalid("since", "is required"))?;
    let since = time("since", since)?;
    let until = body
        .until
        .as_deref()
        .map(|u| time("until", u))
        .transpose()?;
    let replayed = service.replay(workspace_id, id, since, until).await?;
    Ok((StatusCode::ACCEPTED, Json(Replayed { replayed })))
}
