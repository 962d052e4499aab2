//! Signing in and out, and what every page gets from the session.
//!
//! - Sign-in (`service::sessions`) takes an API key once and answers with a random session
//!   token, which goes in a cookie (HttpOnly, SameSite=Strict, Secure when the request came over
//!   https). The database keeps only the token's SHA-256 hash; the key itself is never stored,
//!   echoed or put in a URL.
//! - Sessions last `service::SESSION_TTL_MS`; signing out deletes the row, so the cookie dies at
//!   once.
//! - Every form POST carries the session's synchronizer token, compared in constant time. The
//!   sign-in form has no session yet: it uses a double-submit token instead (a random value both
//!   in a SameSite=Strict cookie and in the form), so another site cannot sign a browser in to
//!   an attacker's workspace.
//! - Failed sign-ins are counted per client address (`service::LoginThrottle`); past
//!   `SPEAKNODE_LOGIN_ATTEMPTS` the sign-in answers 429 without looking at the key.

use std::net::SocketAddr;
use std::time::Duration;

use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use super::PageState;
use super::form::Fields;
use super::{PageError, PageResult, render};
use crate::domain::ids::random_base62;
use crate::service::{Service, ServiceError, TOKEN_CHARS};
use crate::web::retry_after_seconds;

const SESSION_COOKIE: &str = "speaknode_session";
const LOGIN_COOKIE: &str = "speaknode_login";

/// The signed-in workspace, for any page. Without a live session the request is sent to `/login`.
pub struct SignedIn {
    pub workspace_id: String,
    pub workspace_name: String,
    csrf_token: String,
    /// The session's token, from the cookie (to sign out with).
    token: String,
}

/// What the sidebar and the page frame show.
pub struct Layout {
    pub workspace: String,
    pub csrf: String,
    pub nav: &'static str,
    pub notice: Option<&'static str>,
}

impl SignedIn {
    pub fn layout(&self, nav: &'static str, notice: Option<&'static str>) -> Layout {
        Layout {
            workspace: self.workspace_name.clone(),
            csrf: self.csrf_token.clone(),
            nav,
            notice,
        }
    }

    pub fn csrf(&self) -> &str {
        &self.csrf_token
    }
}

impl SignedIn {
    /// The live session the request's cookie names, if any.
    async fn find(headers: &HeaderMap, state: &PageState) -> PageResult<Option<Self>> {
        let Some(token) = cookie(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let session = state.service.session(token).await?;
        Ok(session.map(|s| Self {
            workspace_id: s.workspace_id,
            workspace_name: s.workspace_name,
            csrf_token: s.csrf_token,
            token: token.to_string(),
        }))
    }
}

impl FromRequestParts<PageState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &PageState) -> Result<Self, Response> {
        match Self::find(&parts.headers, state).await {
            Ok(Some(me)) => Ok(me),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A form POST from a signed-in page, with its CSRF token checked: a missing or wrong token is
/// a 403 and the handler never runs.
pub struct Posted {
    pub me: SignedIn,
    pub fields: Fields,
}

impl FromRequest<PageState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request<Body>, state: &PageState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let me = SignedIn::from_request_parts(&mut parts, state).await?;
        let fields = Fields::read(body)
            .await
            .map_err(IntoResponse::into_response)?;
        if !same_token(fields.get("csrf"), Some(me.csrf())) {
            return Err(PageError::Forbidden.into_response());
        }
        Ok(Self { me, fields })
    }
}

/// Constant-time comparison of two tokens; a missing or empty one never matches.
fn same_token(sent: Option<&str>, expected: Option<&str>) -> bool {
    match (sent, expected) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => {
            bool::from(a.as_bytes().ct_eq(b.as_bytes()))
        }
        _ => false,
    }
}

/// The value of one cookie of the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// Behind a TLS-terminating proxy the request says how it came in.
fn came_over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value; `max_age` `None` makes a cookie that ends with the browser session.
fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if came_over_https(headers) {
        cookie.push_str("; Secure");
    }
    // Tokens are base62, so the value is always a valid header.
    HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static(""))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    error: Option<String>,
}

/// The sign-in form, with a fresh double-submit token.
fn login_form(headers: &HeaderMap, status: StatusCode, error: Option<String>) -> Response {
    let csrf = random_base62(TOKEN_CHARS);
    let mut response = render(
        status,
        &LoginPage {
            csrf: csrf.clone(),
            error,
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(headers, LOGIN_COOKIE, &csrf, None),
    );
    response
}

pub async fn login_page(
    State(state): State<PageState>,
    headers: HeaderMap,
) -> PageResult<Response> {
    if SignedIn::find(&headers, &state).await?.is_some() {
        return Ok(Redirect::to("/webhooks").into_response());
    }
    Ok(login_form(&headers, StatusCode::OK, None))
}

/// The answer to a sign-in from an address that failed too often (`SPEAKNODE_LOGIN_ATTEMPTS`):
/// 429 with `Retry-After`, and the form again with when to try.
fn throttled(headers: &HeaderMap, wait: Duration) -> Response {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    let error = format!(
        "Too many failed sign-ins from your network address. The key was not checked. \
         Try again in {minutes} {unit}."
    );
    let mut response = login_form(headers, StatusCode::TOO_MANY_REQUESTS, Some(error));
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after_seconds(wait)),
    );
    response
}

pub async fn login(
    State(service): State<Service>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> PageResult<Response> {
    let fields = Fields::read(body).await?;
    if !same_token(fields.get("csrf"), cookie(&headers, LOGIN_COOKIE)) {
        return Err(PageError::Forbidden);
    }
    let key = fields.get("api_key").unwrap_or("");
    let session = match service.sign_in(key, peer.ip()).await {
        Ok(session) => session,
        Err(ServiceError::Throttled(wait)) => return Ok(throttled(&headers, wait)),
        Err(ServiceError::Refused) => {
            let error = "That API key is not valid. Check it and try again.".to_string();
            // 200, like any form shown again with its errors: browsers log non-2xx pages as
            // failures.
            return Ok(login_form(&headers, StatusCode::OK, Some(error)));
        }
        Err(e) => return Err(e.into()),
    };
    let mut response = Redirect::to("/webhooks").into_response();
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        set_cookie(
            &headers,
            SESSION_COOKIE,
            &session.token,
            Some(session.max_age_secs),
        ),
    );
    cookies.append(
        header::SET_COOKIE,
        set_cookie(&headers, LOGIN_COOKIE, "", Some(0)),
    );
    Ok(response)
}

pub async fn logout(
    State(state): State<PageState>,
    headers: HeaderMap,
    posted: Posted,
) -> PageResult<Response> {
    state.service.sign_out(&posted.me.token).await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, "", Some(0)),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_when_both_are_present_and_equal() {
        assert!(same_token(Some("abc"), Some("abc")));
        assert!(!same_token(Some("abc"), Some("abd")));
        assert!(!same_token(Some("ab"), Some("abc")));
        assert!(!same_token(None, Some("abc")));
        assert!(!same_token(Some(""), Some("")));
        assert!(!same_token(Some("abc"), None));
    }

    #[test]
    fn cookies_are_found_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; b=2"));
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("speaknode_session=tok"),
        );
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn cookies_are_secure_only_behind_https() {
        let mut headers = HeaderMap::new();
        let plain = set_cookie(&headers, "n", "v", Some(60));
        assert_eq!(plain, "n=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60");
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let secure = set_cookie(&headers, "n", "v", None);
        assert_eq!(secure, "n=v; Path=/; HttpOnly; SameSite=Strict; Secure");
    }
}
