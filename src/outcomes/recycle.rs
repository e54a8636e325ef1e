//! Recycling: a call that ended busy, unanswered, failed or canceled is tried again after the
//! campaign's `[recycle]` delay for that status, while the row has attempts left. The decision
//! is made here and committed by the store with the outcome itself; a later cron run dials
//! the row once it is due. `completed` is never recycled.

use super::CallStatus;
use crate::campaign::Campaign;
use crate::campaign::rules::Recycle;
use crate::store::{CallObservation, Recorded, Redial, Store, StoreError};

/// Records observations of calls with the campaign's recycling rules.
#[derive(Clone)]
pub struct Recorder {
    store: Store,
    recycle: Recycle,
    max_attempts: u32,
}

impl Recorder {
    pub fn new(store: Store, campaign: &Campaign) -> Self {
        Self {
            store,
            recycle: campaign.rules.recycle.clone(),
            max_attempts: campaign.max_attempts,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn record(&self, seen: &CallObservation) -> Result<Recorded, StoreError> {
        let recorded = self
            .store
            .record_call_event(
                seen,
                redial_for(&self.recycle, self.max_attempts, seen.status),
            )
            .await?;
        let call_sid = &seen.call_sid;
        match &recorded {
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
        Ok(recorded)
    }
}

/// The redial rule for a status, if the campaign recycles it (final statuses but `completed`).
pub fn redial_for(recycle: &Recycle, max_attempts: u32, status: CallStatus) -> Option<Redial> {
    if status == CallStatus::Completed || !status.is_final() {
        return None;
    }
    recycle.delay_for(status.as_str()).map(|after| Redial {
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
