//! Injected faults as the client meets them (a dropped answer, a 500, a hanging answer, an
//! outage, a number that always gets a 500) and the stats that count what the sandbox did.

use crate::support::sandbox::{api_url, client, conference, participant, raw_http, start, steady};
use dialer::sandbox::{DEMO_AUTH_TOKEN, SandboxConfig, SandboxStats};
use dialer::twilio::{ApiError, Disposition};
use std::time::Duration;

#[tokio::test]
async fn a_dropped_answer_is_a_transport_error_yet_the_call_is_in_the_call_log() {
    let (sandbox, client) = start(SandboxConfig {
        share_drop: 1.0,
        ..steady()
    })
    .await;
    let since = jiff::Timestamp::now();
    let url = api_url(
        &sandbox,
        &sandbox.config().account_sid,
        "Conferences/drop/Participants.json",
    );

    let error = client
        .create_participant(&conference("drop"), &participant("+15550100001", &[]))
        .await
        .unwrap_err();
    let raw = raw_http()
        .post(url)
        .basic_auth(sandbox.config().account_sid.as_str(), Some(DEMO_AUTH_TOKEN))
        .form(&[("From", "+15017122661"), ("To", "+15550100002")])
        .send()
        .await;

    assert!(matches!(error, ApiError::Dropped(_)), "{error:?}");
    assert_eq!(error.disposition(), Disposition::Unknown);
    assert!(raw.is_err(), "a status line arrived: {raw:?}");
    let calls = client
        .list_calls_to(
            &dialer::domain::Endpoint::parse("+15550100001").unwrap(),
            None,
            since,
        )
        .await
        .unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(sandbox.stats().drops, 2);
}

#[tokio::test]
async fn a_server_error_is_unknown_to_the_client_and_creates_nothing() {
    let (sandbox, client) = start(SandboxConfig {
        share_5xx: 1.0,
        ..steady()
    })
    .await;
    let since = jiff::Timestamp::now();

    let error = client
        .create_participant(&conference("5xx"), &participant("+15550100001", &[]))
        .await
        .unwrap_err();

    assert_eq!(
        (error.http_status(), error.code()),
        (Some(500), Some(20500))
    );
    assert_eq!(error.disposition(), Disposition::Unknown);
    assert!(
        client
            .list_calls_to(
                &dialer::domain::Endpoint::parse("+15550100001").unwrap(),
                None,
                since
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(sandbox.stats().creates, 0);
}

#[tokio::test]
async fn during_an_outage_connections_are_refused_and_afterwards_the_same_port_answers_with_its_record()
 {
    let (sandbox, client) = start(steady()).await;
    let first = participant("+15550100001", &[]);
    client
        .create_participant(&conference("outage"), &first)
        .await
        .unwrap();

    sandbox.refuse_connections_for(Duration::from_millis(1_500));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = client
        .create_participant(&conference("outage"), &participant("+15550100002", &[]))
        .await
        .unwrap_err();
    tokio::time::sleep(Duration::from_millis(1_800)).await;
    let after = client
        .create_participant(&conference("outage"), &participant("+15550100003", &[]))
        .await;

    assert!(matches!(refused, ApiError::Connect { .. }), "{refused:?}");
    assert!(after.is_ok(), "{after:?}");
    let stats = sandbox.stats();
    assert_eq!(
        stats.creates, 2,
        "the record from before the outage is kept"
    );
    assert_eq!(stats.creates_by_to.get("+15550100002"), None);
}

#[tokio::test]
async fn the_outage_endpoint_closes_the_port_for_the_seconds_asked() {
    let (sandbox, client) = start(steady()).await;
    let url = format!("{}/sandbox/outage?seconds=1", sandbox.base_url());

    let asked = raw_http().post(url).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let during = client
        .create_participant(&conference("outage"), &participant("+15550100001", &[]))
        .await;
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let after = client
        .create_participant(&conference("outage"), &participant("+15550100001", &[]))
        .await;

    assert_eq!(asked.status().as_u16(), 202);
    assert!(
        matches!(during, Err(ApiError::Connect { .. })),
        "{during:?}"
    );
    assert!(after.is_ok(), "{after:?}");
}

#[tokio::test]
async fn a_number_marked_for_server_errors_gets_a_500_to_every_create_and_others_do_not() {
    let (sandbox, client) = start(SandboxConfig {
        server_error_to_prefix: Some("+1555010009".into()),
        ..steady()
    })
    .await;

    let mut errors = Vec::new();
    for _ in 0..3 {
        let e = client
            .create_participant(&conference("doomed"), &participant("+15550100099", &[]))
            .await
            .unwrap_err();
        errors.push((e.http_status(), e.code()));
    }
    let other = client
        .create_participant(&conference("doomed"), &participant("+15550100001", &[]))
        .await;

    assert_eq!(errors, [(Some(500), Some(20500)); 3]);
    assert!(other.is_ok(), "{other:?}");
    assert_eq!(
        (sandbox.stats().creates, sandbox.stats().server_errors),
        (1, 3)
    );
}

#[tokio::test]
async fn a_hanging_answer_times_out_as_unknown_but_the_call_exists() {
    let (sandbox, _) = start(SandboxConfig {
        share_hang: 1.0,
        ..steady()
    })
    .await;
    let impatient = client(&sandbox, DEMO_AUTH_TOKEN, Duration::from_millis(300));
    let patient = client(&sandbox, DEMO_AUTH_TOKEN, Duration::from_secs(10));
    let since = jiff::Timestamp::now();

    let error = impatient
        .create_participant(&conference("hang"), &participant("+15550100001", &[]))
        .await
        .unwrap_err();

    assert!(matches!(error, ApiError::Timeout(_)), "{error:?}");
    assert_eq!(error.disposition(), Disposition::Unknown);
    assert_eq!(
        patient
            .list_calls_to(
                &dialer::domain::Endpoint::parse("+15550100001").unwrap(),
                None,
                since
            )
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(sandbox.stats().hangs, 1);
}

#[tokio::test]
async fn the_stats_endpoint_counts_creates_per_to_number_without_authentication() {
    let (sandbox, client) = start(steady()).await;
    for to in ["+15550100001", "+15550100002", "+15550100001"] {
        client
            .create_participant(&conference("stats"), &participant(to, &[]))
            .await
            .unwrap();
    }

    let stats: SandboxStats = raw_http()
        .get(format!("{}/sandbox/stats", sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(stats.creates, 3);
    assert_eq!(stats.creates_by_to.get("+15550100001"), Some(&2));
    assert_eq!(stats.creates_by_to.get("+15550100002"), Some(&1));
    assert_eq!(stats.responses_by_status.get(&201), Some(&3));
    assert_eq!(
        stats.creates_per_second.iter().map(|(_, n)| n).sum::<u64>(),
        3
    );
}
