//! A callee's zones as one value: parsed once from the list's column (or taken from
//! libphonenumber's map), stored as text, and read back from the store without failing on a
//! zone name the bundled time zone database no longer knows.

use super::Invalid;
use jiff::tz::TimeZone;
use std::fmt;

/// The zones a callee is in: one IANA zone (the list's column) or several (a prefix spanning
/// zones). Its text form is what the store keeps: the names, sorted and space-separated.
/// Compared, ordered and hashed by that text, which is also how the store groups rows by zone.
#[derive(Clone)]
pub struct CalleeZones {
    text: String,
    /// The known zones among the names, in stored order.
    zones: Vec<TimeZone>,
}

impl CalleeZones {
    /// The list's `timezone` column: one IANA name, refused when unknown, kept under the
    /// bundled database's spelling of it.
    pub fn parse(name: &str) -> Result<Self, Invalid> {
        let name = name.trim();
        let zone = TimeZone::get(name).map_err(|_| {
            Invalid(format!(
                "is not an IANA time zone (e.g. Europe/Paris): {}",
                super::quoted(name)
            ))
        })?;
        Ok(Self {
            text: zone.iana_name().unwrap_or(name).to_owned(),
            zones: vec![zone],
        })
    }

    /// A value as stored (or as libphonenumber's map gives it), read back without failing. A
    /// name the bundled database no longer knows (a zone dropped by a later release) is
    /// skipped here, so that one row cannot fail a whole query; with none left, `zones` is
    /// empty, and the gate calls such a row in the campaign's zone. The text is kept as it
    /// was, so the row is still found by it.
    pub fn from_stored(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            zones: text
                .split_whitespace()
                .filter_map(|name| TimeZone::get(name).ok())
                .collect(),
        }
    }

    /// The stored form: the names, sorted and space-separated.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The known zones, in stored order; empty when none of the names is known any more.
    pub fn zones(&self) -> &[TimeZone] {
        &self.zones
    }
}

impl PartialEq for CalleeZones {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for CalleeZones {}

impl PartialOrd for CalleeZones {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// By bytes, as the store sorts zones (PostgreSQL's collation is the locale's).
impl Ord for CalleeZones {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl std::hash::Hash for CalleeZones {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl fmt::Debug for CalleeZones {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl fmt::Display for CalleeZones {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_names_one_known_zone() {
        for raw in [
            "",
            "   ",
            "Mars/Olympus",
            "America/New_York Europe/Paris",
            "+01:00",
        ] {
            assert!(CalleeZones::parse(raw).is_err(), "{raw:?}");
        }
        let chicago = CalleeZones::parse(" America/Chicago ").unwrap();
        assert_eq!(chicago.as_str(), "America/Chicago");
        assert_eq!(chicago.zones(), [TimeZone::get("America/Chicago").unwrap()]);
    }

    #[test]
    fn a_stored_value_reads_back_as_its_zones_skipping_unknown_names() {
        let names = |stored: &str| -> Vec<String> {
            let zones = CalleeZones::from_stored(stored);
            assert_eq!(zones.as_str(), stored, "the text is kept as stored");
            let names = zones.zones().iter().filter_map(TimeZone::iana_name);
            names.map(str::to_owned).collect()
        };

        assert_eq!(
            names("America/Adak America/Anchorage"),
            ["America/Adak", "America/Anchorage"]
        );
        assert_eq!(names("Mars/Olympus Europe/Paris"), ["Europe/Paris"]);
        assert!(names("Mars/Olympus").is_empty());
    }
}
