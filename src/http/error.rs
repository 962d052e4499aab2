//! The one error shape of the API: `{"error": {"code", "message", "field"}}` with its status.
//! Store errors, validation failures and extractor rejections all become an [`ApiError`] here,
//! and nowhere else. The OpenAPI document describes the body with the same types that write it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::validation::{Invalid, InvalidKind};
use crate::service::Trouble;
use crate::store::StoreError;

/// Every `code` an error body can carry: the contract's codes, plus `method_not_allowed`,
/// `unavailable` (the database does not answer) and `internal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    BlockedAddress,
    RateLimited,
    Unavailable,
    Internal,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    /// Sent as `Retry-After` (seconds) with the answer.
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after_secs: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "A valid API key is required: send it as 'Authorization: Bearer <key>'.",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("No such {what} in this workspace."),
        )
    }

    pub fn route_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "No such route.")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "This route does not take that method.",
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("The request body is larger than the limit of {limit} bytes."),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "The request body must be JSON, sent with 'Content-Type: application/json'.",
        )
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid::field(field, message).into()
    }

    /// 429: the API key's bucket is empty (`SPEAKNODE_RATE_LIMIT`); one more request fits in
    /// it after `retry_after_secs`.
    pub fn rate_limited(per_second: u32, retry_after_secs: u64) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!(
                "Too many requests with this API key: at most {per_second} per second are \
                 allowed. Retry after {retry_after_secs} s."
            ),
        );
        error.retry_after_secs = Some(retry_after_secs);
        error
    }

    pub fn unavailable() -> Self {
        Self::unavailable_because(Trouble::Unavailable.message())
    }

    /// 503 with a specific reason: the service cannot do it right now, and nothing changed.
    pub fn unavailable_because(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            message,
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            Trouble::Internal.message(),
        )
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        let code = match invalid.kind {
            InvalidKind::ValidationFailed => ErrorCode::ValidationFailed,
            InvalidKind::BlockedAddress => ErrorCode::BlockedAddress,
        };
        let message = format!("{} {}", invalid.field, invalid.message);
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(invalid.field)
    }
}

impl From<crate::service::ServiceError> for ApiError {
    fn from(error: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError;
        let sentence = |i: &Invalid| format!("{} {}", i.field, i.message);
        match error {
            ServiceError::NotFound(what) => Self::not_found(what),
            ServiceError::Invalid(invalid) => invalid.into(),
            // One error per answer: the first field at fault.
            ServiceError::Rejected(all) => all
                .into_iter()
                .next()
                .map_or_else(Self::internal, Into::into),
            ServiceError::Malformed(i) if i.field.is_empty() => Self::bad_request(i.message),
            ServiceError::Malformed(i) => Self::bad_request(sentence(&i)).with_field(i.field),
            ServiceError::Conflict(i) => {
                Self::conflict(format!("This {}.", sentence(&i))).with_field(i.field)
            }
            ServiceError::Unavailable(why) => Self::unavailable_because(why),
            // The API has no sign-in of its own; a refused credential is an unknown key.
            ServiceError::Throttled(_) | ServiceError::Refused => Self::unauthorized(),
            ServiceError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        let trouble = Trouble::of(error);
        let message = trouble.message().to_string();
        match trouble {
            Trouble::Conflict(_) => Self::conflict(message),
            Trouble::Unavailable => Self::unavailable_because(message),
            Trouble::Internal => Self::internal(),
        }
    }
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// A sentence for people; match on `code`, not on this.
    pub message: String,
    /// The one field at fault, as a dotted path (`url`, `data.transcript[0].role`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
}

impl ApiError {
    pub fn body(self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after_secs;
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The error answers the OpenAPI document shares between routes, one per status: each is an
/// [`ErrorBody`], with an example written by the same constructor the handlers call.
pub mod responses {
    use utoipa::ToSchema;
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};

    use super::{ApiError, ErrorBody};

    fn described(description: &str, example: ApiError) -> RefOr<Response> {
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(ErrorBody::name())))
            .example(serde_json::to_value(example.body()).ok())
            .build();
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build()
            .into()
    }

    /// 429 from `SPEAKNODE_RATE_LIMIT`, with its `Retry-After` header. Not a macro entry: it is
    /// the one error answer with a header.
    pub struct RateLimited;

    impl<'r> utoipa::ToResponse<'r> for RateLimited {
        fn response() -> (&'r str, RefOr<Response>) {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .example(serde_json::to_value(ApiError::rate_limited(5, 1).body()).ok())
                .build();
            let retry_after = HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some(
                    "Whole seconds until this API key may make its next request.",
                ))
                .build();
            let response = ResponseBuilder::new()
                .description(
                    "`rate_limited`: this API key made more requests than \
                     `SPEAKNODE_RATE_LIMIT` allows (per second, with bursts of two seconds' \
                     worth). Only when the operator set a rate limit.",
                )
                .header("Retry-After", retry_after)
                .content("application/json", content)
                .build();
            ("RateLimited", response.into())
        }
    }

    /// Declares a reusable response: `Name => (description, example error)`.
    macro_rules! error_responses {
        ($($name:ident => ($description:expr, $example:expr),)*) => {$(
            pub struct $name;

            impl<'r> utoipa::ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), described($description, $example))
                }
            }
        )*};
    }

    error_responses! {
        BadRequest => (
            "`bad_request`: the body is not a JSON object, is malformed, has an unknown field or \
             a value of the wrong JSON type, or the path cannot be read.",
            ApiError::bad_request("The request body must be a JSON object.")
        ),
        Unauthorized => (
            "`unauthorized`: the key is missing or wrong (admin routes: anything but the admin \
             token, including a workspace's API key).",
            ApiError::unauthorized()
        ),
        NotFound => (
            "`not_found`: no such resource in this workspace (another workspace's ids are not \
             found either).",
            ApiError::not_found("webhook")
        ),
        AdminNotFound => (
            "`not_found`: the admin routes do not exist while `SPEAKNODE_ADMIN_TOKEN` is unset, \
             or there is no such resource.",
            ApiError::route_not_found()
        ),
        Conflict => (
            "`conflict`: a uniqueness rule.",
            ApiError::conflict("This Idempotency-Key was already used with a different request body.")
                .with_field("Idempotency-Key")
        ),
        PayloadTooLarge => (
            "`payload_too_large`: the body is over `SPEAKNODE_MAX_PAYLOAD_BYTES`.",
            ApiError::payload_too_large(1_048_576)
        ),
        UnsupportedMediaType => (
            "`unsupported_media_type`: the body is not sent as `application/json`.",
            ApiError::unsupported_media_type()
        ),
        Unprocessable => (
            "`validation_failed` (a missing or invalid value; `field` names it) or \
             `blocked_address` (a URL on a loopback, private or otherwise blocked address).",
            ApiError::invalid("url", "is required")
        ),
        Unavailable => (
            "`unavailable`: the database does not answer (or the service cannot do it now); \
             nothing was changed. Try again shortly.",
            ApiError::unavailable()
        ),
    }
}
