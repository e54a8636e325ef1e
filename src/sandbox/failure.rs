//! Every refusal the sandbox answers, as Twilio's JSON error body with Twilio's codes.
//!
//! Codes chosen (Twilio's where Twilio documents one for the case):
//! - 20003 Authenticate: 401 for wrong credentials; 403 when valid credentials name another
//!   account in the path (the client aborts on either).
//! - 20404 not found; 20004 method not allowed; 20429 too many requests (with `Retry-After`);
//!   20500 internal error (the request was not processed).
//! - 21211 invalid To, 21212 invalid From, 16024 invalid Label, 20001 any other invalid
//!   parameter (the message is the parameter rule).
//! - 16020 conference full, 16025 label in use by an active participant, 22005 call queue
//!   longer than the account's limit.

use crate::twilio::error::{CODE_CONFERENCE_FULL, CODE_QUEUE_FULL, CODE_TOO_MANY_REQUESTS};
use crate::twilio::{ErrorBody, ParamError};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub(crate) const CODE_AUTHENTICATE: u32 = 20003;
pub(crate) const CODE_NOT_FOUND: u32 = 20404;
pub(crate) const CODE_METHOD_NOT_ALLOWED: u32 = 20004;
pub(crate) const CODE_INTERNAL: u32 = 20500;
pub(crate) const CODE_INVALID_PARAMETER: u32 = 20001;
pub(crate) const CODE_INVALID_TO: u32 = 21211;
pub(crate) const CODE_INVALID_FROM: u32 = 21212;
pub(crate) const CODE_INVALID_LABEL: u32 = 16024;
pub(crate) const CODE_LABEL_IN_USE: u32 = 16025;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status} code {code}: {message}")]
pub(crate) struct Failure {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl Failure {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            CODE_NOT_FOUND,
            "The requested resource was not found",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            CODE_METHOD_NOT_ALLOWED,
            "Method not allowed",
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, CODE_AUTHENTICATE, "Authenticate")
    }

    pub fn other_account() -> Self {
        Self::new(StatusCode::FORBIDDEN, CODE_AUTHENTICATE, "Authenticate")
    }

    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            CODE_TOO_MANY_REQUESTS,
            "Too Many Requests",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            CODE_INTERNAL,
            "Internal Server Error",
        )
    }

    pub fn bad_request(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid_to() -> Self {
        Self::bad_request(CODE_INVALID_TO, "Invalid 'To' Phone Number")
    }

    pub fn conference_full(max: usize) -> Self {
        Self::bad_request(
            CODE_CONFERENCE_FULL,
            format!("Conference is full: it has {max} participants"),
        )
    }

    pub fn label_in_use(label: &str) -> Self {
        Self::bad_request(
            CODE_LABEL_IN_USE,
            format!("Participant label {label:?} is in use by another participant"),
        )
    }

    pub fn queue_full() -> Self {
        Self::bad_request(CODE_QUEUE_FULL, "Call queue limit exceeded")
    }

    /// A parameter rule broken, with the code Twilio uses for that parameter.
    pub fn invalid_param(error: &ParamError) -> Self {
        match error.param.as_str() {
            "To" => Self::bad_request(
                CODE_INVALID_TO,
                format!("Invalid 'To' Phone Number: {}", error.rule),
            ),
            "From" => Self::bad_request(
                CODE_INVALID_FROM,
                format!("Invalid 'From' Phone Number: {}", error.rule),
            ),
            "Label" => Self::bad_request(CODE_INVALID_LABEL, error.to_string()),
            _ => Self::bad_request(CODE_INVALID_PARAMETER, error.to_string()),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = ErrorBody::new(self.status.as_u16(), self.code, self.message);
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
