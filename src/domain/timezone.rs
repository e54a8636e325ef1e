//! Where a callee is, in time: their own IANA zone when the list gives one, else the zones
//! libphonenumber's prefix-to-time-zone map gives their number (the longest prefix wins),
//! else the campaign's zone. A prefix spanning several zones (an Alaskan area code, most of
//! +7 or +61) gives all of them: such a row is called only when every one is in its window.
//!
//! The map is `data/timezones/prefixes.tsv` (Google's data, Apache-2.0; see its NOTICE),
//! compiled in and indexed at first use.

use super::named_enum;
use super::{CalleeZones, Endpoint, Invalid, PhoneNumber};
use std::collections::HashMap;
use std::sync::LazyLock;

const PREFIX_DATA: &str = include_str!("../../data/timezones/prefixes.tsv");

/// Prefix (digits after `+`) → its zones, sorted and separated by one space.
static PREFIXES: LazyLock<(HashMap<&'static str, &'static str>, usize)> = LazyLock::new(|| {
    let map: HashMap<_, _> = PREFIX_DATA
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t'))
        .collect();
    let longest = map.keys().map(|p| p.len()).max().unwrap_or(0);
    (map, longest)
});

named_enum! {
    /// Where a row's zone came from, for the report.
    pub enum ZoneSource("a zone source") {
        /// The list's `timezone` column.
        List = "list",
        /// The number's prefix, through libphonenumber's map.
        Prefix = "prefix",
    }
}

/// A row's own zones, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalleeZone {
    pub zones: CalleeZones,
    pub source: ZoneSource,
}

/// The zones libphonenumber places the number in (longest prefix first), space-separated.
pub fn prefix_zones(number: &PhoneNumber) -> Option<&'static str> {
    let digits = number.as_str().strip_prefix('+')?;
    let (map, longest) = &*PREFIXES;
    (1..=digits.len().min(*longest))
        .rev()
        .find_map(|len| map.get(digits.get(..len)?).copied())
}

/// The zone stored for a row: its `timezone` column (an IANA name, refused when unknown),
/// else its number's zones by prefix; `None` means "the campaign's zone".
pub fn callee_zone(column: Option<&str>, to: &Endpoint) -> Result<Option<CalleeZone>, Invalid> {
    if let Some(name) = column.map(str::trim).filter(|n| !n.is_empty()) {
        return Ok(Some(CalleeZone {
            zones: CalleeZones::parse(name)?,
            source: ZoneSource::List,
        }));
    }
    // The map's zones are already in stored form, every name known (tested below).
    Ok(to.phone().and_then(prefix_zones).map(|zones| CalleeZone {
        zones: CalleeZones::from_stored(zones),
        source: ZoneSource::Prefix,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    fn zones_of(number: &str) -> Option<&'static str> {
        prefix_zones(&PhoneNumber::parse(number).unwrap())
    }

    #[test]
    fn each_mainland_us_zone_hawaii_alaska_and_canada_come_from_the_area_code() {
        for (number, zone) in [
            ("+12125550100", "America/New_York"),
            ("+13125550100", "America/Chicago"),
            ("+13035550100", "America/Denver"),
            ("+16025550100", "America/Phoenix"),
            ("+14155550100", "America/Los_Angeles"),
            ("+18085550100", "Pacific/Honolulu"),
            ("+14165550100", "America/Toronto"),
            ("+16045550100", "America/Vancouver"),
        ] {
            assert_eq!(zones_of(number), Some(zone), "{number}");
        }
    }

    #[test]
    fn a_prefix_spanning_several_zones_gives_them_all_sorted() {
        assert_eq!(
            zones_of("+19075550100"),
            Some("America/Adak America/Anchorage")
        );
        assert_eq!(zones_of("+73012123456"), Some("Asia/Irkutsk"));
        assert_eq!(zones_of("+74951234567"), Some("Europe/Moscow"));
        let russia_elsewhere = zones_of("+70001234567").unwrap();
        assert!(russia_elsewhere.contains("Asia/Anadyr Asia/Aqtobe"));
        let australia = zones_of("+61212345678").unwrap();
        assert!(australia.contains("Australia/Sydney"), "{australia}");
    }

    #[test]
    fn single_zone_countries_keep_their_zone() {
        assert_eq!(zones_of("+33142685300"), Some("Europe/Paris"));
        // The data places Ireland in London's zone (and its aliases): the same clock.
        assert!(zones_of("+353212345678").unwrap().contains("Europe/London"));
        assert_eq!(zones_of("+81312345678"), Some("Asia/Tokyo"));
        assert!(zones_of("+442071838750").unwrap().contains("Europe/London"));
    }

    #[test]
    fn a_number_the_data_cannot_place_has_no_zone() {
        assert_eq!(zones_of("+80012345678"), None);
    }

    #[test]
    fn every_zone_in_the_data_is_known_to_the_bundled_database() {
        let (map, _) = &*PREFIXES;
        assert!(map.len() > 3000, "{}", map.len());
        for (prefix, zones) in map {
            for zone in zones.split(' ') {
                assert!(TimeZone::get(zone).is_ok(), "+{prefix} {zone}");
            }
        }
    }

    #[test]
    fn a_timezone_column_wins_over_the_number_and_must_be_a_real_zone() {
        let london = Endpoint::parse("+442071838750").unwrap();
        let new_york = Endpoint::parse("+12125550100").unwrap();

        let own = callee_zone(Some("America/Chicago"), &new_york).unwrap();
        let derived = callee_zone(None, &new_york).unwrap();
        let unknown = callee_zone(Some("Mars/Olympus"), &london);
        let sip = callee_zone(None, &Endpoint::parse("sip:a@example.com").unwrap()).unwrap();

        assert_eq!(
            own,
            Some(CalleeZone {
                zones: CalleeZones::parse("America/Chicago").unwrap(),
                source: ZoneSource::List
            })
        );
        assert_eq!(
            derived,
            Some(CalleeZone {
                zones: CalleeZones::from_stored("America/New_York"),
                source: ZoneSource::Prefix
            })
        );
        assert!(unknown.is_err());
        assert_eq!(sip, None);
    }
}
