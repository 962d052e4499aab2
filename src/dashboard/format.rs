//! How values read on a page: times, durations, attempt outcomes, JSON, and the one-line notices
//! shown after an action. Pure functions, so they are tested here.

use chrono::Utc;

use crate::config::Config;
use crate::domain::time::{Millis, from_millis};

/// `2026-11-26 17:03:44 UTC`: the dashboard shows times in UTC, like the API.
pub fn time(ms: Millis) -> String {
    from_millis(ms)
        .with_timezone(&Utc)
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

/// `3 min ago`, for lists where the exact time matters less than how recent it is.
/// A count with thousands separators: `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

pub fn ago(ms: Millis, now: Millis) -> String {
    let seconds = (now - ms).max(0) / 1000;
    match seconds {
        0..=4 => "just now".into(),
        5..=59 => format!("{seconds} s ago"),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

/// `5 days`, `12 hours`, `90 minutes`: a setting's length in the largest unit that divides it,
/// for sentences (humantime's `5days` reads like a token). Other lengths (`1m 1s`) fall back to
/// humantime.
pub fn span(length: std::time::Duration) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match length.as_secs() {
        s if s == 0 || length.subsec_nanos() != 0 => humantime::format_duration(length).to_string(),
        s if s % 86_400 == 0 => plural(s / 86_400, "day"),
        s if s % 3600 == 0 => plural(s / 3600, "hour"),
        s if s % 60 == 0 => plural(s / 60, "minute"),
        _ => humantime::format_duration(length).to_string(),
    }
}

/// `12 ms`, `1.5 s`.
pub fn duration(ms: i64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// A header value as the webhook page shows it: the first 4 characters, then dots, so a user can
/// tell values apart without the page giving away a token. Values of 8 characters or fewer show
/// only dots: their first 4 would be half of them or more.
pub fn masked(value: &str) -> String {
    const SHOWN: usize = 4;
    const DOTS: &str = "••••";
    if value.chars().count() <= 2 * SHOWN {
        return DOTS.to_string();
    }
    let start: String = value.chars().take(SHOWN).collect();
    format!("{start}{DOTS}")
}

/// `SPEAKNODE_DELIVERY_TIMEOUT`, e.g. `5s`: what a webhook without its own timeout gets.
pub fn service_timeout(config: &Config) -> String {
    humantime::format_duration(config.delivery_timeout).to_string()
}

/// `SPEAKNODE_RETRY_SCHEDULE`, e.g. `5s, 5m, 30m`: what a webhook without its own schedule gets.
pub fn service_schedule(config: &Config) -> String {
    schedule(&config.retry_schedule)
}

/// A retry schedule as a page shows it.
pub fn schedule(schedule: &crate::domain::retry::RetrySchedule) -> String {
    if schedule.delays().is_empty() {
        return "only one attempt".to_string();
    }
    schedule.to_text().replace(',', ", ")
}

/// What an attempt's outcome reads as (`200`, `500`, `timeout`) and its colour: `ok` for a 2xx,
/// `fail` for any other answer, `error` when no answer came.
pub fn outcome(http_status: Option<u16>, error: Option<&str>) -> (String, &'static str) {
    match http_status {
        Some(status) if (200..300).contains(&status) => (status.to_string(), "ok"),
        Some(status) => (status.to_string(), "fail"),
        None => (error.unwrap_or("no response").to_string(), "error"),
    }
}

/// The confirmation an action redirects with. Only these fixed texts can be shown: the query
/// string carries a code, never text a link could inject.
pub fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "created" => "Webhook created.",
        "saved" => "Webhook saved.",
        "enabled" => "Webhook enabled.",
        "disabled" => "Webhook disabled: it gets no new deliveries until it is enabled again.",
        "deleted" => "Webhook deleted.",
        "rotated" => "Secret rotated. The previous secret keeps signing deliveries for 24 hours.",
        "test_sent" => "Test event sent. Its attempt is at the top of the Request History.",
        "retried" => "Retry queued. The new attempt will appear at the top of the Request History.",
        "replayed" => {
            "Replay queued: the window's events this webhook had not had yet are being delivered; they appear in the Request History."
        }
        "replayed_none" => {
            "Nothing to replay: this webhook already has every event of that window it would get."
        }
        _ => return None,
    })
}

/// Re-indents JSON text without reordering keys or rewriting numbers, so the payload reads
/// exactly as it was sent. Text that is not JSON comes back as it is.
pub fn pretty_json(text: &str) -> String {
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                skip_whitespace(&mut chars);
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

fn skip_whitespace(chars: &mut std::iter::Peekable<impl Iterator<Item = char>>) {
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
}

/// A JSON value as indented text (schemas and examples of event types).
pub fn pretty_value(value: &serde_json::Value) -> String {
    pretty_json(&value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_show_their_first_4_characters_only_when_long_enough() {
        assert_eq!(masked("Bearer gateway-token"), "Bear••••");
        assert_eq!(masked("éééééééééé"), "éééé••••");
        assert_eq!(masked("12345678"), "••••");
        assert_eq!(masked(""), "••••");
    }

    #[test]
    fn json_is_indented_in_its_own_key_order() {
        let text = r#"{"z":1,"a":{"list":[1,2.50],"empty":{},"none":[]},"s":"a, b: {c}\"]"}"#;
        let expected = "{\n  \"z\": 1,\n  \"a\": {\n    \"list\": [\n      1,\n      2.50\n    ],\n    \
                        \"empty\": {},\n    \"none\": []\n  },\n  \"s\": \"a, b: {c}\\\"]\"\n}";
        assert_eq!(pretty_json(text), expected);
    }

    #[test]
    fn text_that_is_not_json_is_left_alone() {
        assert_eq!(pretty_json("ok"), "ok");
        assert_eq!(pretty_json("{\"a\": "), "{\"a\": ");
    }

    #[test]
    fn outcomes_read_as_status_or_error_with_a_colour() {
        assert_eq!(outcome(Some(204), None), ("204".into(), "ok"));
        assert_eq!(outcome(Some(500), None), ("500".into(), "fail"));
        assert_eq!(outcome(Some(301), None), ("301".into(), "fail"));
        assert_eq!(outcome(None, Some("timeout")), ("timeout".into(), "error"));
    }

    #[test]
    fn times_and_durations_read_naturally() {
        assert_eq!(time(1_795_712_624_120), "2026-11-26 17:03:44 UTC");
        assert_eq!(ago(0, 3_000), "just now");
        assert_eq!(ago(0, 90_000), "1 min ago");
        assert_eq!(ago(0, 7_200_000), "2 h ago");
        assert_eq!(duration(12), "12 ms");
        assert_eq!(duration(1_540), "1.5 s");
    }

    #[test]
    fn setting_lengths_read_in_their_largest_whole_unit() {
        use std::time::Duration;
        assert_eq!(span(Duration::from_secs(5 * 86_400)), "5 days");
        assert_eq!(span(Duration::from_secs(86_400)), "1 day");
        assert_eq!(span(Duration::from_secs(36 * 3600)), "36 hours");
        assert_eq!(span(Duration::from_secs(90 * 60)), "90 minutes");
        assert_eq!(span(Duration::from_secs(61)), "1m 1s");
    }

    #[test]
    fn only_known_notice_codes_show_text() {
        assert_eq!(notice(Some("saved")), Some("Webhook saved."));
        assert_eq!(notice(Some("<script>")), None);
        assert_eq!(notice(None), None);
    }
}
