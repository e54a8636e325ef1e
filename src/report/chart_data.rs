//! The numbers behind the HTML report's charts, read from the store (which aggregates them)
//! and shaped here: the time spent dialing cut into buckets (`timeline`), and each ended call
//! moved to the hour of the day its callee saw.

use super::dialing_time::IDLE_GAP_MS;
use super::timeline::{self, Timeline};
use crate::domain::Cps;
use crate::store::{RequestErrors, Store, StoreError, ZoneQuarterCalls};
use jiff::Timestamp;
use jiff::tz::TimeZone;

#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    pub generated_at: Timestamp,
    pub configured_cps: u32,
    pub timeline: Timeline,
    pub errors: Vec<RequestErrors>,
    pub hours: LocalHours,
}

/// Ended calls by the hour of the day in the callee's own zone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalHours {
    pub by_hour: [HourCalls; 24],
    /// Calls to people whose zones disagree on the hour (a prefix spanning several zones).
    pub several_zones: u64,
    /// Calls to people with no zone, in a campaign without `window.timezone`.
    pub unknown_zone: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HourCalls {
    pub ended: u64,
    pub answered: u64,
    pub answered_by_human: u64,
}

impl ChartData {
    /// `campaign_zone` is `window.timezone`, the zone of rows that have none of their own.
    pub async fn build(
        store: &Store,
        configured_cps: Cps,
        campaign_zone: Option<&TimeZone>,
    ) -> Result<Self, StoreError> {
        let spells = store.dialing_spans(IDLE_GAP_MS).await?;
        let timeline = match spells.is_empty() {
            true => Timeline::default(),
            false => {
                let (bucket_secs, periods) = timeline::layout(&spells);
                let buckets = store.request_timeline(bucket_secs).await?;
                Timeline::filled(bucket_secs, &periods, buckets)
            }
        };
        let calls = store.calls_by_zone_and_quarter().await?;
        Ok(Self {
            generated_at: Timestamp::now(),
            configured_cps: configured_cps.get().get(),
            timeline,
            errors: store.request_errors().await?,
            hours: LocalHours::of(&calls, campaign_zone),
        })
    }
}

impl LocalHours {
    pub fn of(calls: &[ZoneQuarterCalls], campaign_zone: Option<&TimeZone>) -> Self {
        let mut hours = Self::default();
        for quarter in calls {
            // A row whose names are all unknown now has no zone here (not the campaign's).
            let zones = match &quarter.zones {
                Some(own) => own.zones(),
                None => campaign_zone.map_or(&[][..], std::slice::from_ref),
            };
            match local_hour(quarter.quarter_start_ms, zones) {
                Ok(hour) => {
                    let slot = &mut hours.by_hour[hour];
                    slot.ended += quarter.ended;
                    slot.answered += quarter.answered;
                    slot.answered_by_human += quarter.answered_by_human;
                }
                Err(Unplaced::SeveralZones) => hours.several_zones += quarter.ended,
                Err(Unplaced::NoZone) => hours.unknown_zone += quarter.ended,
            }
        }
        hours
    }

    pub fn ended(&self) -> u64 {
        self.by_hour.iter().map(|hour| hour.ended).sum()
    }

    pub fn answered_by_human(&self) -> u64 {
        self.by_hour.iter().map(|hour| hour.answered_by_human).sum()
    }
}

enum Unplaced {
    SeveralZones,
    NoZone,
}

/// The hour every one of `zones` shows at `ms`; zones that disagree place nobody.
fn local_hour(ms: i64, zones: &[TimeZone]) -> Result<usize, Unplaced> {
    let at = Timestamp::from_millisecond(ms).map_err(|_| Unplaced::NoZone)?;
    let mut hours = zones
        .iter()
        .map(|zone| usize::from(at.to_zoned(zone.clone()).hour().unsigned_abs()));
    let first = hours.next().ok_or(Unplaced::NoZone)?;
    match hours.all(|hour| hour == first) {
        true => Ok(first),
        false => Err(Unplaced::SeveralZones),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CalleeZones;

    #[test]
    fn each_call_counts_at_the_hour_its_callee_saw() {
        // 2030-01-14T15:45:00Z: 10:45 in New York, 21:15 in Kolkata (UTC+5:30), 16:45 in Paris.
        let at = 1_894_608_000_000 + (7 * 60 + 45) * 60_000;
        let quarter = |zones: Option<&str>, ended, answered| ZoneQuarterCalls {
            zones: zones.map(CalleeZones::from_stored),
            quarter_start_ms: at,
            ended,
            answered,
            answered_by_human: answered,
        };
        let calls = [
            quarter(Some("America/New_York"), 4, 3),
            quarter(Some("Asia/Kolkata"), 2, 1),
            quarter(None, 5, 2),
            quarter(Some("America/Adak America/Anchorage"), 7, 7),
            // The same clock under several names places the call.
            quarter(Some("Europe/Guernsey Europe/London"), 1, 1),
        ];
        let paris = TimeZone::get("Europe/Paris").unwrap();

        let hours = LocalHours::of(&calls, Some(&paris));
        let without_campaign_zone = LocalHours::of(&calls, None);

        assert_eq!(
            hours.by_hour[10],
            HourCalls {
                ended: 4,
                answered: 3,
                answered_by_human: 3
            }
        );
        assert_eq!(hours.by_hour[21].ended, 2);
        assert_eq!(hours.by_hour[16].ended, 5, "the campaign's zone");
        assert_eq!(hours.by_hour[15].ended, 1, "London");
        assert_eq!((hours.several_zones, hours.unknown_zone), (7, 0));
        assert_eq!(hours.ended(), 12);
        assert_eq!(without_campaign_zone.unknown_zone, 5);
    }
}
