//! `dialer sync CAMPAIGN.toml`: learn how calls ended by asking Twilio, for setups Twilio's
//! callbacks cannot reach. Polls until every created call has a final status (or the
//! deadline); like `serve`, it takes no campaign lock and runs beside the cron runs.

use super::{Exit, TwilioArgs};
use crate::config::Campaign;
use crate::domain::duration;
use crate::outcomes::poll::{PassSummary, Poller};
use crate::stop::Stop;
use crate::store::Store;
use crate::twilio::TwilioClient;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The campaign file.
    campaign: PathBuf,
    /// Stop after this long (e.g. 10m) even if some calls have not ended yet.
    #[arg(long, value_parser = |s: &str| duration(s).map_err(|e| e.to_string()))]
    deadline: Option<Duration>,
    /// Seconds between passes while calls are still going on.
    #[arg(long, default_value_t = 2)]
    every: u64,
}

pub async fn sync(args: SyncArgs, twilio: &TwilioArgs, quiet: bool) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(&args.campaign)?;
    let Some(store) = Store::open_existing(&campaign.database, &campaign.name)
        .await
        .context("Failed to open the campaign database")?
    else {
        anyhow::bail!(
            "no run yet for this campaign (database {} not found)",
            campaign.database
        );
    };
    let client = twilio.client_for(&campaign)?;
    let stop = Stop::default();
    let deadline = args.deadline.map(|d| (Instant::now() + d).into());
    stop.watch_signals_and_deadline(deadline);
    let every = Duration::from_secs(args.every.max(1));
    let (total, left) = until_every_call_ended(&campaign, client, &store, &stop, every).await?;
    store.close().await;
    if !quiet {
        let still = if left {
            "some calls still going on"
        } else {
            "every call has ended"
        };
        println!(
            "sync: {} status checks, {} calls ended, {} errors; {still}",
            total.polled, total.ended, total.errors
        );
    }
    Ok(if left { Exit::StoppedEarly } else { Exit::Done })
}

/// Polls Twilio in passes, `every` apart, until every created call has a final status or
/// `stop` is set; true in the second place when some calls are still going on.
pub(super) async fn until_every_call_ended(
    campaign: &Campaign,
    client: TwilioClient,
    store: &Store,
    stop: &Stop,
    every: Duration,
) -> anyhow::Result<(PassSummary, bool)> {
    let metrics = campaign.metrics(client.credentials().account());
    let poller = Poller::new(client, campaign.recorder(store.clone(), metrics));
    let mut total = PassSummary::default();
    loop {
        let pass = poller.pass(store.now_ms(), u64::MAX, stop).await?;
        total.polled += pass.polled;
        total.ended += pass.ended;
        total.errors += pass.errors;
        let left = store
            .awaiting_outcome(store.now_ms(), (i64::MIN, i64::MIN), 1)
            .await?;
        if left.is_empty() || stop.is_set() {
            return Ok((total, !left.is_empty()));
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait() => {}
        }
    }
}
