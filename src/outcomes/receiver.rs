//! The status callback receiver behind `dialer serve`: Twilio posts each call-progress event
//! to the campaign's `[callbacks] public_url`. A request is believed only if its
//! `X-Twilio-Signature` matches the auth token over the *public* URL (what Twilio signed, not
//! the local address behind a proxy); anything else is refused with 403 and leaves no trace.
//! The URL's query carries the attempt's token (see `AttemptToken`), signed with the rest.
//! A body must be small and arrive promptly; refusals are counted (`refusals`), not logged one
//! by one.

use super::refusals::{Refusals, Refused};
use super::server::Peer;
use super::{CallStatus, Recorder};
use crate::domain::{AttemptToken, CallSid};
use crate::metrics::CallbackResult;
use crate::store::{CallObservation, EventSource, Recorded};
use crate::twilio::signature;
use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Everything a callback is checked and recorded with.
pub struct Receiver {
    pub recorder: Recorder,
    /// The account's auth token: Twilio signs callbacks with it.
    pub auth_token: SecretString,
    pub public_url: url::Url,
    pub refusals: Arc<Refusals>,
}

/// Twilio's callbacks are a few kilobytes; anything much larger is not one.
pub const MAX_BODY: usize = 64 * 1024;
/// A body must have arrived this long after its headers.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a callback was not recorded.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("no valid X-Twilio-Signature")]
    Forged,
    #[error("{0}")]
    Malformed(String),
    #[error("body over {MAX_BODY} bytes")]
    TooLarge,
    #[error("body not sent within {BODY_TIMEOUT:?}")]
    TooSlow,
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Self::Forged => StatusCode::FORBIDDEN,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooSlow => StatusCode::REQUEST_TIMEOUT,
        }
    }

    fn counted_as(&self) -> Refused {
        match self {
            Self::Forged => Refused::BadSignature,
            Self::Malformed(_) => Refused::Malformed,
            Self::TooLarge => Refused::TooLarge,
            Self::TooSlow => Refused::TooSlow,
        }
    }
}

/// The routes: POST (Twilio's default) and GET at the public URL's path.
pub fn router(receiver: Receiver) -> Router {
    let path = receiver.public_url.path().to_owned();
    Router::new()
        .route(&path, post(receive_form).get(receive_query))
        .with_state(Arc::new(receiver))
}

async fn receive_form(
    State(receiver): State<Arc<Receiver>>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> StatusCode {
    let peer = peer.map(|Extension(Peer(ip))| ip);
    let body = match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY)).await
    {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return receiver.refuse(Refusal::TooLarge, peer),
        Err(_) => return receiver.refuse(Refusal::TooSlow, peer),
    };
    let params = pairs(&body);
    receiver
        .receive(&headers, query.as_deref(), &params, &params, peer)
        .await
}

/// By GET the parameters are in the query, which the signature covers as part of the URL.
async fn receive_query(
    State(receiver): State<Arc<Receiver>>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> StatusCode {
    let peer = peer.map(|Extension(Peer(ip))| ip);
    let params = pairs(query.as_deref().unwrap_or_default().as_bytes());
    receiver
        .receive(&headers, query.as_deref(), &[], &params, peer)
        .await
}

fn pairs(encoded: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(encoded).into_owned().collect()
}

impl Receiver {
    async fn receive(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
        signed: &[(String, String)],
        params: &[(String, String)],
        peer: Option<IpAddr>,
    ) -> StatusCode {
        let seen = match self.check(headers, query, signed, params) {
            Ok(seen) => seen,
            Err(refusal) => return self.refuse(refusal, peer),
        };
        match self.recorder.record(&seen).await {
            Ok(recorded) => {
                let result = match recorded {
                    Recorded::Duplicate => CallbackResult::Duplicate,
                    _ => CallbackResult::Accepted,
                };
                self.recorder.metrics().callback(result);
                StatusCode::OK
            }
            Err(e) => {
                tracing::error!(call_sid = %seen.call_sid, "could not record a status callback: {e}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn refuse(&self, refusal: Refusal, peer: Option<IpAddr>) -> StatusCode {
        let status = refusal.status();
        self.recorder
            .metrics()
            .callback(refusal.counted_as().into());
        if let Some(line) = self
            .refusals
            .refused(refusal.counted_as(), &refusal.to_string(), peer)
        {
            tracing::warn!("{line}");
        }
        status
    }

    fn check(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
        signed: &[(String, String)],
        params: &[(String, String)],
    ) -> Result<CallObservation, Refusal> {
        let given = headers
            .get("X-Twilio-Signature")
            .and_then(|v| v.to_str().ok())
            .ok_or(Refusal::Forged)?;
        let mut url = self.public_url.clone();
        url.set_query(query);
        if !signature::verify(self.auth_token.expose_secret(), url.as_str(), signed, given) {
            return Err(Refusal::Forged);
        }
        let mut seen = observation(params, EventSource::Callback)?;
        seen.attempt = query.and_then(AttemptToken::from_query);
        Ok(seen)
    }
}

/// A call-progress event's parameters as an observation; `SequenceNumber` falls back to the
/// status's progress when absent.
fn observation(
    params: &[(String, String)],
    source: EventSource,
) -> Result<CallObservation, Refusal> {
    let get = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let malformed = |what: String| Refusal::Malformed(what);
    let call_sid = get("CallSid").ok_or_else(|| malformed("no CallSid".into()))?;
    let call_sid = CallSid::parse(call_sid).map_err(|e| malformed(format!("CallSid {e}")))?;
    let status = get("CallStatus").ok_or_else(|| malformed("no CallStatus".into()))?;
    let status = CallStatus::parse(status).map_err(|e| malformed(e.to_string()))?;
    let number = |name: &str| -> Result<Option<i64>, Refusal> {
        get(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| malformed(format!("{name} {v:?} is not a number")))
            })
            .transpose()
    };
    let params_json: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    Ok(CallObservation {
        call_sid,
        attempt: None,
        source,
        sequence_number: number("SequenceNumber")?.unwrap_or(status.progress()),
        status,
        answered_by: get("AnsweredBy").map(str::to_owned),
        duration_secs: number("CallDuration")?,
        params: serde_json::Value::Object(params_json).to_string(),
    })
}
