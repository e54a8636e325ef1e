//! Twilio unreachable for 20 s (connections refused, then the same port back with its record),
//! at the start of a run and in its middle; and a number whose creates always get a 500. An
//! outage is the account's, not the rows': no row fails, none is called twice, the outage is
//! named on stderr and on the progress line, and the run exits 0 or 4 (the rows left for the
//! next run), never 3. A number Twilio keeps failing on ends failed after `max_attempts`.

use super::check_database;
use crate::support::campaign::{
    TestCampaign, assert_nobody_called_twice, numbers, output, sandbox, sandbox_config,
    until_creates,
};
use crate::support::exit::{DONE, DONE_WITH_FAILURES, STOPPED_EARLY};
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig};
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

const OUTAGE: Duration = Duration::from_secs(20);

async fn steady_sandbox() -> Sandbox {
    sandbox(SandboxConfig {
        cps: Cps::new(10).unwrap(),
        ..sandbox_config()
    })
    .await
}

/// Every row created by exactly one call, and no other state.
async fn assert_each_row_created_once(campaign: &TestCampaign, sandbox: &Sandbox, rows: usize) {
    assert_nobody_called_twice(sandbox);
    let stored = check_database(&campaign.db).await;
    assert_eq!(stored.len(), rows);
    let stats = sandbox.stats();
    for (to, row) in &stored {
        assert_eq!(row.state, "created", "{to}: {row:?}");
        assert_eq!(stats.creates_by_to.get(to).copied(), Some(1), "{to}");
    }
}

/// Whether the metrics file shows Twilio unreachable (the gauge at 0).
fn shows_unreachable(file: &Path) -> bool {
    std::fs::read_to_string(file).is_ok_and(|text| {
        text.lines()
            .any(|l| l.starts_with("dialer_twilio_reachable{") && l.ends_with(" 0"))
    })
}

#[tokio::test]
async fn an_outage_at_the_start_of_a_run_is_waited_out_and_every_row_is_created_once() {
    // Arrange
    let rows = 10;
    let sandbox = steady_sandbox().await;
    let campaign = TestCampaign::new(5, &numbers(rows), "");
    let metrics = campaign.dir.path().join("dialer.prom");
    sandbox.refuse_connections_for(OUTAGE);
    let outage_ends = Instant::now() + OUTAGE;

    // Act
    let child = campaign
        .command(
            &sandbox,
            &[
                "--progress-every",
                "1",
                "--metrics-file",
                metrics.to_str().unwrap(),
            ],
        )
        .spawn()
        .expect("dialer starts");
    let mut gauge_at_zero = false;
    while Instant::now() < outage_ends && !gauge_at_zero {
        tokio::time::sleep(Duration::from_millis(250)).await;
        gauge_at_zero = shows_unreachable(&metrics);
    }
    let out = output(child).await;

    // Assert
    assert_eq!(out.code, DONE, "{out:?}");
    assert!(gauge_at_zero, "dialer_twilio_reachable was never 0");
    assert!(
        out.stderr.contains("Twilio unreachable since")
            && out.stderr.contains("connection refused"),
        "the outage is named on stderr: {}",
        out.stderr
    );
    assert!(
        out.stdout.contains("Twilio unreachable since") && out.stdout.contains("next probe"),
        "the progress line says so: {}",
        out.stdout
    );
    assert_each_row_created_once(&campaign, &sandbox, rows).await;
    assert!(!shows_unreachable(&metrics), "reachable again at the end");
}

#[tokio::test]
async fn an_outage_in_the_middle_that_outlasts_the_limit_leaves_the_rows_for_the_next_run() {
    // Arrange
    let rows = 30;
    let sandbox = steady_sandbox().await;
    let campaign = TestCampaign::new(5, &numbers(rows), "");
    campaign.set("outage_limit", "\"3s\"");
    let child = campaign
        .command(&sandbox, &[])
        .spawn()
        .expect("dialer starts");
    until_creates(&sandbox, 5).await;

    // Act
    sandbox.refuse_connections_for(OUTAGE);
    let outage_ends = Instant::now() + OUTAGE;
    let first = output(child).await;
    let stopped_during_the_outage = Instant::now() < outage_ends;
    tokio::time::sleep_until(outage_ends + Duration::from_millis(500)).await;
    let second = campaign.run(&sandbox, &[]).await;

    // Assert
    assert_eq!(first.code, STOPPED_EARLY, "{first:?}");
    assert!(stopped_during_the_outage, "the limit ended the first run");
    assert!(
        first.stderr.contains("Twilio unreachable since")
            && first.stderr.contains("the rows left wait for the next run"),
        "{}",
        first.stderr
    );
    assert!(
        first.stdout.contains(" 0 failed, "),
        "no row failed in the outage: {}",
        first.stdout
    );
    assert_eq!(second.code, DONE, "{second:?}");
    assert_each_row_created_once(&campaign, &sandbox, rows).await;
}

#[tokio::test]
async fn a_number_whose_creates_always_get_a_500_ends_failed_after_max_attempts_creates() {
    // Arrange
    let doomed = "+14155550003";
    let sandbox = sandbox(SandboxConfig {
        server_error_to_prefix: Some(doomed.into()),
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(10, &numbers(6), "max_attempts = 3");

    // Act
    let out = campaign.run(&sandbox, &[]).await;

    // Assert
    assert_eq!(out.code, DONE_WITH_FAILURES, "{out:?}");
    let stats = sandbox.stats();
    assert_eq!(
        stats.server_errors, 3,
        "three creates, then no more: {stats:?}"
    );
    let stored = check_database(&campaign.db).await;
    let row = &stored[doomed];
    assert_eq!(row.state, "failed", "{row:?}");
    let reason = row.last_message.as_deref().unwrap_or_default();
    assert!(
        reason.starts_with("gave up after 3 attempts") && reason.contains("500"),
        "{reason}"
    );
    let others = stored.iter().filter(|(to, _)| *to != doomed);
    assert!(
        others.clone().all(|(_, r)| r.state == "created"),
        "{stored:?}"
    );
    assert_eq!(others.count(), 5);
}

#[tokio::test]
async fn a_row_in_doubt_that_twilio_cannot_be_asked_about_is_left_for_the_next_run_not_failed() {
    // Arrange: the call is created but its answer is lost, then Twilio goes away before the
    // check that would find it.
    let sandbox = sandbox(SandboxConfig {
        share_drop: 1.0,
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(5, &numbers(1), "");
    campaign.set("reconcile_after", "\"1s\"");
    campaign.set("outage_limit", "\"3s\"");
    let child = campaign
        .command(&sandbox, &[])
        .spawn()
        .expect("dialer starts");
    until_creates(&sandbox, 1).await;

    // Act
    sandbox.refuse_connections_for(OUTAGE);
    let outage_ends = Instant::now() + OUTAGE;
    let first = output(child).await;
    let in_doubt = campaign.rows_in("unknown").await;
    tokio::time::sleep_until(outage_ends + Duration::from_millis(500)).await;
    let second = campaign.run(&sandbox, &[]).await;

    // Assert
    assert_eq!(first.code, STOPPED_EARLY, "{first:?}");
    assert_eq!(in_doubt, 1, "{first:?}");
    assert!(
        first.stderr.contains("Twilio unreachable since"),
        "{}",
        first.stderr
    );
    assert_eq!(second.code, DONE, "{second:?}");
    assert_each_row_created_once(&campaign, &sandbox, 1).await;
}

#[tokio::test]
async fn a_run_that_reaches_its_deadline_during_an_outage_leaves_every_row_pending() {
    // Arrange
    let sandbox = steady_sandbox().await;
    let campaign = TestCampaign::new(5, &numbers(5), "");
    sandbox.refuse_connections_for(OUTAGE);

    // Act
    let out = campaign.run(&sandbox, &["--deadline", "3s"]).await;

    // Assert
    assert_eq!(out.code, STOPPED_EARLY, "{out:?}");
    assert_eq!(campaign.rows_in("pending").await, 5, "{out:?}");
    assert!(
        out.stderr.contains("Twilio unreachable since"),
        "{}",
        out.stderr
    );
    assert_eq!(sandbox.stats().requests, 0);
}
