//! A webhook's own delivery options: extra headers, a filter on the event's `data`, a rate
//! limit, ordered delivery, a timeout and a retry schedule. Parsed at the edge from the JSON the
//! API was given, so every refusal names the contract's `field`; stored as canonical JSON that
//! reads back to the same value.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Number, Value};

use super::retry::RetrySchedule;
use super::validation::{Invalid, char_len};

pub const MAX_HEADERS: usize = 20;
pub const MAX_HEADER_NAME_CHARS: usize = 100;
pub const MAX_HEADER_VALUE_CHARS: usize = 1000;
pub const MAX_FILTER_PATHS: usize = 10;
pub const MAX_FILTER_VALUES: usize = 100;
pub const MIN_RATE_LIMIT: u32 = 1;
pub const MAX_RATE_LIMIT: u32 = 10_000;
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// Headers the service sets itself (or that describe the body's framing): a webhook may not
/// override them, or a receiver could no longer trust the signature and trace headers.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "user-agent",
    "traceparent",
];
/// Prefixes of the signature and service headers, present and future.
const RESERVED_PREFIXES: &[&str] = &["x-speaknode-", "webhook-"];

/// Extra headers sent with every attempt, names spelled as the user gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// Reads the `headers` field: an object of name → value within the contract's limits.
    pub fn parse(value: &Value) -> Result<Self, Invalid> {
        let object = value
            .as_object()
            .ok_or_else(|| Invalid::field("headers", "must be an object of name to value"))?;
        if object.len() > MAX_HEADERS {
            return Err(Invalid::field(
                "headers",
                format!(
                    "must hold at most {MAX_HEADERS} headers, not {}",
                    object.len()
                ),
            ));
        }
        let mut headers: Vec<(String, String)> = Vec::with_capacity(object.len());
        for (name, value) in object {
            let field = format!("headers.{name}");
            check_header_name(&field, name)?;
            // Header names are case-insensitive: two spellings of one name would send it twice.
            if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                return Err(Invalid::field(
                    field,
                    "is given twice (header names are case-insensitive)",
                ));
            }
            let value = value
                .as_str()
                .ok_or_else(|| Invalid::field(&field, "must be a string"))?;
            check_header_value(&field, value)?;
            headers.push((name.clone(), value.to_owned()));
        }
        Ok(Self(headers))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The API's form, `{}` when there are none.
    pub fn to_json_value(&self) -> Value {
        let object = self
            .0
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect::<Map<_, _>>();
        Value::Object(object)
    }

    /// Canonical JSON for storage.
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }

    /// Headers read back from the store, which were checked when they were written.
    pub fn from_stored(text: &str) -> Option<Self> {
        Self::parse(&serde_json::from_str(text).ok()?).ok()
    }
}

fn check_header_name(field: &str, name: &str) -> Result<(), Invalid> {
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(Invalid::field(
            field,
            "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)",
        ));
    }
    if char_len(name) > MAX_HEADER_NAME_CHARS {
        return Err(Invalid::field(
            field,
            format!("header names must be at most {MAX_HEADER_NAME_CHARS} characters"),
        ));
    }
    let lower = name.to_ascii_lowercase();
    if RESERVED_HEADERS.contains(&lower.as_str()) {
        return Err(Invalid::field(
            field,
            "is set by the service and cannot be overridden",
        ));
    }
    if let Some(prefix) = RESERVED_PREFIXES.iter().find(|p| lower.starts_with(**p)) {
        return Err(Invalid::field(
            field,
            format!("is reserved: names starting {prefix:?} belong to the service"),
        ));
    }
    Ok(())
}

fn check_header_value(field: &str, value: &str) -> Result<(), Invalid> {
    if char_len(value) > MAX_HEADER_VALUE_CHARS {
        return Err(Invalid::field(
            field,
            format!("must be at most {MAX_HEADER_VALUE_CHARS} characters"),
        ));
    }
    if value.contains(['\r', '\n', '\0']) {
        return Err(Invalid::field(field, "must not contain CR, LF or NUL"));
    }
    // Other control characters (tab aside) are not valid in an HTTP header value either: refused
    // here rather than failing every attempt later.
    if value.chars().any(|c| c.is_ascii_control() && c != '\t') {
        return Err(Invalid::field(field, "must not contain control characters"));
    }
    Ok(())
}

/// RFC 9110 `tchar`.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Which events a webhook gets: for every path, the value there in `data` is one of the listed
/// ones. Paths are kept in the order the parsed object gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter(Vec<FilterRule>);

/// One path of a filter and the values that pass it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterRule {
    /// The dotted path as the user wrote it, e.g. `metadata.language`.
    pub path: String,
    segments: Vec<String>,
    /// Strings, numbers or booleans, never empty.
    pub values: Vec<Value>,
}

impl Filter {
    /// Reads the `filter` field; `null` means "every event of the webhook's types".
    pub fn parse(value: &Value) -> Result<Option<Self>, Invalid> {
        if value.is_null() {
            return Ok(None);
        }
        let object = value.as_object().ok_or_else(|| {
            Invalid::field(
                "filter",
                "must be an object of dotted path to a list of values, or null",
            )
        })?;
        if object.len() > MAX_FILTER_PATHS {
            return Err(Invalid::field(
                "filter",
                format!(
                    "must hold at most {MAX_FILTER_PATHS} paths, not {}",
                    object.len()
                ),
            ));
        }
        object
            .iter()
            .map(|(path, values)| FilterRule::parse(path, values))
            .collect::<Result<Vec<_>, _>>()
            .map(|rules| Some(Self(rules)))
    }

    pub fn rules(&self) -> &[FilterRule] {
        &self.0
    }

    /// A filter of the given rules, all of which must pass.
    pub(crate) fn all_of(rules: Vec<FilterRule>) -> Self {
        Self(rules)
    }

    /// Whether an event with this `data` passes: every path must resolve to a listed value.
    pub fn matches(&self, data: &Value) -> bool {
        self.0.iter().all(|rule| rule.matches(data))
    }

    /// The API's form: an object of path → values.
    pub fn to_json_value(&self) -> Value {
        let object = self
            .0
            .iter()
            .map(|rule| (rule.path.clone(), Value::Array(rule.values.clone())))
            .collect::<Map<_, _>>();
        Value::Object(object)
    }

    /// Canonical JSON for storage.
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }

    /// A filter read back from the store, which was checked when it was written.
    pub fn from_stored(text: &str) -> Option<Self> {
        Self::parse(&serde_json::from_str(text).ok()?).ok()?
    }
}

impl FilterRule {
    fn parse(path: &str, values: &Value) -> Result<Self, Invalid> {
        Self::parse_as(format!("filter.{path}"), path, values)
    }

    /// A rule whose refusal names `field` (an events search names `data.<path>`).
    pub(crate) fn parse_as(field: String, path: &str, values: &Value) -> Result<Self, Invalid> {
        let segments = parse_path(&field, path)?;
        let values = values.as_array().ok_or_else(|| {
            Invalid::field(&field, "must be a list of strings, numbers or booleans")
        })?;
        if values.is_empty() {
            return Err(Invalid::field(&field, "must list at least one value"));
        }
        if values.len() > MAX_FILTER_VALUES {
            return Err(Invalid::field(
                &field,
                format!(
                    "must list at most {MAX_FILTER_VALUES} values, not {}",
                    values.len()
                ),
            ));
        }
        for (index, value) in values.iter().enumerate() {
            check_filter_value(&field, index, value)?;
        }
        Ok(Self {
            path: path.to_owned(),
            segments,
            values: values.clone(),
        })
    }

    fn matches(&self, data: &Value) -> bool {
        resolve(data, &self.segments).is_some_and(|found| {
            self.values
                .iter()
                .any(|listed| scalars_equal(found, listed))
        })
    }
}

fn parse_path(field: &str, path: &str) -> Result<Vec<String>, Invalid> {
    if path.contains('\0') {
        return Err(Invalid::field(
            field,
            "must not contain the NUL character (U+0000)",
        ));
    }
    let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
    if segments.iter().any(String::is_empty) {
        return Err(Invalid::field(
            field,
            "is not a dotted path like metadata.language (a segment is empty)",
        ));
    }
    Ok(segments)
}

fn check_filter_value(field: &str, index: usize, value: &Value) -> Result<(), Invalid> {
    match value {
        Value::Bool(_) | Value::Number(_) => Ok(()),
        // NUL cannot be stored in PostgreSQL text or jsonb, so both backends refuse it.
        Value::String(s) if s.contains('\0') => Err(Invalid::field(
            field,
            format!("value {index} must not contain the NUL character (U+0000)"),
        )),
        Value::String(_) => Ok(()),
        _ => Err(Invalid::field(
            field,
            format!("value {index} must be a string, a number or a boolean"),
        )),
    }
}

/// The value at a dotted path, descending through objects only.
fn resolve<'a>(data: &'a Value, segments: &[String]) -> Option<&'a Value> {
    segments
        .iter()
        .try_fold(data, |value, segment| value.as_object()?.get(segment))
}

/// Strings and booleans compare exactly, numbers by value (`1` equals `1.0`); nothing equals an
/// object, an array or null.
fn scalars_equal(found: &Value, listed: &Value) -> bool {
    match (found, listed) {
        (Value::Number(a), Value::Number(b)) => numbers_equal(a, b),
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        _ => false,
    }
}

fn numbers_equal(a: &Number, b: &Number) -> bool {
    // Integers compare exactly: going through f64 would make 2^53 + 1 equal 2^53.
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    matches!((a.as_f64(), b.as_f64()), (Some(x), Some(y)) if x == y)
}

/// At most this many attempts per second start for the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit(u32);

impl RateLimit {
    /// Reads the `rate_limit` field: an integer 1–10000, or null for no limit.
    pub fn parse(value: &Value) -> Result<Option<Self>, Invalid> {
        if value.is_null() {
            return Ok(None);
        }
        let range = MIN_RATE_LIMIT..=MAX_RATE_LIMIT;
        value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| range.contains(n))
            .map(|n| Some(Self(n)))
            .ok_or_else(|| {
                Invalid::field(
                    "rate_limit",
                    format!(
                        "must be an integer from {MIN_RATE_LIMIT} to {MAX_RATE_LIMIT}, or null"
                    ),
                )
            })
    }

    pub fn per_second(self) -> u32 {
        self.0
    }

    pub fn to_json_value(self) -> Value {
        Value::from(self.0)
    }

    pub fn to_json(self) -> String {
        self.0.to_string()
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        Self::parse(&serde_json::from_str(text).ok()?).ok()?
    }
}

/// How long one attempt to this webhook may take, in place of `SPEAKNODE_DELIVERY_TIMEOUT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookTimeout(Duration);

impl WebhookTimeout {
    /// Reads the `timeout` field: a duration like `10s` from 1s to 60s, or null.
    pub fn parse(value: &Value) -> Result<Option<Self>, Invalid> {
        if value.is_null() {
            return Ok(None);
        }
        let out_of_range = || {
            Invalid::field(
                "timeout",
                "must be a duration from 1s to 60s, like \"10s\", or null",
            )
        };
        let text = value.as_str().ok_or_else(out_of_range)?;
        let duration = humantime::parse_duration(text.trim()).map_err(|e| {
            Invalid::field(
                "timeout",
                format!("{text:?} is not a duration like \"10s\" ({e})"),
            )
        })?;
        if !(MIN_TIMEOUT..=MAX_TIMEOUT).contains(&duration) {
            return Err(out_of_range());
        }
        Ok(Some(Self(duration)))
    }

    pub fn duration(self) -> Duration {
        self.0
    }

    pub fn to_json_value(self) -> Value {
        Value::String(humantime::format_duration(self.0).to_string())
    }

    pub fn to_json(self) -> String {
        self.to_json_value().to_string()
    }

    pub fn from_stored(text: &str) -> Option<Self> {
        Self::parse(&serde_json::from_str(text).ok()?).ok()?
    }
}

/// Reads the `retry_schedule` field: the text form of `SPEAKNODE_RETRY_SCHEDULE` (at most 30
/// delays, each at most 7d), or null for the service's schedule.
pub fn parse_retry_schedule(value: &Value) -> Result<Option<RetrySchedule>, Invalid> {
    if value.is_null() {
        return Ok(None);
    }
    let text = value.as_str().ok_or_else(|| {
        Invalid::field(
            "retry_schedule",
            "must be a list of delays like \"5s,5m,30m\", or null",
        )
    })?;
    RetrySchedule::parse_for_webhook(text)
        .map(Some)
        .map_err(|message| Invalid::field("retry_schedule", message))
}

/// The API's form of a webhook's retry schedule: its text, e.g. `"5s,5m,30m"`.
pub fn retry_schedule_to_json_value(schedule: &RetrySchedule) -> Value {
    Value::String(schedule.to_text())
}

/// Canonical JSON for storage: a JSON string.
pub fn retry_schedule_to_json(schedule: &RetrySchedule) -> String {
    retry_schedule_to_json_value(schedule).to_string()
}

pub fn retry_schedule_from_stored(text: &str) -> Option<RetrySchedule> {
    parse_retry_schedule(&serde_json::from_str(text).ok()?).ok()?
}

/// Reads the `ordered` field: a boolean.
pub fn parse_ordered(value: &Value) -> Result<bool, Invalid> {
    value
        .as_bool()
        .ok_or_else(|| Invalid::field("ordered", "must be true or false"))
}

/// All of a webhook's delivery options; the default is "none set".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryOptions {
    pub headers: Headers,
    pub filter: Option<Filter>,
    pub rate_limit: Option<RateLimit>,
    pub ordered: bool,
    pub timeout: Option<WebhookTimeout>,
    pub retry_schedule: Option<RetrySchedule>,
}

impl DeliveryOptions {
    /// The options of a create body: fields left out are unset.
    pub fn from_body(body: &Map<String, Value>) -> Result<Self, Invalid> {
        Self::default().patched(body)
    }

    /// These options with the fields present in a PATCH body replaced (`null` clears a nullable
    /// one); fields left out are kept. Nothing changes unless every field is valid.
    pub fn patched(&self, body: &Map<String, Value>) -> Result<Self, Invalid> {
        let mut options = self.clone();
        if let Some(value) = body.get("headers") {
            options.headers = Headers::parse(value)?;
        }
        if let Some(value) = body.get("filter") {
            options.filter = Filter::parse(value)?;
        }
        if let Some(value) = body.get("rate_limit") {
            options.rate_limit = RateLimit::parse(value)?;
        }
        if let Some(value) = body.get("ordered") {
            options.ordered = parse_ordered(value)?;
        }
        if let Some(value) = body.get("timeout") {
            options.timeout = WebhookTimeout::parse(value)?;
        }
        if let Some(value) = body.get("retry_schedule") {
            options.retry_schedule = parse_retry_schedule(value)?;
        }
        Ok(options)
    }

    /// The six fields as a webhook is read: every one present, `headers` `{}` and the nullable
    /// ones `null` when unset.
    pub fn read_fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("headers".into(), self.headers.to_json_value());
        fields.insert(
            "filter".into(),
            json_or_null(&self.filter, Filter::to_json_value),
        );
        fields.insert(
            "rate_limit".into(),
            json_or_null(&self.rate_limit, |r| r.to_json_value()),
        );
        fields.insert("ordered".into(), Value::Bool(self.ordered));
        fields.insert(
            "timeout".into(),
            json_or_null(&self.timeout, |t| t.to_json_value()),
        );
        fields.insert(
            "retry_schedule".into(),
            json_or_null(&self.retry_schedule, retry_schedule_to_json_value),
        );
        fields
    }
}

/// Serializes as [`DeliveryOptions::read_fields`], so a response type can `#[serde(flatten)]` it.
impl Serialize for DeliveryOptions {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.read_fields().serialize(serializer)
    }
}

fn json_or_null<T>(value: &Option<T>, to_json: impl Fn(&T) -> Value) -> Value {
    value.as_ref().map(to_json).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests;
