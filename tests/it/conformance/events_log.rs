//! The events log on every backend: each filter alone and together, the `data` search's types
//! and paths, paging through a filtered list, and another workspace's events never shown.

use std::sync::Arc;

use speaknode_webhooks::domain::attempt::DeliveryState;
use speaknode_webhooks::domain::data_search::DataSearch;
use speaknode_webhooks::store::*;

use super::fixtures::*;

/// An event whose `data` is `data`, accepted at `at`.
fn event_with(ws: &str, event_type: &str, at: i64, data: &str) -> NewEvent {
    let mut event = new_event(ws, event_type, at);
    event.payload = format!(
        r#"{{"id":"{}","type":"{event_type}","data":{data}}}"#,
        event.id
    );
    event
}

fn search(pairs: &[(&str, &str)]) -> Option<DataSearch> {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect();
    DataSearch::parse(&owned).unwrap()
}

async fn ids_of(store: &dyn Store, ws: &str, filter: EventFilter) -> Vec<String> {
    let page = store.list_events(ws, &filter, page(100)).await.unwrap();
    page.items.into_iter().map(|e| e.id).collect()
}

pub async fn the_events_log_filters_by_time_state_webhook_and_data(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let first = webhook(&*store, &ws, &["SessionStarted"]).await;
    let second = webhook(&*store, &ws, &["ConversationComplete"]).await;
    let data = [
        r#"{"agent_id": "agent_support_en", "turns": 12, "ok": true, "meta": {"lang": "en"}}"#,
        r#"{"agent_id": "agent_sales", "turns": 3, "ok": false, "meta": {"lang": "de"}}"#,
        r#"{"agent_id": "agent_support_en", "turns": "12", "meta": {"lang": "en"}}"#,
        r#"{"conversation_id": "conv_8f2c", "agent_id": ["agent_support_en"]}"#,
    ];
    let types = [
        "SessionStarted",
        "SessionStarted",
        "SessionStarted",
        "ConversationComplete",
    ];
    let mut ids = Vec::new();
    for (i, (data, event_type)) in data.iter().zip(types).enumerate() {
        let event = event_with(&ws, event_type, T0 + i as i64 * 1_000, data);
        ids.push(ingest(&*store, &event).await.id);
    }
    // Another workspace's event with the same data is never listed.
    let other = workspace(&*store).await;
    webhook(&*store, &other, &["SessionStarted"]).await;
    ingest(&*store, &event_with(&other, "SessionStarted", T0, data[0])).await;

    // The first event's delivery succeeds; the others stay pending.
    let claims = store.claim_due(&claim_at(T0 + 10_000, 10)).await.unwrap();
    let claim = claims.iter().find(|c| c.event_id == ids[0]).unwrap();
    let attempt = attempt_of(claim, status(200), NextStep::Succeeded, T0 + 10_000);
    store.record_attempt(&attempt).await.unwrap();
    let others: Vec<Claimed> = claims
        .into_iter()
        .filter(|c| c.event_id != ids[0])
        .collect();
    store.release(&others, T0 + 10_000).await.unwrap();

    let all = |filter| ids_of(&*store, &ws, filter);
    let newest_first = |picked: &[usize]| -> Vec<String> {
        picked.iter().rev().map(|i| ids[*i].clone()).collect()
    };
    assert_eq!(
        all(EventFilter::default()).await,
        newest_first(&[0, 1, 2, 3])
    );
    assert_eq!(
        all(EventFilter::of_type("ConversationComplete")).await,
        newest_first(&[3])
    );
    let window = EventFilter {
        since: Some(T0 + 1_000),
        until: Some(T0 + 2_000),
        ..EventFilter::default()
    };
    assert_eq!(
        all(window).await,
        newest_first(&[1, 2]),
        "both ends included"
    );
    let succeeded = EventFilter {
        state: Some(DeliveryState::Succeeded),
        ..EventFilter::default()
    };
    assert_eq!(all(succeeded).await, newest_first(&[0]));
    let pending = EventFilter {
        state: Some(DeliveryState::Pending),
        ..EventFilter::default()
    };
    assert_eq!(all(pending).await, newest_first(&[1, 2, 3]));
    let to_second = EventFilter {
        webhook_id: Some(second.id.clone()),
        ..EventFilter::default()
    };
    assert_eq!(all(to_second).await, newest_first(&[3]));
    let to_first_pending = EventFilter {
        webhook_id: Some(first.id.clone()),
        state: Some(DeliveryState::Pending),
        ..EventFilter::default()
    };
    assert_eq!(all(to_first_pending).await, newest_first(&[1, 2]));

    let by_data = |pairs: &[(&str, &str)]| EventFilter {
        data: search(pairs),
        ..EventFilter::default()
    };
    assert_eq!(
        all(by_data(&[("agent_id", "agent_support_en")])).await,
        newest_first(&[0, 2]),
        "text; an array holding the value is not the value"
    );
    assert_eq!(
        all(by_data(&[("turns", "12")])).await,
        newest_first(&[0]),
        "a number"
    );
    assert_eq!(
        all(by_data(&[("turns", "\"12\"")])).await,
        newest_first(&[2]),
        "quoted text"
    );
    assert_eq!(all(by_data(&[("turns", "12.0")])).await, newest_first(&[0]));
    assert_eq!(
        all(by_data(&[("ok", "false")])).await,
        newest_first(&[1]),
        "a boolean"
    );
    assert_eq!(
        all(by_data(&[("meta.lang", "en")])).await,
        newest_first(&[0, 2])
    );
    assert_eq!(
        all(by_data(&[("meta.lang", "en"), ("turns", "12")])).await,
        newest_first(&[0]),
        "ANDed"
    );
    assert_eq!(
        all(by_data(&[("conversation_id", "conv_8f2c")])).await,
        newest_first(&[3])
    );
    assert!(
        all(by_data(&[("meta", "en")])).await.is_empty(),
        "an object is no value"
    );
    assert!(
        all(by_data(&[("meta", "1"), ("meta.lang", "en")]))
            .await
            .is_empty(),
        "contradicting conditions"
    );
    let combined = EventFilter {
        event_type: Some("SessionStarted".into()),
        state: Some(DeliveryState::Pending),
        data: search(&[("meta.lang", "en")]),
        ..EventFilter::default()
    };
    assert_eq!(all(combined).await, newest_first(&[2]));

    // Paging through a data search finds every match once, in order.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let filter = by_data(&[("agent_id", "agent_support_en")]);
        let request = PageRequest { limit: 1, cursor };
        let page = store.list_events(&ws, &filter, request).await.unwrap();
        seen.extend(page.items.into_iter().map(|e| e.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, newest_first(&[0, 2]));
}

/// `n` events of a type no webhook takes, accepted concurrently from `at` on, a millisecond
/// apart.
async fn unsubscribed_events(store: &Arc<dyn Store>, ws: &str, n: usize, at: i64) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let ingests = chunk.iter().map(|i| {
            let store = store.clone();
            let event = new_event(ws, "ConversationComplete", at + *i as i64);
            async move { ingest(&*store, &event).await }
        });
        futures::future::join_all(ingests).await;
    }
}

/// A webhook's only event, older than 20,500 others: the first page of `webhook_id` stops at
/// its bound (20,000 events read) with nothing found and a cursor; the next goes on from there,
/// finds it, and says it was the last. The same for a state no other event has.
pub async fn a_filtered_page_reads_a_bounded_number_of_events_and_goes_on_from_there(
    store: Arc<dyn Store>,
) {
    let ws = workspace(&*store).await;
    let hook = webhook(&*store, &ws, &["SessionStarted"]).await;
    let old = ingest(&*store, &new_event(&ws, "SessionStarted", T0)).await;
    unsubscribed_events(&store, &ws, 20_500, T0 + 1).await;
    for filter in [
        EventFilter {
            webhook_id: Some(hook.id.clone()),
            ..EventFilter::default()
        },
        EventFilter {
            state: Some(DeliveryState::Pending),
            ..EventFilter::default()
        },
    ] {
        let first = store.list_events(&ws, &filter, page(10)).await.unwrap();
        assert!(first.items.is_empty(), "{filter:?}");
        let cursor = first.next_cursor.expect("the bound leaves a cursor");
        let request = PageRequest {
            limit: 10,
            cursor: Some(cursor),
        };
        let second = store.list_events(&ws, &filter, request).await.unwrap();
        let ids: Vec<String> = second.items.into_iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![old.id.clone()], "{filter:?}");
        assert_eq!(second.next_cursor, None, "{filter:?}");
    }
    let unfiltered = store
        .list_events(&ws, &EventFilter::default(), page(10))
        .await
        .unwrap();
    assert_eq!(unfiltered.items.len(), 10, "no bound without a filter");
}

/// A time window finds its events by the order they were recorded in, widened by a minute:
/// an event recorded after another but stamped 30 s earlier (accepted concurrently, or a clock
/// corrected backwards) is still found at both edges; the window's ends are included.
pub async fn a_time_window_is_exact_when_recording_order_and_time_disagree(store: Arc<dyn Store>) {
    let ws = workspace(&*store).await;
    let at = |ms: i64| new_event(&ws, "SessionStarted", T0 + ms);
    let early = ingest(&*store, &at(0)).await;
    let middle = ingest(&*store, &at(100_000)).await;
    // Recorded after `middle`, stamped 30 s before it.
    let stepped_back = ingest(&*store, &at(70_000)).await;
    let late = ingest(&*store, &at(200_000)).await;
    let window = |since: i64, until: i64| EventFilter {
        since: Some(T0 + since),
        until: Some(T0 + until),
        ..EventFilter::default()
    };
    let ids = |filter| ids_of(&*store, &ws, filter);
    assert_eq!(
        ids(window(70_000, 100_000)).await,
        vec![stepped_back.id.clone(), middle.id.clone()]
    );
    assert_eq!(
        ids(window(0, 70_000)).await,
        vec![stepped_back.id.clone(), early.id.clone()]
    );
    assert_eq!(ids(window(100_000, 100_000)).await, vec![middle.id.clone()]);
    assert_eq!(ids(window(100_001, 199_999)).await, Vec::<String>::new());
    assert_eq!(ids(window(200_000, 900_000)).await, vec![late.id.clone()]);
    assert_eq!(ids(window(200_001, 900_000)).await, Vec::<String>::new());
}
