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
use crate::domain::ids;
use crate::domain::webhook::{Secret, WebhookUrl, check_description, check_event_types};
use crate::service::webhooks as service;
use crate::store::{DeliveryOptions, NewWebhook, OptionsPatch, WebhookPatch};
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

/// Picks up event types another process registered, when the body names one unknown here.
async fn refresh_event_types(state: &AppState, body: &WebhookBody) -> ApiResult<()> {
    let types = body.event_types.iter().flatten();
    crate::service::event_types::refresh_for(state.store.as_ref(), &state.registry, types).await?;
    Ok(())
}

impl WebhookBody {
    fn options(&self) -> Result<OptionsPatch, ApiError> {
        let fields = OptionFields {
            headers: self.headers.clone(),
            filter: self.filter.clone(),
            rate_limit: self.rate_limit.clone(),
            ordered: self.ordered.clone(),
            timeout: self.timeout.clone(),
            retry_schedule: self.retry_schedule.clone(),
        };
        Ok(fields.patch()?)
    }
}

/// Checks every given field with the same rules for create and update.
fn validate(state: &AppState, body: &WebhookBody) -> Result<(), ApiError> {
    if let Some(url) = &body.url {
        WebhookUrl::parse(url, state.config.allow_private_targets)?;
    }
    if let Some(description) = &body.description {
        check_description(description)?;
    }
    if let Some(types) = &body.event_types {
        check_event_types(types, |name| state.registry.contains(name))?;
    }
    Ok(())
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
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    ApiJson { value: body, .. }: ApiJson<NewWebhookBody>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    let body = WebhookBody::from(body);
    let url = body
        .url
        .as_deref()
        .ok_or_else(|| ApiError::invalid("url", "is required"))?;
    let url = WebhookUrl::parse(url, state.config.allow_private_targets)?;
    service::check_resolution(state.config.allow_private_targets, Some(&url)).await?;
    if body.event_types.is_none() {
        return Err(ApiError::invalid("event_types", "is required"));
    }
    refresh_event_types(&state, &body).await?;
    validate(&state, &body)?;
    let options = body.options()?.apply(&DeliveryOptions::default());
    let secret = Secret::generate();
    let created = state
        .store
        .create_webhook(&NewWebhook {
            id: ids::new_id(ids::WEBHOOK),
            workspace_id,
            url: url.as_str().to_string(),
            description: body.description.unwrap_or_default(),
            event_types: body.event_types.unwrap_or_default(),
            enabled: body.enabled.unwrap_or(true),
            secret: secret.clone(),
            options,
            now: state.clock.now(),
        })
        .await?;
    let mut view = views::webhook(created);
    view.secret = Some(secret.expose().to_string());
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
    let webhook = state.store.webhook(&workspace_id, &id).await?;
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
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
    ApiJson { value: body, .. }: ApiJson<WebhookBody>,
) -> ApiResult<Json<WebhookView>> {
    // An unknown id is a 404 even when the body is also invalid: existence is checked first.
    if state.store.webhook(&workspace_id, &id).await?.is_none() {
        return Err(ApiError::not_found("webhook"));
    }
    refresh_event_types(&state, &body).await?;
    validate(&state, &body)?;
    let url = body
        .url
        .as_deref()
        .map(|u| WebhookUrl::parse(u, state.config.allow_private_targets))
        .transpose()?;
    service::check_resolution(state.config.allow_private_targets, url.as_ref()).await?;
    let options = body.options()?;
    let patch = WebhookPatch {
        url: url.map(|u| u.as_str().to_string()),
        description: body.description,
        event_types: body.event_types,
        enabled: body.enabled,
        options,
    };
    let updated = state
        .store
        .update_webhook(&workspace_id, &id, &patch, state.clock.now())
        .await?;
    if patch.enabled == Some(true) {
        state.wake.notify_one();
    }
    Ok(Json(views::webhook(
        updated.ok_or_else(|| ApiError::not_found("webhook"))?,
    )))
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
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if state
        .store
        .delete_webhook(&workspace_id, &id, state.clock.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("webhook"))
    }
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
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookSecret>> {
    let secrets = state
        .store
        .webhook_secrets(&workspace_id, &id, state.clock.now())
        .await?;
    let newest = secrets
        .ok_or_else(|| ApiError::not_found("webhook"))?
        .into_iter()
        .next()
        .ok_or_else(ApiError::internal)?;
    Ok(Json(WebhookSecret {
        secret: newest.expose().to_string(),
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
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookSecret>> {
    let secret = service::rotate_secret(
        state.store.as_ref(),
        state.clock.as_ref(),
        &workspace_id,
        &id,
    )
    .await?;
    Ok(Json(WebhookSecret {
        secret: secret.expose().to_string(),
    }))
}
