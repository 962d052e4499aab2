//! HTML form bodies. The API's JSON extractor does not apply, and axum's `Form` cannot read a
//! field sent several times (one checkbox per event type), so forms are read here: every pair,
//! in order. Query strings are read the same way.

use axum::body::Body;

use super::{PageError, PageResult};

/// The largest form the dashboard accepts. The webhook form's biggest part is its headers: 20
/// values of up to 1000 characters, up to 9 bytes each once percent-encoded (a 3-byte character),
/// about 180 KB at worst.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The fields of an `application/x-www-form-urlencoded` body.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub async fn read(body: Body) -> PageResult<Self> {
        let too_large = || PageError::TooLarge(MAX_FORM_BYTES);
        // A declared length over the limit is refused at once rather than waited for.
        if axum::body::HttpBody::size_hint(&body).lower() > MAX_FORM_BYTES as u64 {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| too_large())?;
        Ok(Self::parse(&bytes))
    }

    pub fn parse(bytes: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The query string of a page's URL, read the same way.
    pub fn query(uri: &axum::http::Uri) -> Self {
        Self::parse(uri.query().unwrap_or("").as_bytes())
    }

    /// A positive whole number, e.g. a paging position; anything else reads as absent.
    pub fn position(&self, name: &str) -> Option<i64> {
        self.get(name)
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|n| *n > 0)
    }

    /// The first value of the field, if it was sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the field, in the order sent.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_are_all_kept_in_order() {
        let fields = Fields::parse(b"url=https%3A%2F%2Fa.example%2F&t=B&t=A&empty=");
        assert_eq!(fields.get("url"), Some("https://a.example/"));
        assert_eq!(fields.all("t"), ["B", "A"]);
        assert_eq!(fields.get("empty"), Some(""));
        assert_eq!(fields.get("missing"), None);
    }
}
