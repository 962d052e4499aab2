//! The Webhooks list, the create and edit form, and the actions that change a webhook as a whole
//! (enable or disable, delete). The form checks its fields with exactly the API's rules (the
//! same domain functions and the same private-target setting) but reports every field at fault
//! at once, beside the field, keeping what was typed. The delivery options part of the form is
//! read and checked in `options_form`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};

use super::form::Fields;
use super::format::{self, notice};
use super::options_form::{OptionsDraft, OptionsErrors};
use super::session::{Layout, Posted, SignedIn};
use super::{PageError, PageResult, render};
use crate::domain::ids;
use crate::domain::webhook::{Secret, WebhookUrl, check_description, check_event_types};
use crate::http::AppState;
use crate::service::event_types;
use crate::service::webhooks::check_resolution;
use crate::store::{DeliveryOptions, NewWebhook, OptionsPatch, PageRequest, Webhook, WebhookPatch};

const PAGE_SIZE: u32 = 50;

/// One line of the list.
struct Row {
    id: String,
    url: String,
    description: String,
    event_types: Vec<String>,
    enabled: bool,
    disabled_reason: Option<&'static str>,
    /// The last attempt: (status text, colour, when, exact time).
    last: Option<(String, &'static str, String, String)>,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    /// Where the next page starts, if there is one.
    older: Option<i64>,
    paged: bool,
}

pub async fn list(State(state): State<AppState>, me: SignedIn, uri: Uri) -> PageResult<Response> {
    let query = Fields::query(&uri);
    let page = PageRequest {
        limit: PAGE_SIZE,
        cursor: query.position("before"),
    };
    let webhooks = state.store.list_webhooks(&me.workspace_id, page).await?;
    let now = state.clock.now();
    let rows = webhooks.items.into_iter().map(|w| row(w, now)).collect();
    let page = ListPage {
        layout: me.layout("webhooks", notice(query.get("notice"))),
        rows,
        older: webhooks.next_cursor,
        paged: page.cursor.is_some(),
    };
    Ok(render(StatusCode::OK, &page))
}

fn row(w: Webhook, now: i64) -> Row {
    let last = w.last_attempt.map(|a| {
        let (label, class) = format::outcome(a.http_status, a.error.as_deref());
        (label, class, format::ago(a.at, now), format::time(a.at))
    });
    Row {
        id: w.id,
        url: w.url,
        description: w.description,
        event_types: w.event_types,
        enabled: w.enabled,
        disabled_reason: w.disabled_reason.map(|r| r.as_str()),
        last,
    }
}

/// What the form holds: typed by the user, or read from the webhook being edited.
pub struct Draft {
    url: String,
    description: String,
    event_types: Vec<String>,
    enabled: bool,
    options: OptionsDraft,
}

impl Draft {
    fn from_fields(fields: &Fields) -> Self {
        Self {
            url: fields.get("url").unwrap_or("").to_string(),
            description: fields.get("description").unwrap_or("").to_string(),
            event_types: fields.all("event_types"),
            // An unchecked checkbox sends nothing.
            enabled: fields.get("enabled").is_some(),
            options: OptionsDraft::from_fields(fields),
        }
    }
}

/// One message per field at fault.
#[derive(Default)]
pub struct Errors {
    url: Option<String>,
    description: Option<String>,
    event_types: Option<String>,
    options: OptionsErrors,
}

impl Errors {
    fn any(&self) -> bool {
        self.url.is_some()
            || self.description.is_some()
            || self.event_types.is_some()
            || self.options.any()
    }
}

/// Checks the draft with the API's rules; the URL and the options come back parsed when all is
/// well.
async fn validate(state: &AppState, draft: &Draft) -> Result<(WebhookUrl, OptionsPatch), Errors> {
    let store = state.store.as_ref();
    if let Err(e) = event_types::refresh_for(store, &state.registry, &draft.event_types).await {
        // The types this process knows still decide; the store's trouble shows on saving.
        tracing::warn!(error = %e, "could not bring the event types up to date");
    }
    let sentence = |label: &str, message: &str| format!("{label} {message}.");
    let mut errors = Errors::default();
    let url = if draft.url.trim().is_empty() {
        errors.url = Some(sentence("URL", "is required"));
        None
    } else {
        WebhookUrl::parse(&draft.url, state.config.allow_private_targets)
            .map_err(|e| errors.url = Some(sentence("URL", &e.message)))
            .ok()
    };
    if let Err(e) = check_description(&draft.description) {
        errors.description = Some(sentence("Description", &e.message));
    }
    if let Err(e) = check_event_types(&draft.event_types, |n| state.registry.contains(n)) {
        errors.event_types = Some(if draft.event_types.is_empty() {
            "Choose at least one event type.".to_string()
        } else {
            sentence("Event type", &e.message)
        });
    }
    if let Some(url) = &url
        && let Err(e) = check_resolution(state.config.allow_private_targets, Some(url)).await
    {
        errors.url = Some(sentence("URL", &e.message));
    }
    let options = draft.options.parse().map_err(|e| errors.options = *e).ok();
    match (url, options) {
        (Some(url), Some(options)) if !errors.any() => Ok((url, options)),
        _ => Err(errors),
    }
}

/// A registered event type as a checkbox.
struct TypeOption {
    name: String,
    description: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "webhook_form.html")]
struct FormPage {
    layout: Layout,
    title: &'static str,
    action: String,
    cancel: String,
    draft: Draft,
    types: Vec<TypeOption>,
    errors: Errors,
    /// The service's timeout and retry schedule, which empty boxes stand for.
    service_timeout: String,
    service_schedule: String,
}

fn form_page(
    state: &AppState,
    me: &SignedIn,
    editing: Option<&str>,
    draft: Draft,
    errors: Errors,
) -> FormPage {
    let types = state
        .registry
        .all()
        .iter()
        .map(|t| TypeOption {
            checked: draft.event_types.contains(&t.def.name),
            name: t.def.name.clone(),
            description: t.def.description.clone(),
        })
        .collect();
    let (title, action, cancel) = match editing {
        None => ("Create webhook", "/webhooks".into(), "/webhooks".into()),
        Some(id) => (
            "Edit webhook",
            format!("/webhooks/{id}/edit"),
            format!("/webhooks/{id}"),
        ),
    };
    let draft = Draft {
        options: draft.options.with_blank_rows(),
        ..draft
    };
    FormPage {
        layout: me.layout("webhooks", None),
        title,
        action,
        cancel,
        draft,
        types,
        errors,
        service_timeout: format::service_timeout(&state.config),
        service_schedule: format::service_schedule(&state.config),
    }
}

pub async fn new(State(state): State<AppState>, me: SignedIn) -> PageResult<Response> {
    event_types::refresh(state.store.as_ref(), &state.registry).await?;
    let draft = Draft {
        url: String::new(),
        description: String::new(),
        event_types: Vec::new(),
        enabled: true,
        options: OptionsDraft::default(),
    };
    let page = form_page(&state, &me, None, draft, Errors::default());
    Ok(render(StatusCode::OK, &page))
}

/// The form again, with the errors beside their fields and what was typed. It answers 200, as
/// form frameworks do: a 4xx page is logged by browsers as a failed load.
fn rejected(
    state: &AppState,
    me: &SignedIn,
    editing: Option<&str>,
    draft: Draft,
    errors: Errors,
) -> Response {
    let page = form_page(state, me, editing, draft, errors);
    render(StatusCode::OK, &page)
}

pub async fn create(State(state): State<AppState>, posted: Posted) -> PageResult<Response> {
    let Posted { me, fields } = posted;
    let draft = Draft::from_fields(&fields);
    let (url, options) = match validate(&state, &draft).await {
        Ok(valid) => valid,
        Err(errors) => return Ok(rejected(&state, &me, None, draft, errors)),
    };
    let created = state
        .store
        .create_webhook(&NewWebhook {
            id: ids::new_id(ids::WEBHOOK),
            workspace_id: me.workspace_id.clone(),
            url: url.as_str().to_string(),
            description: draft.description,
            event_types: draft.event_types,
            enabled: draft.enabled,
            secret: Secret::generate(),
            options: options.apply(&DeliveryOptions::default()),
            now: state.clock.now(),
        })
        .await?;
    Ok(Redirect::to(&format!("/webhooks/{}?notice=created", created.id)).into_response())
}

pub async fn edit(
    State(state): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let webhook = state
        .store
        .webhook(&me.workspace_id, &id)
        .await?
        .ok_or(PageError::NotFound)?;
    let draft = Draft {
        url: webhook.url,
        description: webhook.description,
        event_types: webhook.event_types,
        enabled: webhook.enabled,
        options: OptionsDraft::from_options(&webhook.options),
    };
    event_types::refresh(state.store.as_ref(), &state.registry).await?;
    let page = form_page(&state, &me, Some(&id), draft, Errors::default());
    Ok(render(StatusCode::OK, &page))
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> PageResult<Response> {
    let Posted { me, fields } = posted;
    // Another workspace's id is a 404 before anything else, as in the API.
    if state.store.webhook(&me.workspace_id, &id).await?.is_none() {
        return Err(PageError::NotFound);
    }
    let draft = Draft::from_fields(&fields);
    let (url, options) = match validate(&state, &draft).await {
        Ok(valid) => valid,
        Err(errors) => return Ok(rejected(&state, &me, Some(&id), draft, errors)),
    };
    let patch = WebhookPatch {
        url: Some(url.as_str().to_string()),
        description: Some(draft.description),
        event_types: Some(draft.event_types),
        enabled: Some(draft.enabled),
        options,
    };
    patch_webhook(&state, &me, &id, &patch).await?;
    Ok(Redirect::to(&format!("/webhooks/{id}?notice=saved")).into_response())
}

async fn patch_webhook(
    state: &AppState,
    me: &SignedIn,
    id: &str,
    patch: &WebhookPatch,
) -> PageResult<()> {
    let now = state.clock.now();
    state
        .store
        .update_webhook(&me.workspace_id, id, patch, now)
        .await?
        .ok_or(PageError::NotFound)?;
    // Deliveries held while the webhook was disabled are due again.
    if patch.enabled == Some(true) {
        state.wake.notify_one();
    }
    Ok(())
}

pub async fn set_enabled(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> PageResult<Response> {
    let enabled = posted.fields.get("enabled") == Some("true");
    let patch = WebhookPatch {
        enabled: Some(enabled),
        ..WebhookPatch::default()
    };
    patch_webhook(&state, &posted.me, &id, &patch).await?;
    let notice = if enabled { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("/webhooks/{id}?notice={notice}")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> PageResult<Response> {
    let now = state.clock.now();
    if !state
        .store
        .delete_webhook(&posted.me.workspace_id, &id, now)
        .await?
    {
        return Err(PageError::NotFound);
    }
    Ok(Redirect::to("/webhooks?notice=deleted").into_response())
}
