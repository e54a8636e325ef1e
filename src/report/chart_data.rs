//! The numbers behind the HTML report's charts, read from the store (which aggregates them)
//! and shaped here: the run cut into at most a few hundred buckets of whole seconds, the gaps
//! filled, and each ended call moved to the hour of the day its callee saw.

use crate::domain::Cps;
use crate::store::{
    AttemptSpan, RequestBucket, RequestErrors, Store, StoreError, ZoneQuarterCalls,
};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// At most this many buckets over a run: a point every two pixels of a chart, whether the
/// run had 20 calls or 100,000.
pub const MAX_BUCKETS: i64 = 600;

/// Bucket widths that read well on a clock (seconds); past the last, whole hours.
const WIDTHS: [i64; 14] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
];

#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    pub generated_at: Timestamp,
    pub configured_cps: u32,
    pub timeline: Timeline,
    pub errors: Vec<RequestErrors>,
    pub hours: LocalHours,
}

/// Requests and queue_time over the run, one bucket after the other without gaps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    pub bucket_secs: i64,
    pub buckets: Vec<RequestBucket>,
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
        let timeline = match store.attempt_span().await? {
            Some(span) => {
                let bucket_secs = bucket_width(span);
                let buckets = store.request_timeline(bucket_secs).await?;
                Timeline::filled(bucket_secs, buckets)
            }
            None => Timeline::default(),
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

/// The narrowest clock-friendly width that cuts the span into at most `MAX_BUCKETS`.
pub fn bucket_width(span: AttemptSpan) -> i64 {
    let secs = span.last_ms.div_euclid(1000) - span.first_ms.div_euclid(1000) + 1;
    let needed = (secs + MAX_BUCKETS - 1) / MAX_BUCKETS;
    WIDTHS
        .into_iter()
        .find(|width| *width >= needed)
        .unwrap_or_else(|| (needed + 3599) / 3600 * 3600)
}

impl Timeline {
    /// The store leaves out buckets without a request; a chart shows them as zero.
    pub fn filled(bucket_secs: i64, buckets: Vec<RequestBucket>) -> Self {
        let mut filled: Vec<RequestBucket> = Vec::with_capacity(buckets.len());
        for bucket in buckets {
            while let Some(last) = filled.last()
                && last.start_sec + bucket_secs < bucket.start_sec
            {
                let start_sec = last.start_sec + bucket_secs;
                filled.push(empty_bucket(start_sec));
            }
            filled.push(bucket);
        }
        Self {
            bucket_secs,
            buckets: filled,
        }
    }

    /// Unix seconds from the first bucket's start to the last one's end.
    pub fn range(&self) -> Option<(i64, i64)> {
        let first = self.buckets.first()?.start_sec;
        let last = self.buckets.last()?.start_sec;
        Some((first, last + self.bucket_secs))
    }
}

fn empty_bucket(start_sec: i64) -> RequestBucket {
    RequestBucket {
        start_sec,
        requests: 0,
        busiest_second: 0,
        created: 0,
        busiest_second_created: 0,
        queued_calls: 0,
        queue_time_avg_ms: None,
        queue_time_max_ms: None,
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

    fn span_of_secs(secs: i64) -> AttemptSpan {
        let first_ms = 1_894_608_000_000;
        AttemptSpan {
            first_ms,
            last_ms: first_ms + (secs - 1) * 1000 + 999,
        }
    }

    #[test]
    fn a_short_run_is_read_by_the_second_and_a_long_one_in_at_most_600_buckets() {
        let cases = [
            (2, 1),
            (600, 1),
            (601, 2),
            (3_334, 10),    // 100,000 calls at 30 CPS
            (100_000, 300), // 100,000 calls at 1 CPS
            (3 * 86_400, 600),
            (30 * 86_400, 7200),
            (90 * 86_400, 14_400),
        ];
        for (secs, width) in cases {
            assert_eq!(bucket_width(span_of_secs(secs)), width, "{secs} s");
            assert!(secs / width <= MAX_BUCKETS, "{secs} s");
        }
    }

    #[test]
    fn seconds_without_a_request_are_filled_with_zeros() {
        let bucket = |start_sec, requests| RequestBucket {
            requests,
            busiest_second: requests,
            ..empty_bucket(start_sec)
        };

        let timeline = Timeline::filled(5, vec![bucket(100, 3), bucket(115, 2)]);

        let got: Vec<(i64, u64)> = timeline
            .buckets
            .iter()
            .map(|b| (b.start_sec, b.requests))
            .collect();
        assert_eq!(got, [(100, 3), (105, 0), (110, 0), (115, 2)]);
        assert_eq!(timeline.range(), Some((100, 120)));
        assert_eq!(Timeline::default().range(), None);
    }

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
