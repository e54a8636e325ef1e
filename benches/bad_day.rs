//! Pacing on a good day and a bad one: the same list and CPS on the sandbox, with no faults;
//! with the fault mix of a bad day (10% 429 with Retry-After 1 s, 10% 5xx, 3% answers dropped
//! after the call was created); and on an account that places only a third of the campaign's
//! CPS. Each with adaptive pacing on and off, latency 250 ms ± 100 ms, default campaign
//! settings otherwise (rows a 5xx or a drop left in doubt wait for the call log's grace, so
//! the wall time of a faulty run includes it). Figures only, no pass/fail.
//! Run with `cargo bench --bench bad_day`.

mod common;

use dialer::config::Campaign;
use dialer::domain::Cps;
use dialer::sandbox::{Sandbox, SandboxConfig, SandboxStats};
use std::time::{Duration, Instant};

const CPS: u32 = 30;
const LATENCY_MS: u64 = 250;
const JITTER_MS: u64 = 100;

fn rows() -> u64 {
    std::env::var("DIALER_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600)
}

struct Day {
    name: &'static str,
    account_cps: u32,
    share_429: f64,
    share_5xx: f64,
    share_drop: f64,
}

const DAYS: [Day; 3] = [
    Day {
        name: "no faults",
        account_cps: CPS,
        share_429: 0.0,
        share_5xx: 0.0,
        share_drop: 0.0,
    },
    Day {
        name: "fault mix",
        account_cps: CPS,
        share_429: 0.10,
        share_5xx: 0.10,
        share_drop: 0.03,
    },
    Day {
        name: "slow account",
        account_cps: CPS / 3,
        share_429: 0.0,
        share_5xx: 0.0,
        share_drop: 0.0,
    },
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n = rows();
    let on_time = Duration::from_secs_f64(1.5 * n as f64 / f64::from(CPS));
    println!("bad_day: {n} rows, campaign at CPS {CPS}, latency {LATENCY_MS} ms ± {JITTER_MS} ms");
    println!("  run with: cargo bench --bench bad_day");
    println!();
    println!(
        "{:<13} {:<9} {:>8} {:>10} {:>12} {:>11} {:>9} {:>10}",
        "day", "adaptive", "wall s", "created/s", "on time %", "req/call", "twice", "queue p95"
    );
    for day in &DAYS {
        for adaptive in [true, false] {
            let (wall, stats) = measure(day, adaptive, n).await?;
            let mut arrivals = stats.create_times_ms.clone();
            arrivals.sort_unstable();
            let first = arrivals.first().copied().unwrap_or_default();
            let in_time = arrivals
                .iter()
                .filter(|t| **t - first <= on_time.as_millis() as u64)
                .count();
            let twice = stats.creates_by_to.values().filter(|c| **c > 1).count();
            println!(
                "{:<13} {:<9} {:>8.1} {:>10.1} {:>11.1}% {:>11.2} {:>9} {:>7} ms",
                day.name,
                adaptive,
                wall.as_secs_f64(),
                common::achieved_rate(&arrivals),
                100.0 * in_time as f64 / n as f64,
                stats.requests as f64 / stats.creates_by_to.len().max(1) as f64,
                twice,
                stats.queue_time_ms.p95,
            );
        }
    }
    println!();
    println!("wall s: `run` from start to exit (import included)");
    println!("created/s: calls created at the sandbox per second, first to last create");
    println!(
        "on time %: rows whose call was created within 1.5 × rows / CPS ({:.0} s) of the first",
        on_time.as_secs_f64()
    );
    println!(
        "req/call: every API request (creates, retries, checks, status polls) per person called"
    );
    println!("twice: people called more than once (must be 0)");
    println!("queue p95: Twilio's queue_time, how long calls waited for the account's CPS");
    Ok(())
}

async fn measure(day: &Day, adaptive: bool, n: u64) -> anyhow::Result<(Duration, SandboxStats)> {
    let dir = tempfile::tempdir()?;
    common::write_list(dir.path(), n)?;
    let pacing = format!("[pacing]\nadaptive = {adaptive}\n");
    let file = common::write_campaign_with(dir.path(), CPS, &pacing)?;
    let campaign = Campaign::load(&file)?;
    let sandbox = Sandbox::start(SandboxConfig {
        cps: Cps::new(day.account_cps)?,
        latency_ms: LATENCY_MS,
        latency_jitter_ms: JITTER_MS,
        share_429: day.share_429,
        share_5xx: day.share_5xx,
        share_drop: day.share_drop,
        seed: Some(1),
        ..SandboxConfig::ephemeral()
    })
    .await?;
    let client = common::client_for(&sandbox)?;
    let started = Instant::now();
    common::run_to_the_end(&campaign, client).await?;
    let wall = started.elapsed();
    let stats = sandbox.stats();
    sandbox.shutdown().await;
    Ok((wall, stats))
}
