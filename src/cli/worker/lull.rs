//! A campaign's wait between a worker's passes. A full pass (open the store, start a run, check
//! the list, open the gate, sweep orphans, count, finish) is about a dozen transactions: with
//! a hundred campaign-hosts idle every `--idle`, that kept PostgreSQL busy dialing nobody. So
//! after a pass the worker waits for a reason to run the next one, and an idle tick costs one
//! statement (`Store::lull`) and two reads of file metadata.

use crate::config::Campaign;
use crate::domain::CampaignStatus;
use crate::outcomes::poll::IN_RUN_MIN_AGE;
use crate::stop::Stop;
use crate::store::{Lull, Store};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// A full pass at least this often all the same, for what the lull cannot see (a calling
/// window opening over rows already due).
const FULL_PASS_EVERY: Duration = Duration::from_secs(300);

/// A file as last seen: its size and modification time (`None`: unreadable).
pub(super) type Stamp = Option<(u64, SystemTime)>;

pub(super) fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// Waits, a tick every `idle`, until the worker stops, the campaign file or its list changes
/// from `seen` (as stamped before the pass read them), work falls due in the database or
/// another process resumed the campaign, or `FULL_PASS_EVERY` has passed.
pub(super) async fn wait_for_work(
    campaign: &Campaign,
    file: &Path,
    seen: [Stamp; 2],
    stop: &Stop,
    idle: Duration,
) {
    let store = match Store::open(&campaign.database, &campaign.name).await {
        Ok(store) => store,
        Err(e) => {
            tracing::debug!(campaign = %campaign.name, "{e}; a full pass after the idle wait");
            tokio::select! {
                _ = stop.wait() => {}
                _ = tokio::time::sleep(idle) => {}
            }
            return;
        }
    };
    let since = Instant::now();
    loop {
        tokio::select! {
            _ = stop.wait() => break,
            _ = tokio::time::sleep(idle) => {}
        }
        if since.elapsed() >= FULL_PASS_EVERY || [stamp(file), stamp(&campaign.list)] != seen {
            break;
        }
        match store.lull().await {
            Ok(lull) if !has_work(&lull, store.now_ms(), campaign) => {}
            Ok(_) => break,
            // The full pass reports it, and waits out an outage as a run does.
            Err(_) => break,
        }
    }
    store.close().await;
}

/// Whether a pass would find work at `now_ms`. A paused or canceled campaign has none; a call
/// awaiting its outcome is asked about by a pass once old enough to have ended (as a run
/// does), unless callbacks bring the outcomes.
fn has_work(lull: &Lull, now_ms: i64, campaign: &Campaign) -> bool {
    let polled = campaign.rules.callbacks.is_none();
    let poll_at = lull
        .oldest_awaiting
        .filter(|_| polled)
        .map(|created| created + IN_RUN_MIN_AGE.as_millis() as i64);
    lull.status == CampaignStatus::Running
        && lull
            .next_due_at
            .into_iter()
            .chain(poll_at)
            .any(|at| at <= now_ms)
}
