//! Where a participant goes (a conference by SID or by friendly name) and how an existing
//! participant is named (its CallSid or its label).

use super::{CallSid, ConferenceSid, Invalid, Label};
use std::fmt;

/// Create Participant takes a conference SID or a friendly name; Twilio creates a conference
/// by friendly name on first use.
#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum ConferenceTarget {
    Sid(ConferenceSid),
    FriendlyName(String),
}

impl ConferenceTarget {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.starts_with("CF") && raw.len() == 34 {
            return ConferenceSid::parse(raw).map(Self::Sid);
        }
        if raw.is_empty() || raw.chars().count() > 128 || raw.chars().any(char::is_control) {
            return Err(Invalid::new(
                "must be a CF… conference SID or a friendly name of 1 to 128 characters",
            ));
        }
        Ok(Self::FriendlyName(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Sid(s) => s.as_str(),
            Self::FriendlyName(n) => n,
        }
    }
}

impl fmt::Display for ConferenceTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fetch, update and delete name a participant by CallSid or by label.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum ParticipantId {
    CallSid(CallSid),
    Label(Label),
}

impl ParticipantId {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match CallSid::parse(raw) {
            Ok(sid) => Ok(Self::CallSid(sid)),
            Err(_) => Label::parse(raw).map(Self::Label),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::CallSid(s) => s.as_str(),
            Self::Label(l) => l.as_str(),
        }
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
