//! Deliveries and their attempts: states, triggers and outcomes. Remote failures are data here,
//! never errors: a receiver that times out is an ordinary, recorded result.

use std::time::Duration;

/// Where a Delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Succeeded,
    Failed,
    Cancelled,
}

impl DeliveryState {
    /// Every state, for the API's description of the field.
    pub const ALL: [Self; 4] = [
        Self::Pending,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

/// What caused an Attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The first attempt of a delivery.
    Scheduled,
    /// A later attempt on the retry schedule.
    Retry,
    /// Asked for by a user (retry button or API).
    Manual,
    /// A test send.
    Test,
}

impl Trigger {
    /// Every trigger, for the API's description of the field.
    pub const ALL: [Self; 4] = [Self::Scheduled, Self::Retry, Self::Manual, Self::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Retry => "retry",
            Self::Manual => "manual",
            Self::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "scheduled" => Some(Self::Scheduled),
            "retry" => Some(Self::Retry),
            "manual" => Some(Self::Manual),
            "test" => Some(Self::Test),
            _ => None,
        }
    }
}

/// Why no HTTP response came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Timeout,
    ConnectionError,
    DnsError,
    TlsError,
    BlockedAddress,
}

impl FailureKind {
    /// Every kind, for the API's description of an attempt's `error`.
    pub const ALL: [Self; 5] = [
        Self::Timeout,
        Self::ConnectionError,
        Self::DnsError,
        Self::TlsError,
        Self::BlockedAddress,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::ConnectionError => "connection_error",
            Self::DnsError => "dns_error",
            Self::TlsError => "tls_error",
            Self::BlockedAddress => "blocked_address",
        }
    }
}

/// The result of one HTTP request to a receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered (any status).
    Responded {
        status: u16,
        body: String,
        truncated: bool,
        /// `Retry-After` sent with a 429 or 503.
        retry_after: Option<Duration>,
    },
    /// No response.
    Failed(FailureKind),
}

impl Outcome {
    /// Success is any 2xx; redirects are failures because they are not followed.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Responded { status, .. } if (200..300).contains(status))
    }

    /// 410 Gone: the receiver says this endpoint no longer exists.
    pub fn is_gone(&self) -> bool {
        matches!(self, Self::Responded { status: 410, .. })
    }

    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Responded { status, .. } => Some(*status),
            Self::Failed(_) => None,
        }
    }

    pub fn error(&self) -> Option<FailureKind> {
        match self {
            Self::Responded { .. } => None,
            Self::Failed(kind) => Some(*kind),
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Responded { retry_after, .. } => *retry_after,
            Self::Failed(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn responded(status: u16) -> Outcome {
        Outcome::Responded {
            status,
            body: String::new(),
            truncated: false,
            retry_after: None,
        }
    }

    #[test]
    fn only_2xx_is_success() {
        assert!(responded(200).is_success());
        assert!(responded(204).is_success());
        assert!(!responded(301).is_success());
        assert!(!responded(500).is_success());
        assert!(!Outcome::Failed(FailureKind::Timeout).is_success());
    }

    #[test]
    fn names_round_trip() {
        for state in [
            DeliveryState::Pending,
            DeliveryState::Succeeded,
            DeliveryState::Failed,
            DeliveryState::Cancelled,
        ] {
            assert_eq!(DeliveryState::parse(state.as_str()), Some(state));
        }
        for trigger in [
            Trigger::Scheduled,
            Trigger::Retry,
            Trigger::Manual,
            Trigger::Test,
        ] {
            assert_eq!(Trigger::parse(trigger.as_str()), Some(trigger));
        }
    }
}
