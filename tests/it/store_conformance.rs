//! One conformance suite for every Store backend: SQLite always, PostgreSQL when
//! `SPEAKNODE_TEST_DATABASE_URL` is set (CI sets it). Each test gets its own database.

#![allow(clippy::unwrap_used)]

use crate::conformance;

use conformance::events_log::*;
use conformance::fairness::*;
use conformance::operational::*;
use conformance::options::*;
use conformance::queue::*;
use conformance::stats::*;
use conformance::tenancy::*;

/// Runs each scenario against SQLite and, when configured, PostgreSQL.
macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let dir = tempfile::tempdir().unwrap();
                    let url = format!("sqlite://{}", dir.path().join("store.db").display());
                    let store = speaknode_webhooks::store::sqlite::SqliteStore::open(&url).await.unwrap();
                    super::$scenario(std::sync::Arc::new(store)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let Some(db) = crate::common::pg::PgDb::create().await else {
                        return;
                    };
                    let store = speaknode_webhooks::store::postgres::PgStore::open(&db.url, 8).await.unwrap();
                    super::$scenario(std::sync::Arc::new(store)).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}

conformance!(
    an_api_key_finds_its_workspace_and_cannot_be_taken_by_another,
    a_workspace_never_sees_another_workspaces_webhooks,
    lists_page_newest_first_without_gaps,
    patching_changes_only_what_it_names_and_disabling_holds_deliveries,
    an_event_fans_out_to_enabled_subscribers_with_its_exact_payload,
    an_idempotency_key_replays_within_its_window_and_refuses_another_body,
    a_claim_leases_due_deliveries_until_the_lease_runs_out,
    an_events_trace_context_reaches_every_claim_of_it,
    concurrent_claims_never_share_a_delivery,
    a_claim_skips_webhooks_at_their_limit_and_a_release_gives_back,
    a_small_backlog_never_fills_a_claim,
    a_backlog_larger_than_the_first_look_never_fills_a_claim,
    claims_serve_webhooks_in_turn_starting_after_the_last_one_served,
    slow_webhooks_get_only_the_unproven_share,
    a_claim_stops_at_the_byte_cap_counting_each_event_once,
    recorded_attempts_follow_the_next_step_and_form_the_history,
    a_410_disables_the_webhook_as_gone_and_holds_its_deliveries,
    deleting_a_webhook_cancels_its_deliveries_and_removes_its_history,
    a_test_delivery_is_neither_listed_nor_queued,
    a_session_lives_until_it_expires_or_is_ended,
    a_portal_link_opens_once_before_it_expires,
    the_events_log_filters_by_time_state_webhook_and_data,
    a_filtered_page_reads_a_bounded_number_of_events_and_goes_on_from_there,
    a_time_window_is_exact_when_recording_order_and_time_disagree,
    attempts_are_tallied_by_minute_hour_and_outcome,
    a_rotated_secret_signs_first_and_the_old_one_until_it_expires,
    pending_deliveries_are_counted_up_to_a_cap,
    failing_without_a_success_for_too_long_disables_the_webhook,
    a_webhooks_last_attempt_follows_changes_and_is_refreshed_every_second,
    pruning_removes_old_finished_events_and_keeps_pending_work,
    delivery_options_are_stored_and_patched_field_by_field,
    a_filter_is_applied_at_ingest_on_nested_paths_numbers_and_booleans,
    a_claim_carries_the_headers_the_timeout_and_the_schedule_the_delivery_was_made_with,
    a_rate_limited_webhook_gets_its_share_per_second_and_others_are_not_held_up,
    an_ordered_webhook_offers_one_delivery_at_a_time_in_accept_order,
    a_replay_sends_past_events_once_within_its_window_types_and_filter,
    a_webhook_the_service_disables_is_announced_to_the_others_never_to_itself,
    failing_too_long_is_announced_with_the_reason_failing,
    an_exhausted_delivery_is_announced_once_with_its_last_outcome,
    a_late_attempt_does_not_announce_what_the_lease_holder_decides,
);
