//! Live progress on stdout: a bar on a terminal, a plain line every few seconds otherwise
//! (cron logs), nothing under `-q`. The final summary is always printed. Lines written while
//! the bar is shown go above it (`telemetry::live_bar`).

use crate::dialing::progress::{Progress, Snapshot};
use crate::store::StateCounts;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

pub enum ProgressView {
    Quiet,
    Lines { every: Duration },
    Bar(ProgressBar),
}

impl ProgressView {
    pub fn choose(quiet: bool, every: Duration) -> Self {
        if quiet {
            Self::Quiet
        } else if std::io::stdout().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            Self::Bar(bar)
        } else {
            Self::Lines { every }
        }
    }

    /// Prints until the returned task is aborted. `total` rows and `done_before` (created or
    /// failed by earlier runs) make the done/total count and the ETA.
    pub fn spawn(
        &self,
        progress: Arc<Progress>,
        counts: StateCounts,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let to_do = counts.pending + counts.unknown + counts.dialing;
        let total = counts.rows();
        let done_before = counts.done();
        match self {
            Self::Quiet => None,
            Self::Lines { every } => {
                let every = *every;
                Some(tokio::spawn(async move {
                    let mut tick = tokio::time::interval(every);
                    tick.tick().await;
                    loop {
                        tick.tick().await;
                        println!(
                            "{}",
                            line(
                                &progress.snapshot(),
                                total,
                                done_before,
                                to_do,
                                progress.started.elapsed()
                            )
                        );
                    }
                }))
            }
            Self::Bar(bar) => {
                let bar = bar.clone();
                crate::telemetry::live_bar::show(&bar);
                bar.set_length(total);
                Some(tokio::spawn(async move {
                    loop {
                        let s = progress.snapshot();
                        bar.set_position(done_before + s.created + s.failed);
                        match &s.outage {
                            Some(outage) => bar.set_message(outage.to_string()),
                            None => bar.set_message(details(&s)),
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }))
            }
        }
    }

    pub fn finish(&self) {
        if let Self::Bar(bar) = self {
            crate::telemetry::live_bar::hide(bar);
        }
    }
}

fn line(s: &Snapshot, total: u64, done_before: u64, to_do: u64, elapsed: Duration) -> String {
    let done = done_before + s.created + s.failed;
    let finished_now = s.created + s.failed;
    let eta = if finished_now > 0 && to_do > finished_now {
        let per_row = elapsed.as_secs_f64() / finished_now as f64;
        format!("{:.0}s", per_row * (to_do - finished_now) as f64)
    } else {
        "-".into()
    };
    match &s.outage {
        Some(outage) => format!("progress: {done}/{total} done, {outage}"),
        None => format!("progress: {done}/{total} done, {} eta {eta}", details(s)),
    }
}

/// Why the rate is below the CPS, when it is.
pub fn held(s: &Snapshot) -> String {
    let rate = s
        .pacing_rate
        .map(|r| format!(" (pacing at {r:.1}: Twilio queued calls)"));
    let cap = s
        .in_flight_cap
        .map(|c| format!(" (in flight capped at {c}: Twilio answered 20429)"));
    [rate, cap].into_iter().flatten().collect()
}

fn details(s: &Snapshot) -> String {
    let p95 = s
        .queue_time_p95_ms
        .map(|q| format!("{q}ms"))
        .unwrap_or_else(|| "-".into());
    let queuing = if s.queue_growing && s.queue_time_p95_ms.is_some_and(|q| q > 1000) {
        " (Twilio is queuing calls: the account's real CPS is lower than configured)"
    } else {
        ""
    };
    let pacing = held(s);
    format!(
        "created {} retrying {} failed {} unknown {}, {:.1} cps{pacing}, queue_time p95 {p95}{queuing},{}",
        s.created,
        s.retried,
        s.failed,
        s.unknown,
        s.current_cps,
        in_doubt(s)
    )
}

/// Rows in doubt, and when Twilio's call log is next asked about them.
fn in_doubt(s: &Snapshot) -> String {
    let (rows, Some(next)) = (s.in_doubt, s.next_check_ms) else {
        return String::new();
    };
    let at = jiff::Timestamp::from_millisecond(next)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default();
    let rows = crate::words::count(rows, "row");
    format!(" {rows} in doubt: Twilio checked again at {at}, before any re-dial,")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_rows_in_doubt_and_blames_queuing_only_when_it_grows() {
        let waiting = Snapshot {
            in_doubt: 6,
            next_check_ms: Some(1_796_415_790_000),
            queue_time_p95_ms: Some(2_500),
            ..Snapshot::default()
        };
        let text = details(&waiting);
        assert!(
            text.contains(" 6 rows in doubt: Twilio checked again at "),
            "{text}"
        );
        assert!(text.contains(", before any re-dial"), "{text}");
        assert!(
            !text.contains("Twilio is queuing"),
            "steady queue_time: {text}"
        );

        let growing = Snapshot {
            queue_growing: true,
            ..waiting
        };
        assert!(details(&growing).contains("Twilio is queuing calls"));
        assert!(!details(&Snapshot::default()).contains("in doubt"));
    }
}
