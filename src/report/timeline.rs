//! Requests and queue_time over the time spent dialing, in buckets of whole seconds: the
//! spells of dialing (`dialing_time`) laid side by side as periods, the longest idle gaps
//! between them cut out, at most a few hundred buckets whatever the campaign's length.

use crate::store::{AttemptSpan, RequestBucket};

/// At most this many buckets over the time spent dialing: a point every two pixels of a
/// chart, whether the campaign made 20 calls or 100,000.
pub const MAX_BUCKETS: i64 = 600;

/// Bucket widths that read well on a clock (seconds); past the last, whole hours.
const WIDTHS: [i64; 14] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
];

/// At most this many idle gaps are cut out of a chart, the longest ones; the others are
/// drawn as the empty buckets they are.
pub const MAX_BREAKS: usize = 8;

/// An idle gap narrower than this many buckets is drawn as it is.
const MIN_BREAK_BUCKETS: i64 = 3;

/// Requests and queue_time, period after period; within a period, one bucket after the other
/// without gaps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    pub bucket_secs: i64,
    pub periods: Vec<Period>,
}

/// A spell of dialing as a chart shows it: `[start_sec, end_sec)` in unix seconds, on bucket
/// edges, and its buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub start_sec: i64,
    pub end_sec: i64,
    pub buckets: Vec<RequestBucket>,
}

/// The bucket width for the spells of dialing, and the periods they are drawn in: the
/// spells in whole seconds, a gap kept only if it is among the `MAX_BREAKS` longest and
/// `MIN_BREAK_BUCKETS` buckets wide, then widened to bucket edges.
pub fn layout(spells: &[AttemptSpan]) -> (i64, Vec<(i64, i64)>) {
    let secs: Vec<(i64, i64)> = spells
        .iter()
        .map(|s| (s.first_ms.div_euclid(1000), s.last_ms.div_euclid(1000)))
        .collect();
    let mut width = 1;
    // Merging gaps lengthens the time drawn, which only ever widens the buckets: a few
    // rounds settle it.
    for _ in 0..WIDTHS.len() + 4 {
        let merged = merge(&secs, width);
        let dialing = merged.iter().map(|(first, last)| last - first + 1).sum();
        let wider = bucket_width(dialing);
        if wider == width {
            let aligned = merged
                .iter()
                .map(|(first, last)| (align(*first, width), align(*last, width) + width))
                .collect();
            return (width, aligned);
        }
        width = wider;
    }
    unreachable!("the bucket width grows through a finite list of widths")
}

/// The narrowest clock-friendly width that cuts `secs` seconds into at most `MAX_BUCKETS`.
pub fn bucket_width(secs: i64) -> i64 {
    let needed = (secs + MAX_BUCKETS - 1) / MAX_BUCKETS;
    WIDTHS
        .into_iter()
        .find(|width| *width >= needed)
        .unwrap_or_else(|| (needed + 3599) / 3600 * 3600)
}

fn align(sec: i64, width: i64) -> i64 {
    sec.div_euclid(width) * width
}

/// The spells (first and last second) with every gap but the longest wide ones closed.
fn merge(spells: &[(i64, i64)], width: i64) -> Vec<(i64, i64)> {
    let mut gaps: Vec<(i64, usize)> = spells
        .windows(2)
        .enumerate()
        .map(|(i, pair)| (pair[1].0 - pair[0].1, i))
        .filter(|(gap, _)| *gap >= MIN_BREAK_BUCKETS * width + width)
        .collect();
    gaps.sort_unstable_by(|a, b| b.cmp(a));
    gaps.truncate(MAX_BREAKS);
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(gaps.len() + 1);
    for (i, spell) in spells.iter().enumerate() {
        match merged.last_mut() {
            Some(last) if !gaps.iter().any(|(_, after)| *after + 1 == i) => last.1 = spell.1,
            _ => merged.push(*spell),
        }
    }
    merged
}

impl Timeline {
    /// The store's buckets (those with a request) placed in `periods`, each period's empty
    /// buckets filled with zeros. A bucket outside every period (a request recorded between
    /// reading the spells and the buckets) gets a period of its own.
    pub fn filled(bucket_secs: i64, periods: &[(i64, i64)], buckets: Vec<RequestBucket>) -> Self {
        let mut spans: Vec<(i64, i64)> = periods.to_vec();
        for bucket in &buckets {
            let start = bucket.start_sec;
            if !spans.iter().any(|(from, to)| (*from..*to).contains(&start)) {
                spans.push((start, start + bucket_secs));
            }
        }
        spans.sort_unstable();
        let mut buckets = buckets.into_iter().peekable();
        let periods = spans
            .into_iter()
            .map(|(start_sec, end_sec)| {
                let cells = (start_sec..end_sec).step_by(bucket_secs.max(1) as usize);
                let buckets = cells
                    .map(|at| match buckets.next_if(|b| b.start_sec == at) {
                        Some(bucket) => bucket,
                        None => empty_bucket(at),
                    })
                    .collect();
                Period {
                    start_sec,
                    end_sec,
                    buckets,
                }
            })
            .collect();
        Self {
            bucket_secs,
            periods,
        }
    }

    /// Every bucket, period after period.
    pub fn buckets(&self) -> impl Iterator<Item = &RequestBucket> {
        self.periods.iter().flat_map(|period| &period.buckets)
    }

    /// Each period's `[start_sec, end_sec)`.
    pub fn spans(&self) -> Vec<(i64, i64)> {
        self.periods
            .iter()
            .map(|p| (p.start_sec, p.end_sec))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_894_608_000; // 2030-01-14T08:00:00Z
    const DAY: i64 = 86_400;

    fn spell(first_sec: i64, last_sec: i64) -> AttemptSpan {
        AttemptSpan {
            first_ms: first_sec * 1000,
            last_ms: last_sec * 1000 + 999,
        }
    }

    fn bucket(start_sec: i64, requests: u64) -> RequestBucket {
        RequestBucket {
            requests,
            busiest_second: requests,
            ..empty_bucket(start_sec)
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
            (3 * DAY, 600),
            (30 * DAY, 7200),
            (90 * DAY, 14_400),
        ];
        for (secs, width) in cases {
            assert_eq!(bucket_width(secs), width, "{secs} s");
            assert!(secs / width <= MAX_BUCKETS, "{secs} s");
        }
    }

    #[test]
    fn three_days_of_ten_minute_runs_are_drawn_as_thirty_minutes_by_the_second_or_so() {
        let spells = [
            spell(T0, T0 + 599),
            spell(T0 + DAY, T0 + DAY + 599),
            spell(T0 + 2 * DAY, T0 + 2 * DAY + 599),
        ];

        let (width, periods) = layout(&spells);

        assert_eq!(width, 5, "1,800 s of dialing, not 3 days");
        assert_eq!(
            periods,
            [
                (T0, T0 + 600),
                (T0 + DAY, T0 + DAY + 600),
                (T0 + 2 * DAY, T0 + 2 * DAY + 600)
            ]
        );
    }

    #[test]
    fn only_the_longest_gaps_are_cut_out() {
        // Twenty one-minute spells an hour apart, then one two days later.
        let mut spells: Vec<AttemptSpan> = (0..20)
            .map(|k| spell(T0 + k * 3_600, T0 + k * 3_600 + 59))
            .collect();
        spells.push(spell(T0 + 2 * DAY, T0 + 2 * DAY + 59));

        let (_, periods) = layout(&spells);

        assert_eq!(periods.len(), MAX_BREAKS + 1);
        assert_eq!(
            periods.last().unwrap().0,
            T0 + 2 * DAY,
            "the longest gap is cut"
        );
    }

    #[test]
    fn buckets_are_filled_within_a_period_and_not_across_a_gap() {
        let periods = [(100, 120), (1_000, 1_010)];
        let buckets = vec![
            bucket(100, 3),
            bucket(115, 2),
            bucket(1_005, 4),
            bucket(2_000, 1),
        ];

        let timeline = Timeline::filled(5, &periods, buckets);

        let got: Vec<Vec<(i64, u64)>> = timeline
            .periods
            .iter()
            .map(|p| {
                p.buckets
                    .iter()
                    .map(|b| (b.start_sec, b.requests))
                    .collect()
            })
            .collect();
        assert_eq!(
            got,
            [
                vec![(100, 3), (105, 0), (110, 0), (115, 2)],
                vec![(1_000, 0), (1_005, 4)],
                vec![(2_000, 1)],
            ]
        );
        assert_eq!(timeline.buckets().map(|b| b.requests).sum::<u64>(), 10);
        assert_eq!(
            timeline.spans(),
            [(100, 120), (1_000, 1_010), (2_000, 2_005)]
        );
    }
}
