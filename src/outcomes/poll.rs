//! Polling, for setups Twilio cannot reach: ask Twilio (`GET /Calls/{sid}.json`) how each
//! created call is doing, oldest first, and record what it says like a callback. A GET
//! creates no call, so the CPS does not apply to it: polling is bounded by requests in flight
//! (Twilio limits concurrent requests), a few here, and during a run by the run's permits.

use super::{CallStatus, Recorder};
use crate::domain::CallSid;
use crate::stop::Stop;
use crate::store::{AwaitingCall, CallObservation, EventSource, Recorded, Store, StoreError};
use crate::twilio::{ApiError, Call, CallLog, Disposition, TwilioClient};
use futures::StreamExt;
use std::collections::HashMap;
use std::time::Duration;

/// GETs in flight at once.
const IN_FLIGHT: usize = 4;
/// Rows read from the database at a time.
const PAGE: i64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Twilio refused the credentials")]
    Refused(#[source] ApiError),
}

/// What one pass over the calls found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    pub polled: u64,
    /// Calls whose final status this pass recorded.
    pub ended: u64,
    /// Calls Twilio could not tell about this time (asked again next pass).
    pub errors: u64,
}

/// During a run, only calls at least this old are asked about: younger ones are likely
/// still ringing. Each is asked about once per run; `dialer sync` follows the rest.
pub const IN_RUN_MIN_AGE: Duration = Duration::from_secs(10);

pub struct Poller {
    client: TwilioClient,
    recorder: Recorder,
}

impl Poller {
    pub fn new(client: TwilioClient, recorder: Recorder) -> Self {
        Self { client, recorder }
    }

    pub fn store(&self) -> &Store {
        self.recorder.store()
    }

    /// Asks once about each call created at or before `created_before` (unix ms) still
    /// without a final status, at most `limit` of them; stops taking calls when `stop` is set.
    pub async fn pass(
        &self,
        created_before: i64,
        limit: u64,
        stop: &Stop,
    ) -> Result<PassSummary, PollError> {
        let mut summary = PassSummary::default();
        let mut after = (i64::MIN, i64::MIN);
        while summary.polled < limit && !stop.is_set() {
            let page_size = PAGE.min((limit - summary.polled) as i64);
            let page = self
                .recorder
                .store()
                .awaiting_outcome(created_before, after, page_size)
                .await?;
            let Some(last) = page.last() else { break };
            after = (last.created_at, last.row_id);
            let mut answers = futures::stream::iter(&page)
                .map(|call| self.poll_unless_stopped(call, stop))
                .buffer_unordered(IN_FLIGHT);
            while let Some(answer) = answers.next().await {
                match answer? {
                    Polled::Skipped => {}
                    Polled::Failed => {
                        summary.polled += 1;
                        summary.errors += 1;
                    }
                    Polled::Recorded(recorded) => {
                        summary.polled += 1;
                        if matches!(
                            recorded,
                            Recorded::Applied {
                                row_final: true,
                                ..
                            }
                        ) {
                            summary.ended += 1;
                        }
                    }
                }
            }
        }
        Ok(summary)
    }

    async fn poll_unless_stopped(
        &self,
        call: &AwaitingCall,
        stop: &Stop,
    ) -> Result<Polled, PollError> {
        if stop.is_set() {
            return Ok(Polled::Skipped);
        }
        self.poll(call).await
    }

    /// Asks the account's call log once about `calls` (created close together) and records
    /// what it shows of each; a call it does not show yet is asked about on a later pass.
    pub async fn poll_in_log(&self, calls: &[AwaitingCall]) -> Result<PassSummary, PollError> {
        let mut summary = PassSummary::default();
        let Some(oldest) = calls.iter().map(|call| call.created_at).min() else {
            return Ok(summary);
        };
        let store = self.store();
        let log = match CallLog::read(&self.client, || store.now_ms(), None, None, oldest).await {
            Ok(log) => log,
            Err(e) if e.disposition() == Disposition::Abort => return Err(PollError::Refused(e)),
            Err(e) => {
                tracing::debug!("Twilio could not list the calls now: {e}");
                summary.errors += 1;
                return Ok(summary);
            }
        };
        let listed: HashMap<&CallSid, &Call> = log
            .calls()
            .iter()
            .filter_map(|call| call.sid.as_ref().map(|sid| (sid, call)))
            .collect();
        // What the log shows, recorded in one go: a commit per read, not one per call.
        let shown: Vec<(&CallSid, &Call)> = calls
            .iter()
            .filter_map(|call| Some((&call.call_sid, *listed.get(&call.call_sid)?)))
            .collect();
        summary.polled = shown.len() as u64;
        let seen: Vec<CallObservation> = shown
            .into_iter()
            .filter_map(|(sid, answer)| observation(sid, answer))
            .collect();
        let recorded = self.recorder.record_all(&seen).await?;
        summary.ended = recorded
            .iter()
            .filter(|r| {
                matches!(
                    r,
                    Recorded::Applied {
                        row_final: true,
                        ..
                    }
                )
            })
            .count() as u64;
        Ok(summary)
    }

    /// Asks Twilio about one call and records the answer.
    pub async fn poll(&self, call: &AwaitingCall) -> Result<Polled, PollError> {
        let sid = &call.call_sid;
        let answer = match self.client.fetch_call(sid).await {
            Ok(answer) => answer,
            Err(e) if e.disposition() == Disposition::Abort => return Err(PollError::Refused(e)),
            // Busy (429), a timeout or a passing server error: a GET changes nothing, and the
            // call is asked about again on the next pass.
            Err(e)
                if matches!(
                    e.disposition(),
                    Disposition::Retry { .. } | Disposition::Unknown
                ) =>
            {
                tracing::debug!(call_sid = %sid, "Twilio could not answer about the call now: {e}");
                return Ok(Polled::Failed);
            }
            Err(e) => {
                tracing::warn!(call_sid = %sid, "could not ask Twilio about the call: {e}");
                return Ok(Polled::Failed);
            }
        };
        self.record_answer(sid, &answer).await
    }

    /// Records what Twilio said of a call, as a callback would be recorded.
    async fn record_answer(&self, sid: &CallSid, answer: &Call) -> Result<Polled, PollError> {
        let Some(seen) = observation(sid, answer) else {
            return Ok(Polled::Failed);
        };
        Ok(Polled::Recorded(self.recorder.record(&seen).await?))
    }
}

/// What Twilio said of a call, as an observation like a callback's; `None` without a known
/// status.
fn observation(sid: &CallSid, answer: &Call) -> Option<CallObservation> {
    let Some(status) = answer
        .status
        .as_deref()
        .and_then(|s| CallStatus::parse(s).ok())
    else {
        tracing::warn!(call_sid = %sid, status = ?answer.status, "Twilio gave no known status");
        return None;
    };
    Some(CallObservation {
        attempt: None,
        call_sid: sid.clone(),
        source: EventSource::Poll,
        sequence_number: status.progress(),
        status,
        answered_by: answer.answered_by.clone(),
        duration_secs: answer
            .duration
            .as_deref()
            .and_then(|d| d.trim().parse().ok()),
        params: serde_json::to_string(answer).unwrap_or_else(|_| "{}".into()),
    })
}

pub enum Polled {
    Skipped,
    Failed,
    Recorded(Recorded),
}
