//! One HTTP request to a receiver: build the signed request, send it within the timeout, read at
//! most 64 KiB of the answer, and turn whatever happens into an [`Outcome`].

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER, USER_AGENT};
use url::Url;

use super::resolver::{BlockedAddressError, DnsError, GuardedResolver, check_proxied_target};
use crate::domain::attempt::{FailureKind, Outcome};
use crate::domain::signature::{speaknode_signature, standard_signature_header};
use crate::domain::webhook::check_host;
use crate::store::Claimed;

/// How much of a response body is kept; reading stops there.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
pub const USER_AGENT_VALUE: &str = concat!("SpeakNode-Webhooks/", env!("CARGO_PKG_VERSION"));

pub struct Sender {
    client: reqwest::Client,
    timeout: Duration,
    allow_private: bool,
    /// Deliveries go through `SPEAKNODE_PROXY_URL`.
    proxied: bool,
}

/// Installs rustls' crypto provider (ring) for the process; reqwest is built without a default
/// one so that only one provider is compiled in. Calling it again is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Sender {
    /// `proxy_url`: a URL `Config` checked, whose password this never shows.
    pub fn new(
        timeout: Duration,
        allow_private: bool,
        proxy_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        install_crypto_provider();
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never());
        let builder = match proxy_url {
            // No proxy from the environment (HTTP_PROXY…): only the one the operator set.
            None => builder
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver { allow_private })),
            // The client then resolves only the proxy's name, usually a private address of the
            // operator's own network, so the guarded resolver would refuse it; the target's
            // addresses are checked in `send` instead. Credentials in the URL become
            // `Proxy-Authorization: Basic`.
            Some(url) => builder.proxy(
                reqwest::Proxy::all(url)
                    .map_err(|_| anyhow::anyhow!("SPEAKNODE_PROXY_URL is not a usable proxy"))?,
            ),
        };
        let client = builder
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            client,
            timeout,
            allow_private,
            proxied: proxy_url.is_some(),
        })
    }

    /// The headers of one attempt, signed with every valid secret (newest first).
    pub fn headers(claim: &Claimed, timestamp: i64) -> HeaderMap {
        let body = claim.payload.as_bytes();
        let mut headers = HeaderMap::new();
        // The webhook's own headers first: the ones below are the contract's and always win
        // (the reserved names are refused when the webhook is saved).
        for (name, value) in claim.webhook.headers.iter() {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        let mut put = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        };
        put("x-speaknode-event", claim.event_type.clone());
        put("x-speaknode-delivery", claim.delivery_id.clone());
        if let Some(newest) = claim.secrets.first() {
            put("x-speaknode-signature", speaknode_signature(newest, body));
        }
        put("webhook-id", claim.event_id.clone());
        put("webhook-timestamp", timestamp.to_string());
        put(
            "webhook-signature",
            standard_signature_header(&claim.secrets, &claim.event_id, timestamp, body),
        );
        if let Some(traceparent) = &claim.traceparent {
            put("traceparent", traceparent.clone());
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers
    }

    /// Sends one attempt; `timestamp` is the attempt's Unix time in seconds.
    pub async fn send(&self, claim: &Claimed, timestamp: i64) -> Outcome {
        let Ok(url) = Url::parse(&claim.url) else {
            return Outcome::Failed(FailureKind::ConnectionError);
        };
        // IP literals never reach the resolver, so they are checked here.
        if !self.allow_private && url.host().is_none_or(|h| check_host(&h).is_err()) {
            return Outcome::Failed(FailureKind::BlockedAddress);
        }
        let proxied_name = match url.host() {
            Some(url::Host::Domain(name)) if self.proxied && !self.allow_private => {
                Some(name.to_string())
            }
            _ => None,
        };
        let request = self
            .client
            .post(url)
            .headers(Self::headers(claim, timestamp))
            .body(shared_body(&claim.payload));
        let attempt = async {
            if let Some(name) = proxied_name
                && let Err(e) = check_proxied_target(&name).await
            {
                return Outcome::Failed(if e.is::<BlockedAddressError>() {
                    FailureKind::BlockedAddress
                } else {
                    FailureKind::DnsError
                });
            }
            exchange(request).await
        };
        let limit = claim.webhook.timeout.unwrap_or(self.timeout);
        match tokio::time::timeout(limit, attempt).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Failed(FailureKind::Timeout),
        }
    }
}

async fn exchange(request: reqwest::RequestBuilder) -> Outcome {
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(classify(&e)),
    };
    let status = response.status().as_u16();
    let retry_after = if status == 429 || status == 503 {
        response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after)
    } else {
        None
    };
    let mut body = Vec::new();
    let mut truncated = false;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_RESPONSE_BYTES - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            // The status line arrived, so the outcome follows the status even if the body broke off.
            Err(_) => break,
        }
    }
    Outcome::Responded {
        status,
        // NUL shows as U+FFFD, like bytes that are not UTF-8: PostgreSQL's text cannot hold it,
        // and an attempt that cannot be recorded would be sent again and again.
        body: String::from_utf8_lossy(&body).replace('\0', "\u{FFFD}"),
        truncated,
        retry_after,
    }
}

fn classify(error: &reqwest::Error) -> FailureKind {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<BlockedAddressError>() {
            return FailureKind::BlockedAddress;
        }
        if e.is::<DnsError>() {
            return FailureKind::DnsError;
        }
        if e.is::<rustls::Error>() {
            return FailureKind::TlsError;
        }
        source = e.source();
    }
    if error.is_timeout() {
        FailureKind::Timeout
    } else {
        FailureKind::ConnectionError
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (at.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs as u64))
}

/// The request body over the event's one payload buffer, without copying it: every delivery
/// of an event in flight sends the same bytes.
fn shared_body(payload: &std::sync::Arc<str>) -> reqwest::Body {
    struct Shared(std::sync::Arc<str>);
    impl AsRef<[u8]> for Shared {
        fn as_ref(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }
    reqwest::Body::from(bytes::Bytes::from_owner(Shared(payload.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
