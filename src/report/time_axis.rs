//! The x axis of the report's charts of time: the periods spent dialing side by side, each
//! idle gap between two drawn as a narrow break that says how long it lasted, instead of
//! days of empty axis. Positions on it are seconds of dialing; labels are clock times.

use std::ops::Range;

/// Ticks over the whole axis, about; each period gets its share.
const TICKS: f64 = 7.0;

/// A break's width, as a share of the time drawn; narrower when there are many.
const BREAK_SHARE: f64 = 0.04;
const ALL_BREAKS_SHARE: f64 = 0.25;

/// Two tick labels closer than this share of the axis would overlap: the later is dropped.
const LABEL_ROOM: f64 = 0.11;

pub struct TimeAxis {
    periods: Vec<Placed>,
    len: f64,
    /// Where the axis is ticked, and each tick's label.
    ticks: Vec<(f64, String)>,
}

/// A period of `[start, end)` unix seconds, from `at` on the axis.
struct Placed {
    start: i64,
    end: i64,
    at: f64,
}

/// An idle gap between two periods: where it is drawn, and how long it lasted.
pub struct Break {
    pub from: f64,
    pub to: f64,
    pub idle_secs: i64,
}

impl TimeAxis {
    /// The axis over `periods` (`[start, end)` unix seconds, in order); `None` without any.
    pub fn new(periods: &[(i64, i64)]) -> Option<Self> {
        let (first, last) = (periods.first()?, periods.last()?);
        let drawn: i64 = periods.iter().map(|(start, end)| end - start).sum();
        let breaks = periods.len() - 1;
        let break_width = match breaks {
            0 => 0.0,
            n => drawn as f64 * BREAK_SHARE.min(ALL_BREAKS_SHARE / n as f64),
        };
        let mut at = 0.0;
        let placed = periods
            .iter()
            .map(|&(start, end)| {
                let placed = Placed { start, end, at };
                at += (end - start) as f64 + break_width;
                placed
            })
            .collect();
        let mut axis = Self {
            periods: placed,
            len: at - break_width,
            ticks: Vec::new(),
        };
        let several_days = day(first.0) != day(last.1 - 1);
        axis.ticks = axis.tick_labels(several_days);
        Some(axis)
    }

    pub fn range(&self) -> Range<f64> {
        0.0..self.len.max(1.0)
    }

    /// Where unix second `sec` is drawn: in its period, or the last one starting before it.
    pub fn x(&self, sec: f64) -> f64 {
        let period = self
            .periods
            .iter()
            .rev()
            .find(|p| p.start as f64 <= sec)
            .unwrap_or(&self.periods[0]);
        period.at + (sec - period.start as f64)
    }

    /// Each period's place on the axis, from its start to its end.
    pub fn periods(&self) -> impl Iterator<Item = Range<f64>> + '_ {
        self.periods
            .iter()
            .map(|p| p.at..p.at + (p.end - p.start) as f64)
    }

    /// The gaps between the periods.
    pub fn breaks(&self) -> Vec<Break> {
        self.periods
            .windows(2)
            .map(|pair| Break {
                from: pair[0].at + (pair[0].end - pair[0].start) as f64,
                to: pair[1].at,
                idle_secs: pair[1].start - pair[0].end,
            })
            .collect()
    }

    /// Where the axis is ticked.
    pub fn ticks(&self) -> Vec<f64> {
        self.ticks.iter().map(|(x, _)| *x).collect()
    }

    /// A tick's label: the clock time at `x`.
    pub fn label(&self, x: f64) -> String {
        let nearest = self
            .ticks
            .iter()
            .min_by(|a, b| (a.0 - x).abs().total_cmp(&(b.0 - x).abs()));
        nearest.map(|(_, label)| label.clone()).unwrap_or_default()
    }

    /// Round clock times in each period, as many as its share of the axis has room for, each
    /// labelled to its step (seconds when they are seconds apart); on an axis of several
    /// days, a period's first tick and each new day's carry the date.
    fn tick_labels(&self, several_days: bool) -> Vec<(f64, String)> {
        let mut ticks: Vec<(f64, String)> = Vec::new();
        let mut last_day = None;
        for period in &self.periods {
            let share = (period.end - period.start) as f64 / self.len.max(1.0);
            let most = (TICKS * share).floor() as i64;
            if most == 0 {
                continue;
            }
            let step = tick_step(period.end - period.start, most);
            let first = (period.start + step - 1).div_euclid(step) * step;
            let mut new_period = true;
            for sec in (0..)
                .map(|k| first + k * step)
                .take_while(|at| *at <= period.end)
            {
                let x = period.at + (sec - period.start) as f64;
                if ticks
                    .last()
                    .is_some_and(|(last, _)| x - last < LABEL_ROOM * self.len)
                {
                    continue;
                }
                let dated = several_days && (new_period || last_day != Some(day(sec)));
                ticks.push((x, clock(sec, step, dated)));
                (new_period, last_day) = (false, Some(day(sec)));
            }
        }
        ticks
    }

    /// The axis's name: the time it shows, and that idle gaps are cut out, if any is.
    pub fn description(&self) -> &'static str {
        match self.periods.len() {
            1 => "time (UTC)",
            _ => "time (UTC); idle gaps cut out, their length marked",
        }
    }
}

/// A step between ticks that falls on round clock times, at most `most` over `span` seconds.
fn tick_step(span: i64, most: i64) -> i64 {
    const STEPS: [i64; 18] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200,
        86_400,
    ];
    let (span, most) = (span.max(1), most.max(1));
    STEPS
        .into_iter()
        .find(|step| span / step <= most)
        .unwrap_or_else(|| (span / most / 86_400 + 1) * 86_400)
}

/// The UTC day of unix second `sec`.
fn day(sec: i64) -> i64 {
    sec.div_euclid(86_400)
}

/// Unix second `sec` as a tick's label: to the second if ticks are seconds apart, with the
/// date if `dated`.
fn clock(sec: i64, step: i64, dated: bool) -> String {
    let Ok(at) = jiff::Timestamp::from_second(sec) else {
        return String::new();
    };
    let format = match (dated, step < 60) {
        (false, true) => "%H:%M:%S",
        (false, false) => "%H:%M",
        (true, true) => "%b %d %H:%M:%S",
        (true, false) => "%b %d %H:%M",
    };
    at.strftime(format).to_string()
}

/// An idle gap's length in words: `35 min`, `7 h 20 min`, `2 d 3 h`.
pub fn idle_text(secs: i64) -> String {
    let minutes = (secs + 30) / 60;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins} min"),
        (0, _) => format!("{hours} h {mins} min"),
        _ => format!("{days} d {hours} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_894_608_000; // 2030-01-14T08:00:00Z
    const DAY: i64 = 86_400;

    #[test]
    fn periods_sit_side_by_side_with_a_narrow_break_between() {
        let axis = TimeAxis::new(&[(T0, T0 + 600), (T0 + DAY, T0 + DAY + 600)]).unwrap();

        assert_eq!(axis.range(), 0.0..1_248.0, "1,200 s drawn, a break of 48");
        assert_eq!(axis.x((T0 + 300) as f64), 300.0);
        assert_eq!(axis.x((T0 + DAY) as f64), 648.0);
        let breaks = axis.breaks();
        assert_eq!(breaks.len(), 1);
        assert_eq!((breaks[0].from, breaks[0].to), (600.0, 648.0));
        assert_eq!(idle_text(breaks[0].idle_secs), "23 h 50 min");
    }

    #[test]
    fn each_period_is_ticked_and_labels_do_not_crowd() {
        let axis = TimeAxis::new(&[(T0, T0 + 600), (T0 + DAY, T0 + DAY + 600)]).unwrap();

        let ticks = axis.ticks();
        let labels: Vec<String> = ticks.iter().map(|x| axis.label(*x)).collect();

        assert_eq!(
            labels,
            ["Jan 14 08:00", "08:05", "08:10", "Jan 15 08:05", "08:10"],
            "a tick too near the one before is left out"
        );
        for pair in ticks.windows(2) {
            assert!(pair[1] - pair[0] >= LABEL_ROOM * 1_248.0, "{ticks:?}");
        }
    }

    #[test]
    fn ticks_fall_on_round_clock_times_labelled_to_their_step() {
        // 2030-01-14T08:00:07Z for 3 s, 40 min, and 3 days.
        let start = T0 + 7;
        let labels = |end: i64| {
            let axis = TimeAxis::new(&[(start, end)]).unwrap();
            axis.ticks()
                .iter()
                .map(|x| axis.label(*x))
                .collect::<Vec<_>>()
        };

        assert_eq!(
            labels(start + 3),
            ["08:00:07", "08:00:08", "08:00:09", "08:00:10"]
        );
        assert_eq!(labels(start + 2_400), ["08:10", "08:20", "08:30", "08:40"]);
        let days = labels(start + 3 * DAY);
        assert_eq!(
            days,
            [
                "Jan 14 12:00",
                "Jan 15 00:00",
                "12:00",
                "Jan 16 00:00",
                "12:00",
                "Jan 17 00:00"
            ],
            "the date once a day"
        );
    }

    #[test]
    fn idle_time_reads_in_the_largest_units() {
        assert_eq!(idle_text(11 * 60), "11 min");
        assert_eq!(idle_text(7 * 3_600 + 20 * 60), "7 h 20 min");
        assert_eq!(idle_text(2 * DAY + 3 * 3_600 + 59), "2 d 3 h");
    }
}
