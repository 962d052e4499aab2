//! What a use case answers when it cannot do what was asked, in the service's terms; each
//! adapter turns it into its own answer (the API's JSON error, the dashboard's page).

use std::time::Duration;

use crate::domain::Invalid;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The workspace has no such resource (another workspace's ids included).
    #[error("no such {0} in this workspace")]
    NotFound(&'static str),
    /// A value was refused, with the field at fault.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Every field at fault, in the order a form shows them (never empty). The API answers
    /// the first; a form shows each beside its field.
    #[error("{} fields were refused", .0.len())]
    Rejected(Vec<Invalid>),
    /// Not what the input must be at all (e.g. an event's `data` that is not a JSON object):
    /// the API's 400 rather than 422.
    #[error("{0}")]
    Malformed(Invalid),
    /// The request contradicts something already stored (an idempotency key used with
    /// another body).
    #[error("{0}")]
    Conflict(Invalid),
    /// Something the operator must fix first (the sentence says what).
    #[error("{0}")]
    Unavailable(&'static str),
    /// Too many failed sign-ins from this address; the credential was not looked at.
    #[error("too many failed sign-ins; try again in {0:?}")]
    Throttled(Duration),
    /// A credential (API key, link) that opens nothing.
    #[error("the credential is not valid")]
    Refused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a store failure means to whoever asked, in words both adapters show; classifying it
/// logs it (with its causes), so each failure is logged once.
#[derive(Debug)]
pub enum Trouble {
    /// The database does not answer; nothing changed.
    Unavailable,
    /// The request contradicts what is stored (the message says how).
    Conflict(String),
    /// A bug or corrupt data: the details are in the log only.
    Internal,
}

impl Trouble {
    pub fn of(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { message, .. } => Self::Conflict(message),
            StoreError::Unavailable { .. } => {
                tracing::warn!(error = %error.chain(), "database unavailable");
                Self::Unavailable
            }
            StoreError::Internal { .. } => {
                tracing::error!(error = %error.chain(), "store error");
                Self::Internal
            }
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Self::Unavailable => {
                "The database is unavailable; nothing was changed. Try again shortly."
            }
            Self::Conflict(message) => message,
            Self::Internal => "Something went wrong on our side.",
        }
    }
}
