//! `requeue_failed` on every backend: only failed rows move, attempt numbers go on while the
//! attempt budget restarts, and each requeue stays in the row's history.

use super::{call_sid, callback, claim, created, in_doubt, with_people};
use dialer::domain::{CallStatus, LineState, RowState};
use dialer::store::{
    Claimed, Database, Outcome, Recorded, Redial, RequeueSelection, RowExport, Store,
};
use std::time::Duration;

const OUTAGE: &str = "gave up after 3 attempts: could not reach Twilio";

fn failed(code: Option<u32>, message: &str) -> Outcome {
    Outcome::Failed {
        http_status: code.map(|_| 400),
        code,
        message: message.into(),
    }
}

async fn fail(store: &Store, claimed: &Claimed, code: Option<u32>, message: &str) {
    store.record(claimed, &failed(code, message)).await.unwrap();
}

async fn line(store: &Store, line: u64) -> RowExport {
    let rows = store.export_rows().await.unwrap();
    rows.into_iter().find(|row| row.line == line).unwrap()
}

pub(super) async fn only_failed_rows_are_put_back_and_each_requeue_stays_in_the_rows_history(
    db: Database,
) {
    // Arrange: one row in each state a requeue must leave alone, and two failed rows.
    let store = with_people(&db, 6).await;
    let was_created = claim(&store).await;
    store.record(&was_created, &created(1)).await.unwrap();
    let invalid = claim(&store).await;
    fail(&store, &invalid, Some(21211), "Invalid 'To' Phone Number").await;
    let outage = claim(&store).await;
    fail(&store, &outage, None, OUTAGE).await;
    let doubt = claim(&store).await;
    store.record(&doubt, &in_doubt()).await.unwrap();
    let dialing = claim(&store).await;
    let before = store.export_rows().await.unwrap();

    // Act
    let requeued = store
        .requeue_failed(&RequeueSelection::default())
        .await
        .unwrap();

    // Assert
    let put_back: Vec<(u64, Option<i64>)> = requeued
        .rows
        .iter()
        .map(|row| (row.line, row.was_code))
        .collect();
    assert_eq!(
        put_back,
        vec![(invalid.line, Some(21211)), (outage.line, None)]
    );
    assert!(requeued.untouched.is_empty());
    let after = store.export_rows().await.unwrap();
    for (was, now) in before.iter().zip(&after) {
        if now.line == invalid.line || now.line == outage.line {
            assert_eq!(now.state, LineState::Row(RowState::Pending));
            assert_eq!((now.requeues, now.requeued_attempts), (1, Some(1)));
        } else {
            assert_eq!(
                (now.state, now.attempts, now.requeues),
                (was.state, was.attempts, 0),
                "line {} was touched",
                now.line
            );
        }
    }
    let outage_row = line(&store, outage.line).await;
    assert_eq!(outage_row.requeued_message.as_deref(), Some(OUTAGE));
    assert!(outage_row.requeued_at.is_some());
    // Due now, attempt numbers going on; the first failure of the new budget is its first.
    let mut claimed = [
        claim(&store).await,
        claim(&store).await,
        claim(&store).await,
    ];
    claimed.sort_by_key(|row| row.line);
    let claimed: Vec<(u64, i64, i64)> = claimed
        .iter()
        .map(|row| (row.line, row.attempt, row.failures))
        .collect();
    assert_eq!(
        claimed,
        vec![(invalid.line, 2, 0), (outage.line, 2, 0), (7, 1, 0)],
        "both rows put back, and the row never tried"
    );
    store.record(&dialing, &created(5)).await.unwrap();
    assert!(
        store
            .requeue_failed(&RequeueSelection::default())
            .await
            .unwrap()
            .rows
            .is_empty(),
        "rows put back are failed no more"
    );
}

pub(super) async fn a_requeue_narrowed_by_code_and_lines_names_the_lines_it_left_alone(
    db: Database,
) {
    // Arrange
    let store = with_people(&db, 4).await;
    let busy_code = claim(&store).await;
    fail(&store, &busy_code, Some(20003), "Permission denied").await;
    let other_code = claim(&store).await;
    fail(
        &store,
        &other_code,
        Some(21211),
        "Invalid 'To' Phone Number",
    )
    .await;
    let also_20003 = claim(&store).await;
    fail(&store, &also_20003, Some(20003), "Permission denied").await;
    let was_created = claim(&store).await;
    store.record(&was_created, &created(4)).await.unwrap();
    let lines = vec![busy_code.line, other_code.line, was_created.line, 99];

    // Act
    let requeued = store
        .requeue_failed(&RequeueSelection {
            code: Some(20003),
            lines: Some(lines),
        })
        .await
        .unwrap();

    // Assert
    let put_back: Vec<u64> = requeued.rows.iter().map(|row| row.line).collect();
    assert_eq!(put_back, vec![busy_code.line]);
    assert_eq!(
        requeued.untouched,
        vec![
            (other_code.line, Some(RowState::Failed)),
            (was_created.line, Some(RowState::Created)),
            (99, None)
        ]
    );
    let untouched = line(&store, also_20003.line).await;
    assert_eq!(
        untouched.state,
        LineState::Row(RowState::Failed),
        "not on a named line"
    );
    let nothing = store
        .requeue_failed(&RequeueSelection {
            code: Some(30001),
            lines: None,
        })
        .await
        .unwrap();
    assert!(nothing.rows.is_empty() && nothing.untouched.is_empty());
}

pub(super) async fn a_requeued_row_has_a_fresh_budget_for_redials_too(db: Database) {
    // Arrange: a row that used its whole budget of 2, then was put back.
    let store = with_people(&db, 1).await;
    let first = claim(&store).await;
    store
        .record(
            &first,
            &Outcome::Retry {
                at: 0,
                counts: true,
                http_status: Some(500),
                code: Some(20500),
                message: "server error".into(),
            },
        )
        .await
        .unwrap();
    let second = claim(&store).await;
    fail(
        &store,
        &second,
        Some(20500),
        "gave up after 2 attempts: server error",
    )
    .await;
    store
        .requeue_failed(&RequeueSelection {
            code: Some(20500),
            lines: None,
        })
        .await
        .unwrap();
    let third = claim(&store).await;
    store.record(&third, &created(3)).await.unwrap();
    let redial = Redial {
        after: Duration::from_secs(60),
        max_attempts: 2,
    };

    // Act: its 3rd attempt is the 1st of its new budget, so a busy call is dialed again.
    let busy = store
        .record_call_event(&callback(&call_sid(3), 2, CallStatus::Busy), Some(redial))
        .await
        .unwrap();

    // Assert
    assert_eq!(third.attempt, 3);
    assert!(
        matches!(
            busy,
            Recorded::Applied {
                redial_at: Some(_),
                ..
            }
        ),
        "{busy:?}"
    );
    let row = line(&store, first.line).await;
    assert_eq!(row.requeued_code, Some(20500));
    assert_eq!(
        dialer::report::requeue_history(&row).unwrap(),
        format!(
            "requeued by `dialer campaign requeue` at {}, was failed: error 20500: gave up after 2 attempts: server error",
            jiff::Timestamp::from_millisecond(row.requeued_at.unwrap())
                .unwrap()
                .round(jiff::Unit::Second)
                .unwrap()
        )
    );
}
