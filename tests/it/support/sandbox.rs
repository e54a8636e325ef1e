//! An in-process sandbox with the real `TwilioClient` pointed at it, and the small builders
//! the sandbox tests share (requests, raw HTTP, waiting for something to become true).

use dialer::domain::{AccountSid, CallSid, ConferenceSid, ConferenceTarget, Cps};
use dialer::sandbox::{DEMO_AUTH_TOKEN, Sandbox, SandboxConfig};
use dialer::twilio::{ClientConfig, CreateParticipant, Credentials, Participant, TwilioClient};
use std::future::Future;
use std::time::{Duration, Instant};

pub const FROM: &str = "+15017122661";

/// A sandbox on an ephemeral port and a client holding its demo credentials.
pub async fn start(config: SandboxConfig) -> (Sandbox, TwilioClient) {
    let sandbox = Sandbox::start(config).await.expect("the sandbox starts");
    let client = client(&sandbox, DEMO_AUTH_TOKEN, Duration::from_secs(10));
    (sandbox, client)
}

pub fn client(sandbox: &Sandbox, token: &str, request_timeout: Duration) -> TwilioClient {
    let config = ClientConfig {
        api_base: sandbox.base_url().parse().expect("a URL"),
        connect_timeout: Duration::from_secs(5),
        request_timeout,
    };
    let account = sandbox.config().account_sid.clone();
    TwilioClient::new(config, Credentials::with_auth_token(account, token.into()))
        .expect("a client")
}

/// Create Participant from `To` and extra wire parameters, validated as the client does.
pub fn participant(to: &str, extra: &[(&str, &str)]) -> CreateParticipant {
    let mut pairs = vec![
        ("From".to_owned(), FROM.to_owned()),
        ("To".to_owned(), to.to_owned()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    CreateParticipant::from_form(&pairs).expect("valid parameters")
}

pub fn conference(name: &str) -> ConferenceTarget {
    ConferenceTarget::parse(name).expect("a conference name")
}

/// `{base}/2010-04-01/Accounts/{account}/{tail}`.
pub fn api_url(sandbox: &Sandbox, account: &AccountSid, tail: &str) -> String {
    format!(
        "{}/2010-04-01/Accounts/{account}/{tail}",
        sandbox.base_url()
    )
}

/// A plain HTTP client, for requests the typed client would refuse to send.
pub fn raw_http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client")
}

/// Polls `check` until it holds or 10 s pass; returns whether it held. Assertions are made on
/// the outcome, never on how long it took.
pub async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Paced at `n` calls per second, as an account with that CPS.
pub fn cps(n: u32) -> SandboxConfig {
    SandboxConfig {
        cps: Cps::new(n).unwrap(),
        ..SandboxConfig::ephemeral()
    }
}

/// Unpaced and long calls: participants stay put while a test looks at them.
pub fn steady() -> SandboxConfig {
    SandboxConfig {
        unpaced: true,
        talk_ms: 600_000,
        ..SandboxConfig::ephemeral()
    }
}

pub fn conference_of(p: &Participant) -> ConferenceSid {
    p.conference_sid.clone().unwrap()
}

pub fn call_of(p: &Participant) -> CallSid {
    p.call_sid.clone().unwrap()
}

/// A queue_time a little under `expected`: time passing between two creates only shortens it.
pub fn assert_near(actual: Option<u64>, expected: u64) {
    let actual = actual.expect("a queue_time");
    assert!(
        actual <= expected && actual + 300 >= expected,
        "queue_time {actual}, expected about {expected}"
    );
}
