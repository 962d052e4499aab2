//! The dashboard: server-rendered pages over the same store as the JSON API, served by the same
//! process at `/`. Customers sign in with an API key, manage their webhooks and read each
//! webhook's Request History. Every page is an askama template ending in `.html`, so everything
//! it shows is escaped; the stylesheet and the small script are compiled into the binary, so no
//! request ever leaves the service. The core flows are plain links and forms and work without
//! JavaScript; the script only adds Copy and the form's "Add header" and "Add filter path"
//! buttons, and refreshes the history while deliveries are pending.
//!
//! Every action a page offers is a use case in `service`, the same one the API calls; the
//! dashboard only reads forms and writes pages.
//!
//! Modules: `brand` (the portal's name, accent and logo on every page), `session` (sign-in,
//! sessions, CSRF), `webhooks` (list and forms), `options_form`
//! (the delivery options in the form), `page` (one webhook: settings and options, secret, test
//! sends), `history` (Request History and retries), `event_types`, `format` (how values read on
//! a page).

mod activity;
mod brand;
mod event_types;
mod events;
mod form;
pub(crate) mod format;
mod history;
mod options_form;
mod page;
mod session;
mod webhooks;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::config::Config;
use crate::domain::Invalid;
use crate::service::{Service, ServiceError, Trouble};
use crate::store::StoreError;
use crate::web::PageHeaders;

pub(crate) use brand::Brand;

/// What the pages can reach: the use cases (and through them the store) and the settings.
#[derive(Clone)]
pub struct PageState {
    pub service: Service,
    pub config: Arc<Config>,
}

/// A handler that needs only the use cases takes `State<Service>`.
impl axum::extract::FromRef<PageState> for Service {
    fn from_ref(state: &PageState) -> Self {
        state.service.clone()
    }
}

impl PageState {
    /// How cookies are sent: for a dashboard that may be framed by another site, or not.
    fn cookies(&self) -> session::CookiePolicy {
        session::CookiePolicy {
            embedded: !self.config.portal.embed_origins.is_empty(),
        }
    }
}

/// The dashboard's routes, with their state.
pub fn router(state: PageState) -> Router {
    // Pages may be framed only by the origins in SPEAKNODE_PORTAL_EMBED_ORIGINS (none unset).
    let headers = PageHeaders::new(&state.config.portal.embed_origins);
    let brand = Arc::new(Brand::new(&state.config.portal));
    let branding = Router::new()
        .route("/assets/brand.css", get(brand::stylesheet_route))
        .route("/assets/logo", get(brand::logo))
        .route("/favicon.ico", get(brand::favicon))
        .with_state(brand.clone());
    Router::new()
        .route("/", get(|| async { Redirect::to("/webhooks") }))
        .route("/login", get(session::login_page).post(session::login))
        .route("/portal/{token}", get(session::portal))
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
        .route("/events", get(events::list))
        .route("/events/{id}", get(events::show))
        .route("/event-types", get(event_types::list))
        .route("/assets/app.css", get(stylesheet))
        .route("/assets/app.js", get(script))
        .route("/assets/icon.svg", get(icon))
        .merge(branding)
        // Every page, error pages included, is rendered with the brand (see `brand`).
        .layer(axum::middleware::from_fn_with_state(brand, brand::scope))
        .layer(axum::middleware::map_response(move |response| {
            let headers = headers.clone();
            async move { headers.apply(response) }
        }))
        .with_state(state)
}

const STYLESHEET: &str = include_str!("assets/app.css");
const SCRIPT: &str = include_str!("assets/app.js");
const ICON: &str = include_str!("assets/icon.svg");

/// Assets are public (the login page needs them) and change only with the binary (or, for the
/// brand's, with a restart).
fn asset(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body.into(),
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
    match brand::render_branded(page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a dashboard template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub(crate) enum PageError {
    NotFound,
    /// A form without the session's CSRF token, or with a wrong one.
    Forbidden,
    /// A read-only session asked to change something, or for a secret.
    ReadOnly,
    /// A form larger than the dashboard takes (bytes).
    TooLarge(usize),
    /// A value the form should never send (the dashboard's own forms cannot): shown as it is.
    Invalid(Invalid),
    /// Something the operator must fix first.
    Unavailable(&'static str),
    /// The store failed; logged once, here.
    Store(StoreError),
}

impl From<ServiceError> for PageError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::NotFound(_) => Self::NotFound,
            ServiceError::Invalid(invalid)
            | ServiceError::Malformed(invalid)
            | ServiceError::Conflict(invalid) => Self::Invalid(invalid),
            ServiceError::Rejected(all) => match all.into_iter().next() {
                Some(first) => Self::Invalid(first),
                None => Self::Unavailable("The request was refused."),
            },
            ServiceError::Unavailable(why) => Self::Unavailable(why),
            // Pages that sign in answer these themselves, beside the form.
            ServiceError::Throttled(_) | ServiceError::Refused => Self::Forbidden,
            ServiceError::Store(e) => Self::Store(e),
        }
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
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
        let went_wrong = "Something went wrong";
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
            Self::ReadOnly => (
                StatusCode::FORBIDDEN,
                "This session is read-only",
                "It shows every page but changes nothing and shows no secret. Nothing was \
                 changed."
                    .to_string(),
            ),
            Self::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                went_wrong,
                format!("The request body is larger than the limit of {limit} bytes."),
            ),
            Self::Invalid(invalid) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                went_wrong,
                format!("{} {}", invalid.field, invalid.message),
            ),
            Self::Unavailable(why) => (StatusCode::SERVICE_UNAVAILABLE, went_wrong, why.into()),
            Self::Store(e) => {
                let trouble = Trouble::of(e);
                let status = match trouble {
                    Trouble::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                    Trouble::Conflict(_) => StatusCode::CONFLICT,
                    Trouble::Internal => StatusCode::INTERNAL_SERVER_ERROR,
                };
                (status, went_wrong, trouble.message().to_string())
            }
        };
        render(status, &ErrorPage { title, message })
    }
}

pub(crate) type PageResult<T> = Result<T, PageError>;
