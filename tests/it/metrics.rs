//! Metrics as Prometheus reads them: a cron run's `--metrics-file`, `dialer serve`'s and
//! `dialer worker`'s `GET /metrics`, parsed by Prometheus' own Python client, agree with what
//! the sandbox saw and what the campaign database holds.

use crate::outcomes::{free_port, post, serve, with_callbacks};
use crate::support::campaign::{TestCampaign, dialer_at, numbers, output, sandbox, sandbox_config};
use crate::support::exit::{DONE, DONE_WITH_FAILURES};
use crate::support::sandbox::eventually;
use crate::support::tools;
use dialer::domain::Cps;
use dialer::sandbox::{DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, SandboxConfig};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

/// One sample, as `prometheus_client.parser` gives it.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Reads exposition text with Prometheus' Python client (its parser fails on malformed text).
pub(crate) fn parse(text: &str) -> Vec<Sample> {
    const SCRIPT: &str = "import json, sys\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        print(json.dumps([{'name': s.name, 'labels': s.labels, 'value': s.value}\n\
            for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]))\n";
    let mut child = Command::new(tools::python())
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("text written");
    let out = child.wait_with_output().expect("python ends");
    assert!(
        out.status.success(),
        "Prometheus' parser refused the metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the parser's JSON")
}

/// The value of `name` with these labels (and any others), summed over matching samples.
pub(crate) fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v))
        })
        .map(|s| s.value)
        .sum()
}

/// Whether a series is the whole process's (its build, its CPU and memory), not a campaign's.
pub(crate) fn process_wide(sample: &Sample) -> bool {
    sample.name == "dialer_build_info" || sample.name.starts_with("process_")
}

/// Every campaign's series is the campaign's on the sandbox's account, and no phone number
/// is anywhere.
fn assert_labelled_without_numbers(samples: &[Sample], text: &str) {
    assert!(!samples.is_empty());
    for sample in samples.iter().filter(|s| !process_wide(s)) {
        assert_eq!(
            sample.labels.get("campaign").map(String::as_str),
            Some("test"),
            "{sample:?}"
        );
        assert_eq!(
            sample.labels.get("account_sid").map(String::as_str),
            Some(DEMO_ACCOUNT_SID),
            "{sample:?}"
        );
    }
    assert!(!text.contains("+1"), "a number in the metrics:\n{text}");
}

pub(crate) async fn scrape(url: &str) -> (Vec<Sample>, String) {
    let text = reqwest::get(url)
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    (parse(&text), text)
}

#[tokio::test]
async fn a_runs_metrics_file_and_the_receivers_metrics_agree_with_the_sandbox_and_the_database() {
    tools::python(); // installed first, outside the timed waits
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(20).unwrap(),
        share_429: 0.15,
        invalid_to_prefix: Some("+1415555001".into()),
        busy: 0.3,
        no_answer: 0.2,
        ..sandbox_config()
    })
    .await;
    let port = free_port();
    let campaign = TestCampaign::new(20, &numbers(30), &with_callbacks(port, ""));
    let receiver = serve(&campaign, &sandbox, port).await;
    let file = campaign.dir.path().join("dialer.prom");

    let out = campaign
        .run(&sandbox, &["--metrics-file", file.to_str().unwrap()])
        .await;

    assert_eq!(out.code, DONE_WITH_FAILURES, "{out:?}");
    let stats = sandbox.stats();
    let text = std::fs::read_to_string(&file).expect("the metrics file");
    let samples = parse(&text);
    assert_labelled_without_numbers(&samples, &text);
    let creates = stats.creates as f64;
    assert!(creates >= 20.0 && stats.too_many_requests > 0, "{stats:?}");
    assert_eq!(value(&samples, "dialer_calls_created_total", &[]), creates);
    let requests = |outcome, code| {
        value(
            &samples,
            "dialer_create_requests_total",
            &[("outcome", outcome), ("code", code)],
        )
    };
    assert_eq!(requests("created", ""), creates);
    assert_eq!(requests("retry", "20429"), stats.too_many_requests as f64);
    assert_eq!(requests("failed", "21211"), 10.0, "the ten invalid numbers");
    assert_eq!(
        value(&samples, "dialer_queue_time_seconds_count", &[]),
        creates
    );
    let queued: u64 = stats.queue_times_ms.iter().sum();
    let summed = value(&samples, "dialer_queue_time_seconds_sum", &[]);
    assert!(
        (summed - queued as f64 / 1000.0).abs() < 1e-6,
        "{summed} vs {queued} ms"
    );
    let rows = |state| value(&samples, "dialer_rows", &[("state", state)]);
    assert_eq!(
        (rows("created"), rows("failed"), rows("pending")),
        (creates, 10.0, 0.0)
    );
    assert_eq!(value(&samples, "dialer_cps_configured", &[]), 20.0);
    assert_eq!(value(&samples, "dialer_pacing_rate", &[]), 20.0);
    assert_eq!(value(&samples, "dialer_requests_in_flight", &[]), 0.0);
    assert_eq!(value(&samples, "dialer_twilio_reachable", &[]), 1.0);

    // The receiver: every call's end counted once, by its status, as the database has it.
    let metrics_url = format!("http://127.0.0.1:{port}/metrics");
    let ended = eventually(|| async {
        let (samples, _) = scrape(&metrics_url).await;
        value(&samples, "dialer_call_outcomes_total", &[]) == creates
    });
    assert!(ended.await, "every created call's end is counted");
    let report = crate::outcomes::report_json(&campaign, &sandbox).await;
    let (samples, text) = scrape(&metrics_url).await;
    assert_labelled_without_numbers(&samples, &text);
    for (status, key) in [
        ("completed", "completed"),
        ("busy", "busy"),
        ("no-answer", "no_answer"),
    ] {
        assert_eq!(
            value(
                &samples,
                "dialer_call_outcomes_total",
                &[("status", status)]
            ),
            report["calls"][key].as_f64().unwrap(),
            "{status}"
        );
    }
    assert!(
        value(
            &samples,
            "dialer_callbacks_total",
            &[("result", "accepted")]
        ) >= creates
    );
    assert_eq!(
        value(&samples, "dialer_rows", &[("state", "created")]),
        creates
    );

    // A forged callback and a duplicate are counted as such.
    let event = [
        ("CallSid", "CA00000000000000000000000000000002"),
        ("CallStatus", "completed"),
        ("SequenceNumber", "3"),
    ];
    let before = |result| value(&samples, "dialer_callbacks_total", &[("result", result)]);
    let (forged, duplicate) = (before("forged"), before("duplicate"));
    assert_eq!(post(&receiver.url, None, &event).await, 403);
    assert_eq!(
        post(&receiver.url, Some(DEMO_AUTH_TOKEN), &event).await,
        200
    );
    assert_eq!(
        post(&receiver.url, Some(DEMO_AUTH_TOKEN), &event).await,
        200
    );
    let (samples, _) = scrape(&metrics_url).await;
    let after = |result| value(&samples, "dialer_callbacks_total", &[("result", result)]);
    assert_eq!(
        (after("forged"), after("duplicate")),
        (forged + 1.0, duplicate + 1.0)
    );
}

#[tokio::test]
async fn a_workers_metrics_count_what_its_runs_created() {
    tools::python(); // installed first, outside the timed waits
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(12), "");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let worker = dialer_at(&sandbox, &["worker", "--idle", "1s", "--listen", &listen])
        .arg(&campaign.file)
        .spawn()
        .expect("dialer worker starts");
    let url = format!("http://{listen}/metrics");

    let counted = eventually(|| async {
        let Ok(answer) = reqwest::get(&url).await else {
            return false;
        };
        let samples = parse(&answer.text().await.unwrap_or_default());
        value(&samples, "dialer_rows", &[("state", "created")]) == 12.0
    });

    assert!(counted.await, "the worker's metrics show every row created");
    let (samples, text) = scrape(&url).await;
    assert_labelled_without_numbers(&samples, &text);
    assert_eq!(
        value(&samples, "dialer_calls_created_total", &[]),
        sandbox.stats().creates as f64
    );
    let pid = worker.id().expect("a pid").to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    let out = output(worker).await;
    assert_eq!(out.code, DONE, "{out:?}");
}
