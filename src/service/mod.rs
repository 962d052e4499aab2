//! The use cases both adapters offer (the JSON API in `http`, the pages in `dashboard`), over
//! the store: create, change and delete a webhook, rotate its secret, send it a test event,
//! retry, recover and replay deliveries, emit an event, sign in. A rule exists here once, so the
//! two adapters cannot drift apart; each maps [`ServiceError`] to its own answer (a JSON error
//! body, or the form with the error beside its field) and never reads another layer's text.
//!
//! Reads that only show what is stored (lists, one webhook, the Request History) go straight to
//! the store's reader roles: there is no rule in them to share.

mod deliveries;
mod error;
pub mod event_types;
mod events;
mod sessions;
mod stats;
mod throttle;
pub mod webhooks;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::delivery::Deliverer;
use crate::domain::clock::Clock;
use crate::domain::event_type::Registry;
use crate::store::Store;

pub use error::{ServiceError, Trouble};
pub use events::Emit;
pub use sessions::{PortalLink, SESSION_TTL_MS, SessionToken, TOKEN_CHARS};
pub use stats::StatsQuery;
pub use throttle::LoginThrottle;
pub use webhooks::{Created, Purpose};

/// What the use cases work with; cloned into each adapter's state (every field is shared).
#[derive(Clone)]
pub struct Service {
    pub store: Arc<dyn Store>,
    /// The event types, compiled; kept current across processes by [`event_types`].
    pub registry: Arc<Registry>,
    pub clock: Arc<dyn Clock>,
    /// Makes a test send's one attempt, as the workers make theirs.
    pub deliverer: Arc<Deliverer>,
    /// Wakes the local worker when deliveries become due (new, requeued, or held no longer).
    pub wake: Arc<Notify>,
    /// `SPEAKNODE_ALLOW_PRIVATE_TARGETS`.
    pub allow_private_targets: bool,
    /// `SPEAKNODE_LOGIN_ATTEMPTS`: failed sign-ins per client address.
    pub login_throttle: Arc<LoginThrottle>,
    /// Where portal links point and how long they last.
    pub portal_links: PortalLinks,
}

/// What a portal link is made of besides its token.
#[derive(Clone)]
pub struct PortalLinks {
    /// `SPEAKNODE_PUBLIC_URL` (or the bound address), without a trailing slash.
    pub public_url: String,
    /// `SPEAKNODE_PORTAL_LINK_TTL`.
    pub ttl: std::time::Duration,
}

impl Service {
    /// Deliveries are due now: the local worker looks at once rather than at its next poll
    /// (other processes find them at theirs).
    fn due_now(&self) {
        self.wake.notify_one();
    }
}
