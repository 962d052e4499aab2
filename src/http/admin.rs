//! Operator routes behind `SPEAKNODE_ADMIN_TOKEN`: workspaces, their API keys, and new event
//! types. Without a token configured they do not exist (404); with one, anything else is 401,
//! including a workspace's API key.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::AppState;
use super::error::responses::{
    AdminNotFound, BadRequest, Conflict, PayloadTooLarge, Unauthorized, Unavailable, Unprocessable,
    UnsupportedMediaType,
};
use super::error::{ApiError, ApiResult};
use super::events::EventTypeView;
use super::extract::{ApiJson, PageParams, Path, QueryParams};
use super::views::{self, List};
use crate::domain::event_type::{EventType, EventTypeDef};
use crate::domain::ids;
use crate::domain::ids::hash_key;
use crate::domain::time::rfc3339;
use crate::domain::validation::{char_len, check_no_nul};
use crate::store::Workspace;

/// Proof that the request carries the admin token.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = &state.config.admin_token else {
            return Err(ApiError::route_not_found());
        };
        let given = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .unwrap_or("");
        // Compare digests, so neither the content nor the length of the token leaks in timing.
        let matches: bool = Sha256::digest(given.as_bytes())
            .ct_eq(&Sha256::digest(token.as_bytes()))
            .into();
        if matches {
            Ok(Self)
        } else {
            Err(ApiError::unauthorized())
        }
    }
}

/// One SpeakNode customer account.
#[derive(Serialize, ToSchema)]
#[schema(as = Workspace)]
pub struct WorkspaceView {
    #[schema(example = "ws_5tYd0rKq8uPz")]
    id: String,
    name: String,
    #[schema(format = DateTime)]
    created_at: String,
    /// The workspace's first API key (`sk_…`): only in the answer to create, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    api_key: Option<String>,
}

/// A new API key of a workspace, shown once.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyCreated {
    #[schema(example = "key_3Jx9wQ2mB7sV")]
    id: String,
    api_key: String,
}

fn workspace_view(w: Workspace) -> WorkspaceView {
    WorkspaceView {
        id: w.id,
        name: w.name,
        created_at: rfc3339(w.created_at),
        api_key: None,
    }
}

/// A workspace to create. Optional here only so that a missing `name` is a 422.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewWorkspace)]
pub struct WorkspaceBody {
    /// 1 to 200 characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    name: Option<String>,
}

/// Create a workspace
///
/// With a first API key, shown once in the answer.
#[utoipa::path(post, path = "/api/v1/workspaces", operation_id = "create_workspace", tag = "Admin",
    security(("admin_token" = [])),
    request_body = WorkspaceBody,
    responses(
        (status = 201, description = "Created, with its API key", body = WorkspaceView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = AdminNotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn create_workspace(
    State(state): State<AppState>,
    _: Admin,
    ApiJson { value: body, .. }: ApiJson<WorkspaceBody>,
) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    let name = body.name.map(|n| n.trim().to_string()).unwrap_or_default();
    if name.is_empty() || char_len(&name) > 200 {
        return Err(ApiError::invalid("name", "must be 1 to 200 characters"));
    }
    check_no_nul("name", &name)?;
    let now = state.service.clock.now();
    let workspace = Workspace {
        id: ids::new_id(ids::WORKSPACE),
        name,
        created_at: now,
    };
    state
        .service
        .store
        .create_workspace(&workspace, false)
        .await?;
    let key = ids::new_api_key();
    state
        .service
        .store
        .add_api_key(
            &ids::new_id(ids::API_KEY),
            &workspace.id,
            &hash_key(&key),
            now,
        )
        .await?;
    let mut view = workspace_view(workspace);
    view.api_key = Some(key);
    Ok((StatusCode::CREATED, Json(view)))
}

/// List workspaces
#[utoipa::path(get, path = "/api/v1/workspaces", operation_id = "list_workspaces", tag = "Admin",
    security(("admin_token" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of workspaces", body = List<WorkspaceView>),
        (status = 401, response = Unauthorized),
        (status = 404, response = AdminNotFound),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn list_workspaces(
    State(state): State<AppState>,
    _: Admin,
    query: QueryParams,
) -> ApiResult<Json<List<WorkspaceView>>> {
    let page = state.service.store.list_workspaces(query.page()?).await?;
    Ok(Json(views::list(page, workspace_view)))
}

/// Create an API key
#[utoipa::path(post, path = "/api/v1/workspaces/{id}/api-keys", operation_id = "create_api_key", tag = "Admin",
    security(("admin_token" = [])),
    params(("id" = String, Path, description = "The workspace's id (`ws_…`)")),
    responses(
        (status = 201, description = "Created; the key is shown only here", body = ApiKeyCreated),
        (status = 401, response = Unauthorized),
        (status = 404, response = AdminNotFound),
        (status = 503, response = Unavailable),
    ))]
pub async fn create_api_key(
    State(state): State<AppState>,
    _: Admin,
    Path(workspace_id): Path<String>,
) -> ApiResult<(StatusCode, Json<ApiKeyCreated>)> {
    if state
        .service
        .store
        .workspace(&workspace_id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("workspace"));
    }
    let (id, key) = (ids::new_id(ids::API_KEY), ids::new_api_key());
    state
        .service
        .store
        .add_api_key(
            &id,
            &workspace_id,
            &hash_key(&key),
            state.service.clock.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ApiKeyCreated { id, api_key: key }),
    ))
}

/// Revoke an API key
#[utoipa::path(delete, path = "/api/v1/workspaces/{id}/api-keys/{key_id}", operation_id = "revoke_api_key", tag = "Admin",
    security(("admin_token" = [])),
    params(
        ("id" = String, Path, description = "The workspace's id (`ws_…`)"),
        ("key_id" = String, Path, description = "The key's id (`key_…`)"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, response = Unauthorized),
        (status = 404, response = AdminNotFound),
        (status = 503, response = Unavailable),
    ))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    _: Admin,
    Path((workspace_id, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    if state
        .service
        .store
        .revoke_api_key(&workspace_id, &key_id, state.service.clock.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("API key"))
    }
}

/// An event type to register. Fields are optional here only so that a missing one is a 422.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewEventType)]
pub struct EventTypeBody {
    #[schema(value_type = String, required = true, example = "CallTransferred")]
    name: Option<String>,
    /// At most 1000 characters.
    #[schema(value_type = String, required = false, max_length = 1000, default = "")]
    description: Option<String>,
    /// The JSON Schema that events' `data` must follow.
    #[schema(value_type = Value, required = true)]
    schema: Option<Value>,
    /// Must be valid against `schema`.
    #[schema(value_type = Value, required = true)]
    example: Option<Value>,
}

/// Register an event type
#[utoipa::path(post, path = "/api/v1/event-types", operation_id = "create_event_type", tag = "Admin",
    security(("admin_token" = [])),
    request_body = EventTypeBody,
    responses(
        (status = 201, description = "Registered", body = EventTypeView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = AdminNotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn create_event_type(
    State(state): State<AppState>,
    _: Admin,
    ApiJson { value: body, .. }: ApiJson<EventTypeBody>,
) -> ApiResult<(StatusCode, Json<EventTypeView>)> {
    let def = EventTypeDef {
        name: body
            .name
            .ok_or_else(|| ApiError::invalid("name", "is required"))?,
        description: body.description.unwrap_or_default(),
        schema: body
            .schema
            .ok_or_else(|| ApiError::invalid("schema", "is required"))?,
        example: body
            .example
            .ok_or_else(|| ApiError::invalid("example", "is required"))?,
    };
    if char_len(&def.description) > 1000 {
        return Err(ApiError::invalid(
            "description",
            "must be at most 1000 characters",
        ));
    }
    check_no_nul("description", &def.description)?;
    let compiled = EventType::compile(def.clone())?;
    if !state
        .service
        .store
        .insert_event_type(&def, state.service.clock.now())
        .await?
    {
        return Err(
            ApiError::conflict(format!("The event type {:?} already exists.", def.name))
                .with_field("name"),
        );
    }
    state.service.registry.insert(compiled);
    let view = EventTypeView {
        name: def.name,
        description: def.description,
        schema: def.schema,
        example: def.example,
    };
    Ok((StatusCode::CREATED, Json(view)))
}
