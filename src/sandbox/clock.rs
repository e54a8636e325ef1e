//! Sandbox time. Phases are computed from monotonic `Instant`s (immune to clock steps); a fixed
//! wall-clock origin turns them into the RFC 2822 dates Twilio prints and lets date filters
//! from query strings compare against them.

use jiff::{SignedDuration, Timestamp};
use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    origin: Instant,
    wall_origin: Timestamp,
}

impl Clock {
    pub fn start() -> Self {
        Self {
            origin: Instant::now(),
            wall_origin: Timestamp::now(),
        }
    }

    pub fn wall(&self, at: Instant) -> Timestamp {
        let since = SignedDuration::try_from(at.saturating_duration_since(self.origin))
            .unwrap_or(SignedDuration::MAX);
        self.wall_origin
            .checked_add(since)
            .unwrap_or(Timestamp::MAX)
    }

    /// Twilio's date format: `Fri, 18 Feb 2011 21:07:19 +0000`.
    pub fn rfc2822(&self, at: Instant) -> String {
        rfc2822(self.wall(at))
    }
}

pub(crate) fn rfc2822(at: Timestamp) -> String {
    at.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// A `StartTime` filter value: a whole UTC day (`2024-05-01`) or an instant (RFC 3339).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeFilter {
    Day { start: Timestamp, end: Timestamp },
    Instant(Timestamp),
}

impl TimeFilter {
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if let Ok(day) = raw.parse::<jiff::civil::Date>() {
            let start = day.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
            let end = day
                .tomorrow()
                .ok()?
                .to_zoned(jiff::tz::TimeZone::UTC)
                .ok()?
                .timestamp();
            return Some(Self::Day { start, end });
        }
        raw.parse::<Timestamp>().ok().map(Self::Instant)
    }

    /// `StartTime>=`: on or after.
    pub fn at_or_after(self, t: Timestamp) -> bool {
        match self {
            Self::Day { start, .. } => t >= start,
            Self::Instant(i) => t >= i,
        }
    }

    /// `StartTime<=`: on or before (a day includes all of it).
    pub fn at_or_before(self, t: Timestamp) -> bool {
        match self {
            Self::Day { end, .. } => t < end,
            Self::Instant(i) => t <= i,
        }
    }

    /// `StartTime=`: that day, or that second.
    pub fn matches(self, t: Timestamp) -> bool {
        match self {
            Self::Day { start, end } => start <= t && t < end,
            Self::Instant(i) => t.as_second() == i.as_second(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_like_twilio() {
        let t: Timestamp = "2011-02-18T21:07:19Z".parse().unwrap();
        assert_eq!(rfc2822(t), "Fri, 18 Feb 2011 21:07:19 +0000");
    }

    #[test]
    fn start_time_filters_take_days_and_instants() {
        let noon: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
        let day = TimeFilter::parse("2024-05-01").unwrap();
        assert!(day.at_or_after(noon) && day.at_or_before(noon) && day.matches(noon));
        let later = TimeFilter::parse("2024-05-01T12:00:01Z").unwrap();
        assert!(!later.at_or_after(noon) && later.at_or_before(noon));
        assert_eq!(TimeFilter::parse("yesterday"), None);
    }
}
