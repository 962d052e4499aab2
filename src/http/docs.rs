//! `GET /docs`: the API reference as one page, rendered on the server from the OpenAPI document,
//! so it can never disagree with `/api/v1/openapi.json`. It loads nothing but the dashboard's
//! stylesheet from this service: no script of its own, no CDN, nothing fetched at run time.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::openapi::document;

/// API reference
///
/// This page: every operation, grouped by tag, and every schema, rendered from the OpenAPI
/// document.
#[utoipa::path(get, path = "/docs", operation_id = "api_reference", tag = "Operations",
    responses((status = 200, description = "The API reference", content_type = "text/html",
        body = String)))]
pub async fn page() -> Response {
    let json = serde_json::to_value(document()).unwrap_or_default();
    let response = match reference(&json).render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the API reference failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    };
    crate::web::with_page_headers(response)
}

#[derive(Template)]
#[template(path = "docs.html")]
struct Reference {
    title: String,
    version: String,
    description: Vec<Segment>,
    tags: Vec<TagView>,
    schemas: Vec<SchemaView>,
}

struct TagView {
    name: String,
    anchor: String,
    description: Vec<Segment>,
    operations: Vec<OperationView>,
}

struct OperationView {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: Vec<Segment>,
    auth: Option<&'static str>,
    params: Vec<ParamView>,
    body: Option<Kind>,
    responses: Vec<ResponseView>,
}

struct ParamView {
    name: String,
    location: String,
    required: bool,
    kind: Kind,
    description: Vec<Segment>,
}

struct ResponseView {
    status: String,
    description: Vec<Segment>,
    content_type: String,
    kind: Option<Kind>,
}

struct SchemaView {
    name: String,
    anchor: String,
    description: Vec<Segment>,
    kind: Kind,
    properties: Vec<PropertyView>,
}

struct PropertyView {
    name: String,
    required: bool,
    kind: Kind,
    description: Vec<Segment>,
}

/// How a schema reads in a sentence ("array of Attempt"), linking to the named schema it uses.
struct Kind {
    text: String,
    link: Option<String>,
}

/// A run of prose, or of `code` (written between backticks in the descriptions).
struct Segment {
    text: String,
    code: bool,
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn reference(doc: &Value) -> Reference {
    let tags = doc["tags"].as_array().into_iter().flatten();
    Reference {
        title: text(&doc["info"]["title"]),
        version: text(&doc["info"]["version"]),
        description: prose(&doc["info"]["description"]),
        tags: tags.map(|tag| tag_view(doc, tag)).collect(),
        schemas: doc["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, schema)| schema_view(name, schema))
            .collect(),
    }
}

fn tag_view(doc: &Value, tag: &Value) -> TagView {
    let name = text(&tag["name"]);
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            let op = &item[method];
            let tagged = op["tags"].as_array().into_iter().flatten();
            if tagged.clone().any(|t| t.as_str() == Some(&name)) {
                operations.push(operation_view(doc, method, path, op));
            }
        }
    }
    TagView {
        anchor: anchor("tag", &name),
        description: prose(&tag["description"]),
        name,
        operations,
    }
}

fn operation_view(doc: &Value, method: &str, path: &str, op: &Value) -> OperationView {
    let auth = op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|s| {
            if s.get("admin_token").is_some() {
                Some("Admin token")
            } else if s.get("api_key").is_some() {
                Some("API key")
            } else {
                None
            }
        });
    let responses = op["responses"].as_object().into_iter().flatten();
    OperationView {
        anchor: anchor(method, path),
        method: method.to_uppercase(),
        path: path.to_string(),
        summary: text(&op["summary"]),
        description: prose(&op["description"]),
        auth,
        params: op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| ParamView {
                name: text(&p["name"]),
                location: text(&p["in"]),
                required: p["required"] == true,
                kind: kind(&p["schema"]),
                description: prose(&p["description"]),
            })
            .collect(),
        body: first_content(&op["requestBody"]).map(|(_, media)| kind(&media["schema"])),
        responses: responses
            .map(|(status, response)| response_view(doc, status, response))
            .collect(),
    }
}

fn response_view(doc: &Value, status: &str, response: &Value) -> ResponseView {
    // Shared error answers are references into components.responses.
    let response = match response["$ref"].as_str() {
        Some(r) => &doc["components"]["responses"][last_segment(r)],
        None => response,
    };
    let content = first_content(response);
    ResponseView {
        status: status.to_string(),
        description: prose(&response["description"]),
        content_type: content.map(|(t, _)| t.to_string()).unwrap_or_default(),
        kind: content.map(|(_, media)| kind(&media["schema"])),
    }
}

fn schema_view(name: &str, schema: &Value) -> SchemaView {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let properties = schema["properties"].as_object().into_iter().flatten();
    SchemaView {
        name: name.to_string(),
        anchor: anchor("schema", name),
        description: prose(&schema["description"]),
        kind: kind(schema),
        properties: properties
            .map(|(field, property)| PropertyView {
                name: field.clone(),
                required: required.contains(&field.as_str()),
                kind: kind(property),
                description: prose(&property["description"]),
            })
            .collect(),
    }
}

/// The first entry of a `content` map: (media type, media object).
fn first_content(holder: &Value) -> Option<(&str, &Value)> {
    let (media_type, media) = holder["content"].as_object()?.iter().next()?;
    Some((media_type.as_str(), media))
}

fn kind(schema: &Value) -> Kind {
    if let Some(r) = schema["$ref"].as_str() {
        let name = last_segment(r);
        return Kind {
            text: name.to_string(),
            link: Some(format!("#{}", anchor("schema", name))),
        };
    }
    if let Some(alternatives) = schema["oneOf"].as_array() {
        let kinds: Vec<Kind> = alternatives.iter().map(kind).collect();
        return Kind {
            text: kinds
                .iter()
                .map(|k| k.text.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            link: kinds.into_iter().find_map(|k| k.link),
        };
    }
    if let Some(values) = schema["enum"].as_array() {
        let names: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        return plain(format!("one of {}", names.join(", ")));
    }
    let types: Vec<String> = match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts.iter().map(text).collect(),
        _ => return plain("any JSON value".into()),
    };
    let described: Vec<Kind> = types.iter().map(|t| one_type(t, schema)).collect();
    Kind {
        text: described
            .iter()
            .map(|k| k.text.as_str())
            .collect::<Vec<_>>()
            .join(" or "),
        link: described.into_iter().find_map(|k| k.link),
    }
}

fn one_type(name: &str, schema: &Value) -> Kind {
    match name {
        "null" => plain("null".into()),
        "array" => {
            let items = kind(&schema["items"]);
            Kind {
                text: format!("array of {}", items.text),
                link: items.link,
            }
        }
        "object" if schema["properties"].is_object() => {
            let fields = schema["properties"].as_object().into_iter().flatten();
            let fields: Vec<String> = fields
                .map(|(field, property)| format!("{field}: {}", kind(property).text))
                .collect();
            plain(format!("object {{{}}}", fields.join(", ")))
        }
        _ => match schema["format"].as_str() {
            Some(format) => plain(format!("{name} ({format})")),
            None => plain(name.to_string()),
        },
    }
}

fn plain(text: String) -> Kind {
    Kind { text, link: None }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn last_segment(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// An id for the page's links: `post-api-v1-webhooks-id`.
fn anchor(prefix: &str, name: &str) -> String {
    let words = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty());
    std::iter::once(prefix)
        .chain(words)
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase()
}

/// Splits a description at its backticks, so code reads as code; everything stays escaped.
fn prose(value: &Value) -> Vec<Segment> {
    text(value)
        .split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| Segment {
            text: part.to_string(),
            code: i % 2 == 1,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_as_phrases_and_link_to_named_schemas() {
        let list = serde_json::json!({"type": "array",
            "items": {"$ref": "#/components/schemas/Attempt"}});
        let k = kind(&list);
        assert_eq!(k.text, "array of Attempt");
        assert_eq!(k.link.as_deref(), Some("#schema-attempt"));
        let time = serde_json::json!({"type": ["string", "null"], "format": "date-time"});
        assert_eq!(kind(&time).text, "string (date-time) or null");
    }

    #[test]
    fn backticks_become_code_segments() {
        let parts = prose(&Value::from("a `b` c"));
        let parts: Vec<_> = parts.iter().map(|s| (s.text.as_str(), s.code)).collect();
        assert_eq!(parts, [("a ", false), ("b", true), (" c", false)]);
    }
}
