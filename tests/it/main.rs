//! Every integration test in one crate, so the library is linked once for all of them (it was
//! 38 binaries, each linking the whole library). Each file is a module; `common` is the harness
//! (the real service on 127.0.0.1:0, a scriptable receiver, PostgreSQL databases per test),
//! `conformance` the suite every store backend passes, `visitor` a browser stand-in for the
//! dashboard, `hostile` the corpus of bad input. Run one file's tests with
//! `cargo test --test it delivery::` (or `scripts/test --test it delivery::`).

#![allow(clippy::unwrap_used)]

mod common;
mod conformance;
mod hostile;
mod visitor;

mod api_errors;
mod api_rate_limit;
mod api_validation;
mod bench;
mod branding;
mod browser;
mod client_vectors;
mod clients;
mod dashboard;
mod dashboard_activity;
mod dashboard_disabled;
mod dashboard_events;
mod dashboard_replay;
mod dashboard_sessions;
mod delivery;
mod delivery_options;
mod docs_page;
mod egress_proxy;
mod events_log;
mod fair_delivery;
mod hostile_input;
mod login_throttle;
mod logs;
mod metrics;
mod openapi;
mod operational_crash;
mod operational_events;
mod pg_upgrade;
mod pgbouncer;
mod portal;
mod process;
mod properties;
mod readme;
mod receiver_examples;
mod receiver_tools;
mod receivers_accept;
mod reliability;
mod replay_backlog;
mod restricted_shared;
mod retention;
mod scale_out;
mod secret_rotation;
mod shared_restart;
mod sqlite_upgrade;
mod stats;
mod store_conformance;
mod traceparent;
mod verify_crate;
mod worker_only;
