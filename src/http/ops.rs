//! Operations routes: no authentication, for load balancers and monitoring.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ErrorCode, ErrorDetail};

/// Whether the service can reach its database.
#[derive(Serialize, ToSchema)]
pub struct Health {
    status: HealthStatus,
    /// Why not, when the status is `unavailable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    error: Option<ErrorDetail>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum HealthStatus {
    Ok,
    Unavailable,
}

/// Health check
///
/// 200 when the database answers, else 503.
#[utoipa::path(get, path = "/healthz", operation_id = "health", tag = "Operations",
    responses(
        (status = 200, description = "The database answers", body = Health,
            example = json!({"status": "ok"})),
        (status = 503, description = "The database does not answer", body = Health,
            example = json!({"status": "unavailable", "error": {"code": "unavailable",
                "message": "The database does not answer."}})),
    ))]
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: HealthStatus::Ok,
                error: None,
            }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            let error = ErrorDetail {
                code: ErrorCode::Unavailable,
                message: "The database does not answer.".into(),
                field: None,
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: HealthStatus::Unavailable,
                    error: Some(error),
                }),
            )
        }
    }
}
