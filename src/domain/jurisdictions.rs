//! The jurisdictions whose calling rules bind a call to one person: `US` (the federal rules)
//! and every US state, district or territory their number may belong to, or that the list's
//! `state` column names. Stored as text, the codes sorted and space-separated (`FL US`), which
//! is also how the store groups rows that the same rules hold.

use super::{Invalid, quoted};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Jurisdictions(String);

impl Jurisdictions {
    /// Two-letter codes (`US`, USPS state codes), in any order and case, separated by spaces
    /// or commas; at least one.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let mut codes: Vec<String> = Vec::new();
        for code in raw.split([' ', ',']).filter(|c| !c.is_empty()) {
            if code.len() != 2 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(Invalid(format!(
                    "must be two-letter codes such as FL or NY, got {}",
                    quoted(code)
                )));
            }
            codes.push(code.to_ascii_uppercase());
        }
        Self::of(codes).ok_or_else(|| Invalid::new("names no state"))
    }

    /// The codes given, sorted and each once; `None` without any.
    pub fn of(codes: impl IntoIterator<Item = impl Into<String>>) -> Option<Self> {
        let mut codes: Vec<String> = codes.into_iter().map(Into::into).collect();
        codes.sort_unstable();
        codes.dedup();
        (!codes.is_empty()).then(|| Self(codes.join(" ")))
    }

    /// These and `other`'s together.
    pub fn with(&self, other: &Self) -> Self {
        Self::of(self.codes().chain(other.codes())).unwrap_or_else(|| self.clone())
    }

    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for Jurisdictions {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl fmt::Display for Jurisdictions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_kept_sorted_once_each_in_capitals() {
        let parsed = Jurisdictions::parse("ny, US fl ny").unwrap();

        assert_eq!(parsed.as_str(), "FL NY US");
        assert_eq!(parsed.codes().collect::<Vec<_>>(), ["FL", "NY", "US"]);
        let more = parsed.with(&Jurisdictions::parse("NJ").unwrap());
        assert_eq!(more.as_str(), "FL NJ NY US");
        assert!(Jurisdictions::parse("Florida").is_err());
        assert!(Jurisdictions::parse(" , ").is_err());
    }
}
