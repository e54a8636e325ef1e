//! Status callbacks: one task per call with a StatusCallback posts the requested call-progress
//! events when they fall due, with Twilio's parameters, signed with `X-Twilio-Signature`.
//! A hang-up wakes the task, which then reports `completed` at once. Failures are logged only.

use super::Shared;
use super::state::State;
use crate::domain::CallSid;
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
    let token = shared.config.auth_token.expose_secret();
    let request = match callback.method {
        HttpMethod::Post => {
            let signed = signature::sign(token, &callback.url, &callback.params);
            shared
                .http
                .post(&callback.url)
                .header("X-Twilio-Signature", signed)
                .form(&callback.params)
        }
        HttpMethod::Get => {
            let Ok(mut url) = url::Url::parse(&callback.url) else {
                tracing::warn!(url = %callback.url, "status callback URL does not parse");
                return;
            };
            url.query_pairs_mut().extend_pairs(&callback.params);
            let signed = signature::sign(token, url.as_str(), &[]);
            shared.http.get(url).header("X-Twilio-Signature", signed)
        }
    };
    match request.send().await {
        Ok(response) if !response.status().is_success() => {
            tracing::warn!(url = %callback.url, status = %response.status(), "status callback refused");
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(url = %callback.url, %error, "status callback failed"),
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
