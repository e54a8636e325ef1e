//! A campaign's whole history on every backend (what `dialer move` copies): read in one
//! snapshot, written into a database as a campaign of its own, refused where the campaign has
//! something already, and opened only where it is.

use super::{call_sid, callback, claim, created, in_doubt, with_people};
use dialer::domain::{CallStatus, ConferenceSid};
use dialer::store::{
    Database, FinishedImport, LoadError, Outcome, Reject, RequeueSelection, Store,
};

pub(super) async fn a_campaign_created_with_another_ones_history_reads_back_the_same(db: Database) {
    // Arrange: rows created, requeued after a failure, in doubt and pending; an event, a
    // reject, an import, a conference SID and a run.
    let store = with_people(&db, 4).await;
    let run = store.start_run().await.unwrap();
    let answered = claim(&store).await;
    store.record(&answered, &created(1)).await.unwrap();
    store
        .record_call_event(&callback(&call_sid(1), 1, CallStatus::Completed), None)
        .await
        .unwrap();
    let failed = Outcome::Failed {
        http_status: Some(400),
        code: Some(21211),
        message: "Invalid 'To' Phone Number".into(),
    };
    store.record(&claim(&store).await, &failed).await.unwrap();
    store
        .requeue_failed(&RequeueSelection::default())
        .await
        .unwrap();
    store
        .record(&claim(&store).await, &in_doubt())
        .await
        .unwrap();
    let conference = ConferenceSid::parse(&format!("CF{:032x}", 7)).unwrap();
    store
        .remember_conference("room", &conference)
        .await
        .unwrap();
    let reject = Reject {
        line: 9,
        reason: "not a phone number".into(),
        raw: "nope".into(),
        to: "nope".into(),
    };
    let done = FinishedImport {
        list_size: 99,
        list_modified_ns: 1_700_000_000_000_000_000,
        fingerprint: "f00d".into(),
        records: 5,
        accepted: 4,
        duplicates: 0,
        ignored_columns: vec!["notes".into()],
    };
    store.finish_import(&[reject], Some(&done)).await.unwrap();
    store.finish_run(run, 0).await.unwrap();
    let history = store.history().await.unwrap();

    // Act
    let copy = Store::create_with_history(&db, "copy", &history)
        .await
        .unwrap();
    let again = Store::create_with_history(&db, "c", &history).await.err();

    // Assert
    assert!(
        matches!(
            again,
            Some(LoadError::Occupied {
                rows: 4,
                runs: 1,
                ..
            })
        ),
        "{again:?}"
    );
    assert_ne!(
        copy.campaign_key(),
        store.campaign_key(),
        "a key of its own"
    );
    let copied = copy.history().await.unwrap();
    let sizes = |h: &dialer::store::CampaignHistory| {
        let parts = [
            h.rows.len(),
            h.attempts.len(),
            h.requeues.len(),
            h.call_events.len(),
        ];
        (parts, h.rejects.len(), h.conferences.len(), h.runs.len())
    };
    assert_eq!(sizes(&copied), sizes(&history));
    assert_eq!(sizes(&history), ([4, 3, 1, 1], 1, 1, 1));
    assert_eq!(copied.dialing(), 0);
    assert_eq!(
        copy.state_counts().await.unwrap(),
        store.state_counts().await.unwrap()
    );
    assert_eq!(
        copy.attempt_counts().await.unwrap(),
        store.attempt_counts().await.unwrap()
    );
    assert_eq!(
        copy.export_rows().await.unwrap(),
        store.export_rows().await.unwrap()
    );
    assert_eq!(
        copy.call_outcomes().await.unwrap(),
        store.call_outcomes().await.unwrap()
    );
    assert_eq!(
        copy.rejects().await.unwrap(),
        store.rejects().await.unwrap()
    );
    assert_eq!(copy.last_import().await.unwrap(), Some(done));
    assert_eq!(copy.conference_sid("room").await.unwrap(), Some(conference));
}

pub(super) async fn only_a_campaign_the_database_holds_is_opened_as_it_is(db: Database) {
    // Arrange
    let before = Store::open_existing_campaign(&db, "c").await.unwrap();
    let store = with_people(&db, 1).await;

    // Act
    let there = Store::open_existing_campaign(&db, "c").await.unwrap();
    let elsewhere = Store::open_existing_campaign(&db, "other").await.unwrap();

    // Assert
    assert!(before.is_none(), "no database yet, or no such campaign");
    let there = there.expect("the campaign");
    assert_eq!(there.campaign_key(), store.campaign_key());
    assert_eq!(there.state_counts().await.unwrap().pending, 1);
    assert!(elsewhere.is_none());
    assert!(
        Store::open_existing_campaign(&db, "other")
            .await
            .unwrap()
            .is_none(),
        "nothing was created"
    );
}
