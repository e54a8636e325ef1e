//! A shared database that goes away mid-run (a restart, a failover) is waited for, instead of
//! ending the run: nothing is claimed meanwhile, so nobody is dialed whose attempt could not be
//! recorded. On SQLite a database error still ends the run, as before.

use super::Engine;
use crate::store::StoreError;
use std::time::Duration;

/// A shared database that cannot be reached (restarted, failed over) is waited for: the run
/// claims nothing meanwhile, so it dials nobody whose attempt it could not record.
#[derive(Default)]
pub(super) struct Outage {
    since: Option<std::time::Instant>,
}

impl Outage {
    /// Waits a moment after a transient error of a shared database; any other error ends
    /// the run, as it does on SQLite.
    pub(super) async fn wait_out(
        &mut self,
        engine: &Engine,
        error: StoreError,
    ) -> Result<(), StoreError> {
        if !(engine.store.is_shared() && error.is_transient()) {
            return Err(error);
        }
        if self.since.is_none() {
            tracing::warn!("{error}; waiting for the database, nothing is sent meanwhile");
            self.since = Some(std::time::Instant::now());
        }
        tokio::select! {
            _ = tokio::time::sleep(OUTAGE_RETRY) => {}
            _ = engine.stop.wait() => {}
        }
        Ok(())
    }

    pub(super) fn over(&mut self) {
        if let Some(since) = self.since.take() {
            tracing::info!(
                "the database answers again after {:.1} s",
                since.elapsed().as_secs_f64()
            );
        }
    }
}

const OUTAGE_RETRY: Duration = Duration::from_millis(500);
