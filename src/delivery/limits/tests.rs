use super::*;
use crate::domain::fair_share::Allowance;

const SETTINGS: LimitSettings = LimitSettings {
    max_in_flight: 100,
    prompt_reserve: 25,
    max_per_webhook: 32,
    initial_per_webhook: 8,
    slow_after: 1000,
};

fn ok() -> Outcome {
    Outcome::Responded {
        status: 200,
        body: String::new(),
        truncated: false,
        retry_after: None,
    }
}

fn status(code: u16) -> Outcome {
    Outcome::Responded {
        status: code,
        body: String::new(),
        truncated: false,
        retry_after: None,
    }
}

/// Runs `n` attempts of `webhook` that each start at `at` and end `took` ms later.
fn attempts(
    limits: &mut Limits,
    webhook: &str,
    n: usize,
    at: Millis,
    took: Millis,
    answer: Answer,
) {
    for _ in 0..n {
        limits.start(webhook, at, false, false);
    }
    for _ in 0..n {
        limits.finish(webhook, at, at + took, Some(answer));
    }
}

#[test]
fn answers_are_classified_by_status_and_failures_are_trouble() {
    use crate::domain::attempt::FailureKind;
    assert_eq!(Answer::of(&ok()), Answer::Answered);
    assert_eq!(Answer::of(&status(404)), Answer::Answered);
    assert_eq!(Answer::of(&status(410)), Answer::Answered);
    assert_eq!(Answer::of(&status(429)), Answer::Trouble);
    assert_eq!(Answer::of(&status(503)), Answer::Trouble);
    assert_eq!(
        Answer::of(&Outcome::Failed(FailureKind::Timeout)),
        Answer::Trouble
    );
    assert_eq!(
        Answer::of(&Outcome::Failed(FailureKind::ConnectionError)),
        Answer::Trouble
    );
}

#[test]
fn a_webhook_starts_at_its_initial_limit_and_grows_by_one_per_answer_up_to_the_ceiling() {
    let mut limits = Limits::new(SETTINGS);
    assert_eq!(limits.limit_of("wh"), 8);
    attempts(&mut limits, "wh", 5, 0, 20, Answer::Answered);
    assert_eq!(limits.limit_of("wh"), 13);
    attempts(&mut limits, "wh", 100, 100, 20, Answer::Answered);
    assert_eq!(limits.limit_of("wh"), 32);
}

#[test]
fn trouble_halves_the_limit_once_per_episode_down_to_one() {
    let mut limits = Limits::new(SETTINGS);
    // Eight attempts started together all time out: one halving, not eight.
    attempts(&mut limits, "wh", 8, 0, 5000, Answer::Trouble);
    assert_eq!(limits.limit_of("wh"), 4);
    // The next episode (attempts started after the halving) halves again.
    attempts(&mut limits, "wh", 4, 5001, 5000, Answer::Trouble);
    assert_eq!(limits.limit_of("wh"), 2);
    attempts(&mut limits, "wh", 2, 10_002, 5000, Answer::Trouble);
    attempts(&mut limits, "wh", 1, 15_003, 5000, Answer::Trouble);
    attempts(&mut limits, "wh", 1, 20_004, 5000, Answer::Trouble);
    assert_eq!(
        limits.limit_of("wh"),
        1,
        "never below one: a broken endpoint is still retried"
    );
}

#[test]
fn a_steadily_slow_endpoint_keeps_its_concurrency_but_one_slowing_down_is_halved() {
    let mut limits = Limits::new(SETTINGS);
    // Always 3 s: slow, but that is how it answers; its limit still grows.
    attempts(&mut limits, "steady", 8, 0, 3000, Answer::Answered);
    attempts(&mut limits, "steady", 8, 3000, 3000, Answer::Answered);
    assert_eq!(limits.limit_of("steady"), 24);
    // Usually 20 ms, now 3 s: overloaded, back off.
    attempts(&mut limits, "slowing", 8, 0, 20, Answer::Answered);
    assert_eq!(limits.limit_of("slowing"), 16);
    attempts(&mut limits, "slowing", 4, 100, 3000, Answer::Answered);
    assert_eq!(limits.limit_of("slowing"), 8);
}

#[test]
fn only_webhooks_that_answered_promptly_may_use_the_reserved_slots() {
    let mut limits = Limits::new(SETTINGS);
    attempts(&mut limits, "prompt", 1, 0, 10, Answer::Answered);
    attempts(&mut limits, "slow", 1, 0, 3000, Answer::Answered);
    attempts(&mut limits, "failing", 1, 0, 10, Answer::Trouble);
    let budget = limits.budget(5000, 1000);
    assert_eq!(
        budget.webhooks["prompt"],
        Allowance::prompt(27),
        "three windows of 9"
    );
    assert_eq!(budget.webhooks["slow"], Allowance::unproven(9));
    assert_eq!(budget.webhooks["failing"], Allowance::unproven(4));
    assert_eq!(
        budget.unseen,
        Allowance {
            free: 8,
            reserved: 1
        }
    );
    assert!(!budget.webhooks.contains_key("never-seen"));
    assert_eq!(budget.room, 100);
    assert_eq!(budget.unproven_room, 75);
}

#[test]
fn hanging_attempts_fill_only_the_unproven_share() {
    let mut limits = Limits::new(SETTINGS);
    attempts(&mut limits, "prompt", 1, 0, 10, Answer::Answered);
    // Ten webhooks never seen before each start eight attempts that hang.
    for i in 0..10 {
        for _ in 0..8 {
            limits.start(&format!("hang{i}"), 100, false, false);
        }
    }
    let budget = limits.budget(200, 1000);
    assert_eq!(budget.room, 20);
    assert_eq!(
        budget.unproven_room, 0,
        "80 in flight is past the 75 they may hold"
    );
    assert!(budget.admits("prompt") && !budget.admits("hang0"));
    assert!(
        budget.admits("new"),
        "a webhook never seen still gets its first attempt"
    );
}

#[test]
fn a_prompt_webhook_whose_attempt_runs_long_stops_being_prompt_while_it_runs() {
    let mut limits = Limits::new(SETTINGS);
    attempts(&mut limits, "wh", 1, 0, 10, Answer::Answered);
    limits.start("wh", 100, false, false);
    assert_eq!(
        limits.budget(900, 100).webhooks["wh"],
        Allowance::prompt(26)
    );
    let budget = limits.budget(1200, 100);
    assert_eq!(budget.webhooks["wh"], Allowance::unproven(8));
    assert_eq!(
        budget.unproven_room, 74,
        "its attempt now counts against the unproven share"
    );
}

#[test]
fn retries_count_against_the_unproven_share_even_for_a_prompt_webhook() {
    let mut limits = Limits::new(SETTINGS);
    attempts(&mut limits, "wh", 1, 0, 10, Answer::Answered);
    limits.start("wh", 20, true, false);
    limits.start("wh", 20, false, false);
    let budget = limits.budget(30, 100);
    assert_eq!(budget.room, 98);
    assert_eq!(budget.unproven_room, 74);
    assert_eq!(budget.webhooks["wh"].free, 3 * 9 - 2);
}

#[test]
fn the_budget_never_offers_more_than_one_batch() {
    let mut limits = Limits::new(SETTINGS);
    assert_eq!(limits.budget(0, 16).room, 16);
    assert_eq!(limits.budget(0, 16).unproven_room, 16);
}

#[test]
fn idle_webhooks_are_forgotten_and_busy_ones_are_not() {
    let mut limits = Limits::new(SETTINGS);
    attempts(&mut limits, "idle", 1, 0, 10, Answer::Answered);
    limits.start("busy", 0, false, false);
    limits.budget(FORGET_AFTER + 20_000, 10);
    assert_eq!(limits.limits().count(), 1);
    assert_eq!(limits.limit_of("idle"), 8, "back to the starting limit");
    assert_eq!(limits.in_flight(), 1);
}

#[test]
fn a_prompt_webhook_at_its_limit_is_claimed_ahead_in_batches_and_a_slow_one_is_not() {
    let mut limits = Limits::new(SETTINGS);
    attempts(&mut limits, "prompt", 2, 0, 10, Answer::Answered); // limit 10
    attempts(&mut limits, "slow", 2, 0, 3000, Answer::Answered); // limit 10, slow
    for _ in 0..10 {
        limits.start("prompt", 4000, false, false);
        limits.start("slow", 4000, false, false);
    }
    assert!(!limits.has_slot("prompt") && !limits.has_slot("slow") && limits.has_slot("new"));
    let budget = limits.budget(4001, 1000);
    assert_eq!(
        budget.webhooks["prompt"],
        Allowance::prompt(20),
        "two windows ahead"
    );
    assert_eq!(budget.webhooks["slow"], Allowance::unproven(0));
    for _ in 0..20 {
        limits.wait("prompt", 4001);
    }
    assert_eq!(limits.budget(4001, 1000).webhooks["prompt"].free, 0);
    // Not asked again until no more than one window waits: 20 waiting > a limit of 10.
    assert_eq!(
        limits.free_slots(),
        100 - 10 - 10 - 20,
        "in flight and waiting count"
    );
    for _ in 0..10 {
        limits.finish("prompt", 4000, 4010, Some(Answer::Answered));
    }
    // Limit 20 now, nothing in flight, 20 waiting: up to 60 in all, 40 more.
    assert_eq!(
        limits.budget(4010, 1000).webhooks["prompt"],
        Allowance::prompt(40)
    );
    limits.start("prompt", 4011, false, true);
    limits.give_back("prompt");
    assert_eq!(limits.free_slots(), 100 - 10 - 1 - 18);
}
