//! Event types: a name, a description, a JSON Schema that an Event's `data` must satisfy, and an
//! example (what test sends deliver). Schemas are compiled once and kept in a registry.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use serde_json::{Value, json};

use super::validation::Invalid;

/// Longest name an event type may have; names are identifiers like `ConversationComplete`.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct EventTypeDef {
    pub name: String,
    pub description: String,
    pub schema: Value,
    pub example: Value,
}

/// An event type whose schema is compiled and whose example is known to validate.
pub struct EventType {
    pub def: EventTypeDef,
    validator: Validator,
}

impl std::fmt::Debug for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventType")
            .field("name", &self.def.name)
            .finish()
    }
}

impl EventType {
    /// Compiles the schema and checks the name and the example against it.
    pub fn compile(def: EventTypeDef) -> Result<Self, Invalid> {
        check_name(&def.name)?;
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&def.schema)
            .map_err(|e| {
                Invalid::field(
                    "schema",
                    format!("is not a valid JSON Schema: {}", short(&e.to_string())),
                )
            })?;
        let compiled = Self { def, validator };
        compiled
            .validate(&compiled.def.example)
            .map_err(|e| Invalid::field(e.field.replacen("data", "example", 1), e.message))?;
        Ok(compiled)
    }

    /// Validates event data; the error names the first failing path, e.g. `data.transcript[0].role`.
    pub fn validate(&self, data: &Value) -> Result<(), Invalid> {
        let Some(error) = self.validator.iter_errors(data).next() else {
            return Ok(());
        };
        let mut field = String::from("data");
        for segment in error.instance_path().segments() {
            match segment {
                LocationSegment::Index(i) => {
                    field.push_str(&format!("[{i}]"));
                }
                LocationSegment::Property(name) => {
                    field.push('.');
                    field.push_str(&name);
                }
            }
        }
        let message = match error.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                field.push('.');
                field.push_str(name);
                "is required".to_string()
            }
            _ => short(&error.to_string()),
        };
        Err(Invalid::field(field, message))
    }
}

fn check_name(name: &str) -> Result<(), Invalid> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Invalid::field(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} letters, digits, '_', '.' or '-'"),
        ))
    }
}

/// Error messages echo the offending value; keep them to a readable length.
fn short(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The registered event types, readable from every request.
#[derive(Debug, Default)]
pub struct Registry {
    types: RwLock<BTreeMap<String, Arc<EventType>>>,
}

impl Registry {
    pub fn get(&self, name: &str) -> Option<Arc<EventType>> {
        self.types.read().ok()?.get(name).cloned()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn insert(&self, event_type: EventType) {
        if let Ok(mut types) = self.types.write() {
            types.insert(event_type.def.name.clone(), Arc::new(event_type));
        }
    }

    /// All types, by name.
    pub fn all(&self) -> Vec<Arc<EventType>> {
        self.types
            .read()
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// The event types SpeakNode ships with: the platform's two, then the service's own
/// operational events (see `operational`).
pub fn shipped() -> Vec<EventTypeDef> {
    let mut types = vec![conversation_complete(), session_started()];
    types.extend(super::operational::defs());
    types
}

fn conversation_complete() -> EventTypeDef {
    EventTypeDef {
        name: "ConversationComplete".into(),
        description: "Fired when a conversation ends; the full transcript and metadata.".into(),
        schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["conversation_id", "session_id", "agent_id", "started_at", "ended_at", "transcript"],
            "properties": {
                "conversation_id": {"type": "string"},
                "session_id": {"type": "string"},
                "agent_id": {"type": "string"},
                "started_at": {"type": "string", "format": "date-time"},
                "ended_at": {"type": "string", "format": "date-time"},
                "duration_seconds": {"type": "number", "minimum": 0},
                "end_reason": {"type": "string"},
                "transcript": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["role", "text"],
                        "properties": {
                            "role": {"enum": ["agent", "user", "system", "tool"]},
                            "text": {"type": "string"},
                            "start_ms": {"type": "number", "minimum": 0},
                            "end_ms": {"type": "number", "minimum": 0}
                        }
                    }
                },
                "metadata": {"type": "object"}
            },
            "additionalProperties": true
        }),
        example: json!({
            "conversation_id": "conv_8f2c", "session_id": "sess_41aa", "agent_id": "agent_support_en",
            "started_at": "2026-11-26T16:58:01Z", "ended_at": "2026-11-26T17:03:44Z",
            "duration_seconds": 343, "end_reason": "caller_hangup",
            "transcript": [
                {"role": "agent", "text": "Hi, thanks for calling. How can I help?", "start_ms": 0, "end_ms": 2300},
                {"role": "user", "text": "I'd like to change my delivery address.", "start_ms": 2900, "end_ms": 5100}
            ],
            "metadata": {"caller_number": "+15555550100", "language": "en-US"}
        }),
    }
}

fn session_started() -> EventTypeDef {
    EventTypeDef {
        name: "SessionStarted".into(),
        description: "Fired when a voice session begins; the agent id and session metadata.".into(),
        schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["session_id", "agent_id", "started_at"],
            "properties": {
                "session_id": {"type": "string"},
                "agent_id": {"type": "string"},
                "started_at": {"type": "string", "format": "date-time"},
                "metadata": {"type": "object"}
            },
            "additionalProperties": true
        }),
        example: json!({
            "session_id": "sess_41aa", "agent_id": "agent_support_en", "started_at": "2026-11-26T16:58:01Z",
            "metadata": {"channel": "phone", "caller_number": "+15555550100"}
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation() -> EventType {
        EventType::compile(conversation_complete()).expect("shipped type compiles")
    }

    #[test]
    fn shipped_types_compile_and_their_examples_validate() {
        for def in shipped() {
            let ty = EventType::compile(def.clone()).expect("compiles");
            assert!(ty.validate(&def.example).is_ok(), "{}", def.name);
        }
    }

    #[test]
    fn a_missing_required_property_is_named_by_its_path() {
        let mut data = conversation_complete().example;
        data.as_object_mut().expect("object").remove("transcript");
        assert_eq!(
            conversation().validate(&data).unwrap_err().field,
            "data.transcript"
        );
    }

    #[test]
    fn a_bad_nested_value_is_named_by_its_path() {
        let mut data = conversation_complete().example;
        data["transcript"][1]["role"] = json!("robot");
        assert_eq!(
            conversation().validate(&data).unwrap_err().field,
            "data.transcript[1].role"
        );
        data["transcript"][1]["role"] = json!("user");
        data["transcript"][0]["start_ms"] = json!(-1);
        assert_eq!(
            conversation().validate(&data).unwrap_err().field,
            "data.transcript[0].start_ms"
        );
    }

    #[test]
    fn timestamps_must_be_rfc3339_and_extra_properties_are_allowed() {
        let mut data = conversation_complete().example;
        data["future_field"] = json!({"anything": true});
        assert!(conversation().validate(&data).is_ok());
        data["started_at"] = json!("last tuesday");
        assert_eq!(
            conversation().validate(&data).unwrap_err().field,
            "data.started_at"
        );
    }

    #[test]
    fn an_example_that_fails_its_own_schema_is_refused() {
        let mut def = session_started();
        def.example = json!({"session_id": 1});
        assert!(
            EventType::compile(def)
                .unwrap_err()
                .field
                .starts_with("example")
        );
    }
}
