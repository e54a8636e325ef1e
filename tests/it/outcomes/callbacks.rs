//! `dialer serve`: signed callbacks recorded, forged ones refused, duplicates and late
//! events never undoing a newer status.

use super::{event_count, free_port, get, only_row, post, serve, with_callbacks};
use crate::support::campaign::{TestCampaign, numbers, sandbox, sandbox_config};
use crate::support::exit::DONE;
use crate::support::sandbox::eventually;
use dialer::domain::Cps;
use dialer::sandbox::{DEMO_AUTH_TOKEN, SandboxConfig};

#[tokio::test]
async fn signed_status_callbacks_record_who_answered_and_how_long_they_talked() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        machine: 1.0,
        ..sandbox_config()
    })
    .await;
    let port = free_port();
    let extra = with_callbacks(port, "[participant]\nmachine_detection = \"Enable\"\n");
    let campaign = TestCampaign::new(30, &numbers(3), &extra);
    let _receiver = serve(&campaign, &sandbox, port).await;

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    let all_ended = eventually(|| async {
        campaign
            .rows()
            .await
            .iter()
            .all(|r| r.call_status.map(|s| s.as_str()) == Some("completed"))
    });
    assert!(all_ended.await, "every call has its final status");
    for row in campaign.rows().await {
        assert!(
            row.answered_by
                .as_deref()
                .is_some_and(|a| a.starts_with("machine")),
            "{row:?}"
        );
        assert!(row.duration_secs.is_some(), "{row:?}");
        let call_sid = row.call_sid.expect("a call SID");
        assert_eq!(
            event_count(&campaign, call_sid.as_str()).await,
            4,
            "initiated, ringing, answered, completed"
        );
    }
}

#[tokio::test]
async fn a_forged_or_unsigned_callback_is_refused_with_403_and_nothing_is_recorded() {
    let sandbox = sandbox(sandbox_config()).await;
    let port = free_port();
    let campaign = TestCampaign::new(1, &numbers(1), &with_callbacks(port, ""));
    let receiver = serve(&campaign, &sandbox, port).await;
    let forged_sid = "CA00000000000000000000000000000001";
    let known_sid = "CA00000000000000000000000000000002";
    let event = |sid| {
        [
            ("CallSid", sid),
            ("CallStatus", "completed"),
            ("SequenceNumber", "3"),
        ]
    };

    let unsigned = post(&receiver.url, None, &event(forged_sid)).await;
    let wrong_token = post(
        &receiver.url,
        Some("not-the-auth-token"),
        &event(forged_sid),
    )
    .await;
    let signed = post(&receiver.url, Some(DEMO_AUTH_TOKEN), &event(known_sid)).await;

    assert_eq!((unsigned, wrong_token), (403, 403));
    assert_eq!(event_count(&campaign, forged_sid).await, 0);
    assert_eq!(
        signed, 200,
        "a call this campaign did not create is kept, not refused"
    );
    assert_eq!(event_count(&campaign, known_sid).await, 1);
}

#[tokio::test]
async fn duplicate_and_late_events_never_undo_a_newer_or_final_status() {
    let sandbox = sandbox(sandbox_config()).await;
    let port = free_port();
    // The sandbox's own callbacks go elsewhere: only the events posted here reach the receiver.
    let own = "[participant]\nstatus_callback = \"http://127.0.0.1:9/elsewhere\"\n";
    let campaign = TestCampaign::new(1, &numbers(1), &with_callbacks(port, own));
    let receiver = serve(&campaign, &sandbox, port).await;
    assert_eq!(campaign.run(&sandbox, &[]).await.code, DONE);
    let sid = only_row(&campaign).await.call_sid.expect("a call SID");
    let event = |seq, status| {
        [
            ("CallSid", sid.as_str()),
            ("CallStatus", status),
            ("SequenceNumber", seq),
        ]
    };
    let token = Some(DEMO_AUTH_TOKEN);

    let answered = [
        ("AnsweredBy", "human"),
        ("CallSid", sid.as_str()),
        ("CallStatus", "in-progress"),
        ("SequenceNumber", "2"),
    ];
    assert_eq!(post(&receiver.url, token, &answered).await, 200);
    assert_eq!(
        get(&receiver.url, DEMO_AUTH_TOKEN, &event("0", "initiated")).await,
        200
    );
    let after_late_initiated = only_row(&campaign).await.call_status;
    assert_eq!(post(&receiver.url, token, &answered).await, 200);
    let mut completed = event("3", "completed").to_vec();
    completed.push(("CallDuration", "42"));
    assert_eq!(post(&receiver.url, token, &completed).await, 200);
    assert_eq!(
        post(&receiver.url, token, &event("1", "ringing")).await,
        200
    );

    assert_eq!(
        after_late_initiated.map(|s| s.as_str()),
        Some("in-progress")
    );
    let row = only_row(&campaign).await;
    assert_eq!(row.call_status.map(|s| s.as_str()), Some("completed"));
    assert_eq!(row.duration_secs, Some(42));
    assert_eq!(row.answered_by.as_deref(), Some("human"));
    assert_eq!(
        event_count(&campaign, sid.as_str()).await,
        4,
        "the duplicate is kept once"
    );
}
