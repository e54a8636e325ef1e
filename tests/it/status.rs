//! `dialer status` and the reasons with times: what a campaign is doing now, read by the real
//! binary from real SQLite and PostgreSQL databases, and why each row waits, until when.

use crate::compliance::{six_to_six_in, zone_where_it_is};
use crate::hosts::campaign_on;
use crate::support::campaign::{
    RunOutput, TestCampaign, dialer_at, numbers, output, sandbox, sandbox_config, signal,
};
use crate::support::exit::{CONFIG, DONE, ERROR, STOPPED_EARLY};
use crate::support::postgres::fresh_database;
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// `dialer status --json` on `targets` (files or folders).
async fn status_json(sandbox: &Sandbox, targets: &[&Path]) -> (RunOutput, Value) {
    let mut status = dialer_at(sandbox, &["status", "--json"]);
    status.args(targets);
    let out = output(status.spawn().expect("dialer starts")).await;
    let json = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    (out, json)
}

/// The pids `dialer status` shows dialing the first campaign.
fn dialing_pids(status: &Value) -> BTreeSet<u64> {
    status[0]["dialing"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|dialer| dialer["pid"].as_u64())
        .collect()
}

#[tokio::test]
async fn status_shows_both_hosts_dialing_one_campaign_on_postgresql() {
    // Arrange: two workers on one shared campaign, each create answered slowly, so that each
    // holds rows in `dialing` most of the time.
    let db = fresh_database().await;
    let sandbox = sandbox(SandboxConfig {
        cps: Cps::new(4).unwrap(),
        latency_ms: 800,
        ..sandbox_config()
    })
    .await;
    let campaign = campaign_on(&db, 4, 200);
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let mut worker = dialer_at(&sandbox, &["worker"]);
            worker.arg(&campaign.file).args(["--idle", "100ms"]);
            worker.spawn().expect("dialer starts")
        })
        .collect();
    let pids: BTreeSet<u64> = workers
        .iter()
        .map(|w| u64::from(w.id().expect("a pid")))
        .collect();

    // Act: status, until it has seen each worker dialing (each reading is one moment).
    let mut seen = BTreeSet::new();
    let mut last = Value::Null;
    for _ in 0..300 {
        let (out, status) = status_json(&sandbox, &[&campaign.file]).await;
        assert_eq!(out.code, DONE, "{out:?}");
        seen.extend(dialing_pids(&status));
        last = status;
        if pids.is_subset(&seen) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for worker in &workers {
        signal(&[worker.id().expect("a pid")], "-TERM");
    }
    for worker in workers {
        output(worker).await;
    }

    // Assert
    assert!(
        pids.is_subset(&seen),
        "workers {pids:?}, seen dialing {seen:?}: {last:#}"
    );
    let host = last[0]["dialing"][0]["host"].as_str().unwrap_or_default();
    assert!(!host.is_empty(), "{last:#}");
    assert_eq!(last[0]["status"], "active", "{last:#}");
    assert_eq!(
        last[0]["lock"],
        Value::Null,
        "PostgreSQL has no lock file: {last:#}"
    );
}

/// Local 06:00 today in `zone`, where it is now just past midnight: when the window opens.
fn six_today_in(zone: &str) -> String {
    let zone = TimeZone::get(zone).expect("a zone");
    let today = Timestamp::now().to_zoned(zone.clone()).date();
    today
        .at(6, 0, 0, 0)
        .to_zoned(zone)
        .expect("a local time")
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

#[tokio::test]
async fn a_closed_window_s_rows_say_when_it_opens_in_the_report_the_export_and_status() {
    // Arrange: a window that opens at 06:00 where it is midnight now. International
    // freephone numbers: no prefix places them, so the campaign's zone applies.
    let sandbox = sandbox(sandbox_config()).await;
    let zone = zone_where_it_is(0);
    let list: String = (0..3).fold("to\n".into(), |list, i| format!("{list}+8001234567{i}\n"));
    let campaign = TestCampaign::new(30, &list, &six_to_six_in(&zone));
    let run = campaign.run(&sandbox, &[]).await;

    // Act
    let report = campaign.manage(&["report", "--json"]).await;
    let export = campaign.export().await;
    let (status_out, status) = status_json(&sandbox, &[&campaign.file]).await;

    // Assert
    assert_eq!(run.code, STOPPED_EARLY, "{run:?}");
    let opens = six_today_in(&zone);
    let reason = format!("waiting for the calling window: opens {opens}");
    let report: Value = serde_json::from_str(&report.stdout).expect("JSON report");
    let reasons: Vec<&str> = report["not_dialed"]
        .as_array()
        .expect("lines without a call")
        .iter()
        .map(|line| line["reason"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(reasons, [reason.as_str(); 3], "{report:#}");
    assert_eq!(report["status"], "active");
    let exported = export
        .iter()
        .skip(1)
        .filter(|r| r.iter().any(|f| f == reason))
        .count();
    assert_eq!(exported, 3, "{export:?}");
    assert_eq!(status_out.code, DONE, "{status_out:?}");
    assert_eq!(status[0]["window"]["rows"], 3, "{status:#}");
    assert_eq!(status[0]["window"]["from"], opens.as_str(), "{status:#}");
    assert_eq!(status[0]["lock"], "free", "{status:#}");
    assert_eq!(status[0]["last_run"]["exit_code"], 4, "{status:#}");
}

#[tokio::test]
async fn a_paused_campaign_is_paused_in_status_and_in_the_text_and_json_report() {
    // Arrange: paused before its first run, which imports the list and dials nobody.
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(30, &numbers(3), "");
    let pause = campaign.manage(&["campaign", "pause"]).await;
    let run = campaign.run(&sandbox, &[]).await;

    // Act
    let json = campaign.manage(&["report", "--json"]).await;
    let text = campaign.manage(&["report"]).await;
    let (status_out, status) = status_json(&sandbox, &[&campaign.file]).await;
    let mut status_text = dialer_at(&sandbox, &["status"]);
    status_text.arg(&campaign.file);
    let status_text = output(status_text.spawn().expect("dialer starts")).await;

    // Assert
    assert_eq!(pause.code, DONE, "{pause:?}");
    assert_eq!(run.code, STOPPED_EARLY, "{run:?}");
    assert_eq!(sandbox.stats().creates, 0);
    let report: Value = serde_json::from_str(&json.stdout).expect("JSON report");
    assert_eq!(report["status"], "paused", "{report:#}");
    for line in report["not_dialed"].as_array().expect("lines") {
        assert_eq!(line["reason"], "paused", "{report:#}");
    }
    assert!(
        text.stdout.contains("  status: paused\n"),
        "{}",
        text.stdout
    );
    assert_eq!(status_out.code, DONE, "{status_out:?}");
    assert_eq!(status[0]["status"], "paused", "{status:#}");
    assert_eq!(status[0]["states"]["pending"], 3, "{status:#}");
    assert!(
        status_text.stdout.starts_with("test ("),
        "{}",
        status_text.stdout
    );
    assert!(
        status_text.stdout.contains("): paused\n"),
        "{}",
        status_text.stdout
    );
}

#[tokio::test]
async fn a_campaign_file_that_no_longer_loads_is_shown_by_status_with_its_error() {
    // Arrange: a folder of two campaigns, one dialed to its end, the other's file broken.
    let sandbox = sandbox(sandbox_config()).await;
    let good = TestCampaign::new(30, &numbers(2), "");
    let run = good.run(&sandbox, &[]).await;
    std::fs::write(
        good.dir.path().join("broken.toml"),
        "[campaign]\ncps = \"fast\"\n",
    )
    .unwrap();

    // Act
    let (out, status) = status_json(&sandbox, &[good.dir.path()]).await;
    let mut text = dialer_at(&sandbox, &["status"]);
    text.arg(good.dir.path());
    let text = output(text.spawn().expect("dialer starts")).await;

    // Assert: both shown, the good one read, the broken one with its error; exit 1.
    assert_eq!(run.code, DONE, "{run:?}");
    assert_eq!(out.code, ERROR, "{out:?}");
    let by_file = |name: &str| {
        status
            .as_array()
            .expect("one object per campaign")
            .iter()
            .find(|c| c["file"].as_str().is_some_and(|f| f.ends_with(name)))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let (broken, good_one) = (by_file("broken.toml"), by_file("campaign.toml"));
    let error = broken["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("the campaign file does not load: "),
        "{status:#}"
    );
    assert_eq!(good_one["status"], "done", "{status:#}");
    assert_eq!(good_one["states"]["created"], 2, "{status:#}");
    assert_eq!(good_one["last_run"]["exit_code"], 0, "{status:#}");
    assert!(
        good_one["last_run"]["host"]
            .as_str()
            .is_some_and(|h| !h.is_empty()),
        "{status:#}"
    );
    assert_eq!(text.code, ERROR, "{text:?}");
    assert!(
        text.stdout
            .contains("broken.toml: cannot be read: the campaign file does not load"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("campaign.toml): done\n"),
        "{}",
        text.stdout
    );
}

#[tokio::test]
async fn status_says_when_the_last_run_had_its_credentials_refused_or_could_not_reach_twilio() {
    // Arrange: one campaign run with a wrong auth token, another against an address where
    // nothing listens, with a short outage limit.
    let sandbox = sandbox(sandbox_config()).await;
    let refused = TestCampaign::new(30, &numbers(2), "");
    let mut run = refused.command(&sandbox, &[]);
    run.env("TWILIO_AUTH_TOKEN", "not-the-token");
    let refused_run = output(run.spawn().expect("dialer starts")).await;
    let unreachable = TestCampaign::new(30, &numbers(2), "");
    unreachable.set("outage_limit", "\"1s\"");
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", nowhere.local_addr().unwrap());
    drop(nowhere);
    let mut run = unreachable.command(&sandbox, &[]);
    run.env("TWILIO_API_BASE", &address);
    let unreachable_run = output(run.spawn().expect("dialer starts")).await;

    // Act
    let (out, status) = status_json(&sandbox, &[&refused.file, &unreachable.file]).await;

    // Assert
    assert_eq!(refused_run.code, CONFIG, "{refused_run:?}");
    assert_eq!(unreachable_run.code, STOPPED_EARLY, "{unreachable_run:?}");
    assert_eq!(out.code, DONE, "{out:?}");
    let of = |campaign: &TestCampaign| {
        let file = campaign.file.display().to_string();
        let all = status.as_array().expect("one object per campaign");
        let found = all.iter().find(|c| c["file"] == file.as_str());
        found.cloned().unwrap_or(Value::Null)
    };
    let (refused, unreachable) = (of(&refused), of(&unreachable));
    assert_eq!(
        refused["last_run"]["ending"], "credentials_refused",
        "{status:#}"
    );
    let problems = refused["problems"].to_string();
    let said = "Twilio refused the credentials in the last run (exit 2)";
    assert!(problems.contains(said), "{status:#}");
    assert_eq!(
        unreachable["last_run"]["ending"], "twilio_unreachable",
        "{status:#}"
    );
    let problems = unreachable["problems"].to_string();
    let said = "Twilio could not be reached in the last run (exit 4)";
    assert!(problems.contains(said), "{status:#}");
}
