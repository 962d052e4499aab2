//! Why a delivery was refused. Each variant names one thing a receiver can act on: a header to
//! look for, a secret to fix, a clock to check, or a request to drop.

use std::fmt;

/// Why verification failed.
///
/// Answer a `4xx` for every variant except [`VerifyError::BadSecret`], which means your own
/// configuration is wrong (a `5xx` makes SpeakNode retry once you have fixed it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// A header the check needs is absent or not readable as text (its lowercase name).
    MissingHeader(&'static str),
    /// The request carries neither `X-SpeakNode-Signature` nor `webhook-signature`.
    NoSignatureHeader,
    /// The secret is empty, or its part after `whsec_` is not base64.
    BadSecret,
    /// `webhook-timestamp` is not a whole number of seconds since the Unix epoch.
    BadTimestamp,
    /// `webhook-timestamp` is further from now than the tolerance: a replay, or a wrong clock.
    TimestampOutOfTolerance {
        /// The timestamp the request carried (Unix seconds).
        timestamp: i64,
        /// The verifier's clock when it checked (Unix seconds).
        now: i64,
    },
    /// No signature in this header (its lowercase name) matches the body and the secret.
    NoMatchingSignature(&'static str),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingHeader(name) => write!(f, "the {} header is missing", shown(name)),
            Self::NoSignatureHeader => {
                f.write_str("no signature header (X-SpeakNode-Signature or webhook-signature)")
            }
            Self::BadSecret => {
                f.write_str("the secret is not a SpeakNode secret (whsec_ followed by base64)")
            }
            Self::BadTimestamp => f.write_str("webhook-timestamp is not a Unix time in seconds"),
            Self::TimestampOutOfTolerance { timestamp, now } => write!(
                f,
                "webhook-timestamp {timestamp} is {}s away from now ({now}), beyond the tolerance",
                timestamp.abs_diff(*now)
            ),
            Self::NoMatchingSignature(name) => {
                write!(f, "{} does not match the body and the secret", shown(name))
            }
        }
    }
}

impl std::error::Error for VerifyError {}

/// Header names as the docs spell them, so messages match what people search.
fn shown(name: &str) -> &str {
    match name {
        "x-speaknode-signature" => "X-SpeakNode-Signature",
        other => other,
    }
}
