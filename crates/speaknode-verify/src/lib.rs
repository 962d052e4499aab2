//! Verify the signatures SpeakNode Webhooks puts on every delivery, in your own receiver.
//!
//! Every delivery carries two independent signatures of the raw request body; check either or
//! both:
//!
//! - `X-SpeakNode-Signature`: the lowercase hex HMAC-SHA256 of the body, keyed with the UTF-8 bytes
//!   of the whole secret (`whsec_…` included). It covers the body only, so it cannot tell a replay.
//! - [Standard Webhooks](https://www.standardwebhooks.com/) (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature`): base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed with the base64
//!   decoded part of the secret after `whsec_`. The timestamp must be within a tolerance of now
//!   (5 minutes unless you say otherwise), which stops replays of old requests. While a secret is
//!   being rotated the header lists one `v1,…` signature per valid secret; one match is enough.
//!
//! Comparisons are constant-time. The crate depends only on `hmac`, `sha2`, `base64` and
//! `subtle`, so it adds nothing of the server to your build.
//!
//! # Example
//!
//! Hand [`Verifier::verify`] the *raw* body (before any JSON parsing: re-serialised JSON is not
//! byte-for-byte what was signed) and a case-insensitive header lookup:
//!
//! ```
//! use speaknode_verify::{Verifier, VerifyError};
//!
//! // A request as a receiver gets it (this is the Standard Webhooks reference vector).
//! let headers = [
//!     ("Webhook-Id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
//!     ("Webhook-Timestamp", "1614265330"),
//!     ("Webhook-Signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
//! ];
//! let lookup = |name: &str| {
//!     headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
//! };
//! let body = br#"{"test": 2432232314}"#;
//!
//! // `at` pins the clock so this example keeps working; receivers leave it out.
//! let verifier = Verifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").at(1614265330);
//! let verified = verifier.verify(lookup, body)?;
//! assert!(verified.standard_signature);
//!
//! // A single changed byte is refused.
//! assert_eq!(
//!     verifier.verify(lookup, br#"{"test": 2432232315}"#),
//!     Err(VerifyError::NoMatchingSignature("webhook-signature"))
//! );
//! # Ok::<(), VerifyError>(())
//! ```
//!
//! With axum, the lookup is `|name| headers.get(name)?.to_str().ok()` over the request's
//! `HeaderMap`; `examples/receivers/rust/` in the SpeakNode Webhooks repository is a complete
//! receiver.

mod error;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::alphabet::STANDARD as STANDARD_ALPHABET;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub use error::VerifyError;

/// How far `webhook-timestamp` may be from now unless [`Verifier::tolerance`] says otherwise.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// The lowercase names of the headers this crate reads.
pub mod header {
    /// Hex HMAC-SHA256 of the body keyed with the whole secret.
    pub const SPEAKNODE_SIGNATURE: &str = "x-speaknode-signature";
    /// Standard Webhooks: the message id (the event id, `evt_…`).
    pub const WEBHOOK_ID: &str = "webhook-id";
    /// Standard Webhooks: Unix seconds of this attempt.
    pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
    /// Standard Webhooks: space-separated `v1,<base64>` signatures.
    pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";
}

const SECRET_PREFIX: &str = "whsec_";

/// Standard base64 that accepts secrets and signatures with or without their `=` padding, as the
/// reference Standard Webhooks libraries do.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD_ALPHABET,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Which signatures [`Verifier::verify`] found and checked (all of them matched).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// `X-SpeakNode-Signature` was present and matched.
    pub speaknode_signature: bool,
    /// The Standard Webhooks headers were present, in time, and one signature matched.
    pub standard_signature: bool,
}

/// Checks deliveries signed with one webhook secret.
#[derive(Clone)]
pub struct Verifier {
    secret: String,
    tolerance: Duration,
    now: Option<i64>,
}

impl std::fmt::Debug for Verifier {
    // Never print the secret, even in a receiver's debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("secret", &"whsec_…redacted")
            .field("tolerance", &self.tolerance)
            .field("now", &self.now)
            .finish()
    }
}

impl Verifier {
    /// A verifier for the webhook's secret, exactly as the API or dashboard shows it (`whsec_…`).
    pub fn new(secret: impl Into<String>) -> Self {
        Self {
            secret: secret.into(),
            tolerance: DEFAULT_TOLERANCE,
            now: None,
        }
    }

    /// How far `webhook-timestamp` may be from now, in either direction (default 5 minutes).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Checks timestamps against this fixed time (Unix seconds) instead of the system clock: for
    /// tests, or to re-check a captured request later.
    pub fn at(mut self, unix_seconds: i64) -> Self {
        self.now = Some(unix_seconds);
        self
    }

    /// Checks every signature the request carries: `X-SpeakNode-Signature` when present, the
    /// Standard Webhooks trio when `webhook-signature` is present. All present must verify, and
    /// at least one must be present.
    ///
    /// `lookup` finds a header by its lowercase name and must ignore case (as `HeaderMap`
    /// does). `body` is the raw request body.
    pub fn verify<'h>(
        &self,
        lookup: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
    ) -> Result<Verified, VerifyError> {
        let speaknode = lookup(header::SPEAKNODE_SIGNATURE);
        // Any one of the trio means the sender meant to use Standard Webhooks; the others are
        // then required, so a stripped header cannot downgrade the check.
        let standard = lookup(header::WEBHOOK_SIGNATURE).is_some()
            || lookup(header::WEBHOOK_ID).is_some()
            || lookup(header::WEBHOOK_TIMESTAMP).is_some();
        if speaknode.is_none() && !standard {
            return Err(VerifyError::NoSignatureHeader);
        }
        if let Some(signature) = speaknode {
            self.verify_speaknode(body, signature)?;
        }
        if standard {
            let required =
                |name: &'static str| lookup(name).ok_or(VerifyError::MissingHeader(name));
            self.verify_standard(
                required(header::WEBHOOK_ID)?,
                required(header::WEBHOOK_TIMESTAMP)?,
                required(header::WEBHOOK_SIGNATURE)?,
                body,
            )?;
        }
        Ok(Verified {
            speaknode_signature: speaknode.is_some(),
            standard_signature: standard,
        })
    }

    /// Checks an `X-SpeakNode-Signature` value against the raw body.
    ///
    /// ```
    /// let verifier = speaknode_verify::Verifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    /// let signature = "80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c";
    /// assert!(verifier.verify_speaknode(br#"{"test": 2432232314}"#, signature).is_ok());
    /// assert!(verifier.verify_speaknode(b"{}", signature).is_err());
    /// ```
    pub fn verify_speaknode(&self, body: &[u8], signature: &str) -> Result<(), VerifyError> {
        if self.secret.is_empty() {
            return Err(VerifyError::BadSecret);
        }
        let expected = to_hex(&hmac_sha256(self.secret.as_bytes(), &[body]));
        // Uppercase hex means the same bytes; accepting it costs nothing and spares a confusing
        // refusal when a proxy or a test tool changed the case.
        let given = signature.trim().to_ascii_lowercase();
        if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
            Ok(())
        } else {
            Err(VerifyError::NoMatchingSignature(
                header::SPEAKNODE_SIGNATURE,
            ))
        }
    }

    /// Checks Standard Webhooks header values against the raw body: the timestamp must be within
    /// the tolerance and at least one `v1,` signature of `signatures` must match.
    ///
    /// ```
    /// use speaknode_verify::{Verifier, VerifyError};
    ///
    /// let verifier = Verifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    /// let (id, ts) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330");
    /// let signatures = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    /// let body = br#"{"test": 2432232314}"#;
    ///
    /// // Signed in 2021: far outside the 5-minute tolerance today.
    /// assert!(matches!(
    ///     verifier.verify_standard(id, ts, signatures, body),
    ///     Err(VerifyError::TimestampOutOfTolerance { .. })
    /// ));
    /// // Four minutes after it was signed, it is fine.
    /// assert!(verifier.at(1614265330 + 240).verify_standard(id, ts, signatures, body).is_ok());
    /// ```
    pub fn verify_standard(
        &self,
        id: &str,
        timestamp: &str,
        signatures: &str,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        let key = self.standard_key()?;
        let ts: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| VerifyError::BadTimestamp)?;
        let now = self.now.unwrap_or_else(system_now);
        if ts.abs_diff(now) > self.tolerance.as_secs() {
            return Err(VerifyError::TimestampOutOfTolerance { timestamp: ts, now });
        }
        let ts_text = ts.to_string();
        let expected = hmac_sha256(&key, &[id.as_bytes(), b".", ts_text.as_bytes(), b".", body]);
        let matched = signatures
            .split_ascii_whitespace()
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|b64| LENIENT_BASE64.decode(b64).ok())
            .any(|given| bool::from(expected.as_slice().ct_eq(&given)));
        if matched {
            Ok(())
        } else {
            Err(VerifyError::NoMatchingSignature(header::WEBHOOK_SIGNATURE))
        }
    }

    /// The Standard Webhooks key: the base64-decoded part after `whsec_` (a secret without the
    /// prefix is decoded whole, as the reference libraries do).
    fn standard_key(&self) -> Result<Vec<u8>, VerifyError> {
        let encoded = self
            .secret
            .strip_prefix(SECRET_PREFIX)
            .unwrap_or(&self.secret);
        match LENIENT_BASE64.decode(encoded.trim()) {
            Ok(key) if !key.is_empty() => Ok(key),
            _ => Err(VerifyError::BadSecret),
        }
    }
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail; an empty key would still work but is
    // refused earlier as a bad secret.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of every length")
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn system_now() -> i64 {
    // A clock before 1970 is broken beyond what a tolerance can help with; treat it as 0.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
