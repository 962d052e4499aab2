//! The OpenAPI 3.1 document of the service, assembled from the `#[utoipa::path]` annotations on
//! the handlers and the `ToSchema` views they answer with, and served at
//! `GET /api/v1/openapi.json`. The `/docs` page is rendered from the same document.

use std::sync::LazyLock;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};

use super::error::ErrorBody;
use super::error::responses::{
    AdminNotFound, BadRequest, Conflict, NotFound, PayloadTooLarge, RateLimited, Unauthorized,
    Unavailable, Unprocessable, UnsupportedMediaType,
};
use super::{admin, docs, events, history, ops, portal, recover, replay, stats, webhooks};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SpeakNode Webhooks API",
        description = "Emit events into a workspace and manage the webhooks they are delivered \
            to, with each webhook's Request History. JSON over HTTP; every error answers \
            `{\"error\": {\"code\", \"message\", \"field\"}}` with its status. Lists take \
            `?limit=` (1 to 100, default 20) and `?cursor=`, and answer \
            `{\"data\": [...], \"next_cursor\"}`. Timestamps are RFC 3339 in UTC.",
        license(name = "Apache-2.0"),
    ),
    paths(
        webhooks::create, webhooks::list, webhooks::get, webhooks::update, webhooks::delete,
        webhooks::secret, webhooks::rotate, history::test_send,
        history::list, history::get, history::retry, recover::recover, replay::replay,
        stats::stats,
        events::create, events::list, events::get, events::event_types,
        admin::create_event_type, admin::create_workspace, admin::list_workspaces,
        admin::create_api_key, admin::revoke_api_key,
        portal::create, portal::create_for_workspace,
        ops::healthz, ops::metrics, serve_document, docs::page,
    ),
    components(schemas(ErrorBody), responses(
        BadRequest, Unauthorized, NotFound, AdminNotFound, Conflict, PayloadTooLarge,
        UnsupportedMediaType, Unprocessable, RateLimited, Unavailable,
    )),
    modifiers(&SecuritySchemes, &ListsReferToTheirItems, &KeyedRoutesMayBeRateLimited),
    tags(
        (name = "Webhooks", description = "Subscriptions: a URL, the event types it receives, \
            and the secret its deliveries are signed with."),
        (name = "Request History", description = "Every HTTP request of every delivery to a \
            webhook, newest first; manual retries and recovery after an outage."),
        (name = "Events", description = "What the platform emits, and the types it can emit."),
        (name = "Portal", description = "One-time links that sign a customer in to their \
            workspace's dashboard, from inside the platform's own product."),
        (name = "Admin", description = "Operator routes, behind `SPEAKNODE_ADMIN_TOKEN`: they \
            answer 404 while it is unset."),
        (name = "Operations", description = "No authentication: health, metrics and this \
            description of the API."),
    ),
)]
struct ApiDoc;

/// The two ways to authenticate. Both are sent as `Authorization: Bearer …`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            bearer("A workspace's API key (`sk_…`): everything is done in that workspace."),
        );
        components.add_security_scheme(
            "admin_token",
            bearer("The operator token, `SPEAKNODE_ADMIN_TOKEN`."),
        );
    }
}

/// utoipa inlines the schema of a generic's argument, so each `List_X` would carry its own copy
/// of `X`. Lists refer to `X` by name instead, so a client generates one type per item.
struct ListsReferToTheirItems;

impl Modify for ListsReferToTheirItems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for (name, schema) in components.schemas.iter_mut() {
            let Some(item) = name.strip_prefix("List_") else {
                continue;
            };
            if let RefOr::T(Schema::Object(list)) = schema
                && let Some(RefOr::T(Schema::Array(data))) = list.properties.get_mut("data")
            {
                data.items = ArrayItems::RefOrSchema(Box::new(Ref::from_schema_name(item).into()));
            }
        }
    }
}

/// `SPEAKNODE_RATE_LIMIT` applies to every request authenticated with an API key, so every
/// operation secured by `api_key` may answer 429: added here rather than on each handler, so a
/// new route cannot forget it.
struct KeyedRoutesMayBeRateLimited;

impl Modify for KeyedRoutesMayBeRateLimited {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let takes_api_key = |op: &utoipa::openapi::path::Operation| {
            op.security.iter().flatten().any(|requirement| {
                serde_json::to_value(requirement).is_ok_and(|r| r.get("api_key").is_some())
            })
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                if takes_api_key(op) {
                    op.responses
                        .responses
                        .insert("429".into(), Ref::from_response_name("RateLimited").into());
                }
            }
        }
    }
}

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);
    &DOCUMENT
}

/// OpenAPI document
///
/// This description of the API, as OpenAPI 3.1.
#[utoipa::path(get, path = "/api/v1/openapi.json", operation_id = "openapi_document", tag = "Operations",
    responses((status = 200, description = "The OpenAPI 3.1 document",
        content_type = "application/json", body = Object)))]
pub async fn serve_document() -> Response {
    static JSON: LazyLock<Option<String>> = LazyLock::new(|| document().to_pretty_json().ok());
    match JSON.as_deref() {
        Some(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        None => {
            tracing::error!("the OpenAPI document cannot be serialized");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Schemas of string fields that take one of a domain enum's names, so the document lists them.
pub mod enums {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};

    use crate::domain::attempt::{DeliveryState, FailureKind, Trigger};
    use crate::domain::webhook::DisabledReason;

    fn one_of(names: impl IntoIterator<Item = &'static str>, nullable: bool) -> ObjectBuilder {
        let mut values: Vec<serde_json::Value> = names.into_iter().map(Into::into).collect();
        let schema_type = if nullable {
            values.push(serde_json::Value::Null);
            SchemaType::from_iter([Type::String, Type::Null])
        } else {
            SchemaType::new(Type::String)
        };
        ObjectBuilder::new()
            .schema_type(schema_type)
            .enum_values(Some(values))
    }

    pub fn disabled_reason() -> ObjectBuilder {
        one_of(DisabledReason::ALL.map(DisabledReason::as_str), true)
            .description(Some("Null while enabled; else why not."))
    }

    pub fn trigger() -> ObjectBuilder {
        one_of(Trigger::ALL.map(Trigger::as_str), false).description(Some(
            "`scheduled` (first attempt), `retry`, `manual` or `test`.",
        ))
    }

    pub fn failure() -> ObjectBuilder {
        one_of(FailureKind::ALL.map(FailureKind::as_str), true)
            .description(Some("Why no response came; null when one did."))
    }

    pub fn delivery_state() -> ObjectBuilder {
        one_of(DeliveryState::ALL.map(DeliveryState::as_str), false)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::http::{api_routes, ops_routes};

    fn described() -> BTreeSet<(String, String)> {
        let json = serde_json::to_value(document()).unwrap();
        let mut described = BTreeSet::new();
        for (path, item) in json["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                described.insert((method.to_uppercase(), path.clone()));
            }
        }
        described
    }

    fn registered() -> BTreeSet<(String, String)> {
        api_routes()
            .into_iter()
            .chain(ops_routes())
            .map(|r| (r.method.to_string(), r.path.to_string()))
            .collect()
    }

    #[test]
    fn every_registered_route_is_described_in_the_openapi_document() {
        let missing: Vec<_> = registered().difference(&described()).cloned().collect();
        assert!(
            missing.is_empty(),
            "routes without a #[utoipa::path] in openapi.rs: {missing:?}"
        );
    }

    #[test]
    fn the_openapi_document_describes_no_route_that_is_not_served() {
        let stale: Vec<_> = described().difference(&registered()).cloned().collect();
        assert!(stale.is_empty(), "described but not registered: {stale:?}");
    }

    #[test]
    fn every_route_taking_an_api_key_and_only_those_may_answer_429() {
        let json = serde_json::to_value(document()).unwrap();
        let mut keyed = 0;
        for (path, item) in json["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let takes_key = op["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("api_key").is_some()));
                keyed += usize::from(takes_key);
                assert_eq!(
                    op["responses"]["429"]["$ref"].as_str(),
                    takes_key.then_some("#/components/responses/RateLimited"),
                    "{method} {path}"
                );
            }
        }
        assert!(keyed >= 16, "{keyed}");
        let limited = &json["components"]["responses"]["RateLimited"];
        assert!(limited["headers"]["Retry-After"].is_object(), "{limited}");
        let example = &limited["content"]["application/json"]["example"];
        assert_eq!(example["error"]["code"], "rate_limited");
    }

    #[test]
    fn the_document_is_openapi_3_1() {
        let json = serde_json::to_value(document()).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
    }
}
