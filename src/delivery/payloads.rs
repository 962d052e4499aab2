//! One buffer per event body in memory, however many of its deliveries are in flight, and the
//! count of bytes those buffers hold, which caps what the worker claims (a long transcript to
//! many slow webhooks must not multiply its size by the number of slots).

use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct Payloads {
    /// Event id → its body and how many attempts in flight hold it.
    held: HashMap<String, (Arc<str>, u32)>,
    bytes: u64,
}

impl Payloads {
    /// An attempt of `event_id` starts: returns the body to send, the one already in memory
    /// when another attempt of the event holds it (the claim's copy is then dropped).
    pub fn hold(&mut self, event_id: &str, claimed: Arc<str>) -> Arc<str> {
        if let Some((body, holders)) = self.held.get_mut(event_id) {
            *holders += 1;
            return body.clone();
        }
        self.bytes += claimed.len() as u64;
        self.held.insert(event_id.to_string(), (claimed.clone(), 1));
        claimed
    }

    /// An attempt of `event_id` is over.
    pub fn release(&mut self, event_id: &str) {
        if let Some((body, holders)) = self.held.get_mut(event_id) {
            *holders -= 1;
            if *holders == 0 {
                self.bytes -= body.len() as u64;
                self.held.remove(event_id);
            }
        }
    }

    /// The bytes of the bodies held by attempts in flight.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_of_one_event_share_its_body_and_count_its_bytes_once() {
        let mut payloads = Payloads::default();
        let first = payloads.hold("evt_1", Arc::from("x".repeat(1000)));
        let second = payloads.hold("evt_1", Arc::from("x".repeat(1000)));
        assert!(Arc::ptr_eq(&first, &second));
        payloads.hold("evt_2", Arc::from("y".repeat(10)));
        assert_eq!(payloads.bytes(), 1010);
        payloads.release("evt_1");
        assert_eq!(payloads.bytes(), 1010, "one attempt still holds it");
        payloads.release("evt_1");
        payloads.release("evt_2");
        assert_eq!(payloads.bytes(), 0);
        payloads.release("evt_unknown");
        assert_eq!(payloads.bytes(), 0);
    }
}
