//! The JSON API under `/api/v1` and the operations routes. This is the only layer that knows
//! about status codes; handlers parse input into domain types and call the store.

mod admin;
mod error;
mod events;
mod extract;
mod history;
mod ops;
mod recover;
mod views;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::Notify;

pub use admin::reload_event_types;
pub use error::{ApiError, ApiResult};
pub use extract::hash_key;
pub use history::send_test_event;
pub use webhooks::{check_resolution, rotate_secret};

use crate::config::Config;
use crate::delivery::Deliverer;
use crate::domain::clock::Clock;
use crate::domain::event_type::Registry;
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub registry: Arc<Registry>,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub deliverer: Arc<Deliverer>,
    /// Wakes the local worker when new deliveries are queued.
    pub wake: Arc<Notify>,
}

/// The JSON API and the operations routes.
pub fn api_router(state: AppState) -> Router {
    let api = Router::new()
        .route("/webhooks", post(webhooks::create).get(webhooks::list))
        .route(
            "/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/webhooks/{id}/secret", get(webhooks::secret))
        .route("/webhooks/{id}/secret/rotate", post(webhooks::rotate))
        .route("/webhooks/{id}/test", post(history::test_send))
        .route("/webhooks/{id}/attempts", get(history::list))
        .route("/webhooks/{id}/attempts/{attempt_id}", get(history::get))
        .route(
            "/webhooks/{id}/attempts/{attempt_id}/retry",
            post(history::retry),
        )
        .route("/events", post(events::create).get(events::list))
        .route("/events/{id}", get(events::get))
        .route("/webhooks/{id}/recover", post(recover::recover))
        .route(
            "/event-types",
            get(events::event_types).post(admin::create_event_type),
        )
        .route(
            "/workspaces",
            post(admin::create_workspace).get(admin::list_workspaces),
        )
        .route("/workspaces/{id}/api-keys", post(admin::create_api_key))
        .route(
            "/workspaces/{id}/api-keys/{key_id}",
            axum::routing::delete(admin::revoke_api_key),
        );
    Router::new()
        .nest("/api/v1", api)
        .merge(ops_router())
        .fallback(|| async { ApiError::route_not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
}

/// A path holding an encoded NUL (`%00`) names no route: answered before any handler, so no
/// id with NUL ever reaches the database (PostgreSQL cannot even compare text holding NUL).
pub async fn refuse_nul_in_paths(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if request.uri().path().contains("%00") {
        return axum::response::IntoResponse::into_response(ApiError::route_not_found());
    }
    next.run(request).await
}

/// The routes a worker-only process still serves.
pub fn ops_router() -> Router<AppState> {
    Router::new().route("/healthz", get(ops::healthz))
}
