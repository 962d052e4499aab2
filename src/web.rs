//! What both HTTP adapters (the JSON API in `http`, the pages in `dashboard`) answer alike and
//! neither owns: the security headers of every HTML page, and `Retry-After` in seconds.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// Headers for every HTML page the service serves (the API reference and the dashboard's):
/// pages may load only what the service itself serves, with no inline script or style. Pages can
/// show a secret, so nothing is cached. Framing is refused, except by the origins a
/// [`PageHeaders`] lists.
#[derive(Clone)]
pub struct PageHeaders {
    csp: HeaderValue,
    /// `X-Frame-Options: DENY` too (older browsers), when no origin may frame the page.
    deny_framing: bool,
}

impl PageHeaders {
    /// Pages that `frame_ancestors` (origins, already checked) may frame; none when empty.
    pub fn new(frame_ancestors: &[String]) -> Self {
        let ancestors = match frame_ancestors {
            [] => "'none'".to_string(),
            origins => origins.join(" "),
        };
        let csp = format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors {ancestors}; base-uri 'none'"
        );
        Self {
            csp: HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'",
            )),
            deny_framing: frame_ancestors.is_empty(),
        }
    }

    pub fn apply(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        let set = |headers: &mut HeaderMap, name, value: HeaderValue| {
            headers.entry(name).or_insert(value);
        };
        set(headers, header::CONTENT_SECURITY_POLICY, self.csp.clone());
        set(
            headers,
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        set(
            headers,
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if self.deny_framing {
            set(
                headers,
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("DENY"),
            );
        }
        set(
            headers,
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        response
    }
}

/// The headers of a page no one may frame (the API reference).
pub fn with_page_headers(response: Response) -> Response {
    static NOT_FRAMED: std::sync::LazyLock<PageHeaders> =
        std::sync::LazyLock::new(|| PageHeaders::new(&[]));
    NOT_FRAMED.apply(response)
}

/// `Retry-After` in whole seconds, rounded up and at least 1: a client that waits that long
/// is let through.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(response: &Response, name: header::HeaderName) -> Option<&str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn pages_may_be_framed_only_by_the_listed_origins() {
        let page = || Response::new(axum::body::Body::empty());
        let alone = with_page_headers(page());
        let csp = header(&alone, header::CONTENT_SECURITY_POLICY).unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(header(&alone, header::X_FRAME_OPTIONS), Some("DENY"));

        let origins = [
            "https://app.speaknode.com".to_string(),
            "http://localhost:5173".into(),
        ];
        let framed = PageHeaders::new(&origins).apply(page());
        let csp = header(&framed, header::CONTENT_SECURITY_POLICY).unwrap();
        assert!(
            csp.contains("frame-ancestors https://app.speaknode.com http://localhost:5173;"),
            "{csp}"
        );
        assert_eq!(header(&framed, header::X_FRAME_OPTIONS), None);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1001)), 2);
    }
}
