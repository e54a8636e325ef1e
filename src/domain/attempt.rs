//! Which attempt a call belongs to, carried in the StatusCallback URL's query: when the answer
//! to a create is lost, its CallSid is lost with it, and a callback must still name the attempt.
//! Twilio signs the whole URL, query included, so a token in a signed callback is genuine.
//!
//! A row number alone is not enough: two campaigns (two databases, or two campaigns of one)
//! that share a receiver's URL both have a row 5, and Twilio signs both campaigns' callbacks
//! with the same auth token. So a token starts with its campaign's key, a random value made
//! once when the campaign is created in its database: `dialer_attempt=KEY-ROW-ATTEMPT`.

use super::Invalid;
use std::fmt;

/// A campaign's random key in its database: 128 bits, written as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CampaignKey([u8; 16]);

impl CampaignKey {
    /// A fresh key, for a campaign being created.
    pub fn random() -> Self {
        Self(rand::random())
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let invalid = || {
            Invalid(format!(
                "a campaign key is 32 lowercase hex digits, got {}",
                super::quoted(raw)
            ))
        };
        if raw.len() != 32 || !raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid());
        }
        let mut key = [0u8; 16];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&raw[2 * i..2 * i + 2], 16).map_err(|_| invalid())?;
        }
        Ok(Self(key))
    }
}

impl fmt::Display for CampaignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Only its start: enough to tell keys apart in a log.
impl fmt::Debug for CampaignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}{:02x}…", self.0[0], self.0[1])
    }
}

impl TryFrom<String> for CampaignKey {
    type Error = Invalid;
    fn try_from(raw: String) -> Result<Self, Invalid> {
        Self::parse(&raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttemptToken {
    /// The campaign (in its database) that made the attempt.
    pub campaign: CampaignKey,
    pub row_id: i64,
    /// The attempt's number within its row (1 for the first).
    pub number: i64,
}

impl AttemptToken {
    /// The query key; a name no Twilio parameter uses.
    pub const QUERY_KEY: &str = "dialer_attempt";

    /// `url` with the token appended to its query (other pairs and the fragment kept).
    pub fn tag(&self, url: &url::Url) -> url::Url {
        let mut tagged = url.clone();
        tagged
            .query_pairs_mut()
            .append_pair(Self::QUERY_KEY, &self.to_string());
        tagged
    }

    /// The token in a raw query string, if there is a well-formed one. A token of the form
    /// dialer wrote before tokens carried their campaign's key (`ROW-ATTEMPT`) is none: it
    /// cannot be told from another campaign's, so it names no attempt (the callback still
    /// counts for the call its CallSid names, and a row in doubt is checked with Twilio).
    pub fn from_query(query: &str) -> Option<Self> {
        url::form_urlencoded::parse(query.as_bytes())
            .filter(|(key, _)| key == Self::QUERY_KEY)
            .find_map(|(_, value)| value.parse().ok())
    }
}

impl fmt::Display for AttemptToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.campaign, self.row_id, self.number)
    }
}

impl std::str::FromStr for AttemptToken {
    type Err = Invalid;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            Invalid(format!(
                "must be KEY-ROW-ATTEMPT, got {}",
                super::quoted(raw)
            ))
        };
        let mut parts = raw.splitn(3, '-');
        let (Some(key), Some(row), Some(number)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let campaign = CampaignKey::parse(key).map_err(|_| invalid())?;
        let positive = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| s.parse::<i64>().ok())
                .flatten()
                .filter(|n| *n > 0)
        };
        match (positive(row), positive(number)) {
            (Some(row_id), Some(number)) => Ok(Self {
                campaign,
                row_id,
                number,
            }),
            _ => Err(invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn token() -> AttemptToken {
        AttemptToken {
            campaign: CampaignKey::parse(KEY).unwrap(),
            row_id: 42,
            number: 3,
        }
    }

    #[test]
    fn a_tagged_url_keeps_its_query_and_fragment_and_gives_the_token_back() {
        let url =
            url::Url::parse("https://dialer.example.com/status?campaign=spring#rc=3").unwrap();

        let tagged = token().tag(&url);

        assert_eq!(
            tagged.as_str(),
            format!(
                "https://dialer.example.com/status?campaign=spring&dialer_attempt={KEY}-42-3#rc=3"
            )
        );
        assert_eq!(
            AttemptToken::from_query(tagged.query().unwrap()),
            Some(token())
        );
    }

    #[test]
    fn malformed_and_keyless_tokens_are_no_tokens() {
        for query in [
            "",
            "dialer_attempt=",
            "dialer_attempt=42-3",
            &format!("dialer_attempt={KEY}-42"),
            &format!("dialer_attempt={KEY}-42-0"),
            &format!("dialer_attempt={KEY}--1-2"),
            &format!("dialer_attempt={KEY}-+4-2"),
            &format!("dialer_attempt={KEY}-a-b"),
            "dialer_attempt=0123456789ABCDEF0123456789ABCDEF-42-3",
            "dialer_attempt=0123-42-3",
            &format!("other={KEY}-42-3"),
        ] {
            assert_eq!(AttemptToken::from_query(query), None, "{query:?}");
        }
    }

    #[test]
    fn random_keys_differ_and_read_back() {
        let (a, b) = (CampaignKey::random(), CampaignKey::random());
        assert_ne!(a, b);
        assert_eq!(CampaignKey::parse(&a.to_string()), Ok(a));
    }
}
