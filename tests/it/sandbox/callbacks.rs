//! Status callbacks: the requested events, in order, numbered, signed with the auth token,
//! by POST or by GET.

use crate::support::sandbox::{conference, eventually, participant, start};
use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri};
use bytes::Bytes;
use dialer::sandbox::{DEMO_AUTH_TOKEN, SandboxConfig};
use dialer::twilio::signature;
use std::sync::{Arc, Mutex};

/// What a status callback receiver got: the signature, the path and query, and the form.
type Received = Arc<Mutex<Vec<(String, String, Vec<(String, String)>)>>>;

async fn callback_receiver() -> (String, Received) {
    flaky_receiver(0).await
}

#[tokio::test]
async fn status_callbacks_arrive_in_order_numbered_and_signed_with_the_auth_token() {
    let (base, received) = callback_receiver().await;
    let (_sandbox, client) = start(SandboxConfig {
        unpaced: true,
        ring_ms: 300,
        talk_ms: 100,
        ..SandboxConfig::ephemeral()
    })
    .await;
    let url = format!("{base}/status");
    let events = [
        ("StatusCallback", url.as_str()),
        (
            "StatusCallbackEvent",
            "initiated ringing answered completed",
        ),
    ];

    client
        .create_participant(
            &conference("callbacks"),
            &participant("+15550100001", &events),
        )
        .await
        .unwrap();
    let all_four = eventually(|| async { received.lock().unwrap().len() == 4 }).await;

    assert!(all_four, "got {:?}", received.lock().unwrap());
    let received = received.lock().unwrap().clone();
    let param = |form: &[(String, String)], name: &str| {
        form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    };
    let statuses: Vec<_> = received
        .iter()
        .map(|(_, _, form)| param(form, "CallStatus").unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["initiated", "ringing", "in-progress", "completed"]
    );
    for (n, (signed, _, form)) in received.iter().enumerate() {
        assert_eq!(param(form, "SequenceNumber"), Some(n.to_string()));
        assert_eq!(
            param(form, "CallbackSource").as_deref(),
            Some("call-progress-events")
        );
        assert!(
            signature::verify(DEMO_AUTH_TOKEN, &url, form, signed),
            "bad signature on {form:?}"
        );
    }
    assert!(param(&received[3].2, "CallDuration").is_some());
}

#[tokio::test]
async fn get_status_callbacks_carry_the_params_in_the_query_and_sign_the_full_url() {
    let (base, received) = callback_receiver().await;
    let (_sandbox, client) = start(SandboxConfig {
        unpaced: true,
        ring_ms: 10,
        talk_ms: 10,
        ..SandboxConfig::ephemeral()
    })
    .await;
    let url = format!("{base}/status?campaign=7");
    let get = [
        ("StatusCallback", url.as_str()),
        ("StatusCallbackMethod", "GET"),
    ];

    client
        .create_participant(&conference("get"), &participant("+15550100001", &get))
        .await
        .unwrap();
    let arrived = eventually(|| async { received.lock().unwrap().len() == 1 }).await;

    assert!(arrived);
    let (signed, path_and_query, _) = received.lock().unwrap()[0].clone();
    assert!(
        path_and_query.contains("CallStatus=completed")
            && path_and_query.starts_with("/status?campaign=7&")
    );
    assert!(signature::verify(
        DEMO_AUTH_TOKEN,
        &format!("{base}{path_and_query}"),
        &[],
        &signed
    ));
}

/// A receiver that answers 503 to its first `failing` requests, then 204; returns its base
/// URL and how many requests it got, with the signature and query of each.
async fn flaky_receiver(failing: usize) -> (String, Received) {
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let store = received.clone();
    let receive = move |headers: HeaderMap, uri: Uri, body: Bytes| async move {
        let signature = headers
            .get("X-Twilio-Signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let form = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        let mut got = store.lock().unwrap();
        got.push((signature, uri.to_string(), form));
        if got.len() <= failing {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::NO_CONTENT
        }
    };
    tokio::spawn(async move { axum::serve(listener, Router::new().fallback(receive)).await });
    (base, received)
}

#[tokio::test]
async fn connection_overrides_retry_a_refused_callback_and_the_signature_covers_the_fragment() {
    let config = SandboxConfig {
        unpaced: true,
        ring_ms: 10,
        talk_ms: 10,
        ..SandboxConfig::ephemeral()
    };
    let (_sandbox, client) = start(config).await;
    let (retried_base, retried) = flaky_receiver(2).await;
    let (plain_base, plain) = flaky_receiver(2).await;
    let with_overrides = format!("{retried_base}/status?campaign=7#rc=3&rp=5xx");
    let without = format!("{plain_base}/status");
    for (n, url) in [&with_overrides, &without].into_iter().enumerate() {
        let only_completed = [("StatusCallback", url.as_str())];
        client
            .create_participant(
                &conference("overrides"),
                &participant(&format!("+1555010000{n}"), &only_completed),
            )
            .await
            .unwrap();
    }

    let delivered = eventually(|| async { retried.lock().unwrap().len() == 3 }).await;
    let tried_once = eventually(|| async { plain.lock().unwrap().len() == 1 }).await;
    // A try again would follow the 503 at once: give it the time to show up if it were made.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    assert!(
        delivered,
        "tried until answered: {:?}",
        retried.lock().unwrap()
    );
    assert!(tried_once);
    assert_eq!(
        plain.lock().unwrap().len(),
        1,
        "by default a 5xx is not tried again"
    );
    let tries = retried.lock().unwrap().clone();
    for (signed, path_and_query, form) in &tries {
        assert_eq!(
            path_and_query, "/status?campaign=7",
            "the fragment is not sent"
        );
        assert!(signature::verify(
            DEMO_AUTH_TOKEN,
            &with_overrides,
            form,
            signed
        ));
    }
}
