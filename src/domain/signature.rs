//! The two signatures every delivery carries. Receivers written from the contract alone must
//! accept them, so both are pinned by known-answer tests.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::webhook::Secret;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// `X-SpeakNode-Signature`: lowercase hex HMAC-SHA256 of the raw body, keyed with the UTF-8 bytes of
/// the whole secret string, prefix included.
pub fn speaknode_signature(secret: &Secret, body: &[u8]) -> String {
    hex::encode(hmac(secret.expose().as_bytes(), &[body]))
}

/// One Standard Webhooks v1 signature: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`,
/// keyed with the base64-decoded secret.
pub fn standard_signature(secret: &Secret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mac = hmac(
        &secret.standard_key(),
        &[msg_id.as_bytes(), b".", ts.as_bytes(), b".", body],
    );
    format!("v1,{}", BASE64.encode(mac))
}

/// The `webhook-signature` header: one signature per valid secret, space-separated.
pub fn standard_signature_header(
    secrets: &[Secret],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| standard_signature(s, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        let secret = Secret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        let sig = standard_signature(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn speaknode_signature_is_hex_hmac_keyed_with_the_whole_secret() {
        // Known answer computed independently with Python:
        // hmac.new(b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", b'{"test": 2432232314}', hashlib.sha256).hexdigest()
        let secret = Secret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        let sig = speaknode_signature(&secret, br#"{"test": 2432232314}"#);
        assert_eq!(sig, PYTHON_HEX);
    }

    const PYTHON_HEX: &str = "80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c";

    #[test]
    fn the_header_lists_one_signature_per_secret() {
        let a = Secret::generate();
        let b = Secret::generate();
        let header = standard_signature_header(&[a.clone(), b.clone()], "evt_1", 1, b"{}");
        let parts: Vec<_> = header.split(' ').collect();
        assert_eq!(
            parts,
            [
                standard_signature(&a, "evt_1", 1, b"{}"),
                standard_signature(&b, "evt_1", 1, b"{}")
            ]
        );
    }
}
