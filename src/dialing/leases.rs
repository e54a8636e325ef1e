//! Leases while hosts share a campaign (PostgreSQL): this run's rows keep their leases alive
//! (a heartbeat), and rows whose holder's lease ran out (a host killed, or paused longer than
//! its lease) are taken over: marked in doubt, so that they are reconciled with Twilio before
//! anyone dials them again. On SQLite the campaign's lock makes both needless.

use super::Engine;
use std::time::Duration;

/// How often leases are extended and expired ones looked for, at most: a third of the lease
/// when that is shorter, so that two heartbeats can be missed before a lease runs out.
const EVERY: Duration = Duration::from_secs(10);

impl Engine {
    /// Runs until aborted.
    pub(super) async fn keep_leases(self) {
        let mut ticks = tokio::time::interval(EVERY.min(self.campaign.lease / 3));
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if let Err(e) = self.store.extend_leases().await {
                tracing::warn!("could not extend this run's leases: {e}");
            }
            match self
                .store
                .mark_orphans_unknown(self.client.request_timeout())
                .await
            {
                Ok(0) => {}
                Ok(rows) => tracing::warn!(
                    rows,
                    "another host stopped mid-request; checking its rows with Twilio before any re-dial"
                ),
                Err(e) => tracing::warn!("could not look for rows left by other hosts: {e}"),
            }
        }
    }
}
