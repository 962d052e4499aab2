//! Pure types and rules of SpeakNode Webhooks: no I/O here, so everything that must be exactly
//! right (signatures, the retry schedule, what follows an attempt, address checks,
//! validation) is tested by known answers.

pub mod address;
pub mod after_attempt;
pub mod attempt;
pub mod clock;
pub mod data_search;
pub mod delivery_options;
pub mod envelope;
pub mod event_type;
pub mod fair_share;
pub mod ids;
pub mod operational;
pub mod retry;
pub mod routing;
pub mod sealing;
pub mod signature;
pub mod stats;
pub mod time;
pub mod trace;
pub mod validation;
pub mod webhook;

pub use validation::Invalid;
