//! `/api/v1/webhooks`: create, list, read, update, delete, and read or rotate the secret.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Path, QueryParams, WorkspaceId};
use super::views::{self, List, WebhookView};
use crate::domain::ids;
use crate::domain::webhook::{
    ROTATED_SECRET_GRACE_MS, Secret, WebhookUrl, check_description, check_event_types,
};
use crate::store::{NewWebhook, WebhookPatch};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    url: Option<String>,
    description: Option<String>,
    event_types: Option<Vec<String>>,
    enabled: Option<bool>,
}

/// Refuses a URL whose host name resolves only to blocked addresses (DNS is checked again at
/// every delivery; this catches the obvious cases early, with a clear error).
pub async fn check_resolution(state: &AppState, url: Option<&WebhookUrl>) -> ApiResult<()> {
    let Some(url::Host::Domain(name)) = url.and_then(|u| u.url().host()) else {
        return Ok(());
    };
    if !state.config.allow_private_targets
        && crate::delivery::resolver::host_resolves_only_to_blocked(name).await
    {
        return Err(ApiError::from(crate::domain::Invalid::blocked(
            "url",
            format!("must not point at a host that resolves to private addresses ({name})"),
        )));
    }
    Ok(())
}

/// Picks up event types another process registered, when the body names one unknown here.
async fn refresh_event_types(state: &AppState, body: &WebhookBody) -> ApiResult<()> {
    let types = body.event_types.iter().flatten();
    if types.clone().any(|name| !state.registry.contains(name)) {
        super::admin::reload_event_types(state).await?;
    }
    Ok(())
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

pub async fn create(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    ApiJson { value: body, .. }: ApiJson<WebhookBody>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    let url = body
        .url
        .as_deref()
        .ok_or_else(|| ApiError::invalid("url", "is required"))?;
    let url = WebhookUrl::parse(url, state.config.allow_private_targets)?;
    check_resolution(&state, Some(&url)).await?;
    if body.event_types.is_none() {
        return Err(ApiError::invalid("event_types", "is required"));
    }
    refresh_event_types(&state, &body).await?;
    validate(&state, &body)?;
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
            now: state.clock.now(),
        })
        .await?;
    let mut view = views::webhook(created);
    view.secret = Some(secret.expose().to_string());
    Ok((StatusCode::CREATED, Json(view)))
}

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
    check_resolution(&state, url.as_ref()).await?;
    let patch = WebhookPatch {
        url: url.map(|u| u.as_str().to_string()),
        description: body.description,
        event_types: body.event_types,
        enabled: body.enabled,
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

pub async fn secret(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let secrets = state
        .store
        .webhook_secrets(&workspace_id, &id, state.clock.now())
        .await?;
    let newest = secrets
        .ok_or_else(|| ApiError::not_found("webhook"))?
        .into_iter()
        .next()
        .ok_or_else(ApiError::internal)?;
    Ok(Json(json!({"secret": newest.expose()})))
}

pub async fn rotate(
    State(state): State<AppState>,
    WorkspaceId(workspace_id): WorkspaceId,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let secret = rotate_secret(&state, &workspace_id, &id).await?;
    Ok(Json(json!({"secret": secret.expose()})))
}

/// Gives the webhook a new secret, shared by the API and the dashboard. The old one keeps signing
/// (in `webhook-signature`) for 24 h, so receivers can switch over without losing deliveries.
pub async fn rotate_secret(state: &AppState, workspace_id: &str, id: &str) -> ApiResult<Secret> {
    let secret = Secret::generate();
    let now = state.clock.now();
    let grace_until = now + ROTATED_SECRET_GRACE_MS;
    if state
        .store
        .rotate_webhook_secret(workspace_id, id, &secret, now, grace_until)
        .await?
    {
        Ok(secret)
    } else {
        Err(ApiError::not_found("webhook"))
    }
}
