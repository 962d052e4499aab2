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
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use super::PageState;
use super::form::Fields;
use super::{PageError, PageResult, render};
use crate::domain::ids::random_base62;
use crate::service::{ServiceError, SessionToken, TOKEN_CHARS};
use crate::web::retry_after_seconds;

const SESSION_COOKIE: &str = "speaknode_session";
const LOGIN_COOKIE: &str = "speaknode_login";

/// The signed-in workspace, for any page. Without a live session the request is sent to `/login`.
pub struct SignedIn {
    pub workspace_id: String,
    pub workspace_name: String,
    csrf_token: String,
    /// Sees every page and changes nothing (support staff, through a read-only portal link).
    pub read_only: bool,
    /// The session's token, from the cookie (to sign out with).
    token: String,
}

/// What the sidebar and the page frame show.
pub struct Layout {
    pub workspace: String,
    pub csrf: String,
    pub nav: &'static str,
    pub notice: Option<&'static str>,
    /// Controls that change anything are left out.
    pub read_only: bool,
}

impl SignedIn {
    pub fn layout(&self, nav: &'static str, notice: Option<&'static str>) -> Layout {
        Layout {
            workspace: self.workspace_name.clone(),
            csrf: self.csrf_token.clone(),
            nav,
            notice,
            read_only: self.read_only,
        }
    }

    /// Refuses a read-only session what would change something or show a secret.
    pub fn may_change(&self) -> PageResult<()> {
        match self.read_only {
            true => Err(PageError::ReadOnly),
            false => Ok(()),
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
            read_only: s.read_only,
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
/// a 403 and the handler never runs, and so is any POST from a read-only session.
pub struct Posted {
    pub me: SignedIn,
    pub fields: Fields,
}

impl Posted {
    async fn read(req: Request<Body>, state: &PageState) -> Result<Self, Response> {
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

impl FromRequest<PageState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request<Body>, state: &PageState) -> Result<Self, Response> {
        let posted = Self::read(req, state).await?;
        posted
            .me
            .may_change()
            .map_err(IntoResponse::into_response)?;
        Ok(posted)
    }
}

/// The Log out form: a POST with its CSRF token, the one a read-only session may send.
pub struct SignOut(Posted);

impl FromRequest<PageState> for SignOut {
    type Rejection = Response;

    async fn from_request(req: Request<Body>, state: &PageState) -> Result<Self, Response> {
        Posted::read(req, state).await.map(Self)
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

/// How the dashboard's cookies are sent: `SameSite=Strict` normally; when the dashboard may be
/// framed by another site (`SPEAKNODE_PORTAL_EMBED_ORIGINS`), `SameSite=None; Secure;
/// Partitioned`, the only kind browsers keep in a third-party frame (partitioned: the cookie
/// lives only inside the framing site, so it is no tracking cookie). The CSRF tokens protect the
/// forms either way.
#[derive(Clone, Copy)]
pub struct CookiePolicy {
    pub embedded: bool,
}

impl CookiePolicy {
    /// A `Set-Cookie` value; `max_age` `None` makes a cookie that ends with the browser session.
    fn set(
        self,
        headers: &HeaderMap,
        name: &str,
        value: &str,
        max_age: Option<i64>,
    ) -> HeaderValue {
        let mut cookie = format!("{name}={value}; Path=/; HttpOnly");
        if self.embedded {
            // Browsers treat http://localhost and 127.0.0.1 as secure contexts too.
            cookie.push_str("; SameSite=None; Secure; Partitioned");
        } else {
            cookie.push_str("; SameSite=Strict");
            if came_over_https(headers) {
                cookie.push_str("; Secure");
            }
        }
        if let Some(seconds) = max_age {
            cookie.push_str(&format!("; Max-Age={seconds}"));
        }
        // Tokens are base62, so the value is always a valid header.
        HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static(""))
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    error: Option<String>,
    /// `SPEAKNODE_DASHBOARD_KEY_LOGIN`: without it the page only says where to come from.
    key_login: bool,
    /// Focus the key's box; not when the page may be framed, where Chromium refuses autofocus
    /// in a cross-site frame with a console error.
    autofocus: bool,
}

/// The sign-in form, with a fresh double-submit token.
fn login_form(
    state: &PageState,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let csrf = random_base62(TOKEN_CHARS);
    let page = LoginPage {
        csrf: csrf.clone(),
        error,
        key_login: state.config.portal.key_login,
        autofocus: !state.cookies().embedded,
    };
    let mut response = render(status, &page);
    let cookie = state.cookies().set(headers, LOGIN_COOKIE, &csrf, None);
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

pub async fn login_page(
    State(state): State<PageState>,
    headers: HeaderMap,
) -> PageResult<Response> {
    if SignedIn::find(&headers, &state).await?.is_some() {
        return Ok(Redirect::to("/webhooks").into_response());
    }
    Ok(login_form(&state, &headers, StatusCode::OK, None))
}

/// The answer to a sign-in from an address that failed too often (`SPEAKNODE_LOGIN_ATTEMPTS`):
/// 429 with `Retry-After`, and the form again with when to try.
fn throttled(state: &PageState, headers: &HeaderMap, wait: Duration) -> Response {
    let mut response = login_form(
        state,
        headers,
        StatusCode::TOO_MANY_REQUESTS,
        Some(throttled_message(wait)),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after_seconds(wait)),
    );
    response
}

fn throttled_message(wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!(
        "Too many failed sign-ins from your network address. The key was not checked. \
         Try again in {minutes} {unit}."
    )
}

pub async fn login(
    State(state): State<PageState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> PageResult<Response> {
    if !state.config.portal.key_login {
        return Ok(login_form(&state, &headers, StatusCode::FORBIDDEN, None));
    }
    let fields = Fields::read(body).await?;
    if !same_token(fields.get("csrf"), cookie(&headers, LOGIN_COOKIE)) {
        return Err(PageError::Forbidden);
    }
    let key = fields.get("api_key").unwrap_or("");
    let session = match state.service.sign_in(key, peer.ip()).await {
        Ok(session) => session,
        Err(ServiceError::Throttled(wait)) => return Ok(throttled(&state, &headers, wait)),
        Err(ServiceError::Refused) => {
            let error = "That API key is not valid. Check it and try again.".to_string();
            // 200, like any form shown again with its errors: browsers log non-2xx pages as
            // failures.
            return Ok(login_form(&state, &headers, StatusCode::OK, Some(error)));
        }
        Err(e) => return Err(e.into()),
    };
    let mut response = signed_in(&state, &headers, &session);
    let cookie = state.cookies().set(&headers, LOGIN_COOKIE, "", Some(0));
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// To the Webhooks page, with the new session's cookie.
fn signed_in(state: &PageState, headers: &HeaderMap, session: &SessionToken) -> Response {
    let mut response = Redirect::to("/webhooks").into_response();
    let max_age = Some(session.max_age_secs);
    let cookie = state
        .cookies()
        .set(headers, SESSION_COOKIE, &session.token, max_age);
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

#[derive(Template)]
#[template(path = "portal_invalid.html")]
struct InvalidLinkPage {
    /// Set when the address is throttled: when to try again.
    wait: Option<String>,
}

/// `GET /portal/{token}`: a portal link. A good one signs the browser in (303 to the Webhooks
/// page with a session cookie); an unknown, used or expired one gets the same 404 page and no
/// cookie. Failures count towards `SPEAKNODE_LOGIN_ATTEMPTS` like sign-ins, so links cannot be
/// guessed. The token is in the path only: it is never logged (see `logging`).
pub async fn portal(
    State(state): State<PageState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> PageResult<Response> {
    match state.service.open_portal_link(&token, peer.ip()).await {
        Ok((session, _read_only)) => Ok(signed_in(&state, &headers, &session)),
        Err(ServiceError::Refused) => {
            let page = InvalidLinkPage { wait: None };
            Ok(render(StatusCode::NOT_FOUND, &page))
        }
        Err(ServiceError::Throttled(wait)) => {
            let page = InvalidLinkPage {
                wait: Some(throttled_message(wait)),
            };
            let mut response = render(StatusCode::TOO_MANY_REQUESTS, &page);
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_seconds(wait)),
            );
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(
    State(state): State<PageState>,
    headers: HeaderMap,
    SignOut(posted): SignOut,
) -> PageResult<Response> {
    state.service.sign_out(&posted.me.token).await?;
    let mut response = Redirect::to("/login").into_response();
    let cookie = state.cookies().set(&headers, SESSION_COOKIE, "", Some(0));
    response.headers_mut().append(header::SET_COOKIE, cookie);
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
        let own = CookiePolicy { embedded: false };
        let plain = own.set(&headers, "n", "v", Some(60));
        assert_eq!(plain, "n=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60");
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let secure = own.set(&headers, "n", "v", None);
        assert_eq!(secure, "n=v; Path=/; HttpOnly; SameSite=Strict; Secure");
    }

    #[test]
    fn embedded_cookies_are_the_kind_a_third_party_frame_keeps() {
        let framed = CookiePolicy { embedded: true }.set(&HeaderMap::new(), "n", "v", Some(60));
        assert_eq!(
            framed,
            "n=v; Path=/; HttpOnly; SameSite=None; Secure; Partitioned; Max-Age=60"
        );
    }
}
