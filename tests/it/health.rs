//! A worker that says when it is broken, and a receiver that exports only what it measures:
//! their `GET /metrics` as Prometheus' own parser reads it, and the worker's log lines.

use crate::metrics::{Sample, parse, process_wide, scrape, value};
use crate::outcomes::{free_port, serve, with_callbacks};
use crate::support::campaign::{
    TestCampaign, dialer_at, numbers, sandbox, sandbox_config, until_creates,
};
use crate::support::exit::{CONFIG, DONE};
use crate::support::tools;
use crate::worker::{stop, within};
use dialer::sandbox::{DEMO_ACCOUNT_SID, SandboxConfig};
use jiff::{SignedDuration, Timestamp};

/// `dialer worker --listen` on `campaign`'s file, with its metrics' URL.
fn worker_with_metrics(
    sandbox: &dialer::sandbox::Sandbox,
    campaign: &TestCampaign,
    idle: &str,
) -> (tokio::process::Child, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let worker = dialer_at(sandbox, &["worker", "--idle", idle, "--listen", &listen])
        .arg(&campaign.file)
        .spawn()
        .expect("dialer worker starts");
    (worker, format!("http://{listen}/metrics"))
}

/// The samples at `url`, or none while it does not answer.
async fn samples_at(url: &str) -> Vec<Sample> {
    match reqwest::get(url).await {
        Ok(answer) => parse(&answer.text().await.unwrap_or_default()),
        Err(_) => Vec::new(),
    }
}

fn failures(samples: &[Sample], reason: &str) -> f64 {
    value(
        samples,
        "dialer_campaign_failures_total",
        &[
            ("campaign", "test"),
            ("account_sid", DEMO_ACCOUNT_SID),
            ("reason", reason),
        ],
    )
}

fn up(samples: &[Sample]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.name == "dialer_campaign_up")
        .filter(|s| {
            s.labels.get("campaign").map(String::as_str) == Some("test")
                && s.labels.get("account_sid").map(String::as_str) == Some(DEMO_ACCOUNT_SID)
        })
        .map(|s| s.value)
}

/// A log line's own time, and the time it says the next try comes.
fn times(line: &str) -> (Timestamp, Timestamp) {
    let logged = line.split_whitespace().next().and_then(|t| t.parse().ok());
    let next = line
        .split("trying again at ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|t| t.parse().ok());
    match (logged, next) {
        (Some(logged), Some(next)) => (logged, next),
        _ => panic!("a timed line with its next try: {line}"),
    }
}

#[tokio::test]
async fn a_worker_whose_credentials_twilio_refuses_shows_the_campaign_down_and_backs_off() {
    // Arrange: the sandbox answers to another auth token than the worker's.
    tools::python(); // installed first, outside the waits
    let sandbox = sandbox(SandboxConfig {
        auth_token: "another-auth-token".to_string().into(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(3), "");

    // Act: the first attempt, and the second one a backoff later.
    let (worker, url) = worker_with_metrics(&sandbox, &campaign, "1s");
    let refused_twice = within(120, || async {
        failures(&samples_at(&url).await, "credentials_refused") >= 2.0
    })
    .await;
    let (samples, _) = scrape(&url).await;
    let out = stop(worker).await;

    // Assert: down, each refusal counted, and nobody called.
    assert!(refused_twice, "{out:?}");
    assert_eq!(up(&samples), Some(0.0));
    assert_eq!(failures(&samples, "credentials_refused"), 2.0);
    assert_eq!(failures(&samples, "campaign_file"), 0.0);
    let exit_code = value(&samples, "dialer_campaign_last_run_exit_code", &[]);
    assert_eq!(
        Some(exit_code as i32),
        CONFIG,
        "a run refused its credentials"
    );
    assert!(
        value(
            &samples,
            "dialer_campaign_last_run_end_timestamp_seconds",
            &[]
        ) > 0.0
    );
    assert_eq!(sandbox.stats().creates, 0);
    assert_eq!(out.code, DONE, "{out:?}");
    // One timed line per attempt, the second no earlier than the first announced, and its
    // wait twice the first's.
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|line| line.contains("Twilio refused the credentials"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    let (first_at, first_next) = times(lines[0]);
    let (second_at, second_next) = times(lines[1]);
    let second = SignedDuration::from_secs(1);
    assert!(second_at >= first_next - second, "{lines:?}");
    let first_wait = first_next.duration_since(first_at);
    let second_wait = second_next.duration_since(second_at);
    assert!(
        (second_wait - first_wait * 2).abs() <= second * 2,
        "{lines:?}"
    );
    assert!(first_wait >= SignedDuration::from_secs(29), "{lines:?}");
}

#[tokio::test]
async fn a_worker_whose_campaign_file_breaks_while_it_runs_shows_the_campaign_down_for_its_file() {
    // Arrange: a worker that dialed its campaign and waits for work.
    tools::python(); // installed first, outside the waits
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &numbers(3), "");
    let (worker, url) = worker_with_metrics(&sandbox, &campaign, "200ms");
    until_creates(&sandbox, 3).await;
    let was_up = within(30, || async { up(&samples_at(&url).await) == Some(1.0) }).await;

    // Act
    std::fs::write(&campaign.file, "name = \"test\"\ncps = \"thirty\"\n").expect("file broken");
    let failed = within(30, || async {
        failures(&samples_at(&url).await, "campaign_file") >= 1.0
    })
    .await;
    let (samples, text) = scrape(&url).await;
    let out = stop(worker).await;

    // Assert
    assert!(was_up, "up while it dials and waits: {out:?}");
    assert!(failed, "the broken file is counted: {out:?}");
    assert_eq!(up(&samples), Some(0.0), "{text}");
    assert_eq!(failures(&samples, "campaign_file"), 1.0, "{text}");
    assert_eq!(failures(&samples, "credentials_refused"), 0.0, "{text}");
    let line = out
        .stderr
        .lines()
        .find(|line| line.contains("trying again at"))
        .unwrap_or_else(|| panic!("a line with the next try: {}", out.stderr));
    times(line);
    assert!(line.contains("cps"), "{line}");
    assert_eq!(out.code, DONE, "{out:?}");
}

#[tokio::test]
async fn the_receivers_metrics_hold_what_it_measures_and_no_dialing_series() {
    // Arrange
    tools::python(); // installed first, outside the waits
    let sandbox = sandbox(sandbox_config()).await;
    let port = free_port();
    let campaign = TestCampaign::new(30, &numbers(3), &with_callbacks(port, ""));
    let _receiver = serve(&campaign, &sandbox, port).await;

    // Act
    let (samples, text) = scrape(&format!("http://127.0.0.1:{port}/metrics")).await;

    // Assert
    let names: std::collections::BTreeSet<&str> = samples.iter().map(|s| s.name.as_str()).collect();
    for dialing in [
        "dialer_pacing_rate",
        "dialer_cps_configured",
        "dialer_calls_created_total",
        "dialer_create_requests_total",
        "dialer_requests_in_flight",
        "dialer_twilio_reachable",
        "dialer_queue_time_seconds_count",
        "dialer_campaign_up",
    ] {
        assert!(!names.contains(dialing), "{dialing} in:\n{text}");
    }
    let accepted = [("campaign", "test"), ("result", "accepted")];
    assert!(names.contains("dialer_callbacks_total"), "{text}");
    assert_eq!(value(&samples, "dialer_callbacks_total", &accepted), 0.0);
    let build = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(value(&samples, "dialer_build_info", &build), 1.0, "{text}");
    assert!(
        value(&samples, "process_resident_memory_bytes", &[]) > 0.0,
        "{text}"
    );
    assert!(
        value(&samples, "process_start_time_seconds", &[]) > 0.0,
        "{text}"
    );
    assert!(samples.iter().any(process_wide));
}
