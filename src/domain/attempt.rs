//! Which attempt a call belongs to, carried in the StatusCallback URL's query: when the answer
//! to a create is lost, its CallSid is lost with it, and a callback must still name the attempt.
//! Twilio signs the whole URL, query included, so a token in a signed callback is genuine.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttemptToken {
    pub row_id: i64,
    /// The attempt's number within its row (1 for the first).
    pub number: i64,
}

impl AttemptToken {
    /// The query key; a name no Twilio parameter uses.
    pub const QUERY_KEY: &str = "dialer_attempt";

    /// `url` with the token appended to its query (other pairs kept).
    pub fn tag(&self, url: &url::Url) -> url::Url {
        let mut tagged = url.clone();
        tagged
            .query_pairs_mut()
            .append_pair(Self::QUERY_KEY, &self.to_string());
        tagged
    }

    /// The token in a raw query string, if there is a well-formed one.
    pub fn from_query(query: &str) -> Option<Self> {
        url::form_urlencoded::parse(query.as_bytes())
            .filter(|(key, _)| key == Self::QUERY_KEY)
            .find_map(|(_, value)| value.parse().ok())
    }
}

impl fmt::Display for AttemptToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.row_id, self.number)
    }
}

impl std::str::FromStr for AttemptToken {
    type Err = super::Invalid;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let invalid = || super::Invalid(format!("must be ROW-ATTEMPT, got {}", super::quoted(raw)));
        let (row, number) = raw.split_once('-').ok_or_else(invalid)?;
        let positive = |s: &str| s.parse::<i64>().ok().filter(|n| *n > 0);
        match (positive(row), positive(number)) {
            (Some(row_id), Some(number)) => Ok(Self { row_id, number }),
            _ => Err(invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_url_keeps_its_query_and_gives_the_token_back() {
        let token = AttemptToken {
            row_id: 42,
            number: 3,
        };
        let url = url::Url::parse("https://dialer.example.com/status?campaign=spring").unwrap();

        let tagged = token.tag(&url);

        assert_eq!(
            tagged.as_str(),
            "https://dialer.example.com/status?campaign=spring&dialer_attempt=42-3"
        );
        assert_eq!(
            AttemptToken::from_query(tagged.query().unwrap()),
            Some(token)
        );
    }

    #[test]
    fn malformed_tokens_are_no_tokens() {
        for query in [
            "",
            "dialer_attempt=",
            "dialer_attempt=42",
            "dialer_attempt=42-0",
            "dialer_attempt=-1-2",
            "dialer_attempt=a-b",
            "other=42-3",
        ] {
            assert_eq!(AttemptToken::from_query(query), None, "{query:?}");
        }
    }
}
