//! Participants, calls and conferences as a dialer sees them: CPS queueing, fetch by CallSid
//! or label, update, remove, paged lists, the call log, and calls ending on their own.

use crate::support::sandbox::{
    assert_near, call_of, conference, conference_of, cps, eventually, participant, start, steady,
};
use dialer::domain::ParticipantId;
use dialer::sandbox::SandboxConfig;
use dialer::twilio::{ListFilter, Participant, ParticipantUpdate};

#[tokio::test]
async fn a_friendly_name_conference_opens_on_first_use_and_the_second_create_at_one_cps_waits_a_second()
 {
    let (_sandbox, client) = start(cps(1)).await;
    let room = conference("renewals");

    let first = client
        .create_participant(&room, &participant("+15550100001", &[]))
        .await
        .unwrap();
    let second = client
        .create_participant(&room, &participant("+15550100002", &[]))
        .await
        .unwrap();

    assert_eq!(first.queue_time.as_deref(), Some("0"));
    assert_eq!(first.status.as_deref(), Some("queued"));
    assert_near(second.queue_time_ms(), 1000);
    assert_eq!(first.conference_sid, second.conference_sid);
}

#[tokio::test]
async fn three_creates_at_two_cps_are_queued_half_a_second_apart() {
    let (_sandbox, client) = start(cps(2)).await;
    let room = conference("pace");

    let mut queue_times = Vec::new();
    for to in ["+15550100001", "+15550100002", "+15550100003"] {
        queue_times.push(
            client
                .create_participant(&room, &participant(to, &[]))
                .await
                .unwrap()
                .queue_time_ms(),
        );
    }

    assert_eq!(queue_times[0], Some(0));
    assert_near(queue_times[1], 500);
    assert_near(queue_times[2], 1000);
}

#[tokio::test]
async fn a_participant_is_fetched_by_call_sid_and_by_label_and_updates_show() {
    let (_sandbox, client) = start(steady()).await;
    let created = client
        .create_participant(
            &conference("fetch"),
            &participant("+15550100001", &[("Label", "row-1")]),
        )
        .await
        .unwrap();
    let room = conference_of(&created);
    let update = ParticipantUpdate {
        muted: Some(true),
        hold: Some(true),
        ..ParticipantUpdate::default()
    };

    let by_sid = client
        .fetch_participant(&room, &ParticipantId::CallSid(call_of(&created)))
        .await
        .unwrap();
    let label = ParticipantId::parse("row-1").unwrap();
    client
        .update_participant(&room, &label, &update)
        .await
        .unwrap();
    let by_label = client.fetch_participant(&room, &label).await.unwrap();

    assert_eq!(by_sid.call_sid, created.call_sid);
    assert_eq!(by_label.call_sid, created.call_sid);
    assert_eq!((by_sid.muted, by_sid.hold), (Some(false), Some(false)));
    assert_eq!((by_label.muted, by_label.hold), (Some(true), Some(true)));
}

#[tokio::test]
async fn lists_filter_and_page_and_the_client_follows_every_next_page_uri() {
    let (_sandbox, client) = start(steady()).await;
    let mut created = Vec::new();
    for (i, muted) in [true, false, true, false, false].into_iter().enumerate() {
        let request = participant(&format!("+1555010000{i}"), &[("Muted", &muted.to_string())]);
        created.push(
            client
                .create_participant(&conference("paging"), &request)
                .await
                .unwrap(),
        );
    }
    let room = conference_of(&created[0]);
    let two_a_page = ListFilter {
        page_size: Some(2),
        ..ListFilter::default()
    };

    let first_page = client
        .list_participants_page(&room, &two_a_page)
        .await
        .unwrap();
    let everyone = client.list_participants(&room, &two_a_page).await.unwrap();
    let muted = client
        .list_participants(
            &room,
            &ListFilter {
                muted: Some(true),
                ..two_a_page
            },
        )
        .await
        .unwrap();

    assert_eq!(first_page.participants.len(), 2);
    assert!(first_page.meta.next_page_uri.is_some());
    let sids = |list: &[Participant]| list.iter().map(|p| p.call_sid.clone()).collect::<Vec<_>>();
    assert_eq!(sids(&everyone), sids(&created));
    assert_eq!(
        sids(&muted),
        sids(&[created[0].clone(), created[2].clone()])
    );
}

#[tokio::test]
async fn a_removed_participant_is_gone_and_its_call_completed() {
    let (_sandbox, client) = start(steady()).await;
    let created = client
        .create_participant(&conference("remove"), &participant("+15550100001", &[]))
        .await
        .unwrap();
    let id = ParticipantId::CallSid(call_of(&created));

    client
        .delete_participant(&conference_of(&created), &id)
        .await
        .unwrap();
    let fetched = client
        .fetch_participant(&conference_of(&created), &id)
        .await;

    assert!(fetched.unwrap_err().is_not_found());
    assert_eq!(
        client
            .fetch_call(&call_of(&created))
            .await
            .unwrap()
            .status
            .as_deref(),
        Some("completed")
    );
}

#[tokio::test]
async fn a_queued_call_is_found_by_to_and_time_before_it_starts() {
    let (_sandbox, client) = start(cps(1)).await;
    let since = jiff::Timestamp::now();
    for to in ["+15550100001", "+15550100002"] {
        client
            .create_participant(&conference("queue"), &participant(to, &[]))
            .await
            .unwrap();
    }

    let calls = client
        .list_calls_to(
            &dialer::domain::Endpoint::parse("+15550100002").unwrap(),
            None,
            since,
        )
        .await
        .unwrap();

    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].status.as_deref(), Some("queued"));
    assert_eq!(calls[0].start_time, None);
    assert_eq!(calls[0].to.as_deref(), Some("+15550100002"));
}

#[tokio::test]
async fn a_call_leaves_the_conference_after_ring_and_talk_time_but_stays_in_the_call_log() {
    let (_sandbox, client) = start(SandboxConfig {
        unpaced: true,
        ring_ms: 50,
        talk_ms: 100,
        ..SandboxConfig::ephemeral()
    })
    .await;
    let created = client
        .create_participant(&conference("short"), &participant("+15550100001", &[]))
        .await
        .unwrap();
    let id = ParticipantId::CallSid(call_of(&created));

    let left = eventually(|| async {
        matches!(client.fetch_participant(&conference_of(&created), &id).await, Err(e) if e.is_not_found())
    })
    .await;

    assert!(left, "the participant never left");
    let call = client.fetch_call(&call_of(&created)).await.unwrap();
    assert_eq!(call.status.as_deref(), Some("completed"));
    assert_eq!(call.duration.as_deref(), Some("0"));
    assert!(call.start_time.is_some() && call.end_time.is_some());
}

#[tokio::test]
async fn a_busy_callee_ends_the_call_busy() {
    let config = SandboxConfig {
        unpaced: true,
        ring_ms: 50,
        busy: 1.0,
        ..SandboxConfig::ephemeral()
    };
    let (_sandbox, client) = start(config).await;
    let created = client
        .create_participant(&conference("busy"), &participant("+15550100001", &[]))
        .await
        .unwrap();

    let ended = eventually(|| async {
        client
            .fetch_call(&call_of(&created))
            .await
            .unwrap()
            .status
            .as_deref()
            == Some("busy")
    })
    .await;

    assert!(ended, "the call never ended busy");
}
