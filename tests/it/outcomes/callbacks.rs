//! `dialer serve`: signed callbacks recorded, forged ones refused, duplicates and late
//! events never undoing a newer status.

use super::{
    callbacks_counted, event_count, free_port, get, only_row, post, serve, with_callbacks,
};
use crate::support::campaign::{TestCampaign, numbers, sandbox, sandbox_config};
use crate::support::exit::DONE;
use crate::support::sandbox::eventually;
use dialer::domain::{CallSid, Cps, Endpoint, Label, LineState, RowState};
use dialer::sandbox::{DEMO_AUTH_TOKEN, SandboxConfig};
use dialer::store::{Claimed, ImportPass, NewRow, Outcome};
use dialer::twilio::RowOverrides;

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

/// The people of `numbers(n)`, imported into `campaign`'s database and each claimed for a
/// first attempt whose answer was lost: rows in doubt, as a run that Twilio hung on leaves them.
async fn rows_in_doubt(
    campaign: &TestCampaign,
    n: usize,
) -> (dialer::domain::CampaignKey, Vec<Claimed>) {
    let store = campaign.open_store().await;
    let people: Vec<NewRow> = (0..n)
        .map(|i| NewRow {
            line: i as u64 + 2,
            to: Endpoint::parse(&format!("+1415555{i:04}")).unwrap(),
            label: Label::parse(&format!("person-{i}")).unwrap(),
            params: RowOverrides::from_json("{}").unwrap(),
            zone: None,
            jurisdictions: None,
            person: None,
        })
        .collect();
    store
        .import_rows(&mut ImportPass::default(), &people)
        .await
        .unwrap();
    let mut claimed = Vec::new();
    for _ in 0..n {
        let row = store.claim_next().await.unwrap().expect("a due row");
        let hung = Outcome::Unknown {
            check_at: store.now_ms() + 3_600_000,
            http_status: None,
            code: None,
            message: "the request timed out".into(),
        };
        store.record(&row, &hung).await.unwrap();
        claimed.push(row);
    }
    let key = store.campaign_key();
    store.close().await;
    (key, claimed)
}

#[tokio::test]
async fn two_campaigns_sharing_a_receiver_are_never_settled_by_each_others_calls() {
    // Arrange: two copies of one campaign file (same list, same [callbacks]), each with its own
    // database. The second's rows are in doubt on the same row ids and attempts as the first's
    // will be, and its receiver is the one listening on the shared URL.
    let n = 5;
    let sandbox = sandbox(sandbox_config()).await;
    let port = free_port();
    let first = TestCampaign::new(30, &numbers(n), &with_callbacks(port, ""));
    let second = TestCampaign::new(30, &numbers(n), &with_callbacks(port, ""));
    let (key, in_doubt) = rows_in_doubt(&second, n).await;
    let receiver = serve(&second, &sandbox, port).await;

    // Act: the first campaign calls the same people; Twilio reports to the shared URL.
    let out = first.run(&sandbox, &[]).await;
    let all_strays =
        eventually(|| async { callbacks_counted(&receiver.url, "stray").await == 4 * n as u64 })
            .await;
    // Then the second campaign's own calls report: one with its callee, one with another.
    let token_url = |row: &Claimed| {
        format!(
            "{}?dialer_attempt={key}-{}-{}",
            receiver.url, row.row_id, row.attempt
        )
    };
    let own_sid = "CA000000000000000000000000000000a1";
    let event = |sid: &'static str, to: &'static str| {
        [
            ("CallSid", sid),
            ("CallStatus", "ringing"),
            ("SequenceNumber", "1"),
            ("From", "+15017122661"),
            ("To", to),
        ]
    };
    let own = post(
        &token_url(&in_doubt[0]),
        Some(DEMO_AUTH_TOKEN),
        &event(own_sid, "+14155550000"),
    )
    .await;
    let misnamed = post(
        &token_url(&in_doubt[1]),
        Some(DEMO_AUTH_TOKEN),
        &event("CA000000000000000000000000000000a2", "+14155559999"),
    )
    .await;

    // Assert
    assert_eq!(out.code, DONE, "{out:?}");
    assert!(
        all_strays,
        "every event of the first campaign's calls is a stray here"
    );
    assert_eq!(
        callbacks_counted(&receiver.url, "forged").await,
        0,
        "all genuine"
    );
    assert_eq!((own, misnamed), (200, 200));
    assert_eq!(
        callbacks_counted(&receiver.url, "stray").await,
        4 * n as u64 + 1
    );
    let theirs: Vec<CallSid> = first
        .rows()
        .await
        .into_iter()
        .filter_map(|r| r.call_sid)
        .collect();
    assert_eq!(theirs.len(), n, "the first campaign called everyone");
    for sid in &theirs {
        assert_eq!(
            event_count(&second, sid.as_str()).await,
            0,
            "{sid} kept nowhere here"
        );
    }
    let rows = second.rows().await;
    let states: Vec<LineState> = rows.iter().map(|r| r.state).collect();
    let mut expected = vec![LineState::Row(RowState::Unknown); n];
    expected[0] = LineState::Row(RowState::Created);
    assert_eq!(states, expected, "only its own call settled a row");
    assert_eq!(
        rows[0].call_sid.as_ref().map(CallSid::as_str),
        Some(own_sid)
    );
}
