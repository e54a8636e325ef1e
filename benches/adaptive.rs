//! Adaptive pacing benchmark: a campaign configured for CPS 30 on an account that really
//! places 10 calls per second (the sandbox's CPS is 10, so creates beyond it queue, and each
//! answer's `queue_time` says for how long), dialed for 45 s with `[pacing] adaptive = true`,
//! then with `false`. Each is a real `run::run` (import, store, pacer, client, adaptation)
//! with 250 ms ± 100 ms of latency per request; the figures are read at the sandbox: the rate
//! the creates arrived at, in 5-second steps and over the last 15 s, and Twilio's
//! `queue_time` percentiles.
//!
//! Then a passing slowdown: a campaign at CPS 20 on an account that places 20 calls per
//! second, halved to 10 for 5 s after 5 s of dialing, 30 s of dialing in all: the share of what
//! the account could place that it was sent, the creates of each second from the slowdown on,
//! and how long after the slowdown the rate was back at 90% of the CPS.
//! Figures only, no pass/fail. Run with `cargo bench --bench adaptive`.

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
const SLOWED_CPS: u32 = 20;
const SLOW_AFTER: Duration = Duration::from_secs(5);
const SLOW_FOR: Duration = Duration::from_secs(5);
const SLOWED_DIAL: Duration = Duration::from_secs(30);

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
    println!();
    slowed().await
}

/// The passing slowdown: its figures, printed.
async fn slowed() -> anyhow::Result<()> {
    println!(
        "slowed: a campaign at CPS {SLOWED_CPS} on an account placing {SLOWED_CPS}/s, halved for {} s \
         after {} s, {} s of dialing, latency {LATENCY_MS} ms ± {JITTER_MS} ms",
        SLOW_FOR.as_secs(),
        SLOW_AFTER.as_secs(),
        SLOWED_DIAL.as_secs()
    );
    let rows = u64::from(SLOWED_CPS) * (SLOWED_DIAL.as_secs() + 5);
    let stats = dial(SLOWED_CPS, SLOWED_CPS, rows, true, |sandbox| async move {
        tokio::time::sleep(SLOW_AFTER).await;
        sandbox.set_cps(Cps::new(SLOWED_CPS / 2)?);
        tokio::time::sleep(SLOW_FOR).await;
        sandbox.set_cps(Cps::new(SLOWED_CPS)?);
        tokio::time::sleep(SLOWED_DIAL - SLOW_AFTER - SLOW_FOR).await;
        Ok(())
    })
    .await?;
    let mut arrivals = stats.create_times_ms.clone();
    arrivals.sort_unstable();
    let (first, last) = (arrivals[0], arrivals[arrivals.len() - 1]);
    let span = (last - first) as f64 / 1000.0;
    let could_place = f64::from(SLOWED_CPS) * (span - SLOW_FOR.as_secs_f64() / 2.0);
    let slow_from = first + SLOW_AFTER.as_millis() as u64;
    let slow_to = slow_from + SLOW_FOR.as_millis() as u64;
    let in_second = |from: u64| {
        arrivals
            .iter()
            .filter(|t| (from..from + 1000).contains(t))
            .count()
    };
    let seconds: Vec<String> = (0..20)
        .map(|k| in_second(slow_from + k * 1000).to_string())
        .collect();
    let back = (slow_to..last)
        .step_by(100)
        .find(|from| in_second(*from) as f64 >= 0.9 * f64::from(SLOWED_CPS))
        .map_or("never".to_owned(), |at| {
            format!("{:.1} s", (at - slow_to) as f64 / 1000.0)
        });
    println!(
        "  {} creates, {:.0}% of what the account could place; back at 90% of the CPS {back} after \
         the slowdown; queue max {} ms",
        stats.creates,
        100.0 * (arrivals.len() - 1) as f64 / could_place,
        stats.queue_time_ms.max
    );
    println!(
        "  creates in each second from the slowdown on: {}",
        seconds.join(" ")
    );
    Ok(())
}

async fn measure(adaptive: bool) -> anyhow::Result<SandboxStats> {
    let rows = u64::from(CAMPAIGN_CPS) * (DIAL.as_secs() + 5);
    dial(CAMPAIGN_CPS, ACCOUNT_CPS, rows, adaptive, |_| async {
        tokio::time::sleep(DIAL).await;
        Ok(())
    })
    .await
}

/// Dials `rows` at `campaign_cps` on an account placing `account_cps`, until `meanwhile`
/// (started at the first create) ends; the sandbox's figures then.
async fn dial<F: std::future::Future<Output = anyhow::Result<()>>>(
    campaign_cps: u32,
    account_cps: u32,
    rows: u64,
    adaptive: bool,
    meanwhile: impl FnOnce(Arc<Sandbox>) -> F,
) -> anyhow::Result<SandboxStats> {
    let dir = tempfile::tempdir()?;
    common::write_list(dir.path(), rows)?;
    let pacing = format!("[pacing]\nadaptive = {adaptive}\n");
    let file = common::write_campaign_with(dir.path(), campaign_cps, &pacing)?;
    let campaign = Campaign::load(&file)?;
    let sandbox = Sandbox::start(SandboxConfig {
        cps: Cps::new(account_cps)?,
        latency_ms: LATENCY_MS,
        latency_jitter_ms: JITTER_MS,
        ring_ms: 100,
        talk_ms: 50,
        seed: Some(1),
        ..SandboxConfig::ephemeral()
    })
    .await?;
    let sandbox = Arc::new(sandbox);
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
        let done = meanwhile(sandbox.clone()).await;
        stop.trigger(StopReason::Deadline);
        done.map(|()| sandbox.stats())
    };
    let (ran, stats) = tokio::join!(running, watching);
    ran?;
    let stats = stats?;
    if let Some(sandbox) = Arc::into_inner(sandbox) {
        sandbox.shutdown().await;
    }
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
