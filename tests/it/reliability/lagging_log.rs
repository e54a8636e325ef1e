//! Never twice when Twilio's call log lags: the log shows a new call seconds after its creation
//! while short calls have already left their conference, so "no call found" proves nothing
//! until the grace has passed. A create that really never took effect is still dialed again,
//! after the grace; a status callback that names the attempt settles it at once.

use super::{assert_recorded_before_dialed, check_database};
use crate::outcomes::{free_port, serve, with_callbacks};
use crate::support::campaign::{
    TestCampaign, assert_nobody_called_twice, numbers, sandbox, sandbox_config,
};
use crate::support::exit::{DONE, STOPPED_EARLY};
use dialer::domain::Cps;
use dialer::sandbox::SandboxConfig;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::path::Path;

/// The sandbox's call log shows each call this late; calls last 250 ms (see `sandbox`).
const LAG_MS: u64 = 3_000;
const GRACE_MS: i64 = 4_000;

fn lagging(config: SandboxConfig) -> SandboxConfig {
    SandboxConfig {
        cps: Cps::new(30).unwrap(),
        call_log_lag_ms: LAG_MS,
        ..config
    }
}

fn campaign_with_grace(rows: usize, extra: &str) -> TestCampaign {
    let campaign = TestCampaign::new(30, &numbers(rows), extra);
    campaign.set("call_log_grace", &format!("\"{GRACE_MS}ms\""));
    // Checked after the participant has left: only the call log can still show the call.
    campaign.set("reconcile_after", "\"600ms\"");
    campaign
}

#[tokio::test]
async fn dropped_answers_on_short_calls_are_never_dialed_twice_while_the_call_log_lags() {
    let rows = 24;
    let sandbox = sandbox(lagging(SandboxConfig {
        share_drop: 0.4,
        ..sandbox_config()
    }))
    .await;
    let campaign = campaign_with_grace(rows, "");

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    let stats = sandbox.stats();
    assert!(stats.drops > 0, "answers were dropped: {stats:?}");
    assert_nobody_called_twice(&sandbox);
    let stored = check_database(&campaign.db).await;
    assert_recorded_before_dialed(&sandbox, &stored);
    for (to, row) in &stored {
        assert_eq!((row.state.as_str(), row.attempts), ("created", 1), "{to}");
    }
    assert_eq!(stats.creates, rows as u64);
}

/// Half a second of dialing: no later call ever shows in the log to prove it caught up, so
/// only the grace can.
#[tokio::test]
async fn a_create_that_created_nothing_is_dialed_again_only_after_the_grace() {
    let sandbox = sandbox(lagging(SandboxConfig {
        share_5xx: 0.4,
        ..sandbox_config()
    }))
    .await;
    let campaign = campaign_with_grace(16, "max_attempts = 10");

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert!(sandbox.stats().server_errors > 0, "5xx were injected");
    assert_nobody_called_twice(&sandbox);
    let stored = check_database(&campaign.db).await;
    assert!(stored.values().all(|r| r.state == "created"), "{stored:?}");
    let redials = redials(&campaign.db).await;
    assert!(!redials.is_empty(), "some rows were dialed again");
    for (row, lost_at, next_started_at) in redials {
        assert!(
            next_started_at >= lost_at + GRACE_MS,
            "row {row} was dialed again {} ms after its answer was lost, within the grace",
            next_started_at - lost_at
        );
    }
}

/// Fifteen seconds of dialing with answers dropped and creates failing: once the lagging log
/// shows calls created well after a lost answer, its silence about that attempt is proof, and
/// the row is dialed again long before the grace, while a call whose answer was lost still
/// shows (the log shows calls in the order they were created) and is never dialed twice.
#[tokio::test]
async fn a_create_that_created_nothing_is_dialed_again_once_the_log_shows_later_calls() {
    let grace_ms = 30_000;
    let sandbox = sandbox(lagging(SandboxConfig {
        share_5xx: 0.1,
        share_drop: 0.05,
        ..sandbox_config()
    }))
    .await;
    let campaign = campaign_with_grace(450, "max_attempts = 10");
    campaign.set("call_log_grace", &format!("\"{grace_ms}ms\""));

    let out = campaign.run(&sandbox, &[]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    let stats = sandbox.stats();
    assert!(stats.server_errors > 0 && stats.drops > 0, "{stats:?}");
    assert_nobody_called_twice(&sandbox);
    let stored = check_database(&campaign.db).await;
    assert!(stored.values().all(|r| r.state == "created"), "{stored:?}");
    let early = redials(&campaign.db)
        .await
        .into_iter()
        .filter(|(_, lost_at, next_started_at)| next_started_at - lost_at < grace_ms)
        .count();
    assert!(early > 0, "no row was dialed again before the grace");
}

#[tokio::test]
async fn a_create_that_never_left_is_retried_without_waiting_for_the_grace_and_costs_no_attempt() {
    let sandbox = sandbox(sandbox_config()).await;
    let campaign = TestCampaign::new(1, &numbers(2), "max_attempts = 2");
    campaign.set("call_log_grace", "\"1h\"");
    campaign.set("outage_limit", "\"4s\"");
    let nobody = format!("http://127.0.0.1:{}", free_port());

    let child = campaign
        .command(&sandbox, &["--deadline", "60s"])
        .env("TWILIO_API_BASE", nobody)
        .spawn()
        .expect("dialer starts");
    let out = crate::support::campaign::output(child).await;

    // Twilio was never reached: the rows wait for the next run, none failed.
    assert_eq!(out.code, STOPPED_EARLY, "{out:?}");
    let rows = campaign.rows().await;
    for row in &rows {
        assert_eq!(row.state.as_str(), "pending", "{row:?}");
        assert!(
            row.reason
                .as_deref()
                .is_some_and(|r| r.contains("could not reach Twilio")),
            "{row:?}"
        );
    }
    let tries: i64 = rows.iter().map(|row| row.attempts).sum();
    assert!(
        tries > 2,
        "probes went out within the outage limit, past max_attempts, not after the grace: {rows:?}"
    );
    assert_eq!(sandbox.stats().requests, 0);
}

#[tokio::test]
async fn a_status_callback_for_an_attempt_in_doubt_settles_it_at_once() {
    // Every answer is lost and the call log would show the calls only after the run's deadline.
    let sandbox = sandbox(SandboxConfig {
        share_drop: 1.0,
        call_log_lag_ms: 600_000,
        ..sandbox_config()
    })
    .await;
    let port = free_port();
    let campaign = TestCampaign::new(30, &numbers(3), &with_callbacks(port, ""));
    campaign.set("call_log_grace", "\"10m\"");
    let _receiver = serve(&campaign, &sandbox, port).await;

    let out = campaign.run(&sandbox, &["--deadline", "30s"]).await;

    assert_eq!(out.code, DONE, "{out:?}");
    assert_nobody_called_twice(&sandbox);
    let called = sandbox.stats().creates_by_to;
    for row in campaign.rows().await {
        assert_eq!(
            (row.state.as_str(), row.attempts),
            ("created", 1),
            "{row:?}"
        );
        assert!(row.call_sid.is_some(), "{row:?}");
        assert_eq!(called.get(&row.to), Some(&1), "{row:?}");
    }
}

/// Each attempt followed by another of the same row: (row, when the first's answer was lost,
/// when the next started).
async fn redials(db: &Path) -> Vec<(i64, i64, i64)> {
    let options = SqliteConnectOptions::new().filename(db).read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("database opens");
    let pairs = sqlx::query_as(
        "SELECT a.row_id, a.finished_at, b.started_at FROM attempts a
         JOIN attempts b ON b.row_id = a.row_id AND b.number = a.number + 1",
    )
    .fetch_all(&pool)
    .await
    .expect("attempts readable");
    pool.close().await;
    pairs
}
