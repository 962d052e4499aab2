//! Tools for the receiving side, built on the `speaknode-verify` crate so they check signatures
//! exactly as a customer's receiver using it would: `verify` checks one captured request,
//! `listen` is a local receiver that prints every delivery it gets.
//!
//! They use nothing of the service itself (no store, no workers), only the verification crate and
//! the dashboard's JSON indenter, so they stay usable against any SpeakNode deployment.

pub mod listen;
pub mod verify;

use speaknode_verify::{Verified, Verifier, VerifyError, header};

/// One line per signature scheme for `listen`: `(header, verdict)`, where the verdict reads
/// `verified`, `absent` or `INVALID: <why>`.
pub(crate) fn verdicts<'h>(
    verifier: &Verifier,
    lookup: impl Fn(&str) -> Option<&'h str> + Copy,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let speaknode = match lookup(header::SPEAKNODE_SIGNATURE) {
        None => "absent".to_string(),
        Some(sig) => verdict(verifier.verify_speaknode(body, sig)),
    };
    // Judge the Standard Webhooks trio on its own: `Verifier::verify` would stop at the first
    // failure and hide the other scheme's result, which is what a developer wants to see.
    let trio = [
        header::WEBHOOK_ID,
        header::WEBHOOK_TIMESTAMP,
        header::WEBHOOK_SIGNATURE,
    ];
    let standard = if trio.iter().all(|name| lookup(name).is_none()) {
        "absent".to_string()
    } else {
        let only_standard = |name: &str| {
            if trio.contains(&name) {
                lookup(name)
            } else {
                None
            }
        };
        verdict(verifier.verify(only_standard, body).map(|_| ()))
    };
    vec![
        ("X-SpeakNode-Signature", speaknode),
        ("webhook-signature", standard),
    ]
}

fn verdict(result: Result<(), VerifyError>) -> String {
    match result {
        Ok(()) => "verified".to_string(),
        Err(e) => format!("INVALID: {e}"),
    }
}

/// Names what verified, for the one line `verify` prints.
pub(crate) fn describe(verified: Verified) -> &'static str {
    match (verified.speaknode_signature, verified.standard_signature) {
        (true, true) => "X-SpeakNode-Signature and webhook-signature verified",
        (true, false) => "X-SpeakNode-Signature verified",
        (false, true) => "webhook-signature verified",
        // `verify` never succeeds with nothing checked; say so plainly if that ever changed.
        (false, false) => "no signature checked",
    }
}
