//! A Webhook: where to send which events. Its fields are parsed into types at the edge, so an
//! invalid URL or an unknown event type never reaches the store.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;
use url::{Host, Url};

use super::address::{blocked_reason, is_localhost_name};
use super::validation::{Invalid, char_len, check_no_nul};

pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// How long a secret keeps signing after it was rotated out: 24 h.
pub const ROTATED_SECRET_GRACE_MS: i64 = 24 * 60 * 60 * 1000;

/// A URL a webhook may be created with: http or https, at most 2048 characters, and, unless
/// private targets are allowed, not naming a blocked address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    pub fn parse(raw: &str, allow_private: bool) -> Result<Self, Invalid> {
        if char_len(raw) > MAX_URL_CHARS {
            return Err(Invalid::field(
                "url",
                format!("must be at most {MAX_URL_CHARS} characters"),
            ));
        }
        let url = Url::parse(raw.trim())
            .map_err(|e| Invalid::field("url", format!("is not a valid URL ({e})")))?;
        // Parsing percent-encodes: 2000 characters of `é` become 12000 of `%C3%A9`.
        if char_len(url.as_str()) > MAX_URL_CHARS {
            return Err(Invalid::field(
                "url",
                format!("must be at most {MAX_URL_CHARS} characters once percent-encoded"),
            ));
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Invalid::field("url", "must use http or https"));
        }
        let host = url
            .host()
            .ok_or_else(|| Invalid::field("url", "must name a host"))?;
        if !allow_private {
            check_host(&host)?;
        }
        Ok(Self(url))
    }

    /// A URL read back from the store, which was checked when it was written.
    pub fn from_stored(raw: &str) -> Option<Self> {
        Url::parse(raw).ok().map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }
}

/// Refuses IP literals on blocked ranges and `localhost` names. The `url` crate already turns
/// `http://2130706433/`, `http://0x7f.1/` and friends into the IPv4 address they mean.
pub fn check_host(host: &Host<&str>) -> Result<(), Invalid> {
    let ip: IpAddr = match host {
        Host::Domain(name) if is_localhost_name(name) => {
            return Err(Invalid::blocked("url", "must not point at localhost"));
        }
        Host::Domain(_) => return Ok(()),
        Host::Ipv4(v4) => IpAddr::V4(*v4),
        Host::Ipv6(v6) => IpAddr::V6(*v6),
    };
    match blocked_reason(ip) {
        Some(reason) => Err(Invalid::blocked(
            "url",
            format!("must not point at {reason} ({ip})"),
        )),
        None => Ok(()),
    }
}

pub fn check_description(description: &str) -> Result<(), Invalid> {
    if char_len(description) > MAX_DESCRIPTION_CHARS {
        return Err(Invalid::field(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    check_no_nul("description", description)
}

/// Checks a subscription list: non-empty, every name registered, no repeats.
pub fn check_event_types(
    names: &[String],
    is_registered: impl Fn(&str) -> bool,
) -> Result<(), Invalid> {
    if names.is_empty() {
        return Err(Invalid::field(
            "event_types",
            "must list at least one event type",
        ));
    }
    for (i, name) in names.iter().enumerate() {
        if !is_registered(name) {
            return Err(Invalid::field(
                format!("event_types[{i}]"),
                format!("{name:?} is not a registered event type"),
            ));
        }
        if names[..i].contains(name) {
            return Err(Invalid::field(
                format!("event_types[{i}]"),
                format!("{name:?} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// Why a webhook is not enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisabledReason {
    /// Turned off by a user.
    Manual,
    /// No success for `SPEAKNODE_DISABLE_AFTER`.
    Failing,
    /// The endpoint answered 410 Gone.
    Gone,
}

impl DisabledReason {
    /// Every reason, for the API's description of the field.
    pub const ALL: [Self; 3] = [Self::Manual, Self::Failing, Self::Gone];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Failing => "failing",
            Self::Gone => "gone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manual" => Some(Self::Manual),
            "failing" => Some(Self::Failing),
            "gone" => Some(Self::Gone),
            _ => None,
        }
    }
}

/// A signing secret: `whsec_` + base64 of 32 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub const PREFIX: &'static str = "whsec_";

    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{}{}", Self::PREFIX, BASE64.encode(bytes)))
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The whole string, prefix included: the key of `X-SpeakNode-Signature`.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The base64-decoded part after `whsec_`: the key of Standard Webhooks' `webhook-signature`.
    pub fn standard_key(&self) -> Vec<u8> {
        let encoded = self.0.strip_prefix(Self::PREFIX).unwrap_or(&self.0);
        BASE64
            .decode(encoded)
            .unwrap_or_else(|_| encoded.as_bytes().to_vec())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(whsec_…redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validation::InvalidKind;

    fn kind_of(url: &str) -> Option<InvalidKind> {
        WebhookUrl::parse(url, false).err().map(|e| e.kind)
    }

    #[test]
    fn public_http_and_https_urls_are_accepted() {
        assert_eq!(kind_of("https://example.com/hooks"), None);
        assert_eq!(kind_of("http://93.184.216.34:8080/x?y=1"), None);
    }

    #[test]
    fn other_schemes_and_garbage_are_validation_failures() {
        for url in [
            "ftp://example.com/",
            "example.com",
            "",
            "https://",
            "javascript:alert(1)",
        ] {
            assert_eq!(kind_of(url), Some(InvalidKind::ValidationFailed), "{url}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(kind_of(&long), Some(InvalidKind::ValidationFailed));
        let encoded_long = format!("https://example.com/{}", "é".repeat(1000));
        assert_eq!(kind_of(&encoded_long), Some(InvalidKind::ValidationFailed));
    }

    #[test]
    fn private_literals_and_localhost_are_blocked() {
        for url in [
            "http://127.0.0.1/",
            "http://localhost:8080/",
            "http://LocalHost./",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[fe80::1]/",
            "http://0.0.0.0/",
            "http://100.64.1.1/",
        ] {
            assert_eq!(kind_of(url), Some(InvalidKind::BlockedAddress), "{url}");
        }
    }

    #[test]
    fn private_targets_pass_when_allowed() {
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/", true).is_ok());
    }

    #[test]
    fn event_type_lists_must_be_nonempty_known_and_unique() {
        let known = |n: &str| n == "A" || n == "B";
        assert!(check_event_types(&["A".into(), "B".into()], known).is_ok());
        assert_eq!(
            check_event_types(&[], known).unwrap_err().field,
            "event_types"
        );
        assert_eq!(
            check_event_types(&["A".into(), "C".into()], known)
                .unwrap_err()
                .field,
            "event_types[1]"
        );
        assert_eq!(
            check_event_types(&["A".into(), "A".into()], known)
                .unwrap_err()
                .field,
            "event_types[1]"
        );
    }

    #[test]
    fn descriptions_are_counted_in_characters() {
        assert!(check_description(&"é".repeat(MAX_DESCRIPTION_CHARS)).is_ok());
        assert!(check_description(&"é".repeat(MAX_DESCRIPTION_CHARS + 1)).is_err());
    }

    #[test]
    fn secrets_are_whsec_and_32_bytes() {
        let secret = Secret::generate();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(secret.standard_key().len(), 32);
        assert!(!format!("{secret:?}").contains(&secret.expose()[6..]));
    }
}
