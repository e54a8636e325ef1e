//! Caps on calls to one person: the campaign's `[frequency]` (at most `max_calls` within a
//! span, by all the campaigns that share the database) and, for a US number of a
//! telemarketing campaign, the caps of the law where the person is (Florida's 3 calls in 24
//! hours). Counted at the gate, just before a row is dialed, from the attempts that may have
//! placed a call (created, found, in doubt, being sent) in every campaign; the row's own
//! attempt just claimed is not counted. A row over a cap waits until the oldest of the calls
//! that fill it leaves the span; over several, until the last of them lets it through.

use crate::config::rules::{FrequencyCap, Law};
use crate::domain::Jurisdictions;
use crate::law::BUILT_IN;
use crate::store::{Claimed, Store, StoreError};
use std::time::Duration;

/// One cap, and who sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cap {
    pub max_calls: u32,
    pub within: Duration,
    /// `None`: the campaign's `[frequency]`; else the jurisdiction's name.
    pub law: Option<String>,
    /// Where it comes from: the campaign file's section, or the law's citation.
    pub source: String,
}

impl Cap {
    /// "the frequency cap (3 calls within 24h)", "Florida's cap on calls to a person (…)".
    pub fn describe(&self) -> String {
        let calls = match self.max_calls {
            1 => "1 call".to_owned(),
            n => format!("{n} calls"),
        };
        let within =
            jiff::SignedDuration::try_from(self.within).unwrap_or(jiff::SignedDuration::MAX);
        match &self.law {
            None => format!("the frequency cap ({calls} within {within:#})"),
            Some(name) => format!("{name}'s cap on calls to a person ({calls} within {within:#})"),
        }
    }

    fn within_ms(&self) -> i64 {
        i64::try_from(self.within.as_millis()).unwrap_or(i64::MAX / 2)
    }
}

/// The caps on a row: the campaign's, and its jurisdictions' when the law applies.
pub fn caps_for(
    frequency: &[FrequencyCap],
    law: Law,
    jurisdictions: Option<&Jurisdictions>,
) -> Vec<Cap> {
    let own = frequency.iter().map(|cap| Cap {
        max_calls: cap.max_calls,
        within: cap.within,
        law: None,
        source: "the campaign's [frequency]".to_owned(),
    });
    let legal = jurisdictions
        .filter(|_| law.telemarketing)
        .into_iter()
        .flat_map(|j| j.codes())
        .filter_map(|code| BUILT_IN.jurisdiction(code))
        .filter_map(|j| {
            let cap = j.calls_per_person?;
            Some(Cap {
                max_calls: cap.calls,
                within: cap.within,
                law: Some(j.name.clone()),
                source: j.citation().to_owned(),
            })
        });
    own.chain(legal).collect()
}

/// Every cap that may bind a row of the campaign: its own, and every jurisdiction's.
pub fn every_cap(frequency: &[FrequencyCap], law: Law) -> Vec<Cap> {
    let every = Jurisdictions::of(
        std::iter::once(&BUILT_IN.federal)
            .chain(&BUILT_IN.states)
            .map(|j| j.code.clone()),
    );
    caps_for(frequency, law, every.as_ref())
}

/// The widest span any of `caps` counts over (ms).
pub fn widest_ms(caps: &[Cap]) -> i64 {
    caps.iter().map(Cap::within_ms).max().unwrap_or(0)
}

/// With `placed` (start times, oldest first, at least as far back as `widest_ms`): `None`
/// while under every cap, else when all of them let one more call through, and the cap that
/// holds it longest.
pub fn release_of<'c>(caps: &'c [Cap], placed: &[i64], now_ms: i64) -> Option<(i64, &'c Cap)> {
    caps.iter()
        .filter_map(|cap| {
            let since = now_ms.saturating_sub(cap.within_ms());
            let in_span: Vec<i64> = placed.iter().copied().filter(|at| *at >= since).collect();
            release(&in_span, cap.max_calls as usize, cap.within_ms()).map(|at| (at, cap))
        })
        .max_by_key(|(at, _)| *at)
}

/// When the claimed row may be called, if a cap holds it back now (unix ms), and which.
pub async fn held_until(
    caps: &[Cap],
    store: &Store,
    claimed: &Claimed,
    now_ms: i64,
) -> Result<Option<(i64, Cap)>, StoreError> {
    if caps.is_empty() {
        return Ok(None);
    }
    let placed = store
        .calls_placed_to(
            &claimed.to,
            claimed.person.as_ref(),
            now_ms.saturating_sub(widest_ms(caps)),
            (claimed.row_id, claimed.attempt),
        )
        .await?;
    Ok(release_of(caps, &placed, now_ms).map(|(at, cap)| (at, cap.clone())))
}

/// With `placed` (start times, oldest first) in the span: `None` while under the cap, else
/// when enough of them have left the span for one more call.
fn release(placed: &[i64], max_calls: usize, within_ms: i64) -> Option<i64> {
    let over = (placed.len() + 1).checked_sub(max_calls)?;
    (over > 0).then(|| placed[over - 1].saturating_add(within_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_under_the_cap_is_called_and_one_at_it_waits_for_the_oldest_call_to_age_out() {
        let day = 86_400_000;
        assert_eq!(release(&[], 3, day), None);
        assert_eq!(release(&[10, 20], 3, day), None);
        assert_eq!(release(&[10, 20, 30], 3, day), Some(10 + day));
        // Over the cap (calls placed before it was set): the call that frees a slot.
        assert_eq!(release(&[10, 20, 30, 40], 3, day), Some(20 + day));
        assert_eq!(release(&[5], 1, day), Some(5 + day));
    }

    #[test]
    fn florida_caps_three_calls_a_day_besides_the_campaigns_own_cap_and_the_later_release_wins() {
        let hour = 3_600_000;
        let miami = Jurisdictions::parse("FL US").unwrap();
        let week = FrequencyCap {
            max_calls: 7,
            within: Duration::from_secs(7 * 86_400),
        };
        let telemarketing = Law {
            telemarketing: true,
            min_ring: None,
        };
        let caps = caps_for(&[week], telemarketing, Some(&miami));
        let alerts = caps_for(
            &[],
            Law {
                telemarketing: false,
                ..telemarketing
            },
            Some(&miami),
        );
        let now = 100 * hour;

        let three_today = release_of(&caps, &[now - 5 * hour, now - 3 * hour, now - hour], now);
        let two_today = release_of(&caps, &[now - 5 * hour, now - 3 * hour], now);

        assert_eq!(caps.len(), 2);
        assert_eq!(
            caps[1].describe(),
            "Florida's cap on calls to a person (3 calls within 24h)"
        );
        let (at, cap) = three_today.expect("held");
        assert_eq!(at, now - 5 * hour + 24 * hour);
        assert_eq!(cap.law.as_deref(), Some("Florida"));
        assert_eq!(two_today, None);
        assert!(alerts.is_empty());
    }
}
