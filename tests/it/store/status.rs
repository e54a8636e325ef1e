//! `campaign_now` on every backend: what `dialer status` reads, and the holds a row keeps
//! (a calling window, the frequency cap) with the time it waits for.

use super::{claim, with_people};
use dialer::domain::{CampaignStatus, Hold, RowState, RunEnding};
use dialer::store::{Database, Outcome};

pub async fn a_held_row_a_row_in_doubt_a_claimed_row_and_the_last_run_are_read_by_campaign_now(
    db: Database,
) {
    // Arrange: 5 people; one held by the cap, one in doubt, one claimed, two closed out by a
    // window; one run ended with exit 2.
    let store = with_people(&db, 5).await;
    let now = store.now_ms();
    let run = store.start_run().await.unwrap();
    let refused = RunEnding::CredentialsRefused;
    store.record_run_ending(run, refused).await.unwrap();
    store.finish_run(run, 2).await.unwrap();
    let capped = claim(&store).await;
    let cap_until = now + 10_800_000;
    store
        .release_held(&capped, cap_until, "held back", Some(Hold::FrequencyCap))
        .await
        .unwrap();
    let doubtful = claim(&store).await;
    let check_at = now + 60_000;
    let unknown = Outcome::Unknown {
        check_at,
        http_status: None,
        code: None,
        message: "the request timed out".into(),
    };
    store.record(&doubtful, &unknown).await.unwrap();
    let dialing = claim(&store).await;
    let opens = now + 7_200_000;
    store
        .defer_group(&super::zone_group(None), opens)
        .await
        .unwrap();
    store
        .set_campaign_status(CampaignStatus::Paused)
        .await
        .unwrap();

    // Act
    let read = store.campaign_now().await.unwrap();
    let rows = store.export_rows().await.unwrap();

    // Assert
    assert_eq!(read.status, CampaignStatus::Paused);
    assert_eq!(read.states.of(RowState::Pending), 3);
    assert_eq!(read.dialing.len(), 1, "{read:?}");
    assert_eq!(read.dialing[0].rows, 1);
    assert!(read.dialing[0].host_and_pid().1 == Some(std::process::id()));
    assert_eq!(
        (read.in_doubt, read.in_doubt_next_check),
        (1, Some(check_at))
    );
    let held: Vec<_> = read
        .held
        .iter()
        .map(|h| (h.hold, h.rows, h.first, h.last))
        .collect();
    assert_eq!(
        held,
        [
            (Some(Hold::FrequencyCap), 1, cap_until, cap_until),
            (Some(Hold::Window), 2, opens, opens),
        ],
        "the capped row keeps its own hold: it is due after the window opens"
    );
    let last = read.last_run.expect("a run");
    assert_eq!((last.exit_code, last.ending), (Some(2), Some(refused)));
    assert!(last.host.is_some_and(|host| !host.is_empty()));
    let capped_row = rows.iter().find(|r| r.line == capped.line).unwrap();
    assert_eq!(capped_row.held_by, Some(Hold::FrequencyCap));
    assert_eq!(capped_row.next_attempt_at, Some(cap_until));
    assert!(
        rows.iter()
            .any(|r| r.line == dialing.line && r.held_by.is_none())
    );
}
