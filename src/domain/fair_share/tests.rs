use super::*;

/// More due deliveries than any claim takes.
const UNKNOWN: u32 = u32::MAX;

fn ids(names: &[&str]) -> Vec<(String, u32)> {
    names.iter().map(|s| (s.to_string(), UNKNOWN)).collect()
}

fn budget(room: u32, unproven_room: u32, seen: &[(&str, u32, bool)]) -> Budget {
    Budget {
        room,
        unproven_room,
        webhooks: seen
            .iter()
            .map(|(id, free, prompt)| {
                let allowance = if *prompt {
                    Allowance::prompt(*free)
                } else {
                    Allowance::unproven(*free)
                };
                (id.to_string(), allowance)
            })
            .collect(),
        unseen: Allowance {
            free: 8,
            reserved: 1,
        },
        after: None,
        max_bytes: u64::MAX,
    }
}

fn shares(list: &[(&str, u32)]) -> Vec<(String, u32)> {
    list.iter().map(|(id, n)| (id.to_string(), *n)).collect()
}

#[test]
fn a_backlog_cannot_fill_a_claim_every_due_webhook_gets_a_turn() {
    // Ten slow webhooks with 32 free slots each and a prompt one, 128 attempts of room: the
    // prompt webhook is served in the first round, whatever the others have queued.
    let mut seen: Vec<(String, u32, bool)> = (0..10)
        .map(|i| (format!("wh_slow{i}"), 32, false))
        .collect();
    seen.push(("wh_prompt".into(), 32, true));
    let seen_ref: Vec<(&str, u32, bool)> =
        seen.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
    let mut due: Vec<(String, u32)> = seen
        .iter()
        .map(|(id, _, _)| (id.clone(), UNKNOWN))
        .collect();
    due.sort();
    let plan = share(&due, &budget(128, 96, &seen_ref));
    let prompt = plan
        .iter()
        .find(|(id, _)| id == "wh_prompt")
        .map(|(_, n)| *n);
    assert_eq!(
        prompt,
        Some(32),
        "the prompt webhook gets all it may start: {plan:?}"
    );
    let slow: u32 = plan
        .iter()
        .filter(|(id, _)| id != "wh_prompt")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        slow, 96,
        "the slow ones share what is left of the unproven share"
    );
    assert!(plan.iter().all(|(_, n)| *n <= 32));
}

#[test]
fn rounds_give_one_each_before_anyone_gets_a_second() {
    let due = ids(&["a", "b", "c"]);
    let plan = share(
        &due,
        &budget(4, 100, &[("a", 10, true), ("b", 10, true), ("c", 10, true)]),
    );
    assert_eq!(plan, shares(&[("a", 2), ("b", 1), ("c", 1)]));
}

#[test]
fn serving_starts_after_the_previous_claims_last_webhook_and_wraps() {
    let due = ids(&["a", "b", "c"]);
    let mut b = budget(2, 100, &[("a", 10, true), ("b", 10, true), ("c", 10, true)]);
    b.after = Some("b".into());
    assert_eq!(share(&due, &b), shares(&[("c", 1), ("a", 1)]));
    // A cursor past every id starts from the beginning; one between ids starts at the next.
    b.after = Some("z".into());
    assert_eq!(share(&due, &b), shares(&[("a", 1), ("b", 1)]));
    b.after = Some("bb".into());
    assert_eq!(share(&due, &b), shares(&[("c", 1), ("a", 1)]));
}

#[test]
fn a_webhook_gets_no_more_than_it_may_start() {
    let due = ids(&["full", "one", "two"]);
    let plan = share(
        &due,
        &budget(
            100,
            100,
            &[("full", 0, true), ("one", 1, true), ("two", 2, true)],
        ),
    );
    assert_eq!(plan, shares(&[("one", 1), ("two", 2)]));
}

#[test]
fn webhooks_not_known_to_be_prompt_share_only_the_unproven_room() {
    let due = ids(&["new", "prompt", "slow"]);
    let b = budget(10, 3, &[("prompt", 5, true), ("slow", 5, false)]);
    // "new" was never seen: it may start 8, its first out of the reserved slots.
    let plan = share(&due, &b);
    assert_eq!(plan, shares(&[("new", 2), ("prompt", 5), ("slow", 2)]));
    // With the unproven share used up, the prompt webhook is served, and a webhook never seen
    // gets its first attempt, which tells how it answers.
    let b = budget(10, 0, &[("prompt", 5, true), ("slow", 5, false)]);
    assert_eq!(share(&due, &b), shares(&[("new", 1), ("prompt", 5)]));
    assert!(!b.admits("slow") && b.admits("new") && b.admits("prompt"));
}

#[test]
fn a_webhook_with_few_due_deliveries_leaves_the_room_to_others() {
    let due = vec![("a".to_string(), 2), ("b".to_string(), UNKNOWN)];
    let plan = share(&due, &budget(10, 10, &[("a", 8, true), ("b", 8, true)]));
    assert_eq!(plan, shares(&[("a", 2), ("b", 8)]));
}

#[test]
fn nothing_is_shared_without_room_or_due_webhooks() {
    let b = budget(0, 0, &[("a", 5, true)]);
    assert!(share(&ids(&["a"]), &b).is_empty());
    assert!(share(&[], &budget(10, 10, &[])).is_empty());
}

fn candidate(seq: i64, webhook: &str, event: &str, bytes: u64) -> Candidate {
    Candidate {
        seq,
        webhook_id: webhook.into(),
        event_id: event.into(),
        payload_bytes: bytes,
    }
}

fn seqs(picked: &[Candidate]) -> Vec<i64> {
    picked.iter().map(|c| c.seq).collect()
}

#[test]
fn candidates_are_interleaved_one_per_webhook_per_round() {
    let a = vec![
        candidate(1, "a", "e1", 10),
        candidate(2, "a", "e2", 10),
        candidate(3, "a", "e3", 10),
    ];
    let b = vec![candidate(7, "b", "e7", 10)];
    let c = vec![candidate(4, "c", "e4", 10), candidate(5, "c", "e5", 10)];
    assert_eq!(
        seqs(&interleave_within(vec![a, b, c], u64::MAX)),
        [1, 7, 4, 2, 5, 3]
    );
}

#[test]
fn the_byte_cap_counts_each_event_once_and_always_lets_one_through() {
    // One 930 KB event owed to four webhooks costs its bytes once.
    let fan_out: Vec<Vec<Candidate>> = ["a", "b", "c", "d"]
        .iter()
        .enumerate()
        .map(|(i, w)| {
            vec![
                candidate(i as i64, w, "big", 930_000),
                candidate(10 + i as i64, w, "big2", 930_000),
            ]
        })
        .collect();
    assert_eq!(
        seqs(&interleave_within(fan_out.clone(), 1_000_000)),
        [0, 1, 2, 3]
    );
    assert_eq!(interleave_within(fan_out, 2_000_000).len(), 8);
    // An event larger than the cap still goes out, alone.
    let huge = vec![vec![
        candidate(1, "a", "e1", 5_000_000),
        candidate(2, "a", "e2", 10),
    ]];
    assert_eq!(seqs(&interleave_within(huge, 1_000_000)), [1]);
}
