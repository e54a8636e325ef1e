//! Durations as people write them in a campaign file or on the command line.

use super::Invalid;
use serde::{Deserialize, Deserializer, de::Error as _};
use std::time::Duration;

/// "2s", "5m", "1h 30m", "31d" (a day being 24 hours), or ISO 8601 ("PT5M").
pub fn duration(raw: &str) -> Result<Duration, Invalid> {
    let refused = || {
        Invalid(format!(
            "must be a duration like \"30s\", \"5m\", \"1h\" or \"7d\", got {raw:?}"
        ))
    };
    let parsed: jiff::SignedDuration = match raw.trim().parse() {
        Ok(parsed) => parsed,
        // Days (and weeks) are not a fixed length to jiff; here, as the law counts them, 24 h.
        Err(_) => raw
            .trim()
            .parse::<jiff::Span>()
            .map_err(|_| refused())?
            .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
            .map_err(|_| refused())?,
    };
    Duration::try_from(parsed).map_err(|_| Invalid(format!("must not be negative, got {raw:?}")))
}

/// For `#[serde(deserialize_with = "…")]`: a duration field written as text.
pub fn deserialize_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let raw = String::deserialize(d)?;
    duration(&raw).map_err(D::Error::custom)
}

/// The same for an optional field (beside `#[serde(default)]`).
pub fn deserialize_some_duration<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    deserialize_duration(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_and_iso_forms_parse_and_negatives_do_not() {
        assert_eq!(duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(duration("PT5M").unwrap(), Duration::from_secs(300));
        assert_eq!(duration("31d").unwrap(), Duration::from_secs(31 * 86_400));
        assert_eq!(duration("1w").unwrap(), Duration::from_secs(7 * 86_400));
        assert!(duration("-5s").is_err());
        assert!(duration("soon").is_err());
    }

    #[test]
    fn a_file_field_reads_the_same_durations_and_refuses_with_the_same_rule() {
        #[derive(serde::Deserialize)]
        struct Field {
            #[serde(deserialize_with = "deserialize_duration")]
            wait: Duration,
        }
        let read = |text| toml::from_str::<Field>(text).map(|f| f.wait);

        assert_eq!(
            read("wait = \"1h 30m\"").unwrap(),
            Duration::from_secs(5400)
        );
        let refused = read("wait = \"-5s\"").unwrap_err();
        assert_eq!(refused.message(), "must not be negative, got \"-5s\"");
    }
}
