//! `POST /api/v1/webhooks/{id}/recover`: after an outage on the receiver's side, requeue every
//! delivery that failed since a given time.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::responses::{
    BadRequest, NotFound, PayloadTooLarge, Unauthorized, Unavailable, Unprocessable,
    UnsupportedMediaType,
};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Path, WorkspaceId};
use super::views::Requeued;
use crate::domain::time::parse_rfc3339;
use crate::service::Service;

/// From when to requeue. Optional here only so that a missing `since` is a 422.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Recover)]
pub struct RecoverBody {
    /// Failed deliveries created at or after this RFC 3339 time are requeued.
    #[schema(value_type = String, required = true, format = DateTime)]
    since: Option<String>,
}

/// Recover failed deliveries
///
/// Requeues every failed delivery of the webhook since a time, after an outage on the
/// receiver's side.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/recover", operation_id = "recover_deliveries", tag = "Request History",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The webhook's id (`wh_…`)")),
    request_body = RecoverBody,
    responses(
        (status = 202, description = "Requeued", body = Requeued),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn recover(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
    ApiJson { value: body, .. }: ApiJson<RecoverBody>,
) -> ApiResult<(StatusCode, Json<Requeued>)> {
    let since = body
        .since
        .ok_or_else(|| ApiError::invalid("since", "is required"))?;
    let since = parse_rfc3339(&since).ok_or_else(|| {
        ApiError::invalid(
            "since",
            "must be an RFC 3339 time like 2026-11-26T17:00:00Z",
        )
    })?;
    let requeued = service.recover(&workspace_id, &id, since).await?;
    Ok((StatusCode::ACCEPTED, Json(Requeued { requeued })))
}
