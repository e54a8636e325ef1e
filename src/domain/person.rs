//! A person as the campaign owner's list names them (the `person` column): the one identity
//! several numbers share, so that caps, opt-outs and suppressions hold for all of them, across
//! the campaigns of a database. The owner's own id (a CRM key), kept as written, trimmed.

use super::Invalid;
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct PersonId(String);

impl PersonId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(Invalid(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        if raw.chars().any(char::is_control) {
            return Err(Invalid::new("must not contain control characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_kept_trimmed_and_a_blank_or_control_one_is_refused() {
        assert_eq!(PersonId::parse(" crm-42 ").unwrap().as_str(), "crm-42");
        assert!(PersonId::parse("  ").is_err());
        assert!(PersonId::parse("a\u{1b}b").is_err());
        assert!(PersonId::parse(&"x".repeat(129)).is_err());
    }
}
