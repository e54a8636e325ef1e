//! Durations as people write them in a campaign file or on the command line.

use super::Invalid;
use std::time::Duration;

/// "2s", "5m", "1h 30m", or ISO 8601 ("PT5M").
pub fn duration(raw: &str) -> Result<Duration, Invalid> {
    let parsed: jiff::SignedDuration = raw.trim().parse().map_err(|_| {
        Invalid(format!(
            "must be a duration like \"30s\", \"5m\" or \"1h\", got {raw:?}"
        ))
    })?;
    Duration::try_from(parsed).map_err(|_| Invalid(format!("must not be negative, got {raw:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_and_iso_forms_parse_and_negatives_do_not() {
        assert_eq!(duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(duration("PT5M").unwrap(), Duration::from_secs(300));
        assert!(duration("-5s").is_err());
        assert!(duration("soon").is_err());
    }
}
