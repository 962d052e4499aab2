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
//! and record). `service` holds the use cases both adapters offer (create, change and delete a
//! webhook, rotate, test send, retry, recover, replay, emit, sign in, the event types every
//! process keeps current) and the typed errors they answer. `http` (the JSON API) and
//! `dashboard` (the pages) are adapters over `service`, reading the store directly only to show
//! what it holds; neither imports the other, and what both answer alike (page headers,
//! `Retry-After`) is in `web`. `app` wires them together; nothing imports `app`. `cli` and
//! `config` are the edges. `tools` (`verify`, `listen`) serve receivers and check signatures with
//! the `speaknode-verify` crate only.

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
pub mod web;
