//! Live progress on stdout: a bar on a terminal, a plain line every few seconds otherwise
//! (cron logs; JSON with `--log-format json`), nothing under `-q`. Both show the time elapsed,
//! an ETA, and the rows retrying or in doubt now. The final summary is always printed. Lines written while
//! the bar is shown go above it (`telemetry::live_bar`).

use crate::dialing::progress::{Progress, Snapshot};
use crate::store::StateCounts;
use crate::telemetry;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

pub enum ProgressView {
    Quiet,
    Lines { every: Duration },
    Bar(ProgressBar),
}

impl ProgressView {
    /// A bar on a terminal, unless lines are JSON (every line of stdout is one then).
    pub fn choose(quiet: bool, every: Duration) -> Self {
        if quiet {
            Self::Quiet
        } else if std::io::stdout().is_terminal() && !telemetry::is_json() {
            let bar = ProgressBar::with_draw_target(Some(0), telemetry::live_bar::stdout_target());
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            Self::Bar(bar)
        } else {
            Self::Lines { every }
        }
    }

    /// Prints until the returned task is aborted. The rows' `counts` before the dialing make
    /// the done/total count and the ETA.
    pub fn spawn(
        &self,
        campaign: &str,
        progress: Arc<Progress>,
        counts: StateCounts,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let start = Start {
            to_do: counts.pending + counts.unknown + counts.dialing,
            total: counts.rows(),
            done_before: counts.done(),
        };
        match self {
            Self::Quiet => None,
            Self::Lines { every } => {
                let every = *every;
                let campaign = campaign.to_owned();
                Some(tokio::spawn(async move {
                    let mut tick = tokio::time::interval(every);
                    tick.tick().await;
                    loop {
                        tick.tick().await;
                        let now = Now::of(&start, &progress);
                        telemetry::result_line(&campaign, "progress", &now.line(), now.fields());
                    }
                }))
            }
            Self::Bar(bar) => {
                let bar = bar.clone();
                crate::telemetry::live_bar::show(&bar);
                bar.set_length(start.total);
                Some(tokio::spawn(async move {
                    loop {
                        let now = Now::of(&start, &progress);
                        bar.set_position(now.done);
                        bar.set_message(now.bar_message());
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

/// The rows when the dialing started.
struct Start {
    total: u64,
    /// Created or failed by earlier runs.
    done_before: u64,
    to_do: u64,
}

/// Where the run is now.
struct Now {
    done: u64,
    total: u64,
    elapsed: Duration,
    /// How long the rows left should take at the pace so far (`None`: nothing to go by yet).
    eta: Option<Duration>,
    snapshot: Snapshot,
}

impl Now {
    fn of(start: &Start, progress: &Progress) -> Self {
        let snapshot = progress.snapshot();
        let elapsed = progress.started.elapsed();
        let finished_now = snapshot.created + snapshot.failed;
        let eta = (finished_now > 0 && start.to_do > finished_now)
            .then(|| elapsed.mul_f64((start.to_do - finished_now) as f64 / finished_now as f64));
        Self {
            done: start.done_before + finished_now,
            total: start.total,
            elapsed,
            eta,
            snapshot,
        }
    }

    /// The bar's text after its `done/total`.
    fn bar_message(&self) -> String {
        let times = format!(
            "elapsed {}, eta {}",
            short(self.elapsed),
            self.eta.map_or("-".into(), short)
        );
        match &self.snapshot.outage {
            Some(outage) => format!("{times}, {outage}"),
            None => format!("{times}, {}", details(&self.snapshot)),
        }
    }

    /// A progress line for a log (stdout is not a terminal).
    fn line(&self) -> String {
        format!(
            "progress: {}/{} done, {}",
            self.done,
            self.total,
            self.bar_message()
        )
    }

    /// The line's numbers, for its JSON form.
    fn fields(&self) -> serde_json::Value {
        let s = &self.snapshot;
        serde_json::json!({
            "done": self.done,
            "total": self.total,
            "created": s.created,
            "failed": s.failed,
            "retrying": s.retrying,
            "in_doubt": s.in_doubt,
            "cps": s.current_cps,
            "queue_time_p95_ms": s.queue_time_p95_ms,
            "elapsed_s": self.elapsed.as_secs(),
            "eta_s": self.eta.map(|d| d.as_secs()),
            "outage": s.outage.as_ref().map(ToString::to_string),
        })
    }
}

/// A duration as a person reads it: `42s`, `3m05s`, `2h03m`.
fn short(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s / 60 % 60),
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
        "created {} failed {} retrying {}, {:.1} cps{pacing}, queue_time p95 {p95}{queuing}{}",
        s.created,
        s.failed,
        s.retrying,
        s.current_cps,
        in_doubt(s)
    )
}

/// Rows in doubt now, and when Twilio's call log is next asked about them.
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
    format!(", {rows} in doubt: Twilio checked again at {at}, before any re-dial")
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
            ..waiting.clone()
        };
        assert!(details(&growing).contains("Twilio is queuing calls"));
        assert!(!details(&Snapshot::default()).contains("in doubt"));
        for s in [waiting, growing, Snapshot::default()] {
            assert!(!details(&s).ends_with(','), "{}", details(&s));
        }
    }

    #[test]
    fn a_progress_line_gives_the_time_elapsed_and_an_eta_in_text_and_as_fields() {
        let now = Now {
            done: 12,
            total: 40,
            elapsed: Duration::from_secs(65),
            eta: Some(Duration::from_secs(30)),
            snapshot: Snapshot {
                created: 10,
                retrying: 2,
                ..Snapshot::default()
            },
        };
        let line = now.line();
        assert!(
            line.starts_with(
                "progress: 12/40 done, elapsed 1m05s, eta 30s, created 10 failed 0 retrying 2,"
            ),
            "{line}"
        );
        assert!(!line.ends_with(','), "{line}");
        let fields = now.fields();
        assert_eq!(
            (
                &fields["done"],
                &fields["elapsed_s"],
                &fields["eta_s"],
                &fields["retrying"]
            ),
            (&12.into(), &65.into(), &30.into(), &2.into())
        );
    }

    #[test]
    fn durations_are_shown_short() {
        let cases = [
            (0, "0s"),
            (59, "59s"),
            (65, "1m05s"),
            (3600, "1h00m"),
            (7_380, "2h03m"),
        ];
        for (secs, shown) in cases {
            assert_eq!(short(Duration::from_secs(secs)), shown);
        }
    }
}
