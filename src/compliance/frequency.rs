//! The frequency cap: a person is called at most `max_calls` times `within` a span by all the
//! campaigns that share the database. Counted at the gate, just before a row is dialed, from
//! the attempts that may have placed a call (created, found, in doubt, being sent) in every
//! campaign; the row's own attempt just claimed is not counted. A row over the cap waits until
//! the oldest of the calls that fill it leaves the span.

use crate::config::rules::FrequencyCap;
use crate::store::{Claimed, Store, StoreError};

/// When the row may be called, if the cap holds it back now (unix ms).
pub async fn held_until(
    cap: &FrequencyCap,
    store: &Store,
    claimed: &Claimed,
    now_ms: i64,
) -> Result<Option<i64>, StoreError> {
    let within_ms = i64::try_from(cap.within.as_millis()).unwrap_or(i64::MAX / 2);
    let placed = store
        .calls_placed_to(
            &claimed.to,
            now_ms.saturating_sub(within_ms),
            (claimed.row_id, claimed.attempt),
        )
        .await?;
    Ok(release(&placed, cap.max_calls as usize, within_ms))
}

/// With `placed` (start times, oldest first) in the span: `None` while under the cap, else
/// when enough of them have left the span for one more call.
fn release(placed: &[i64], max_calls: usize, within_ms: i64) -> Option<i64> {
    let over = (placed.len() + 1).checked_sub(max_calls)?;
    (over > 0).then(|| placed[over - 1].saturating_add(within_ms))
}

#[cfg(test)]
mod tests {
    use super::release;

    #[test]
    fn a_person_under_the_cap_is_called_and_one_at_it_waits_for_the_oldest_call_to_age_out() {
        let day = 86_400_000;
        assert_eq!(release(&[], 3, day), None);
        assert_eq!(release(&[10, 20], 3, day), None);
        assert_eq!(release(&[10, 20, 30], 3, day), Some(10 + day));
        // Over the cap (calls placed before it was set): the call that frees a slot.
        assert_eq!(release(&[10, 20, 30, 40], 3, day), Some(20 + day));
        assert_eq!(release(&[5], 1, day), Some(5 + day));
    }
}
