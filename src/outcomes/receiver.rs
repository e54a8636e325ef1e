//! The status callback receiver behind `dialer serve`: Twilio posts each call-progress event
//! to the campaign's `[callbacks] public_url`. A request is believed only if its
//! `X-Twilio-Signature` matches the auth token over the *public* URL (what Twilio signed, not
//! the local address behind a proxy); anything else is refused with 403 and leaves no trace.
//! The URL's query carries the attempt's token (see `AttemptToken`), signed with the rest.

use super::{CallStatus, Recorder};
use crate::domain::{AttemptToken, CallSid};
use crate::store::{CallObservation, EventSource};
use crate::twilio::signature;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

/// Everything a callback is checked and recorded with.
pub struct Receiver {
    pub recorder: Recorder,
    /// The account's auth token: Twilio signs callbacks with it.
    pub auth_token: SecretString,
    pub public_url: url::Url,
}

/// Why a callback was not recorded.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("no valid X-Twilio-Signature")]
    Forged,
    #[error("{0}")]
    Malformed(String),
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
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> StatusCode {
    let params = pairs(&body);
    receiver
        .receive(&headers, query.as_deref(), &params, &params)
        .await
}

/// By GET the parameters are in the query, which the signature covers as part of the URL.
async fn receive_query(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> StatusCode {
    let params = pairs(query.as_deref().unwrap_or_default().as_bytes());
    receiver
        .receive(&headers, query.as_deref(), &[], &params)
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
    ) -> StatusCode {
        let seen = match self.check(headers, query, signed, params) {
            Ok(seen) => seen,
            Err(refusal) => {
                tracing::warn!("status callback refused: {refusal}");
                return match refusal {
                    Refusal::Forged => StatusCode::FORBIDDEN,
                    Refusal::Malformed(_) => StatusCode::BAD_REQUEST,
                };
            }
        };
        match self.recorder.record(&seen).await {
            Ok(_) => StatusCode::OK,
            Err(e) => {
                tracing::error!(call_sid = %seen.call_sid, "could not record a status callback: {e}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
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
        call_sid: call_sid.as_str().to_owned(),
        attempt: None,
        source,
        sequence_number: number("SequenceNumber")?.unwrap_or(status.progress()),
        status,
        answered_by: get("AnsweredBy").map(str::to_owned),
        duration_secs: number("CallDuration")?,
        params: serde_json::Value::Object(params_json).to_string(),
    })
}
