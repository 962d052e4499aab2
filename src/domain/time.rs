//! Time as the service sees it: UTC instants with millisecond precision, rendered as RFC 3339.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Milliseconds since the Unix epoch; what the store keeps and the worker compares.
pub type Millis = i64;

pub fn to_millis(t: DateTime<Utc>) -> Millis {
    t.timestamp_millis()
}

pub fn from_millis(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-26T17:03:44.120Z`.
pub fn rfc3339(ms: Millis) -> String {
    from_millis(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 timestamp (any offset) into milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_with_millisecond_precision() {
        let ms = 1_795_712_624_120;
        let text = rfc3339(ms);
        assert!(text.ends_with('Z'));
        assert_eq!(parse_rfc3339(&text), Some(ms));
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        assert_eq!(
            parse_rfc3339("2026-11-26T18:00:00+01:00"),
            parse_rfc3339("2026-11-26T17:00:00Z")
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
