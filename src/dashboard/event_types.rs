//! The Event Types page: what each registered type means, its JSON Schema and an example, so a
//! customer knows what their endpoint will receive before subscribing.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::format::pretty_value;
use super::render;
use super::session::{Layout, SignedIn};
use crate::domain::operational::is_operational;
use crate::http::AppState;

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

pub async fn list(State(state): State<AppState>, me: SignedIn) -> Response {
    let types = state
        .registry
        .all()
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
    render(StatusCode::OK, &page)
}
