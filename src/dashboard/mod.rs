//! The dashboard: server-rendered pages over the same store as the JSON API, served by the same
//! process at `/`. Customers sign in with an API key, manage their webhooks and read each
//! webhook's Request History. Every page is an askama template ending in `.html`, so everything
//! it shows is escaped; the stylesheet and the small script are compiled into the binary, so no
//! request ever leaves the service. The core flows are plain links and forms and work without
//! JavaScript; the script only adds Copy and the form's "Add header" and "Add filter path"
//! buttons, and refreshes the history while deliveries are pending.
//!
//! Modules: `session` (sign-in, sessions, CSRF), `webhooks` (list and forms), `options_form`
//! (the delivery options in the form), `page` (one webhook: settings and options, secret, test
//! sends), `history` (Request History and retries), `event_types`, `format` (how values read on a page) and `throttle` (failed sign-ins per
//! client address).

mod event_types;
mod form;
pub(crate) mod format;
mod history;
mod options_form;
mod page;
mod session;
mod throttle;
mod webhooks;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub use throttle::LoginThrottle;

use crate::http::{ApiError, AppState, with_page_headers};
use crate::store::StoreError;

/// The dashboard's routes; the caller adds the state.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/webhooks") }))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/new", get(webhooks::new))
        .route("/webhooks/{id}", get(page::show))
        .route(
            "/webhooks/{id}/edit",
            get(webhooks::edit).post(webhooks::update),
        )
        .route("/webhooks/{id}/enabled", post(webhooks::set_enabled))
        .route("/webhooks/{id}/delete", post(webhooks::delete))
        .route("/webhooks/{id}/secret", get(page::secret))
        .route("/webhooks/{id}/secret/rotate", post(page::rotate))
        .route("/webhooks/{id}/test", post(page::test_send))
        .route("/webhooks/{id}/replay", post(page::replay))
        .route(
            "/webhooks/{id}/attempts/{attempt_id}/retry",
            post(history::retry),
        )
        .route("/event-types", get(event_types::list))
        .route("/assets/app.css", get(stylesheet))
        .route("/assets/app.js", get(script))
        .route("/assets/icon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .layer(axum::middleware::map_response(security_headers))
}

/// Pages may only load what the service itself serves: no inline script or style, no framing,
/// forms post only here (the same headers as the API reference at `/docs`).
async fn security_headers(response: Response) -> Response {
    with_page_headers(response)
}

const STYLESHEET: &str = include_str!("assets/app.css");
const SCRIPT: &str = include_str!("assets/app.js");
const ICON: &str = include_str!("assets/icon.svg");

/// Assets are public (the login page needs them) and change only with the binary.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}

/// Renders a page, or the error page if the template fails (it never should).
pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a dashboard template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}

/// Why a page could not be shown. Store errors are logged by [`ApiError`]'s mapping, once.
#[derive(Debug)]
pub(crate) enum PageError {
    NotFound,
    /// A form without the session's CSRF token, or with a wrong one.
    Forbidden,
    /// An error the shared API code answered, shown with its status and message.
    Api(ApiError),
}

impl From<crate::service::ServiceError> for PageError {
    fn from(error: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError;
        match error {
            ServiceError::NotFound(_) => Self::NotFound,
            ServiceError::Invalid(invalid) => Self::Api(invalid.into()),
            ServiceError::Unavailable(why) => Self::Api(ApiError::unavailable_because(why)),
            ServiceError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        Self::Api(error.into())
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        if error.status == StatusCode::NOT_FOUND {
            Self::NotFound
        } else {
            Self::Api(error)
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such page or webhook in this workspace.".to_string(),
            ),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was sent without a valid security token, so nothing was changed. \
                 Go back, reload the page and try again."
                    .to_string(),
            ),
            Self::Api(e) => (e.status, "Something went wrong", e.message),
        };
        render(status, &ErrorPage { title, message })
    }
}

pub(crate) type PageResult<T> = Result<T, PageError>;
