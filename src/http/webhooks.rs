//! `/api/v1/webhooks`: create, list, read, update, delete, and read or rotate the secret.

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
use super::views::{self, List, WebhookSecret, WebhookView};
use crate::service::Service;
use crate::store::WebhookPatch;
use serde_json::Value;

use super::options::{self, OptionFields};

/// The body of an update: any of the fields; those left out (or null) stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookUpdate)]
pub struct WebhookBody {
    /// http or https, at most 2048 characters.
    #[schema(format = "uri", max_length = 2048)]
    url: Option<String>,
    /// At most 1000 characters.
    #[schema(max_length = 1000)]
    description: Option<String>,
    /// Registered event types, no repeats.
    #[schema(min_items = 1)]
    event_types: Option<Vec<String>>,
    /// Enabling a webhook clears its `disabled_reason`.
    enabled: Option<bool>,
    /// Headers sent with every attempt (at most 20; names are HTTP tokens, values at most 1000
    /// characters). Refused: `Host`, `Content-Type`, `Content-Length`, `Transfer-Encoding`,
    /// `Connection`, `User-Agent`, `traceparent`, `X-SpeakNode-*`, `webhook-*`. null clears.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = Option<Object>, example = json!({"Authorization": "Bearer 3f9c…"}))]
    headers: Option<Value>,
    /// Dotted path in the event's `data` → accepted values (strings, numbers or booleans): the
    /// webhook gets an event only when every path holds one of its values. null: every event.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = Option<Object>, example = json!({"agent_id": ["agent_7", "agent_9"]}))]
    filter: Option<Value>,
    /// At most this many attempts start per second (1 to 10000), across every process; the
    /// deliveries over it wait without an attempt. null: no limit.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 10000, example = 5)]
    rate_limit: Option<Value>,
    /// One attempt at a time, in the order the events were accepted; a delivery waiting for a
    /// retry holds the ones behind it until it succeeds, is exhausted or is cancelled.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = Option<bool>)]
    ordered: Option<Value>,
    /// How long one attempt may take, 1s to 60s, instead of the service's setting. null clears.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = Option<String>, example = "10s")]
    timeout: Option<Value>,
    /// Delays before attempts 2, 3, … for deliveries created from now on (at most 30, each at
    /// most 7d; "" for a single attempt), instead of the service's schedule. null clears.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = Option<String>, example = "5s,1m,10m")]
    retry_schedule: Option<Value>,
}

/// The body of a create. Fields are optional here only so that a missing one is answered 422
/// naming it, as the contract asks, rather than 400 from the JSON parser.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewWebhook)]
pub struct NewWebhookBody {
    /// http or https, at most 2048 characters.
    #[schema(value_type = String, required = true, format = "uri", max_length = 2048)]
    url: Option<String>,
    /// At most 1000 characters.
    #[schema(value_type = String, required = false, max_length = 1000, default = "")]
    description: Option<String>,
    /// Registered event types, no repeats.
    #[schema(value_type = Vec<String>, required = true, min_items = 1)]
    event_types: Option<Vec<String>>,
    #[schema(value_type = bool, required = false, default = true)]
    enabled: Option<bool>,
    /// As in an update.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = Option<Object>)]
    headers: Option<Value>,
    /// As in an update.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = Option<Object>)]
    filter: Option<Value>,
    /// As in an update.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    rate_limit: Option<Value>,
    /// As in an update.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = bool, default = false)]
    ordered: Option<Value>,
    /// As in an update.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = Option<String>)]
    timeout: Option<Value>,
    /// As in an update.
    #[serde(default, deserialize_with = "options::present")]
    #[schema(value_type = Option<String>)]
    retry_schedule: Option<Value>,
}

impl From<NewWebhookBody> for WebhookBody {
    fn from(body: NewWebhookBody) -> Self {
        let NewWebhookBody {
            url,
            description,
            event_types,
            enabled,
            headers,
            filter,
            rate_limit,
            ordered,
            timeout,
            retry_schedule,
        } = body;
        Self {
            url,
            description,
            event_types,
            enabled,
            headers,
            filter,
            rate_limit,
            ordered,
            timeout,
            retry_schedule,
        }
    }
}

impl WebhookBody {
    /// The fields as the use case takes them; the delivery options are read here (their JSON
    /// shapes are the API's own).
    fn into_patch(self) -> Result<WebhookPatch, ApiError> {
        let options = OptionFields {
            headers: self.headers,
            filter: self.filter,
            rate_limit: self.rate_limit,
            ordered: self.ordered,
            timeout: self.timeout,
            retry_schedule: self.retry_schedule,
        };
        Ok(WebhookPatch {
            url: self.url,
            description: self.description,
            event_types: self.event_types,
            enabled: self.enabled,
            options: options.patch()?,
        })
    }
}

/// Create a webhook
///
/// The answer is the only one that shows the new webhook's `secret`.
#[utoipa::path(post, path = "/api/v1/webhooks", operation_id = "create_webhook", tag = "Webhooks",
    security(("api_key" = [])),
    request_body = NewWebhookBody,
    responses(
        (status = 201, description = "Created, with its secret", body = WebhookView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn create(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    ApiJson { value: body, .. }: ApiJson<NewWebhookBody>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    let fields = WebhookBody::from(body).into_patch()?;
    let created = service.create_webhook(workspace_id, fields).await?;
    let mut view = views::webhook(created.webhook);
    view.secret = Some(created.secret.expose().to_string());
    Ok((StatusCode::CREATED, Json(view)))
}

/// List webhooks
///
/// Newest first, without their secrets.
#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "list_webhooks", tag = "Webhooks",
    security(("api_key" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of webhooks", body = List<WebhookView>),
        (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn list(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    query: QueryParams,
) -> ApiResult<Json<List<WebhookView>>> {
    let page = state
        .service
        .store
        .list_webhooks(&workspace_id, query.page()?)
        .await?;
    Ok(Json(views::list(page, views::webhook)))
}

/// Get a webhook
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", operation_id = "get_webhook", tag = "Webhooks",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The webhook's id (`wh_…`)")),
    responses(
        (status = 200, description = "The webhook, without its secret", body = WebhookView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ))]
pub async fn get(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let webhook = state.service.store.webhook(&workspace_id, &id).await?;
    Ok(Json(views::webhook(
        webhook.ok_or_else(|| ApiError::not_found("webhook"))?,
    )))
}

/// Update a webhook
///
/// Any of `url`, `description`, `event_types`, `enabled` and the delivery options.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", operation_id = "update_webhook", tag = "Webhooks",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The webhook's id (`wh_…`)")),
    request_body = WebhookBody,
    responses(
        (status = 200, description = "Updated", body = WebhookView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn update(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
    ApiJson { value: body, .. }: ApiJson<WebhookBody>,
) -> ApiResult<Json<WebhookView>> {
    let changes = body.into_patch()?;
    let updated = service.update_webhook(&workspace_id, &id, changes).await?;
    Ok(Json(views::webhook(updated)))
}

/// Delete a webhook
///
/// Its pending deliveries are cancelled and its Request History removed.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", operation_id = "delete_webhook", tag = "Webhooks",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The webhook's id (`wh_…`)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ))]
pub async fn delete(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    service.delete_webhook(&workspace_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Get a webhook's secret
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/secret", operation_id = "get_webhook_secret", tag = "Webhooks",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The webhook's id (`wh_…`)")),
    responses(
        (status = 200, description = "The newest signing secret", body = WebhookSecret),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ))]
pub async fn secret(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookSecret>> {
    let secret = service.current_secret(&workspace_id, &id).await?;
    Ok(Json(WebhookSecret {
        secret: secret.expose().to_string(),
    }))
}

/// Rotate a webhook's secret
///
/// The old secret keeps signing (in `webhook-signature`) for 24 hours.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/secret/rotate", operation_id = "rotate_webhook_secret", tag = "Webhooks",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The webhook's id (`wh_…`)")),
    responses(
        (status = 200, description = "The new signing secret", body = WebhookSecret),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ))]
pub async fn rotate(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookSecret>> {
    let secret = service.rotate_secret(&workspace_id, &id).await?;
    Ok(Json(WebhookSecret {
        secret: secret.expose().to_string(),
    }))
}
