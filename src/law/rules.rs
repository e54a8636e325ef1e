//! The built-in rules file, `data/calling_rules/us.toml`, read once: per jurisdiction the
//! hours calls are allowed in, the days and holidays without calls, and the per-person caps,
//! each with the source it was read from. Parsed strictly: a malformed entry is a build that
//! fails its tests, never a rule silently dropped.

use super::holidays::Holiday;
use crate::domain::Invalid;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::sync::LazyLock;
use std::time::Duration;

const RULES_FILE: &str = include_str!("../../data/calling_rules/us.toml");

/// The rules dialer ships, parsed at first use.
pub static BUILT_IN: LazyLock<RulesBook> =
    LazyLock::new(|| RulesBook::parse(RULES_FILE).expect("data/calling_rules/us.toml parses"));

/// Every jurisdiction's rules, and when they were read.
#[derive(Debug, Clone)]
pub struct RulesBook {
    pub reviewed: Date,
    pub federal: Jurisdiction,
    pub states: Vec<Jurisdiction>,
    /// Jurisdictions looked at and left out, with why.
    pub not_shipped: Vec<(String, String)>,
    /// The least a call may ring before it counts as unanswered (the federal rule).
    pub min_ring: Duration,
}

/// One jurisdiction's rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Jurisdiction {
    /// `US`, or a USPS state code.
    pub code: String,
    pub name: String,
    /// When calls are allowed: a call must fall inside one entry for its weekday; a weekday
    /// no entry names has none.
    pub hours: Vec<Hours>,
    pub holidays: Vec<Holiday>,
    pub calls_per_person: Option<PersonCap>,
    /// The citation, as a person reads it.
    pub source: String,
    pub reviewed: Date,
}

/// Calls allowed from `from` to `to` on `days`, on the callee's clock or on `zone`'s.
#[derive(Debug, Clone, PartialEq)]
pub struct Hours {
    pub days: Vec<Weekday>,
    pub from: Time,
    pub to: Time,
    pub zone: Option<TimeZone>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonCap {
    pub calls: u32,
    pub within: Duration,
}

impl Jurisdiction {
    /// The source as cited, without the notes in parentheses after it.
    pub fn citation(&self) -> &str {
        self.source
            .split_once(" (")
            .map_or(self.source.as_str(), |(cited, _)| cited)
    }
}

impl RulesBook {
    /// The rules of `code`, if shipped.
    pub fn jurisdiction(&self, code: &str) -> Option<&Jurisdiction> {
        match code {
            "US" => Some(&self.federal),
            _ => self.states.iter().find(|s| s.code == code),
        }
    }

    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let file: FileSection = toml::from_str(text).map_err(|e| Invalid(e.to_string()))?;
        if file.format != 1 {
            return Err(Invalid(format!("format {} is not 1", file.format)));
        }
        let federal = file.federal.entry.typed("US", "United States (federal)")?;
        let states = file
            .state
            .into_iter()
            .map(|state| {
                let (code, name) = (state.code.clone(), state.name.clone());
                state.entry.typed(&code, &name)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            reviewed: date(&file.reviewed)?,
            federal,
            states,
            not_shipped: file
                .not_shipped
                .into_iter()
                .map(|n| (n.code, n.why))
                .collect(),
            min_ring: Duration::from_secs(file.federal.min_ring_secs),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSection {
    format: u32,
    reviewed: String,
    federal: FederalSection,
    #[serde(default)]
    state: Vec<StateSection>,
    #[serde(default)]
    not_shipped: Vec<NotShippedSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FederalSection {
    min_ring_secs: u64,
    #[serde(flatten)]
    entry: Entry,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateSection {
    code: String,
    name: String,
    #[serde(flatten)]
    entry: Entry,
}

/// What every jurisdiction's entry holds; the words only people read are kept as text.
#[derive(Deserialize)]
struct Entry {
    hours: Vec<HoursSection>,
    #[serde(default)]
    no_call_days: Vec<String>,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    calls_per_person: Option<CapSection>,
    source: String,
    reviewed: String,
    #[allow(dead_code)]
    url: String,
    #[allow(dead_code)]
    quote: String,
    #[serde(default)]
    #[allow(dead_code)]
    holiday_rule: String,
    #[serde(default)]
    #[allow(dead_code)]
    stop_request_bar: String,
    #[serde(default)]
    #[allow(dead_code)]
    scope: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursSection {
    days: String,
    from: String,
    to: String,
    timezone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CapSection {
    calls: u32,
    per: String,
    #[allow(dead_code)]
    same_subject: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotShippedSection {
    code: String,
    #[allow(dead_code)]
    name: String,
    why: String,
}

impl Entry {
    fn typed(self, code: &str, name: &str) -> Result<Jurisdiction, Invalid> {
        let at = |e: Invalid| Invalid(format!("{code}: {}", e.0));
        let banned: Vec<Weekday> = self
            .no_call_days
            .iter()
            .map(|d| weekday(d))
            .collect::<Result<_, _>>()
            .map_err(at)?;
        let hours = self
            .hours
            .into_iter()
            .map(|h| {
                let days: Vec<Weekday> = weekdays(&h.days)?
                    .into_iter()
                    .filter(|d| !banned.contains(d))
                    .collect();
                let zone = h
                    .timezone
                    .map(|z| TimeZone::get(&z).map_err(|_| Invalid(format!("unknown zone {z:?}"))))
                    .transpose()?;
                let (from, to) = (time(&h.from)?, time(&h.to)?);
                if from >= to {
                    return Err(Invalid(format!("hours {} to {} are empty", h.from, h.to)));
                }
                Ok(Hours {
                    days,
                    from,
                    to,
                    zone,
                })
            })
            .collect::<Result<_, _>>()
            .map_err(at)?;
        let holidays = self
            .holidays
            .iter()
            .map(|h| Holiday::parse(h))
            .collect::<Result<_, _>>()
            .map_err(at)?;
        let calls_per_person = self
            .calls_per_person
            .map(|cap| {
                Ok::<_, Invalid>(PersonCap {
                    calls: cap.calls,
                    within: crate::domain::duration(&cap.per)?,
                })
            })
            .transpose()
            .map_err(at)?;
        Ok(Jurisdiction {
            code: code.to_owned(),
            name: name.to_owned(),
            hours,
            holidays,
            calls_per_person,
            source: self.source,
            reviewed: date(&self.reviewed).map_err(at)?,
        })
    }
}

fn weekday(raw: &str) -> Result<Weekday, Invalid> {
    const NAMES: [(&str, Weekday); 7] = [
        ("Mon", Weekday::Monday),
        ("Tue", Weekday::Tuesday),
        ("Wed", Weekday::Wednesday),
        ("Thu", Weekday::Thursday),
        ("Fri", Weekday::Friday),
        ("Sat", Weekday::Saturday),
        ("Sun", Weekday::Sunday),
    ];
    NAMES
        .iter()
        .find(|(name, _)| *name == raw)
        .map(|(_, day)| *day)
        .ok_or_else(|| Invalid(format!("not a weekday: {raw:?}")))
}

/// `Mon-Fri`, `Sat`, `Mon-Sun`.
fn weekdays(raw: &str) -> Result<Vec<Weekday>, Invalid> {
    let (first, last) = raw.split_once('-').unwrap_or((raw, raw));
    let (first, last) = (weekday(first)?, weekday(last)?);
    let mut days = vec![first];
    while *days.last().expect("one day") != last {
        days.push(days.last().expect("one day").next());
    }
    Ok(days)
}

fn time(raw: &str) -> Result<Time, Invalid> {
    raw.parse()
        .map_err(|_| Invalid(format!("not a time: {raw:?}")))
}

fn date(raw: &str) -> Result<Date, Invalid> {
    raw.parse()
        .map_err(|_| Invalid(format!("not a date: {raw:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_parses_with_the_federal_hours_and_every_state_cited() {
        let book = &*BUILT_IN;

        assert_eq!(book.federal.hours.len(), 1);
        assert_eq!(book.federal.hours[0].from, Time::constant(8, 0, 0, 0));
        assert_eq!(book.federal.hours[0].to, Time::constant(21, 0, 0, 0));
        assert_eq!(book.min_ring, Duration::from_secs(15));
        let florida = book.jurisdiction("FL").expect("Florida ships");
        assert_eq!(florida.hours[0].to, Time::constant(20, 0, 0, 0));
        assert_eq!(
            florida.calls_per_person,
            Some(PersonCap {
                calls: 3,
                within: Duration::from_secs(24 * 3600)
            })
        );
        let rhode_island = book.jurisdiction("RI").unwrap();
        assert!(
            rhode_island
                .hours
                .iter()
                .all(|h| !h.days.contains(&Weekday::Sunday))
        );
        for state in &book.states {
            assert!(!state.source.is_empty(), "{}", state.code);
            assert_eq!(state.code.len(), 2);
        }
        assert!(book.not_shipped.iter().any(|(code, _)| code == "TX"));
        assert!(book.jurisdiction("TX").is_none());
    }

    #[test]
    fn a_weekday_range_runs_through_the_week() {
        assert_eq!(weekdays("Sat").unwrap(), [Weekday::Saturday]);
        assert_eq!(weekdays("Mon-Sun").unwrap().len(), 7);
        assert_eq!(weekdays("Fri-Mon").unwrap().len(), 4);
        assert!(weekdays("Mo-Fr").is_err());
    }
}
