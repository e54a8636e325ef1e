//! Calling windows: may a person in a given zone be called at a given instant, and if not,
//! when may they next be? Pure time arithmetic on local civil time, so daylight saving time
//! is followed without special cases. A holiday (a date in the callee's zone) has no window.
//! A person whose number spans several zones is called only when the window is open in all.
//!
//! The window is the campaign owner's; the law's hours (`law`, for US numbers of a
//! telemarketing campaign) apply beside it, each as `CallingHours` (`calling_hours`), and a
//! person is called only when all of them allow it.

pub use super::calling_hours::WindowNow;
use super::calling_hours::{CallingHours, HoursRule, HoursSpan, Verdict, open_everywhere};
use crate::config::rules::CallingWindow;
use jiff::Timestamp;
use jiff::tz::TimeZone;

impl From<&CallingWindow> for CallingHours {
    fn from(window: &CallingWindow) -> Self {
        Self {
            rule: HoursRule::Campaign,
            spans: vec![HoursSpan {
                days: window.days.clone(),
                from: window.start,
                to: window.end,
                zone: None,
            }],
            closed_dates: window.holidays.clone(),
            holidays: Vec::new(),
        }
    }
}

/// Whether `now` falls in the window in `zone`: on one of its days, at or after `start` and
/// before `end` (local time).
pub fn window_now(window: &CallingWindow, zone: &TimeZone, now: Timestamp) -> WindowNow {
    CallingHours::from(window).now(zone, now)
}

/// Whether `now` falls in the window in every one of `zones`; if not, the first instant at
/// or after the latest of their next openings at which all are open.
pub fn window_now_everywhere(
    window: &CallingWindow,
    zones: &[TimeZone],
    now: Timestamp,
) -> WindowNow {
    match open_everywhere(&[CallingHours::from(window)], zones, now) {
        Verdict::Open => WindowNow::Open,
        Verdict::OpensAt { at, .. } => WindowNow::OpensAt(at),
        Verdict::Never { .. } => WindowNow::Never,
    }
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
            holidays: Vec::new(),
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

    fn eight_to_nine_every_day() -> CallingWindow {
        let mut window = nine_to_five("America/New_York", &WEEKDAYS);
        window.start = Time::constant(8, 0, 0, 0);
        window.end = Time::constant(21, 0, 0, 0);
        window.days = vec![
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
        ];
        window
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    #[test]
    fn at_9_am_in_new_york_new_york_is_open_and_california_waits_until_8_am_its_time() {
        let window = eight_to_nine_every_day();
        let nine_in_new_york = at("2026-12-01T09:00[America/New_York]");

        let new_york = window_now(&window, &zone("America/New_York"), nine_in_new_york);
        let california = window_now(&window, &zone("America/Los_Angeles"), nine_in_new_york);

        assert_eq!(new_york, WindowNow::Open);
        assert_eq!(
            california,
            WindowNow::OpensAt(at("2026-12-01T08:00[America/Los_Angeles]"))
        );
    }

    #[test]
    fn several_zones_are_open_only_when_every_one_is_and_wait_for_the_last_to_open() {
        let window = eight_to_nine_every_day();
        let alaska = [zone("America/Adak"), zone("America/Anchorage")];

        // 08:30 in Anchorage is 07:30 in Adak: Anchorage is open, Adak is not yet.
        let early =
            window_now_everywhere(&window, &alaska, at("2026-12-01T08:30[America/Anchorage]"));
        let later =
            window_now_everywhere(&window, &alaska, at("2026-12-01T09:30[America/Anchorage]"));
        let one_zone = window_now_everywhere(
            &window,
            &alaska[1..],
            at("2026-12-01T08:30[America/Anchorage]"),
        );

        assert_eq!(
            early,
            WindowNow::OpensAt(at("2026-12-01T08:00[America/Adak]"))
        );
        assert_eq!(later, WindowNow::Open);
        assert_eq!(one_zone, WindowNow::Open);
    }

    #[test]
    fn zones_whose_windows_never_overlap_are_never_open_together() {
        let mut window = eight_to_nine_every_day();
        window.end = Time::constant(10, 0, 0, 0);
        let apart = [zone("Asia/Tokyo"), zone("America/New_York")];

        let now = window_now_everywhere(&window, &apart, at("2026-12-01T09:00[Asia/Tokyo]"));

        assert_eq!(now, WindowNow::Never);
    }

    #[test]
    fn nobody_is_called_on_a_holiday_in_their_zone_and_the_window_reopens_after_it() {
        let mut window = eight_to_nine_every_day();
        window.holidays = vec![jiff::civil::date(2026, 12, 25)];

        let christmas_noon = now_in(&window, "2026-12-25T12:00[America/New_York]");
        let christmas_eve = now_in(&window, "2026-12-24T22:00[America/New_York]");
        // Already the 26th in Tokyo: a holiday is a date in the callee's own zone.
        let tokyo = window_now(
            &window,
            &zone("Asia/Tokyo"),
            at("2026-12-25T22:00[America/New_York]"),
        );

        let the_26th = WindowNow::OpensAt(at("2026-12-26T08:00[America/New_York]"));
        assert_eq!(christmas_noon, the_26th);
        assert_eq!(christmas_eve, the_26th);
        assert_eq!(tokyo, WindowNow::Open);
    }
}
