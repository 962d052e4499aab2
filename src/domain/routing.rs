//! Which webhooks an event goes to: the enabled webhooks of its workspace that subscribe to
//! its type and whose filter its `data` passes. Decided here once; both stores read the
//! candidates and store a delivery for each webhook this returns, in the same transaction as the
//! event.

use crate::domain::delivery_options::Filter;

/// A webhook as routing sees it: what decides whether an event goes to it, and the retry
/// schedule its delivery keeps.
pub struct Subscriber {
    pub id: String,
    /// `None` when the store's query already kept only the webhooks subscribed to the type.
    pub event_types: Option<Vec<String>>,
    pub filter: Option<Filter>,
    pub retry_schedule: Option<String>,
}

impl Subscriber {
    /// Whether the event goes to this webhook: it subscribes to the type and, when it has a
    /// filter, the event's data passes it.
    pub fn wants(&self, event_type: &str, data: &mut EventData<'_>) -> bool {
        self.event_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == event_type))
            && self
                .filter
                .as_ref()
                .is_none_or(|filter| data.value().is_some_and(|d| filter.matches(d)))
    }
}

/// The subscribers the event goes to, in the order given. The event's data is parsed at most
/// once, and only if a filter asks.
pub fn route<'a>(
    event_type: &str,
    payload: &str,
    subscribers: impl IntoIterator<Item = &'a Subscriber>,
) -> Vec<&'a Subscriber> {
    let mut data = EventData::new(payload);
    subscribers
        .into_iter()
        .filter(|s| s.wants(event_type, &mut data))
        .collect()
}

/// An event's `data`, parsed from its payload the first time a filter asks, at most once.
pub struct EventData<'a> {
    payload: &'a str,
    parsed: Option<Option<serde_json::Value>>,
}

impl<'a> EventData<'a> {
    pub fn new(payload: &'a str) -> Self {
        Self {
            payload,
            parsed: None,
        }
    }

    /// The event's `data`, parsed on first use; `None` when the payload has none.
    pub fn value(&mut self) -> Option<&serde_json::Value> {
        self.parsed
            .get_or_insert_with(|| {
                let mut envelope: serde_json::Value = serde_json::from_str(self.payload).ok()?;
                Some(envelope.get_mut("data")?.take())
            })
            .as_ref()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn subscriber(
        id: &str,
        types: Option<&[&str]>,
        filter: Option<serde_json::Value>,
    ) -> Subscriber {
        Subscriber {
            id: id.into(),
            event_types: types.map(|t| t.iter().map(|s| s.to_string()).collect()),
            filter: filter.map(|f| Filter::parse(&f).unwrap().unwrap()),
            retry_schedule: None,
        }
    }

    fn ids(routed: Vec<&Subscriber>) -> Vec<&str> {
        routed.into_iter().map(|s| s.id.as_str()).collect()
    }

    const PAYLOAD: &str = r#"{"id":"evt_1","type":"SessionStarted","created_at":"2026-11-26T16:58:01Z","data":{"agent_id":"agent_7","metadata":{"channel":"phone","priority":2,"vip":true}}}"#;

    #[test]
    fn an_event_goes_to_the_subscribers_of_its_type_whose_filter_it_passes() {
        let all = [
            subscriber("wh_any", Some(&["SessionStarted"]), None),
            subscriber("wh_other_type", Some(&["ConversationComplete"]), None),
            subscriber(
                "wh_agent_7",
                Some(&["SessionStarted"]),
                Some(serde_json::json!({"agent_id": ["agent_7", "agent_9"]})),
            ),
            subscriber(
                "wh_agent_8",
                Some(&["SessionStarted"]),
                Some(serde_json::json!({"agent_id": ["agent_8"]})),
            ),
            subscriber(
                "wh_nested",
                None,
                Some(
                    serde_json::json!({"metadata.channel": ["phone"], "metadata.priority": [2], "metadata.vip": [true]}),
                ),
            ),
            subscriber(
                "wh_number_as_text",
                None,
                Some(serde_json::json!({"metadata.priority": ["2"]})),
            ),
            subscriber(
                "wh_missing_path",
                None,
                Some(serde_json::json!({"metadata.region": ["eu"]})),
            ),
        ];
        assert_eq!(
            ids(route("SessionStarted", PAYLOAD, &all)),
            ["wh_any", "wh_agent_7", "wh_nested"]
        );
    }

    #[test]
    fn a_payload_that_is_not_json_passes_no_filter_but_unfiltered_webhooks_still_get_it() {
        let all = [
            subscriber("wh_plain", None, None),
            subscriber(
                "wh_filtered",
                None,
                Some(serde_json::json!({"agent_id": ["agent_7"]})),
            ),
        ];
        assert_eq!(ids(route("SessionStarted", "not json", &all)), ["wh_plain"]);
    }
}
