//! The status callback receiver behind `dialer serve`: Twilio posts each call-progress event
//! to the campaign's `[callbacks] public_url`. A request is believed only if its
//! `X-Twilio-Signature` matches the auth token over the *public* URL (what Twilio signed, not
//! the local address behind a proxy); anything else is refused with 403 and leaves no trace.
//! The URL's query carries the attempt's token (see `AttemptToken`), signed with the rest,
//! and its fragment dialer's connection overrides (see `twilio::connection`), which never
//! reach us: a signature over the URL with or without them is accepted. A genuine callback
//! that is not this campaign's call (`belonging`) is answered 200 and counted as a stray.
//! A body must be small and arrive promptly; refusals are counted (`refusals`), not logged one
//! by one. A body over the limit is still read (up to `DRAIN_LIMIT`) before the 413, which
//! closes the connection: a client still sending would otherwise see the connection reset
//! instead of the answer.

use super::refusals::{Refusals, Refused};
use super::server::Peer;
use super::{CallStatus, Recorder, belonging};
use crate::domain::{AttemptToken, CallSid, Caller};
use crate::metrics::CallbackResult;
use crate::store::{CallObservation, EventSource, Recorded};
use crate::twilio::{connection, signature};
use axum::Extension;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Everything a callback is checked and recorded with.
pub struct Receiver {
    pub recorder: Recorder,
    /// The campaign's caller (`campaign.from`), for rows without their own.
    pub caller: Caller,
    /// The account's auth token: Twilio signs callbacks with it.
    pub auth_token: SecretString,
    pub public_url: url::Url,
    pub refusals: Arc<Refusals>,
}

/// Twilio's callbacks are a few kilobytes; anything much larger is not one.
pub const MAX_BODY: usize = 64 * 1024;
/// A body must have arrived this long after its headers.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of a body over `MAX_BODY` is read and thrown away before the 413, so that the
/// client reads the answer; a larger one is cut off.
pub const DRAIN_LIMIT: usize = 4 * 1024 * 1024;

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

    /// A refusal before the body was read to its end closes the connection (what is left of
    /// the body would be read as the next request).
    fn answer(&self) -> Response {
        match self {
            Self::TooLarge | Self::TooSlow => {
                (self.status(), [(header::CONNECTION, "close")]).into_response()
            }
            _ => self.status().into_response(),
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
) -> Response {
    let peer = peer.map(|Extension(Peer(ip))| ip);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let body = match read_body(body, declared).await {
        Ok(body) => body,
        Err(refusal) => return receiver.refuse(refusal, peer),
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
) -> Response {
    let peer = peer.map(|Extension(Peer(ip))| ip);
    let params = pairs(query.as_deref().unwrap_or_default().as_bytes());
    receiver
        .receive(&headers, query.as_deref(), &[], &params, peer)
        .await
}

/// The body, at most `MAX_BODY` bytes, all of it within `BODY_TIMEOUT`. One over the limit is
/// read on and thrown away up to `DRAIN_LIMIT` (within the same deadline), so that the 413
/// reaches a client that is still sending.
async fn read_body(body: Body, declared: Option<usize>) -> Result<Bytes, Refusal> {
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(Refusal::TooLarge);
    }
    let deadline = tokio::time::Instant::now() + BODY_TIMEOUT;
    let mut chunks = body.into_data_stream();
    let mut kept = Vec::new();
    let mut seen = 0usize;
    loop {
        match tokio::time::timeout_at(deadline, chunks.next()).await {
            Err(_) if seen > MAX_BODY => return Err(Refusal::TooLarge),
            Err(_) => return Err(Refusal::TooSlow),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(Refusal::Malformed(format!("body not read: {e}"))),
            Ok(Some(Ok(chunk))) => {
                seen += chunk.len();
                if seen <= MAX_BODY {
                    kept.extend_from_slice(&chunk);
                } else if seen > DRAIN_LIMIT {
                    return Err(Refusal::TooLarge);
                }
            }
        }
    }
    if seen > MAX_BODY {
        return Err(Refusal::TooLarge);
    }
    Ok(Bytes::from(kept))
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
    ) -> Response {
        let seen = match self.check(headers, query, signed, params) {
            Ok(seen) => seen,
            Err(refusal) => return self.refuse(refusal, peer),
        };
        if let Some(token) = seen.attempt {
            let get = |name: &str| param(params, name);
            match belonging::stray(
                self.recorder.store(),
                &self.caller,
                token,
                get("To"),
                get("From"),
            )
            .await
            {
                Ok(None) => {}
                Ok(Some(why)) => return self.stray(&seen.call_sid, &why, peer),
                Err(e) => {
                    tracing::error!(call_sid = %seen.call_sid, "could not check a status callback's attempt: {e}");
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            }
        }
        match self.recorder.record(&seen).await {
            Ok(recorded) => {
                let result = match recorded {
                    Recorded::Duplicate => CallbackResult::Duplicate,
                    _ => CallbackResult::Accepted,
                };
                self.recorder.metrics().callback(result);
                StatusCode::OK.into_response()
            }
            Err(e) => {
                tracing::error!(call_sid = %seen.call_sid, "could not record a status callback: {e}");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }

    /// A genuine callback of a call that is not this campaign's: answered 200 (Twilio has
    /// nothing to try again), counted and logged like a refusal, never applied.
    fn stray(&self, call_sid: &CallSid, why: &str, peer: Option<IpAddr>) -> Response {
        self.recorder.metrics().callback(CallbackResult::Stray);
        let detail = format!("a stray, not applied: call {call_sid}: {why}");
        if let Some(line) = self.refusals.refused(Refused::Stray, &detail, peer) {
            tracing::warn!("{line}");
        }
        StatusCode::OK.into_response()
    }

    fn refuse(&self, refusal: Refusal, peer: Option<IpAddr>) -> Response {
        let answer = refusal.answer();
        self.recorder
            .metrics()
            .callback(refusal.counted_as().into());
        if let Some(line) = self
            .refusals
            .refused(refusal.counted_as(), &refusal.to_string(), peer)
        {
            tracing::warn!("{line}");
        }
        answer
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
        let token = self.auth_token.expose_secret();
        let genuine = connection::signed_urls(&self.public_url, query)
            .iter()
            .any(|url| signature::verify(token, url, signed, given));
        if !genuine {
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
    let get = |name: &str| param(params, name);
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

/// The last value of a parameter.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
