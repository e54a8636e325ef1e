//! Calling windows: may a person in a given zone be called at a given instant, and if not,
//! when may they next be? Pure time arithmetic on local civil time, so daylight saving time
//! is followed without special cases.
//!
//! The hours themselves are the campaign owner's to choose and to get right: in the US, for
//! instance, telemarketing calls are allowed only from 8am to 9pm at the called party's
//! location (47 CFR 64.1200), and other countries and states have their own rules. dialer
//! enforces the configured window in each person's zone; it does not know the law.

use crate::config::rules::CallingWindow;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// A window as seen from one zone at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowNow {
    Open,
    OpensAt(Timestamp),
    /// The window has no days at all.
    Never,
}

/// Whether `now` falls in the window in `zone`: on one of its days, at or after `start` and
/// before `end` (local time).
pub fn window_now(window: &CallingWindow, zone: &TimeZone, now: Timestamp) -> WindowNow {
    let local = now.to_zoned(zone.clone());
    let time = local.time();
    if window.days.contains(&local.weekday()) && window.start <= time && time < window.end {
        return WindowNow::Open;
    }
    // Today's opening may still be ahead; past a week every day has been seen.
    for offset in 0..=7 {
        let Ok(date) = local.date().checked_add(offset.days()) else {
            break;
        };
        if !window.days.contains(&date.weekday()) {
            continue;
        }
        // A start inside a spring-forward gap opens at the first instant after it.
        let Ok(opening) = date.to_datetime(window.start).to_zoned(zone.clone()) else {
            continue;
        };
        if opening.timestamp() > now {
            return WindowNow::OpensAt(opening.timestamp());
        }
    }
    WindowNow::Never
}

/// "2026-11-30 09:00 Europe/Paris": an opening as the callee's clock shows it.
pub fn local_time(at: Timestamp, zone: &TimeZone) -> String {
    let name = zone.iana_name().unwrap_or("the campaign's zone");
    format!(
        "{} {name}",
        at.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Zoned;
    use jiff::civil::{Time, Weekday};

    const WEEKDAYS: [Weekday; 5] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
    ];

    fn nine_to_five(zone: &str, days: &[Weekday]) -> CallingWindow {
        CallingWindow {
            start: Time::constant(9, 0, 0, 0),
            end: Time::constant(17, 0, 0, 0),
            timezone: TimeZone::get(zone).unwrap(),
            days: days.to_vec(),
        }
    }

    fn at(zoned: &str) -> Timestamp {
        zoned.parse::<Zoned>().unwrap().timestamp()
    }

    fn now_in(window: &CallingWindow, zoned: &str) -> WindowNow {
        window_now(window, &window.timezone, at(zoned))
    }

    #[test]
    fn the_start_is_inside_the_window_and_the_end_is_not() {
        let window = nine_to_five("Europe/Paris", &WEEKDAYS);

        let at_start = now_in(&window, "2026-11-27T09:00[Europe/Paris]");
        let before_end = now_in(&window, "2026-11-27T16:59:59[Europe/Paris]");
        let at_end = now_in(&window, "2026-11-27T17:00[Europe/Paris]");

        assert_eq!(at_start, WindowNow::Open);
        assert_eq!(before_end, WindowNow::Open);
        assert_eq!(
            at_end,
            WindowNow::OpensAt(at("2026-11-30T09:00[Europe/Paris]"))
        );
    }

    #[test]
    fn before_the_start_the_window_opens_later_the_same_day() {
        let window = nine_to_five("Asia/Tokyo", &WEEKDAYS);

        let early = now_in(&window, "2026-11-27T07:15[Asia/Tokyo]");

        assert_eq!(
            early,
            WindowNow::OpensAt(at("2026-11-27T09:00[Asia/Tokyo]"))
        );
    }

    #[test]
    fn after_friday_hours_the_next_opening_is_monday_morning() {
        let window = nine_to_five("Europe/Paris", &WEEKDAYS);

        let friday_evening = now_in(&window, "2026-11-27T18:00[Europe/Paris]");
        let saturday_noon = now_in(&window, "2026-11-28T12:00[Europe/Paris]");

        let monday = WindowNow::OpensAt(at("2026-11-30T09:00[Europe/Paris]"));
        assert_eq!(friday_evening, monday);
        assert_eq!(saturday_noon, monday);
    }

    #[test]
    fn the_window_follows_daylight_saving_time_in_the_callees_zone() {
        let window = nine_to_five("America/New_York", &[Weekday::Saturday, Weekday::Monday]);

        // 13:30 UTC is 08:30 EST on Saturday, but 09:30 EDT on Monday after the change.
        let saturday = now_in(&window, "2026-03-07T13:30[UTC]");
        let monday = now_in(&window, "2026-03-09T13:30[UTC]");
        let saturday_in_utc = window_now(&window, &TimeZone::UTC, at("2026-03-07T13:30[UTC]"));

        assert_eq!(saturday, WindowNow::OpensAt(at("2026-03-07T14:00[UTC]")));
        assert_eq!(monday, WindowNow::Open);
        assert_eq!(saturday_in_utc, WindowNow::Open);
    }

    #[test]
    fn a_start_inside_the_spring_forward_gap_opens_right_after_it() {
        let mut window = nine_to_five("Europe/Paris", &[Weekday::Sunday]);
        window.start = Time::constant(2, 30, 0, 0);

        let night = now_in(&window, "2026-03-29T01:00[Europe/Paris]");

        assert_eq!(
            night,
            WindowNow::OpensAt(at("2026-03-29T03:30[Europe/Paris]"))
        );
    }

    #[test]
    fn a_window_without_days_never_opens() {
        let window = nine_to_five("Europe/Paris", &[]);

        let noon = now_in(&window, "2026-11-27T12:00[Europe/Paris]");

        assert_eq!(noon, WindowNow::Never);
    }
}
