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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_payload_embeds_data_exactly_and_escapes_the_envelope() {
        let body = payload(
            "evt_1",
            "A\"B",
            "2026-11-26T00:00:00.000Z",
            r#"{"z":1, "a":[true]}"#,
        );
        assert_eq!(
            body,
            r#"{"id":"evt_1","type":"A\"B","created_at":"2026-11-26T00:00:00.000Z","data":{"z":1, "a":[true]}}"#
        );
        assert!(serde_json::from_str::<Value>(&body).is_ok());
    }
}
