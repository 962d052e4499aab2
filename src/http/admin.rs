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

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Path, QueryParams, hash_key};
use super::views::{self, List};
use crate::domain::event_type::{EventType, EventTypeDef};
use crate::domain::ids;
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

#[derive(Serialize)]
pub struct WorkspaceView {
    id: String,
    name: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<String>,
}

fn workspace_view(w: Workspace) -> WorkspaceView {
    WorkspaceView {
        id: w.id,
        name: w.name,
        created_at: rfc3339(w.created_at),
        api_key: None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceBody {
    name: Option<String>,
}

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
    let now = state.clock.now();
    let workspace = Workspace {
        id: ids::new_id(ids::WORKSPACE),
        name,
        created_at: now,
    };
    state.store.create_workspace(&workspace, false).await?;
    let key = ids::new_api_key();
    state
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

pub async fn list_workspaces(
    State(state): State<AppState>,
    _: Admin,
    query: QueryParams,
) -> ApiResult<Json<List<WorkspaceView>>> {
    let page = state.store.list_workspaces(query.page()?).await?;
    Ok(Json(views::list(page, workspace_view)))
}

pub async fn create_api_key(
    State(state): State<AppState>,
    _: Admin,
    Path(workspace_id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if state.store.workspace(&workspace_id).await?.is_none() {
        return Err(ApiError::not_found("workspace"));
    }
    let (id, key) = (ids::new_id(ids::API_KEY), ids::new_api_key());
    state
        .store
        .add_api_key(&id, &workspace_id, &hash_key(&key), state.clock.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"id": id, "api_key": key})),
    ))
}

pub async fn revoke_api_key(
    State(state): State<AppState>,
    _: Admin,
    Path((workspace_id, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    if state
        .store
        .revoke_api_key(&workspace_id, &key_id, state.clock.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("API key"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventTypeBody {
    name: Option<String>,
    description: Option<String>,
    schema: Option<Value>,
    example: Option<Value>,
}

pub async fn create_event_type(
    State(state): State<AppState>,
    _: Admin,
    ApiJson { value: body, .. }: ApiJson<EventTypeBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
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
        .store
        .insert_event_type(&def, state.clock.now())
        .await?
    {
        return Err(
            ApiError::conflict(format!("The event type {:?} already exists.", def.name))
                .with_field("name"),
        );
    }
    state.registry.insert(compiled);
    let view = serde_json::json!({"name": def.name, "description": def.description, "schema": def.schema, "example": def.example});
    Ok((StatusCode::CREATED, Json(view)))
}

/// Loads event types registered since start-up (possibly by another process). Called when a
/// request names a type this process does not know, before refusing it.
pub async fn reload_event_types(state: &AppState) -> ApiResult<()> {
    for def in state.store.event_types().await? {
        if !state.registry.contains(&def.name)
            && let Ok(compiled) = EventType::compile(def)
        {
            state.registry.insert(compiled);
        }
    }
    Ok(())
}
