//! The scenarios every Store backend must pass; `tests/it/store_conformance.rs` runs each on every backend.

pub mod events_log;
pub mod fairness;
pub mod fixtures;
pub mod operational;
pub mod options;
pub mod queue;
pub mod stats;
pub mod tenancy;
