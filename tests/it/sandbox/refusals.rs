//! What the sandbox refuses, with Twilio's status, code and body: bad credentials, invalid
//! parameters, unknown or full conferences, duplicate labels, and requests over the cap.

use crate::support::sandbox::{api_url, client, conference, participant, raw_http, start, steady};
use axum::http::StatusCode;
use dialer::sandbox::{DEMO_AUTH_TOKEN, SandboxConfig};
use dialer::twilio::{ApiError, Disposition, ErrorBody};
use std::time::Duration;

#[tokio::test]
async fn wrong_credentials_abort() {
    let (sandbox, _) = start(steady()).await;
    let intruder = client(&sandbox, "not-the-token", Duration::from_secs(5));

    let error = intruder
        .create_participant(&conference("x"), &participant("+15550100001", &[]))
        .await
        .unwrap_err();

    assert_eq!(
        (error.http_status(), error.code()),
        (Some(401), Some(20003))
    );
    assert_eq!(error.disposition(), Disposition::Abort);
}

#[tokio::test]
async fn an_invalid_parameter_sent_raw_gets_a_twilio_error_body() {
    let (sandbox, _) = start(steady()).await;
    let url = api_url(
        &sandbox,
        &sandbox.config().account_sid,
        "Conferences/raw/Participants.json",
    );
    let form = [
        ("From", "+15017122661"),
        ("To", "+15550100001"),
        ("Timeout", "4"),
    ];

    let response = raw_http()
        .post(url)
        .basic_auth(sandbox.config().account_sid.as_str(), Some(DEMO_AUTH_TOKEN))
        .form(&form)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(body.code, Some(20001));
    assert_eq!(
        body.message,
        "invalid Timeout: must be from 5 to 600, got 4"
    );
    assert_eq!(body.status, 400);
}

#[tokio::test]
async fn numbers_with_the_invalid_prefix_fail_for_good_and_unknown_conferences_are_not_found() {
    let config = SandboxConfig {
        invalid_to_prefix: Some("+1555000".into()),
        ..steady()
    };
    let (_sandbox, client) = start(config).await;
    let unknown = conference("CF0123456789abcdef0123456789abcdef");

    let invalid = client
        .create_participant(&conference("x"), &participant("+15550001234", &[]))
        .await
        .unwrap_err();
    let missing = client
        .create_participant(&unknown, &participant("+15550100001", &[]))
        .await
        .unwrap_err();

    assert_eq!(
        (invalid.code(), invalid.disposition()),
        (Some(21211), Disposition::Fail)
    );
    assert_eq!(
        (missing.http_status(), missing.code()),
        (Some(404), Some(20404))
    );
}

#[tokio::test]
async fn a_full_conference_refuses_with_16020_and_a_duplicate_label_with_16025() {
    let (_sandbox, client) = start(steady()).await;
    let room = conference("small");
    let two = [("MaxParticipants", "2"), ("Label", "a")];
    client
        .create_participant(&room, &participant("+15550100001", &two))
        .await
        .unwrap();

    let duplicate = client
        .create_participant(&room, &participant("+15550100002", &[("Label", "a")]))
        .await
        .unwrap_err();
    client
        .create_participant(&room, &participant("+15550100003", &[]))
        .await
        .unwrap();
    let full = client
        .create_participant(&room, &participant("+15550100004", &[]))
        .await
        .unwrap_err();

    assert_eq!(
        (duplicate.code(), duplicate.disposition()),
        (Some(16025), Disposition::Fail)
    );
    assert_eq!(full.code(), Some(16020));
    assert!(matches!(full.disposition(), Disposition::Retry { .. }));
}

#[tokio::test]
async fn requests_over_the_in_flight_cap_get_429_with_retry_after() {
    let config = SandboxConfig {
        max_in_flight: 1,
        latency_ms: 500,
        ..steady()
    };
    let (sandbox, client) = start(config).await;
    let room = conference("cap");
    let requests: Vec<_> = (0..5)
        .map(|i| participant(&format!("+1555010000{i}"), &[]))
        .collect();

    let results =
        futures::future::join_all(requests.iter().map(|r| client.create_participant(&room, r)))
            .await;

    let throttled: Vec<&ApiError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(!throttled.is_empty(), "no request was refused");
    for error in &throttled {
        assert_eq!(error.code(), Some(20429));
        assert_eq!(
            error.disposition(),
            Disposition::Retry {
                after: Some(Duration::from_secs(1))
            }
        );
    }
    let stats = sandbox.stats();
    assert_eq!(stats.too_many_requests, throttled.len() as u64);
    assert_eq!(stats.creates, 5 - throttled.len() as u64);
}
