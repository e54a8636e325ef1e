//! One create request: sent, answered (or not), and its outcome recorded.

use super::Engine;
use super::request::row_request;
use super::retry;
use crate::domain::{AttemptToken, ConferenceTarget};
use crate::stop::StopReason;
use crate::store::{Claimed, Outcome, StoreError};
use crate::twilio::error::{CODE_CONFERENCE_FULL, CODE_TOO_MANY_REQUESTS, OutageSignal};
use crate::twilio::{ApiError, Disposition};
use std::time::Duration;
use tracing::Instrument;

/// How long to wait before recording an outcome again while the shared database is away.
const RECORD_RETRY: Duration = Duration::from_millis(500);

pub(super) struct DialTask {
    pub(super) engine: Engine,
    /// Create requests in flight when this one was sent, itself included.
    pub(super) concurrent: usize,
}

/// Left on a lease beyond the request's timeout before it is sent: the answer's recording.
const LEASE_MARGIN: Duration = Duration::from_secs(1);

impl Engine {
    /// Whether the row stays ours until the request's answer, however late it comes: another
    /// host takes a row over only once its lease has run out and a request's timeout has
    /// passed since, so a request sent inside the lease is never sent twice. What remains is
    /// a pause of this process between this check and the request leaving (see the README).
    pub(super) fn lease_covers_the_request(&self, claimed: &Claimed) -> bool {
        self.lease_covers(claimed, Duration::ZERO)
    }

    /// Whether the row's lease covers `wait` and then the request (see above).
    pub(super) fn lease_covers(&self, claimed: &Claimed, wait: Duration) -> bool {
        claimed.lease_deadline.is_none_or(|deadline| {
            deadline.saturating_duration_since(std::time::Instant::now())
                > wait + self.client.request_timeout() + LEASE_MARGIN
        })
    }

    /// What a lease leaves for waiting once a request's time and the margin are set aside.
    pub(super) fn lease_room(&self) -> Duration {
        self.campaign
            .lease
            .saturating_sub(self.client.request_timeout() + LEASE_MARGIN)
    }
}

impl DialTask {
    pub(super) async fn dial(self, claimed: Claimed) {
        let span = tracing::info_span!("dial", label = %claimed.label, attempt = claimed.attempt);
        self.dial_in_span(claimed).instrument(span).await;
    }

    async fn dial_in_span(self, mut claimed: Claimed) {
        // The request leaves now, whenever the row was claimed (rows are claimed a few at a
        // time): its attempt is recorded as sent now, so that requests are counted in the
        // second they were sent.
        claimed.started_at = self.engine.store.now_ms();
        let token = AttemptToken {
            campaign: self.engine.store.campaign_key(),
            row_id: claimed.row_id,
            number: claimed.attempt,
        };
        let built = claimed
            .params
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|own| {
                row_request(
                    &self.engine.campaign,
                    &claimed.to,
                    &claimed.label,
                    own,
                    Some(token),
                )
            });
        let outcome = match built {
            Ok(_) if !self.engine.lease_covers_the_request(&claimed) => {
                let why = "not sent: its lease had too little time left for the request";
                tracing::debug!("{why}");
                if let Err(e) = self
                    .engine
                    .store
                    .release(&claimed, self.engine.store.now_ms(), why)
                    .await
                {
                    self.engine.stop.trigger(StopReason::Storage(e.to_string()));
                }
                // The slot is not given back: the schedule would bring the next one forward,
                // and two creates could land one interval apart where one slot was. A slot
                // lost is under-use, never over-use.
                return;
            }
            Ok((conference, request)) => {
                let sending = self.engine.progress.sending();
                let answer = self
                    .engine
                    .client
                    .create_participant(&conference, &request)
                    .await;
                drop(sending);
                self.engine.breaker.observe(&answer);
                if let Ok(p) = &answer
                    && let (ConferenceTarget::FriendlyName(name), Some(sid)) =
                        (&conference, &p.conference_sid)
                    && !self.engine.conferences.is_known(name, sid)
                {
                    match self.engine.store.remember_conference(name, sid).await {
                        Ok(()) => self.engine.conferences.stored(name, sid),
                        Err(e) => tracing::warn!("could not remember the conference SID: {e}"),
                    }
                }
                self.outcome(&claimed, answer)
            }
            // The row was valid at import; the campaign's defaults may have changed since.
            Err(e) => Outcome::Failed {
                http_status: None,
                code: None,
                message: e.to_string(),
            },
        };
        self.engine.progress.record(claimed.row_id, &outcome);
        if let Outcome::Unknown { check_at, .. } = &outcome {
            self.engine
                .progress
                .in_doubt(claimed.row_id, Some(*check_at));
        }
        match self.record(&claimed, &outcome).await {
            Ok(()) => {}
            // This host was paused past its lease: another host reconciles the row with
            // Twilio before anyone dials it again, so there is nothing to undo here.
            Err(e @ StoreError::LeaseLost { .. }) => {
                tracing::warn!("{e}; that host checks it with Twilio before any re-dial")
            }
            // The shared database stayed away longer than the lease: the row is left
            // `dialing`, and taken over and checked with Twilio once the lease has run out.
            Err(e) if e.is_transient() && self.engine.store.is_shared() => {
                tracing::warn!(
                    "could not record the outcome ({e}); the row is checked with Twilio before any re-dial"
                )
            }
            Err(e) => {
                tracing::error!("could not record the outcome: {e}");
                self.engine.stop.trigger(StopReason::Storage(e.to_string()));
            }
        }
    }

    /// Records the outcome; a shared database that cannot be reached is asked again while
    /// the row's lease lasts. Past it, the row is left `dialing` for whoever takes it over,
    /// who checks it with Twilio before any re-dial.
    async fn record(&self, claimed: &Claimed, outcome: &Outcome) -> Result<(), StoreError> {
        loop {
            match self.engine.store.record(claimed, outcome).await {
                Err(e)
                    if e.is_transient()
                        && claimed
                            .lease_deadline
                            .is_some_and(|deadline| std::time::Instant::now() < deadline) =>
                {
                    tracing::debug!("could not record the outcome yet ({e}); asking again");
                    tokio::time::sleep(RECORD_RETRY).await;
                }
                done => return done,
            }
        }
    }

    fn outcome(
        &self,
        claimed: &Claimed,
        answer: Result<crate::twilio::Participant, ApiError>,
    ) -> Outcome {
        let refused = answer.as_ref().err().is_some_and(|e| {
            e.code() == Some(CODE_TOO_MANY_REQUESTS) || e.http_status() == Some(429)
        });
        // Refused at connect: it never left, and costs the row no attempt.
        let never_sent = answer
            .as_ref()
            .err()
            .is_some_and(|e| e.outage_signal() == Some(OutageSignal::Unreached));
        if never_sent || (refused && self.engine.in_flight.gives_back()) {
            // Never processed: its slot placed no call (see the pacer).
            self.engine.pacer.give_back();
        }
        if refused || answer.is_ok() {
            self.engine.in_flight.answered(refused, self.concurrent);
        }
        if let (Some(adaptive), Ok(p)) = (&self.engine.adaptive, &answer) {
            adaptive.created(p.queue_time_ms());
        }
        let error = match answer {
            Ok(p) => {
                let queue_time_ms = p.queue_time_ms().map(|q| q as i64);
                match p.call_sid {
                    Some(call_sid) => {
                        return Outcome::Created {
                            queue_time_ms,
                            call_sid,
                            conference_sid: p.conference_sid,
                            status: 201,
                        };
                    }
                    // Created, but which call? The check finds it by label, as for a lost answer.
                    None => ApiError::Unreadable {
                        status: 201,
                        detail: "the participant has no call_sid".into(),
                    },
                }
            }
            Err(e) => e,
        };
        let (http_status, code, message) = (error.http_status(), error.code(), error.to_string());
        match error.disposition() {
            Disposition::Retry { after } => {
                // Twilio's concurrency limit, a full conference and an outage say nothing
                // about the row.
                let counts = !matches!(code, Some(CODE_TOO_MANY_REQUESTS | CODE_CONFERENCE_FULL))
                    && http_status != Some(429)
                    && !never_sent;
                let failures = claimed.failures as u32 + u32::from(counts);
                if counts && failures >= self.engine.campaign.max_attempts {
                    let message = format!("gave up after {failures} attempts: {message}");
                    return Outcome::Failed {
                        http_status,
                        code,
                        message,
                    };
                }
                let delay = retry::delay(&self.engine.campaign.retry, failures.max(1), after);
                Outcome::Retry {
                    at: self.engine.store.now_ms() + delay.as_millis() as i64,
                    counts,
                    http_status,
                    code,
                    message,
                }
            }
            Disposition::Fail => Outcome::Failed {
                http_status,
                code,
                message,
            },
            Disposition::Abort => {
                self.engine.stop.trigger(StopReason::Abort(message.clone()));
                Outcome::Retry {
                    at: self.engine.store.now_ms(),
                    counts: false,
                    http_status,
                    code,
                    message,
                }
            }
            Disposition::Unknown => {
                tracing::warn!("{message}; will check with Twilio before any re-dial");
                let check_at = self.engine.store.now_ms()
                    + self.engine.campaign.retry.reconcile_after.as_millis() as i64;
                Outcome::Unknown {
                    check_at,
                    http_status,
                    code,
                    message,
                }
            }
        }
    }
}
