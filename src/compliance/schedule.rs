//! Which hours bind a group of rows, and whether they are open: the campaign's `[window]`, and
//! for a US number in a telemarketing campaign the law of every jurisdiction it belongs to
//! (federal, and each state shipped in `data/calling_rules`), all at once: strictest wins.

use super::calling_hours::{CallingHours, HoursRule, Verdict, open_everywhere};
use crate::config::rules::{CallingWindow, Law};
use crate::law::BUILT_IN;
use crate::store::RowGroup;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::HashMap;

/// Where a US number's hours are read when neither the number nor the campaign gives a zone
/// (a toll-free number, a campaign without `[window]`): every zone of the states, so the call
/// falls inside the hours wherever the person is.
const US_ZONES: [&str; 7] = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
];

#[derive(Debug, Clone)]
pub struct Schedule {
    /// The campaign's window as hours, and the zone of rows without one of their own.
    window: Option<(CallingHours, TimeZone)>,
    /// The law's hours by jurisdiction code; empty when the campaign is not telemarketing.
    laws: HashMap<String, Vec<CallingHours>>,
    /// `US_ZONES`, looked up once.
    us_zones: Vec<TimeZone>,
}

/// A group's hours at an instant.
#[derive(Debug, Clone, PartialEq)]
pub enum Hours {
    Open,
    /// Closed until `until`, held by `rule`, read in `zones`.
    Closed {
        until: Timestamp,
        rule: HoursRule,
        zones: Vec<TimeZone>,
    },
    /// Never open (a window without days, hours that never overlap): asked again later.
    Never {
        rule: HoursRule,
    },
}

impl Schedule {
    pub fn new(window: Option<CallingWindow>, law: Law) -> Self {
        let laws = match law.telemarketing {
            true => std::iter::once(&BUILT_IN.federal)
                .chain(&BUILT_IN.states)
                .map(|j| (j.code.clone(), CallingHours::of_law(j)))
                .collect(),
            false => HashMap::new(),
        };
        Self {
            window: window.map(|w| (CallingHours::from(&w), w.timezone)),
            laws,
            us_zones: US_ZONES
                .iter()
                .filter_map(|z| TimeZone::get(z).ok())
                .collect(),
        }
    }

    /// Whether no hours bind any row: nothing to check.
    pub fn is_empty(&self) -> bool {
        self.window.is_none() && self.laws.is_empty()
    }

    /// The hours that bind `group`, and the zones they are read in (none: nothing binds it).
    pub fn rules_for(&self, group: &RowGroup) -> (Vec<&CallingHours>, Vec<TimeZone>) {
        let mut rules: Vec<&CallingHours> = self.window.iter().map(|(hours, _)| hours).collect();
        if let Some(jurisdictions) = &group.jurisdictions {
            let laws = jurisdictions.codes().filter_map(|code| self.laws.get(code));
            rules.extend(laws.flatten());
        }
        let own = group.zones.as_ref().map_or(&[][..], |z| z.zones());
        let zones = match (own, &self.window) {
            (own, _) if !own.is_empty() => own.to_vec(),
            (_, Some((_, zone))) => vec![zone.clone()],
            (_, None) => self.us_zones.clone(),
        };
        (rules, zones)
    }

    pub fn now(&self, group: &RowGroup, now: Timestamp) -> Hours {
        let (rules, zones) = self.rules_for(group);
        if rules.is_empty() {
            return Hours::Open;
        }
        match open_everywhere(&rules, &zones, now) {
            Verdict::Open => Hours::Open,
            Verdict::OpensAt { at, rule } => Hours::Closed {
                until: at,
                rule: rules[rule].rule.clone(),
                zones,
            },
            Verdict::Never { rule } => Hours::Never {
                rule: rules[rule].rule.clone(),
            },
        }
    }
}

impl HoursRule {
    /// "the calling window", "Florida's telemarketing hours".
    pub fn name(&self) -> String {
        match self {
            Self::Campaign => "the calling window".to_owned(),
            Self::Law { code, .. } if code == "US" => "the federal telemarketing hours".to_owned(),
            Self::Law { name, .. } => format!("{name}'s telemarketing hours"),
        }
    }

    /// "outside the calling window", "outside Florida's telemarketing hours".
    pub fn outside(&self) -> String {
        format!("outside {}", self.name())
    }

    /// "waiting for the calling window", "waiting for Florida's telemarketing hours".
    pub fn waiting_for(&self) -> String {
        format!("waiting for {}", self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CalleeZones, Jurisdictions};
    use jiff::Zoned;

    fn group(zones: Option<&str>, jurisdictions: Option<&str>) -> RowGroup {
        RowGroup {
            zones: zones.map(CalleeZones::from_stored),
            jurisdictions: jurisdictions.map(|j| Jurisdictions::parse(j).unwrap()),
        }
    }

    fn at(zoned: &str) -> Timestamp {
        zoned.parse::<Zoned>().unwrap().timestamp()
    }

    const TELEMARKETING: Law = Law {
        telemarketing: true,
        min_ring: None,
    };

    #[test]
    fn without_a_window_the_federal_hours_still_hold_us_numbers_and_nobody_else() {
        let schedule = Schedule::new(None, TELEMARKETING);
        let five_am = at("2026-12-08T05:00[America/Chicago]");

        // Texas ships no rules of its own: the federal hours hold.
        let dallas = schedule.now(&group(Some("America/Chicago"), Some("TX US")), five_am);
        let london = schedule.now(&group(Some("Europe/London"), None), five_am);
        let alerts = Schedule::new(
            None,
            Law {
                telemarketing: false,
                min_ring: None,
            },
        );

        assert!(
            matches!(&dallas, Hours::Closed { rule, .. } if rule.outside() == "outside the federal telemarketing hours"),
            "{dallas:?}"
        );
        assert_eq!(london, Hours::Open, "11:00 in London, and no US law");
        assert!(alerts.is_empty());
    }

    #[test]
    fn a_us_number_without_a_zone_waits_for_the_hours_in_every_us_zone() {
        let schedule = Schedule::new(None, TELEMARKETING);
        let toll_free = group(None, Some("US"));

        // 12:00 in New York is 07:00 in Honolulu.
        let noon = schedule.now(&toll_free, at("2026-12-08T12:00[America/New_York]"));

        assert!(
            matches!(noon, Hours::Closed { until, .. } if until == at("2026-12-08T08:00[Pacific/Honolulu]")),
            "{noon:?}"
        );
    }

    #[test]
    fn the_strictest_of_the_window_and_the_law_wins_and_is_named() {
        let window = CallingWindow {
            start: jiff::civil::Time::constant(9, 0, 0, 0),
            end: jiff::civil::Time::constant(21, 0, 0, 0),
            timezone: TimeZone::get("America/New_York").unwrap(),
            days: jiff::civil::Weekday::Monday
                .cycle_forward()
                .take(7)
                .collect(),
            holidays: Vec::new(),
        };
        let schedule = Schedule::new(Some(window), TELEMARKETING);
        let miami = group(Some("America/New_York"), Some("FL US"));

        let half_past_eight = schedule.now(&miami, at("2026-12-08T08:30[America/New_York]"));
        let half_past_eight_pm = schedule.now(&miami, at("2026-12-08T20:30[America/New_York]"));

        let rule = |hours: &Hours| match hours {
            Hours::Closed { rule, .. } => rule.outside(),
            other => format!("{other:?}"),
        };
        assert_eq!(rule(&half_past_eight), "outside the calling window");
        assert_eq!(
            rule(&half_past_eight_pm),
            "outside Florida's telemarketing hours"
        );
    }
}
