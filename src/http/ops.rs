//! Operations routes: no authentication, for load balancers and monitoring.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ErrorCode, ErrorDetail};
use crate::metrics::CONTENT_TYPE;

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
    match state.service.store.ping().await {
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

/// Prometheus metrics
///
/// The service's metrics in the OpenMetrics text format (Prometheus scrapes it as it is):
/// counters and the attempt latency histogram of this process, and the queue's gauges read from
/// the database. `speaknode_database_up` is 0 when the database did not answer.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "Operations",
    responses((status = 200, description = "The metrics", content_type = CONTENT_TYPE,
        body = String)))]
pub async fn metrics(
    State(state): State<AppState>,
) -> ([(axum::http::header::HeaderName, &'static str); 1], String) {
    let queue = match state
        .service
        .store
        .queue_stats(state.service.clock.now())
        .await
    {
        Ok(stats) => Some(stats),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the queue gauges could not be read");
            None
        }
    };
    let text = state.service.deliverer.metrics.render(queue.as_ref());
    ([(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)], text)
}
