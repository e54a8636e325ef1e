//! A call's status as Twilio reports it, in the order a call moves through them: the order
//! that decides whether an observation is news, and which statuses end a call.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallStatus {
    Queued,
    Initiated,
    Ringing,
    InProgress,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

#[derive(Debug, thiserror::Error)]
#[error("not a call status: {0:?}")]
pub struct UnknownStatus(pub String);

impl CallStatus {
    pub const ALL: [Self; 9] = [
        Self::Queued,
        Self::Initiated,
        Self::Ringing,
        Self::InProgress,
        Self::Completed,
        Self::Busy,
        Self::NoAnswer,
        Self::Failed,
        Self::Canceled,
    ];

    pub fn parse(raw: &str) -> Result<Self, UnknownStatus> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == raw)
            .ok_or_else(|| UnknownStatus(raw.to_owned()))
    }

    /// Twilio's word for it (and the value stored).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
            Self::Busy => "busy",
            Self::NoAnswer => "no-answer",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// A final status never changes again.
    pub fn is_final(self) -> bool {
        self.progress() == 4
    }

    /// How far along a call is: queued 0, initiated 1, ringing 2, in-progress 3, final 4.
    /// Polling has no SequenceNumber; this serves as one, since a call only moves forward.
    pub fn progress(self) -> i64 {
        match self {
            Self::Queued => 0,
            Self::Initiated => 1,
            Self::Ringing => 2,
            Self::InProgress => 3,
            _ => 4,
        }
    }
}

impl serde::Serialize for CallStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_own_word() {
        for status in CallStatus::ALL {
            assert_eq!(CallStatus::parse(status.as_str()).unwrap(), status);
        }
        assert!(CallStatus::parse("answered").is_err());
        assert!(CallStatus::parse("Completed").is_err());
    }

    #[test]
    fn only_the_five_ending_statuses_are_final() {
        let finals: Vec<&str> = CallStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .map(CallStatus::as_str)
            .collect();

        assert_eq!(
            finals,
            ["completed", "busy", "no-answer", "failed", "canceled"]
        );
        assert!(CallStatus::Ringing.progress() > CallStatus::Initiated.progress());
    }
}
