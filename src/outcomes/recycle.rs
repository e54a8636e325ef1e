//! Recycling: a call that ended busy, unanswered, failed or canceled is tried again after the
//! campaign's `[recycle]` delay for that status, while the row has attempts left. The decision
//! is made here and committed by the store with the outcome itself; a later cron run dials
//! the row once it is due. `completed` is never recycled.

use super::CallStatus;
use crate::metrics::CampaignMetrics;
use crate::store::{CallObservation, Recorded, Redial, Store, StoreError};
use std::time::Duration;

/// When to call again after a final call status; `None` is "never".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recycle {
    pub busy: Option<Duration>,
    pub no_answer: Option<Duration>,
    pub failed: Option<Duration>,
    pub canceled: Option<Duration>,
}

impl Recycle {
    /// The delay for a final call status, if that status is recycled.
    pub fn delay_for(&self, status: CallStatus) -> Option<Duration> {
        match status {
            CallStatus::Busy => self.busy,
            CallStatus::NoAnswer => self.no_answer,
            CallStatus::Failed => self.failed,
            CallStatus::Canceled => self.canceled,
            _ => None,
        }
    }
}

/// Records observations of calls with the campaign's recycling rules.
#[derive(Clone)]
pub struct Recorder {
    store: Store,
    recycle: Recycle,
    max_attempts: u32,
    metrics: CampaignMetrics,
}

impl Recorder {
    /// Records into `store`, recycling by `recycle` while a row has had fewer than
    /// `max_attempts` attempts; calls that end are counted in `metrics`.
    pub fn new(
        store: Store,
        recycle: Recycle,
        max_attempts: u32,
        metrics: CampaignMetrics,
    ) -> Self {
        Self {
            store,
            recycle,
            max_attempts,
            metrics,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn metrics(&self) -> &CampaignMetrics {
        &self.metrics
    }

    pub async fn record(&self, seen: &CallObservation) -> Result<Recorded, StoreError> {
        let recorded = self
            .store
            .record_call_event(seen, self.redial_for(seen))
            .await?;
        self.noted(seen, &recorded);
        Ok(recorded)
    }

    /// Records many observations at once (one transaction), each as `record` does.
    pub async fn record_all(&self, seen: &[CallObservation]) -> Result<Vec<Recorded>, StoreError> {
        let events: Vec<_> = seen.iter().map(|s| (s, self.redial_for(s))).collect();
        let recorded = self.store.record_call_events(&events).await?;
        for (seen, recorded) in seen.iter().zip(&recorded) {
            self.noted(seen, recorded);
        }
        Ok(recorded)
    }

    fn redial_for(&self, seen: &CallObservation) -> Option<Redial> {
        redial_for(&self.recycle, self.max_attempts, seen.status)
    }

    /// Counts and logs what recording an observation changed.
    fn noted(&self, seen: &CallObservation, recorded: &Recorded) {
        let call_sid = &seen.call_sid;
        // A final status is applied once per call: it never changes afterwards.
        if matches!(recorded, Recorded::Applied { .. }) && seen.status.is_final() {
            self.metrics.call_ended(seen.status);
        }
        match recorded {
            Recorded::Applied {
                row_final: true,
                redial_at,
            } => match redial_at.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()) {
                Some(at) => {
                    tracing::debug!(%call_sid, status = %seen.status, %at, "call ended; calling again later")
                }
                None => tracing::debug!(%call_sid, status = %seen.status, "call ended"),
            },
            Recorded::Applied { .. } => {
                tracing::debug!(%call_sid, status = %seen.status, "call status")
            }
            Recorded::UnknownCall => {
                tracing::debug!(%call_sid, status = %seen.status, "event for a call this campaign did not create; kept only")
            }
            Recorded::Duplicate | Recorded::Superseded => {
                tracing::debug!(%call_sid, status = %seen.status, ?recorded, "nothing new")
            }
        }
    }
}

/// The redial rule for a status, if the campaign recycles it (final statuses but `completed`).
pub fn redial_for(recycle: &Recycle, max_attempts: u32, status: CallStatus) -> Option<Redial> {
    if status == CallStatus::Completed || !status.is_final() {
        return None;
    }
    recycle.delay_for(status).map(|after| Redial {
        after,
        max_attempts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_final_statuses_the_campaign_names_are_recycled_and_completed_never() {
        let minute = Some(Duration::from_secs(60));
        let recycle = Recycle {
            busy: minute,
            no_answer: None,
            failed: minute,
            canceled: None,
        };

        let delays: Vec<(CallStatus, Option<Duration>)> = CallStatus::ALL
            .into_iter()
            .map(|s| (s, redial_for(&recycle, 4, s).map(|r| r.after)))
            .filter(|(_, d)| d.is_some())
            .collect();

        assert_eq!(
            delays,
            [(CallStatus::Busy, minute), (CallStatus::Failed, minute)]
        );
        assert_eq!(
            redial_for(&recycle, 4, CallStatus::Busy).map(|r| r.max_attempts),
            Some(4)
        );
    }
}
