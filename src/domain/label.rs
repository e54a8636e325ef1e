//! A participant label: the handle dialer gives every attempt so it can be found at Twilio later.

use super::Invalid;
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Label(String);

impl Label {
    /// Twilio documents no length limit; we keep labels to what fits a URL path segment comfortably.
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(Invalid(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        if raw.chars().any(|c| c.is_control()) {
            return Err(Invalid::new("must not contain control characters"));
        }
        // A label is also a path segment on fetch/update/delete; a label that looks like a
        // CallSid would be read as one.
        if super::CallSid::parse(raw).is_ok() {
            return Err(Invalid::new(
                "must not look like a CallSid (CA + 32 hex digits)",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::str::FromStr for Label {
    type Err = Invalid;
    fn from_str(raw: &str) -> Result<Self, Invalid> {
        Self::parse(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_refuse_empty_control_and_sid_lookalikes() {
        assert!(Label::parse("renewals-42").is_ok());
        assert!(Label::parse("").is_err());
        assert!(Label::parse("a\nb").is_err());
        assert!(Label::parse(&"x".repeat(129)).is_err());
        assert!(Label::parse("CA0123456789abcdef0123456789abcdef").is_err());
    }
}
