//! The country a national number is read in: `campaign.default_region` and a list row's
//! `number_region` column. An ISO 3166 alpha-2 code that libphonenumber has numbering rules for, so
//! a campaign naming a region it cannot read numbers in fails at load, not row by row.

use super::{Invalid, quoted};
use phonenumber::country::Id;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct Region(Id);

impl Region {
    /// `US`, `gb` and ` FR ` are read alike; `UK`, `USA` and `ZZ` are refused.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim().to_ascii_uppercase();
        let well_formed = code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
        if !well_formed {
            return Err(Invalid(format!(
                "must be a two-letter ISO 3166 country code such as US or GB, got {}",
                quoted(raw)
            )));
        }
        Id::from_str(&code).map(Self).map_err(|_| {
            Invalid(format!(
                "{} is not a country with a numbering plan (ISO 3166 alpha-2, e.g. US, GB, FR, DE)",
                quoted(raw)
            ))
        })
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    pub(super) fn id(self) -> Id {
        self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Region;

    #[test]
    fn iso_codes_are_read_in_any_case_and_anything_else_is_refused() {
        for (raw, want) in [("US", "US"), ("gb", "GB"), (" Fr ", "FR"), ("DE", "DE")] {
            assert_eq!(Region::parse(raw).unwrap().as_str(), want);
        }
        for bad in ["", "U", "USA", "UK", "ZZ", "1A", "U S", "+1"] {
            assert!(Region::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
