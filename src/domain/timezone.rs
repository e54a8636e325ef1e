//! Where a callee is, in time: their own IANA zone when the list gives one, else the zone of
//! their country when that country has only one. Countries spanning several zones (+1, +7,
//! +52, +55, +61, …) are absent on purpose: their rows fall back to the campaign's zone.

use super::{Endpoint, Invalid, PhoneNumber};
use jiff::tz::TimeZone;

/// Calling code (without `+`) → the single IANA zone of that country. A few outlying islands
/// differ from their country's main zone (the Canaries, the Azores, the Chathams): rows there
/// need a `timezone` column.
const SINGLE_ZONE_COUNTRIES: &[(&str, &str)] = &[
    ("20", "Africa/Cairo"),
    ("27", "Africa/Johannesburg"),
    ("30", "Europe/Athens"),
    ("31", "Europe/Amsterdam"),
    ("32", "Europe/Brussels"),
    ("33", "Europe/Paris"),
    ("34", "Europe/Madrid"),
    ("36", "Europe/Budapest"),
    ("39", "Europe/Rome"),
    ("40", "Europe/Bucharest"),
    ("41", "Europe/Zurich"),
    ("43", "Europe/Vienna"),
    ("44", "Europe/London"),
    ("45", "Europe/Copenhagen"),
    ("46", "Europe/Stockholm"),
    ("47", "Europe/Oslo"),
    ("48", "Europe/Warsaw"),
    ("49", "Europe/Berlin"),
    ("63", "Asia/Manila"),
    ("64", "Pacific/Auckland"),
    ("65", "Asia/Singapore"),
    ("66", "Asia/Bangkok"),
    ("81", "Asia/Tokyo"),
    ("82", "Asia/Seoul"),
    ("84", "Asia/Ho_Chi_Minh"),
    ("90", "Europe/Istanbul"),
    ("91", "Asia/Kolkata"),
    ("92", "Asia/Karachi"),
    ("351", "Europe/Lisbon"),
    ("352", "Europe/Luxembourg"),
    ("353", "Europe/Dublin"),
    ("358", "Europe/Helsinki"),
    ("420", "Europe/Prague"),
    ("852", "Asia/Hong_Kong"),
    ("886", "Asia/Taipei"),
    ("971", "Asia/Dubai"),
    ("972", "Asia/Jerusalem"),
];

/// The zone of the number's country, when that country has exactly one.
pub fn country_zone(number: &PhoneNumber) -> Option<&'static str> {
    let digits = number.as_str().strip_prefix('+')?;
    // Calling codes are prefix-free, so at most one of these lengths can match.
    (1..=3).find_map(|len| {
        let code = digits.get(..len)?;
        SINGLE_ZONE_COUNTRIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, zone)| *zone)
    })
}

/// The zone stored for a row: its `timezone` column (an IANA name, refused when unknown),
/// else its country's single zone; `None` means "the campaign's zone".
pub fn callee_zone(column: Option<&str>, to: &Endpoint) -> Result<Option<String>, Invalid> {
    if let Some(name) = column.map(str::trim).filter(|n| !n.is_empty()) {
        let zone = TimeZone::get(name).map_err(|_| {
            Invalid(format!(
                "is not an IANA time zone (e.g. Europe/Paris): {}",
                super::quoted(name)
            ))
        })?;
        return Ok(Some(zone.iana_name().unwrap_or(name).to_owned()));
    }
    Ok(to.phone().and_then(country_zone).map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone_of(number: &str) -> Option<&'static str> {
        country_zone(&PhoneNumber::parse(number).unwrap())
    }

    #[test]
    fn a_single_zone_country_gives_its_zone() {
        assert_eq!(zone_of("+442071838750"), Some("Europe/London"));
        assert_eq!(zone_of("+33142685300"), Some("Europe/Paris"));
        assert_eq!(zone_of("+353212345678"), Some("Europe/Dublin"));
        assert_eq!(zone_of("+81312345678"), Some("Asia/Tokyo"));
    }

    #[test]
    fn countries_spanning_several_zones_give_none() {
        for number in [
            "+14155550100",
            "+74951234567",
            "+5511912345678",
            "+61212345678",
            "+525512345678",
        ] {
            assert_eq!(zone_of(number), None, "{number}");
        }
    }

    #[test]
    fn every_zone_in_the_table_is_known_to_the_bundled_database() {
        for (code, zone) in SINGLE_ZONE_COUNTRIES {
            assert!(TimeZone::get(zone).is_ok(), "+{code} {zone}");
        }
    }

    #[test]
    fn a_timezone_column_wins_over_the_country_and_must_be_a_real_zone() {
        let london = Endpoint::parse("+442071838750").unwrap();

        let own = callee_zone(Some("America/Chicago"), &london).unwrap();
        let derived = callee_zone(None, &london).unwrap();
        let unknown = callee_zone(Some("Mars/Olympus"), &london);
        let sip = callee_zone(None, &Endpoint::parse("sip:a@example.com").unwrap()).unwrap();

        assert_eq!(own.as_deref(), Some("America/Chicago"));
        assert_eq!(derived.as_deref(), Some("Europe/London"));
        assert!(unknown.is_err());
        assert_eq!(sip, None);
    }
}
