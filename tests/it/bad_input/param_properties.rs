//! Property tests of parameter validation: for any text, parsing a phone number, an endpoint,
//! each parameter's value or a whole Create Participant form never panics; whatever is
//! accepted goes back out through `to_form` unchanged; normalised numbers are E.164.
//! `PROPTEST_CASES=200000 cargo test --locked --test it bad_input::param_properties` runs long.

use super::proptest_config;
use dialer::domain::{Endpoint, PhoneNumber};
use dialer::twilio::{CreateParticipant, ParticipantOptions};
use proptest::prelude::*;

/// Words that are valid for some parameter, so that generated values are accepted often.
const GOOD: &[&str] = &[
    "true",
    "false",
    "GET",
    "POST",
    "5",
    "20",
    "600",
    "2",
    "250",
    "1",
    "86400",
    "3000",
    "onEnter",
    "onExit",
    "record-from-start",
    "trim-silence",
    "dual",
    "us1",
    "ie1",
    "small",
    "both",
    "Enable",
    "DetectMessageEnd",
    "initiated ringing",
    "answered,completed",
    "start end join",
    "in-progress completed",
    "https://example.com/cb?x=1",
    "http://example.com",
    "",
    "CA0123456789abcdef0123456789abcdef",
    "BY0123456789ABCDEF0123456789abcdef",
    "+15017122661",
    "client:alice",
    "sip:bob@example.com",
    "alice",
    "Support line",
];

/// Text that is often a valid value, often nearly one, sometimes anything at all.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => proptest::sample::select(GOOD).prop_map(str::to_owned),
        2 => (proptest::sample::select(GOOD), "[ ,+x0-9\\-]{0,3}", any::<bool>())
            .prop_map(|(good, noise, before)| if before { noise + good } else { format!("{good}{noise}") }),
        1 => any::<String>(),
    ]
}

fn wire_name() -> impl Strategy<Value = String> {
    let mut names: Vec<&str> = ParticipantOptions::NAMES.iter().map(|n| n.wire).collect();
    names.extend(["From", "To", "Bogus", "label"]);
    proptest::sample::select(names).prop_map(str::to_owned)
}

/// Digits of an E.164 number, and the same number with formatting a person might type.
fn formatted_number() -> impl Strategy<Value = (String, String)> {
    (
        "[1-9][0-9]{1,14}",
        proptest::collection::vec("[ .()-]{0,2}", 16),
    )
        .prop_map(|(digits, seps)| {
            let typed: String = digits
                .chars()
                .zip(seps)
                .map(|(d, sep)| format!("{d}{sep}"))
                .collect();
            (format!("+{digits}"), format!(" +{typed} "))
        })
}

fn is_e164(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or("");
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Sets `(name, value)` pairs on fresh options; `None` if any is refused.
fn options_from(pairs: &[(&str, String)]) -> Option<ParticipantOptions> {
    let mut options = ParticipantOptions::default();
    for (name, value) in pairs {
        options.set(name, value).ok()?;
    }
    Some(options)
}

/// The options written to the wire and read back, one value per name (lists joined).
fn through_the_wire(options: &ParticipantOptions) -> Option<ParticipantOptions> {
    let mut out = Vec::new();
    options.encode(&mut out);
    let mut joined: Vec<(&str, String)> = Vec::new();
    for (name, value) in out {
        match joined.iter_mut().find(|(n, _)| *n == name) {
            Some((_, all)) => *all = format!("{all} {value}"),
            None => joined.push((name, value)),
        }
    }
    options_from(&joined)
}

proptest! {
    #![proptest_config(proptest_config(256))]

    #[test]
    fn phone_numbers_never_panic_and_what_is_accepted_is_e164_and_stable(raw in prop_oneof![
        any::<String>(),
        "[+]?[0-9 ().\\-]{0,20}",
    ]) {
        if let Ok(number) = PhoneNumber::parse(&raw) {
            prop_assert!(is_e164(number.as_str()), "{:?} → {}", raw, number.as_str());
            prop_assert_eq!(PhoneNumber::parse(number.as_str()).ok(), Some(number));
        }
    }

    #[test]
    fn formatting_is_removed_from_numbers_and_nothing_else((digits, typed) in formatted_number()) {
        prop_assert_eq!(PhoneNumber::parse(&typed).map(|p| p.to_string()), Ok(digits));
    }

    #[test]
    fn endpoints_never_panic_and_round_trip(raw in prop_oneof![
        any::<String>(),
        ("(client:|sip:|app:AP|\\+1)", any::<String>()).prop_map(|(scheme, rest)| scheme + &rest),
    ]) {
        if let Ok(endpoint) = Endpoint::parse(&raw) {
            prop_assert_eq!(Endpoint::parse(&endpoint.to_string()).ok(), Some(endpoint.clone()));
            let _ = endpoint.masked();
        }
    }

    #[test]
    fn every_parameter_value_never_panics_and_goes_out_unchanged(
        index in 0..ParticipantOptions::NAMES.len(),
        raw in value(),
    ) {
        let name = ParticipantOptions::NAMES[index];
        if let Some(options) = options_from(&[(name.snake, raw.clone())]) {
            let back = through_the_wire(&options);
            prop_assert_eq!(back.as_ref(), Some(&options), "{}={:?}", name.wire, raw);
        }
    }

    #[test]
    fn any_create_form_never_panics_and_an_accepted_one_round_trips(
        from_to in any::<bool>(),
        pairs in proptest::collection::vec((wire_name(), value()), 0..8),
    ) {
        let mut form: Vec<(String, String)> = Vec::new();
        if from_to {
            form.push(("From".into(), "+15017122661".into()));
            form.push(("To".into(), "+15558675310".into()));
        }
        form.extend(pairs);
        if let Ok(request) = CreateParticipant::from_form(&form) {
            let sent: Vec<(String, String)> = request
                .to_form()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            let again = CreateParticipant::from_form(&sent);
            prop_assert_eq!(again.as_ref().ok(), Some(&request), "{:?}", form);
            let resent: Vec<(&str, String)> = again.unwrap().to_form();
            prop_assert_eq!(resent, request.to_form());
        }
    }
}
