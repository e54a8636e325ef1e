//! The campaign file's rules beyond dialing itself: where status callbacks arrive, when to
//! call a busy or unanswered person again, the hours people may be called, the numbers never
//! to call, and how pacing adapts. Parsed with the rest of the file, before anything is dialed.

use crate::domain::Invalid;
use crate::domain::duration;
pub use crate::outcomes::Recycle;
use crate::twilio::connection::{ConnectionOverrides, DIALER_OVERRIDES};
use crate::twilio::{ParamError, ParticipantOptions};
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The campaign file's sections read here (each a field of the file, not flattened, so that
/// unknown keys are still refused).
#[derive(Debug, Default)]
pub(super) struct RulesSections {
    pub callbacks: Option<CallbacksSection>,
    pub recycle: RecycleSection,
    pub window: Option<WindowSection>,
    pub suppression: SuppressionSection,
    pub pacing: PacingSection,
    pub frequency: FrequencySection,
    pub law: LawSection,
}

/// `[frequency]` (one cap) or `[[frequency]]` (several at once: 3 in 24 hours and 7 in 7 days),
/// each read with its own keys' refusals.
#[derive(Debug, Default)]
pub(super) struct FrequencySection(Vec<FrequencyCap>);

impl<'de> Deserialize<'de> for FrequencySection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Caps;
        impl<'de> serde::de::Visitor<'de> for Caps {
            type Value = FrequencySection;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a [frequency] table or [[frequency]] tables")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                let one =
                    FrequencyCap::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(FrequencySection(vec![one]))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut caps = Vec::new();
                while let Some(cap) = seq.next_element()? {
                    caps.push(cap);
                }
                Ok(FrequencySection(caps))
            }
        }
        d.deserialize_any(Caps)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CallbacksSection {
    listen: String,
    public_url: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RecycleSection {
    busy: Option<String>,
    no_answer: Option<String>,
    failed: Option<String>,
    canceled: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WindowSection {
    start: String,
    end: String,
    timezone: String,
    #[serde(default)]
    days: Option<Vec<String>>,
    #[serde(default)]
    holidays: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SuppressionSection {
    #[serde(default)]
    lists: Vec<PathBuf>,
    #[serde(default)]
    deletions: Vec<PathBuf>,
    #[serde(default, deserialize_with = "crate::domain::deserialize_some_duration")]
    max_age: Option<Duration>,
    #[serde(default)]
    as_of: Option<String>,
}

/// `[suppression]`: the do-not-call files, and how old the National Registry's data may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Files of numbers never to dial: the Registry's download and its additions, the owner's
    /// own lists.
    pub lists: Vec<PathBuf>,
    /// The Registry's change lists of numbers deleted from it: taken out of the Registry's
    /// files (never out of the owner's own lists).
    pub deletions: Vec<PathBuf>,
    /// Registry data older than this stops a run before any call.
    pub max_age: Duration,
    /// The date the Registry's data was downloaded, instead of its files' modification time.
    pub as_of: Option<Date>,
}

/// The FTC's safe harbour: Registry data at most 31 days old (16 CFR 310.4(b)(3)(iv)).
pub const REGISTRY_MAX_AGE: Duration = Duration::from_secs(31 * 86_400);

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct PacingSection {
    adaptive: bool,
}

impl Default for PacingSection {
    fn default() -> Self {
        Self { adaptive: true }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct LawSection {
    telemarketing: Option<bool>,
    #[serde(deserialize_with = "crate::domain::deserialize_some_duration")]
    min_ring: Option<Duration>,
}

/// `[law]`: whether the calls are telemarketing, which the law's calling rules bind (the
/// default), and the least a call may ring before it is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Law {
    /// The federal and state rules of `data/calling_rules` apply to every US number; `false`
    /// (staff alerts, a campaign the owner knows is not telemarketing) drops them.
    pub telemarketing: bool,
    /// Set in the file: a floor lower (or higher) than the law's.
    pub min_ring: Option<Duration>,
}

impl Law {
    /// The least `timeout` (seconds of ringing) a call may be given: the file's `min_ring`,
    /// else the Telemarketing Sales Rule's 15 s for telemarketing, else none.
    pub fn ring_floor(&self) -> Option<Duration> {
        self.min_ring
            .or(self.telemarketing.then(|| crate::law::BUILT_IN.min_ring))
    }

    /// Refuses a `timeout` under the floor, naming the rule and how to lower it.
    pub fn check_ring(&self, timeout_secs: i64) -> Result<(), Invalid> {
        let Some(floor) = self.ring_floor() else {
            return Ok(());
        };
        if u64::try_from(timeout_secs).unwrap_or(0) >= floor.as_secs() {
            return Ok(());
        }
        let rule = match self.min_ring {
            Some(_) => "the campaign's `[law] min_ring`".to_owned(),
            None => format!(
                "the Telemarketing Sales Rule's floor (16 CFR 310.4(b)(4)(ii): ring {} s before \
                 giving up); set `[law] min_ring` to ring less",
                floor.as_secs()
            ),
        };
        Err(Invalid(format!(
            "rings {timeout_secs} s, under {} s: {rule}",
            floor.as_secs()
        )))
    }
}

/// Twilio's status callbacks come to this receiver (`dialer serve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callbacks {
    pub listen: SocketAddr,
    /// The URL Twilio is given (behind a reverse proxy, usually https); signatures are
    /// computed over it, not over the local address.
    pub public_url: url::Url,
}

/// The call-progress events asked for when the campaign names none.
pub const DEFAULT_EVENTS: &str = "initiated ringing answered completed";

impl Callbacks {
    /// Points every call's status callbacks at the receiver, unless the campaign file already
    /// sends them elsewhere; a row's own `status_callback` column still wins over both.
    pub fn route(&self, defaults: &mut ParticipantOptions) -> Result<(), ParamError> {
        if defaults.status_callback.is_some() {
            return Ok(());
        }
        defaults.set("StatusCallback", self.public_url.as_str())?;
        if defaults.status_callback_event.is_none() {
            defaults.set("StatusCallbackEvent", DEFAULT_EVENTS)?;
        }
        Ok(())
    }
}

/// The local hours and days people may be called.
#[derive(Debug, Clone, PartialEq)]
pub struct CallingWindow {
    pub start: Time,
    pub end: Time,
    /// For rows whose own time zone is unknown.
    pub timezone: TimeZone,
    pub days: Vec<Weekday>,
    /// Dates, in each callee's own zone, on which nobody is called.
    pub holidays: Vec<Date>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub callbacks: Option<Callbacks>,
    pub recycle: Recycle,
    pub window: Option<CallingWindow>,
    pub suppression: Suppression,
    pub adaptive_pacing: bool,
    /// Caps on calls to one person (none, one, or several at once).
    pub frequency: Vec<FrequencyCap>,
    pub law: Law,
}

/// A cap on calls per person across the campaigns that share a database (Regulation F's 7 in
/// 7 days, a state's 3 in 24 hours, an owner's own rule): the file's `[frequency]`, at most
/// `max_calls` calls to one person `within` this long, counted over every campaign there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrequencyCap {
    #[serde(deserialize_with = "super::fields::max_calls")]
    pub max_calls: u32,
    #[serde(deserialize_with = "crate::domain::deserialize_duration")]
    pub within: std::time::Duration,
}

type KeyError = (String, Invalid);

impl RulesSections {
    pub(super) fn parse(self, dir: &Path) -> Result<Rules, KeyError> {
        fn key(k: &'static str) -> impl Fn(Invalid) -> KeyError {
            move |e| (k.to_string(), e)
        }
        let callbacks = match self.callbacks {
            Some(c) => Some(Callbacks {
                listen: c.listen.parse().map_err(|_| {
                    (
                        "callbacks.listen".to_string(),
                        Invalid(format!(
                            "must be an address like 127.0.0.1:8080, got {:?}",
                            c.listen
                        )),
                    )
                })?,
                public_url: parse_public_url(&c.public_url).map_err(key("callbacks.public_url"))?,
            }),
            None => None,
        };
        let recycle = Recycle {
            busy: recycle_delay(self.recycle.busy.as_deref()).map_err(key("recycle.busy"))?,
            no_answer: recycle_delay(self.recycle.no_answer.as_deref())
                .map_err(key("recycle.no_answer"))?,
            failed: recycle_delay(self.recycle.failed.as_deref()).map_err(key("recycle.failed"))?,
            canceled: recycle_delay(self.recycle.canceled.as_deref())
                .map_err(key("recycle.canceled"))?,
        };
        let window = match self.window {
            Some(w) => Some(CallingWindow {
                start: parse_time(&w.start).map_err(key("window.start"))?,
                end: parse_time(&w.end).map_err(key("window.end"))?,
                timezone: TimeZone::get(&w.timezone).map_err(|_| {
                    (
                        "window.timezone".to_string(),
                        Invalid(format!("is not an IANA time zone: {:?}", w.timezone)),
                    )
                })?,
                days: parse_days(w.days.as_deref()).map_err(key("window.days"))?,
                holidays: parse_holidays(&w.holidays).map_err(key("window.holidays"))?,
            }),
            None => None,
        };
        if let Some(w) = &window
            && w.start >= w.end
        {
            return Err((
                "window.end".into(),
                Invalid::new("must be after window.start (windows do not cross midnight)"),
            ));
        }
        Ok(Rules {
            frequency: self.frequency.0,
            callbacks,
            recycle,
            window,
            suppression: Suppression {
                lists: self.suppression.lists.iter().map(|p| dir.join(p)).collect(),
                deletions: self
                    .suppression
                    .deletions
                    .iter()
                    .map(|p| dir.join(p))
                    .collect(),
                max_age: self.suppression.max_age.unwrap_or(REGISTRY_MAX_AGE),
                as_of: self
                    .suppression
                    .as_of
                    .as_deref()
                    .map(|raw| {
                        raw.parse::<Date>().map_err(|_| {
                            Invalid(format!("must be a date like \"2026-11-28\", got {raw:?}"))
                        })
                    })
                    .transpose()
                    .map_err(key("suppression.as_of"))?,
            },
            adaptive_pacing: self.pacing.adaptive,
            law: Law {
                telemarketing: self.law.telemarketing.unwrap_or(true),
                min_ring: self.law.min_ring,
            },
        })
    }
}

/// The receiver's URL as Twilio is given it: with dialer's connection overrides as its
/// fragment, unless the campaign file wrote its own (checked here).
fn parse_public_url(raw: &str) -> Result<url::Url, Invalid> {
    let mut url =
        url::Url::parse(raw).map_err(|e| Invalid(format!("must be an absolute URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Invalid::new("must be an http:// or https:// URL"));
    }
    match url.fragment() {
        Some(own) => {
            ConnectionOverrides::parse(Some(own))?;
        }
        None => url.set_fragment(Some(DIALER_OVERRIDES)),
    }
    Ok(url)
}

/// "10m", "1h", or "never".
fn recycle_delay(raw: Option<&str>) -> Result<Option<Duration>, Invalid> {
    match raw.map(str::trim) {
        None | Some("never") => Ok(None),
        Some(raw) => duration(raw).map(Some),
    }
}

fn parse_time(raw: &str) -> Result<Time, Invalid> {
    raw.trim()
        .parse::<Time>()
        .map_err(|_| Invalid(format!("must be a time like \"09:00\", got {raw:?}")))
}

fn parse_holidays(raw: &[String]) -> Result<Vec<Date>, Invalid> {
    raw.iter()
        .map(|day| {
            day.trim()
                .parse::<Date>()
                .map_err(|_| Invalid(format!("must list dates like \"2026-12-25\", got {day:?}")))
        })
        .collect()
}

fn parse_days(raw: Option<&[String]>) -> Result<Vec<Weekday>, Invalid> {
    use Weekday::*;
    let Some(raw) = raw else {
        return Ok(vec![
            Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
        ]);
    };
    raw.iter()
        .map(|day| match day.trim().to_ascii_lowercase().get(..3) {
            Some("mon") => Ok(Monday),
            Some("tue") => Ok(Tuesday),
            Some("wed") => Ok(Wednesday),
            Some("thu") => Ok(Thursday),
            Some("fri") => Ok(Friday),
            Some("sat") => Ok(Saturday),
            Some("sun") => Ok(Sunday),
            _ => Err(Invalid(format!(
                "must name days of the week (mon … sun), got {day:?}"
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callbacks() -> Callbacks {
        Callbacks {
            listen: "127.0.0.1:8080".parse().unwrap(),
            public_url: "https://dialer.example.com/twilio/status".parse().unwrap(),
        }
    }

    #[test]
    fn the_receivers_url_carries_dialers_connection_overrides_unless_it_has_its_own() {
        let plain = parse_public_url("https://d.example.com/status").unwrap();
        let own = parse_public_url("https://d.example.com/status#rc=5&rp=all").unwrap();

        assert_eq!(plain.fragment(), Some(DIALER_OVERRIDES));
        assert_eq!(own.fragment(), Some("rc=5&rp=all"));
        assert!(parse_public_url("https://d.example.com/status#rc=9").is_err());
    }

    #[test]
    fn calls_report_to_the_receiver_with_every_progress_event() {
        let mut defaults = ParticipantOptions::default();

        callbacks().route(&mut defaults).unwrap();

        let mut wire = Vec::new();
        defaults.encode(&mut wire);
        assert!(wire.contains(&(
            "StatusCallback",
            "https://dialer.example.com/twilio/status".to_owned()
        )));
        let events: Vec<&str> = wire
            .iter()
            .filter(|(k, _)| *k == "StatusCallbackEvent")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(events, ["initiated", "ringing", "answered", "completed"]);
    }

    #[test]
    fn a_campaigns_own_status_callback_and_events_are_kept() {
        let mut own = ParticipantOptions::default();
        own.set("StatusCallback", "https://elsewhere.example.com/cb")
            .unwrap();
        let mut events_only = ParticipantOptions::default();
        events_only.set("StatusCallbackEvent", "completed").unwrap();
        let expected_events = events_only.status_callback_event.clone();

        callbacks().route(&mut own).unwrap();
        callbacks().route(&mut events_only).unwrap();

        assert_eq!(
            own.status_callback.map(|u| u.as_str().to_owned()),
            Some("https://elsewhere.example.com/cb".to_owned())
        );
        assert_eq!(own.status_callback_event, None);
        assert_eq!(events_only.status_callback_event, expected_events);
    }
}
