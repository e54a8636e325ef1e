//! Where a row of a campaign stands, as the database's CHECK constraint allows it.
//!
//! pending → dialing → created | failed | unknown (in doubt, checked with Twilio) | pending
//! (retried); pending → suppressed (do-not-call) | canceled (the campaign was canceled).

use super::Invalid;
use super::named_enum;

named_enum! {
    pub enum RowState("a row state") {
        Pending = "pending",
        Dialing = "dialing",
        Created = "created",
        Failed = "failed",
        Unknown = "unknown",
        Suppressed = "suppressed",
        Canceled = "canceled",
    }
}

/// Where a line of the list stands: imported as a row in some state, or rejected at import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineState {
    Row(RowState),
    Rejected,
}

impl LineState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Row(state) => state.as_str(),
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "rejected" => Ok(Self::Rejected),
            row => RowState::parse(row).map(Self::Row),
        }
    }
}

impl std::fmt::Display for LineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for LineState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_as_itself_and_nothing_else_reads() {
        for state in RowState::ALL {
            assert_eq!(RowState::parse(state.as_str()).unwrap(), state);
        }
        assert!(RowState::parse("rejected").is_err());
        for state in RowState::ALL
            .map(LineState::Row)
            .into_iter()
            .chain([LineState::Rejected])
        {
            assert_eq!(LineState::parse(state.as_str()).unwrap(), state);
        }
    }
}
