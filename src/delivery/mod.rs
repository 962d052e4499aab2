//! The delivery engine: workers claim due deliveries from the store, sign and send them, and
//! record every attempt. Remote failures are outcomes, never errors.

pub mod attempt;
pub mod limits;
pub mod payloads;
pub mod pruner;
pub mod resolver;
pub mod sender;
pub mod worker;

pub use attempt::Deliverer;
pub use sender::Sender;
pub use worker::Worker;
