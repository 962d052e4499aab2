//! `GET /api/v1/stats`: the Request History counted by bucket and outcome over a window.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::responses::{NotFound, Unauthorized, Unavailable, Unprocessable};
use super::error::{ApiError, ApiResult};
use super::extract::{QueryParams, WorkspaceId};
use crate::domain::stats::{Bucket, Counts, Tally};
use crate::domain::time::rfc3339;
use crate::service::{Service, StatsQuery};

/// Attempts, and how many succeeded (2xx) or failed.
#[derive(Serialize, ToSchema)]
#[schema(as = StatsTotals)]
pub struct TotalsView {
    pub attempts: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// One bucket of the series.
#[derive(Serialize, ToSchema)]
#[schema(as = StatsPoint)]
pub struct PointView {
    /// The bucket's start: a whole UTC minute, hour or day.
    #[schema(format = DateTime)]
    pub start: String,
    pub attempts: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// The statistics of a window.
#[derive(Serialize, ToSchema)]
#[schema(as = Stats)]
pub struct StatsView {
    #[schema(format = DateTime)]
    pub since: String,
    #[schema(format = DateTime)]
    pub until: String,
    /// `minute`, `hour` or `day`.
    pub bucket: &'static str,
    pub totals: TotalsView,
    /// Every bucket of the window in order, empty ones with zeros; the first holds `since`.
    pub series: Vec<PointView>,
    /// Attempts by HTTP status (`"200"`), or by error when no response came (`"timeout"`).
    #[schema(example = json!({"200": 100, "500": 15, "timeout": 5}))]
    pub outcomes: BTreeMap<String, u64>,
}

fn totals(t: Tally) -> TotalsView {
    TotalsView {
        attempts: t.attempts,
        succeeded: t.succeeded,
        failed: t.failed,
    }
}

fn view(counts: Counts) -> StatsView {
    StatsView {
        since: rfc3339(counts.since),
        until: rfc3339(counts.until),
        bucket: counts.bucket.as_str(),
        totals: totals(counts.totals),
        series: counts
            .series
            .into_iter()
            .map(|(start, t)| PointView {
                start: rfc3339(start),
                attempts: t.attempts,
                succeeded: t.succeeded,
                failed: t.failed,
            })
            .collect(),
        outcomes: counts.outcomes,
    }
}

/// Delivery statistics
///
/// Counts the attempts of the Request History (every trigger) that started in `[since, until)`:
/// totals, a series of every bucket, and the attempts by outcome. Its cost follows the number
/// of buckets, not of attempts.
#[utoipa::path(get, path = "/api/v1/stats", operation_id = "get_stats", tag = "Request History",
    security(("api_key" = [])),
    params(
        ("since" = Option<String>, Query, format = DateTime,
            description = "Start of the window (included); default 24 h before `until`"),
        ("until" = Option<String>, Query, format = DateTime,
            description = "End of the window (excluded); default now. At most 92 days after `since`"),
        ("webhook_id" = Option<String>, Query, description = "One webhook's attempts (`wh_…`)"),
        ("bucket" = Option<String>, Query,
            description = "`minute`, `hour` or `day`; default minute up to 2 h, hour up to 7 days, day beyond"),
    ),
    responses(
        (status = 200, description = "The statistics", body = StatsView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    ))]
pub async fn stats(
    State(service): State<Service>,
    WorkspaceId(workspace_id): WorkspaceId,
    query: QueryParams,
) -> ApiResult<Json<StatsView>> {
    let bucket = match query.get("bucket") {
        None => None,
        Some(text) => Some(
            Bucket::parse(text)
                .ok_or_else(|| ApiError::invalid("bucket", "must be minute, hour or day"))?,
        ),
    };
    let webhook_id = match query.get("webhook_id") {
        Some("") => return Err(ApiError::invalid("webhook_id", "must not be empty")),
        other => other.map(str::to_string),
    };
    let asked = StatsQuery {
        since: query.time("since")?,
        until: query.time("until")?,
        webhook_id,
        bucket,
    };
    Ok(Json(view(service.stats(&workspace_id, asked).await?)))
}
