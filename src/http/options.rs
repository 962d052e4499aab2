//! The delivery options in the API's bodies: each field is read only when it is present, and
//! `null` is kept apart from "left out" (null clears an option; left out keeps it).

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::domain::Invalid;
use crate::domain::delivery_options::{
    Filter, Headers, RateLimit, WebhookTimeout, parse_ordered, parse_retry_schedule,
};
use crate::store::OptionsPatch;

/// `deserialize_with` for an option field: present (even as `null`) is `Some`; with
/// `#[serde(default)]` a field left out stays `None`.
pub fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// The option fields a body carried, as they came.
#[derive(Default)]
pub struct OptionFields {
    pub headers: Option<Value>,
    pub filter: Option<Value>,
    pub rate_limit: Option<Value>,
    pub ordered: Option<Value>,
    pub timeout: Option<Value>,
    pub retry_schedule: Option<Value>,
}

impl OptionFields {
    /// Parses the fields that are present; the first invalid one is refused with its `field`.
    pub fn patch(&self) -> Result<OptionsPatch, Invalid> {
        Ok(OptionsPatch {
            headers: match &self.headers {
                Some(Value::Null) => Some(Headers::default()),
                Some(value) => Some(Headers::parse(value)?),
                None => None,
            },
            filter: self.filter.as_ref().map(Filter::parse).transpose()?,
            rate_limit: self.rate_limit.as_ref().map(RateLimit::parse).transpose()?,
            ordered: self.ordered.as_ref().map(parse_ordered).transpose()?,
            timeout: self
                .timeout
                .as_ref()
                .map(WebhookTimeout::parse)
                .transpose()?,
            retry_schedule: self
                .retry_schedule
                .as_ref()
                .map(parse_retry_schedule)
                .transpose()?,
        })
    }
}
