//! Status callbacks: one task per call with a StatusCallback posts the requested call-progress
//! events when they fall due, with Twilio's parameters, signed with `X-Twilio-Signature`.
//! A hang-up wakes the task, which then reports `completed` at once. The URL's fragment is
//! read as Twilio reads its connection overrides: a failed try is tried again as `rc` and
//! `rp` say, each within `rt`, all within `tt` (`ct` is the client's own connect timeout
//! here). The signature covers the URL as it was given, fragment included; the fragment is
//! not sent. Failures that are not tried again are logged only.

use super::Shared;
use super::state::State;
use crate::domain::CallSid;
use crate::twilio::connection::{ConnectionOverrides, TryFailure};
use crate::twilio::signature;
use crate::twilio::values::{CallEvent, HttpMethod, WireWord};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;

/// The next event of a call still to report, from lifecycle position `from` on.
struct Due {
    event: CallEvent,
    at: Instant,
    wake: Arc<Notify>,
}

/// One callback request, ready to send.
struct Callback {
    url: String,
    method: HttpMethod,
    params: Vec<(String, String)>,
}

pub(crate) fn spawn(shared: Arc<Shared>, call: CallSid) {
    tokio::spawn(report(shared, call));
}

async fn report(shared: Arc<Shared>, call: CallSid) {
    let mut shutdown = shared.shutdown.clone();
    let mut from = 0;
    let mut sequence = 0;
    loop {
        let Some(due) = shared.state().next_callback(&call, from) else {
            return;
        };
        if due.at > Instant::now() {
            tokio::select! {
                () = tokio::time::sleep_until(due.at.into()) => {}
                () = due.wake.notified() => {}
                _ = shutdown.wait_for(|stopping| *stopping) => return,
            }
            // The timeline may have changed while waiting: look again.
            continue;
        }
        let Some(callback) = shared.state().callback(&call, due.event, sequence) else {
            return;
        };
        send(&shared, callback).await;
        from = position(due.event) + 1;
        sequence += 1;
    }
}

fn position(event: CallEvent) -> usize {
    CallEvent::ALL
        .iter()
        .position(|(e, _)| *e == event)
        .unwrap_or(CallEvent::ALL.len())
}

async fn send(shared: &Shared, callback: Callback) {
    let Ok(mut url) = url::Url::parse(&callback.url) else {
        tracing::warn!(url = %callback.url, "status callback URL does not parse");
        return;
    };
    let overrides = match ConnectionOverrides::parse(url.fragment()) {
        Ok(overrides) => overrides,
        Err(e) => {
            tracing::warn!(url = %callback.url, "connection overrides ignored: {e}");
            ConnectionOverrides::default()
        }
    };
    let token = shared.config.auth_token.expose_secret();
    let (signed, body) = match callback.method {
        HttpMethod::Post => (
            signature::sign(token, url.as_str(), &callback.params),
            Some(&callback.params),
        ),
        HttpMethod::Get => {
            url.query_pairs_mut().extend_pairs(&callback.params);
            (signature::sign(token, url.as_str(), &[]), None)
        }
    };
    url.set_fragment(None);
    let started = Instant::now();
    let tries = 1 + u32::from(overrides.retry_count);
    for tried in 1..=tries {
        let request = match body {
            Some(params) => shared.http.post(url.clone()).form(params),
            None => shared.http.get(url.clone()),
        };
        let failure = match request
            .header("X-Twilio-Signature", &signed)
            .timeout(overrides.read_timeout)
            .send()
            .await
        {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => TryFailure::Status(response.status().as_u16()),
            Err(error) if error.is_connect() => TryFailure::Connect,
            Err(_) => TryFailure::Read,
        };
        let again =
            tried < tries && overrides.retries(failure) && started.elapsed() < overrides.total_time;
        if !again {
            tracing::warn!(url = %callback.url, ?failure, tried, "status callback not delivered");
            return;
        }
    }
}

impl State {
    fn next_callback(&self, call: &CallSid, from: usize) -> Option<Due> {
        let record = &self.calls[*self.call_index.get(call)?];
        let plan = record.callback.as_ref()?;
        plan.events
            .iter()
            .filter(|event| position(**event) >= from)
            .find_map(|&event| {
                let at = record.timeline.event_time(event)?;
                Some(Due {
                    event,
                    at,
                    wake: plan.wake.clone(),
                })
            })
    }

    /// Twilio's call-progress parameters for `event`.
    fn callback(&self, call: &CallSid, event: CallEvent, sequence: u64) -> Option<Callback> {
        let record = &self.calls[*self.call_index.get(call)?];
        let plan = record.callback.as_ref()?;
        let timeline = &record.timeline;
        let at = timeline.event_time(event)?;
        let mut params: Vec<(String, String)> = [
            ("CallSid", record.sid.to_string()),
            ("AccountSid", self.account.to_string()),
            ("From", record.from.clone()),
            ("To", record.to.clone()),
            ("CallStatus", timeline.event_status(event).to_owned()),
            ("Direction", "outbound-api".to_owned()),
            ("ApiVersion", "2010-04-01".to_owned()),
            ("Timestamp", self.clock.rfc2822(at)),
            ("SequenceNumber", sequence.to_string()),
            ("CallbackSource", "call-progress-events".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        if event == CallEvent::Completed
            && let Some(duration) = timeline.duration_secs(at)
        {
            params.push(("CallDuration".to_owned(), duration.to_string()));
        }
        let answered = matches!(event, CallEvent::Answered | CallEvent::Completed)
            && timeline.answered_at(at).is_some();
        if let Some(answered_by) = record.answered_by.filter(|_| answered) {
            params.push(("AnsweredBy".to_owned(), answered_by.to_owned()));
        }
        Some(Callback {
            url: plan.url.clone(),
            method: plan.method,
            params,
        })
    }
}
