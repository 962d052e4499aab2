//! The envelope every delivery of an event sends: `{"id", "type", "created_at", "data"}`.

use serde_json::Value;

/// The body every delivery of an event sends, byte for byte. `data` is embedded exactly as it
/// was emitted.
pub fn payload(id: &str, event_type: &str, created_at: &str, data: &str) -> String {
    let quote = |s: &str| Value::from(s).to_string();
    format!(
        r#"{{"id":{},"type":{},"created_at":{},"data":{}}}"#,
        quote(id),
        quote(event_type),
        quote(created_at),
        data
    )
}
