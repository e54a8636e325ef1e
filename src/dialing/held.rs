//! A claimed row held before it is sent: the gate's answer applied, then the wait for its
//! pacing slot, and what a stop does to a row waiting there.
//!
//! A stop releases a held row unsent, except a stop because the calling windows closed: the
//! gate's watcher decides it from the pending rows only, and a held row was due and admitted
//! inside its window. Released, it would wait for the next run (the next cron slot, or a
//! worker's idle wait), and the last due rows of a slow account would lose their share of its
//! CPS; so it keeps its slot, and is asked the gate again once the slot comes, in case its
//! own window closed meanwhile.

use super::Engine;
use crate::compliance::gate::Admission;
use crate::stop::StopReason;
use crate::store::{Claimed, StoreError};

impl Engine {
    /// Applies the gate's answer for a claimed row: true when it may be dialed; otherwise the
    /// row has been released until it may be, or suppressed.
    pub(super) async fn admitted(&self, claimed: &Claimed) -> Result<bool, StoreError> {
        match self.gate.admit(&self.store, claimed).await? {
            Admission::Dial => return Ok(true),
            Admission::Defer {
                until_ms,
                reason,
                hold,
            } => {
                let store = &self.store;
                store.release_held(claimed, until_ms, &reason, hold).await?
            }
            Admission::Suppress { reason } => self.store.suppress(claimed, &reason).await?,
        }
        Ok(false)
    }

    /// Waits for an admitted row's pacing slot: true when it is to be sent now; otherwise the
    /// run stopped and the row has been released.
    pub(super) async fn paced(&self, claimed: &Claimed) -> Result<bool, StoreError> {
        tokio::select! {
            _ = self.pacer.acquire() => {}
            _ = self.stopped_for_held_rows() => {
                let why = "the run stopped before it was sent";
                self.store.release(claimed, self.store.now_ms(), why).await?;
                return Ok(false);
            }
        }
        if self.stop.reason() == Some(StopReason::WindowClosed) && !self.admitted(claimed).await? {
            // Its own window closed while it waited: the slot placed no call.
            self.pacer.give_back();
            return Ok(false);
        }
        Ok(true)
    }

    /// Resolves once the run stops for a reason that ends a held row's wait: any but the
    /// calling windows closing.
    async fn stopped_for_held_rows(&self) {
        self.stop.wait().await;
        if self.stop.reason() == Some(StopReason::WindowClosed) {
            std::future::pending::<()>().await;
        }
    }
}
