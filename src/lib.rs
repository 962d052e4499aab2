//! SpeakNode Webhooks: signed, durable webhook delivery for the SpeakNode voice-agent platform.
//!
//! # Glossary
//! - **Workspace** (`ws_…`): one customer account; everything else belongs to exactly one.
//! - **Webhook** (`wh_…`): a subscription — URL, event types, enabled flag, signing secret.
//! - **Event** (`evt_…`): one occurrence emitted by the platform into a workspace.
//! - **Delivery** (`dlv_…`): one event owed to one webhook, until it succeeds, fails or is cancelled.
//! - **Attempt** (`att_…`): one HTTP request of a delivery; a webhook's attempts are its Request History.
//!
//! # Modules and the dependency rule
//! `domain` (pure rules: signatures, retry schedule, routing, fair shares) ← `store` (durable
//! state behind role traits, also the queue) ← `delivery` (workers that claim fairly, sign, send
//! and record). `service` holds the use cases both adapters offer (so far: the event types every
//! process keeps current). `http` serves the JSON API over `domain` + `store` + `service`;
//! `dashboard` serves the pages over the same, still sharing `http`'s state and its test-send and
//! rotation code (moving those into `service` is issue 20's next step).
//! `app` wires them together; nothing imports `app`. `cli` and `config` are the edges. `tools`
//! (`verify`, `listen`) serve receivers and check signatures with the `speaknode-verify` crate only.

pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod delivery;
pub mod domain;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod service;
pub mod store;
pub mod tools;
