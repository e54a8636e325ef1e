//! One cron run of a campaign: lock, open the database, import what is new in the list, dial
//! every due row, and say how it ended.

use super::lock::{CampaignLock, LockError};
use crate::compliance::gate::{Gate, GateError};
use crate::config::Campaign;
use crate::dialing::progress::Progress;
use crate::dialing::{Ending, Engine};
use crate::domain::RunEnding;
use crate::import::{self, ImportError, ImportSummary};
use crate::stop::{Stop, StopReason};
use crate::store::{StateCounts, Store, StoreError};
use crate::twilio::TwilioClient;
use std::sync::Arc;
use tracing::Instrument;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Gate(#[from] GateError),
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub import: ImportSummary,
    pub ending: Ending,
    pub counts: StateCounts,
    /// This run's record in the database; the caller records how it exited
    /// (`Store::finish_run`), since the exit code is the command line's to decide.
    pub run_id: i64,
}

/// Starts from the lock; a second run of the same campaign gets `RunError::Lock(Held)`. Every
/// log line of the run carries the campaign's name.
pub async fn run(
    campaign: &Campaign,
    client: TwilioClient,
    stop: Stop,
    progress: Arc<Progress>,
    on_imported: impl FnOnce(&ImportSummary, &StateCounts),
) -> Result<RunResult, RunError> {
    let span = tracing::info_span!("campaign", campaign = %campaign.name);
    run_in_span(campaign, client, stop, progress, on_imported)
        .instrument(span)
        .await
}

async fn run_in_span(
    campaign: &Campaign,
    client: TwilioClient,
    stop: Stop,
    progress: Arc<Progress>,
    on_imported: impl FnOnce(&ImportSummary, &StateCounts),
) -> Result<RunResult, RunError> {
    // On PostgreSQL hosts share campaigns: rows are leased one by one instead.
    let _lock = match campaign.database.sqlite_file() {
        Some(path) => Some(CampaignLock::acquire(path, &campaign.name)?),
        None => None,
    };
    let store = Store::open(&campaign.database, &campaign.name)
        .await?
        .with_lease(campaign.lease);
    let run_id = store.start_run().await?;
    let import = import::import(campaign, &store).await?;
    let gate = Gate::open(campaign, &store, &stop).await?;
    on_imported(&import, &store.state_counts().await?);
    let engine = Engine::new(
        Arc::new(campaign.clone()),
        store.clone(),
        client,
        gate,
        stop,
        progress,
    );
    let ending = engine.run().await?;
    drop(engine);
    // For `dialer status`: an exit code alone does not say why dialing stopped.
    if let Err(e) = store.record_run_ending(run_id, run_ending(&ending)).await {
        tracing::warn!("could not record why the run ended: {e}");
    }
    let counts = store.state_counts().await?;
    store.close().await;
    Ok(RunResult {
        import,
        ending,
        counts,
        run_id,
    })
}

/// How a run's dial loop ended, as its record keeps it.
fn run_ending(ending: &Ending) -> RunEnding {
    match ending {
        Ending::Finished => RunEnding::Finished,
        Ending::Stopped(reason) => match reason {
            StopReason::Signal => RunEnding::Signal,
            StopReason::Deadline => RunEnding::Deadline,
            StopReason::Abort(_) => RunEnding::CredentialsRefused,
            StopReason::TwilioUnreachable(_) => RunEnding::TwilioUnreachable,
            StopReason::Storage(_) => RunEnding::DatabaseFailed,
            StopReason::Paused => RunEnding::Paused,
            StopReason::Canceled => RunEnding::Canceled,
            StopReason::WindowClosed => RunEnding::WindowClosed,
        },
    }
}
