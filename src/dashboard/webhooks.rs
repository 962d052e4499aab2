//! The Webhooks list, the create and edit form, and the actions that change a webhook as a whole
//! (enable or disable, delete). The form checks its fields with exactly the API's rules (the
//! same domain functions and the same private-target setting) but reports every field at fault
//! at once, beside the field, keeping what was typed. The delivery options part of the form is
//! read and checked in `options_form`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};

use super::activity::{self, Activity};
use super::form::Fields;
use super::format::{self, notice};
use super::options_form::{OptionsDraft, OptionsErrors};
use super::session::{Layout, Posted, SignedIn};
use super::{PageError, PageResult, PageState, render};
use crate::domain::Invalid;
use crate::service::{Purpose, Service, ServiceError, event_types};
use crate::store::{OptionsPatch, PageRequest, Webhook, WebhookPatch};

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
    /// The share of its attempts in the last 24 h that succeeded, and how many there were.
    day: Option<(u64, u64)>,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    /// Where the next page starts, if there is one.
    older: Option<i64>,
    paged: bool,
    /// All webhooks' attempts over the chosen window.
    activity: Activity,
}

pub async fn list(State(state): State<PageState>, me: SignedIn, uri: Uri) -> PageResult<Response> {
    let query = Fields::query(&uri);
    let page = PageRequest {
        limit: PAGE_SIZE,
        cursor: query.position("before"),
    };
    let webhooks = state
        .service
        .store
        .list_webhooks(&me.workspace_id, page)
        .await?;
    let now = state.service.clock.now();
    let mut rows = Vec::with_capacity(webhooks.items.len());
    for w in webhooks.items {
        let day = activity::last_day(&state.service, &me.workspace_id, &w.id).await?;
        rows.push(Row {
            day: (day.attempts > 0).then(|| (day.succeeded * 100 / day.attempts, day.attempts)),
            ..row(w, now)
        });
    }
    let activity = activity::load(
        &state.service,
        &me.workspace_id,
        None,
        query.get("activity"),
        |window| format!("/webhooks?activity={window}#activity"),
    )
    .await?;
    let page = ListPage {
        layout: me.layout("webhooks", notice(query.get("notice"))),
        rows,
        older: webhooks.next_cursor,
        paged: page.cursor.is_some(),
        activity,
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
        day: None,
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

impl Draft {
    /// The draft as the use case takes it, with the options read from it.
    fn patch(&self, options: OptionsPatch) -> WebhookPatch {
        WebhookPatch {
            url: Some(self.url.clone()),
            description: Some(self.description.clone()),
            event_types: Some(self.event_types.clone()),
            enabled: Some(self.enabled),
            options,
        }
    }
}

/// Creates a webhook from the draft, or saves it over the one being edited; answers its id, or
/// every field at fault, each beside its input. The fields are checked by the same use case as
/// the API's, the options by `options_form`.
async fn save(
    service: &Service,
    me: &SignedIn,
    draft: &Draft,
    editing: Option<&str>,
) -> PageResult<Result<String, Errors>> {
    let (options, mut errors) = match draft.options.parse() {
        Ok(options) => (Some(options), Errors::default()),
        Err(e) => (
            None,
            Errors {
                options: *e,
                ..Errors::default()
            },
        ),
    };
    let outcome = match (options, editing) {
        // The options were refused: nothing is saved, but every other fault is shown too.
        (None, editing) => {
            // Another workspace's id is a 404 before anything else, as in the API.
            if let Some(id) = editing
                && service.store.webhook(&me.workspace_id, id).await?.is_none()
            {
                return Err(PageError::NotFound);
            }
            let purpose = editing.map_or(Purpose::Create, |_| Purpose::Update);
            let patch = draft.patch(OptionsPatch::default());
            service.check_webhook(&patch, purpose).await.map(|()| None)
        }
        (Some(options), None) => {
            let patch = draft.patch(options);
            let created = service.create_webhook(me.workspace_id.clone(), patch).await;
            created.map(|c| Some(c.webhook.id))
        }
        (Some(options), Some(id)) => {
            let patch = draft.patch(options);
            let updated = service.update_webhook(&me.workspace_id, id, patch).await;
            updated.map(|w| Some(w.id))
        }
    };
    match outcome {
        Ok(Some(id)) => Ok(Ok(id)),
        Ok(None) => Ok(Err(errors)),
        Err(ServiceError::Rejected(faults)) => {
            for fault in faults {
                errors.add(fault, draft);
            }
            Ok(Err(errors))
        }
        Err(e) => Err(e.into()),
    }
}

impl Errors {
    /// Puts a refused field's message beside its input, as a sentence.
    fn add(&mut self, fault: Invalid, draft: &Draft) {
        let sentence = |label: &str| Some(format!("{label} {}.", fault.message));
        match fault.field.as_str() {
            "url" => self.url = sentence("URL"),
            "description" => self.description = sentence("Description"),
            _ if draft.event_types.is_empty() => {
                self.event_types = Some("Choose at least one event type.".to_string())
            }
            // `event_types` or `event_types[i]`: the one fault the checkboxes can have.
            _ => self.event_types = sentence("Event type"),
        }
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
    /// Focus the field at fault; not in a frame, where Chromium refuses it with a console error.
    autofocus: bool,
}

fn form_page(
    state: &PageState,
    me: &SignedIn,
    editing: Option<&str>,
    draft: Draft,
    errors: Errors,
) -> FormPage {
    let types = state
        .service
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
        autofocus: !state.cookies().embedded,
    }
}

pub async fn new(State(state): State<PageState>, me: SignedIn) -> PageResult<Response> {
    me.may_change()?;
    event_types::refresh(state.service.store.as_ref(), &state.service.registry).await?;
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
    state: &PageState,
    me: &SignedIn,
    editing: Option<&str>,
    draft: Draft,
    errors: Errors,
) -> Response {
    let page = form_page(state, me, editing, draft, errors);
    render(StatusCode::OK, &page)
}

pub async fn create(State(state): State<PageState>, posted: Posted) -> PageResult<Response> {
    let Posted { me, fields } = posted;
    let draft = Draft::from_fields(&fields);
    match save(&state.service, &me, &draft, None).await? {
        Ok(id) => Ok(Redirect::to(&format!("/webhooks/{id}?notice=created")).into_response()),
        Err(errors) => Ok(rejected(&state, &me, None, draft, errors)),
    }
}

pub async fn edit(
    State(state): State<PageState>,
    me: SignedIn,
    Path(id): Path<String>,
) -> PageResult<Response> {
    me.may_change()?;
    let webhook = state
        .service
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
    event_types::refresh(state.service.store.as_ref(), &state.service.registry).await?;
    let page = form_page(&state, &me, Some(&id), draft, Errors::default());
    Ok(render(StatusCode::OK, &page))
}

pub async fn update(
    State(state): State<PageState>,
    Path(id): Path<String>,
    posted: Posted,
) -> PageResult<Response> {
    let Posted { me, fields } = posted;
    let draft = Draft::from_fields(&fields);
    match save(&state.service, &me, &draft, Some(&id)).await? {
        Ok(_) => Ok(Redirect::to(&format!("/webhooks/{id}?notice=saved")).into_response()),
        Err(errors) => Ok(rejected(&state, &me, Some(&id), draft, errors)),
    }
}

pub async fn set_enabled(
    State(service): State<Service>,
    Path(id): Path<String>,
    posted: Posted,
) -> PageResult<Response> {
    let enabled = posted.fields.get("enabled") == Some("true");
    let patch = WebhookPatch {
        enabled: Some(enabled),
        ..WebhookPatch::default()
    };
    service
        .update_webhook(&posted.me.workspace_id, &id, patch)
        .await?;
    let notice = if enabled { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("/webhooks/{id}?notice={notice}")).into_response())
}

pub async fn delete(
    State(service): State<Service>,
    Path(id): Path<String>,
    posted: Posted,
) -> PageResult<Response> {
    service.delete_webhook(&posted.me.workspace_id, &id).await?;
    Ok(Redirect::to("/webhooks?notice=deleted").into_response())
}
