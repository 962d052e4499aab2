//! Fair claiming: which due deliveries one claim takes, so that one webhook never waits for
//! another. A claim does not take the oldest due deliveries of all webhooks together (a slow
//! webhook's backlog would then fill every batch); it serves the webhooks that have due work in
//! round-robin rounds of one delivery each, every webhook within what the worker lets it start
//! now, and webhooks not known to answer promptly within a share of their own.
//!
//! Both stores find the due webhooks and their oldest due deliveries; these functions decide.

use std::collections::{HashMap, HashSet};

/// What the worker can start now, as the claim needs it (see `delivery::limits`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Budget {
    /// Attempts that may start now, all webhooks together.
    pub room: u32,
    /// Of `room`, how many may go to webhooks not known to answer promptly (slow, failing or
    /// not seen yet): the rest of the worker's slots stay free for the prompt ones.
    pub unproven_room: u32,
    /// Webhooks the worker has seen, with what each may start now.
    pub webhooks: HashMap<String, Allowance>,
    /// What a webhook the worker has not seen yet may start.
    pub unseen: Allowance,
    /// Round-robin position: this claim starts after the webhook the previous one served last.
    pub after: Option<String>,
    /// How many payload bytes this claim may bring into memory.
    pub max_bytes: u64,
}

/// What one webhook may start now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allowance {
    /// Attempts it may start: its concurrency limit less its attempts in flight.
    pub free: u32,
    /// How many of those may use the slots kept for prompt webhooks: all of them for a webhook
    /// that answers promptly, one for a webhook never seen (its first attempt tells how it
    /// answers), none for one that is slow or failing. The rest come out of `unproven_room`.
    pub reserved: u32,
}

impl Allowance {
    /// A webhook that answers promptly and may start `free` more attempts.
    pub fn prompt(free: u32) -> Self {
        Self {
            free,
            reserved: free,
        }
    }

    /// A slow or failing webhook that may start `free` more attempts.
    pub fn unproven(free: u32) -> Self {
        Self { free, reserved: 0 }
    }
}

impl Budget {
    /// Up to `room` deliveries from any webhooks, with no byte cap: for tests and tools.
    pub fn open(room: u32) -> Self {
        Self {
            room,
            unproven_room: room,
            webhooks: HashMap::new(),
            unseen: Allowance::prompt(room),
            after: None,
            max_bytes: u64::MAX,
        }
    }

    fn allowance(&self, webhook_id: &str) -> Allowance {
        self.webhooks
            .get(webhook_id)
            .copied()
            .unwrap_or(self.unseen)
    }

    /// The most one webhook can get from this claim: counting a webhook's due deliveries past
    /// this tells nothing more.
    pub fn most_per_webhook(&self) -> u32 {
        let most = self.webhooks.values().map(|a| a.free).max().unwrap_or(0);
        most.max(self.unseen.free).min(self.room)
    }

    /// Whether a webhook may get anything at all from this claim.
    pub fn admits(&self, webhook_id: &str) -> bool {
        let allowance = self.allowance(webhook_id);
        self.room > 0 && allowance.free > 0 && (allowance.reserved > 0 || self.unproven_room > 0)
    }
}

/// How many deliveries each due webhook gets from this claim, in serving order. `due` lists the
/// webhooks with due deliveries, sorted by id, each with how many it has due (a store may stop
/// counting at what one webhook can get); serving starts after `budget.after` and wraps.
/// Each round gives one delivery to every webhook that still has an allowance (beyond its
/// reserved part, only while the unproven share lasts), until the room is used up.
pub fn share(due: &[(String, u32)], budget: &Budget) -> Vec<(String, u32)> {
    let start = match &budget.after {
        Some(after) => due.partition_point(|(id, _)| id <= after),
        None => 0,
    };
    let order: Vec<&String> = due[start..]
        .iter()
        .chain(&due[..start])
        .map(|(id, _)| id)
        .collect();
    let allowances: Vec<Allowance> = due[start..]
        .iter()
        .chain(&due[..start])
        .map(|(id, count)| {
            let allowance = budget.allowance(id);
            Allowance {
                free: allowance.free.min(*count),
                ..allowance
            }
        })
        .collect();
    let mut given = vec![0u32; order.len()];
    let (mut room, mut unproven) = (budget.room, budget.unproven_room);
    while room > 0 {
        let mut progressed = false;
        for (i, allowance) in allowances.iter().enumerate() {
            if room == 0 {
                break;
            }
            let from_reserve = given[i] < allowance.reserved;
            if given[i] >= allowance.free || (!from_reserve && unproven == 0) {
                continue;
            }
            if !from_reserve {
                unproven -= 1;
            }
            given[i] += 1;
            room -= 1;
            progressed = true;
        }
        if !progressed {
            break;
        }
    }
    order
        .into_iter()
        .zip(given)
        .filter(|(_, n)| *n > 0)
        .map(|(id, n)| (id.clone(), n))
        .collect()
}

/// A due delivery a claim may take: its queue row, its event and that event's payload size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub seq: i64,
    pub webhook_id: String,
    pub event_id: String,
    pub payload_bytes: u64,
}

/// The candidates to lease, in the order their attempts should start: `per_webhook` holds each
/// served webhook's oldest due deliveries in `share`'s order; they are interleaved one per
/// webhook per round, and the list stops before the payloads it brings into memory (each event
/// counted once, however many of its deliveries are taken) would pass `max_bytes`. The first
/// candidate is always taken, so an event larger than the cap still goes out, alone.
pub fn interleave_within(per_webhook: Vec<Vec<Candidate>>, max_bytes: u64) -> Vec<Candidate> {
    let rounds = per_webhook.iter().map(Vec::len).max().unwrap_or(0);
    let mut queues: Vec<_> = per_webhook.into_iter().map(Vec::into_iter).collect();
    let mut picked = Vec::new();
    let mut events = HashSet::new();
    let mut bytes = 0u64;
    for _ in 0..rounds {
        for queue in &mut queues {
            let Some(candidate) = queue.next() else {
                continue;
            };
            if !events.contains(&candidate.event_id) {
                if !picked.is_empty() && bytes + candidate.payload_bytes > max_bytes {
                    return picked;
                }
                bytes += candidate.payload_bytes;
                events.insert(candidate.event_id.clone());
            }
            picked.push(candidate);
        }
    }
    picked
}

#[cfg(test)]
mod tests;
