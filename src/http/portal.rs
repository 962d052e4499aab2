//! `/api/v1/portal/sessions` and `/api/v1/workspaces/{id}/portal/sessions`: one-time links that
//! sign a platform's customer in to their workspace's dashboard (the portal), minted by the
//! platform's backend and opened in the customer's browser, often in an iframe.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::admin::Admin;
use super::error::ApiResult;
use super::error::responses::{
    AdminNotFound, BadRequest, PayloadTooLarge, Unauthorized, Unavailable, UnsupportedMediaType,
};
use super::extract::{OptionalJson, Path, WorkspaceId};
use crate::domain::time::rfc3339;
use crate::service::{PortalLink, Service};

/// The link to mint. The body may be left out entirely.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(as = NewPortalSession)]
pub struct PortalBody {
    /// A read-only session shows every page but changes nothing and shows no secret (for
    /// support staff).
    #[serde(default)]
    #[schema(default = false)]
    read_only: bool,
}

/// A one-time sign-in link.
#[derive(Serialize, ToSchema)]
#[schema(as = PortalSession)]
pub struct PortalSessionView {
    /// Open it in the customer's browser (a new tab or an iframe); it works once.
    #[schema(example = "https://webhooks.speaknode.com/portal/4vQ…")]
    pub url: String,
    /// The link is refused after this time (`SPEAKNODE_PORTAL_LINK_TTL` after minting).
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub read_only: bool,
}

/// Mints the link and writes the answer, for either route.
async fn mint(
    service: &Service,
    workspace_id: &str,
    body: Option<PortalBody>,
) -> ApiResult<(StatusCode, Json<PortalSessionView>)> {
    let read_only = body.unwrap_or_default().read_only;
    let link = service.mint_portal_link(workspace_id, read_only).await?;
    Ok(view(link))
}

fn view(link: PortalLink) -> (StatusCode, Json<PortalSessionView>) {
    let view = PortalSessionView {
        url: link.url,
        expires_at: rfc3339(link.expires_at),
        read_only: link.read_only,
    };
    (StatusCode::CREATED, Json(view))
}

/// Mint a portal link
///
/// A one-time link that signs a browser in to this workspace's dashboard, with no API key; it
/// works once, within `SPEAKNODE_PORTAL_LINK_TTL`. Never log it: it is a credential until used.
#[utoipa::path(post, path = "/api/v1/portal/sessions", operation_id = "create_portal_session", tag = "Portal",
    security(("api_key" = [])),
    request_body(content = PortalBody, description = "Optional"),
    responses(
        (status = 201, description = "The link", body = PortalSessionView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ))]
pub async fn create(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    OptionalJson(body): OptionalJson<PortalBody>,
) -> ApiResult<(StatusCode, Json<PortalSessionView>)> {
    mint(&service, &workspace_id, body).await
}

/// Mint a portal link for a workspace
///
/// The same as `POST /api/v1/portal/sessions`, for the operator: any workspace, by id.
#[utoipa::path(post, path = "/api/v1/workspaces/{id}/portal/sessions", operation_id = "create_workspace_portal_session", tag = "Admin",
    security(("admin_token" = [])),
    params(("id" = String, Path, description = "The workspace's id (`ws_…`)")),
    request_body(content = PortalBody, description = "Optional"),
    responses(
        (status = 201, description = "The link", body = PortalSessionView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = AdminNotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ))]
pub async fn create_for_workspace(
    State(service): State<Service>,
    _: Admin,
    Path(workspace_id): Path<String>,
    OptionalJson(body): OptionalJson<PortalBody>,
) -> ApiResult<(StatusCode, Json<PortalSessionView>)> {
    mint(&service, &workspace_id, body).await
}
