//! `POST /optouts` on `dialer serve`: a CRM or an IVR records that a person asked not to be
//! called again, for every campaign of the database, honoured from the next claim on. The
//! caller proves itself with a bearer token (`--optout-token-file`, or the environment),
//! compared in constant time and never logged; without it the answer is 401 and nothing is
//! stored. The body is a form or a JSON object: `number` (E.164, or national in the campaign's
//! region), and optionally `expires` ("365d") and `note`.

use crate::domain::{Endpoint, Region, duration};
use crate::store::{OptOutSource, Store};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::Arc;

pub const PATH: &str = "/optouts";

/// An opt-out is a line or two: anything larger is no request of ours.
const MAX_BODY: usize = 16 * 1024;

pub struct OptOutRoute {
    pub store: Store,
    pub token: SecretString,
    pub region: Option<Region>,
}

#[derive(Deserialize)]
struct OptOutRequest {
    number: String,
    expires: Option<String>,
    note: Option<String>,
}

pub fn router(route: OptOutRoute) -> Router {
    Router::new()
        .route(PATH, post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(Arc::new(route))
}

async fn receive(
    State(route): State<Arc<OptOutRoute>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !route.authorized(&headers) {
        let challenge = [(header::WWW_AUTHENTICATE, "Bearer")];
        return (
            StatusCode::UNAUTHORIZED,
            challenge,
            "a bearer token is needed\n",
        )
            .into_response();
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let request: Result<OptOutRequest, String> = match json {
        true => serde_json::from_slice(&body).map_err(|e| e.to_string()),
        false => serde_urlencoded::from_bytes(&body).map_err(|e| e.to_string()),
    };
    let refuse =
        |why: String| (StatusCode::UNPROCESSABLE_ENTITY, format!("{why}\n")).into_response();
    let request = match request {
        Ok(request) => request,
        Err(why) => return refuse(format!("expected number (and expires, note): {why}")),
    };
    let number = match Endpoint::parse_in(&request.number, route.region) {
        Ok(number) => number,
        Err(e) => return refuse(format!("number: {e}")),
    };
    let lapse = match request.expires.as_deref().map(duration).transpose() {
        Ok(lapse) => lapse,
        Err(e) => return refuse(format!("expires: {e}")),
    };
    let expires_at =
        lapse.map(|d| route.store.now_ms() + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2));
    let note = request.note.as_deref();
    match route
        .store
        .add_opt_out(&number, expires_at, OptOutSource::Serve, note)
        .await
    {
        Ok(()) => {
            tracing::info!(number = %number.masked(), "opt-out recorded");
            (StatusCode::CREATED, "recorded\n").into_response()
        }
        Err(e) => {
            tracing::warn!("could not record an opt-out: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not record it: try again\n",
            )
                .into_response()
        }
    }
}

impl OptOutRoute {
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(given) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        constant_time_eq(
            given.trim().as_bytes(),
            self.token.expose_secret().as_bytes(),
        )
    }
}

/// Equal, in a time that does not tell how much of `given` matched.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let differ = given
        .iter()
        .zip(expected.iter().cycle())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    differ == 0 && given.len() == expected.len() && !expected.is_empty()
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn only_the_same_token_matches() {
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(!constant_time_eq(b"s3cre", b"s3cret"));
        assert!(!constant_time_eq(b"s3cret!", b"s3cret"));
        assert!(!constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"S3cret", b"s3cret"));
    }
}
