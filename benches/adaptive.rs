//! Adaptive pacing benchmark: a campaign configured for CPS 30 on an account that really
//! places 10 calls per second (the sandbox's CPS is 10, so creates beyond it queue, and each
//! answer's `queue_time` says for how long), dialed for 45 s with `[pacing] adaptive = true`,
//! then with `false`. Each is a real `run::run` (import, store, pacer, client, adaptation)
//! with 250 ms ± 100 ms of latency per request; the figures are read at the sandbox: the rate
//! the creates arrived at, in 5-second steps and over the last 15 s, and Twilio's
//! `queue_time` percentiles. Figures only, no pass/fail.
//! Run with `cargo bench --bench adaptive`.

mod common;

use dialer::campaign;
use dialer::config::Campaign;
use dialer::dialing::progress::Progress;
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig, SandboxStats};
use dialer::stop::{Stop, StopReason};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CAMPAIGN_CPS: u32 = 30;
const ACCOUNT_CPS: u32 = 10;
const DIAL: Duration = Duration::from_secs(45);
const STEADY: Duration = Duration::from_secs(15);
const STEP_MS: u64 = 5_000;
const LATENCY_MS: u64 = 250;
const JITTER_MS: u64 = 100;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!(
        "adaptive: a campaign at CPS {CAMPAIGN_CPS} on an account that places {ACCOUNT_CPS}/s, \
         {} s of dialing, latency {LATENCY_MS} ms ± {JITTER_MS} ms",
        DIAL.as_secs()
    );
    println!("  run with: cargo bench --bench adaptive");
    println!();
    println!(
        "{:<9} {:>8} {:>8} {:>11} {:>10} {:>10} {:>10} {:>11}  sent/s by {} s",
        "adaptive",
        "creates",
        "refused",
        "sent/s",
        "last 15 s",
        "queue p50",
        "queue p95",
        "queue max",
        STEP_MS / 1000
    );
    for adaptive in [true, false] {
        let stats = measure(adaptive).await?;
        print_row(adaptive, &stats);
    }
    println!();
    println!("refused: answers that were errors, by HTTP status (e.g. 400: conference full)");
    println!("sent/s: creates arriving at the sandbox per second, first to last arrival");
    println!("last 15 s: the same over the last 15 s of dialing, once adaptation has settled");
    println!(
        "queue: Twilio's queue_time, how long a call waited for the account's {ACCOUNT_CPS}/s"
    );
    Ok(())
}

async fn measure(adaptive: bool) -> anyhow::Result<SandboxStats> {
    let dir = tempfile::tempdir()?;
    let rows = u64::from(CAMPAIGN_CPS) * (DIAL.as_secs() + 5);
    common::write_list(dir.path(), rows)?;
    let pacing = format!("[pacing]\nadaptive = {adaptive}\n");
    let file = common::write_campaign_with(dir.path(), CAMPAIGN_CPS, &pacing)?;
    let campaign = Campaign::load(&file)?;
    let sandbox = Sandbox::start(SandboxConfig {
        cps: Cps::new(ACCOUNT_CPS)?,
        latency_ms: LATENCY_MS,
        latency_jitter_ms: JITTER_MS,
        ring_ms: 100,
        talk_ms: 50,
        seed: Some(1),
        ..SandboxConfig::ephemeral()
    })
    .await?;
    let client = common::client_for(&sandbox)?;
    let stop = Stop::default();
    let progress = Arc::new(Progress::default());
    let running = campaign::run(&campaign, client, stop.clone(), progress, |_, _| {});
    let watching = async {
        let started = Instant::now();
        // The dialing starts once the list is imported: stop DIAL after the first create.
        while sandbox.stats().creates == 0 && started.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(DIAL).await;
        stop.trigger(StopReason::Deadline);
        sandbox.stats()
    };
    let (ran, stats) = tokio::join!(running, watching);
    ran?;
    sandbox.shutdown().await;
    Ok(stats)
}

fn print_row(adaptive: bool, stats: &SandboxStats) {
    let mut arrivals = stats.create_times_ms.clone();
    arrivals.sort_unstable();
    let last = arrivals.last().copied().unwrap_or_default();
    let steady_from = last.saturating_sub(STEADY.as_millis() as u64);
    let steady = arrivals.iter().filter(|t| **t >= steady_from).count();
    let first = arrivals.first().copied().unwrap_or_default();
    let mut steps = Vec::new();
    let mut from = first;
    while from < last {
        let n = arrivals
            .iter()
            .filter(|t| (from..from + STEP_MS).contains(t))
            .count();
        steps.push(format!("{:.0}", n as f64 * 1000.0 / STEP_MS as f64));
        from += STEP_MS;
    }
    let q = &stats.queue_time_ms;
    println!(
        "{:<9} {:>8} {:>8} {:>11.1} {:>10.1} {:>7} ms {:>7} ms {:>8} ms  {}",
        adaptive,
        stats.creates,
        refused(stats),
        common::achieved_rate(&arrivals),
        steady as f64 / STEADY.as_secs_f64(),
        q.p50,
        q.p95,
        q.max,
        steps.join(" ")
    );
}

/// Error answers by HTTP status, e.g. `400×12`; `0` when none.
fn refused(stats: &SandboxStats) -> String {
    let errors: Vec<String> = stats
        .responses_by_status
        .iter()
        .filter(|(status, _)| **status >= 400)
        .map(|(status, n)| format!("{status}×{n}"))
        .collect();
    if errors.is_empty() {
        "0".to_owned()
    } else {
        errors.join(" ")
    }
}
