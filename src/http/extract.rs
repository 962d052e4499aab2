//! Request extractors that turn every kind of bad input into the contract's error body: the API
//! key, JSON bodies (content type, size, syntax, unknown fields, types) and list parameters.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use super::AppState;
use super::error::ApiError;
use crate::domain::time::{Millis, parse_rfc3339};
use crate::store::PageRequest;
use crate::web::retry_after_seconds;

/// The workspace the request's API key belongs to.
pub struct WorkspaceId(pub String);

impl FromRequestParts<AppState> for WorkspaceId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim())
            .filter(|k| !k.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        // Keys are stored as SHA-256 hashes and looked up by hash: the plaintext key is never
        // stored, and the lookup compares hashes, not the secret itself.
        let key_hash = crate::domain::ids::hash_key(key);
        let Some(id) = state.service.store.workspace_for_key(&key_hash).await? else {
            return Err(ApiError::unauthorized());
        };
        // After authentication, so only keys that exist get a bucket (see `rate_limit`).
        if let Some(limiter) = &state.rate_limiter
            && let Err(wait) = limiter.check(&key_hash)
        {
            state.service.deliverer.metrics.api_rate_limited();
            return Err(ApiError::rate_limited(
                limiter.rate().get(),
                retry_after_seconds(wait),
            ));
        }
        Ok(Self(id))
    }
}

/// A JSON body: `application/json`, within `SPEAKNODE_MAX_PAYLOAD_BYTES`, well-formed, with no
/// unknown fields and the right JSON types (all 400); missing or out-of-range values are left to
/// the handler's validation (422). The raw bytes are kept for idempotency checks.
pub struct ApiJson<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::unsupported_media_type());
        }
        let limit = state.config.max_payload_bytes;
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::payload_too_large(limit));
        }
        let raw = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ApiError::payload_too_large(limit))?;
        let value = parse_json(&raw)?;
        Ok(Self { value, raw })
    }
}

/// A JSON body that may be left out altogether (no `Content-Type` and no bytes): `None` then.
/// Anything sent is read as [`ApiJson`] reads it.
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned> FromRequest<AppState> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let headers = req.headers();
        let declared_empty = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.trim() == "0");
        if headers.get(CONTENT_TYPE).is_none() && declared_empty {
            let raw = axum::body::to_bytes(req.into_body(), 0)
                .await
                .map_err(|_| ApiError::unsupported_media_type())?;
            return match raw.is_empty() {
                true => Ok(Self(None)),
                false => Err(ApiError::unsupported_media_type()),
            };
        }
        let ApiJson { value, .. } = ApiJson::from_request(req, state).await?;
        Ok(Self(Some(value)))
    }
}

pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    // Serde would also read a struct from an array of its fields in order; bodies are objects.
    if raw.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(raw);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        let error = ApiError::bad_request(format!(
            "The request body is not acceptable JSON: {message}."
        ));
        // The path names the unknown field or the value of the wrong type, e.g. `event_types[1]`.
        if inner.is_data() && !path.is_empty() && path != "." && path != "?" {
            error.with_field(path)
        } else {
            error
        }
    })?;
    deserializer.end().map_err(|e| {
        ApiError::bad_request(format!("The request body is not acceptable JSON: {e}."))
    })?;
    Ok(value)
}

/// Path parameters, read like axum's `Path`, but a path that cannot be read (an id that is not
/// UTF-8 once percent-decoded, as in `/api/v1/webhooks/%ff`) gets the contract's error body.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) if rejection.status().is_client_error() => Err(ApiError::bad_request(
                format!("The path cannot be read: {}.", rejection.body_text()),
            )),
            Err(rejection) => {
                tracing::error!(error = %rejection.body_text(), "path parameters");
                Err(ApiError::internal())
            }
        }
    }
}

/// Query parameters as text; the caller parses the ones it knows.
pub struct QueryParams(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        // No value the API stores holds NUL, and PostgreSQL cannot even compare text with it.
        if let Some((name, _)) = params.iter().find(|(_, v)| v.contains('\0')) {
            return Err(ApiError::invalid(
                name.as_str(),
                "must not contain the NUL character (U+0000)",
            ));
        }
        Ok(Self(params))
    }
}

/// `?limit=` and `?cursor=` as the OpenAPI document describes them; [`QueryParams::page`] is what
/// reads them (by hand, so that a bad value is a 422 naming it).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "only describes the parameters; `QueryParams::page` reads them"
)]
pub struct PageParams {
    /// How many items to answer, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `?limit=` (1–100, default 20) and `?cursor=`.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = match self.get("limit") {
            None => 20,
            Some(text) if !text.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(ApiError::invalid(
                    "limit",
                    "must be a whole number from 1 to 100",
                ));
            }
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    return Err(ApiError::invalid(
                        "limit",
                        "must be a whole number from 1 to 100",
                    ));
                }
            },
        };
        let cursor = self.get("cursor").map(decode_cursor).transpose()?;
        Ok(PageRequest { limit, cursor })
    }

    /// An RFC 3339 time parameter such as `?since=`.
    pub fn time(&self, name: &str) -> Result<Option<Millis>, ApiError> {
        self.get(name)
            .map(|t| {
                parse_rfc3339(t).ok_or_else(|| {
                    ApiError::invalid(name, "must be an RFC 3339 time like 2026-11-26T17:00:00Z")
                })
            })
            .transpose()
    }
}

/// Cursors are opaque to clients: base64url of the position.
pub fn encode_cursor(position: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("p{position}"))
}

fn decode_cursor(text: &str) -> Result<i64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix('p').and_then(|n| n.parse::<i64>().ok()))
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this API returned"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        url: Option<String>,
        enabled: Option<bool>,
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)).ok(), Some(42));
        assert!(decode_cursor("not-a-cursor").is_err());
    }

    #[test]
    fn json_errors_are_400_and_name_the_field() {
        let unknown = parse_json::<Body>(br#"{"url": "x", "colour": 1}"#).unwrap_err();
        assert_eq!(
            (unknown.status.as_u16(), unknown.field.as_deref()),
            (400, Some("colour"))
        );
        let wrong = parse_json::<Body>(br#"{"enabled": "yes"}"#).unwrap_err();
        assert_eq!(
            (wrong.status.as_u16(), wrong.field.as_deref()),
            (400, Some("enabled"))
        );
        assert_eq!(parse_json::<Body>(b"{").unwrap_err().status.as_u16(), 400);
        assert_eq!(
            parse_json::<Body>(b"{} []").unwrap_err().status.as_u16(),
            400
        );
    }
}
