//! `dialer worker CAMPAIGN.toml… | DIR`: the long-running form of `dialer run`, the unit a
//! systemd service or a Kubernetes Deployment runs on each host. Each campaign is run again
//! and again: a run dials every due row, then the campaign waits for work (`lull`: its files
//! changed, a row fell due, it was resumed), looked for every `--idle`, before the next run
//! (which re-reads the campaign file, and the list when it changed). Folders are scanned for
//! new campaign files every `--rescan`. On SIGTERM every run stops taking rows, records what
//! is in flight, releases what it claimed but did not send, and the worker exits 0.
//!
//! Every campaign file is checked before anything is dialed: one that does not load fails
//! the start (exit 2). One that stops loading later, or whose credentials Twilio refuses, is
//! logged with the time of its next try and tried again later, backing off (`health`), the
//! others go on; `GET /metrics` shows each campaign up or failing, and why.

mod health;
mod lull;

use super::{Exit, TwilioArgs};
use crate::campaign::lock::LockError;
use crate::campaign::{self, RunError};
use crate::config::Campaign;
use crate::dialing::Ending;
use crate::dialing::progress::Progress;
use crate::domain::duration;
use crate::metrics::exposition;
use crate::metrics::health::{CampaignHealth, Failure};
use crate::outcomes::server;
use crate::stop::{Stop, StopReason};
use anyhow::Context;
use clap::Args;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use health::{Backoff, Failed};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Campaign files, or folders whose `*.toml` files are campaign files.
    #[arg(required = true)]
    campaigns: Vec<PathBuf>,
    /// How often a campaign waiting for work is looked at (one statement, not a whole run).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    idle: Duration,
    /// How often folders are scanned for new campaign files.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    rescan: Duration,
    /// Answer `GET /metrics` (Prometheus text format) on this address, e.g. 0.0.0.0:9464.
    #[arg(long)]
    listen: Option<SocketAddr>,
}

fn parse_duration(raw: &str) -> Result<Duration, String> {
    duration(raw).map_err(|e| e.to_string())
}

pub async fn worker(args: WorkerArgs, twilio: &TwilioArgs) -> anyhow::Result<Exit> {
    // A bad campaign file fails the start, before anyone is called.
    for file in campaign_files(&args.campaigns)? {
        let campaign = Campaign::load(&file)?;
        twilio.client_for(&campaign)?;
    }
    let stop = Stop::default();
    stop.watch_signals_and_deadline(None);
    let metrics = match args.listen {
        Some(address) => Some(serve_metrics(address, stop.clone()).await?),
        None => None,
    };
    let mut working = HashSet::new();
    // Polled here rather than spawned: each run spawns its own tasks for the dialing.
    let mut runs = FuturesUnordered::new();
    loop {
        match campaign_files(&args.campaigns) {
            Ok(files) => {
                for file in files {
                    if working.insert(file.clone()) {
                        tracing::info!(file = %file.display(), "working on the campaign file");
                        runs.push(work_on(file, twilio.clone(), stop.clone(), args.idle));
                    }
                }
            }
            Err(e) => tracing::warn!("could not look for campaign files: {e:#}"),
        }
        let rescan = tokio::time::sleep(args.rescan);
        tokio::pin!(rescan);
        loop {
            tokio::select! {
                _ = stop.wait() => break,
                _ = &mut rescan => break,
                Some(()) = runs.next(), if !runs.is_empty() => {}
            }
        }
        if stop.is_set() {
            break;
        }
    }
    while runs.next().await.is_some() {}
    tracing::info!("stopped: every run recorded what it had in flight");
    if let Some(server) = metrics {
        let _ = server.await;
    }
    Ok(Exit::Done)
}

/// Serves `GET /metrics` until `stop` is set. The rows' counts are those of each campaign's
/// latest run, which refreshes them while it dials.
async fn serve_metrics(
    address: SocketAddr,
    stop: Stop,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("Failed to listen on {address}"))?;
    let local = listener
        .local_addr()
        .context("Failed to read the local address")?;
    crate::diagnostic!("metrics at http://{local}{}", exposition::PATH);
    let app = exposition::router(|| async {});
    Ok(tokio::spawn(server::serve(listener, app, stop)))
}

/// Runs one campaign again and again until the worker stops; after each pass it waits for
/// work (`lull`), after a failed one for its `Backoff`, saying when it tries again.
async fn work_on(file: PathBuf, twilio: TwilioArgs, stop: Stop, idle: Duration) {
    let mut health = CampaignHealth::default();
    let mut backoff = Backoff::new(idle);
    while !stop.is_set() {
        let file_seen = lull::stamp(&file);
        let failed = match Campaign::load(&file) {
            Ok(campaign) => {
                let seen = [file_seen, lull::stamp(&campaign.list)];
                let run = run_once(
                    campaign.clone().waiting_out_outages(),
                    &twilio,
                    stop.child(),
                    &mut health,
                );
                match run.await {
                    Ok(()) => {
                        health.working();
                        backoff.reset();
                        lull::wait_for_work(&campaign, &file, seen, &stop, idle).await;
                        continue;
                    }
                    Err(failed) => failed,
                }
            }
            Err(e) => {
                if !health.is_named() {
                    health.name(&file.display().to_string(), "");
                }
                Failed::new(Failure::CampaignFile, e)
            }
        };
        health.failed(failed.reason);
        let wait = backoff.after(failed.reason);
        let at = jiff::Timestamp::now()
            .checked_add(wait)
            .and_then(|at| at.round(jiff::Unit::Second))
            .map_or_else(
                |_| format!("in {}s", wait.as_secs()),
                |at| format!("at {at}"),
            );
        tracing::error!(
            campaign = %health.campaign(),
            "{:#}; trying again {at}",
            failed.error
        );
        tokio::select! {
            _ = stop.wait() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One run of the campaign, as `dialer run` does it, with its summary when it did anything
/// (a failure's summary is the worker's line).
async fn run_once(
    campaign: Campaign,
    twilio: &TwilioArgs,
    stop: Stop,
    health: &mut CampaignHealth,
) -> Result<(), Failed> {
    let client = match twilio.client_for(&campaign) {
        Ok(client) => client,
        Err(e) => {
            if !health.is_named() {
                health.name(&campaign.name, "");
            }
            return Err(Failed::new(Failure::CampaignFile, e));
        }
    };
    health.name(&campaign.name, client.credentials().account().as_str());
    let progress = Arc::new(Progress::default());
    let started = Instant::now();
    let result = campaign::run(&campaign, client, stop, progress.clone(), |_, _| {}).await;
    let result = match result {
        Ok(result) => result,
        // Another process runs this campaign on this machine (SQLite): it is in good hands.
        Err(RunError::Lock(LockError::Held(_))) => return Ok(()),
        Err(e) => return Err(Failed::of_run(e)),
    };
    let failed = Failed::of_ending(&result.ending);
    let worked = progress.requests() > 0 || result.import.new > 0;
    let quiet_stop = matches!(
        result.ending,
        Ending::Finished
            | Ending::Stopped(StopReason::Paused | StopReason::Canceled | StopReason::WindowClosed)
    );
    if worked || !quiet_stop {
        let exit = match failed {
            Some(_) => Exit::of_run(&result.ending, &result.counts),
            None => super::run::summarize(&campaign, &result, &progress, started.elapsed()),
        };
        super::run::record_exit(&campaign, result.run_id, exit).await;
        health.run_ended(exit.code());
    }
    failed.map_or(Ok(()), Err)
}

/// The campaign files named, folders read for their `*.toml` files, in a stable order.
pub(super) fn campaign_files(named: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in named {
        if path.is_dir() {
            files.extend(toml_files_in(path)?);
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn toml_files_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("could not read the folder {}: {e}", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
            files.push(path);
        }
    }
    Ok(files)
}
