//! The Event Types page: what each registered type means, its JSON Schema and an example, so a
//! customer knows what their endpoint will receive before subscribing.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::PageState;
use super::format::pretty_value;
use super::session::{Layout, SignedIn};
use super::{PageResult, render};
use crate::domain::operational::is_operational;
use crate::service::event_types;

struct TypeCard {
    name: String,
    description: String,
    schema: String,
    example: String,
    /// Emitted by this service about the workspace's webhooks, not by the platform.
    operational: bool,
}

#[derive(Template)]
#[template(path = "event_types.html")]
struct EventTypesPage {
    layout: Layout,
    types: Vec<TypeCard>,
}

pub async fn list(State(state): State<PageState>, me: SignedIn) -> PageResult<Response> {
    let types = event_types::current(state.service.store.as_ref(), &state.service.registry)
        .await?
        .iter()
        .map(|t| TypeCard {
            name: t.def.name.clone(),
            description: t.def.description.clone(),
            schema: pretty_value(&t.def.schema),
            example: pretty_value(&t.def.example),
            operational: is_operational(&t.def.name),
        })
        .collect();
    let page = EventTypesPage {
        layout: me.layout("event_types", None),
        types,
    };
    Ok(render(StatusCode::OK, &page))
}
