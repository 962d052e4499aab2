//! A webhook's delivery options in the create and edit form. A form carries text, not JSON, so
//! the rows and boxes a user filled in are turned into the JSON values the API takes and handed
//! to the same domain parsers; each refusal's `field` (`headers.X-Bad`, `filter.agent_id`,
//! `timeout`, …) is put back beside the input it came from, and what was typed is kept as typed.
//!
//! How the form spells the options:
//! - Headers: one row per header, a name and a value. A row left blank is skipped.
//! - Filter: one row per dotted path in the event's `data`, its values separated by commas. A
//!   value that reads as a JSON number or `true`/`false` is that number or boolean; a value in
//!   double quotes is a JSON string (so `"42"` is the text 42, and may hold a comma); anything
//!   else is the text itself, spaces around it trimmed. No rows: every event of its types.
//! - Timeout and Retry schedule: text as in the settings (`10s`, `5s,5m,30m`); empty means the
//!   service's setting. "Only one attempt" stands for the empty schedule (no retries), which an
//!   empty box cannot say since it already means "the service's schedule".
//! - Rate limit and Ordered: parsed only when the caller says the engine enforces them; until
//!   then the form never sends them, so what the store holds for them is kept.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::form::Fields;
use crate::domain::Invalid;
use crate::domain::data_search::typed_value;
use crate::domain::delivery_options::{
    Filter, Headers, RateLimit, WebhookTimeout, parse_retry_schedule,
};
use crate::domain::retry::RetrySchedule;
use crate::store::{DeliveryOptions, OptionsPatch};

/// Blank rows under the filled ones, so headers and filter paths can be added without script.
const BLANK_ROWS: usize = 2;

pub struct HeaderRow {
    pub name: String,
    pub value: String,
}

pub struct FilterRow {
    pub path: String,
    /// The values as typed, comma-separated.
    pub values: String,
}

/// The options part of the form: typed by the user, or read from the webhook being edited.
#[derive(Default)]
pub struct OptionsDraft {
    pub headers: Vec<HeaderRow>,
    pub filter: Vec<FilterRow>,
    pub timeout: String,
    pub retry_schedule: String,
    pub one_attempt: bool,
    pub rate_limit: String,
    pub ordered: bool,
}

/// One message per input at fault; rows are keyed by their position in the draft.
#[derive(Default)]
pub struct OptionsErrors {
    /// About the headers as a whole (too many), shown above the rows.
    pub headers: Option<String>,
    /// About the filter as a whole (too many paths), shown above the rows.
    pub filter: Option<String>,
    header_rows: BTreeMap<usize, String>,
    filter_rows: BTreeMap<usize, String>,
    pub timeout: Option<String>,
    pub retry_schedule: Option<String>,
    pub rate_limit: Option<String>,
}

impl OptionsErrors {
    pub fn any(&self) -> bool {
        self.headers.is_some()
            || self.filter.is_some()
            || !self.header_rows.is_empty()
            || !self.filter_rows.is_empty()
            || self.timeout.is_some()
            || self.retry_schedule.is_some()
            || self.rate_limit.is_some()
    }

    /// The message beside header row `index` (a reference: askama passes loop values so).
    pub fn header_row(&self, index: &usize) -> Option<&String> {
        self.header_rows.get(index)
    }

    pub fn filter_row(&self, index: &usize) -> Option<&String> {
        self.filter_rows.get(index)
    }

    /// Puts a parser's refusal beside the input its `field` names: `headers.<name>` and
    /// `filter.<path>` beside their row, the rest beside their box.
    fn record(&mut self, draft: &OptionsDraft, invalid: Invalid) {
        let Invalid { field, message, .. } = invalid;
        if let Some(name) = field.strip_prefix("headers.") {
            match draft.headers.iter().position(|r| r.name.trim() == name) {
                Some(row) => self.header_rows.insert(row, sentence(name, &message)),
                None => self.headers.replace(sentence(name, &message)),
            };
        } else if let Some(path) = field.strip_prefix("filter.") {
            match draft.filter.iter().position(|r| r.path.trim() == path) {
                Some(row) => self.filter_rows.insert(row, sentence(path, &message)),
                None => self.filter.replace(sentence(path, &message)),
            };
        } else {
            let (slot, label) = match field.as_str() {
                "headers" => (&mut self.headers, "Headers"),
                "timeout" => (&mut self.timeout, "Timeout"),
                "retry_schedule" => (&mut self.retry_schedule, "Retry schedule"),
                "rate_limit" => (&mut self.rate_limit, "Rate limit"),
                // `filter` itself, and anything a parser may name in future: shown with the filter.
                _ => (&mut self.filter, "Filter"),
            };
            *slot = Some(sentence(label, &message));
        }
    }
}

/// A parser's message as a sentence under its label. The parsers speak the API's language,
/// where `null` clears an option; in the form an empty box does that, so "or null" is dropped.
fn sentence(label: &str, message: &str) -> String {
    let message = message.trim_end_matches(", or null");
    if message.starts_with("must ") || message.starts_with("is ") {
        format!("{label} {message}.")
    } else {
        format!("{label}: {message}.")
    }
}

impl OptionsDraft {
    pub fn from_fields(fields: &Fields) -> Self {
        let headers = rows(fields, "header_name", "header_value")
            .into_iter()
            .map(|(name, value)| HeaderRow { name, value })
            .collect();
        let filter = rows(fields, "filter_path", "filter_values")
            .into_iter()
            .map(|(path, values)| FilterRow { path, values })
            .collect();
        let text = |name: &str| fields.get(name).unwrap_or("").to_string();
        Self {
            headers,
            filter,
            timeout: text("timeout"),
            retry_schedule: text("retry_schedule"),
            // An unchecked checkbox sends nothing.
            one_attempt: fields.get("one_attempt").is_some(),
            rate_limit: text("rate_limit"),
            ordered: fields.get("ordered").is_some(),
        }
    }

    /// The form filled in with a webhook's options, spelled so that saving it unchanged gives
    /// back the same options.
    pub fn from_options(options: &DeliveryOptions) -> Self {
        let headers = options
            .headers
            .iter()
            .map(|(name, value)| HeaderRow {
                name: name.to_owned(),
                value: value.to_owned(),
            })
            .collect();
        // A filter of no paths (`{}`) passes every event, as no filter does: both show no rows.
        let filter = options
            .filter
            .iter()
            .flat_map(Filter::rules)
            .map(|rule| FilterRow {
                path: rule.path.clone(),
                values: values_text(&rule.values),
            })
            .collect();
        let (retry_schedule, one_attempt) = match &options.retry_schedule {
            None => (String::new(), false),
            Some(schedule) if schedule.delays().is_empty() => (String::new(), true),
            Some(schedule) => (schedule.to_text(), false),
        };
        Self {
            headers,
            filter,
            timeout: options
                .timeout
                .map(|t| humantime::format_duration(t.duration()).to_string())
                .unwrap_or_default(),
            retry_schedule,
            one_attempt,
            rate_limit: options
                .rate_limit
                .map(|r| r.per_second().to_string())
                .unwrap_or_default(),
            ordered: options.ordered,
        }
    }

    /// The draft with blank rows to add headers and filter paths in; appended after the filled
    /// rows so the errors keyed by position still point at their rows.
    pub fn with_blank_rows(mut self) -> Self {
        for _ in 0..BLANK_ROWS {
            self.headers.push(HeaderRow {
                name: String::new(),
                value: String::new(),
            });
            self.filter.push(FilterRow {
                path: String::new(),
                values: String::new(),
            });
        }
        self
    }

    /// The options as the API would take them, or every input at fault.
    pub fn parse(&self) -> Result<OptionsPatch, Box<OptionsErrors>> {
        let mut errors = OptionsErrors::default();
        let headers = self.parse_headers(&mut errors);
        let filter = self.parse_filter(&mut errors);
        let timeout = self.parse_timeout(&mut errors);
        let retry_schedule = self.parse_retry_schedule(&mut errors);
        let rate_limit = self.parse_rate_limit(&mut errors);
        if errors.any() {
            return Err(Box::new(errors));
        }
        Ok(OptionsPatch {
            headers,
            filter,
            timeout,
            retry_schedule,
            rate_limit,
            ordered: Some(self.ordered),
        })
    }

    /// Each row is checked on its own, so every row at fault is marked at once; then the limits
    /// on the whole (how many) are checked on the rows that passed.
    fn parse_headers(&self, errors: &mut OptionsErrors) -> Option<Headers> {
        let mut object = Map::new();
        for (index, row) in self.headers.iter().enumerate() {
            let name = row.name.trim();
            let problem = if name.is_empty() {
                Some("Give this header a name, or clear its value.".to_string())
            } else if object.keys().any(|n| n.eq_ignore_ascii_case(name)) {
                // A JSON object cannot hold a name twice, so the parser would never see this.
                Some(format!(
                    "{name} is given twice (header names are case-insensitive)."
                ))
            } else {
                let one = single(name, Value::String(row.value.clone()));
                Headers::parse(&one)
                    .err()
                    .map(|invalid| sentence(name, &invalid.message))
            };
            match problem {
                Some(message) => {
                    errors.header_rows.insert(index, message);
                }
                None => {
                    object.insert(name.to_owned(), Value::String(row.value.clone()));
                }
            }
        }
        Headers::parse(&Value::Object(object))
            .map_err(|invalid| errors.record(self, invalid))
            .ok()
    }

    /// As the headers: row by row, then the filter as a whole. No rows: no filter.
    fn parse_filter(&self, errors: &mut OptionsErrors) -> Option<Option<Filter>> {
        if self.filter.is_empty() {
            return Some(None);
        }
        let mut object = Map::new();
        for (index, row) in self.filter.iter().enumerate() {
            let path = row.path.trim();
            let parsed = if path.is_empty() {
                Err("Give these values a dotted path, or clear them.".to_string())
            } else if object.contains_key(path) {
                Err(format!(
                    "{path} is given twice: list all its values in one row."
                ))
            } else {
                split_values(&row.values)
                    .map_err(|message| sentence(path, &message))
                    .and_then(|values| {
                        let values = Value::Array(values);
                        match Filter::parse(&single(path, values.clone())) {
                            Ok(_) => Ok(values),
                            Err(invalid) => Err(sentence(path, &invalid.message)),
                        }
                    })
            };
            match parsed {
                Ok(values) => {
                    object.insert(path.to_owned(), values);
                }
                Err(message) => {
                    errors.filter_rows.insert(index, message);
                }
            }
        }
        Filter::parse(&Value::Object(object))
            .map_err(|invalid| errors.record(self, invalid))
            .ok()
    }

    fn parse_timeout(&self, errors: &mut OptionsErrors) -> Option<Option<WebhookTimeout>> {
        let text = self.timeout.trim();
        if text.is_empty() {
            return Some(None);
        }
        WebhookTimeout::parse(&Value::String(text.to_owned()))
            .map_err(|invalid| errors.record(self, invalid))
            .ok()
    }

    fn parse_retry_schedule(&self, errors: &mut OptionsErrors) -> Option<Option<RetrySchedule>> {
        let text = self.retry_schedule.trim();
        match (self.one_attempt, text.is_empty()) {
            (false, true) => Some(None),
            (true, true) => Some(Some(RetrySchedule::new(Vec::new()))),
            (true, false) => {
                errors.retry_schedule =
                    Some("Clear the retry schedule, or uncheck Only one attempt.".into());
                None
            }
            (false, false) => parse_retry_schedule(&Value::String(text.to_owned()))
                .map_err(|invalid| errors.record(self, invalid))
                .ok(),
        }
    }

    fn parse_rate_limit(&self, errors: &mut OptionsErrors) -> Option<Option<RateLimit>> {
        let text = self.rate_limit.trim();
        if text.is_empty() {
            return Some(None);
        }
        // A whole number goes on as a JSON number; anything else as text, which the parser
        // refuses with its own message.
        let value = text
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.to_owned()));
        RateLimit::parse(&value)
            .map_err(|invalid| errors.record(self, invalid))
            .ok()
    }
}

/// Rows of two repeated fields, paired in the order sent (a browser sends each row's inputs
/// together, in document order). Rows left entirely blank are dropped.
fn rows(fields: &Fields, first: &str, second: &str) -> Vec<(String, String)> {
    let (firsts, seconds) = (fields.all(first), fields.all(second));
    let at = |list: &[String], i: usize| list.get(i).cloned().unwrap_or_default();
    (0..firsts.len().max(seconds.len()))
        .map(|i| (at(&firsts, i), at(&seconds, i)))
        .filter(|(a, b)| !(a.trim().is_empty() && b.trim().is_empty()))
        .collect()
}

fn single(key: &str, value: Value) -> Value {
    Value::Object(Map::from_iter([(key.to_owned(), value)]))
}

/// A filter row's values: split at commas outside a quoted value, each one typed. Empty pieces
/// (`a,,b`, a trailing comma) add nothing.
fn split_values(text: &str) -> Result<Vec<Value>, String> {
    let mut values = Vec::new();
    let mut piece = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in text.chars() {
        match c {
            ',' if !quoted => {
                values.extend(typed_value(&piece)?);
                piece.clear();
                continue;
            }
            // Only a quote that opens a value starts a quoted one: `5" screen` is plain text.
            '"' if !quoted && piece.trim().is_empty() => quoted = true,
            '"' if quoted && !escaped => quoted = false,
            _ => {}
        }
        escaped = quoted && c == '\\' && !escaped;
        piece.push(c);
    }
    values.extend(typed_value(&piece)?);
    Ok(values)
}

/// A filter's values as the form spells them, reading back to the same values: numbers and
/// booleans bare, text bare unless it would read as something else, then quoted.
pub fn values_text(values: &[Value]) -> String {
    let spell = |value: &Value| match value {
        Value::String(s) if reads_back_as_text(s) => s.clone(),
        other => other.to_string(),
    };
    values.iter().map(spell).collect::<Vec<_>>().join(", ")
}

fn reads_back_as_text(s: &str) -> bool {
    !s.contains(',')
        && !s.starts_with('"')
        && s.trim() == s
        && typed_value(s) == Ok(Some(Value::String(s.to_owned())))
}

#[cfg(test)]
mod tests;
