//! Call outcomes end to end: `dialer serve` receiving Twilio's signed status callbacks,
//! `dialer sync` polling when nothing can reach us, and busy rows called again later.

use crate::support::campaign::{RunOutput, TestCampaign, numbers, output, sandbox, sandbox_config};
use dialer::domain::Cps;
use dialer::sandbox::{DEMO_AUTH_TOKEN, Sandbox, SandboxConfig};
use dialer::store::{RowExport, Store};
use dialer::twilio::signature;
use std::future::Future;
use std::time::Duration;

const DONE: Option<i32> = Some(0);

/// A `dialer serve` child process on a free loopback port, killed when dropped.
struct Receiver {
    url: String,
    _child: tokio::process::Child,
}

/// `[callbacks]` pointing at a free local port (and `extra` campaign keys before it).
fn with_callbacks(port: u16, extra: &str) -> String {
    format!(
        "{extra}\n[callbacks]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}/twilio/status\"\n"
    )
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

async fn serve(campaign: &TestCampaign, sandbox: &Sandbox, port: u16) -> Receiver {
    let child = campaign
        .subcommand(sandbox, "serve", &[])
        .spawn()
        .expect("dialer serve starts");
    let address = format!("127.0.0.1:{port}");
    eventually("the receiver listens", || async {
        tokio::net::TcpStream::connect(&address).await.is_ok()
    })
    .await;
    Receiver {
        url: format!("http://{address}/twilio/status"),
        _child: child,
    }
}

async fn sync(campaign: &TestCampaign, sandbox: &Sandbox) -> RunOutput {
    let child = campaign
        .subcommand(sandbox, "sync", &["--every", "1", "--deadline", "60s"])
        .spawn()
        .expect("dialer sync starts");
    output(child).await
}

/// Polls `condition` every 50 ms for up to 30 s.
async fn eventually<F: Future<Output = bool>>(what: &str, mut condition: impl FnMut() -> F) {
    for _ in 0..600 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within 30 s");
}

/// Posts a status callback signed with `token` (no signature if `None`); returns the HTTP status.
async fn post(url: &str, token: Option<&str>, params: &[(&str, &str)]) -> u16 {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut request = reqwest::Client::new().post(url).form(&params);
    if let Some(token) = token {
        request = request.header("X-Twilio-Signature", signature::sign(token, url, &params));
    }
    request
        .send()
        .await
        .expect("the receiver answers")
        .status()
        .as_u16()
}

async fn event_count(campaign: &TestCampaign, call_sid: &str) -> usize {
    let store = Store::open(&campaign.db).await.expect("database opens");
    let events = store.call_events(call_sid).await.expect("events read");
    store.close().await;
    events.len()
}

/// The same callback by GET: its parameters in the query, which the signature covers.
async fn get(url: &str, token: &str, params: &[(&str, &str)]) -> u16 {
    let mut url = url::Url::parse(url).expect("a URL");
    url.query_pairs_mut().extend_pairs(params);
    let signed = signature::sign(token, url.as_str(), &[]);
    reqwest::Client::new()
        .get(url)
        .header("X-Twilio-Signature", signed)
        .send()
        .await
        .expect("the receiver answers")
        .status()
        .as_u16()
}

async fn only_row(campaign: &TestCampaign) -> RowExport {
    campaign.rows().await.remove(0)
}

fn created_calls(sandbox: &Sandbox) -> u64 {
    sandbox.stats().creates
}

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
    eventually("every call has its final status", || async {
        campaign
            .rows()
            .await
            .iter()
            .all(|r| r.call_status.as_deref() == Some("completed"))
    })
    .await;
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
            event_count(&campaign, &call_sid).await,
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
        ("CallSid", &sid),
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

    assert_eq!(after_late_initiated.as_deref(), Some("in-progress"));
    let row = only_row(&campaign).await;
    assert_eq!(row.call_status.as_deref(), Some("completed"));
    assert_eq!(row.duration_secs, Some(42));
    assert_eq!(row.answered_by.as_deref(), Some("human"));
    assert_eq!(
        event_count(&campaign, &sid).await,
        4,
        "the duplicate is kept once"
    );
}

#[tokio::test]
async fn sync_polls_twilio_for_outcomes_when_no_receiver_is_configured() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        busy: 0.5,
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(6), "");
    assert_eq!(campaign.run(&sandbox, &[]).await.code, DONE);

    let out = sync(&campaign, &sandbox).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert!(
        out.stdout.contains("every call has ended"),
        "{}",
        out.stdout
    );
    let rows = campaign.rows().await;
    assert!(
        rows.iter()
            .all(|r| matches!(r.call_status.as_deref(), Some("completed" | "busy"))),
        "{rows:?}"
    );
    let report = report_json(&campaign, &sandbox).await;
    let calls = &report["calls"];
    assert_eq!(
        calls["completed"].as_u64().unwrap() + calls["busy"].as_u64().unwrap(),
        6,
        "{calls}"
    );
    assert_eq!(calls["awaiting"], 0);
}

#[tokio::test]
async fn busy_rows_are_called_again_after_their_delay_and_never_beyond_max_attempts() {
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(30).unwrap(),
        busy: 1.0,
        ..sandbox_config()
    })
    .await;
    let extra = "max_attempts = 2\n[recycle]\nbusy = \"2s\"\n";
    let campaign = TestCampaign::new(30, &numbers(3), extra);
    campaign.run(&sandbox, &[]).await;
    assert_eq!(sync(&campaign, &sandbox).await.code, DONE);
    assert_eq!(
        campaign.rows_in("pending").await,
        3,
        "recycled after the busy outcome"
    );

    campaign.run(&sandbox, &[]).await;
    let right_away = created_calls(&sandbox);
    eventually("the recycled rows are dialed again", || async {
        campaign.run(&sandbox, &[]).await;
        created_calls(&sandbox) == 6
    })
    .await;
    assert_eq!(sync(&campaign, &sandbox).await.code, DONE);
    campaign.run(&sandbox, &[]).await;

    assert_eq!(right_away, 3, "not before the delay");
    assert_eq!(created_calls(&sandbox), 6, "max_attempts = 2");
    for row in campaign.rows().await {
        assert_eq!(
            (row.state.as_str(), row.attempts),
            ("created", 2),
            "{row:?}"
        );
        assert_eq!(row.call_status.as_deref(), Some("busy"));
    }
    let report = report_json(&campaign, &sandbox).await;
    assert_eq!(
        report["calls"]["busy"], 6,
        "both calls of every row stay in the history"
    );
}

async fn report_json(campaign: &TestCampaign, sandbox: &Sandbox) -> serde_json::Value {
    let out = output(
        campaign
            .subcommand(sandbox, "report", &["--json"])
            .spawn()
            .expect("dialer report starts"),
    )
    .await;
    serde_json::from_str(&out.stdout).expect("the report is JSON")
}
