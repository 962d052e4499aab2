//! What a call can fail with. A refusal keeps the contract's error body (`code`, `message`,
//! `field`) with its status; a failed emit also hands back the Idempotency-Key it used, so the
//! caller can try again later without creating a second event.

use std::time::Duration;

use serde::Deserialize;

/// The contract's `{"error": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    /// The detail.
    pub error: ErrorDetail,
}

/// One error, as every API refusal describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorDetail {
    /// `bad_request`, `unauthorized`, `not_found`, `conflict`, `validation_failed`, …
    pub code: String,
    /// A human sentence.
    pub message: String,
    /// The dotted path of the field at fault (`data.transcript[0].role`), when one is.
    #[serde(default)]
    pub field: Option<String>,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered an error status.
    #[error("{status} {}: {}", detail.code, detail.message)]
    Api {
        /// The HTTP status.
        status: u16,
        /// The contract's error body (code `http_error` when a proxy answered without one).
        detail: ErrorDetail,
        /// `Retry-After`, on 429 and 503.
        retry_after: Option<Duration>,
        /// The key an emit used; `None` for other calls.
        idempotency_key: Option<String>,
    },
    /// No answer: the connection failed or broke, or the request timed out. An emit may have
    /// been stored; emitting again with `idempotency_key` cannot double it.
    #[error("no answer from the service: {source}")]
    Connection {
        /// What reqwest said.
        #[source]
        source: reqwest::Error,
        /// The key an emit used; `None` for other calls.
        idempotency_key: Option<String>,
    },
    /// A success whose body is not what the route answers (a different service, or a proxy).
    #[error("the answer could not be read: {0}")]
    Decode(#[source] reqwest::Error),
    /// The base URL given to `SpeakNode::new` is not a URL.
    #[error("bad base URL {0}")]
    BadUrl(String),
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

impl Error {
    /// The Idempotency-Key of a failed emit.
    pub fn idempotency_key(&self) -> Option<&str> {
        match self {
            Self::Api {
                idempotency_key, ..
            }
            | Self::Connection {
                idempotency_key, ..
            } => idempotency_key.as_deref(),
            _ => None,
        }
    }

    /// The contract's error detail, when the API refused.
    pub fn detail(&self) -> Option<&ErrorDetail> {
        match self {
            Self::Api { detail, .. } => Some(detail),
            _ => None,
        }
    }

    pub(crate) fn with_key(mut self, key: &str) -> Self {
        if let Self::Api {
            idempotency_key, ..
        }
        | Self::Connection {
            idempotency_key, ..
        } = &mut self
        {
            *idempotency_key = Some(key.to_string());
        }
        self
    }
}
