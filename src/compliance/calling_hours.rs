//! Hours in which a call is allowed under one rule, the campaign's window or a jurisdiction's
//! law, and whether a callee may be called under all of them at once (strictest wins). Pure
//! time arithmetic on local civil time, so daylight saving time is followed without special
//! cases. A rule's hours are read on the callee's clock, or on a zone of its own (a state whose
//! statute names one); a closed date (a holiday) is a date on that clock.

use crate::law::{Holiday, Jurisdiction};
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use std::borrow::Borrow;

/// One rule's hours.
#[derive(Debug, Clone, PartialEq)]
pub struct CallingHours {
    pub rule: HoursRule,
    /// A call must fall inside one span for its weekday; a weekday no span names has none.
    pub spans: Vec<HoursSpan>,
    pub closed_dates: Vec<Date>,
    pub holidays: Vec<Holiday>,
}

/// Who sets a rule's hours, as the reasons name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoursRule {
    /// The campaign file's `[window]`.
    Campaign,
    /// A jurisdiction's law: its code (`US`, `FL`), its name and the source it was read from.
    Law {
        code: String,
        name: String,
        source: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct HoursSpan {
    pub days: Vec<Weekday>,
    pub from: Time,
    pub to: Time,
    /// Read on this zone's clock instead of the callee's.
    pub zone: Option<TimeZone>,
}

/// One rule's hours seen from one zone at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowNow {
    Open,
    OpensAt(Timestamp),
    /// The hours have no day at all.
    Never,
}

/// Every rule's hours in every zone of a callee: open, or when all first are, and which rule
/// holds the call back now (its index; of several, the one that opens last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Open,
    OpensAt { at: Timestamp, rule: usize },
    Never { rule: usize },
}

/// How many times the search for an instant open everywhere moves forward before giving up
/// (hours that never overlap, e.g. 09:00–10:00 in Tokyo and in New York).
const MAX_ALIGNMENTS: usize = 64;

impl CallingHours {
    /// A jurisdiction's law, as the rules file gives it: its hours on the callee's clock, and
    /// apart from them (both apply) those it reads on a zone of its own.
    pub fn of_law(law: &Jurisdiction) -> Vec<Self> {
        let clocks: Vec<Option<&TimeZone>> = {
            let mut clocks: Vec<_> = law.hours.iter().map(|h| h.zone.as_ref()).collect();
            clocks.dedup();
            clocks
        };
        clocks
            .into_iter()
            .map(|clock| Self {
                rule: HoursRule::Law {
                    code: law.code.clone(),
                    name: law.name.clone(),
                    source: law.citation().to_owned(),
                },
                spans: law
                    .hours
                    .iter()
                    .filter(|h| h.zone.as_ref() == clock)
                    .map(|h| HoursSpan {
                        days: h.days.clone(),
                        from: h.from,
                        to: h.to,
                        zone: h.zone.clone(),
                    })
                    .collect(),
                closed_dates: Vec::new(),
                holidays: law.holidays.clone(),
            })
            .collect()
    }

    fn closed_on(&self, date: Date) -> bool {
        self.closed_dates.contains(&date) || self.holidays.iter().any(|h| h.falls_on(date))
    }

    /// Whether `now` falls in these hours for a callee in `callee`; if not, their next
    /// opening (a start inside a spring-forward gap opens at the first instant after it).
    pub fn now(&self, callee: &TimeZone, now: Timestamp) -> WindowNow {
        // Past a week and every closed date, every day was seen.
        let horizon = 7 + self.closed_dates.len() as i64 + 2 * self.holidays.len() as i64;
        let mut next: Option<Timestamp> = None;
        for span in &self.spans {
            let zone = span.zone.as_ref().unwrap_or(callee);
            let local = now.to_zoned(zone.clone());
            let open_on = |date: Date| span.days.contains(&date.weekday()) && !self.closed_on(date);
            if open_on(local.date()) && span.from <= local.time() && local.time() < span.to {
                return WindowNow::Open;
            }
            for offset in 0..=horizon {
                let Ok(date) = local.date().checked_add(offset.days()) else {
                    break;
                };
                if !open_on(date) {
                    continue;
                }
                let Ok(opening) = date.to_datetime(span.from).to_zoned(zone.clone()) else {
                    continue;
                };
                if opening.timestamp() > now {
                    next = Some(next.map_or(opening.timestamp(), |n| n.min(opening.timestamp())));
                    break;
                }
            }
        }
        next.map_or(WindowNow::Never, WindowNow::OpensAt)
    }
}

/// Whether `now` falls in every one of `hours` in every one of `zones`; if not, the first
/// instant at or after the latest of their next openings at which all are open.
pub fn open_everywhere<H: Borrow<CallingHours>>(
    hours: &[H],
    zones: &[TimeZone],
    now: Timestamp,
) -> Verdict {
    let mut at = now;
    let mut binding = None;
    for _ in 0..MAX_ALIGNMENTS {
        let mut latest: Option<(Timestamp, usize)> = None;
        for (rule, h) in hours.iter().enumerate() {
            let h = h.borrow();
            for zone in zones {
                match h.now(zone, at) {
                    WindowNow::Open => {}
                    WindowNow::Never => return Verdict::Never { rule },
                    WindowNow::OpensAt(opens) => {
                        if latest.is_none_or(|(l, _)| opens > l) {
                            latest = Some((opens, rule));
                        }
                    }
                }
            }
        }
        match (latest, binding) {
            (None, None) => return Verdict::Open,
            (None, Some(rule)) => return Verdict::OpensAt { at, rule },
            (Some((opens, rule)), _) => (at, binding) = (opens, binding.or(Some(rule))),
        }
    }
    Verdict::Never {
        rule: binding.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::BUILT_IN;
    use jiff::Zoned;

    fn at(zoned: &str) -> Timestamp {
        zoned.parse::<Zoned>().unwrap().timestamp()
    }

    fn law(code: &str) -> Vec<CallingHours> {
        CallingHours::of_law(BUILT_IN.jurisdiction(code).unwrap())
    }

    fn laws(codes: &[&str]) -> Vec<CallingHours> {
        codes.iter().flat_map(|code| law(code)).collect()
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    #[test]
    fn at_half_past_eight_in_the_evening_florida_waits_for_eight_and_new_york_is_called() {
        // A Tuesday: federal 08:00–21:00 everywhere; Florida 08:00–20:00.
        let now = at("2026-12-08T20:30[America/New_York]");
        let miami = laws(&["US", "FL"]);
        let new_york = law("US");
        let eastern = [zone("America/New_York")];

        let florida = open_everywhere(&miami, &eastern, now);
        let federal = open_everywhere(&new_york, &eastern, now);

        assert_eq!(
            florida,
            Verdict::OpensAt {
                at: at("2026-12-09T08:00[America/New_York]"),
                rule: 1
            }
        );
        assert_eq!(federal, Verdict::Open);
    }

    #[test]
    fn a_sunday_ban_waits_for_monday_and_saturday_hours_are_their_own() {
        // Rhode Island: weekdays 09:00–18:00, Saturday 10:00–17:00, no Sunday.
        let rules = laws(&["US", "RI"]);
        let eastern = [zone("America/New_York")];

        let sunday = open_everywhere(&rules, &eastern, at("2026-12-06T12:00[America/New_York]"));
        let saturday_9 =
            open_everywhere(&rules, &eastern, at("2026-12-05T09:30[America/New_York]"));
        let saturday_11 =
            open_everywhere(&rules, &eastern, at("2026-12-05T11:00[America/New_York]"));

        assert_eq!(
            sunday,
            Verdict::OpensAt {
                at: at("2026-12-07T09:00[America/New_York]"),
                rule: 1
            }
        );
        assert_eq!(
            saturday_9,
            Verdict::OpensAt {
                at: at("2026-12-05T10:00[America/New_York]"),
                rule: 1
            }
        );
        assert_eq!(saturday_11, Verdict::Open);
    }

    #[test]
    fn a_holiday_state_skips_the_holiday_and_the_weekday_it_is_observed_on() {
        // Utah bars legal holidays; 2026-07-04 is a Saturday, observed Friday 3rd.
        let rules = laws(&["US", "UT"]);
        let mountain = [zone("America/Denver")];

        let observed = open_everywhere(&rules, &mountain, at("2026-07-03T10:00[America/Denver]"));

        assert_eq!(
            observed,
            Verdict::OpensAt {
                at: at("2026-07-06T08:00[America/Denver]"),
                rule: 1
            },
            "not the 3rd, the 4th, or Sunday the 5th"
        );
    }

    #[test]
    fn a_states_own_holidays_bar_calls_there_and_only_there() {
        let utah = laws(&["US", "UT"]);
        let rhode_island = laws(&["US", "RI"]);
        let mountain = [zone("America/Denver")];
        let eastern = [zone("America/New_York")];

        // Pioneer Day, Friday 2026-07-24; Victory Day, Monday 2026-08-10.
        let pioneer_day = open_everywhere(&utah, &mountain, at("2026-07-24T10:00[America/Denver]"));
        let victory_day = open_everywhere(
            &rhode_island,
            &eastern,
            at("2026-08-10T10:00[America/New_York]"),
        );
        let elsewhere = open_everywhere(
            &law("US"),
            &mountain,
            at("2026-07-24T10:00[America/Denver]"),
        );

        assert_eq!(
            pioneer_day,
            Verdict::OpensAt {
                at: at("2026-07-25T08:00[America/Denver]"),
                rule: 1
            }
        );
        assert_eq!(
            victory_day,
            Verdict::OpensAt {
                at: at("2026-08-11T09:00[America/New_York]"),
                rule: 1
            }
        );
        assert_eq!(elsewhere, Verdict::Open);
    }

    #[test]
    fn arizona_and_hawaii_keep_their_hours_when_the_mainland_changes_its_clocks() {
        // 2026-03-08: daylight saving time starts on the mainland, not in Phoenix or Honolulu.
        let federal = law("US");
        let before = at("2026-03-07T15:30[UTC]"); // 08:30 in Phoenix, 05:30 in Honolulu
        let after = at("2026-03-09T15:30[UTC]"); // the same: neither moved

        for now in [before, after] {
            assert_eq!(
                open_everywhere(&federal, &[zone("America/Phoenix")], now),
                Verdict::Open
            );
            assert_eq!(
                open_everywhere(&federal, &[zone("Pacific/Honolulu")], now),
                Verdict::OpensAt {
                    at: now + jiff::SignedDuration::from_mins(150),
                    rule: 0
                }
            );
        }
        // Denver did move: 08:30 MST before, 09:30 MDT after; 07:59 MDT is closed.
        let denver = [zone("America/Denver")];
        assert_eq!(
            open_everywhere(&federal, &denver, at("2026-03-09T07:59[America/Denver]")),
            Verdict::OpensAt {
                at: at("2026-03-09T08:00[America/Denver]"),
                rule: 0
            }
        );
    }

    #[test]
    fn mississippi_is_read_on_both_clocks_in_summer() {
        // "8 a.m. to 8 p.m. Central Standard Time": in July 08:30 CDT is 07:30 CST.
        let rules = laws(&["US", "MS"]);
        let central = [zone("America/Chicago")];

        let early = open_everywhere(&rules, &central, at("2026-07-07T08:30[America/Chicago]"));
        let winter = open_everywhere(&rules, &central, at("2026-12-08T08:30[America/Chicago]"));

        assert_eq!(
            early,
            Verdict::OpensAt {
                at: at("2026-07-07T09:00[America/Chicago]"),
                rule: 2
            },
            "the second of Mississippi's two clocks"
        );
        assert_eq!(winter, Verdict::Open);
    }
}
