//! Refused callbacks are counted, not narrated: an attacker must not decide how fast our log
//! grows. The first refusal after a quiet spell is logged at once (a misconfigured
//! `public_url` shows immediately); the rest are summed up at most every `SUMMARY_EVERY`, with
//! the address that sent the most.

use crate::metrics::CallbackResult;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How often refusals are summed up in the log.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(10);

/// Why a callback was refused, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Refused {
    BadSignature,
    Malformed,
    TooLarge,
    TooSlow,
    /// Genuine, but not this campaign's call (answered 200, never applied).
    Stray,
}

impl From<Refused> for CallbackResult {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::BadSignature => Self::Forged,
            Refused::Malformed => Self::Malformed,
            Refused::TooLarge => Self::TooLarge,
            Refused::TooSlow => Self::TooSlow,
            Refused::Stray => Self::Stray,
        }
    }
}

impl Refused {
    fn as_str(self) -> &'static str {
        match self {
            Self::BadSignature => "bad signatures",
            Self::Malformed => "malformed",
            Self::TooLarge => "too large",
            Self::TooSlow => "too slow",
            Self::Stray => "strays (not this campaign's calls)",
        }
    }
}

#[derive(Debug, Default)]
pub struct Refusals {
    state: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    /// When the last refusal was logged or summed up; `None` after a quiet spell.
    logged_at: Option<Instant>,
    by_reason: BTreeMap<Refused, u64>,
    by_source: HashMap<IpAddr, u64>,
    total: u64,
}

impl Refusals {
    /// Counts one refusal; returns a line to log now if it is the first after a quiet spell.
    pub fn refused(&self, why: Refused, detail: &str, source: Option<IpAddr>) -> Option<String> {
        self.refused_at(why, detail, source, Instant::now())
    }

    fn refused_at(
        &self,
        why: Refused,
        detail: &str,
        source: Option<IpAddr>,
        now: Instant,
    ) -> Option<String> {
        let mut w = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if w.logged_at.is_none_or(|at| now - at >= SUMMARY_EVERY * 2) && w.total == 0 {
            w.logged_at = Some(now);
            let from = source.map(|s| format!(" from {s}")).unwrap_or_default();
            return Some(format!("status callback refused{from}: {detail}"));
        }
        w.total += 1;
        *w.by_reason.entry(why).or_default() += 1;
        if let Some(source) = source {
            *w.by_source.entry(source).or_default() += 1;
        }
        None
    }

    /// The summary of refusals counted since the last one, if any; called every
    /// `SUMMARY_EVERY`.
    pub fn summary(&self) -> Option<String> {
        self.summary_at(Instant::now())
    }

    fn summary_at(&self, now: Instant) -> Option<String> {
        let mut w = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if w.total == 0 {
            return None;
        }
        let reasons: Vec<String> = w
            .by_reason
            .iter()
            .map(|(why, n)| format!("{n} {}", why.as_str()))
            .collect();
        let top = w
            .by_source
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(source, n)| format!("; most from {source} ({n})"))
            .unwrap_or_default();
        let line = format!(
            "refused {} callbacks in the last {} s: {}{top}",
            w.total,
            SUMMARY_EVERY.as_secs(),
            reasons.join(", ")
        );
        *w = Window {
            logged_at: Some(now),
            ..Window::default()
        };
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_refusal_is_told_at_once_and_a_flood_is_summed_up() {
        let refusals = Refusals::default();
        let t0 = Instant::now();
        let attacker: IpAddr = "203.0.113.7".parse().unwrap();

        let first = refusals.refused_at(
            Refused::BadSignature,
            "no valid signature",
            Some(attacker),
            t0,
        );
        let flood: Vec<_> = (0..3_000)
            .map(|i| {
                let why = if i % 100 == 0 {
                    Refused::TooLarge
                } else {
                    Refused::BadSignature
                };
                refusals.refused_at(why, "x", Some(attacker), t0 + Duration::from_millis(i))
            })
            .collect();
        let summary = refusals.summary_at(t0 + SUMMARY_EVERY);

        assert_eq!(
            first.as_deref(),
            Some("status callback refused from 203.0.113.7: no valid signature")
        );
        assert!(
            flood.iter().all(Option::is_none),
            "the flood is not told line by line"
        );
        assert_eq!(
            summary.as_deref(),
            Some(
                "refused 3000 callbacks in the last 10 s: 2970 bad signatures, 30 too large; most from 203.0.113.7 (3000)"
            )
        );
        assert_eq!(refusals.summary_at(t0 + SUMMARY_EVERY * 2), None);
    }

    #[test]
    fn after_a_quiet_spell_the_next_refusal_is_told_at_once_again() {
        let refusals = Refusals::default();
        let t0 = Instant::now();
        assert!(
            refusals
                .refused_at(Refused::Malformed, "no CallSid", None, t0)
                .is_some()
        );
        assert!(
            refusals
                .refused_at(Refused::Malformed, "no CallSid", None, t0)
                .is_none()
        );
        assert!(refusals.summary_at(t0 + SUMMARY_EVERY).is_some());

        let later = t0 + SUMMARY_EVERY * 4;
        assert!(
            refusals
                .refused_at(Refused::Malformed, "no CallSid", None, later)
                .is_some()
        );
    }
}
