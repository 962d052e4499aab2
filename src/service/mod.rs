//! The use cases both adapters offer (the JSON API in `http`, the pages in `dashboard`), over
//! the store, so a rule exists once and the two cannot drift apart. Adapters map what these
//! return to their own answers.

mod error;
pub mod event_types;
pub mod webhooks;

pub use error::ServiceError;
