//! The JSON API under `/api/v1`, the operations routes and the API's own description (the
//! OpenAPI document and the `/docs` page). Handlers read the request, call a use case in `service` (or, for reads, the store), and write
//! the answer.
//!
//! Every route is registered from one table ([`api_routes`], [`ops_routes`]); a test checks that
//! the OpenAPI document describes each of them, and nothing else.

mod admin;
mod docs;
mod error;
mod events;
mod extract;
mod history;
mod openapi;
mod ops;
mod options;
mod portal;
pub mod rate_limit;
mod recover;
mod replay;
mod stats;
mod views;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

pub use error::{ApiError, ApiResult};
pub use rate_limit::ApiRateLimiter;

use crate::config::Config;
use crate::service::Service;

/// What the API's handlers can reach: the use cases (and through them the store), the settings,
/// and the per-key rate limit.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub config: Arc<Config>,
    /// `SPEAKNODE_RATE_LIMIT`, when set.
    pub rate_limiter: Option<Arc<ApiRateLimiter>>,
}

/// A handler that needs only the use cases takes `State<Service>`.
impl axum::extract::FromRef<AppState> for Service {
    fn from_ref(state: &AppState) -> Self {
        state.service.clone()
    }
}

/// One route: a method and a path (axum's syntax, which is also OpenAPI's) and its handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

fn route<H, T>(method: Method, path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone())
        .unwrap_or_else(|_| panic!("{method} {path}: axum cannot route this method"));
    Route {
        method,
        path,
        handler: on(filter, handler),
    }
}

/// The JSON API, and the API's description. A route added here needs `#[utoipa::path]` on its
/// handler and the handler in `paths(...)` in `openapi.rs`, or the route-coverage test fails.
pub fn api_routes() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::POST, "/api/v1/webhooks", webhooks::create),
        route(M::GET, "/api/v1/webhooks", webhooks::list),
        route(M::GET, "/api/v1/webhooks/{id}", webhooks::get),
        route(M::PATCH, "/api/v1/webhooks/{id}", webhooks::update),
        route(M::DELETE, "/api/v1/webhooks/{id}", webhooks::delete),
        route(M::GET, "/api/v1/webhooks/{id}/secret", webhooks::secret),
        route(
            M::POST,
            "/api/v1/webhooks/{id}/secret/rotate",
            webhooks::rotate,
        ),
        route(M::POST, "/api/v1/webhooks/{id}/test", history::test_send),
        route(M::GET, "/api/v1/webhooks/{id}/attempts", history::list),
        route(
            M::GET,
            "/api/v1/webhooks/{id}/attempts/{attempt_id}",
            history::get,
        ),
        route(
            M::POST,
            "/api/v1/webhooks/{id}/attempts/{attempt_id}/retry",
            history::retry,
        ),
        route(M::POST, "/api/v1/webhooks/{id}/recover", recover::recover),
        route(M::POST, "/api/v1/webhooks/{id}/replay", replay::replay),
        route(M::GET, "/api/v1/stats", stats::stats),
        route(M::POST, "/api/v1/events", events::create),
        route(M::GET, "/api/v1/events", events::list),
        route(M::GET, "/api/v1/events/{id}", events::get),
        route(M::GET, "/api/v1/event-types", events::event_types),
        route(M::POST, "/api/v1/event-types", admin::create_event_type),
        route(M::POST, "/api/v1/workspaces", admin::create_workspace),
        route(M::GET, "/api/v1/workspaces", admin::list_workspaces),
        route(
            M::POST,
            "/api/v1/workspaces/{id}/api-keys",
            admin::create_api_key,
        ),
        route(
            M::DELETE,
            "/api/v1/workspaces/{id}/api-keys/{key_id}",
            admin::revoke_api_key,
        ),
        route(M::POST, "/api/v1/portal/sessions", portal::create),
        route(
            M::POST,
            "/api/v1/workspaces/{id}/portal/sessions",
            portal::create_for_workspace,
        ),
        route(M::GET, "/api/v1/openapi.json", openapi::serve_document),
        route(M::GET, "/docs", docs::page),
    ]
}

/// The routes every process serves, a worker-only one too.
pub fn ops_routes() -> Vec<Route> {
    vec![
        route(Method::GET, "/healthz", ops::healthz),
        route(Method::GET, "/metrics", ops::metrics),
    ]
}

/// A router of the given routes; two methods on one path share its entry.
fn router_of(routes: Vec<Route>) -> Router<AppState> {
    routes
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
}

/// The JSON API and the operations routes.
pub fn api_router(state: AppState) -> Router {
    router_of(api_routes())
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

/// The operations routes, shared by both kinds of process.
pub fn ops_router() -> Router<AppState> {
    router_of(ops_routes())
}

/// What a worker-only process (`--no-api`) serves: the operations routes, and the contract's
/// error body for anything else.
pub fn worker_router(state: AppState) -> Router {
    ops_router()
        .fallback(|| async { ApiError::route_not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
}
