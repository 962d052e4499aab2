//! The Events page: the workspace's events newest first, with the events log's filters (state,
//! webhook, type) and a search box that takes an event id or `path = value` (`agent_id =
//! agent_support_en`); and an event's page: its payload and, per webhook, its delivery and
//! attempts, each with Retry. The same store query as `GET /api/v1/events`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};

use super::form::Fields;
use super::format;
use super::history::{AttemptRow, row as attempt_row};
use super::session::{Layout, SignedIn};
use super::{PageError, PageResult, PageState, render};
use crate::domain::attempt::DeliveryState;
use crate::domain::data_search::DataSearch;
use crate::domain::ids;
use crate::store::{EventFilter, PageRequest};

const PAGE_SIZE: u32 = 25;

/// One event in the list.
struct EventRow {
    id: String,
    event_type: String,
    when: String,
    when_iso: String,
    /// `(state, pill class)` of each delivery.
    deliveries: Vec<(&'static str, &'static str)>,
}

/// A choice in a filter's menu.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    layout: Layout,
    rows: Vec<EventRow>,
    search: String,
    /// Why the search box's text was not understood.
    search_error: Option<String>,
    states: Vec<Choice>,
    webhooks: Vec<Choice>,
    types: Vec<Choice>,
    filtered: bool,
    /// The next page's link, keeping the filters.
    older: Option<String>,
}

fn state_class(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Succeeded => "ok",
        DeliveryState::Failed => "fail",
        DeliveryState::Pending | DeliveryState::Cancelled => "off",
    }
}

/// Reads the search box: an event id, or `path = value`.
fn read_search(text: &str) -> Result<Option<DataSearch>, String> {
    let Some((path, value)) = text.split_once('=') else {
        return Err(
            "Search for an event id (evt_…) or for path = value, like agent_id = agent_support_en."
                .into(),
        );
    };
    DataSearch::parse(&[(path.trim().to_string(), value.to_string())])
        .map_err(|e| format!("{} {}.", e.field, e.message))
}

fn choices(
    options: impl IntoIterator<Item = (String, String)>,
    chosen: Option<&str>,
) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: chosen == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

pub async fn list(State(state): State<PageState>, me: SignedIn, uri: Uri) -> PageResult<Response> {
    let query = Fields::query(&uri);
    let ws = &me.workspace_id;
    let store = &state.service.store;
    let search = query.get("q").unwrap_or("").trim().to_string();
    if search.starts_with(ids::EVENT) && !search.contains(char::is_whitespace) {
        return Ok(Redirect::to(&format!("/events/{search}")).into_response());
    }
    let (data, search_error) = match search.as_str() {
        "" => (None, None),
        text => match read_search(text) {
            Ok(data) => (data, None),
            Err(why) => (None, Some(why)),
        },
    };
    let chosen = |name: &str| query.get(name).filter(|v| !v.is_empty());
    let webhook_list = store
        .list_webhooks(
            ws,
            PageRequest {
                limit: 100,
                cursor: None,
            },
        )
        .await?;
    let webhook_id = chosen("webhook").filter(|id| webhook_list.items.iter().any(|w| w.id == *id));
    let filter = EventFilter {
        event_type: chosen("type").map(str::to_string),
        state: chosen("state").and_then(DeliveryState::parse),
        webhook_id: webhook_id.map(str::to_string),
        data,
        ..EventFilter::default()
    };
    let page = PageRequest {
        limit: PAGE_SIZE,
        cursor: query.position("before"),
    };
    let events = store.list_events(ws, &filter, page).await?;
    let mut rows = Vec::with_capacity(events.items.len());
    for event in events.items {
        let deliveries = match store.event(ws, &event.id).await? {
            Some((_, deliveries)) => deliveries,
            None => Vec::new(),
        };
        rows.push(EventRow {
            deliveries: deliveries
                .iter()
                .map(|d| (d.state.as_str(), state_class(d.state)))
                .collect(),
            when: format::time(event.created_at),
            when_iso: crate::domain::time::rfc3339(event.created_at),
            id: event.id,
            event_type: event.event_type,
        });
    }
    let keep = |before: i64| {
        let mut link = url::form_urlencoded::Serializer::new(String::new());
        for name in ["q", "state", "webhook", "type"] {
            if let Some(value) = query.get(name) {
                link.append_pair(name, value);
            }
        }
        link.append_pair("before", &before.to_string());
        format!("/events?{}", link.finish())
    };
    let types = crate::service::event_types::current(store.as_ref(), &state.service.registry)
        .await?
        .iter()
        .map(|t| (t.def.name.clone(), t.def.name.clone()))
        .collect::<Vec<_>>();
    let page = EventsPage {
        layout: me.layout("events", None),
        rows,
        filtered: filter.event_type.is_some()
            || filter.state.is_some()
            || filter.webhook_id.is_some()
            || filter.data.is_some(),
        search,
        search_error,
        states: choices(
            ["pending", "succeeded", "failed"].map(|s| (s.to_string(), s.to_string())),
            chosen("state"),
        ),
        webhooks: choices(
            webhook_list
                .items
                .iter()
                .map(|w| (w.id.clone(), w.url.clone())),
            webhook_id,
        ),
        types: choices(types, chosen("type")),
        older: events.next_cursor.map(keep),
    };
    Ok(render(StatusCode::OK, &page))
}

/// One webhook's delivery of the event, and its attempts.
struct DeliveryView {
    webhook_id: String,
    /// `None` when the webhook was deleted since.
    webhook_url: Option<String>,
    state: &'static str,
    class: &'static str,
    attempts: Vec<AttemptRow>,
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    layout: Layout,
    id: String,
    event_type: String,
    when: String,
    when_iso: String,
    payload: String,
    deliveries: Vec<DeliveryView>,
}

pub async fn show(
    State(state): State<PageState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let ws = &me.workspace_id;
    let store = &state.service.store;
    let (event, deliveries) = store.event(ws, &id).await?.ok_or(PageError::NotFound)?;
    let mut views = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        let webhook = store.webhook(ws, &d.webhook_id).await?;
        let attempts = store.delivery_attempts(ws, &d.id).await?;
        views.push(DeliveryView {
            webhook_url: webhook.map(|w| w.url),
            webhook_id: d.webhook_id,
            state: d.state.as_str(),
            class: state_class(d.state),
            attempts: attempts.into_iter().map(attempt_row).collect(),
        });
    }
    let page = EventPage {
        layout: me.layout("events", None),
        when: format::time(event.created_at),
        when_iso: crate::domain::time::rfc3339(event.created_at),
        payload: format::pretty_json(&event.payload),
        id: event.id,
        event_type: event.event_type,
        deliveries: views,
    };
    Ok(render(StatusCode::OK, &page))
}
