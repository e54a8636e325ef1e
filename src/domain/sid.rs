//! Twilio SIDs: two-letter prefix + 32 hex digits (`^AC[0-9a-fA-F]{32}$` and kin).

use super::Invalid;
use std::fmt;

macro_rules! sid_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                parse_sid(raw, $prefix).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = Invalid;
            fn from_str(raw: &str) -> Result<Self, Invalid> {
                Self::parse(raw)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

fn parse_sid(raw: &str, prefix: &str) -> Result<String, Invalid> {
    let hex = raw.strip_prefix(prefix);
    match hex {
        Some(hex) if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(raw.to_owned())
        }
        _ => Err(Invalid(format!(
            "must match ^{prefix}[0-9a-fA-F]{{32}}$ (got {:?})",
            shorten(raw)
        ))),
    }
}

fn shorten(raw: &str) -> String {
    raw.chars().take(40).collect()
}

sid_type!(
    /// An account, `AC…`.
    AccountSid, "AC"
);
sid_type!(
    /// An API key, `SK…`, used with its secret in place of the auth token.
    ApiKeySid, "SK"
);
sid_type!(
    /// A call, `CA…`: a participant's id inside its conference.
    CallSid, "CA"
);
sid_type!(
    /// A conference, `CF…`.
    ConferenceSid, "CF"
);
sid_type!(
    /// A BYOC trunk, `BY…`.
    ByocSid, "BY"
);
sid_type!(
    /// A TwiML application, `AP…` (the `app:` endpoint).
    ApplicationSid, "AP"
);

impl CallSid {
    /// A fresh random SID, as Twilio would mint one (the sandbox uses it).
    pub fn random() -> Self {
        Self(random_sid("CA"))
    }
}

impl ConferenceSid {
    pub fn random() -> Self {
        Self(random_sid("CF"))
    }
}

fn random_sid(prefix: &str) -> String {
    let n: u128 = rand::random();
    format!("{prefix}{n:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_accept_their_prefix_and_32_hex_digits_only() {
        let hex = "0123456789abcdefABCDEF0123456789";
        assert!(CallSid::parse(&format!("CA{hex}")).is_ok());
        for bad in [
            String::new(),
            "CA".into(),
            format!("CF{hex}"),
            format!("CA{hex}0"),
            format!("CA{}", &hex[1..]),
            format!("ca{hex}"),
            format!("CA{}g", &hex[1..]),
            format!(" CA{hex}"),
        ] {
            assert!(CallSid::parse(&bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn random_sids_parse_back() {
        let sid = CallSid::random();
        assert_eq!(CallSid::parse(sid.as_str()).unwrap(), sid);
        assert!(ConferenceSid::parse(ConferenceSid::random().as_str()).is_ok());
    }
}
