//! Every fault at once, at rates worse than a bad day at Twilio: 429s with Retry-After, 5xx,
//! calls created whose answer is dropped, answers that hang past the client's timeout, and
//! slow, uneven latency; once with a call log that is up to date, once with one that shows
//! calls late while participants leave early (short calls). Each row ends created once,
//! failed with its reason, or unknown and reported; nobody is called twice.

use super::{assert_recorded_before_dialed, check_database, scale};
use crate::support::campaign::{
    TestCampaign, assert_nobody_called_twice, numbers, sandbox, sandbox_config,
};
use crate::support::exit::{DONE, DONE_WITH_FAILURES};
use dialer::domain::Cps;
use dialer::sandbox::SandboxConfig;
use std::time::Instant;

#[tokio::test]
async fn under_every_fault_at_once_each_row_ends_created_once_failed_or_reported_unknown() {
    every_fault_at_once(0, "300ms").await;
}

#[tokio::test]
async fn under_every_fault_with_a_call_log_behind_each_row_is_still_created_once() {
    // Calls last 250 ms (see `sandbox`): a dropped answer's participant has left long before
    // the call log shows the call.
    let (lag_ms, grace) = if super::long() {
        (8_000, "10s")
    } else {
        (1_500, "2s")
    };
    every_fault_at_once(lag_ms, grace).await;
}

/// Runs the fault mix with the call log `lag_ms` behind and the campaign's `call_log_grace`.
async fn every_fault_at_once(lag_ms: u64, grace: &str) {
    let rows = scale(40, 300);
    let sandbox = sandbox(SandboxConfig {
        call_log_lag_ms: lag_ms,
        cps: Cps::new(30).unwrap(),
        share_429: 0.10,
        share_5xx: 0.10,
        share_drop: 0.03,
        share_hang: 0.02,
        // The campaign's client gives up after 1 s (see TestCampaign).
        hang_ms: 3_000,
        latency_ms: 250,
        latency_jitter_ms: 150,
        ..sandbox_config()
    })
    .await;
    let campaign = TestCampaign::new(30, &numbers(rows), "");
    campaign.set("call_log_grace", &format!("{grace:?}"));
    let started = Instant::now();

    let out = campaign.run(&sandbox, &[]).await;

    let elapsed = started.elapsed();
    let stats = sandbox.stats();
    assert!(
        stats.too_many_requests + stats.server_errors + stats.drops + stats.hangs > 0,
        "faults were injected: {stats:?}"
    );
    assert_nobody_called_twice(&sandbox);
    let stored = check_database(&campaign.db).await;
    assert_recorded_before_dialed(&sandbox, &stored);
    assert_eq!(stored.len(), rows);
    let (mut created, mut failed, mut unknown) = (0, 0, 0);
    for (to, row) in &stored {
        let calls = stats.creates_by_to.get(to).copied().unwrap_or(0);
        match row.state.as_str() {
            "created" => {
                assert_eq!(calls, 1, "{to} is created: Twilio has its one call");
                created += 1;
            }
            "failed" => {
                assert_eq!(calls, 0, "{to} failed although Twilio created its call");
                assert!(
                    row.last_message.as_deref().is_some_and(|m| !m.is_empty()),
                    "{to} failed without a reason"
                );
                failed += 1;
            }
            "unknown" => unknown += 1,
            other => panic!("{to} ended {other}: {out:?}"),
        }
    }
    let summary = format!("{created} created, {failed} failed, {unknown} unknown");
    assert!(out.stdout.contains(&summary), "reported: {}", out.stdout);
    let expected_code = if failed + unknown == 0 {
        DONE
    } else {
        DONE_WITH_FAILURES
    };
    assert_eq!(out.code, expected_code, "{out:?}");
    let create_requests: i64 = stored.values().map(|r| r.attempts).sum();
    eprintln!(
        "faults, call log {lag_ms} ms behind: {rows} rows: {summary} in {:.1}s; {} requests ({create_requests} creates sent, {} 429, {} 5xx, {} dropped, {} hung): {:.2} requests and {:.2} create requests per created call",
        elapsed.as_secs_f64(),
        stats.requests,
        stats.too_many_requests,
        stats.server_errors,
        stats.drops,
        stats.hangs,
        stats.requests as f64 / created.max(1) as f64,
        create_requests as f64 / created.max(1) as f64,
    );
}
