//! `dialer run CAMPAIGN.toml`: one cron run.

use super::progress::ProgressView;
use super::{Exit, TwilioArgs};
use crate::campaign::lock::LockError;
use crate::campaign::{self, RunError, RunResult};
use crate::compliance::gate::GateError;
use crate::config::Campaign;
use crate::dialing::Ending;
use crate::dialing::progress::Progress;
use crate::domain::duration;
use crate::import::{ImportError, ImportSummary};
use crate::metrics::exposition;
use crate::stop::{Stop, StopReason};
use crate::store::{Store, StoreError};
use crate::telemetry;
use crate::twilio::TwilioClient;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The campaign file.
    campaign: PathBuf,
    /// Stop taking rows after this long (e.g. 50m), so a cron slot is not overrun.
    #[arg(long, value_parser = |s: &str| duration(s).map_err(|e| e.to_string()))]
    deadline: Option<Duration>,
    /// Stop taking rows at this time (RFC 3339, e.g. 2026-11-24T18:00:00Z).
    #[arg(long)]
    until: Option<jiff::Timestamp>,
    /// Seconds between progress lines when stdout is not a terminal.
    #[arg(long, default_value_t = 5)]
    progress_every: u64,
    /// Write the run's metrics (Prometheus text format) to this file every few seconds and at
    /// the end, replacing it whole: for node_exporter's textfile collector (name it `*.prom`).
    #[arg(long)]
    metrics_file: Option<PathBuf>,
}

pub async fn run(args: RunArgs, twilio: &TwilioArgs, quiet: bool) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(&args.campaign)?;
    let client = twilio.client_for(&campaign)?;
    let deadline = deadline(&args)?;
    let metrics_file = args.metrics_file.map(MetricsFile::start);
    let exit = execute(
        &campaign,
        client,
        deadline,
        quiet,
        Duration::from_secs(args.progress_every.max(1)),
    )
    .await;
    if let Some(file) = metrics_file {
        file.finish();
    }
    exit
}

/// `--metrics-file`: rewritten during the run, and once more with the run's last counts.
struct MetricsFile {
    path: PathBuf,
    writer: tokio::task::JoinHandle<()>,
}

impl MetricsFile {
    fn start(path: PathBuf) -> Self {
        let writer = exposition::spawn_file_writer(path.clone());
        Self { path, writer }
    }

    fn finish(self) {
        self.writer.abort();
        if let Err(e) = exposition::write_file(&self.path) {
            crate::diagnostic!("{e}");
        }
    }
}

/// Runs a loaded campaign with progress output and a final summary.
pub async fn execute(
    campaign: &Campaign,
    client: TwilioClient,
    deadline: Option<Instant>,
    quiet: bool,
    progress_every: Duration,
) -> anyhow::Result<Exit> {
    let stop = Stop::default();
    stop.watch_signals_and_deadline(deadline.map(tokio::time::Instant::from_std));
    let progress = Arc::new(Progress::default());
    let view = ProgressView::choose(quiet, progress_every);
    let mut printer = None;
    let started = Instant::now();
    let result = campaign::run(
        campaign,
        client,
        stop,
        progress.clone(),
        |import, counts| {
            if !quiet {
                imported(campaign, import);
                if import.records == 0 {
                    crate::diagnostic!(
                        "the list {} has a header line but no rows: nobody to dial",
                        campaign.list.display()
                    );
                }
                if !import.ignored_columns.is_empty() {
                    crate::diagnostic!(
                        "ignored columns (not Twilio parameters): {}",
                        import.ignored_columns.join(", ")
                    );
                }
            }
            printer = view.spawn(&campaign.name, progress.clone(), counts.clone());
        },
    )
    .await;
    if let Some(printer) = printer {
        // Awaited, so that no drawing of the bar comes after its clearing.
        printer.abort();
        let _ = printer.await;
    }
    view.finish();
    match result {
        Ok(result) => {
            let exit = summarize(campaign, &result, &progress, started.elapsed());
            record_exit(campaign, result.run_id, exit).await;
            Ok(exit)
        }
        Err(RunError::Lock(LockError::Held(path))) => {
            crate::diagnostic!(
                "another run of {:?} holds the lock {}; exiting",
                campaign.name,
                path.display()
            );
            Ok(Exit::from(&RunError::Lock(LockError::Held(path))))
        }
        Err(e @ RunError::Gate(GateError::Suppression(_))) => {
            crate::diagnostic!("{e}; nothing was dialed");
            Ok(Exit::from(&e))
        }
        Err(e) if in_the_database(&e) => {
            // An on-call engineer's first question: which file.
            Err(anyhow::Error::new(e).context(campaign.database.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The import's line: what the list held, and what of it is new.
fn imported(campaign: &Campaign, import: &ImportSummary) {
    let lines = crate::words::count(import.records, "line");
    let text = if import.unchanged {
        format!(
            "import: list unchanged since its last import ({lines}, {} imported, {} rejected, {} duplicates): not read again",
            import.already_imported, import.rejected, import.duplicates
        )
    } else {
        format!(
            "import: {lines} read, {} new, {} already imported, {} rejected, {} duplicates",
            import.new, import.already_imported, import.rejected, import.duplicates
        )
    };
    let fields = serde_json::json!({
        "unchanged": import.unchanged,
        "lines": import.records,
        "new": import.new,
        "already_imported": import.already_imported,
        "rejected": import.rejected,
        "duplicates": import.duplicates,
    });
    telemetry::result_line(&campaign.name, "import", &text, fields);
}

/// Writes how the run exited into its record; the summary is already out, so a failure here
/// is only logged.
pub(super) async fn record_exit(campaign: &Campaign, run_id: i64, exit: Exit) {
    let recorded = match Store::open(&campaign.database, &campaign.name).await {
        Ok(store) => {
            let done = store.finish_run(run_id, exit.code()).await;
            store.close().await;
            done
        }
        Err(e) => Err(e),
    };
    if let Err(e) = recorded {
        tracing::warn!("could not record how the run exited: {e}");
    }
}

/// A failure reading or writing the campaign database once open (opening names it already).
fn in_the_database(error: &RunError) -> bool {
    match error {
        RunError::Store(e) | RunError::Import(ImportError::Store(e)) => {
            !matches!(e, StoreError::Open { .. })
        }
        _ => false,
    }
}

fn deadline(args: &RunArgs) -> anyhow::Result<Option<Instant>> {
    let by_duration = args.deadline.map(|d| Instant::now() + d);
    let by_time = match args.until {
        Some(at) => {
            let left = at.duration_since(jiff::Timestamp::now());
            let left = Duration::try_from(left).context("--until is in the past")?;
            Some(Instant::now() + left)
        }
        None => None,
    };
    Ok(by_duration.into_iter().chain(by_time).min())
}

pub(super) fn summarize(
    campaign: &Campaign,
    result: &RunResult,
    progress: &Progress,
    elapsed: Duration,
) -> Exit {
    let c = &result.counts;
    let s = progress.snapshot();
    let rate = progress
        .request_rate()
        .map(|r| format!("{r:.2}/s"))
        .unwrap_or_else(|| "-/s".into());
    let left = c.pending + c.dialing;
    let exit = Exit::of_run(&result.ending, c);
    match &result.ending {
        Ending::Stopped(StopReason::Abort(why)) => {
            crate::diagnostic!("Twilio refused the credentials, stopping: {why}");
        }
        Ending::Stopped(StopReason::Storage(why)) => {
            crate::diagnostic!("stopped, the campaign database could not record an outcome: {why}");
        }
        Ending::Stopped(StopReason::TwilioUnreachable(why)) => {
            crate::diagnostic!("stopped: {why}; the rows left wait for the next run");
        }
        _ => {}
    }
    let never_dialed = if c.suppressed + c.canceled > 0 {
        format!(", {} suppressed, {} canceled", c.suppressed, c.canceled)
    } else {
        String::new()
    };
    let ended = match &result.ending {
        Ending::Finished => "finished".to_string(),
        Ending::Stopped(StopReason::Signal) => "stopped by a signal".to_string(),
        Ending::Stopped(StopReason::Deadline) => "stopped at the deadline".to_string(),
        Ending::Stopped(StopReason::Paused) => {
            "paused (nothing more is dialed until `dialer campaign resume`)".to_string()
        }
        Ending::Stopped(StopReason::Canceled) => "canceled".to_string(),
        Ending::Stopped(StopReason::TwilioUnreachable(_)) => {
            "stopped: Twilio could not be reached".to_string()
        }
        Ending::Stopped(StopReason::WindowClosed) => {
            "stopped: every calling window is closed or the frequency cap holds every row left"
                .to_string()
        }
        Ending::Stopped(_) => "stopped".to_string(),
    };
    let text = format!(
        "summary: campaign {:?} {ended} in {:.1}s: {} rows: {} created, {} failed, {} unknown, {} left{never_dialed}; {} rejected at import ({} duplicates); this run: {} created, {} requests at {rate} (CPS {}){}, exit {}",
        campaign.name,
        elapsed.as_secs_f64(),
        c.rows(),
        c.created,
        c.failed,
        c.unknown,
        left,
        c.rejected,
        result.import.duplicates,
        s.created,
        progress.requests(),
        campaign.cps,
        super::progress::held(&s),
        exit as u8,
    );
    let fields = serde_json::json!({
        "ended": ended,
        "elapsed_s": elapsed.as_secs_f64(),
        "rows": c.rows(),
        "created": c.created,
        "failed": c.failed,
        "unknown": c.unknown,
        "left": left,
        "suppressed": c.suppressed,
        "canceled": c.canceled,
        "rejected": c.rejected,
        "duplicates": result.import.duplicates,
        "run_created": s.created,
        "run_requests": progress.requests(),
        "request_rate": progress.request_rate(),
        "cps": campaign.cps.get().get(),
        "exit": exit as u8,
    });
    telemetry::result_line(&campaign.name, "summary", &text, fields);
    exit
}
