//! A phone number read by libphonenumber's rules (the `phonenumber` crate, Google's metadata):
//! a national number in its region (`(415) 867-5309` in US, `020 7183 8750` in GB), or an
//! international one, checked against the region's lengths and assigned prefixes and written
//! as E.164.
//!
//! These rules apply where a region is known (`campaign.default_region`, a row's `number_region`).
//! Without one, a number must start with `+` and is only checked for E.164's shape, as before
//! regions existed: many lists, test plans and sandboxes use fictional numbers such as
//! `+1 555 010 0001`, which libphonenumber rightly refuses (555 is no area code), and a campaign
//! that ran yesterday must not refuse its list today. Naming a region is the opt-in to the
//! stricter check, for every number of the campaign, with or without `+`.

use super::{Invalid, Region};
use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, ParseError};

/// `raw` (formatting already checked: digits, spaces, `-.()`, a leading `+`) as E.164, if
/// libphonenumber deems it a valid number when read in `region`.
pub(super) fn e164_in(raw: &str, region: Region) -> Result<String, Invalid> {
    // phonenumber 0.3 strips the *default region's* national prefix from a foreign number too:
    // read in US, +49 1… loses its 1 and can become another, valid, person's number. A number
    // with its country code is therefore read with no region; one dialed out with the region's
    // exit code (011 49…) cannot be read safely and is refused.
    let international = raw.trim_start().starts_with('+');
    let read_in = (!international).then(|| region.id());
    let number = phonenumber::parse(read_in, raw).map_err(|e| unparsable(e, region))?;
    let region_code = DATABASE
        .by_id(region.as_str())
        .map(|meta| meta.country_code());
    if !international && region_code != Some(number.code().value()) {
        return Err(Invalid::new(
            "dials out with an exit code (011, 00, …): write it with + and the country code",
        ));
    }
    if number.extension().is_some() {
        return Err(Invalid::new("has an extension, which cannot be dialed"));
    }
    if !number.is_valid() {
        return Err(invalid_reason(&number, region));
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

fn unparsable(e: ParseError, region: Region) -> Invalid {
    match e {
        ParseError::InvalidCountryCode => Invalid::new("has no known country code"),
        ParseError::TooShortNsn | ParseError::TooShortAfterIdd => {
            Invalid::new("is too short to be a phone number")
        }
        ParseError::TooLong => Invalid::new("is too long to be a phone number"),
        _ => Invalid(format!("is not a phone number read in {region}")),
    }
}

/// Why libphonenumber refuses a number it could read: its length, or its prefix.
fn invalid_reason(number: &phonenumber::PhoneNumber, region: Region) -> Invalid {
    let national = number.national().to_string();
    let code = number.code().value();
    // An invalid number has no metadata of its own: its region's, or its country code's.
    let national_format = number.code().source() == phonenumber::country::Source::Default;
    let meta = if national_format {
        DATABASE.by_id(region.as_str())
    } else {
        DATABASE.by_code(&code).and_then(|regions| {
            let main = regions.iter().find(|m| m.is_main_country_for_code());
            main.or(regions.first()).copied()
        })
    };
    let Some(meta) = meta else {
        return Invalid(format!("has no known country code (+{code})"));
    };
    let where_ = if national_format {
        format!("a national number in {region}")
    } else {
        format!("a +{code} number")
    };
    let lengths = possible_lengths(meta);
    if !lengths.contains(&(national.len() as u16)) {
        let expected = lengths
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        return Invalid(format!(
            "is not a valid number: wrong length for {where_} ({} digits, expected {expected})",
            national.len()
        ));
    }
    Invalid(format!(
        "is not a valid number: no such prefix for {where_} (unassigned or impossible area or operator code)"
    ))
}

/// The lengths any number of the region may have: the general descriptor's, or (where the
/// metadata leaves it empty) those of each kind of number (fixed line, mobile, toll free, …).
fn possible_lengths(meta: &phonenumber::Metadata) -> Vec<u16> {
    let d = meta.descriptors();
    let general = d.general().possible_length();
    if !general.is_empty() {
        return general.to_vec();
    }
    let kinds = [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ];
    let mut lengths: Vec<u16> = kinds
        .into_iter()
        .flatten()
        .flat_map(|kind| kind.possible_length().iter().copied())
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    lengths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &str, region: &str) -> Result<String, Invalid> {
        e164_in(raw, Region::parse(region).unwrap())
    }

    #[test]
    fn national_formats_of_each_region_become_e164() {
        for (raw, region, want) in [
            ("(415) 867-5309", "US", "+14158675309"),
            ("4158675309", "US", "+14158675309"),
            ("1 415 867 5309", "US", "+14158675309"),
            ("020 7183 8750", "GB", "+442071838750"),
            ("07400 123456", "GB", "+447400123456"),
            ("01 42 68 53 00", "FR", "+33142685300"),
            ("06 12 34 56 78", "FR", "+33612345678"),
            ("030 1234567", "DE", "+49301234567"),
            ("0151 23456789", "DE", "+4915123456789"),
            ("+44 20 7183 8750", "US", "+442071838750"),
            // Foreign numbers whose national part starts with the US national prefix, 1.
            ("+33 1 42 68 53 00", "US", "+33142685300"),
            ("+44 113 496 0000", "US", "+441134960000"),
            ("+49 151 23456789", "US", "+4915123456789"),
        ] {
            assert_eq!(read(raw, region).as_deref(), Ok(want), "{raw} in {region}");
        }
    }

    #[test]
    fn numbers_libphonenumber_refuses_say_why() {
        for (raw, region, want) in [
            ("415 867 530", "US", "wrong length"),
            ("(415) 867-53091", "US", "wrong length"),
            ("(555) 010-0001", "US", "no such prefix"),
            ("(415) 055-0100", "US", "no such prefix"),
            ("020 7183 87", "GB", "wrong length"),
            ("+1 555 010 0001", "GB", "no such prefix for a +1 number"),
            ("12", "US", "phone number"),
            ("+999 1234 5678", "US", "country code"),
            // Read in US, phonenumber would make this +49 234567, a valid number of someone else.
            ("011 49 11234567", "US", "exit code"),
            ("00 33 1 42 68 53 00", "GB", "exit code"),
        ] {
            let err = read(raw, region).unwrap_err().to_string();
            assert!(err.contains(want), "{raw} in {region}: {err}");
        }
    }
}
