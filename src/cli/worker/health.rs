//! Why a worker's pass over a campaign failed, and when it tries again. Refused credentials
//! and a campaign that no longer loads do not mend by themselves: asking again every `--idle`
//! only fills the log (and Twilio's), so those back off, doubling up to an hour; an outage or
//! a database error is tried again at the first step, as it may end any moment.

use crate::campaign::RunError;
use crate::compliance::gate::GateError;
use crate::dialing::Ending;
use crate::import::ImportError;
use crate::metrics::health::Failure;
use crate::stop::StopReason;
use std::time::Duration;

/// The longest wait between two attempts.
const MAX_WAIT: Duration = Duration::from_secs(3600);
/// The shortest wait after a failure: a full pass costs a dozen transactions.
const MIN_WAIT: Duration = Duration::from_secs(30);

/// A failed pass: why (the metric's reason), and what to log.
#[derive(Debug)]
pub(super) struct Failed {
    pub reason: Failure,
    pub error: anyhow::Error,
}

impl Failed {
    pub fn new(reason: Failure, error: impl Into<anyhow::Error>) -> Self {
        Self {
            reason,
            error: error.into(),
        }
    }

    /// A run that failed before its end.
    pub fn of_run(error: RunError) -> Self {
        let reason = match &error {
            RunError::Store(_)
            | RunError::Import(ImportError::Store(_))
            | RunError::Gate(GateError::Store(_)) => Failure::Database,
            RunError::Import(_) | RunError::Gate(GateError::Suppression(_)) => {
                Failure::CampaignFile
            }
            RunError::Lock(_) => Failure::Other,
        };
        Self::new(reason, error)
    }

    /// A run that ended on a failure (its summary is this failure's line).
    pub fn of_ending(ending: &Ending) -> Option<Self> {
        let (reason, what, why) = match ending {
            Ending::Stopped(StopReason::Abort(why)) => (
                Failure::CredentialsRefused,
                "Twilio refused the credentials",
                why,
            ),
            Ending::Stopped(StopReason::TwilioUnreachable(why)) => (
                Failure::TwilioUnreachable,
                "Twilio could not be reached",
                why,
            ),
            Ending::Stopped(StopReason::Storage(why)) => (
                Failure::Database,
                "the campaign database could not record an outcome",
                why,
            ),
            _ => return None,
        };
        Some(Self::new(reason, anyhow::anyhow!("{what}: {why}")))
    }
}

/// The wait before the next attempt after each failure of a campaign.
#[derive(Debug)]
pub(super) struct Backoff {
    first: Duration,
    next: Duration,
}

impl Backoff {
    /// Starting from `--idle`, or 30 s when shorter.
    pub fn new(idle: Duration) -> Self {
        let first = idle.clamp(MIN_WAIT, MAX_WAIT);
        Self { first, next: first }
    }

    /// The wait after a failure for `reason`.
    pub fn after(&mut self, reason: Failure) -> Duration {
        if !matches!(reason, Failure::CredentialsRefused | Failure::CampaignFile) {
            self.reset();
            return self.first;
        }
        let wait = self.next;
        self.next = (wait * 2).min(MAX_WAIT);
        wait
    }

    /// A pass worked: the next failure starts over.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waits(backoff: &mut Backoff, reasons: &[Failure]) -> Vec<u64> {
        reasons
            .iter()
            .map(|r| backoff.after(*r).as_secs())
            .collect()
    }

    #[test]
    fn refused_credentials_double_the_wait_up_to_an_hour_from_idle_or_30_seconds() {
        use Failure::*;
        let cases: [(u64, &[Failure], &[u64]); 4] = [
            (10, &[CredentialsRefused; 4], &[30, 60, 120, 240]),
            (100, &[CampaignFile; 3], &[100, 200, 400]),
            (1800, &[CredentialsRefused; 3], &[1800, 3600, 3600]),
            (
                30,
                &[
                    CredentialsRefused,
                    CredentialsRefused,
                    Database,
                    CampaignFile,
                ],
                &[30, 60, 30, 30],
            ),
        ];
        for (idle, reasons, expected) in cases {
            let mut backoff = Backoff::new(Duration::from_secs(idle));
            assert_eq!(waits(&mut backoff, reasons), expected, "idle {idle}s");
        }
    }

    #[test]
    fn a_pass_that_works_starts_the_backoff_over() {
        let mut backoff = Backoff::new(Duration::from_secs(1));
        backoff.after(Failure::CredentialsRefused);
        backoff.after(Failure::CredentialsRefused);

        backoff.reset();

        assert_eq!(backoff.after(Failure::CredentialsRefused).as_secs(), 30);
    }
}
