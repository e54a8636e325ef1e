//! Which US jurisdictions a number belongs to, by its area code: `data/us_area_codes/`
//! (libphonenumber's data, Apache-2.0; see its NOTICE), compiled in. A +1 number in the US or
//! a US territory is `US` plus every state its area code may serve; a Canadian or Caribbean
//! one, or a number outside +1, belongs to none.

use crate::domain::{Endpoint, Jurisdictions};
use std::collections::HashMap;
use std::sync::LazyLock;

const AREA_CODE_DATA: &str = include_str!("../../data/us_area_codes/area_codes.tsv");

/// Area code → its jurisdictions (`None`: another country of the North American plan).
static AREA_CODES: LazyLock<HashMap<&'static str, Option<Jurisdictions>>> = LazyLock::new(|| {
    AREA_CODE_DATA
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t'))
        .map(|(npa, places)| (npa, Jurisdictions::parse(places).ok()))
        .collect()
});

/// `US` and the USPS codes of the states, the district and the territories.
const US_CODES: [&str; 57] = [
    "US", "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "DC", "PR", "VI", "GU", "AS", "MP",
];

/// Whether `code` names the US or one of its states, its district or its territories.
pub fn is_us_code(code: &str) -> bool {
    US_CODES.contains(&code)
}

/// The US jurisdictions of `to` by its area code; `None` outside the US.
pub fn by_area_code(to: &Endpoint) -> Option<Jurisdictions> {
    let digits = to.phone()?.as_str().strip_prefix("+1")?;
    let npa = digits.get(..3)?;
    match AREA_CODES.get(npa) {
        Some(places) => places.clone(),
        // Every area code from 200 to 999 has a line; anything else is no NANP number.
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(number: &str) -> Option<String> {
        by_area_code(&Endpoint::parse(number).unwrap()).map(|j| j.as_str().to_owned())
    }

    #[test]
    fn a_us_number_is_federal_and_its_states_and_others_are_not_us() {
        assert_eq!(of("+13055550100").as_deref(), Some("FL US"), "Miami");
        assert_eq!(of("+12125550100").as_deref(), Some("NY US"));
        assert_eq!(of("+12025550100").as_deref(), Some("DC US"));
        assert_eq!(of("+17875550100").as_deref(), Some("PR US"), "Puerto Rico");
        assert_eq!(
            of("+18005550100").as_deref(),
            Some("US"),
            "toll-free: no state"
        );
        assert_eq!(of("+14165550100"), None, "Toronto");
        assert_eq!(of("+18765550100"), None, "Jamaica");
        assert_eq!(of("+442079460000"), None);
        assert_eq!(AREA_CODES.len(), 800);
    }
}
