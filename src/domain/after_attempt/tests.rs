//! Known answers for every branch of [`plan`] and of the plan's in-transaction answers.

use std::sync::LazyLock;

use super::*;

const STARTED: Millis = 1_800_000_000_000;
const ENDED: Millis = STARTED + 120;
const DAY: Millis = 86_400_000;

fn responded(status: u16) -> Outcome {
    Outcome::Responded {
        status,
        body: String::new(),
        truncated: false,
        retry_after: None,
    }
}

fn retry_after(status: u16, secs: u64) -> Outcome {
    Outcome::Responded {
        status,
        body: String::new(),
        truncated: false,
        retry_after: Some(Duration::from_secs(secs)),
    }
}

/// The plan for `outcome` of a delivery's first automatic attempt, on the default schedule
/// (5s, 5m, 30m, 2h, 5h, 10h, 10h), with `SPEAKNODE_DISABLE_AFTER` one day.
fn plan_of<'a>(outcome: &'a Outcome, change: impl FnOnce(&mut Facts<'a>)) -> Plan {
    static DEFAULT: LazyLock<RetrySchedule> = LazyLock::new(RetrySchedule::default);
    let mut facts = Facts {
        outcome,
        trigger: Trigger::Scheduled,
        attempts: 0,
        event_type: "SessionStarted",
        own_schedule: None,
        default_schedule: &DEFAULT,
        started_at: STARTED,
        ended_at: ENDED,
        disable_after: Duration::from_millis(DAY as u64),
    };
    change(&mut facts);
    plan(&facts)
}

fn failed(status: u16) -> Health {
    Health {
        succeeded: false,
        status: Some(status),
        error: None,
        at: STARTED,
    }
}

#[test]
fn a_success_ends_the_delivery_and_never_disables() {
    let plan = plan_of(&responded(204), |_| {});
    assert_eq!(
        plan,
        Plan {
            next: NextStep::Succeeded,
            health: Health {
                succeeded: true,
                ..failed(204)
            },
            disable: Disable::Never,
            exhausts: false,
        }
    );
    assert_eq!(plan.disable_reason(Some(0)), None, "even failing for ages");
    assert!(!plan.may_emit());
}

#[test]
fn a_410_ends_the_delivery_and_disables_the_webhook_as_gone() {
    let plan = plan_of(&responded(410), |_| {});
    assert_eq!(
        plan,
        Plan {
            next: NextStep::Failed,
            health: failed(410),
            disable: Disable::Now(DisabledReason::Gone),
            exhausts: true,
        }
    );
    assert_eq!(plan.disable_reason(None), Some(DisabledReason::Gone));
    // Even on a retry with schedule left, or on a webhook's own schedule.
    let own = RetrySchedule::parse("1m").expect("valid");
    let retried = plan_of(&responded(410), |f| {
        f.trigger = Trigger::Retry;
        f.attempts = 1;
        f.own_schedule = Some(&own);
    });
    assert_eq!(retried.next, NextStep::Failed);
}

#[test]
fn a_test_send_gets_one_attempt_and_is_never_given_up() {
    let plan = plan_of(&responded(500), |f| f.trigger = Trigger::Test);
    assert_eq!(
        plan,
        Plan {
            next: NextStep::Failed,
            health: failed(500),
            disable: Disable::IfFailingSince(STARTED - DAY),
            exhausts: false,
        }
    );
    let ok = plan_of(&responded(200), |f| f.trigger = Trigger::Test);
    assert_eq!(ok.next, NextStep::Succeeded);
}

#[test]
fn failures_retry_on_the_default_schedule_after_the_attempt_ends() {
    let timeout = Outcome::Failed(FailureKind::Timeout);
    let first = plan_of(&timeout, |_| {});
    assert_eq!(
        first,
        Plan {
            next: NextStep::RetryAt(ENDED + 5_000),
            health: Health {
                succeeded: false,
                status: None,
                error: Some(FailureKind::Timeout),
                at: STARTED,
            },
            disable: Disable::IfFailingSince(STARTED - DAY),
            exhausts: false,
        }
    );
    let second = plan_of(&responded(500), |f| {
        f.trigger = Trigger::Retry;
        f.attempts = 1;
    });
    assert_eq!(second.next, NextStep::RetryAt(ENDED + 300_000));
    let last_retry = plan_of(&responded(500), |f| {
        f.trigger = Trigger::Retry;
        f.attempts = 6;
    });
    assert_eq!(last_retry.next, NextStep::RetryAt(ENDED + 36_000_000));
}

#[test]
fn the_schedules_end_gives_the_delivery_up() {
    let plan = plan_of(&responded(500), |f| {
        f.trigger = Trigger::Retry;
        f.attempts = 7;
    });
    assert_eq!((plan.next, plan.exhausts), (NextStep::Failed, true));
    assert!(plan.exhausted(true));
    assert!(
        !plan.exhausted(false),
        "a late attempt: the lease holder decides"
    );
    assert!(plan.may_emit());
}

#[test]
fn a_webhooks_own_schedule_replaces_the_default() {
    let own = RetrySchedule::parse("1m").expect("valid");
    let first = plan_of(&responded(500), |f| f.own_schedule = Some(&own));
    assert_eq!(first.next, NextStep::RetryAt(ENDED + 60_000));
    let second = plan_of(&responded(500), |f| {
        f.own_schedule = Some(&own);
        f.trigger = Trigger::Retry;
        f.attempts = 1;
    });
    assert_eq!(
        (second.next, second.exhausts),
        (NextStep::Failed, true),
        "although the default has retries left"
    );
    let none = RetrySchedule::parse("").expect("valid");
    let no_retries = plan_of(&responded(500), |f| f.own_schedule = Some(&none));
    assert_eq!(no_retries.next, NextStep::Failed);
}

#[test]
fn retry_after_is_honoured_only_when_later_than_the_schedule() {
    let later = plan_of(&retry_after(503, 600), |_| {});
    assert_eq!(later.next, NextStep::RetryAt(ENDED + 600_000));
    let sooner = plan_of(&retry_after(429, 1), |_| {});
    assert_eq!(sooner.next, NextStep::RetryAt(ENDED + 5_000));
    let exhausted = plan_of(&retry_after(503, 600), |f| {
        f.trigger = Trigger::Retry;
        f.attempts = 7;
    });
    assert_eq!(exhausted.next, NextStep::Failed, "no attempt is added");
}

#[test]
fn a_manual_retry_or_test_send_that_fails_is_not_given_up() {
    for trigger in [Trigger::Manual, Trigger::Test] {
        let plan = plan_of(&responded(500), |f| {
            f.trigger = trigger;
            f.attempts = 8;
        });
        assert_eq!(plan.next, NextStep::Failed, "{trigger:?}");
        assert!(!plan.exhausts, "{trigger:?}");
        assert!(!plan.exhausted(true), "{trigger:?}");
    }
    let first = plan_of(&responded(500), |f| f.attempts = 7);
    assert!(first.exhausts, "a scheduled attempt is automatic");
}

#[test]
fn an_operational_events_delivery_giving_up_is_not_announced() {
    for event_type in ["DeliveryExhausted", "WebhookDisabled"] {
        let plan = plan_of(&responded(500), |f| {
            f.event_type = event_type;
            f.trigger = Trigger::Retry;
            f.attempts = 7;
        });
        assert_eq!((plan.next, plan.exhausts), (NextStep::Failed, false));
        let gone = plan_of(&responded(410), |f| f.event_type = event_type);
        assert!(!gone.exhausts, "{event_type}");
        assert!(gone.may_emit(), "the webhook is still disabled");
    }
}

#[test]
fn failing_since_the_cutoff_or_earlier_disables_later_does_not() {
    let plan = plan_of(&responded(500), |_| {});
    let cutoff = STARTED - DAY;
    assert_eq!(plan.disable, Disable::IfFailingSince(cutoff));
    assert!(plan.disable.needs_failing_since());
    assert_eq!(
        plan.disable_reason(Some(cutoff)),
        Some(DisabledReason::Failing)
    );
    assert_eq!(
        plan.disable_reason(Some(cutoff - 1)),
        Some(DisabledReason::Failing)
    );
    assert_eq!(plan.disable_reason(Some(cutoff + 1)), None);
    assert_eq!(plan.disable_reason(None), None, "not failing");
    assert!(plan.may_emit(), "it may disable");
    assert!(!Disable::Now(DisabledReason::Gone).needs_failing_since());
    assert!(!Disable::Never.needs_failing_since());
}

#[test]
fn each_next_step_is_a_state_and_a_due_time() {
    assert_eq!(
        NextStep::Succeeded.state(),
        (DeliveryState::Succeeded, None)
    );
    assert_eq!(NextStep::Failed.state(), (DeliveryState::Failed, None));
    assert_eq!(
        NextStep::RetryAt(ENDED).state(),
        (DeliveryState::Pending, Some(ENDED))
    );
}
