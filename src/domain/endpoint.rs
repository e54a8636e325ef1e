//! Who a call goes to and who it comes from.
//!
//! Phone numbers are stored as E.164 (`+` then 2 to 15 digits, no leading zero). Spaces,
//! dashes, dots and parentheses are formatting and are removed (`+1 (555) 010-0001` is
//! `+15550100001`); anything else (letters, `1.5E+10` from a spreadsheet) is refused rather
//! than guessed. Without a region a number must start with `+` and is checked for E.164's
//! shape only; read in a region, any number goes through libphonenumber's rules (`numbering`).

use super::{ApplicationSid, Invalid, Region, numbering};
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// An international number (`+` and the country code), checked for E.164's shape.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::parse_in(raw, None)
    }

    /// A number as a list gives it: read in `region` by libphonenumber's rules when there is
    /// one (national formats allowed, validity checked), as [`PhoneNumber::parse`] when not.
    pub fn parse_in(raw: &str, region: Option<Region>) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        if let Some(region) = region {
            let digits = trimmed.strip_prefix('+').unwrap_or(trimmed);
            if let Some(c) = digits.chars().find(|c| !is_digit_or_formatting(*c)) {
                return Err(not_a_digit(c));
            }
            return numbering::e164_in(trimmed, region).map(Self);
        }
        let Some(rest) = trimmed.strip_prefix('+') else {
            return Err(Invalid::new(
                "must be an E.164 number starting with + and the country code, e.g. +15017122661",
            ));
        };
        let mut digits = String::with_capacity(16);
        digits.push('+');
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                c if is_digit_or_formatting(c) => {}
                _ => return Err(not_a_digit(c)),
            }
        }
        let n = digits.len() - 1;
        if !(2..=15).contains(&n) {
            return Err(Invalid(format!(
                "must have 2 to 15 digits after +, has {n}"
            )));
        }
        if digits.as_bytes()[1] == b'0' {
            return Err(Invalid::new("country code cannot start with 0"));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs: the country code and the last two digits, nothing a reader could dial.
    pub fn masked(&self) -> String {
        let s = &self.0;
        let tail = &s[s.len().saturating_sub(2)..];
        let head = &s[..s.len().min(3)];
        format!("{head}…{tail}")
    }
}

fn is_digit_or_formatting(c: char) -> bool {
    matches!(c, '0'..='9' | ' ' | '-' | '.' | '(' | ')')
}

fn not_a_digit(c: char) -> Invalid {
    Invalid(format!("has a character {c:?} that is not a digit"))
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PhoneNumber {
    /// Debug output ends up in logs: keep it masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// The `To` of a participant: a phone, a Client identity, a SIP address or a TwiML App.
/// Client and App endpoints may carry `?name=value` custom parameters, SIP addresses their
/// own parameters and headers; both are kept verbatim.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Phone(PhoneNumber),
    Client(String),
    Sip(String),
    App(String),
}

impl Endpoint {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::parse_in(raw, None)
    }

    /// As [`Endpoint::parse`], a phone number read in `region` when there is one.
    pub fn parse_in(raw: &str, region: Option<Region>) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if let Some(rest) = raw.strip_prefix("client:") {
            check_identity(rest, "client:")?;
            Ok(Self::Client(raw.to_owned()))
        } else if let Some(rest) = raw.strip_prefix("sip:") {
            let (user_host, _) = rest.split_once([';', '?']).unwrap_or((rest, ""));
            if user_host.is_empty() || user_host.chars().any(char::is_whitespace) {
                return Err(Invalid::new(
                    "a SIP address must look like sip:name@example.com",
                ));
            }
            Ok(Self::Sip(raw.to_owned()))
        } else if let Some(rest) = raw.strip_prefix("app:") {
            let (sid, _) = rest.split_once('?').unwrap_or((rest, ""));
            ApplicationSid::parse(sid)
                .map_err(|e| Invalid(format!("an app: endpoint needs a TwiML App SID: {e}")))?;
            Ok(Self::App(raw.to_owned()))
        } else if region.is_some() {
            PhoneNumber::parse_in(raw, region).map(Self::Phone)
        } else {
            PhoneNumber::parse(raw).map(Self::Phone).map_err(|e| {
                Invalid(format!(
                    "{e} (or use client:name, sip:name@host or app:AP…)"
                ))
            })
        }
    }

    pub fn phone(&self) -> Option<&PhoneNumber> {
        match self {
            Self::Phone(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Phone(p) => p.as_str(),
            Self::Client(s) | Self::Sip(s) | Self::App(s) => s,
        }
    }

    /// Safe to log: phone numbers masked, other endpoints shown up to their parameters.
    /// Whether Twilio's `To` of a call (a status callback's) names this endpoint. Twilio
    /// writes a number in E.164, as it is stored; a `client:`, `sip:` or `app:` endpoint's
    /// parameters (after `?`, and a SIP address's after `;`) belong to the request, so only
    /// the name before them is compared, a SIP host regardless of case.
    pub fn is_called_as(&self, to: &str) -> bool {
        let bare = |s: &str| s.split(['?', ';']).next().unwrap_or("").to_owned();
        match self {
            Self::Phone(p) => p.as_str() == to,
            Self::Sip(s) => bare(s).eq_ignore_ascii_case(&bare(to)),
            Self::Client(s) | Self::App(s) => bare(s) == bare(to),
        }
    }

    pub fn masked(&self) -> String {
        match self {
            Self::Phone(p) => p.masked(),
            other => other
                .as_str()
                .split(['?', ';'])
                .next()
                .unwrap_or("")
                .to_owned(),
        }
    }
}

fn check_identity(name_and_params: &str, scheme: &str) -> Result<(), Invalid> {
    let (name, _) = name_and_params
        .split_once('?')
        .unwrap_or((name_and_params, ""));
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Invalid(format!(
            "{scheme} needs a name without spaces, e.g. {scheme}alice"
        )));
    }
    Ok(())
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// The `From` (and `CallerId`) of a participant: a phone number, `client:name`, or, for calls
/// to SIP addresses, the user part that becomes the caller's identity.
#[derive(Clone, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum Caller {
    Phone(PhoneNumber),
    Client(String),
    SipUser(String),
}

impl Caller {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if raw.starts_with('+') {
            return PhoneNumber::parse(raw).map(Self::Phone);
        }
        if let Some(rest) = raw.strip_prefix("client:") {
            check_identity(rest, "client:")?;
            return Ok(Self::Client(raw.to_owned()));
        }
        if raw.is_empty()
            || raw
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@' || c == ':')
        {
            return Err(Invalid::new(
                "must be an E.164 number (+15017122661), client:name, or a SIP user name",
            ));
        }
        Ok(Self::SipUser(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Phone(p) => p.as_str(),
            Self::Client(s) | Self::SipUser(s) => s,
        }
    }

    /// Twilio's pairing rule: a call to a phone number must come from a phone number; a
    /// SIP user name only makes sense towards a SIP address.
    pub fn check_pairing(&self, to: &Endpoint) -> Result<(), Invalid> {
        match (to, self) {
            (Endpoint::Phone(_), Caller::Phone(_)) => Ok(()),
            (Endpoint::Phone(_), _) => Err(Invalid::new(
                "must be a phone number when To is a phone number",
            )),
            (Endpoint::Sip(_), _) => Ok(()),
            (_, Caller::SipUser(_)) => Err(Invalid::new(
                "a SIP user name can only be used when To is a sip: address",
            )),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Phone(p) => f.write_str(&p.masked()),
            other => f.write_str(other.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilios_to_names_an_endpoint_without_the_requests_parameters() {
        for (endpoint, to, same) in [
            ("+15017122661", "+15017122661", true),
            ("+15017122661", "+15017122662", false),
            ("+15017122661", "15017122661", false),
            ("client:alice?skill=billing", "client:alice", true),
            ("client:alice", "client:bob", false),
            ("client:alice", "+15017122661", false),
            (
                "sip:alice@Example.com;transport=tls",
                "sip:alice@example.com",
                true,
            ),
            ("sip:alice@example.com", "sip:bob@example.com", false),
        ] {
            let endpoint = Endpoint::parse(endpoint).unwrap();
            assert_eq!(endpoint.is_called_as(to), same, "{endpoint} as {to}");
        }
    }

    #[test]
    fn phone_numbers_normalise_formatting_and_refuse_the_rest() {
        for (raw, want) in [
            ("+15017122661", "+15017122661"),
            (" +1 (501) 712-2661 ", "+15017122661"),
            ("+44.20.7946.0958", "+442079460958"),
        ] {
            assert_eq!(PhoneNumber::parse(raw).unwrap().as_str(), want);
        }
        for bad in [
            "15017122661",
            "+",
            "+1",
            "+0123456",
            "+1234567890123456",
            "1.5017E+10",
            "+1501712266x",
            "+1 501 712 2661 ext 4",
            "",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn masked_numbers_keep_only_country_code_and_last_digits() {
        let p = PhoneNumber::parse("+15017122661").unwrap();
        assert_eq!(p.masked(), "+15…61");
        assert_eq!(format!("{p:?}"), "+15…61");
    }

    #[test]
    fn endpoints_cover_phone_client_sip_and_app() {
        assert!(matches!(
            Endpoint::parse("+15017122661"),
            Ok(Endpoint::Phone(_))
        ));
        assert!(matches!(
            Endpoint::parse("client:alice?ticket=42"),
            Ok(Endpoint::Client(_))
        ));
        assert!(matches!(
            Endpoint::parse("sip:bob@example.com;transport=tls"),
            Ok(Endpoint::Sip(_))
        ));
        assert!(matches!(
            Endpoint::parse("app:AP0123456789abcdef0123456789abcdef?x=1"),
            Ok(Endpoint::App(_))
        ));
        for bad in [
            "client:",
            "client:al ice",
            "sip:",
            "app:APnope",
            "alice",
            "tel:+1555",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn from_must_be_a_phone_when_to_is_a_phone() {
        let to_phone = Endpoint::parse("+15017122661").unwrap();
        let to_sip = Endpoint::parse("sip:bob@example.com").unwrap();
        let to_client = Endpoint::parse("client:bob").unwrap();
        let phone = Caller::parse("+15558675310").unwrap();
        let client = Caller::parse("client:alice").unwrap();
        let sip_user = Caller::parse("alice").unwrap();
        assert!(phone.check_pairing(&to_phone).is_ok());
        assert!(client.check_pairing(&to_phone).is_err());
        assert!(sip_user.check_pairing(&to_phone).is_err());
        assert!(sip_user.check_pairing(&to_sip).is_ok());
        assert!(client.check_pairing(&to_client).is_ok());
        assert!(sip_user.check_pairing(&to_client).is_err());
    }
}
