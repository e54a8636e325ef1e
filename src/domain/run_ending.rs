//! Why a run's dialing ended, as its record keeps it: an exit code of 4 alone does not tell
//! Twilio unreachable from a pause, and `dialer status` says which.

use super::named_enum;

named_enum! {
    /// How a run's dial loop ended.
    pub enum RunEnding("a run's ending") {
        /// No row was due any more.
        Finished = "finished",
        Signal = "signal",
        Deadline = "deadline",
        /// Twilio refused the credentials.
        CredentialsRefused = "credentials_refused",
        /// Twilio could not be reached for longer than `retry.outage_limit`.
        TwilioUnreachable = "twilio_unreachable",
        /// The database could not record an outcome.
        DatabaseFailed = "database_failed",
        Paused = "paused",
        Canceled = "canceled",
        /// Every row left waited for a calling window or the frequency cap.
        WindowClosed = "window_closed",
    }
}

impl serde::Serialize for RunEnding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
