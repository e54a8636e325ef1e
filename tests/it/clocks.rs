//! Hosts whose wall clocks are minutes off Twilio's and each other's (under libfaketime, the
//! monotonic clock left true) call nobody twice: what is matched against Twilio's call log is
//! placed on Twilio's clock, and what hosts compare on the database's. Answers are dropped,
//! the call log lags and calls end within a second, so only the call log can show a call
//! whose answer was lost.

use crate::hosts::{Host, campaign_on, created};
use crate::reliability::check_database;
use crate::support::campaign::{
    TestCampaign, assert_nobody_called_twice, numbers, sandbox, sandbox_config, until_creates,
};
use crate::support::exit::{DONE, DONE_WITH_FAILURES};
use crate::support::faketime::skewed;
use crate::support::postgres::fresh_database;
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig};
use std::time::Duration;

const TEN_MINUTES: i64 = 600;

/// Drops a tenth of the answers; the call log shows each call 3 s late.
async fn untidy_twilio(cps: u32) -> Sandbox {
    sandbox(SandboxConfig {
        cps: Cps::new(cps).unwrap(),
        share_drop: 0.1,
        call_log_lag_ms: 3_000,
        ..sandbox_config()
    })
    .await
}

/// The grace covers the log's lag; checks start after short calls have left the conference.
fn with_short_grace(campaign: &TestCampaign) {
    campaign.set("call_log_grace", "\"8s\"");
    campaign.set("reconcile_after", "\"600ms\"");
}

async fn one_host_on_sqlite_with_its_clock(offset_secs: i64) {
    // Arrange
    let rows = 150;
    let sandbox = untidy_twilio(30).await;
    let campaign = TestCampaign::new(30, &numbers(rows), "");
    with_short_grace(&campaign);

    let metrics = campaign.dir.path().join("dialer.prom");

    // Act
    let args = ["--metrics-file", metrics.to_str().unwrap()];
    let out = skewed(campaign.command(&sandbox, &args), offset_secs)
        .spawn()
        .expect("dialer starts");
    let out = crate::support::campaign::output(out).await;

    // Assert
    assert_eq!(out.code, DONE, "{out:?}");
    let stats = sandbox.stats();
    assert!(stats.drops > 0, "answers were dropped: {stats:?}");
    assert_nobody_called_twice(&sandbox);
    assert_eq!(stats.creates, rows as u64, "everyone called, once");
    let stored = check_database(&campaign.db).await;
    assert!(stored.values().all(|r| r.state == "created"), "{stored:?}");
    assert!(
        out.stderr.contains("this host's clock is"),
        "the offset is named: {}",
        out.stderr
    );
    let text = std::fs::read_to_string(&metrics).expect("the metrics file");
    let ahead: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix("dialer_host_clock_ahead_seconds{"))
        .and_then(|rest| rest.rsplit_once(' '))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or_else(|| panic!("no host clock offset in the metrics: {text}"));
    assert!(
        (ahead - offset_secs as f64).abs() < 5.0,
        "measured {ahead} s for a clock {offset_secs} s off"
    );
}

#[tokio::test]
async fn a_host_ten_minutes_ahead_of_twilio_calls_nobody_twice_on_sqlite() {
    one_host_on_sqlite_with_its_clock(TEN_MINUTES).await;
}

#[tokio::test]
async fn a_host_ten_minutes_behind_twilio_calls_nobody_twice_and_loses_nobody_on_sqlite() {
    one_host_on_sqlite_with_its_clock(-TEN_MINUTES).await;
}

#[tokio::test]
async fn hosts_twenty_minutes_apart_killed_and_frozen_call_nobody_twice_on_postgres() {
    // Arrange: one host ten minutes ahead of Twilio, one ten minutes behind.
    let rows = 120_usize;
    let db = fresh_database().await;
    let sandbox = untidy_twilio(20).await;
    let campaign = campaign_on(&db, 20, rows);
    with_short_grace(&campaign);
    let mut ahead = Host::start_with_clock(&campaign, &sandbox, TEN_MINUTES);
    let behind = Host::start_with_clock(&campaign, &sandbox, -TEN_MINUTES);

    // Act: kill the one ahead mid-run and start it again; freeze the one behind past its
    // lease (3 s) and let it go on.
    until_creates(&sandbox, 20).await;
    ahead.signal("-KILL");
    let _ = std::mem::replace(
        &mut ahead,
        Host::start_with_clock(&campaign, &sandbox, TEN_MINUTES),
    )
    .finish()
    .await;
    until_creates(&sandbox, 50).await;
    behind.signal("-STOP");
    tokio::time::sleep(Duration::from_secs(6)).await;
    behind.signal("-CONT");
    let (a, b) = (ahead.finish().await, behind.finish().await);
    for out in [&a, &b] {
        assert!(
            out.code == DONE || out.code == DONE_WITH_FAILURES,
            "{out:?}"
        );
    }
    // What the dead and the frozen host left is settled by further runs, each on a wrong clock.
    for round in 0..4 {
        if created(&db).await == rows {
            break;
        }
        let offset = if round % 2 == 0 {
            TEN_MINUTES
        } else {
            -TEN_MINUTES
        };
        let out = Host::start_with_clock(&campaign, &sandbox, offset)
            .finish()
            .await;
        assert!(
            out.code == DONE || out.code == DONE_WITH_FAILURES,
            "{out:?}"
        );
    }

    // Assert
    let stats = sandbox.stats();
    assert!(stats.drops > 0, "answers were dropped: {stats:?}");
    assert_nobody_called_twice(&sandbox);
    let states: Vec<_> = crate::hosts::rows(&db)
        .await
        .into_iter()
        .filter(|r| r.state.as_str() != "created")
        .map(|r| (r.to, r.state))
        .collect();
    assert!(states.is_empty(), "rows not created: {states:?}");
    assert_eq!(stats.creates, rows as u64);
}
