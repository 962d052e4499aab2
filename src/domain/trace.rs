//! W3C Trace Context: a `traceparent` sent when an event is emitted is passed on, unchanged, to
//! every delivery of that event, so a receiver's traces join the platform's. A header that is not
//! a valid `traceparent` is ignored (as the W3C recommendation says), never an error.

/// `traceparent` when it is valid: `version-traceid-parentid-flags`, lowercase hex, ids not all
/// zeros, version not `ff`. Version `00` must be exactly that; later versions may add fields.
pub fn valid_traceparent(value: &str) -> Option<&str> {
    let value = value.trim();
    let head = value.get(..55)?;
    let mut parts = head.split('-');
    let (version, trace_id, parent_id, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let zero = |s: &str| s.bytes().all(|b| b == b'0');
    let fields_ok = hex(version, 2)
        && version != "ff"
        && hex(trace_id, 32)
        && !zero(trace_id)
        && hex(parent_id, 16)
        && !zero(parent_id)
        && hex(flags, 2);
    let rest_ok = if version == "00" {
        value.len() == 55
    } else {
        value.len() == 55 || value.as_bytes()[55] == b'-'
    };
    (fields_ok && rest_ok).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::valid_traceparent;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_is_kept_as_it_is() {
        assert_eq!(valid_traceparent(GOOD), Some(GOOD));
        let future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra";
        assert_eq!(valid_traceparent(future), Some(future));
    }

    #[test]
    fn anything_else_is_ignored() {
        for bad in [
            "",
            "garbage",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // uppercase
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero parent id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // forbidden version
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", // 00 has no extra fields
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
        ] {
            assert_eq!(valid_traceparent(bad), None, "{bad:?}");
        }
    }
}
