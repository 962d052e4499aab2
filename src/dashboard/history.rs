//! A webhook's Request History on its page: rows of attempts, newest first, the All / Succeeded
//! / Failed filter, older/newer paging, and the Retry button of each row.
//!
//! Paging: the store pages towards older attempts with a cursor. To page back towards newer
//! ones without a second kind of query, the page URL carries `trail`, the cursors of the pages
//! passed through (`0` for the newest page): "Newer" pops it, "Older" pushes onto it. The URL
//! then always names exactly the page shown, so reloading and sharing links work.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::PageResult;
use super::PageState;
use super::form::Fields;
use super::format;
use super::session::Posted;
use crate::service::Service;
use crate::store::{Attempt, AttemptFilter, PageRequest};

const PAGE_SIZE: u32 = 20;

/// One attempt as its row shows it, and what opens below it.
pub struct AttemptRow {
    pub id: String,
    pub when: String,
    pub when_iso: String,
    pub label: String,
    pub class: &'static str,
    pub event_type: String,
    pub attempt: u32,
    pub trigger: &'static str,
    pub duration: String,
    pub payload: String,
    pub response: String,
    pub response_truncated: bool,
    pub next_attempt: Option<String>,
}

/// A filter tab: its label, its link, and whether it is the one shown.
pub struct Tab {
    pub label: &'static str,
    pub href: String,
    pub active: bool,
}

pub struct History {
    pub rows: Vec<AttemptRow>,
    pub tabs: Vec<Tab>,
    pub filtered: bool,
    pub newer: Option<String>,
    pub older: Option<String>,
}

/// Where the page stands: its filter, its cursor and the trail back to the newest page.
struct Position {
    status: Option<&'static str>,
    before: Option<i64>,
    trail: Vec<i64>,
}

impl Position {
    fn read(query: &Fields) -> Self {
        let status = match query.get("status") {
            Some("succeeded") => Some("succeeded"),
            Some("failed") => Some("failed"),
            _ => None,
        };
        let trail = query
            .get("trail")
            .unwrap_or("")
            .split(',')
            .filter_map(|p| p.parse::<i64>().ok())
            .filter(|p| *p >= 0)
            .collect();
        Self {
            status,
            before: query.position("before"),
            trail,
        }
    }
}

/// The link to one page of the history.
fn link(webhook_id: &str, status: Option<&str>, before: Option<i64>, trail: &[i64]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(status) = status {
        query.append_pair("status", status);
    }
    if let Some(before) = before {
        query.append_pair("before", &before.to_string());
    }
    if !trail.is_empty() {
        let trail: Vec<String> = trail.iter().map(i64::to_string).collect();
        query.append_pair("trail", &trail.join(","));
    }
    let query = query.finish();
    let separator = if query.is_empty() { "" } else { "?" };
    format!("/webhooks/{webhook_id}{separator}{query}#history")
}

pub async fn load(
    state: &PageState,
    workspace_id: &str,
    webhook_id: &str,
    query: &Fields,
) -> PageResult<History> {
    let at = Position::read(query);
    let filter = AttemptFilter {
        succeeded: at.status.map(|s| s == "succeeded"),
        ..AttemptFilter::default()
    };
    let page = PageRequest {
        limit: PAGE_SIZE,
        cursor: at.before,
    };
    let attempts = state
        .service
        .store
        .list_attempts(workspace_id, webhook_id, &filter, page)
        .await?;
    let newer = at.before.map(|_| {
        let mut trail = at.trail.clone();
        let previous = trail.pop().filter(|p| *p > 0);
        link(webhook_id, at.status, previous, &trail)
    });
    let older = attempts.next_cursor.map(|next| {
        let mut trail = at.trail.clone();
        trail.push(at.before.unwrap_or(0));
        link(webhook_id, at.status, Some(next), &trail)
    });
    let tabs = [
        ("All", None),
        ("Succeeded", Some("succeeded")),
        ("Failed", Some("failed")),
    ]
    .into_iter()
    .map(|(label, status)| Tab {
        label,
        href: link(webhook_id, status, None, &[]),
        active: status == at.status,
    })
    .collect();
    Ok(History {
        rows: attempts.items.into_iter().map(row).collect(),
        tabs,
        filtered: at.status.is_some(),
        newer,
        older,
    })
}

pub(super) fn row(a: Attempt) -> AttemptRow {
    let (label, class) = format::outcome(a.http_status, a.error.as_deref());
    AttemptRow {
        when: format::time(a.timestamp),
        when_iso: crate::domain::time::rfc3339(a.timestamp),
        label,
        class,
        attempt: a.attempt,
        trigger: a.trigger.as_str(),
        duration: format::duration(a.duration_ms),
        payload: format::pretty_json(&a.payload),
        response: a.response,
        response_truncated: a.response_truncated,
        next_attempt: a.next_attempt_at.map(format::time),
        event_type: a.event_type,
        id: a.id,
    }
}

/// One more attempt of the row's delivery, now: the same use case as the API's retry.
pub async fn retry(
    State(service): State<Service>,
    Path((id, attempt_id)): Path<(String, String)>,
    posted: Posted,
) -> PageResult<Response> {
    service
        .retry(&posted.me.workspace_id, &id, &attempt_id)
        .await?;
    Ok(Redirect::to(&format!("/webhooks/{id}?notice=retried#history")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_the_filter_the_cursor_and_the_trail() {
        assert_eq!(link("wh_1", None, None, &[]), "/webhooks/wh_1#history");
        assert_eq!(
            link("wh_1", Some("failed"), Some(40), &[0, 60]),
            "/webhooks/wh_1?status=failed&before=40&trail=0%2C60#history"
        );
    }

    #[test]
    fn positions_ignore_what_they_cannot_read() {
        let at = Position::read(&Fields::parse(b"status=nope&before=-3&trail=0,x,20"));
        assert_eq!((at.status, at.before, at.trail), (None, None, vec![0, 20]));
    }
}
